//! Learning-rate functions for `LambdaLR` and `MultiplicativeLR`: [`LrLambda`] (what a caller
//! gives: a built-in form, a compiled Python body, or a Rust function) and the table a
//! scheduler keeps them in (`LambdaTable`: one slot per group, the Python programs stored
//! once in a shared pool).

use crate::SchedError;
use crate::math::Real;
use crate::math::python::floor_div;
use crate::protocol::base::float_of;
use crate::python::{Code, LambdaProgram, LambdaSyntaxError};

/// A function of the epoch, `λ(e)`, as PyTorch's `lr_lambda` callables. The built-in
/// kinds and Python bodies are plain data (they have closed forms and can be written in a
/// spec file); [`LrLambda::Custom`] takes any `fn(i64) -> f64`.
#[derive(Clone, Copy, Debug)]
#[allow(clippy::large_enum_variant)] // a Python program by value (264 bytes): no heap
pub enum LrLambda {
    /// `λ(e) = value`.
    Constant(f64),
    /// `λ(e) = base ** e` (C `pow(base, (double)e)`).
    Pow(f64),
    /// `λ(e) = e // divisor` (integer floor division; `base_lr * int`).
    FloorDiv(i64),
    /// `λ(e) = min(1.0, (e + 1) / warmup)` (true division of ints).
    LinearWarmup(i64),
    /// `λ(e) = gamma ** (e // every)`.
    StepPow {
        /// Factor per period.
        gamma: f64,
        /// Period in epochs.
        every: i64,
    },
    /// Any arithmetic `lambda e: <body>`, compiled ([`LrLambda::python`]) and evaluated as
    /// CPython evaluates it (see [`crate::python`]); the learning rate is multiplied by
    /// `float(λ(e))`, and where Python raises the step fails with
    /// [`SchedError::LambdaRaised`].
    Python(LambdaProgram),
    /// Any function of the epoch. Has no closed form beyond calling it; not stored in
    /// state snapshots (like PyTorch, which saves `None` for plain functions).
    Custom(fn(i64) -> f64),
}

impl LrLambda {
    /// Compiles `lambda <param>: <body>` ([`LambdaProgram::compile`]): the error has the
    /// byte span of the offending text in `body`.
    ///
    /// ```
    /// use sched_core::{LambdaLr, LrLambda, ParamGroup};
    ///
    /// let f = LrLambda::python("e", "(e + 1) / 3 if e < 3 else 0.5 ** (e // 10)").unwrap();
    /// let mut groups = [ParamGroup::new(0.3)];
    /// let mut s = LambdaLr::new(f.into(), -1, &mut groups).unwrap();
    /// assert_eq!(groups[0].lr, 0.3 * (1.0 / 3.0)); // construction: base_lr * λ(0)
    /// s.step(&mut groups).unwrap();
    /// assert_eq!(groups[0].lr, 0.3 * (2.0 / 3.0));
    /// assert!(LrLambda::python("e", "e +* 2").unwrap_err().span() == (3..4));
    /// ```
    pub fn python(param: &str, body: &str) -> Result<Self, LambdaSyntaxError> {
        LambdaProgram::compile(param, body).map(Self::Python)
    }

    /// Evaluates `λ(e)` with PyTorch's exact arithmetic: the built-in forms give `inf` where
    /// C's `pow` overflows (the schedulers report that as [`SchedError::Overflow`], as Python
    /// raises `OverflowError`); a Python body gives `float(λ(e))`, NaN where Python raises
    /// (use [`LambdaProgram::factor`] for the exception).
    pub fn eval(&self, e: i64) -> f64 {
        match self {
            Self::Python(p) => p.factor(e).unwrap_or(f64::NAN),
            _ => Slot::of_builtin(self).raw::<f64>(e),
        }
    }

    /// Whether the function is data (has a closed form and can be snapshotted): everything
    /// but [`LrLambda::Custom`].
    pub fn is_builtin(&self) -> bool {
        !matches!(self, Self::Custom(_))
    }
}

/// How a scheduler evaluates one group's λ: a built-in form or a Rust function by value, a
/// Python body as ranges of its table's pool.
#[derive(Clone, Copy, Debug)]
enum Slot {
    Constant(f64),
    Pow(f64),
    FloorDiv(i64),
    LinearWarmup(i64),
    StepPow(f64, i64),
    Custom(fn(i64) -> f64),
    Program {
        /// First instruction in the pool.
        ops: u8,
        /// Number of instructions.
        n_ops: u8,
        /// First constant in the pool.
        consts: u8,
        /// Number of constants.
        n_consts: u8,
    },
}

impl Slot {
    /// The slot of a built-in form or Rust function (a Python body has none outside a table:
    /// it gets the identity, never used).
    fn of_builtin(l: &LrLambda) -> Self {
        match *l {
            LrLambda::Constant(v) => Self::Constant(v),
            LrLambda::Pow(b) => Self::Pow(b),
            LrLambda::FloorDiv(d) => Self::FloorDiv(d),
            LrLambda::LinearWarmup(w) => Self::LinearWarmup(w),
            LrLambda::StepPow { gamma, every } => Self::StepPow(gamma, every),
            LrLambda::Custom(f) => Self::Custom(f),
            LrLambda::Python(_) => Self::Constant(1.0),
        }
    }

    /// A built-in form or Rust function evaluated in `R` (`inf` where C's `pow` overflows).
    #[inline]
    fn raw<R: Real>(&self, e: i64) -> R {
        match *self {
            Self::Constant(v) => R::from_f64(v),
            Self::Pow(base) => R::from_f64(base).pow(R::from_i64(e)),
            Self::FloorDiv(d) => R::from_i64(floor_div(e, d)),
            Self::LinearWarmup(w) => {
                let x = R::from_f64(float_of(e + 1) / float_of(w));
                // Python's min(1.0, x) returns 1.0 unless x < 1.0.
                if x < R::ONE { x } else { R::ONE }
            }
            Self::StepPow(gamma, every) => R::from_f64(gamma).pow(R::from_i64(floor_div(e, every))),
            Self::Custom(func) => R::from_f64(func(e)),
            Self::Program { .. } => R::ONE,
        }
    }

    /// Checks the built-in parameters (finite, non-zero divisors).
    fn validate(&self) -> Result<(), SchedError> {
        match *self {
            Self::Constant(v) | Self::Pow(v) | Self::StepPow(v, _) if !v.is_finite() => {
                Err(SchedError::NonFinite { param: "lr_lambda", value: v })
            }
            Self::FloorDiv(0) | Self::StepPow(_, 0) | Self::LinearWarmup(0) => {
                Err(SchedError::ZeroPeriod { param: "lr_lambda" })
            }
            _ => Ok(()),
        }
    }
}

/// Instructions the Python programs of one scheduler share (each distinct body once; a
/// body has at most [`MAX_OPS`](crate::python::MAX_OPS)).
pub const LAMBDA_POOL_OPS: usize = 128;

/// Constants the Python programs of one scheduler share.
pub const LAMBDA_POOL_CONSTS: usize = 32;

/// One λ per group: built-in forms by value, Python programs in a pool of
/// [`LAMBDA_POOL_OPS`] instructions and [`LAMBDA_POOL_CONSTS`] constants (a body given for
/// several groups, or equal bodies, stored once). 904 bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LambdaTable {
    slots: [Slot; crate::MAX_GROUPS],
    ops: [crate::python::Instr; LAMBDA_POOL_OPS],
    consts: [u64; LAMBDA_POOL_CONSTS],
    n_ops: u8,
    n_consts: u8,
}

impl LambdaTable {
    /// Every group `λ = 1`.
    fn new() -> Self {
        Self {
            slots: [Slot::Constant(1.0); crate::MAX_GROUPS],
            ops: [crate::python::Instr::Param; LAMBDA_POOL_OPS],
            consts: [0; LAMBDA_POOL_CONSTS],
            n_ops: 0,
            n_consts: 0,
        }
    }

    /// The table of a list of `len` λs (`get(i)` the `i`-th) for `groups` groups: PyTorch's
    /// `ValueError` unless there is one per group.
    pub(crate) fn of_list(
        len: usize,
        groups: usize,
        get: impl Fn(usize) -> Result<LrLambda, SchedError>,
    ) -> Result<Self, SchedError> {
        if len != groups {
            return Err(SchedError::GroupListLength {
                param: "lr_lambda",
                expected: groups,
                got: len,
            });
        }
        let mut table = Self::new();
        for g in 0..len {
            table.set(g, &get(g)?)?;
        }
        Ok(table)
    }

    /// The code of a program slot.
    fn code(&self, ops: u8, n_ops: u8, consts: u8, n_consts: u8) -> Code<'_> {
        let (o, c) = (usize::from(ops), usize::from(consts));
        Code {
            ops: &self.ops[o..o + usize::from(n_ops)],
            consts: &self.consts[c..c + usize::from(n_consts)],
        }
    }

    /// Sets group `group`'s λ, checking a built-in form's parameters; a Python program goes
    /// into the pool unless an equal one is there already.
    fn set(&mut self, group: usize, l: &LrLambda) -> Result<(), SchedError> {
        let LrLambda::Python(p) = l else {
            let slot = Slot::of_builtin(l);
            slot.validate()?;
            self.slots[group] = slot;
            return Ok(());
        };
        let code = p.code();
        let existing = self.slots[..group].iter().find(|s| match **s {
            Slot::Program { ops, n_ops, consts, n_consts } => {
                let c = self.code(ops, n_ops, consts, n_consts);
                c.ops == code.ops && c.consts == code.consts
            }
            _ => false,
        });
        if let Some(&s) = existing {
            self.slots[group] = s;
            return Ok(());
        }
        let (o, c) = (usize::from(self.n_ops), usize::from(self.n_consts));
        let (no, nc) = (code.ops.len(), code.consts.len());
        if o + no > LAMBDA_POOL_OPS {
            return Err(SchedError::LambdaPoolFull {
                what: "instructions",
                needed: o + no,
                max: LAMBDA_POOL_OPS,
            });
        }
        if c + nc > LAMBDA_POOL_CONSTS {
            return Err(SchedError::LambdaPoolFull {
                what: "constants",
                needed: c + nc,
                max: LAMBDA_POOL_CONSTS,
            });
        }
        self.ops[o..o + no].copy_from_slice(code.ops);
        self.consts[c..c + nc].copy_from_slice(code.consts);
        // Bounded by the pool sizes (128, 32) and a program's (64, 16).
        let byte = |n: usize| u8::try_from(n).unwrap_or(u8::MAX);
        self.slots[group] =
            Slot::Program { ops: byte(o), n_ops: byte(no), consts: byte(c), n_consts: byte(nc) };
        self.n_ops = byte(o + no);
        self.n_consts = byte(c + nc);
        Ok(())
    }

    /// `λ(e)` of `group` in `R`: a built-in power that overflows is Python's `OverflowError`
    /// ([`SchedError::Overflow`]); a Python body is `float(λ(e))` (rounded to `R`), or the
    /// exception it raises ([`SchedError::LambdaRaised`]).
    #[inline]
    pub(crate) fn factor<R: Real>(&self, group: usize, e: i64) -> Result<R, SchedError> {
        let slot = &self.slots[group];
        match *slot {
            Slot::Program { ops, n_ops, consts, n_consts } => {
                crate::python::factor(self.code(ops, n_ops, consts, n_consts), e)
                    .map(R::from_f64)
                    .map_err(|exception| SchedError::LambdaRaised { group, epoch: e, exception })
            }
            Slot::Pow(_) | Slot::StepPow(..) => {
                let v = slot.raw::<R>(e);
                if v.to_f64().is_finite() {
                    Ok(v)
                } else {
                    Err(SchedError::Overflow { param: "lr_lambda", epoch: e })
                }
            }
            _ => Ok(slot.raw::<R>(e)),
        }
    }

    /// Whether `group`'s λ has a closed form (is not a Rust function).
    pub(crate) fn has_closed_form(&self, group: usize) -> bool {
        !matches!(self.slots[group], Slot::Custom(_))
    }
}

/// One λ for all groups or one per group (PyTorch's `lr_lambda: Callable | list[Callable]`).
#[derive(Clone, Copy, Debug)]
#[allow(clippy::large_enum_variant)] // an LrLambda by value: no heap
pub enum Lambdas<'a> {
    /// The same function for every group.
    All(LrLambda),
    /// One function per group (length must equal the number of groups).
    PerGroup(&'a [LrLambda]),
}

impl Lambdas<'_> {
    /// Resolves to one λ per group, checking the list length and the parameters.
    pub(crate) fn resolve(&self, groups: usize) -> Result<LambdaTable, SchedError> {
        let mut table = LambdaTable::new();
        match *self {
            Self::All(l) => {
                for g in 0..groups {
                    table.set(g, &l)?;
                }
            }
            Self::PerGroup(list) => {
                return LambdaTable::of_list(list.len(), groups, |i| Ok(list[i]));
            }
        }
        Ok(table)
    }
}

impl From<LrLambda> for Lambdas<'_> {
    fn from(l: LrLambda) -> Self {
        Self::All(l)
    }
}

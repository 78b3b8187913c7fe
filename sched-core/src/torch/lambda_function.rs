//! Learning-rate functions for `LambdaLR` and `MultiplicativeLR`.

use crate::SchedError;
use crate::math::Real;
use crate::math::python::floor_div;
use crate::protocol::base::float_of;

/// A function of the epoch, `λ(e)`, as PyTorch's `lr_lambda` callables. The built-in
/// kinds are plain data (they have closed forms and can be written in a spec file);
/// [`LrLambda::Custom`] takes any `fn(i64) -> f64`.
#[derive(Clone, Copy, Debug)]
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
    /// Any function of the epoch. Has no closed form beyond calling it; not stored in
    /// state snapshots (like PyTorch, which saves `None` for plain functions).
    Custom(fn(i64) -> f64),
}

impl LrLambda {
    /// Evaluates `λ(e)` with PyTorch's exact arithmetic (`inf` where C's `pow` overflows;
    /// the schedulers report that as [`SchedError::Overflow`], as Python raises
    /// `OverflowError`).
    #[inline]
    pub fn eval(&self, e: i64) -> f64 {
        self.raw::<f64>(e)
    }

    /// Evaluates `λ(e)` in `R`; a power that overflows is Python's `OverflowError`.
    #[inline]
    pub(crate) fn eval_in<R: Real>(&self, e: i64) -> Result<R, SchedError> {
        let v = self.raw::<R>(e);
        match self {
            Self::Pow(_) | Self::StepPow { .. } if !v.to_f64().is_finite() => {
                Err(SchedError::Overflow { param: "lr_lambda", epoch: e })
            }
            _ => Ok(v),
        }
    }

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
            Self::StepPow { gamma, every } => {
                R::from_f64(gamma).pow(R::from_i64(floor_div(e, every)))
            }
            Self::Custom(func) => R::from_f64(func(e)),
        }
    }

    /// Whether the function is data (has a closed form and can be snapshotted).
    pub fn is_builtin(&self) -> bool {
        !matches!(self, Self::Custom(_))
    }

    /// Checks the built-in parameters (finite, non-zero divisors).
    pub(crate) fn validate(&self) -> Result<(), SchedError> {
        match *self {
            Self::Constant(v) | Self::Pow(v) | Self::StepPow { gamma: v, .. } if !v.is_finite() => {
                Err(SchedError::NonFinite { param: "lr_lambda", value: v })
            }
            Self::FloorDiv(0) | Self::StepPow { every: 0, .. } | Self::LinearWarmup(0) => {
                Err(SchedError::ZeroPeriod { param: "lr_lambda" })
            }
            _ => Ok(()),
        }
    }
}

/// One λ for all groups or one per group (PyTorch's `lr_lambda: Callable | list[Callable]`).
#[derive(Clone, Copy, Debug)]
pub enum Lambdas<'a> {
    /// The same function for every group.
    All(LrLambda),
    /// One function per group (length must equal the number of groups).
    PerGroup(&'a [LrLambda]),
}

impl Lambdas<'_> {
    /// Resolves to one λ per group, checking the list length and the parameters.
    pub(crate) fn resolve(
        &self,
        groups: usize,
    ) -> Result<[LrLambda; crate::MAX_GROUPS], SchedError> {
        let mut out = [LrLambda::Constant(1.0); crate::MAX_GROUPS];
        match *self {
            Self::All(l) => {
                l.validate()?;
                out[..groups].fill(l);
            }
            Self::PerGroup(list) => {
                if list.len() != groups {
                    return Err(SchedError::GroupListLength {
                        param: "lr_lambda",
                        expected: groups,
                        got: list.len(),
                    });
                }
                for l in list {
                    l.validate()?;
                }
                out[..groups].copy_from_slice(list);
            }
        }
        Ok(out)
    }
}

impl From<LrLambda> for Lambdas<'_> {
    fn from(l: LrLambda) -> Self {
        Self::All(l)
    }
}

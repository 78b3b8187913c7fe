//! PyTorch's `LRScheduler` base protocol, shared by every epoch-indexed scheduler.

use crate::SchedError;
use crate::math::Real;
use crate::protocol::group::{MAX_GROUPS, ParamGroup, check_groups};

/// How a step is entered, mirroring the three ways PyTorch calls `get_lr()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StepMode {
    /// The step done by the constructor (`_initial_step`, `_is_initial = True`).
    Initial,
    /// A normal `scheduler.step()`.
    Normal,
    /// `SequentialLR` switching to this scheduler: `_update_lr(0)`, i.e. `last_epoch = 0`
    /// and the closed form if the class has one, else `get_lr()`; `_step_count` unchanged.
    RestartAtZero,
}

/// What a rule sees for one group at one step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ctx {
    /// Group index.
    pub(crate) group: usize,
    /// The group's current lr (`group["lr"]`).
    pub(crate) lr: f64,
    /// `base_lrs[group]`.
    pub(crate) base_lr: f64,
    /// The new `last_epoch`.
    pub(crate) epoch: i64,
    /// The lr is an f32 tensor.
    pub(crate) tensor: bool,
}

impl Ctx {
    /// `x * k` with `x` the lr or base lr and `k` a Python float: f64, or the f32 tensor
    /// operation `f32(x * f32(k))`.
    #[inline(always)]
    pub(crate) fn mul(&self, x: f64, k: f64) -> f64 {
        if self.tensor { t_mul(x, k) } else { x * k }
    }
}

/// Rounds to f32 (PyTorch's `Tensor.fill_` on a float32 lr).
#[inline(always)]
#[allow(clippy::cast_possible_truncation)] // rounding to f32 is the point
pub(crate) fn round_to_f32(x: f64) -> f64 {
    f64::from(x as f32)
}

// f32 tensor (op) Python-float scalar. The scalar is converted to f32 first; the f64
// operation on two f32 values, rounded to f32, equals the f32 operation (f64 has more
// than 2*24+2 bits, so double rounding is innocuous for + - * /).
#[inline(always)]
pub(crate) fn t_mul(a: f64, s: f64) -> f64 {
    round_to_f32(a * round_to_f32(s))
}
#[inline(always)]
pub(crate) fn t_add(a: f64, s: f64) -> f64 {
    round_to_f32(a + round_to_f32(s))
}
#[inline(always)]
pub(crate) fn t_sub(a: f64, s: f64) -> f64 {
    round_to_f32(a - round_to_f32(s))
}
#[inline(always)]
pub(crate) fn t_div(a: f64, s: f64) -> f64 {
    round_to_f32(a / round_to_f32(s))
}

/// The largest `last_epoch` (and closed-form epoch) a scheduler accepts: 2^53, where epoch
/// arithmetic in f64 stops being exact (Python's `float(int)`). Constructors, snapshot
/// restores and steps that would go past it return [`SchedError::OutOfRange`] naming
/// `last_epoch` (or `epoch`), so no counter can overflow.
pub const MAX_EPOCH: i64 = 1 << 53;

/// `last_epoch + 1`, or the error of a counter at [`MAX_EPOCH`].
#[inline]
pub(crate) fn next(last_epoch: i64) -> Result<i64, SchedError> {
    if last_epoch >= MAX_EPOCH {
        return Err(epoch_out_of_range("last_epoch", last_epoch));
    }
    Ok(last_epoch + 1)
}

/// The error for an epoch counter above [`MAX_EPOCH`].
pub(crate) fn epoch_out_of_range(param: &'static str, value: i64) -> SchedError {
    SchedError::OutOfRange { param, value: float_of(value), expected: "at most 2^53" }
}

/// Checks a closed-form epoch against [`MAX_EPOCH`].
#[inline]
pub(crate) fn check_closed_epoch(epoch: u64) -> Result<(), SchedError> {
    match i64::try_from(epoch) {
        Ok(e) if e <= MAX_EPOCH => Ok(()),
        _ => Err(SchedError::OutOfRange {
            param: "epoch",
            value: float_of_u64(epoch),
            expected: "at most 2^53",
        }),
    }
}

/// The state every `LRScheduler` keeps: `base_lrs`, `last_epoch`, `_step_count`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Base {
    pub(crate) base_lrs: [f64; MAX_GROUPS],
    /// Bit `i`: group `i` has a tensor lr (for closed-form queries).
    pub(crate) tensor: u32,
    pub(crate) groups: usize,
    pub(crate) last_epoch: i64,
    pub(crate) step_count: u64,
}

impl Base {
    /// The base constructor up to (not including) its initial step:
    /// `setdefault("initial_lr", lr)` when `last_epoch == -1`, else require it;
    /// `base_lrs = [initial_lr]`.
    ///
    /// Validates before writing anything.
    pub(crate) fn new(groups: &mut [ParamGroup], last_epoch: i64) -> Result<Self, SchedError> {
        Self::check_new(groups, last_epoch)?;
        Ok(Self::init(groups, last_epoch))
    }

    /// Validation part of [`Base::new`].
    pub(crate) fn check_new(groups: &[ParamGroup], last_epoch: i64) -> Result<(), SchedError> {
        check_groups(groups)?;
        if last_epoch < -1 {
            return Err(SchedError::OutOfRange {
                param: "last_epoch",
                #[allow(clippy::cast_precision_loss)] // error reporting only
                value: last_epoch as f64,
                expected: ">= -1",
            });
        }
        if last_epoch > MAX_EPOCH {
            return Err(epoch_out_of_range("last_epoch", last_epoch));
        }
        if let Some(i) =
            groups.iter().position(|g| g.initial_lr.is_none()).filter(|_| last_epoch != -1)
        {
            return Err(SchedError::MissingInitialLr { group: i });
        }
        Ok(())
    }

    /// Writing part of [`Base::new`]; call only after [`Base::check_new`] passed.
    pub(crate) fn init(groups: &mut [ParamGroup], last_epoch: i64) -> Self {
        let mut base_lrs = [0.0; MAX_GROUPS];
        let mut tensor = 0;
        for (i, (b, g)) in base_lrs.iter_mut().zip(groups.iter_mut()).enumerate() {
            let initial = *g.initial_lr.get_or_insert(g.lr);
            *b = initial;
            tensor |= u32::from(g.tensor_lr) << i;
        }
        Self { base_lrs, tensor, groups: groups.len(), last_epoch, step_count: 0 }
    }

    /// Checks that `step` gets the groups the scheduler was built for.
    #[inline]
    pub(crate) fn check_count(&self, groups: &[ParamGroup]) -> Result<(), SchedError> {
        if groups.len() == self.groups {
            Ok(())
        } else {
            Err(SchedError::GroupCountChanged { expected: self.groups, got: groups.len() })
        }
    }

    /// Checks a group index for closed-form queries.
    #[inline]
    pub(crate) fn check_group(&self, group: usize) -> Result<(), SchedError> {
        if group < self.groups {
            Ok(())
        } else {
            Err(SchedError::GroupOutOfRange { group, groups: self.groups })
        }
    }

    /// Whether group `i` had a tensor lr at construction.
    #[inline(always)]
    pub(crate) fn is_tensor(&self, i: usize) -> bool {
        self.tensor >> i & 1 == 1
    }

    /// The context of a closed-form query for `group` at `e` (the lr is the base lr).
    #[inline(always)]
    pub(crate) fn ctx(&self, group: usize, e: i64) -> Ctx {
        let b = self.base_lrs[group];
        Ctx { group, lr: b, base_lr: b, epoch: e, tensor: self.is_tensor(group) }
    }

    /// The closed form of a multiplicative schedule, `base_lrs[group] * factor`: Python
    /// `base_lr * <float>`, or the f32 tensor operation for tensor lrs.
    #[inline(always)]
    pub(crate) fn times_base<R: Real>(&self, group: usize, factor: R) -> R {
        let b = self.base_lrs[group];
        if self.is_tensor(group) {
            R::from_f64(t_mul(b, factor.to_f64()))
        } else {
            R::from_f64(b) * factor
        }
    }

    /// One step of a scheduler whose new lr depends only on the group's [`Ctx`]:
    /// computes every new lr first (so an error writes nothing), then writes them (rounded
    /// to f32 for tensor lrs) and advances the counters as PyTorch does.
    pub(crate) fn advance(
        &mut self,
        groups: &mut [ParamGroup],
        mode: StepMode,
        rule: impl Fn(Ctx) -> Result<f64, SchedError>,
    ) -> Result<(), SchedError> {
        self.check_count(groups)?;
        let e = self.next_epoch(mode)?;
        let mut new = [0.0; MAX_GROUPS];
        for (i, (n, g)) in new.iter_mut().zip(groups.iter()).enumerate() {
            let c = Ctx {
                group: i,
                lr: g.lr,
                base_lr: self.base_lrs[i],
                epoch: e,
                tensor: g.tensor_lr,
            };
            *n = rule(c)?;
            if g.tensor_lr {
                *n = round_to_f32(*n);
            }
        }
        for (g, n) in groups.iter_mut().zip(new) {
            g.lr = n;
        }
        self.commit(mode, e);
        Ok(())
    }

    /// [`Base::advance`] for a schedule that lives by its own library's protocol (timm,
    /// optax): a SequentialLR restart at epoch 0 is refused, naming the schedule (`what`).
    pub(crate) fn advance_absolute(
        &mut self,
        groups: &mut [ParamGroup],
        mode: StepMode,
        what: &'static str,
        rule: impl Fn(Ctx) -> Result<f64, SchedError>,
    ) -> Result<(), SchedError> {
        if mode == StepMode::RestartAtZero {
            return Err(SchedError::Unsupported { what });
        }
        self.advance(groups, mode, rule)
    }

    /// The epoch a step in `mode` writes: 0 for a restart, else `last_epoch + 1`.
    #[inline]
    pub(crate) fn next_epoch(&self, mode: StepMode) -> Result<i64, SchedError> {
        match mode {
            StepMode::RestartAtZero => Ok(0),
            StepMode::Initial | StepMode::Normal => next(self.last_epoch),
        }
    }

    /// A restart at epoch 0 (a SequentialLR milestone): `lr = base_lr * k0` for every group,
    /// `k0` being the schedule's closed-form factor at 0.
    pub(crate) fn restart(&mut self, groups: &mut [ParamGroup], k0: f64) -> Result<(), SchedError> {
        self.advance(groups, StepMode::RestartAtZero, |c| Ok(c.mul(c.base_lr, k0)))
    }

    /// The step of a multiplicative (chainable) scheduler: a SequentialLR restart writes
    /// `base_lr * k0` (`k0` the closed-form factor at 0); any other step writes
    /// `lr * factor(e)` for the new epoch `e` (`None` keeps lr), the factor computed once for
    /// all groups.
    pub(crate) fn chain(
        &mut self,
        groups: &mut [ParamGroup],
        mode: StepMode,
        k0: impl FnOnce() -> f64,
        factor: impl FnOnce(i64) -> Option<f64>,
    ) -> Result<(), SchedError> {
        if mode == StepMode::RestartAtZero {
            return self.restart(groups, k0());
        }
        let e = next(self.last_epoch)?;
        self.scale_by(groups, mode, factor(e))
    }

    /// A chainable step by one factor of the epoch for every group: `lr' = lr * k`, or `lr`
    /// kept where `factor` is `None` (the factor is computed once per step, not per group).
    pub(crate) fn scale_by(
        &mut self,
        groups: &mut [ParamGroup],
        mode: StepMode,
        factor: Option<f64>,
    ) -> Result<(), SchedError> {
        self.advance(groups, mode, |c| Ok(factor.map_or(c.lr, |k| c.mul(c.lr, k))))
    }

    /// Advances `last_epoch` / `_step_count` after a successful step.
    #[inline]
    pub(crate) fn commit(&mut self, mode: StepMode, e: i64) {
        self.last_epoch = e;
        match mode {
            StepMode::Initial => self.step_count = 1,
            StepMode::Normal => self.step_count = self.step_count.saturating_add(1),
            StepMode::RestartAtZero => {}
        }
    }
}

/// A closed-form epoch as PyTorch's `last_epoch` (saturating at `i64::MAX`).
#[inline(always)]
pub(crate) fn epoch_i64(epoch: u64) -> i64 {
    i64::try_from(epoch).unwrap_or(i64::MAX)
}

/// Converts an epoch count to `f64` the way Python's `float(int)` does.
#[inline(always)]
#[allow(clippy::cast_precision_loss)] // exact below 2^53, as in Python.
pub(crate) fn float_of(e: i64) -> f64 {
    e as f64
}

/// Converts an unsigned parameter to `f64` the way Python's `float(int)` does.
#[inline(always)]
#[allow(clippy::cast_precision_loss)] // exact below 2^53, as in Python.
pub(crate) fn float_of_u64(x: u64) -> f64 {
    x as f64
}

/// Checks an integer step parameter (a Python `int` the schedule does arithmetic on) is at
/// most 2^53 in magnitude, where its `float()` and the differences of two stay exact.
#[inline]
pub(crate) fn step_count(param: &'static str, value: i64) -> Result<i64, SchedError> {
    if value.unsigned_abs() <= MAX_EPOCH.unsigned_abs() {
        Ok(value)
    } else {
        Err(SchedError::OutOfRange {
            param,
            value: float_of(value.clamp(-MAX_EPOCH, MAX_EPOCH)),
            expected: "at most 2^53 in magnitude",
        })
    }
}

/// Checks a float parameter is finite.
#[inline]
pub(crate) fn finite(param: &'static str, value: f64) -> Result<f64, SchedError> {
    if value.is_finite() { Ok(value) } else { Err(SchedError::NonFinite { param, value }) }
}

/// `Ok(())` when `ok`, else [`SchedError::OutOfRange`] naming `param`, its `value` and the
/// range it must be in (`expected`).
pub(crate) fn require(
    ok: bool,
    param: &'static str,
    value: f64,
    expected: &'static str,
) -> Result<(), SchedError> {
    if ok { Ok(()) } else { Err(SchedError::OutOfRange { param, value, expected }) }
}

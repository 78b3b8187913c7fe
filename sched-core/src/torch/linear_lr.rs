//! `LinearLR`: a linear ramp of the factor from `start_factor` to `end_factor`.

use crate::math::Real;
use crate::protocol::base::{Base, StepMode, float_of};
use crate::{ParamGroup, SchedError};

/// Arguments of [`LinearLr`] (PyTorch `LinearLR(optimizer, start_factor=1/3, end_factor=1.0, total_iters=5, last_epoch=-1)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearLrConfig {
    /// Factor at epoch 0, in `(0, 1]`.
    pub start_factor: f64,
    /// Factor from `total_iters` on, in `[0, 1]`.
    pub end_factor: f64,
    /// Length of the ramp in epochs.
    pub total_iters: u64,
    /// `-1` to start fresh; `k >= 0` to resume.
    pub last_epoch: i64,
}

impl Default for LinearLrConfig {
    /// PyTorch's defaults: `start_factor = 1.0 / 3`, `end_factor = 1.0`, `total_iters = 5`.
    fn default() -> Self {
        Self { start_factor: 1.0 / 3.0, end_factor: 1.0, total_iters: 5, last_epoch: -1 }
    }
}

/// PyTorch `torch.optim.lr_scheduler.LinearLR`.
///
/// With `s`, `t`, `T` the start factor, end factor and `total_iters`:
/// - step: `e == 0: lr' = lr * s`; `e > T` (or the construction step when resuming):
///   `lr' = lr`; else `lr' = lr * (1.0 + (t - s) / (T * s + (e - 1) * (t - s)))`;
/// - closed form: `lr(e) = base_lr * (s + (t - s) * min(T, e) / T)`
///   (`T == 0`, where PyTorch's closed form divides by zero, gives `base_lr * s`,
///   which is what stepping produces).
///
/// Largest closed-form vs. stepping distance: 3 ulp.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearLr {
    pub(crate) base: Base,
    start: f64,
    end: f64,
    total_iters: i64,
}

impl LinearLr {
    /// Builds the scheduler and performs PyTorch's construction step.
    pub fn new(config: LinearLrConfig, groups: &mut [ParamGroup]) -> Result<Self, SchedError> {
        let (s, t) = (config.start_factor, config.end_factor);
        if !s.is_finite() {
            return Err(SchedError::NonFinite { param: "start_factor", value: s });
        }
        if !t.is_finite() {
            return Err(SchedError::NonFinite { param: "end_factor", value: t });
        }
        if s > 1.0 || s <= 0.0 {
            return Err(SchedError::OutOfRange {
                param: "start_factor",
                value: s,
                expected: "greater than 0 and less or equal to 1",
            });
        }
        if !(0.0..=1.0).contains(&t) {
            return Err(SchedError::OutOfRange {
                param: "end_factor",
                value: t,
                expected: "between 0 and 1",
            });
        }
        let total_iters = i64::try_from(config.total_iters).unwrap_or(i64::MAX);
        let base = Base::new(groups, config.last_epoch)?;
        Self { base, start: s, end: t, total_iters }.constructed(groups)
    }

    pub(crate) fn step_mode(
        &mut self,
        groups: &mut [ParamGroup],
        mode: StepMode,
    ) -> Result<(), SchedError> {
        let k0 = self.factor::<f64>(0);
        let (s, t, n) = (self.start, self.end, self.total_iters);
        self.base.chain(
            groups,
            mode,
            || k0,
            |e| {
                if e == 0 {
                    Some(s)
                } else if mode == StepMode::Initial || e > n {
                    None
                } else {
                    Some(1.0 + (t - s) / (float_of(n) * s + float_of(e - 1) * (t - s)))
                }
            },
        )
    }

    /// `start + (end - start) * min(T, e) / T` (`start` when `T == 0`).
    #[inline(always)]
    fn factor<R: Real>(&self, e: i64) -> R {
        let (s, t) = (R::from_f64(self.start), R::from_f64(self.end));
        if self.total_iters == 0 {
            return s;
        }
        let n = R::from_i64(self.total_iters);
        let m = R::from_i64(self.total_iters.min(e));
        s + (t - s) * m / n
    }
}

crate::protocol::macros::epoch_scheduler_api!(LinearLr);
crate::protocol::macros::closed_form_via_factor!(LinearLr);

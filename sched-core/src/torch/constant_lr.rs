//! `ConstantLR`: a constant factor until `total_iters`.

use crate::math::Real;
use crate::protocol::base::{Base, StepMode, epoch_i64};
use crate::{ParamGroup, SchedError};

/// Arguments of [`ConstantLr`] (PyTorch `ConstantLR(optimizer, factor=1/3, total_iters=5, last_epoch=-1)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConstantLrConfig {
    /// Factor applied until `total_iters`, in `[0, 1]` (`(0, 1]` when `total_iters > 0`).
    pub factor: f64,
    /// Number of epochs the factor applies.
    pub total_iters: u64,
    /// `-1` to start fresh; `k >= 0` to resume.
    pub last_epoch: i64,
}

impl Default for ConstantLrConfig {
    /// PyTorch's defaults: `factor = 1.0 / 3`, `total_iters = 5`.
    fn default() -> Self {
        Self { factor: 1.0 / 3.0, total_iters: 5, last_epoch: -1 }
    }
}

/// PyTorch `torch.optim.lr_scheduler.ConstantLR`.
///
/// - step: `e == 0: lr' = lr * factor`; `e == total_iters: lr' = lr * (1.0 / factor)`
///   (reciprocal first, then multiply, as PyTorch); otherwise `lr' = lr`;
/// - closed form: `lr(e) = base_lr * (factor + (e >= total_iters) * (1 - factor))`.
///
/// Largest closed-form vs. stepping distance: 1 ulp (after `total_iters`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConstantLr {
    pub(crate) base: Base,
    factor: f64,
    total_iters: i64,
}

impl ConstantLr {
    /// Builds the scheduler and performs PyTorch's construction step.
    ///
    /// Rejects `factor == 0` with `total_iters > 0`, which PyTorch accepts and then
    /// fails on (`ZeroDivisionError`) when it reaches `total_iters`.
    pub fn new(config: ConstantLrConfig, groups: &mut [ParamGroup]) -> Result<Self, SchedError> {
        let factor = config.factor;
        if !factor.is_finite() {
            return Err(SchedError::NonFinite { param: "factor", value: factor });
        }
        if !(0.0..=1.0).contains(&factor) {
            return Err(SchedError::OutOfRange {
                param: "factor",
                value: factor,
                expected: "between 0 and 1",
            });
        }
        if factor == 0.0 && config.total_iters > 0 {
            return Err(SchedError::OutOfRange {
                param: "factor",
                value: factor,
                expected: "> 0 when total_iters > 0 (the lr is restored by 1/factor)",
            });
        }
        let total_iters = i64::try_from(config.total_iters).unwrap_or(i64::MAX);
        let base = Base::new(groups, config.last_epoch)?;
        Self { base, factor, total_iters }.constructed(groups)
    }

    pub(crate) fn step_mode(
        &mut self,
        groups: &mut [ParamGroup],
        mode: StepMode,
    ) -> Result<(), SchedError> {
        let (k, t) = (self.factor, self.total_iters);
        self.base.chain(
            groups,
            mode,
            || Self::factor(k, t, 0),
            |e| {
                if e == 0 {
                    Some(k)
                } else if e != t {
                    None
                } else {
                    Some(1.0 / k)
                }
            },
        )
    }

    /// Python: `factor + (e >= total_iters) * (1 - factor)`; bool * float is 0.0 or the
    /// float itself.
    #[inline(always)]
    fn factor<R: Real>(k: R, t: i64, e: i64) -> R {
        let tail = if e >= t { R::ONE - k } else { R::ZERO };
        k + tail
    }

    #[inline]
    pub(crate) fn closed<R: Real>(&self, group: usize, epoch: u64) -> Result<R, SchedError> {
        self.base.check_group(group)?;
        let k = Self::factor(R::from_f64(self.factor), self.total_iters, epoch_i64(epoch));
        Ok(self.base.times_base(group, k))
    }
}

crate::protocol::macros::epoch_scheduler_api!(ConstantLr);
crate::protocol::macros::closed_form_via_inherent!(ConstantLr);

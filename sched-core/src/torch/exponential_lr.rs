//! `ExponentialLR`: decay by `gamma` every epoch.

use crate::math::Real;
use crate::protocol::base::{Base, StepMode, epoch_i64, finite};
use crate::{ParamGroup, SchedError};

/// Arguments of [`ExponentialLr`] (PyTorch `ExponentialLR(optimizer, gamma, last_epoch=-1)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExponentialLrConfig {
    /// Multiplicative factor per epoch (finite).
    pub gamma: f64,
    /// `-1` to start fresh; `k >= 0` to resume.
    pub last_epoch: i64,
}

impl ExponentialLrConfig {
    /// Decay by `gamma` per epoch, starting fresh.
    pub const fn new(gamma: f64) -> Self {
        Self { gamma, last_epoch: -1 }
    }
}

/// PyTorch `torch.optim.lr_scheduler.ExponentialLR`.
///
/// - step: `lr' = lr * gamma` (the construction step keeps `lr`);
/// - closed form: `lr(e) = base_lr * gamma ** e` (C `pow`).
///
/// Largest closed-form vs. stepping distance: grows with `e` (one rounding per step):
/// 3 ulp over the golden vectors, about `e / 4` ulp in the worst case.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExponentialLr {
    pub(crate) base: Base,
    gamma: f64,
}

impl ExponentialLr {
    /// Builds the scheduler and performs PyTorch's construction step.
    pub fn new(config: ExponentialLrConfig, groups: &mut [ParamGroup]) -> Result<Self, SchedError> {
        let gamma = finite("gamma", config.gamma)?;
        let base = Base::new(groups, config.last_epoch)?;
        Self { base, gamma }.constructed(groups)
    }

    pub(crate) fn step_mode(
        &mut self,
        groups: &mut [ParamGroup],
        mode: StepMode,
    ) -> Result<(), SchedError> {
        match mode {
            // Closed form at 0: `b * gamma ** 0`.
            StepMode::RestartAtZero => self.base.restart(groups, self.gamma.pow(0.0)),
            StepMode::Initial => self.base.scale_by(groups, mode, None),
            StepMode::Normal => self.base.scale_by(groups, mode, Some(self.gamma)),
        }
    }

    #[inline]
    pub(crate) fn closed<R: Real>(&self, group: usize, epoch: u64) -> Result<R, SchedError> {
        self.base.check_group(group)?;
        let k = R::from_f64(self.gamma).pow(R::from_i64(epoch_i64(epoch)));
        Ok(self.base.times_base(group, k))
    }
}

crate::protocol::macros::epoch_scheduler_api!(ExponentialLr);
crate::protocol::macros::closed_form_via_inherent!(ExponentialLr);

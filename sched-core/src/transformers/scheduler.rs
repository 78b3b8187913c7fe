//! [`TransformersScheduler`]: the `LambdaLR` that runs a [`TransformersSchedule`].

use super::TransformersSchedule;
use crate::math::Real;
use crate::protocol::base::{Base, StepMode, epoch_i64};
use crate::{ParamGroup, SchedError};

/// A transformers schedule: `LambdaLR(optimizer, lr_lambda)` with `lr_lambda` one of
/// [`TransformersSchedule`], `lr(t) = base_lr * λ(t)` for every group (tensor lrs as f32 tensor
/// operations, as `LambdaLR` does).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TransformersScheduler {
    pub(crate) base: Base,
    schedule: TransformersSchedule,
}

impl TransformersScheduler {
    /// Builds the `LambdaLR` and performs its construction step (row 0 is `base_lr * λ(0)`).
    pub fn new(
        schedule: TransformersSchedule,
        last_epoch: i64,
        groups: &mut [ParamGroup],
    ) -> Result<Self, SchedError> {
        schedule.validate()?;
        let base = Base::new(groups, last_epoch)?;
        Self { base, schedule }.constructed(groups)
    }

    /// The λ this scheduler runs.
    pub fn schedule(&self) -> &TransformersSchedule {
        &self.schedule
    }

    pub(crate) fn step_mode(
        &mut self,
        groups: &mut [ParamGroup],
        mode: StepMode,
    ) -> Result<(), SchedError> {
        let s = self.schedule;
        self.base.advance(groups, mode, |c| Ok(c.mul(c.base_lr, s.eval_in::<f64>(c.epoch)?)))
    }

    #[inline]
    pub(crate) fn closed<R: Real>(&self, group: usize, epoch: u64) -> Result<R, SchedError> {
        self.base.check_group(group)?;
        Ok(self.base.times_base(group, self.schedule.eval_in::<R>(epoch_i64(epoch))?))
    }
}

crate::protocol::macros::epoch_scheduler_api!(TransformersScheduler);
crate::protocol::macros::closed_form_via_inherent!(TransformersScheduler);

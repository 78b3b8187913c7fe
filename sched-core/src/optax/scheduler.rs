//! [`OptaxScheduler`]: an optax schedule driven through sched-core's stepping interface.

use super::OptaxSchedule;
use crate::math::Real;
use crate::protocol::base::{Base, StepMode, epoch_i64};
use crate::{ParamGroup, SchedError};

/// An optax schedule as a scheduler: every group's lr is `schedule(last_epoch)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OptaxScheduler {
    pub(crate) base: Base,
    schedule: OptaxSchedule,
    name: &'static str,
}

impl OptaxScheduler {
    /// Wraps `schedule` (optax's function `name`, for display) and writes `schedule(0)`
    /// into every group.
    pub fn new(
        schedule: OptaxSchedule,
        name: &'static str,
        groups: &mut [ParamGroup],
    ) -> Result<Self, SchedError> {
        let base = Base::new(groups, -1)?;
        Self { base, schedule, name }.constructed(groups)
    }

    /// The schedule.
    pub fn schedule(&self) -> &OptaxSchedule {
        &self.schedule
    }

    /// optax's function name (`"warmup_cosine_decay_schedule"`, ...).
    pub fn name(&self) -> &'static str {
        self.name
    }

    pub(crate) fn step_mode(
        &mut self,
        groups: &mut [ParamGroup],
        mode: StepMode,
    ) -> Result<(), SchedError> {
        let schedule = &self.schedule;
        let what = "an optax schedule inside SequentialLR";
        self.base
            .advance_absolute(groups, mode, what, |c| value_at(schedule, c.epoch).map(f64::from))
    }

    #[inline]
    pub(crate) fn closed<R: Real>(&self, group: usize, epoch: u64) -> Result<R, SchedError> {
        self.base.check_group(group)?;
        Ok(R::from_f64(f64::from(value_at(&self.schedule, epoch_i64(epoch))?)))
    }
}

/// The value at `count` as float32, or the error for a count past `int32`.
#[inline]
fn value_at(schedule: &OptaxSchedule, count: i64) -> Result<f32, SchedError> {
    let c = i32::try_from(count).map_err(|_| SchedError::OutOfRange {
        param: "count",
        value: crate::protocol::base::float_of(count),
        expected: "at most 2^31 - 1 (optax's int32 count)",
    })?;
    Ok(schedule.value(c))
}

crate::protocol::macros::epoch_scheduler_api!(OptaxScheduler);
crate::protocol::macros::closed_form_via_inherent!(OptaxScheduler);

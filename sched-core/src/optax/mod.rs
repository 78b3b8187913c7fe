//! optax's schedule functions (`optax.schedules`, optax 0.2.8), in float32 as jax computes
//! them, and [`OptaxLr`], which drives them through sched-core's stepping interface.
//!
//! An optax schedule is a pure function of the update count: it *is* the learning rate,
//! not a factor of a base lr. [`OptaxSchedule::value`] is that function (the closed form);
//! [`OptaxLr`] writes `schedule(count)` (widened to f64) into every parameter group,
//! `count` being `last_epoch` (0 after construction), the way `optax.scale_by_schedule`
//! sees its own counter.
//!
//! Precision: every value is float32. Where no transcendental is involved
//! (constant, linear, polynomial with an `int` power, piecewise constant, linear
//! interpolation and onecycle, exponential decay apart from its `pow`) each operation
//! is the float32 operation jax performs, so values are bitwise equal to optax. `cos` and
//! a float `pow` are evaluated in f64 and rounded once to float32; XLA's float32 `cos` is
//! its own approximation, so those values may differ from optax by a few ulp of f32
//! (measured on the golden vectors: at most 2; the parity test enforces 2).

mod join;
mod leaf;

pub use join::{MAX_LEAVES, OptaxSchedule};
pub(crate) use leaf::to_f32 as leaf_to_f32;
pub use leaf::{Interpolation, MAX_PIECES, OptaxLeaf, OptaxPower};

use crate::base::{Base, StepMode, epoch_i64};
use crate::math::Real;
use crate::{ParamGroup, SchedError};

/// The largest count an optax schedule takes (its count is an `int32`).
pub const MAX_COUNT: u64 = i32::MAX.unsigned_abs() as u64;

/// An optax schedule as a scheduler: every group's lr is `schedule(last_epoch)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OptaxLr {
    pub(crate) base: Base,
    schedule: OptaxSchedule,
    name: &'static str,
}

impl OptaxLr {
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
        value: crate::base::float_of(count),
        expected: "at most 2^31 - 1 (optax's int32 count)",
    })?;
    Ok(schedule.value(c))
}

crate::macros::epoch_scheduler_api!(OptaxLr);
crate::macros::closed_form_via_inherent!(OptaxLr);

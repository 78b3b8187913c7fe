//! [`ScheduleError`]: a device schedule that cannot be recorded, set or stepped.

use core::fmt;

use sched_core::SchedError;
use sgd_core::GroupCountMismatch;

/// A learning-rate schedule cannot drive the optimizer, on the device or through
/// [`sgd_core::inject_hyperparams`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum ScheduleError {
    /// A device schedule was asked of a scheduler whose learning rates depend on a metric per
    /// step (ReduceLROnPlateau): they cannot be known in advance.
    NeedsMetric {
        /// The scheduler's class name.
        kind: &'static str,
    },
    /// A device schedule of `steps` rows: it must have `1..=max`.
    Length {
        /// Rows asked for.
        steps: usize,
        /// Most rows allowed.
        max: usize,
    },
    /// Precomputed device-schedule lrs that are not whole rows of `groups` values (or a
    /// schedule for no groups).
    Shape {
        /// Number of values given.
        values: usize,
        /// Values per row (the group count).
        groups: usize,
    },
    /// The scheduler was built for another number of parameter groups than given.
    GroupCount {
        /// Groups the scheduler was built for.
        scheduler: usize,
        /// `ParamGroup`s given.
        groups: usize,
    },
    /// The scheduler's parameter groups and the optimizer's differ in number
    /// ([`sgd_core::inject_hyperparams`]).
    OptimizerGroupCount(GroupCountMismatch),
    /// A scheduler step changed a group's momentum (CyclicLR / OneCycleLR with
    /// `cycle_momentum=True`); a device schedule holds learning rates only.
    ChangesMomentum {
        /// The step (row) that changed it.
        step: usize,
        /// The group.
        group: usize,
    },
    /// sched-core failed a step while the device schedule was recorded.
    Step {
        /// The step (row) that failed.
        step: usize,
        /// sched-core's error.
        source: SchedError,
    },
    /// A scheduled step ran past the last row of the device schedule: such a step updates
    /// nothing (no reuse of the last row). Reported by the next host call until a new
    /// schedule is set or the schedule is cleared.
    Exhausted {
        /// Rows of the table.
        rows: usize,
        /// Scheduled steps that ran on the device past the table and did nothing (0 when the
        /// host refused the step before enqueuing it).
        skipped_steps: u32,
    },
    /// A scheduled step without a device schedule (`CudaSgd::set_device_schedule` first).
    NotSet,
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NeedsMetric { kind } => write!(
                f,
                "{kind} cannot be a device schedule: its learning rates depend on a metric per step"
            ),
            Self::Length { steps, max } => {
                write!(f, "a device schedule of {steps} steps: it must have 1..={max}")
            }
            Self::Shape { values, groups } => write!(
                f,
                "{values} device-schedule learning rates are not whole rows of {groups} groups (one lr per group per step, at least one group)"
            ),
            Self::GroupCount { scheduler, groups } => write!(
                f,
                "the scheduler was built for {scheduler} parameter groups, but {groups} were given"
            ),
            Self::OptimizerGroupCount(e) => e.fmt(f),
            Self::ChangesMomentum { step, group } => write!(
                f,
                "scheduler step {step} changes group {group}'s momentum; a device schedule holds learning rates only (use cycle_momentum=False)"
            ),
            Self::Step { step, source } => {
                write!(f, "the scheduler failed at step {step} of the device schedule: {source}")
            }
            Self::Exhausted { rows, skipped_steps } => write!(
                f,
                "the device schedule of {rows} rows is exhausted: {skipped_steps} scheduled step(s) past its end updated nothing (set a new schedule)"
            ),
            Self::NotSet => {
                f.write_str("no device schedule is set (call set_device_schedule first)")
            }
        }
    }
}

impl core::error::Error for ScheduleError {
    /// sched-core's error of [`ScheduleError::Step`], sgd-core's of
    /// [`ScheduleError::OptimizerGroupCount`]; `None` for the others.
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Step { source, .. } => Some(source),
            Self::OptimizerGroupCount(e) => Some(e),
            _ => None,
        }
    }
}

//! A built schedule: one scheduler, or several built in order on the same parameter groups and
//! stepped together every epoch (PyTorch's "compound" pattern, the golden vectors'
//! `"Compound"`; written `Compound([StepLR(...), ReduceLROnPlateau(...)], step_plan=[...])`).

use sched_core::{ParamGroup, SchedError, Scheduler};

/// What a step failed on.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub(crate) enum StepError {
    /// A ReduceLROnPlateau needs a metric and none was given.
    MetricRequired,
    /// `--metrics` ran out: it has `given` values.
    MetricsTooShort {
        /// Values given.
        given: usize,
    },
    /// `step_plan` has no entry for this step.
    PlanTooShort {
        /// Entries in the plan.
        len: usize,
    },
    /// The scheduler rejected the step.
    Sched(SchedError),
}

impl core::fmt::Display for StepError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::MetricRequired => f.write_str(
                "ReduceLROnPlateau steps on a validation metric: give one per epoch with --metrics 1.0,0.9,...",
            ),
            Self::MetricsTooShort { given } => write!(
                f,
                "--metrics has {given} values, one too few: give one per epoch but the last (epochs - 1 values)"
            ),
            Self::PlanTooShort { len } => write!(f, "step_plan has only {len} entries"),
            Self::Sched(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for StepError {}

/// One scheduler or a compound of several.
#[derive(Debug)]
pub(crate) enum Schedule {
    /// A single scheduler (composites included); boxed, as a scheduler is large.
    One(Box<Scheduler<'static>>),
    /// Several schedulers on the same groups, stepped in order after every epoch.
    Compound {
        /// The schedulers, in construction order.
        parts: Vec<Scheduler<'static>>,
        /// `plan[t]`: which parts step after epoch `t` (default: all, in order).
        plan: Option<Vec<Vec<usize>>>,
    },
}

impl Schedule {
    /// PyTorch's class name, or `"Compound"`.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::One(s) => s.kind(),
            Self::Compound { .. } => "Compound",
        }
    }

    /// Whether a step needs a metric (a ReduceLROnPlateau is part of it).
    pub(crate) fn needs_metric(&self) -> bool {
        match self {
            Self::One(s) => s.kind() == "ReduceLROnPlateau",
            Self::Compound { parts, .. } => parts.iter().any(|s| s.kind() == "ReduceLROnPlateau"),
        }
    }

    /// The step after 0-based `epoch`; ReduceLROnPlateau gets `metric`.
    pub(crate) fn step(
        &mut self,
        epoch: usize,
        metric: Option<f64>,
        groups: &mut [ParamGroup],
    ) -> Result<(), StepError> {
        fn one(
            s: &mut Scheduler<'static>,
            metric: Option<f64>,
            groups: &mut [ParamGroup],
        ) -> Result<(), StepError> {
            if s.kind() == "ReduceLROnPlateau" {
                s.step_with_metric(metric.ok_or(StepError::MetricRequired)?, groups)
            } else {
                s.step(groups)
            }
            .map_err(StepError::Sched)
        }
        match self {
            Self::One(s) => one(s, metric, groups),
            Self::Compound { parts, plan: None } => {
                parts.iter_mut().try_for_each(|s| one(s, metric, groups))
            }
            Self::Compound { parts, plan: Some(plan) } => {
                let len = plan.len();
                let which = plan.get(epoch).ok_or(StepError::PlanTooShort { len })?;
                // Indices were checked against `parts` when the plan was read.
                which
                    .iter()
                    .filter_map(|&i| parts.get_mut(i).map(|s| one(s, metric, groups)))
                    .collect()
            }
        }
    }
}

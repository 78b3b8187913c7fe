//! A schedule's learning rates over a run of epochs, as a PyTorch loop records them (the lr
//! of each group before each epoch's `scheduler.step()`), produced one epoch at a time so that
//! a run of any length needs the memory of one epoch.

use sched_core::ParamGroup;

use crate::error::CliError;
use crate::spec::schedule::StepError;
use crate::spec::{Schedule, SpecSource};

/// One schedule built on fresh groups, stepped epoch by epoch.
#[derive(Debug)]
pub(crate) struct Trace<'s> {
    source: &'s SpecSource,
    sched: Schedule,
    groups: Vec<ParamGroup>,
    metrics: Option<&'s [f64]>,
    /// Epochs handed out so far.
    epoch: usize,
    epochs: usize,
}

impl<'s> Trace<'s> {
    /// Builds `source` on fresh groups with `base_lrs`, for a run of `epochs` epochs.
    pub(crate) fn start(
        source: &'s SpecSource,
        base_lrs: &[f64],
        epochs: usize,
        metrics: Option<&'s [f64]>,
    ) -> Result<Self, CliError> {
        let mut groups: Vec<ParamGroup> = base_lrs.iter().map(|&lr| ParamGroup::new(lr)).collect();
        let sched = source.build(&mut groups).map_err(|e| CliError::Spec(source.explain(&e)))?;
        Ok(Self { source, sched, groups, metrics, epoch: 0, epochs })
    }

    /// The scheduler's class name.
    pub(crate) fn kind(&self) -> &'static str {
        self.sched.kind()
    }

    /// Whether stepping it reads `--metrics` (a ReduceLROnPlateau is part of it).
    pub(crate) fn uses_metrics(&self) -> bool {
        self.sched.needs_metric()
    }

    /// The groups of the next epoch (after the step that leads to it), or `None` after the
    /// last one.
    pub(crate) fn next_epoch(&mut self) -> Result<Option<&[ParamGroup]>, CliError> {
        if self.epoch == self.epochs {
            return Ok(None);
        }
        if self.epoch > 0 {
            let after = self.epoch - 1;
            step(&mut self.sched, &mut self.groups, after, self.metrics)
                .map_err(|e| CliError::Spec(self.source.explain_step(&e, self.epoch)))?;
        }
        self.epoch += 1;
        Ok(Some(&self.groups))
    }
}

/// One `scheduler.step()` after 0-based `epoch`; ReduceLROnPlateau takes `metrics[epoch]`.
fn step(
    sched: &mut Schedule,
    groups: &mut [ParamGroup],
    epoch: usize,
    metrics: Option<&[f64]>,
) -> Result<(), StepError> {
    let metric = match metrics {
        Some(m) if sched.needs_metric() => {
            Some(*m.get(epoch).ok_or(StepError::MetricsTooShort { given: m.len() })?)
        }
        _ => None,
    };
    sched.step(epoch, metric, groups)
}

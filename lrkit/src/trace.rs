//! A schedule's learning rates over a run of epochs, as a PyTorch loop records them: the lr of
//! each group before each epoch's `scheduler.step()`.

use sched_core::ParamGroup;

use crate::error::CliError;
use crate::spec::schedule::StepError;
use crate::spec::{Schedule, SpecSource};

/// One schedule's learning rates: `lrs[epoch][group]`.
#[derive(Clone, Debug)]
pub(crate) struct Trace {
    /// The spec in PyTorch notation.
    pub spec: String,
    /// The scheduler's class name.
    pub kind: &'static str,
    /// `lrs[epoch][group]`, epoch 0 first.
    pub lrs: Vec<Vec<f64>>,
    /// Whether stepping it read `--metrics` (a ReduceLROnPlateau is part of it).
    pub uses_metrics: bool,
}

/// Builds `source` on fresh groups with `base_lrs` and records `epochs` epochs.
pub(crate) fn trace(
    source: &SpecSource,
    base_lrs: &[f64],
    epochs: usize,
    metrics: Option<&[f64]>,
) -> Result<Trace, CliError> {
    let mut groups: Vec<ParamGroup> = base_lrs.iter().map(|&lr| ParamGroup::new(lr)).collect();
    let mut sched = source.build(&mut groups).map_err(|e| CliError::Spec(source.explain(&e)))?;
    let (kind, uses_metrics) = (sched.kind(), sched.needs_metric());
    let mut lrs = Vec::new();
    lrs.try_reserve_exact(epochs).map_err(|_| {
        CliError::Runtime(format!("cannot allocate memory for {epochs} epochs of {}", source.text))
    })?;
    for epoch in 0..epochs {
        lrs.push(groups.iter().map(|g| g.lr).collect());
        if epoch + 1 < epochs {
            step(&mut sched, &mut groups, epoch, metrics)
                .map_err(|e| CliError::Spec(source.explain_step(&e, epoch + 1)))?;
        }
    }
    Ok(Trace { spec: source.text.clone(), kind, lrs, uses_metrics })
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

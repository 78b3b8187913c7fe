//! `lrkit schedule SPEC...`: the learning rate of every epoch, as a PyTorch loop prints it.

use sched_core::ParamGroup;

use crate::cli::{ScheduleArgs, limits};
use crate::error::CliError;
use crate::py_float::repr;
use crate::spec::schedule::StepError;
use crate::spec::{Schedule, SpecSource};

/// Long help of the command (clap adds the options).
pub const ABOUT: &str = "\
Prints the learning rate of every epoch, as this PyTorch loop prints it:

    for epoch in range(N):
        print(f\"Epoch {epoch + 1}, Learning Rate: {optimizer.param_groups[0]['lr']}\")
        train(...); scheduler.step()

SPEC is written as in PyTorch (the optimizer argument may be left out):
    \"CosineAnnealingLR(T_max=30, eta_min=0.001)\"
    \"StepLR(optimizer, step_size=10, gamma=0.1)\"
    \"SequentialLR([LinearLR(start_factor=0.1, total_iters=5), CosineAnnealingLR(T_max=25)], milestones=[5])\"
    \"ChainedScheduler([ConstantLR(factor=0.5, total_iters=4), ExponentialLR(gamma=0.9)])\"
    \"LambdaLR(lr_lambda=pow(0.95))\"       lr_lambda: constant(v), pow(base), floordiv(d), warmup(n), step_pow(gamma, every)
or is the path of a JSON file in the golden vectors' spec format ({\"type\": ..., \"kwargs\": {...}, \"schedulers\": [...]}).
Schedulers: StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR, CosineAnnealingLR,
LambdaLR, MultiplicativeLR, CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR, ReduceLROnPlateau,
SequentialLR, ChainedScheduler.

Numbers are printed as Python prints them (repr: shortest round-trip digits). Exit code 2 for a bad spec.";

/// One schedule's learning rates: `lrs[epoch][group]`.
#[derive(Clone, Debug)]
pub struct Trace {
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
pub fn trace(
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

/// Runs the command.
pub fn run(args: ScheduleArgs) -> Result<(), CliError> {
    let ScheduleArgs { specs, epochs, lr: base_lrs, metrics, json, plot } = args;
    if let Some(bad) = base_lrs.iter().find(|lr| **lr < 0.0) {
        // torch.optim.SGD(lr=-1) raises ValueError("Invalid learning rate: -1").
        return Err(CliError::Usage(format!(
            "--lr {}: invalid learning rate (torch.optim.SGD raises for a negative lr)",
            repr(*bad)
        )));
    }
    let values = epochs.saturating_mul(base_lrs.len() as u64).saturating_mul(specs.len() as u64);
    if values > limits::SCHEDULE_VALUES {
        return Err(CliError::Usage(format!(
            "--epochs {epochs} with {} parameter group(s) and {} schedule(s) is {values} learning rates, more than lrkit schedule keeps ({})",
            base_lrs.len(),
            specs.len(),
            limits::SCHEDULE_VALUES
        )));
    }
    // Bounded by SCHEDULE_EPOCHS, far below usize::MAX on every target.
    let epochs = usize::try_from(epochs).unwrap_or(usize::MAX);
    // A chart that cannot be written is found out before any work.
    if let Some(path) = &plot {
        crate::plot::check_writable(path)?;
    }
    let sources = specs
        .iter()
        .map(|s| SpecSource::from_arg(s).map_err(CliError::Spec))
        .collect::<Result<Vec<_>, _>>()?;
    let traces = sources
        .iter()
        .map(|source| trace(source, &base_lrs, epochs, metrics.as_deref()))
        .collect::<Result<Vec<_>, _>>()?;
    if metrics.is_some() && !traces.iter().any(|t| t.uses_metrics) {
        crate::output::print_error(
            "warning: --metrics is ignored: only ReduceLROnPlateau steps on a metric, and no schedule given uses it",
        );
    }
    if let Some(path) = &plot {
        crate::plot::schedules(path, &traces)?;
    }
    let out = if json { to_json(&traces, &base_lrs, epochs) } else { to_table(&traces) };
    crate::output::print_line(&out);
    Ok(())
}

/// One epoch's lrs as Python prints them: `0.1`, or `[0.1, 0.01]` for several groups.
fn lr_text(row: &[f64]) -> String {
    match row {
        [one] => repr(*one),
        many => format!("[{}]", many.iter().map(|x| repr(*x)).collect::<Vec<_>>().join(", ")),
    }
}

/// One schedule: `Epoch 1, Learning Rate: 0.1` lines. Several: a legend and a table with one
/// column per schedule.
fn to_table(traces: &[Trace]) -> String {
    let mut out = String::new();
    if let [t] = traces {
        for (e, row) in t.lrs.iter().enumerate() {
            out.push_str(&format!("Epoch {}, Learning Rate: {}\n", e + 1, lr_text(row)));
        }
    } else {
        for (i, t) in traces.iter().enumerate() {
            out.push_str(&format!("[{}] {}\n", i + 1, t.spec));
        }
        let cells: Vec<Vec<String>> = (0..traces[0].lrs.len())
            .map(|e| {
                let mut row = vec![format!("{}", e + 1)];
                row.extend(traces.iter().map(|t| lr_text(&t.lrs[e])));
                row
            })
            .collect();
        let mut header = vec!["Epoch".to_string()];
        header.extend((1..=traces.len()).map(|i| format!("[{i}]")));
        let widths: Vec<usize> = (0..header.len())
            .map(|c| cells.iter().chain([&header]).map(|r| r[c].len()).max().unwrap_or(0))
            .collect();
        for row in [&header].into_iter().chain(&cells) {
            let line: Vec<String> =
                row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
    }
    out.pop();
    out
}

fn to_json(traces: &[Trace], base_lrs: &[f64], epochs: usize) -> String {
    let schedules: Vec<serde_json::Value> = traces
        .iter()
        .map(|t| serde_json::json!({ "spec": t.spec, "kind": t.kind, "lrs": t.lrs }))
        .collect();
    serde_json::json!({ "epochs": epochs, "base_lrs": base_lrs, "schedules": schedules })
        .to_string()
}

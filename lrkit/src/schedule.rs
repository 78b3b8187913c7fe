//! `lrkit schedule SPEC...`: the learning rate of every epoch, as a PyTorch loop prints it.

use sched_core::ParamGroup;

use crate::args::Args;
use crate::error::CliError;
use crate::spec::{Schedule, SpecSource};

/// Help text of the command.
pub const HELP: &str = "\
lrkit schedule SPEC... [--epochs N] [--lr LR[,LR...]] [--metrics M,M,...] [--json] [--plot FILE.svg]

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

Options:
    --epochs N        epochs to print (default 30)
    --lr LR[,LR...]   base learning rate, one per parameter group (default 0.1)
    --metrics M,...   ReduceLROnPlateau: the validation metric after each epoch (N-1 values)
    --json            print JSON: {\"epochs\", \"base_lrs\", \"schedules\": [{\"spec\", \"kind\", \"lrs\": [[lr per group] per epoch]}]}
    --plot FILE.svg   also draw every schedule into one SVG chart
Numbers are printed with full round-trip precision. Exit code 2 for a bad spec.";

/// One schedule's learning rates: `lrs[epoch][group]`.
#[derive(Clone, Debug)]
pub struct Trace {
    /// The spec in PyTorch notation.
    pub spec: String,
    /// The scheduler's class name.
    pub kind: &'static str,
    /// `lrs[epoch][group]`, epoch 0 first.
    pub lrs: Vec<Vec<f64>>,
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
    let kind = sched.kind();
    let mut lrs = Vec::with_capacity(epochs);
    for epoch in 0..epochs {
        lrs.push(groups.iter().map(|g| g.lr).collect());
        if epoch + 1 < epochs {
            step(&mut sched, &mut groups, epoch, metrics)
                .map_err(|m| CliError::Spec(format!("{}: {m}", source.text)))?;
        }
    }
    Ok(Trace { spec: source.text.clone(), kind, lrs })
}

/// One `scheduler.step()` after 0-based `epoch`; ReduceLROnPlateau takes `metrics[epoch]`.
fn step(
    sched: &mut Schedule,
    groups: &mut [ParamGroup],
    epoch: usize,
    metrics: Option<&[f64]>,
) -> Result<(), String> {
    let metric = match metrics {
        Some(m) if sched.needs_metric() => Some(*m.get(epoch).ok_or_else(|| {
            format!(
                "--metrics has {} values, but stepping after epoch {} needs one more (give epochs - 1 values)",
                m.len(),
                epoch + 1
            )
        })?),
        _ => None,
    };
    sched.step(epoch, metric, groups).map_err(|e| format!("step after epoch {}: {e}", epoch + 1))
}

/// Runs the command.
pub fn run(mut args: Args) -> Result<(), CliError> {
    let epochs: usize = args.parsed("--epochs", 30, "a number of epochs")?;
    let base_lrs = args.list("--lr")?.unwrap_or_else(|| vec![0.1]);
    let metrics = args.list("--metrics")?;
    let json = args.flag("--json");
    let plot = args.value("--plot")?;
    let specs = args.positionals()?;
    if specs.is_empty() {
        return Err(CliError::Usage(
            "schedule needs at least one SPEC, e.g. \"StepLR(step_size=10)\"".into(),
        ));
    }
    if epochs == 0 {
        return Err(CliError::Usage("--epochs must be at least 1".into()));
    }
    let mut traces = Vec::with_capacity(specs.len());
    for s in &specs {
        let source = SpecSource::from_arg(s).map_err(CliError::Spec)?;
        traces.push(trace(&source, &base_lrs, epochs, metrics.as_deref())?);
    }
    if let Some(path) = &plot {
        crate::plot::schedules(path, &traces)?;
    }
    let out = if json { to_json(&traces, &base_lrs, epochs) } else { to_table(&traces) };
    crate::output::print_line(&out);
    Ok(())
}

fn lr_text(row: &[f64]) -> String {
    match row {
        [one] => format!("{one}"),
        many => format!("[{}]", many.iter().map(|x| format!("{x}")).collect::<Vec<_>>().join(", ")),
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

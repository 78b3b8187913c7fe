//! `lrkit schedule SPEC...`: the learning rate of every epoch, as a PyTorch loop prints it.

use std::path::PathBuf;

use sched_core::registry::{self, Library};

use crate::error::CliError;
use crate::py_float::repr;
use crate::spec::SpecSource;
use crate::spec::lambda::SIGNATURES;
use crate::torch_release::TorchRelease;
use crate::trace::{Trace, trace};

/// Most epochs `--epochs` takes.
const MAX_EPOCHS: u64 = 10_000_000;
/// Most learning rates (epochs x groups x schedules) kept for printing: 512 MiB of f64.
const MAX_VALUES: u64 = 1 << 26;

/// `lrkit schedule`.
#[derive(Debug, clap::Args)]
#[command(
    about = "Print the learning rate of every epoch of PyTorch-style schedules",
    long_about = long_about(),
    allow_negative_numbers = true
)]
pub(crate) struct Args {
    /// PyTorch-style schedules, e.g. "StepLR(step_size=10)", or JSON spec files
    #[arg(required = true, value_name = "SPEC")]
    specs: Vec<String>,
    /// Epochs to print
    #[arg(long, value_name = "N", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=MAX_EPOCHS))]
    epochs: u64,
    /// Base learning rate, one per parameter group
    #[arg(
        long,
        value_name = "LR[,LR...]",
        value_delimiter = ',',
        default_value = "0.1",
        allow_hyphen_values = true
    )]
    lr: Vec<f64>,
    /// ReduceLROnPlateau: the validation metric after each epoch (epochs - 1 values)
    #[arg(long, value_name = "M,M,...", value_delimiter = ',', allow_hyphen_values = true)]
    metrics: Option<Vec<f64>>,
    /// Print JSON: {"epochs", "base_lrs", "schedules": [{"spec", "kind", "lrs"}]}
    #[arg(long)]
    json: bool,
    /// Also draw every schedule into one SVG chart
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// The PyTorch release to follow (2.0 to 2.15): before 2.13, SequentialLR's construction
    /// steps its first scheduler even when a milestone at 0 hands over at once
    #[arg(long, value_name = "MAJOR.MINOR", default_value_t = TorchRelease::CURRENT)]
    torch: TorchRelease,
}

/// Long help of the command (clap adds the options), around the lambda functions and the
/// schedules a SPEC can name.
const HELP_HEAD: &str = "\
Prints the learning rate of every epoch, as this PyTorch loop prints it:

    for epoch in range(N):
        print(f\"Epoch {epoch + 1}, Learning Rate: {optimizer.param_groups[0]['lr']}\")
        train(...); scheduler.step()

SPEC is written as in PyTorch (the optimizer argument may be left out):
    \"CosineAnnealingLR(T_max=30, eta_min=0.001)\"
    \"StepLR(optimizer, step_size=10, gamma=0.1)\"
    \"SequentialLR([LinearLR(start_factor=0.1, total_iters=5), CosineAnnealingLR(T_max=25)], milestones=[5])\"
    \"ChainedScheduler([ConstantLR(factor=0.5, total_iters=4), ExponentialLR(gamma=0.9)])\"
    \"transformers.get_cosine_schedule_with_warmup(num_warmup_steps=2, num_training_steps=10)\"
    \"LambdaLR(lr_lambda=lambda step: min((step + 1) / 5, 1.0) * 0.5 * (1 + math.cos(math.pi * step / 30)))\"
        lr_lambda: any arithmetic Python lambda (Python's operators, ints and floats, conditionals,
        comparisons, min max abs int float bool round pow divmod, math.*), evaluated as Python does,
        or one of ";
/// See [`HELP_HEAD`].
const HELP_SPEC_FILE: &str = "
or is the path of a JSON file in the golden vectors' spec format ({\"type\": ..., \"kwargs\": {...}, \"schedulers\": [...]}).

Schedules, by library (the library prefix may be left out: every name is unique):
";
/// See [`HELP_HEAD`].
const HELP_TAIL: &str = "

Numbers are printed as Python prints them (repr: shortest round-trip digits). Exit code 2 for a bad spec.";

/// Width the schedule names of the long help are wrapped to.
const HELP_WIDTH: usize = 100;

/// Long help of the command: the schedules listed are those of [`registry::KINDS`].
fn long_about() -> String {
    [HELP_HEAD, SIGNATURES, HELP_SPEC_FILE, &schedule_list(), HELP_TAIL].concat()
}

/// The names of [`registry::KINDS`], one paragraph per library in the registry's order, each
/// headed by the library's prefix and wrapped to [`HELP_WIDTH`].
fn schedule_list() -> String {
    let mut libraries: Vec<Library> = Vec::new();
    for kind in registry::KINDS {
        if !libraries.contains(&kind.library) {
            libraries.push(kind.library);
        }
    }
    let indent = 4 + libraries.iter().map(|l| l.prefix().len()).max().unwrap_or(0);
    let mut paragraphs = Vec::new();
    for library in libraries {
        let mut text = format!("  {:<w$}", format!("{}:", library.prefix()), w = indent - 2);
        let mut line_start = 0;
        let names = registry::KINDS.iter().filter(|k| k.library == library).map(|k| k.name);
        for (i, name) in names.enumerate() {
            if i > 0 {
                text.push(',');
                // Room for the name and the comma after it.
                if text.len() - line_start + 1 + name.len() + 1 > HELP_WIDTH {
                    line_start = text.len() + 1;
                    text.push('\n');
                    text.push_str(&" ".repeat(indent));
                } else {
                    text.push(' ');
                }
            }
            text.push_str(name);
        }
        paragraphs.push(text);
    }
    paragraphs.join("\n")
}

/// Runs the command.
pub(crate) fn run(args: Args) -> Result<(), CliError> {
    let Args { specs, epochs, lr: base_lrs, metrics, json, plot, torch } = args;
    if let Some(bad) = base_lrs.iter().find(|lr| **lr < 0.0) {
        // torch.optim.SGD(lr=-1) raises ValueError("Invalid learning rate: -1").
        return Err(CliError::Usage(format!(
            "--lr {}: invalid learning rate (torch.optim.SGD raises for a negative lr)",
            repr(*bad)
        )));
    }
    let values = epochs.saturating_mul(base_lrs.len() as u64).saturating_mul(specs.len() as u64);
    if values > MAX_VALUES {
        return Err(CliError::Usage(format!(
            "--epochs {epochs} with {} parameter group(s) and {} schedule(s) is {values} learning rates, more than lrkit schedule keeps ({})",
            base_lrs.len(),
            specs.len(),
            MAX_VALUES
        )));
    }
    // Bounded by MAX_EPOCHS, far below usize::MAX on every target.
    let epochs = usize::try_from(epochs).unwrap_or(usize::MAX);
    // A chart that cannot be written is found out before any work.
    if let Some(path) = &plot {
        crate::plot::check_writable(path)?;
    }
    let sources = specs
        .iter()
        .map(|s| SpecSource::from_arg(s, torch).map_err(CliError::Spec))
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

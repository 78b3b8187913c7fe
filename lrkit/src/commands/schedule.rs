//! `lrkit schedule SPEC...`: the learning rate of every epoch, as a PyTorch loop prints it.

use std::path::{Path, PathBuf};

use sched_core::ParamGroup;
use sched_core::registry::{self, Library};

use crate::error::CliError;
use crate::json_out;
use crate::out_file::OutFile;
use crate::output::{Stdout, escape_controls};
use crate::plot::StepSeries;
use crate::py_float::repr;
use crate::spec::SpecSource;
use crate::spec::lambda::SIGNATURES;
use crate::torch_release::TorchRelease;
use crate::trace::Trace;

/// Most epochs `--epochs` takes.
const MAX_EPOCHS: u64 = 10_000_000;
/// Most learning rates (epochs x groups x schedules) one run prints (about 1.3 GB of text).
/// Rows are printed as they are computed: memory does not grow with the epochs.
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
    /// Print JSON: {"epochs", "base_lrs", "schedules": [{"spec", "kind", "lrs"}]}; inf, -inf
    /// and NaN as the strings "inf", "-inf", "nan"
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print CSV: a header (epoch, then each spec), one row per epoch
    #[arg(long)]
    csv: bool,
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

/// What the rows are printed as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Table,
    Csv,
    Json,
}

/// Runs the command. Every spec is built and stepped through every epoch before anything is
/// printed or written (a first pass that keeps only column widths and the chart's buckets);
/// the second pass computes the same rows again and prints each as it comes, so memory does
/// not grow with the epochs.
pub(crate) fn run(args: Args) -> Result<(), CliError> {
    let Args { specs, epochs, lr: base_lrs, metrics, json, csv, plot, torch } = args;
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
            "--epochs {epochs} with {} parameter group(s) and {} schedule(s) is {values} learning rates, more than lrkit schedule prints ({})",
            base_lrs.len(),
            specs.len(),
            MAX_VALUES
        )));
    }
    // Bounded by MAX_EPOCHS, far below usize::MAX on every target.
    let epochs = usize::try_from(epochs).unwrap_or(usize::MAX);
    let sources = specs
        .iter()
        .map(|s| SpecSource::from_arg(s, torch).map_err(CliError::Spec))
        .collect::<Result<Vec<_>, _>>()?;
    // A chart that cannot be written, or would replace an input, is found out before any work.
    let chart = match &plot {
        Some(path) => {
            let inputs: Vec<&Path> =
                sources.iter().filter_map(|s| s.file.as_deref().map(Path::new)).collect();
            Some(OutFile::prepare("--plot", path, &inputs)?)
        }
        None => None,
    };
    let format = match (json, csv) {
        (true, _) => Format::Json,
        (_, true) => Format::Csv,
        _ => Format::Table,
    };
    let run = Run { sources: &sources, base_lrs: &base_lrs, epochs, metrics: metrics.as_deref() };
    let checked = run.check(chart.is_some(), format == Format::Table && sources.len() > 1)?;
    if metrics.is_some() && !checked.uses_metrics {
        crate::output::print_error(
            "warning: --metrics is ignored: only ReduceLROnPlateau steps on a metric, and no schedule given uses it",
        );
    }
    if let (Some(chart), Some(series)) = (chart, checked.series) {
        chart.commit(crate::plot::schedules(series)?.as_bytes())?;
    }
    let mut out = Stdout::new();
    match format {
        Format::Table if sources.len() == 1 => run.print_lines(&mut out)?,
        Format::Table => run.print_table(&checked.widths, &mut out)?,
        Format::Csv => run.print_csv(&mut out)?,
        Format::Json => run.print_json(&mut out)?,
    }
    out.finish()
}

/// The schedules of one run and what they are stepped with.
#[derive(Clone, Copy)]
struct Run<'a> {
    sources: &'a [SpecSource],
    base_lrs: &'a [f64],
    epochs: usize,
    metrics: Option<&'a [f64]>,
}

/// What the first pass found.
struct Checked {
    /// Whether any schedule reads `--metrics`.
    uses_metrics: bool,
    /// The table's column widths (epoch, then one per schedule), when asked for.
    widths: Vec<usize>,
    /// The chart's series, when asked for.
    series: Option<Vec<StepSeries>>,
}

impl<'a> Run<'a> {
    /// Every schedule, built on fresh groups.
    fn start(&self) -> Result<Vec<Trace<'a>>, CliError> {
        self.sources
            .iter()
            .map(|source| Trace::start(source, self.base_lrs, self.epochs, self.metrics))
            .collect()
    }

    /// Calls `row(epoch, groups of every schedule)` for every epoch, the schedules stepped in
    /// lockstep (0-based epochs).
    fn rows(
        &self,
        mut row: impl FnMut(usize, &[&[ParamGroup]]) -> Result<(), CliError>,
    ) -> Result<(), CliError> {
        let mut traces = self.start()?;
        let mut lrs: Vec<Vec<ParamGroup>> = vec![Vec::new(); traces.len()];
        for e in 0..self.epochs {
            for (t, groups) in traces.iter_mut().zip(&mut lrs) {
                groups.clear();
                groups.extend_from_slice(t.next_epoch()?.unwrap_or_default());
            }
            let views: Vec<&[ParamGroup]> = lrs.iter().map(Vec::as_slice).collect();
            row(e, &views)?;
        }
        Ok(())
    }

    /// The first pass: builds and steps every schedule through every epoch (any error is
    /// found here, before anything is printed), keeping the table's column widths
    /// (`widths`) and the chart's series (`plot`).
    fn check(&self, plot: bool, widths: bool) -> Result<Checked, CliError> {
        let uses_metrics = self.start()?.iter().any(Trace::uses_metrics);
        let mut series = plot.then(|| {
            self.sources.iter().map(|s| StepSeries::new(&s.text, self.epochs)).collect::<Vec<_>>()
        });
        let mut width = vec![0; if widths { self.sources.len() + 1 } else { 0 }];
        self.rows(|e, rows| {
            if let Some(series) = &mut series {
                for (s, groups) in series.iter_mut().zip(rows) {
                    s.push(groups.first().map_or(f64::NAN, |g| g.lr));
                }
            }
            if widths {
                width[0] = width[0].max(digits(e + 1));
                for (w, groups) in width[1..].iter_mut().zip(rows) {
                    *w = (*w).max(lr_text(groups).len());
                }
            }
            Ok(())
        })?;
        if widths {
            width[0] = width[0].max("Epoch".len());
            for (i, w) in width[1..].iter_mut().enumerate() {
                *w = (*w).max(format!("[{}]", i + 1).len());
            }
        }
        Ok(Checked { uses_metrics, widths: width, series })
    }

    /// One schedule: `Epoch 1, Learning Rate: 0.1` lines.
    fn print_lines(&self, out: &mut Stdout) -> Result<(), CliError> {
        self.rows(|e, rows| {
            let lr = rows.first().map_or_else(String::new, |g| lr_text(g));
            out.line(&format!("Epoch {}, Learning Rate: {lr}", e + 1))
        })
    }

    /// Several schedules: a legend and a table with one column per schedule, each `widths`
    /// wide (the last not padded).
    fn print_table(&self, widths: &[usize], out: &mut Stdout) -> Result<(), CliError> {
        for (i, s) in self.sources.iter().enumerate() {
            out.line(&format!("[{}] {}", i + 1, escape_controls(&s.text)))?;
        }
        let line = |cells: &[String]| {
            let padded: Vec<String> =
                cells.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
            padded.join("  ").trim_end().to_string()
        };
        let mut header = vec!["Epoch".to_string()];
        header.extend((1..=self.sources.len()).map(|i| format!("[{i}]")));
        out.line(&line(&header))?;
        self.rows(|e, rows| {
            let mut cells = vec![format!("{}", e + 1)];
            cells.extend(rows.iter().map(|g| lr_text(g)));
            out.line(&line(&cells))
        })
    }

    /// CSV: `epoch` and one column per schedule (per schedule and group with several groups),
    /// headed by the spec.
    fn print_csv(&self, out: &mut Stdout) -> Result<(), CliError> {
        let mut header = vec!["epoch".to_string()];
        for s in self.sources {
            if self.base_lrs.len() == 1 {
                header.push(csv_field(&s.text));
            } else {
                header.extend(
                    (0..self.base_lrs.len()).map(|g| csv_field(&format!("{} group {g}", s.text))),
                );
            }
        }
        out.line(&header.join(","))?;
        self.rows(|e, rows| {
            let mut cells = vec![format!("{}", e + 1)];
            cells.extend(rows.iter().flat_map(|g| g.iter().map(|g| repr(g.lr))));
            out.line(&cells.join(","))
        })
    }

    /// `{"base_lrs": [...], "epochs": N, "schedules": [{"kind", "lrs", "spec"}]}`, one
    /// schedule after the other, each row written as it is computed.
    fn print_json(&self, out: &mut Stdout) -> Result<(), CliError> {
        out.write(&format!(
            "{{\"base_lrs\":{},\"epochs\":{},\"schedules\":[",
            json_out::numbers(self.base_lrs.iter().copied()),
            self.epochs
        ))?;
        for (i, source) in self.sources.iter().enumerate() {
            let mut t = Trace::start(source, self.base_lrs, self.epochs, self.metrics)?;
            let sep = if i > 0 { "," } else { "" };
            out.write(&format!("{sep}{{\"kind\":{},\"lrs\":[", json_out::string(t.kind())))?;
            let mut first = true;
            while let Some(groups) = t.next_epoch()? {
                let row = json_out::numbers(groups.iter().map(|g| g.lr));
                out.write(if core::mem::take(&mut first) { "" } else { "," })?;
                out.write(&row)?;
            }
            out.write(&format!("],\"spec\":{}}}", json_out::string(&source.text)))?;
        }
        out.line("]}")
    }
}

/// Decimal digits of `n`.
fn digits(n: usize) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// One epoch's lrs as Python prints them: `0.1`, or `[0.1, 0.01]` for several groups.
fn lr_text(groups: &[ParamGroup]) -> String {
    match groups {
        [one] => repr(one.lr),
        many => format!("[{}]", many.iter().map(|g| repr(g.lr)).collect::<Vec<_>>().join(", ")),
    }
}

/// A CSV field: quoted, quotes doubled (RFC 4180), control characters escaped.
fn csv_field(text: &str) -> String {
    format!("\"{}\"", escape_controls(text).replace('"', "\"\""))
}

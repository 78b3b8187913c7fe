//! `lrkit train`: a multilayer perceptron on the bundled handwritten digits, trained with
//! the fused SGD of `sgd-cpu` (or `sgd-cuda`) under a sched-core schedule, with early
//! stopping on the validation loss.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use sched_core::{EarlyStopping, ParamGroup, PlateauMode};
use sgd_core::{ScheduledGroups, SgdConfig, inject_hyperparams};

use crate::digits::{self, CLASSES, DATA_CREDIT, FEATURES};
use crate::dtype_arg::DtypeArg;
use crate::error::CliError;
use crate::json_out;
use crate::mlp::{self, B1, B2, Shape, Tensors, W1, W2, Workspace};
use crate::num::usize_f64;
use crate::optimizer::{Device, Optimizer, Storage};
use crate::out_file::OutFile;
use crate::plot::RunSeries;
use crate::py_float::{fixed, repr};
use crate::rng::SplitMix64;
use crate::spec::SpecSource;
use crate::torch_release::TorchRelease;

/// Most epochs `--epochs` takes.
const MAX_EPOCHS: u64 = 1_000_000;
/// Most hidden units `--hidden` takes (W1 alone is 64 x hidden floats).
const MAX_HIDDEN: u64 = 65_536;
/// Largest `--batch-size`.
const MAX_BATCH: u64 = 1_000_000;

/// `lrkit train`.
#[derive(Debug, clap::Args)]
#[command(
    about = "Train a small MLP on the bundled handwritten-digits data with fused SGD",
    long_about = ABOUT,
    after_help = DATA_CREDIT,
    allow_negative_numbers = true
)]
pub(crate) struct Args {
    /// Maximum epochs
    #[arg(long, value_name = "N", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=MAX_EPOCHS))]
    epochs: u64,
    /// PyTorch-style schedule [default: "CosineAnnealingLR(T_max=EPOCHS)", EPOCHS = --epochs];
    /// ReduceLROnPlateau steps on the validation loss
    #[arg(long, value_name = "SPEC")]
    schedule: Option<String>,
    /// Base learning rate
    #[arg(long, value_name = "LR", default_value_t = 0.1)]
    lr: f64,
    /// SGD momentum
    #[arg(long, value_name = "M", default_value_t = 0.9)]
    momentum: f64,
    /// L2 penalty on the weights, not the biases
    #[arg(long, value_name = "WD", default_value_t = 0.0)]
    weight_decay: f64,
    /// Nesterov momentum
    #[arg(long)]
    nesterov: bool,
    /// Minibatch size
    #[arg(long, value_name = "B", default_value_t = 32,
          value_parser = clap::value_parser!(u64).range(1..=MAX_BATCH))]
    batch_size: u64,
    /// Hidden units
    #[arg(long, value_name = "H", default_value_t = 128,
          value_parser = clap::value_parser!(u64).range(1..=MAX_HIDDEN))]
    hidden: u64,
    /// Share of the data held out for validation (both sets must keep at least one sample)
    #[arg(long, value_name = "F", default_value_t = 0.2)]
    val_fraction: f64,
    /// Seed of the split, the initialisation and the shuffling
    #[arg(long, value_name = "S", default_value_t = 0)]
    seed: u64,
    /// Stop after P epochs without improvement of the validation loss (0: never)
    #[arg(long, value_name = "P", default_value_t = 10)]
    patience: u64,
    /// Smallest decrease of the validation loss that counts
    #[arg(long, value_name = "D", default_value_t = 0.0)]
    min_delta: f64,
    /// Where the optimizer step runs
    #[arg(long, value_enum, ignore_case = true, default_value_t = Device::Cpu)]
    device: Device,
    /// Element type the parameters, gradients and momentum are stored in (the network computes
    /// in f32 from them)
    #[arg(long, value_enum, ignore_case = true, default_value_t = DtypeArg::F32)]
    dtype: DtypeArg,
    /// bf16/f16 parameters with an f32 master copy and f32 momentum
    #[arg(long)]
    master: bool,
    /// bf16/f16 results rounded stochastically (Philox4x32)
    #[arg(long)]
    stochastic: bool,
    /// The PyTorch release the schedule follows (as `lrkit schedule --torch`)
    #[arg(long, value_name = "MAJOR.MINOR", default_value_t = TorchRelease::CURRENT)]
    torch: TorchRelease,
    /// Draw loss, accuracy and learning rate against the epoch
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Print a JSON summary (per-epoch series included) instead of lines
    #[arg(long)]
    json: bool,
}

/// Long help of the command (clap adds the options).
const ABOUT: &str = "\
Trains a 64-H-10 multilayer perceptron (ReLU, softmax cross-entropy, f32, hand-written
backward pass) on the bundled handwritten-digits data set, with minibatch fused SGD
(momentum) from sgd-cpu, the learning rate of each epoch from a sched-core schedule, and
early stopping on the validation loss. Prints one line per epoch (a progress bar on a
terminal). Deterministic for a given --seed. A run whose training or validation loss is not
finite stops with exit code 1 (diverged).

Data: the UCI \"Optical Recognition of Handwritten Digits\" set, 1797 8x8 images, bundled.";

/// Everything a run is configured with (the command line, checked).
#[derive(Clone, Debug)]
struct Config {
    epochs: usize,
    schedule: String,
    lr: f64,
    momentum: f64,
    weight_decay: f64,
    nesterov: bool,
    batch: usize,
    hidden: usize,
    val_fraction: f64,
    seed: u64,
    patience: u64,
    min_delta: f64,
    device: Device,
    storage: Storage,
    torch: TorchRelease,
    plot: Option<PathBuf>,
    json: bool,
}

impl Config {
    fn from_args(a: Args) -> Result<Config, CliError> {
        // clap bounded these by `MAX_EPOCHS`, `MAX_BATCH` and `MAX_HIDDEN`, far below usize::MAX.
        let size = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        let c = Config {
            schedule: a
                .schedule
                .unwrap_or_else(|| format!("CosineAnnealingLR(T_max={})", a.epochs)),
            epochs: size(a.epochs),
            lr: a.lr,
            momentum: a.momentum,
            weight_decay: a.weight_decay,
            nesterov: a.nesterov,
            batch: size(a.batch_size),
            hidden: size(a.hidden),
            val_fraction: a.val_fraction,
            seed: a.seed,
            patience: a.patience,
            min_delta: a.min_delta,
            device: a.device,
            storage: Storage { dtype: a.dtype, master: a.master, stochastic: a.stochastic },
            torch: a.torch,
            plot: a.plot,
            json: a.json,
        };
        c.storage.dtype.check_half_options(c.storage.master, c.storage.stochastic)?;
        let n_val = digits::validation_count(digits::SAMPLES, c.val_fraction);
        if !(c.val_fraction > 0.0 && c.val_fraction < 1.0) || n_val == 0 || n_val == digits::SAMPLES
        {
            return Err(CliError::Usage(format!(
                "--val-fraction {}: holds out {n_val} of {} samples; both the validation and the training set need at least one",
                repr(c.val_fraction),
                digits::SAMPLES
            )));
        }
        Ok(c)
    }
}

/// One epoch's numbers.
#[derive(Clone, Copy, Debug)]
struct Epoch {
    lr: f64,
    train_loss: f64,
    val_loss: f64,
    val_acc: f64,
}

fn ratio(a: f64, n: usize) -> f64 {
    a / usize_f64(n)
}

/// Runs the command.
pub(crate) fn run(args: Args) -> Result<(), CliError> {
    let c = Config::from_args(args)?;
    let source = SpecSource::from_arg(&c.schedule, c.torch).map_err(CliError::Spec)?;
    // A chart that cannot be written, or would replace the spec file, is found out first.
    let chart = match &c.plot {
        Some(path) => {
            let inputs: Vec<&std::path::Path> =
                source.file.as_deref().map(std::path::Path::new).into_iter().collect();
            Some(OutFile::prepare("--plot", path, &inputs)?)
        }
        None => None,
    };
    let start = Instant::now();
    let data = digits::load()?;
    let (train, val) = digits::split(&data, c.val_fraction, c.seed);
    let shape = Shape { inputs: FEATURES, hidden: c.hidden, classes: CLASSES };
    let mut rng = SplitMix64::new(c.seed);
    let mut params = Tensors::init(shape, &mut rng);
    let mut grads = Tensors::zeros(shape);

    // Two parameter groups, as a PyTorch user would set them up: weights (with weight
    // decay) and biases (without). The scheduler drives both.
    let base =
        SgdConfig { lr: c.lr, momentum: c.momentum, nesterov: c.nesterov, ..SgdConfig::default() };
    let configs = [SgdConfig { weight_decay: c.weight_decay, ..base }, base];
    // The schedule first: a bad spec is bad input (exit 2) whatever the device.
    let mut groups = [ParamGroup::new(c.lr).with_momentum(c.momentum); 2];
    let mut sched = source.build(&mut groups).map_err(|e| CliError::Spec(source.explain(&e)))?;
    // Tensors in `Tensors` order (W1, W2: group 0; b1, b2: group 1).
    let group_of = [0, 0, 1, 1];
    let initial: Vec<&[f32]> = params.t.iter().map(Vec::as_slice).collect();
    let mut opt = Optimizer::new(c.device, c.storage, &configs, &initial, &group_of)?;
    {
        let [w1, w2, b1, b2] = &mut params.t;
        opt.sync_params(&mut [w1, w2, b1, b2]);
    }
    let mut stopper = match c.patience {
        0 => None,
        p => Some(
            EarlyStopping::new(PlateauMode::Min, p, c.min_delta)
                .map_err(|e| CliError::Usage(format!("early stopping: {e}")))?,
        ),
    };

    let header = format!(
        "training 64-{}-10 MLP on {} digits ({} validation), batch {}, SGD momentum {}, schedule {}, device {}{}",
        c.hidden,
        train.len(),
        val.len(),
        c.batch,
        repr(c.momentum),
        crate::output::escape_controls(&source.text),
        c.device,
        match c.storage {
            Storage { dtype: DtypeArg::F32, .. } => String::new(),
            Storage { dtype, master, stochastic } => format!(
                ", parameters in {dtype}{}{}",
                if master { " with f32 master copies" } else { "" },
                if stochastic { ", stochastic rounding" } else { "" }
            ),
        }
    );
    let bar = progress_bar(&c);
    let say = |line: &str| match &bar {
        Some(b) => {
            b.println(line);
            Ok(())
        }
        None if !c.json => crate::output::line(line),
        None => Ok(()),
    };
    say(&header)?;

    let mut ws = Workspace::default();
    let mut order_idx: Vec<usize> = (0..train.len()).collect();
    let (mut bx, mut by) = (Vec::new(), Vec::new());
    let mut history: Vec<Epoch> = Vec::new();
    let mut stopped_early = None;
    for epoch in 0..c.epochs {
        // What the schedule wrote into the groups (lr, and momentum when it cycles it).
        inject_hyperparams(&groups, &mut opt)?;
        rng.shuffle(&mut order_idx);
        let mut loss_sum = 0.0;
        for chunk in order_idx.chunks(c.batch) {
            train.gather(chunk, &mut bx, &mut by);
            loss_sum += mlp::pass(shape, &params, &bx, &by, &mut ws, Some(&mut grads)).loss_sum;
            let [w1, w2, b1, b2] = &mut params.t;
            let mut p: [&mut [f32]; 4] = [w1, w2, b1, b2];
            let g: [&[f32]; 4] = [&grads.t[W1], &grads.t[W2], &grads.t[B1], &grads.t[B2]];
            opt.step(&mut p, &g)?;
        }
        let v = mlp::pass(shape, &params, &val.x, &val.y, &mut ws, None);
        let e = Epoch {
            lr: opt.group_options(0).lr,
            train_loss: ratio(loss_sum, train.len()),
            val_loss: ratio(v.loss_sum, val.len()),
            val_acc: ratio(usize_f64(v.correct), val.len()),
        };
        history.push(e);
        say(&format!(
            "Epoch {}/{}, train loss {}, val loss {}, val acc {}%, lr {}",
            epoch + 1,
            c.epochs,
            fixed(e.train_loss, 4),
            fixed(e.val_loss, 4),
            fixed(100.0 * e.val_acc, 2),
            repr(e.lr)
        ))?;
        if let Some(b) = &bar {
            b.set_message(format!("val acc {:.2}%", 100.0 * e.val_acc));
            b.inc(1);
        }
        // One rule for divergence: any loss that is not finite.
        if !(e.train_loss.is_finite() && e.val_loss.is_finite()) {
            return Err(CliError::Runtime(format!(
                "training diverged at epoch {} (train loss {}, validation loss {}): try a smaller --lr or --momentum",
                epoch + 1,
                repr(e.train_loss),
                repr(e.val_loss)
            )));
        }
        if let Some(s) = &mut stopper
            && s.update(e.val_loss)
        {
            stopped_early = Some((epoch + 1, s.best_epoch(), s.best()));
            break;
        }
        if epoch + 1 < c.epochs {
            let r = sched.step(epoch, Some(e.val_loss), &mut groups);
            r.map_err(|err| CliError::Spec(source.explain_step(&err, epoch + 1)))?;
        }
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let seconds = start.elapsed().as_secs_f64();
    let last = history.last().copied().ok_or_else(|| CliError::Runtime("no epoch ran".into()))?;
    let best = history.iter().map(|e| e.val_acc).fold(0.0, f64::max);
    if let Some(chart) = chart {
        let series = RunSeries {
            train_loss: history.iter().map(|e| e.train_loss).collect(),
            val_loss: history.iter().map(|e| e.val_loss).collect(),
            val_acc: history.iter().map(|e| e.val_acc).collect(),
            lr: history.iter().map(|e| e.lr).collect(),
            best_epoch: history
                .iter()
                .enumerate()
                .filter(|(_, e)| e.val_loss.is_finite())
                .min_by(|a, b| a.1.val_loss.total_cmp(&b.1.val_loss))
                .map(|(i, _)| i + 1),
            stopped_after: stopped_early.map(|(at, _, _)| at),
        };
        let svg = crate::plot::training(&format!("lrkit train: {}", source.text), &series)?;
        chart.commit(svg.as_bytes())?;
    }
    if c.json {
        let series = |f: fn(&Epoch) -> f64| json_out::numbers(history.iter().map(f));
        let json = format!(
            "{{\"best_val_acc\":{},\"epochs_run\":{},\"final_val_acc\":{},\"lr\":{},\"schedule\":{},\"seconds\":{},\"seed\":{},\"stopped_early\":{},\"train_loss\":{},\"train_samples\":{},\"val_acc\":{},\"val_loss\":{},\"val_samples\":{}}}",
            json_out::number(best),
            history.len(),
            json_out::number(last.val_acc),
            series(|e| e.lr),
            json_out::string(&source.text),
            json_out::number(seconds),
            c.seed,
            stopped_early.is_some(),
            series(|e| e.train_loss),
            train.len(),
            series(|e| e.val_acc),
            series(|e| e.val_loss),
            val.len(),
        );
        crate::output::line(&json)?;
    } else {
        if let Some((at, best_epoch, best_loss)) = stopped_early {
            crate::output::line(&format!(
                "early stop after epoch {at}: validation loss {} at epoch {best_epoch} not improved for {} epochs",
                fixed(best_loss, 4),
                c.patience
            ))?;
        }
        crate::output::line(&format!(
            "final validation accuracy {:.2}% (best {:.2}%) after {} epochs in {:.2} s",
            100.0 * last.val_acc,
            100.0 * best,
            history.len(),
            seconds,
        ))?;
    }
    Ok(())
}

/// A progress bar over the epochs when stdout is a terminal (and no JSON is asked for).
fn progress_bar(c: &Config) -> Option<indicatif::ProgressBar> {
    if c.json || !std::io::stdout().is_terminal() {
        return None;
    }
    // On stdout, like the epoch lines it prints above itself (`println` goes to the bar's target).
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(c.epochs as u64),
        indicatif::ProgressDrawTarget::stdout(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} epoch {pos}/{len} {msg} [{elapsed}]")
    {
        bar.set_style(style);
    }
    Some(bar)
}

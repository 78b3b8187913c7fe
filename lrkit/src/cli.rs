//! The command line, declared with clap: options, help, suggestions, exit code 2 for a bad
//! command line. Every size a user gives has an upper limit here ([`limits`]), so that no
//! option can make the process abort on an allocation or a thread it cannot have.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::optimizer::Device;
use crate::{bench, schedule, train};

/// Upper limits of the sizes a user can ask for (each is far above any sensible run; the
/// point is that a typo or a hostile value gets a message, not an abort).
pub mod limits {
    /// `lrkit schedule --epochs`.
    pub const SCHEDULE_EPOCHS: u64 = 10_000_000;
    /// `lrkit schedule`: epochs x groups x schedules values kept for printing (512 MiB of f64).
    pub const SCHEDULE_VALUES: u64 = 1 << 26;
    /// `lrkit train --epochs`.
    pub const TRAIN_EPOCHS: u64 = 1_000_000;
    /// `lrkit train --hidden` (W1 alone is 64 x hidden floats).
    pub const HIDDEN: u64 = 65_536;
    /// `lrkit train --batch-size`.
    pub const BATCH: u64 = 1_000_000;
    /// `lrkit bench --sizes`, elements per tensor (80 GiB of traffic per step).
    pub const BENCH_ELEMENTS: u64 = 1 << 32;
}

/// Data credit shown by `lrkit --help` and `lrkit train --help`.
pub const DATA_CREDIT: &str =
    "Bundled data (lrkit train): Alpaydin, E. & Kaynak, C. (1998). Optical Recognition of
Handwritten Digits. UCI Machine Learning Repository. https://doi.org/10.24432/C50P49 (CC BY 4.0)";

/// lrkit: see a learning-rate schedule, train with it, benchmark fused SGD.
#[derive(Debug, Parser)]
#[command(
    name = "lrkit",
    version,
    about = "lrkit: see a learning-rate schedule, train with it, benchmark fused SGD",
    after_help = concat!("Exit codes: 0 success, 1 failure while running, 2 bad command line or spec.\n\n",
        "Bundled data (lrkit train): Alpaydin, E. & Kaynak, C. (1998). Optical Recognition of\n",
        "Handwritten Digits. UCI Machine Learning Repository. https://doi.org/10.24432/C50P49 (CC BY 4.0)"),
    arg_required_else_help = true,
)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the learning rate of every epoch of PyTorch-style schedules
    #[command(long_about = schedule::ABOUT, allow_negative_numbers = true)]
    Schedule(ScheduleArgs),
    /// Train a small MLP on the bundled handwritten-digits data with fused SGD
    #[command(long_about = train::ABOUT, after_help = DATA_CREDIT, allow_negative_numbers = true)]
    Train(TrainArgs),
    /// Fused SGD throughput next to a memory-bandwidth baseline
    #[command(long_about = bench::ABOUT)]
    Bench(BenchArgs),
}

/// `lrkit schedule`.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// PyTorch-style schedules, e.g. "StepLR(step_size=10)", or JSON spec files
    #[arg(required = true, value_name = "SPEC")]
    pub specs: Vec<String>,
    /// Epochs to print
    #[arg(long, value_name = "N", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=limits::SCHEDULE_EPOCHS))]
    pub epochs: u64,
    /// Base learning rate, one per parameter group
    #[arg(
        long,
        value_name = "LR[,LR...]",
        value_delimiter = ',',
        default_value = "0.1",
        allow_hyphen_values = true
    )]
    pub lr: Vec<f64>,
    /// ReduceLROnPlateau: the validation metric after each epoch (epochs - 1 values)
    #[arg(long, value_name = "M,M,...", value_delimiter = ',', allow_hyphen_values = true)]
    pub metrics: Option<Vec<f64>>,
    /// Print JSON: {"epochs", "base_lrs", "schedules": [{"spec", "kind", "lrs"}]}
    #[arg(long)]
    pub json: bool,
    /// Also draw every schedule into one SVG chart
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
}

/// `lrkit train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Maximum epochs
    #[arg(long, value_name = "N", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=limits::TRAIN_EPOCHS))]
    pub epochs: u64,
    /// PyTorch-style schedule [default: "CosineAnnealingLR(T_max=EPOCHS)", EPOCHS = --epochs];
    /// ReduceLROnPlateau steps on the validation loss
    #[arg(long, value_name = "SPEC")]
    pub schedule: Option<String>,
    /// Base learning rate
    #[arg(long, value_name = "LR", default_value_t = 0.1)]
    pub lr: f64,
    /// SGD momentum
    #[arg(long, value_name = "M", default_value_t = 0.9)]
    pub momentum: f64,
    /// L2 penalty on the weights, not the biases
    #[arg(long, value_name = "WD", default_value_t = 0.0)]
    pub weight_decay: f64,
    /// Nesterov momentum
    #[arg(long)]
    pub nesterov: bool,
    /// Minibatch size
    #[arg(long, value_name = "B", default_value_t = 32,
          value_parser = clap::value_parser!(u64).range(1..=limits::BATCH))]
    pub batch_size: u64,
    /// Hidden units
    #[arg(long, value_name = "H", default_value_t = 128,
          value_parser = clap::value_parser!(u64).range(1..=limits::HIDDEN))]
    pub hidden: u64,
    /// Share of the data held out for validation (both sets must keep at least one sample)
    #[arg(long, value_name = "F", default_value_t = 0.2)]
    pub val_fraction: f64,
    /// Seed of the split, the initialisation and the shuffling
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,
    /// Stop after P epochs without improvement of the validation loss (0: never)
    #[arg(long, value_name = "P", default_value_t = 10)]
    pub patience: u64,
    /// Smallest decrease of the validation loss that counts
    #[arg(long, value_name = "D", default_value_t = 0.0)]
    pub min_delta: f64,
    /// Where the optimizer step runs
    #[arg(long, value_enum, ignore_case = true, default_value_t = Device::Cpu)]
    pub device: Device,
    /// Draw loss, accuracy and learning rate against the epoch
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Print a JSON summary (per-epoch series included) instead of lines
    #[arg(long)]
    pub json: bool,
}

/// `lrkit bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Small sizes and short timings (for tests)
    #[arg(long)]
    pub quick: bool,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
    /// Elements per tensor [default: 65536,1048576,16777216]
    #[arg(long, value_name = "N,...", value_delimiter = ',',
          value_parser = clap::value_parser!(u64).range(1..=limits::BENCH_ELEMENTS))]
    pub sizes: Option<Vec<u64>>,
    /// Thread counts [default: 1 and all cores]
    #[arg(long, value_name = "T,...", value_delimiter = ',',
          value_parser = clap::value_parser!(u64).range(1..=sgd_cpu::MAX_THREADS as u64))]
    pub threads: Option<Vec<u64>>,
    /// sgd-cpu backend: scalar, avx2, avx512, neon [default: the fastest here]
    #[arg(long, value_name = "NAME")]
    pub backend: Option<String>,
}

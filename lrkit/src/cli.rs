//! The command line: the commands, each declared (options, help, limits) in its module of
//! [`crate::commands`]. clap gives suggestions, `--help` and exit code 2 for a bad command
//! line.

use clap::{Parser, Subcommand};

use crate::commands::{bench, schedule, train};
use crate::digits::DATA_CREDIT;

/// lrkit: see a learning-rate schedule, train with it, benchmark fused SGD.
#[derive(Debug, Parser)]
#[command(
    name = "lrkit",
    version,
    about = "lrkit: see a learning-rate schedule, train with it, benchmark fused SGD",
    after_help = format!(
        "Exit codes: 0 success, 1 failure while running, 2 bad command line or spec.\n\n{DATA_CREDIT}"
    ),
    arg_required_else_help = true,
)]
pub(crate) struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The commands. Their help comes from their `Args` (a doc comment here would replace it).
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    // `lrkit schedule`.
    Schedule(schedule::Args),
    // `lrkit train`.
    Train(train::Args),
    // `lrkit bench`.
    Bench(bench::Args),
}

//! `lrkit`: see a learning-rate schedule, train with it, benchmark fused SGD.
//!
//! ```text
//! lrkit schedule "CosineAnnealingLR(T_max=30, eta_min=0.001)"   # lrs per epoch (table/JSON/SVG)
//! lrkit train                                                    # MLP on handwritten digits
//! lrkit bench                                                    # fused SGD GB/s vs. memory bandwidth
//! ```
//! Exit codes: 0 success, 1 failure while running, 2 bad command line or spec.

mod args;
mod bench;
mod digits;
mod error;
mod mlp;
mod optimizer;
mod output;
mod plot;
mod rng;
mod schedule;
mod spec;
mod train;

use std::process::ExitCode;

use args::Args;
use error::CliError;

const HELP: &str = "\
lrkit: see a learning-rate schedule, train with it, benchmark fused SGD

Usage:
    lrkit schedule SPEC... [--epochs N] [--lr LR] [--json] [--plot FILE.svg]
    lrkit train [--epochs N] [--schedule SPEC] [--lr LR] [--seed S] [--plot FILE.svg] ...
    lrkit bench [--quick] [--json]
    lrkit <command> --help

Commands:
    schedule   print the learning rate of every epoch of PyTorch-style schedules
    train      train a small MLP on the bundled handwritten-digits data with fused SGD
    bench      fused SGD throughput next to a memory-bandwidth baseline

Exit codes: 0 success, 1 failure while running, 2 bad command line or spec.

Bundled data (lrkit train): Alpaydin, E. & Kaynak, C. (1998). Optical Recognition of
Handwritten Digits. UCI Machine Learning Repository. https://doi.org/10.24432/C50P49 (CC BY 4.0)";

/// A command's entry point.
type Command = fn(Args) -> Result<(), CliError>;

fn run(argv: Vec<String>) -> Result<(), CliError> {
    let Some((command, rest)) = argv.split_first() else {
        output::print_line(HELP);
        return Ok(());
    };
    let wants_help = rest.iter().take_while(|a| *a != "--").any(|a| a == "--help" || a == "-h");
    let (help, run): (&str, Command) = match command.as_str() {
        "schedule" => (schedule::HELP, schedule::run),
        "train" => (train::HELP, train::run),
        "bench" => (bench::HELP, bench::run),
        "-h" | "--help" | "help" => {
            output::print_line(HELP);
            return Ok(());
        }
        "-V" | "--version" => {
            output::print_line(&format!("lrkit {}", env!("CARGO_PKG_VERSION")));
            return Ok(());
        }
        other => {
            return Err(CliError::Usage(format!(
                "unknown command {other:?}: expected schedule, train or bench"
            )));
        }
    };
    if wants_help {
        output::print_line(help);
        return Ok(());
    }
    run(Args::new(rest.to_vec()))
}

fn main() -> ExitCode {
    let argv: Result<Vec<String>, CliError> = std::env::args_os()
        .skip(1)
        .map(|a| {
            a.into_string()
                .map_err(|a| CliError::Usage(format!("argument {a:?} is not valid UTF-8")))
        })
        .collect();
    match argv.and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

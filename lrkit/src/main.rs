//! `lrkit`: see a learning-rate schedule, train with it, benchmark fused SGD.
//!
//! ```text
//! lrkit schedule "CosineAnnealingLR(T_max=30, eta_min=0.001)"   # lrs per epoch (table/JSON/SVG)
//! lrkit train                                                    # MLP on handwritten digits
//! lrkit bench                                                    # fused SGD GB/s vs. memory bandwidth
//! ```
//! Exit codes: 0 success, 1 failure while running, 2 bad command line or spec.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod digits;
mod dtype_arg;
mod error;
mod json_out;
mod mlp;
mod num;
mod optimizer;
mod out_file;
mod output;
mod plot;
mod py_float;
mod rng;
mod spec;
mod torch_release;
mod trace;
mod typed_optimizer;

use std::process::ExitCode;

/// An allocation failure exits with a message and code 1 (`lrkit_alloc`).
#[global_allocator]
static ALLOCATOR: lrkit_alloc::ExitOnOom = lrkit_alloc::ExitOnOom;

use clap::Parser;

use cli::{Cli, Command};
use commands::{bench, schedule, train};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with exit code 0, mistakes to stderr with 2.
            let text = e.render().to_string();
            if e.use_stderr() {
                output::print_error(text.trim_end());
            } else {
                output::print_line(text.trim_end());
            }
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let result = match cli.command {
        Command::Schedule(a) => schedule::run(a),
        Command::Train(a) => train::run(a),
        Command::Bench(a) => bench::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error::CliError::BrokenPipe) => ExitCode::SUCCESS,
        Err(e) => {
            output::print_error(&format!("error: {e}"));
            ExitCode::from(e.exit_code())
        }
    }
}

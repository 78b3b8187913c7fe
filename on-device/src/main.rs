//! `on-device`: the training loop of the `on_device` library as firmware for a Cortex-M4F
//! (`thumbv7em-none-eabihf`, QEMU's `netduinoplus2`, an STM32F405), printing over semihosting;
//! on any other target, a host program that prints the same lines.
//!
//! Output: one line per epoch ([`on_device::EpochReport`]), then
//! `result: validation accuracy <A>% after <E> epochs (best epoch <B>, stopped early: <yes|no>)`
//! and, on the device, `stack high-water: <H> bytes`. Exit status 0 on success, 1 on a training
//! error, a panic or a fault.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod firmware;

use core::fmt::{self, Write};

/// Runs the default training, writing every line to `out`.
fn run(out: &mut impl Write) -> Result<on_device::Summary, RunError> {
    let mut write_error = Ok(());
    let summary = on_device::train(&on_device::TrainConfig::default(), |report| {
        if write_error.is_ok() {
            write_error = writeln!(out, "{report}");
        }
    })?;
    write_error?;
    writeln!(
        out,
        "result: validation accuracy {}% after {} epochs (best epoch {}, stopped early: {})",
        summary.last.val_accuracy(),
        summary.epochs,
        summary.best_epoch,
        if summary.stopped_early { "yes" } else { "no" },
    )?;
    Ok(summary)
}

/// Why [`run`] failed.
#[derive(Debug)]
enum RunError {
    Train(on_device::TrainError),
    Output,
}

impl From<on_device::TrainError> for RunError {
    fn from(e: on_device::TrainError) -> Self {
        Self::Train(e)
    }
}

impl From<fmt::Error> for RunError {
    fn from(_: fmt::Error) -> Self {
        Self::Output
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Train(e) => write!(f, "training failed: {e}"),
            Self::Output => f.write_str("could not write the output"),
        }
    }
}

#[cfg(not(target_os = "none"))]
fn main() -> std::process::ExitCode {
    /// `core::fmt::Write` over a locked stdout.
    struct Stdout(std::io::StdoutLock<'static>);
    impl Write for Stdout {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            std::io::Write::write_all(&mut self.0, s.as_bytes()).map_err(|_| fmt::Error)
        }
    }
    match run(&mut Stdout(std::io::stdout().lock())) {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "on-device: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

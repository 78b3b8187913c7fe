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

#[cfg(not(target_os = "none"))]
fn main() -> std::process::ExitCode {
    use core::fmt::{self, Write};

    /// `core::fmt::Write` over a locked stdout.
    struct Stdout(std::io::StdoutLock<'static>);
    impl Write for Stdout {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            std::io::Write::write_all(&mut self.0, s.as_bytes()).map_err(|_| fmt::Error)
        }
    }
    match on_device::run(&mut Stdout(std::io::stdout().lock())) {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "on-device: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

//! The bare-metal side: entry point, semihosting output and exit status, fault handlers, on
//! Cortex-M (`cortex_m`: M4F, M33, M0) and RISC-V (`riscv`: `imac`, `imafc`).
//!
//! Semihosting (`BKPT 0xAB` on Arm, the `ebreak` sequence on RISC-V) needs a debugger or
//! QEMU's `-semihosting-config enable=on`; on a board without one the first output call would
//! stop the core.

#[cfg(target_arch = "arm")]
mod cortex_m;
#[cfg(feature = "sgd-cost")]
mod cost;
#[cfg(target_arch = "riscv32")]
mod riscv;
mod stack;

use core::fmt::{self, Write};

use on_device::text::{write_hex8, write_u32};

#[cfg(target_arch = "arm")]
use cortex_m as platform;
#[cfg(target_arch = "riscv32")]
use riscv as platform;

/// `core::fmt::Write` over the host's stdout or stderr; output errors are reported.
struct Host(platform::HostStream);

impl Write for Host {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write_all(s.as_bytes()).map_err(|()| fmt::Error)
    }
}

/// Writes one line to the host's stderr, if there is one: `write` writes its text, then a
/// newline ends it.
fn report_error(write: impl FnOnce(&mut Host) -> fmt::Result) {
    if let Ok(stderr) = platform::hstderr() {
        let mut err = Host(stderr);
        let _ = write(&mut err).and_then(|()| err.write_char('\n'));
    }
}

/// Writes `0x` and eight hexadecimal digits (an address in a fault message).
fn write_address(out: &mut Host, address: u32) -> fmt::Result {
    out.write_str("0x")?;
    write_hex8(out, address)
}

/// What went wrong, without the values: their `Display` formats floats, and core's float
/// formatting would cost about 12 KiB of flash. The host build of this program runs the same
/// code on the same constants and prints the whole message.
fn brief(e: &on_device::RunError) -> [&'static str; 3] {
    use on_device::TrainError;
    let what = match e {
        on_device::RunError::Output => "could not write the output",
        on_device::RunError::Train(TrainError::Config { param, .. }) => {
            return ["training configuration: bad `", param, "`"];
        }
        on_device::RunError::Train(TrainError::Schedule(_)) => "the schedule rejected its options",
        on_device::RunError::Train(TrainError::Step(_)) => "the SGD step rejected its input",
        on_device::RunError::Train(TrainError::Inject(_)) => {
            "the SGD options the schedule set were refused"
        }
        _ => "training failed",
    };
    [what, " (`cargo run -p on-device` prints the details)", ""]
}

/// The program, called by the platform's entry point: trains (or, with feature `sgd-cost`,
/// measures the SGD step) and returns whether all of it succeeded.
fn program() -> bool {
    stack::paint();
    if cfg!(feature = "panic-self-test") {
        panic!("panic-self-test: the panic handler must end the run with status 1");
    }
    let Ok(stdout) = platform::hstdout() else { return false };
    let mut out = Host(stdout);
    #[cfg(feature = "sgd-cost")]
    return cost::report(&mut out) == Ok(true);
    #[cfg(not(feature = "sgd-cost"))]
    train(&mut out)
}

/// The training run, then the stack high-water mark; whether all of it succeeded.
#[cfg_attr(feature = "sgd-cost", allow(dead_code))] // the cost firmware does not train
fn train(out: &mut Host) -> bool {
    match on_device::run(out) {
        Ok(_) => {
            let high_water = u32::try_from(stack::high_water()).unwrap_or(u32::MAX);
            out.write_str("stack high-water: ")
                .and_then(|()| write_u32(out, high_water, 1))
                .and_then(|()| out.write_str(" bytes\n"))
                .is_ok()
        }
        Err(e) => {
            report_error(|err| {
                err.write_str("on-device: ")?;
                brief(&e).iter().try_for_each(|piece| err.write_str(piece))
            });
            false
        }
    }
}

/// Prints `panic: <message> at <file>:<line>` (a message with arguments prints as
/// `(formatted message)`: the firmware links no `core::fmt::write`) and ends the run.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let message = info.message().as_str().unwrap_or("(formatted message)");
    let (file, line) = info.location().map_or(("?", 0), |l| (l.file(), l.line()));
    report_error(|err| {
        for piece in ["panic: ", message, " at ", file, ":"] {
            err.write_str(piece)?;
        }
        write_u32(err, line, 1)
    });
    platform::exit(false)
}

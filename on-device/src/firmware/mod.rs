//! The bare-metal side: entry point, semihosting output and exit status, fault handlers.
//!
//! Semihosting (`BKPT 0xAB`) needs a debugger or QEMU's `-semihosting-config enable=on`; on a
//! board without one the first output call would stop the core.

#[cfg(feature = "sgd-cost")]
mod cost;
mod stack;

use core::fmt::{self, Write};

use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::{debug, hio};

/// `core::fmt::Write` over the host's stdout or stderr; output errors are reported.
struct Host(hio::HostStream);

impl Write for Host {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write_all(s.as_bytes()).map_err(|()| fmt::Error)
    }
}

/// Ends the QEMU run (or the debug session) with status 0 or 1.
fn exit(success: bool) -> ! {
    debug::exit(if success { debug::EXIT_SUCCESS } else { debug::EXIT_FAILURE });
    // Without a host to end the session, stop here.
    loop {
        cortex_m::asm::wfi();
    }
}

/// Writes one line to the host's stderr, if there is one.
fn report_error(args: fmt::Arguments<'_>) {
    if let Ok(stderr) = hio::hstderr() {
        let _ = Host(stderr).write_fmt(args);
    }
}

/// What went wrong, without the values: their `Display` formats floats, and core's float
/// formatting would cost about 12 KiB of flash. The host build of this program runs the same
/// code on the same constants and prints the whole message.
struct Brief<'a>(&'a on_device::RunError);

impl fmt::Display for Brief<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use on_device::TrainError;
        let what = match self.0 {
            on_device::RunError::Output => "could not write the output",
            on_device::RunError::Train(TrainError::Config { param, .. }) => {
                return write!(f, "training configuration: bad `{param}`");
            }
            on_device::RunError::Train(TrainError::Schedule(_)) => {
                "the schedule rejected its options"
            }
            on_device::RunError::Train(TrainError::Step(_)) => "the SGD step rejected its input",
            on_device::RunError::Train(TrainError::Inject(_)) => {
                "the SGD options the schedule set were refused"
            }
            _ => "training failed",
        };
        write!(f, "{what} (`cargo run -p on-device` prints the details)")
    }
}

#[entry]
fn main() -> ! {
    stack::paint();
    if cfg!(feature = "panic-self-test") {
        panic!("panic-self-test: the panic handler must end the run with status 1");
    }
    let Ok(stdout) = hio::hstdout() else { exit(false) };
    let mut out = Host(stdout);
    #[cfg(feature = "sgd-cost")]
    let success = cost::report(&mut out) == Ok(true);
    #[cfg(not(feature = "sgd-cost"))]
    let success = train(&mut out);
    exit(success)
}

/// The training run, then the stack high-water mark; whether all of it succeeded.
#[cfg_attr(feature = "sgd-cost", allow(dead_code))] // the cost firmware does not train
fn train(out: &mut Host) -> bool {
    match on_device::run(out) {
        Ok(_) => writeln!(out, "stack high-water: {} bytes", stack::high_water()).is_ok(),
        Err(e) => {
            report_error(format_args!("on-device: {}\n", Brief(&e)));
            false
        }
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    report_error(format_args!("panic: {info}\n"));
    exit(false)
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    report_error(format_args!("hard fault at pc {:#010x}\n", frame.pc()));
    exit(false)
}

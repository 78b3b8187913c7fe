//! Cortex-M (M4F, M33, M0): cortex-m-rt's entry point and hard-fault handler, semihosting, the
//! stack pointer and the SysTick clock of the cost measurement.

use core::fmt::Write;

use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::debug;
pub(super) use cortex_m_semihosting::hio::{HostStream, hstderr, hstdout};

#[entry]
fn main() -> ! {
    exit(super::program())
}

/// Ends the QEMU run (or the debug session) with status 0 or 1.
pub(super) fn exit(success: bool) -> ! {
    debug::exit(if success { debug::EXIT_SUCCESS } else { debug::EXIT_FAILURE });
    // Without a host to end the session, stop here.
    loop {
        cortex_m::asm::wfi();
    }
}

/// The current stack pointer.
pub(super) fn stack_pointer() -> usize {
    cortex_m::register::msp::read() as usize
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    super::report_error(|err| {
        err.write_str("hard fault at pc ")?;
        super::write_address(err, frame.pc())
    });
    exit(false)
}

/// SysTick as a free-running clock for the cost measurement (under QEMU's `-icount shift=0`,
/// a fixed number of instructions per tick).
#[cfg(feature = "sgd-cost")]
pub(super) mod clock {
    use cortex_m::peripheral::SYST;
    use cortex_m::peripheral::syst::SystClkSource;

    /// Starts SysTick from the core clock, counting down over its full 24 bits.
    pub(crate) fn start() {
        // SAFETY: this program is single-threaded and nothing else uses SysTick.
        let mut syst = unsafe { cortex_m::Peripherals::steal() }.SYST;
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(0x00FF_FFFF);
        syst.clear_current();
        syst.enable_counter();
    }

    /// Ticks that `f` takes (every interval measured is far shorter than a wrap).
    pub(crate) fn ticks(f: impl FnOnce()) -> u32 {
        let start = SYST::get_current();
        f();
        let end = SYST::get_current();
        start.wrapping_sub(end) & 0x00FF_FFFF
    }

    /// `iterations` rounds of `subs; bne`: two instructions each.
    pub(crate) fn spin(iterations: u32) {
        let mut n = iterations;
        // SAFETY: a countdown in one core register; no memory, no stack.
        unsafe {
            core::arch::asm!("2:", "subs {n}, {n}, #1", "bne 2b", n = inout(reg) n, options(nomem, nostack));
        }
        core::hint::black_box(n);
    }
}

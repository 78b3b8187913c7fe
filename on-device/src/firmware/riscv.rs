//! RISC-V (`riscv32imac`, `riscv32imafc`, QEMU's `virt` in machine mode): riscv-rt's entry
//! point and exception handler, semihosting, the stack pointer and the `minstret` clock of the
//! cost measurement.

use core::fmt::Write;

use riscv_semihosting::debug;
pub(super) use riscv_semihosting::hio::{HostStream, hstderr, hstdout};

#[riscv_rt::entry]
fn main() -> ! {
    exit(super::program())
}

/// Ends the QEMU run (or the debug session) with status 0 or 1.
pub(super) fn exit(success: bool) -> ! {
    debug::exit(if success { debug::EXIT_SUCCESS } else { debug::EXIT_FAILURE });
    // Without a host to end the session, stop here.
    loop {
        riscv::asm::wfi();
    }
}

/// The current stack pointer.
pub(super) fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads the stack pointer register into a general-purpose one; no memory access.
    unsafe { core::arch::asm!("mv {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    sp
}

/// Any exception (an illegal instruction, a misaligned or faulting access) ends the run: the
/// handler riscv-rt's trap entry calls for every exception without a handler of its own.
#[unsafe(export_name = "ExceptionHandler")]
fn exception_handler(_frame: &riscv_rt::TrapFrame) -> ! {
    let (cause, pc) = (riscv::register::mcause::read().bits(), riscv::register::mepc::read());
    let (cause, pc) = (u32::try_from(cause).unwrap_or(u32::MAX), u32::try_from(pc).unwrap_or(0));
    super::report_error(|err| {
        err.write_str("exception (mcause ")?;
        super::write_address(err, cause)?;
        err.write_str(") at pc ")?;
        super::write_address(err, pc)
    });
    exit(false)
}

/// `minstret` (instructions retired; under QEMU's `-icount shift=0`, exactly the instructions
/// executed) as the clock of the cost measurement.
#[cfg(feature = "sgd-cost")]
pub(super) mod clock {
    /// Nothing to start: `minstret` always counts in machine mode.
    pub(crate) fn start() {}

    /// Instructions retired while `f` runs (32 bits; every interval measured is far shorter
    /// than a wrap).
    pub(crate) fn ticks(f: impl FnOnce()) -> u32 {
        let start = riscv::register::minstret::read();
        f();
        let end = riscv::register::minstret::read();
        u32::try_from(end.wrapping_sub(start)).unwrap_or(u32::MAX)
    }

    /// `iterations` rounds of `addi; bnez`: two instructions each.
    pub(crate) fn spin(iterations: u32) {
        let mut n = iterations;
        // SAFETY: a countdown in one register; no memory, no stack.
        unsafe {
            core::arch::asm!("2:", "addi {n}, {n}, -1", "bnez {n}, 2b", n = inout(reg) n, options(nomem, nostack));
        }
        core::hint::black_box(n);
    }
}

//! Stack high-water mark by painting: fill the free stack with a pattern at start, find the
//! lowest word that no longer holds it at the end.
//!
//! cortex-m-rt and riscv-rt both place the stack at the top of RAM (`_stack_start`, growing
//! down) and the statics at the bottom, ending at `__sheap` (both runtimes' name; the heap is
//! empty); everything between is free stack.

use core::ptr::{addr_of, read_volatile, write_volatile};

/// The paint: an odd word no computation here is likely to leave behind.
const PAINT: u32 = 0xC0DE_5A5A;

/// Bytes below the stack pointer that `paint` leaves alone (its own calls' frames).
const GUARD: usize = 256;

unsafe extern "C" {
    /// End of the statics (`.bss`, `.data`, `.uninit`), word aligned (the runtime's `link.x`).
    static __sheap: u32;
    /// Initial stack pointer: the top of RAM.
    static _stack_start: u32;
}

fn bottom() -> usize {
    addr_of!(__sheap) as usize
}

fn top() -> usize {
    addr_of!(_stack_start) as usize
}

/// Paints every free stack word from the end of the statics to `GUARD` bytes below the
/// current stack pointer.
pub(super) fn paint() {
    let sp = super::platform::stack_pointer();
    let mut word = bottom();
    while word + 4 <= sp.saturating_sub(GUARD) {
        // SAFETY: `word` lies between the end of the statics and `GUARD` bytes below the stack
        // pointer: RAM that no static and no live frame occupies (no interrupt is enabled, so
        // nothing else runs on this stack), word aligned because `__sheap` is.
        unsafe { write_volatile(word as *mut u32, PAINT) };
        word += 4;
    }
}

/// Bytes of stack ever used: from the top of RAM down to the lowest word whose paint was
/// overwritten.
pub(super) fn high_water() -> usize {
    let mut word = bottom();
    // SAFETY: every address read lies in RAM between `__sheap` and `_stack_start`, word aligned;
    // reading a word of the free stack or of a live frame is a plain load.
    while word < top() && unsafe { read_volatile(word as *const u32) } == PAINT {
        word += 4;
    }
    top() - word
}

//! x86_64 instructions the backends use besides their vector arithmetic.

use core::arch::x86_64::{_MM_HINT_T1, _mm_prefetch};

/// Asks for the cache line holding `ptr` to be brought into L2 (`prefetcht1`). A hint: it has
/// no architectural effect and never faults, whatever the address.
#[inline(always)]
pub(crate) fn prefetch_t1(ptr: *const f32) {
    // SAFETY: SSE is part of the x86_64 baseline, and a prefetch has no effect the program can
    // observe: any address, even an invalid one, is allowed.
    unsafe { _mm_prefetch::<_MM_HINT_T1>(ptr.cast::<i8>()) }
}

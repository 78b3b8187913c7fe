//! NEON backend (aarch64): 4 lanes, `vfmaq_f32` exactly where the reference uses `fma`,
//! `vdivq_f32` (a true IEEE division on AArch64) for the gradient scale. AArch64 NEON is fully
//! IEEE 754 (no flush-to-zero unless FPCR.FZ is set, which Linux leaves clear).
use core::arch::aarch64::{
    float32x4_t, vdivq_f32, vdupq_n_f32, vfmaq_f32, vld1q_f32, vmulq_f32, vnegq_f32, vst1q_f32,
};

use super::lanes::{Lanes, simd_entry};

/// Four f32 lanes; only constructed where NEON is available (see [`Lanes`]).
#[derive(Clone, Copy)]
pub(crate) struct F32x4(float32x4_t);

impl Lanes for F32x4 {
    const LANES: usize = 4;

    #[inline(always)]
    unsafe fn load(ptr: *const f32) -> Self {
        // SAFETY: the caller guarantees NEON and 4 readable floats at `ptr`.
        Self(unsafe { vld1q_f32(ptr) })
    }

    #[inline(always)]
    unsafe fn store(self, ptr: *mut f32) {
        // SAFETY: the caller guarantees 4 writable floats; NEON holds since `self` exists.
        unsafe { vst1q_f32(ptr, self.0) }
    }

    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        // SAFETY: the caller guarantees NEON.
        Self(unsafe { vdupq_n_f32(x) })
    }

    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        // SAFETY: a value of this type exists only where NEON is available.
        Self(unsafe { vmulq_f32(self.0, b.0) })
    }

    #[inline(always)]
    fn div(self, b: Self) -> Self {
        // SAFETY: a value of this type exists only where NEON is available.
        Self(unsafe { vdivq_f32(self.0, b.0) })
    }

    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        // `vfmaq_f32(a, b, c)` = `a + b * c` with one rounding.
        // SAFETY: a value of this type exists only where NEON is available.
        Self(unsafe { vfmaq_f32(c.0, self.0, b.0) })
    }

    #[inline(always)]
    fn neg(self) -> Self {
        // SAFETY: a value of this type exists only where NEON is available.
        Self(unsafe { vnegq_f32(self.0) })
    }
}

simd_entry!(F32x4, "neon", "NEON");

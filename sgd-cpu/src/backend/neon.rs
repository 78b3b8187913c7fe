//! NEON backend (aarch64): 4 lanes, `vfmaq_f32` exactly where the reference uses `fma`,
//! `vdivq_f32` (a true IEEE division on AArch64) for the gradient scale. AArch64 NEON is fully
//! IEEE 754 (no flush-to-zero unless FPCR.FZ is set, which Linux leaves clear). The 16-bit
//! kernels convert bf16 by integer operations and f16 with `fcvtl`/`fcvtn`; float64 is the
//! reference loop compiled for NEON ([`super::wide`]).
use core::arch::aarch64::{
    float32x4_t, uint16x4_t, uint32x4_t, vaddq_u32, vandq_u32, vbslq_u32, vceqq_f32, vcgtq_s32,
    vdivq_f32, vdupq_n_f32, vdupq_n_u32, veorq_u32, vfmaq_f32, vget_low_u32, vld1_u16, vld1q_f32,
    vld1q_u32, vmaxq_u32, vminq_u32, vmovn_u32, vmull_high_u32, vmull_u32, vmulq_f32, vmulq_u32,
    vnegq_f32, vnegq_s32, vorrq_u32, vreinterpretq_f32_u32, vreinterpretq_s32_u32,
    vreinterpretq_u32_f32, vreinterpretq_u32_u64, vshll_n_u16, vshlq_u32, vshrq_n_u32, vst1_u16,
    vst1q_f32, vsubq_u32, vuzp2q_u32,
};
use core::arch::asm;

use sgd_core::{Bf16, F16};

use super::half_lanes::{Conv, half_entry};
use super::lanes::{Lanes, simd_entry};
use super::sr_lanes::{Bits, lane_ops};
use super::wide_lanes::wide_entry;

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

/// Four u32 lanes (stochastic rounding); only constructed where NEON is available (see
/// [`Bits`]).
#[derive(Clone, Copy)]
pub(crate) struct U32x4(uint32x4_t);

impl Bits for U32x4 {
    type F = F32x4;

    #[inline(always)]
    unsafe fn splat(x: u32) -> Self {
        // SAFETY: the caller guarantees NEON.
        Self(unsafe { vdupq_n_u32(x) })
    }

    #[inline(always)]
    unsafe fn load(ptr: *const u32) -> Self {
        // SAFETY: the caller guarantees NEON and 4 readable values at `ptr`.
        Self(unsafe { vld1q_u32(ptr) })
    }

    #[inline(always)]
    fn from_f32(f: F32x4) -> Self {
        // SAFETY: `f` exists, so NEON is available.
        Self(unsafe { vreinterpretq_u32_f32(f.0) })
    }

    lane_ops!(add => vaddq_u32, sub => vsubq_u32, xor => veorq_u32, and => vandq_u32,
        or => vorrq_u32, min => vminq_u32, max => vmaxq_u32);

    #[inline(always)]
    fn shr_var(self, n: Self) -> Self {
        // SAFETY: a value of this type exists only where NEON is available. `ushl` by a
        // negative count shifts right (the count's low byte, -112..=0 here); by 32 or more the
        // result is 0.
        Self(unsafe { vshlq_u32(self.0, vnegq_s32(vreinterpretq_s32_u32(n.0))) })
    }

    #[inline(always)]
    fn mulhilo(self, m: u32) -> (Self, Self) {
        // SAFETY: a value of this type exists only where NEON is available.
        unsafe {
            let mv = vdupq_n_u32(m);
            let low = vmull_u32(vget_low_u32(self.0), vget_low_u32(mv));
            let high = vmull_high_u32(self.0, mv);
            let hi = vuzp2q_u32(vreinterpretq_u32_u64(low), vreinterpretq_u32_u64(high));
            (Self(hi), Self(vmulq_u32(self.0, mv)))
        }
    }

    #[inline(always)]
    fn select_gt(self, than: Self, a: Self, b: Self) -> Self {
        // SAFETY: a value of this type exists only where NEON is available.
        Self(unsafe {
            let gt = vcgtq_s32(vreinterpretq_s32_u32(self.0), vreinterpretq_s32_u32(than.0));
            vbslq_u32(gt, a.0, b.0)
        })
    }

    #[inline(always)]
    unsafe fn store_u16(self, ptr: *mut u16) {
        // SAFETY: the caller guarantees 4 writable u16; NEON holds since `self` exists.
        unsafe { vst1_u16(ptr, vmovn_u32(self.0)) }
    }
}

/// bf16 by integer operations (NEON has no bf16 conversion before the BF16 extension):
/// widening shifts, narrowing by the bit recipe of [`sgd_core::convert::f32_to_bf16`].
pub(crate) struct Bf16Int;

impl Conv for Bf16Int {
    type V = F32x4;
    type U = U32x4;
    type H = Bf16;

    #[inline(always)]
    unsafe fn load(ptr: *const Bf16) -> F32x4 {
        // SAFETY: the caller guarantees NEON and 4 readable values at `ptr`.
        F32x4(unsafe { vreinterpretq_f32_u32(vshll_n_u16::<16>(vld1_u16(ptr.cast::<u16>()))) })
    }

    #[inline(always)]
    unsafe fn store(v: F32x4, ptr: *mut Bf16) {
        // SAFETY: the caller guarantees 4 writable values; NEON holds since `v` exists.
        unsafe {
            let bits = vreinterpretq_u32_f32(v.0);
            let lsb = vandq_u32(vshrq_n_u32::<16>(bits), vdupq_n_u32(1));
            let rounded = vshrq_n_u32::<16>(vaddq_u32(vaddq_u32(bits, vdupq_n_u32(0x7fff)), lsb));
            let quiet = vorrq_u32(vshrq_n_u32::<16>(bits), vdupq_n_u32(0x40));
            let ordered = vceqq_f32(v.0, v.0);
            U32x4(vbslq_u32(ordered, rounded, quiet)).store_u16(ptr.cast::<u16>());
        }
    }
}

/// f16 with `fcvtl` / `fcvtn` (round to nearest even under Linux's default FPCR). Written as
/// inline assembly: the intrinsics take Rust's `f16` vectors, which are unstable.
pub(crate) struct F16Cvt;

impl Conv for F16Cvt {
    type V = F32x4;
    type U = U32x4;
    type H = F16;

    #[inline(always)]
    unsafe fn load(ptr: *const F16) -> F32x4 {
        // SAFETY: the caller guarantees NEON and 4 readable values at `ptr`; `fcvtl` only
        // reads and writes the two vector registers named.
        unsafe {
            let h = vld1_u16(ptr.cast::<u16>());
            let out: float32x4_t;
            asm!(
                "fcvtl {o:v}.4s, {i:v}.4h",
                o = out(vreg) out,
                i = in(vreg) h,
                options(pure, nomem, nostack, preserves_flags)
            );
            F32x4(out)
        }
    }

    #[inline(always)]
    unsafe fn store(v: F32x4, ptr: *mut F16) {
        // SAFETY: the caller guarantees 4 writable values; `fcvtn` only reads and writes the
        // two vector registers named.
        unsafe {
            let out: uint16x4_t;
            asm!(
                "fcvtn {o:v}.4h, {i:v}.4s",
                o = out(vreg) out,
                i = in(vreg) v.0,
                options(pure, nomem, nostack, preserves_flags)
            );
            vst1_u16(ptr.cast::<u16>(), out);
        }
    }
}

half_entry!(update_bf16, Bf16Int, "neon", "NEON");
half_entry!(update_f16, F16Cvt, "neon", "NEON");
wide_entry!("neon", "NEON");

//! AVX-512 backend (x86_64, AVX-512F): 16 lanes, `_mm512_fmadd_ps` exactly where the
//! reference uses `fma`, `_mm512_div_ps` for the gradient scale, `prefetcht1` for
//! [`crate::Prefetch`].
use core::arch::x86_64::{
    __m512, _MM_HINT_T1, _mm_prefetch, _mm512_castps_si512, _mm512_castsi512_ps, _mm512_div_ps,
    _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_mul_ps, _mm512_set1_epi32, _mm512_set1_ps,
    _mm512_storeu_ps, _mm512_xor_si512,
};

use super::lanes::{Lanes, simd_entry};

/// Sixteen f32 lanes; only constructed where AVX-512F is available (see [`Lanes`]).
#[derive(Clone, Copy)]
pub(crate) struct F32x16(__m512);

impl Lanes for F32x16 {
    const LANES: usize = 16;

    #[inline(always)]
    unsafe fn load(ptr: *const f32) -> Self {
        // SAFETY: the caller guarantees AVX-512F and 16 readable floats at `ptr`.
        Self(unsafe { _mm512_loadu_ps(ptr) })
    }

    #[inline(always)]
    unsafe fn store(self, ptr: *mut f32) {
        // SAFETY: the caller guarantees 16 writable floats; AVX-512F holds since `self` exists.
        unsafe { _mm512_storeu_ps(ptr, self.0) }
    }

    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        // SAFETY: the caller guarantees AVX-512F.
        Self(unsafe { _mm512_set1_ps(x) })
    }

    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        // SAFETY: a value of this type exists only where AVX-512F is available.
        Self(unsafe { _mm512_mul_ps(self.0, b.0) })
    }

    #[inline(always)]
    fn div(self, b: Self) -> Self {
        // SAFETY: a value of this type exists only where AVX-512F is available.
        Self(unsafe { _mm512_div_ps(self.0, b.0) })
    }

    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        // SAFETY: a value of this type exists only where AVX-512F is available.
        Self(unsafe { _mm512_fmadd_ps(self.0, b.0, c.0) })
    }

    #[inline(always)]
    fn neg(self) -> Self {
        // SAFETY: a value of this type exists only where AVX-512F is available.
        Self(unsafe {
            _mm512_castsi512_ps(_mm512_xor_si512(
                _mm512_castps_si512(self.0),
                _mm512_set1_epi32(i32::MIN),
            ))
        })
    }

    /// `prefetcht1`.
    #[inline(always)]
    fn prefetch_l2(ptr: *const f32) {
        // SAFETY: SSE is part of the x86_64 baseline, and a prefetch has no effect the program
        // can observe: any address, even an invalid one, is allowed.
        unsafe { _mm_prefetch::<_MM_HINT_T1>(ptr.cast::<i8>()) }
    }
}

simd_entry!(F32x16, "avx512f", "AVX-512F");

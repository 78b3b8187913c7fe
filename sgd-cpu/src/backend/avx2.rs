//! AVX2 + FMA backend (x86_64): 8 lanes, `_mm256_fmadd_ps` exactly where the reference
//! uses `fma`, `_mm256_div_ps` for the gradient scale.
use core::arch::x86_64::{
    __m256, _mm256_castsi256_ps, _mm256_div_ps, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_mul_ps,
    _mm256_set1_epi32, _mm256_set1_ps, _mm256_storeu_ps, _mm256_xor_ps,
};

use super::lanes::{Lanes, simd_entry};

/// Eight f32 lanes; only constructed where AVX2 and FMA are available (see [`Lanes`]).
#[derive(Clone, Copy)]
pub(crate) struct F32x8(__m256);

impl Lanes for F32x8 {
    const LANES: usize = 8;

    #[inline(always)]
    unsafe fn load(ptr: *const f32) -> Self {
        // SAFETY: the caller guarantees AVX and 8 readable floats at `ptr`.
        Self(unsafe { _mm256_loadu_ps(ptr) })
    }

    #[inline(always)]
    unsafe fn store(self, ptr: *mut f32) {
        // SAFETY: the caller guarantees 8 writable floats at `ptr`; AVX holds since `self` exists.
        unsafe { _mm256_storeu_ps(ptr, self.0) }
    }

    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        // SAFETY: the caller guarantees AVX.
        Self(unsafe { _mm256_set1_ps(x) })
    }

    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        // SAFETY: a value of this type exists only where AVX2 + FMA are available.
        Self(unsafe { _mm256_mul_ps(self.0, b.0) })
    }

    #[inline(always)]
    fn div(self, b: Self) -> Self {
        // SAFETY: a value of this type exists only where AVX2 + FMA are available.
        Self(unsafe { _mm256_div_ps(self.0, b.0) })
    }

    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        // SAFETY: a value of this type exists only where AVX2 + FMA are available.
        Self(unsafe { _mm256_fmadd_ps(self.0, b.0, c.0) })
    }

    #[inline(always)]
    fn neg(self) -> Self {
        // SAFETY: a value of this type exists only where AVX2 + FMA are available.
        Self(unsafe { _mm256_xor_ps(self.0, _mm256_castsi256_ps(_mm256_set1_epi32(i32::MIN))) })
    }
}

simd_entry!(F32x8, "avx2,fma", "AVX2 and FMA");

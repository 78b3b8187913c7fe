//! AVX2 + FMA backend (x86_64): 8 lanes, `_mm256_fmadd_ps` exactly where the reference
//! uses `fma`, `_mm256_div_ps` for the gradient scale. The 16-bit kernels convert bf16 by
//! integer operations and f16 with F16C (`vcvtph2ps`/`vcvtps2ph`); float64 is the reference
//! loop compiled for AVX2 + FMA ([`super::wide`]).
use core::arch::x86_64::{
    __m128i, __m256, __m256i, _CMP_UNORD_Q, _MM_FROUND_TO_NEAREST_INT, _mm_loadu_si128,
    _mm_storeu_si128, _mm256_add_epi32, _mm256_and_si256, _mm256_blend_epi32, _mm256_blendv_epi8,
    _mm256_castps_si256, _mm256_castsi256_ps, _mm256_castsi256_si128, _mm256_cmp_ps,
    _mm256_cmpgt_epi32, _mm256_cvtepu16_epi32, _mm256_cvtph_ps, _mm256_cvtps_ph, _mm256_div_ps,
    _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_loadu_si256, _mm256_max_epu32, _mm256_min_epu32,
    _mm256_mul_epu32, _mm256_mul_ps, _mm256_or_si256, _mm256_packus_epi32,
    _mm256_permute4x64_epi64, _mm256_set1_epi32, _mm256_set1_ps, _mm256_slli_epi32,
    _mm256_slli_epi64, _mm256_srli_epi32, _mm256_srli_epi64, _mm256_srlv_epi32, _mm256_storeu_ps,
    _mm256_sub_epi32, _mm256_xor_ps, _mm256_xor_si256,
};

use sgd_core::{Bf16, F16};

use super::half_lanes::{Conv, half_entry};
use super::lanes::{Lanes, simd_entry};
use super::sr_lanes::{Bits, lane_ops};
use super::wide_lanes::wide_entry;

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

/// Eight u32 lanes (stochastic rounding); only constructed where AVX2 is available (see
/// [`Bits`]).
#[derive(Clone, Copy)]
pub(crate) struct U32x8(__m256i);

#[allow(clippy::cast_possible_wrap)] // u32 bit patterns as the i32 lanes of the intrinsics
impl Bits for U32x8 {
    type F = F32x8;

    #[inline(always)]
    unsafe fn splat(x: u32) -> Self {
        // SAFETY: the caller guarantees AVX.
        Self(unsafe { _mm256_set1_epi32(x as i32) })
    }

    #[inline(always)]
    unsafe fn load(ptr: *const u32) -> Self {
        // SAFETY: the caller guarantees AVX and 8 readable values at `ptr`.
        Self(unsafe { _mm256_loadu_si256(ptr.cast::<__m256i>()) })
    }

    #[inline(always)]
    fn from_f32(f: F32x8) -> Self {
        // SAFETY: `f` exists, so AVX2 is available.
        Self(unsafe { _mm256_castps_si256(f.0) })
    }

    lane_ops!(add => _mm256_add_epi32, sub => _mm256_sub_epi32, xor => _mm256_xor_si256,
        and => _mm256_and_si256, or => _mm256_or_si256, shr_var => _mm256_srlv_epi32,
        min => _mm256_min_epu32, max => _mm256_max_epu32);

    #[inline(always)]
    fn mulhilo(self, m: u32) -> (Self, Self) {
        // SAFETY: a value of this type exists only where AVX2 is available.
        unsafe {
            let m = _mm256_set1_epi32(m as i32);
            // 64-bit products of the even lanes, then of the odd lanes.
            let even = _mm256_mul_epu32(self.0, m);
            let odd = _mm256_mul_epu32(_mm256_srli_epi64::<32>(self.0), m);
            let lo = _mm256_blend_epi32::<0b1010_1010>(even, _mm256_slli_epi64::<32>(odd));
            let hi = _mm256_blend_epi32::<0b1010_1010>(_mm256_srli_epi64::<32>(even), odd);
            (Self(hi), Self(lo))
        }
    }

    #[inline(always)]
    fn select_gt(self, than: Self, a: Self, b: Self) -> Self {
        // SAFETY: a value of this type exists only where AVX2 is available.
        Self(unsafe { _mm256_blendv_epi8(b.0, a.0, _mm256_cmpgt_epi32(self.0, than.0)) })
    }

    #[inline(always)]
    unsafe fn store_u16(self, ptr: *mut u16) {
        // SAFETY: the caller guarantees 8 writable u16; AVX2 holds since `self` exists. Every
        // lane is below 2^16, so the saturating pack is exact; it packs within 128-bit halves,
        // and the permute brings the two results' low quarters together.
        unsafe {
            let packed = _mm256_permute4x64_epi64::<0b1000>(_mm256_packus_epi32(self.0, self.0));
            _mm_storeu_si128(ptr.cast::<__m128i>(), _mm256_castsi256_si128(packed));
        }
    }
}

/// bf16 by integer operations (AVX2): widening shifts, narrowing by the bit recipe of
/// [`sgd_core::convert::f32_to_bf16`].
pub(crate) struct Bf16Int;

impl Conv for Bf16Int {
    type V = F32x8;
    type U = U32x8;
    type H = Bf16;

    #[inline(always)]
    unsafe fn load(ptr: *const Bf16) -> F32x8 {
        // SAFETY: the caller guarantees AVX2 and 8 readable values (16 bytes) at `ptr`.
        F32x8(unsafe {
            let h = _mm_loadu_si128(ptr.cast::<__m128i>());
            _mm256_castsi256_ps(_mm256_slli_epi32::<16>(_mm256_cvtepu16_epi32(h)))
        })
    }

    #[inline(always)]
    unsafe fn store(v: F32x8, ptr: *mut Bf16) {
        // SAFETY: the caller guarantees 8 writable values; AVX2 holds since `v` exists.
        unsafe {
            let x = v.0;
            let bits = _mm256_castps_si256(x);
            let lsb = _mm256_and_si256(_mm256_srli_epi32::<16>(bits), _mm256_set1_epi32(1));
            let rounded = _mm256_srli_epi32::<16>(_mm256_add_epi32(
                _mm256_add_epi32(bits, _mm256_set1_epi32(0x7fff)),
                lsb,
            ));
            let quiet = _mm256_or_si256(_mm256_srli_epi32::<16>(bits), _mm256_set1_epi32(0x40));
            let nan = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_UNORD_Q>(x, x));
            U32x8(_mm256_blendv_epi8(rounded, quiet, nan)).store_u16(ptr.cast::<u16>());
        }
    }
}

/// f16 with F16C's `vcvtph2ps` / `vcvtps2ph` (round to nearest even).
pub(crate) struct F16Cvt;

impl Conv for F16Cvt {
    type V = F32x8;
    type U = U32x8;
    type H = F16;

    #[inline(always)]
    unsafe fn load(ptr: *const F16) -> F32x8 {
        // SAFETY: only called from `update_f16`, compiled for (and run only where there are)
        // AVX2, FMA and F16C; 8 readable values at `ptr` are the caller's contract.
        F32x8(unsafe { _mm256_cvtph_ps(_mm_loadu_si128(ptr.cast::<__m128i>())) })
    }

    #[inline(always)]
    unsafe fn store(v: F32x8, ptr: *mut F16) {
        // SAFETY: as `load`, for 8 writable values.
        unsafe {
            let h = _mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(v.0);
            _mm_storeu_si128(ptr.cast::<__m128i>(), h);
        }
    }
}

half_entry!(update_bf16, Bf16Int, "avx2,fma", "AVX2 and FMA");
half_entry!(update_f16, F16Cvt, "avx2,fma,f16c", "AVX2, FMA and F16C");
wide_entry!("avx2,fma", "AVX2 and FMA");

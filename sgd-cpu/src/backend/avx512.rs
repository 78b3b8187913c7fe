//! AVX-512 backend (x86_64, AVX-512F): 16 lanes, `_mm512_fmadd_ps` exactly where the
//! reference uses `fma`, `_mm512_div_ps` for the gradient scale, `prefetcht1` for
//! [`crate::Prefetch`]. The 16-bit kernels convert with `vcvtph2ps`/`vcvtps2ph` (f16),
//! integer operations or AVX512_BF16's `vcvtneps2bf16` (bf16); float64 is the reference loop
//! compiled for AVX-512F ([`super::wide`]).
use core::arch::x86_64::{
    __m256bh, __m256i, __m512, __m512i, _CMP_UNORD_Q, _MM_FROUND_NO_EXC, _MM_FROUND_TO_NEAREST_INT,
    _MM_HINT_T1, _mm_prefetch, _mm256_loadu_si256, _mm256_storeu_si256, _mm512_add_epi32,
    _mm512_and_si512, _mm512_castps_si512, _mm512_castsi512_ps, _mm512_cmp_ps_mask,
    _mm512_cmpgt_epi32_mask, _mm512_cvtepi32_epi16, _mm512_cvtepu16_epi32, _mm512_cvtneps_pbh,
    _mm512_cvtph_ps, _mm512_cvtps_ph, _mm512_div_ps, _mm512_fmadd_ps, _mm512_loadu_ps,
    _mm512_loadu_si512, _mm512_mask_blend_epi32, _mm512_max_epu32, _mm512_min_epu32,
    _mm512_mul_epu32, _mm512_mul_ps, _mm512_or_si512, _mm512_set1_epi32, _mm512_set1_ps,
    _mm512_slli_epi32, _mm512_slli_epi64, _mm512_srli_epi32, _mm512_srli_epi64, _mm512_srlv_epi32,
    _mm512_storeu_ps, _mm512_sub_epi32, _mm512_testn_epi32_mask, _mm512_xor_si512,
};

use sgd_core::{Bf16, F16};

use super::half_lanes::{Conv, half_entry};
use super::lanes::{Lanes, simd_entry};
use super::sr_lanes::{Bits, lane_ops};
use super::wide_lanes::wide_entry;

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

/// Sixteen u32 lanes (stochastic rounding); only constructed where AVX-512F is available (see
/// [`Bits`]).
#[derive(Clone, Copy)]
pub(crate) struct U32x16(__m512i);

#[allow(clippy::cast_possible_wrap)] // u32 bit patterns as the i32 lanes of the intrinsics
impl Bits for U32x16 {
    type F = F32x16;

    #[inline(always)]
    unsafe fn splat(x: u32) -> Self {
        // SAFETY: the caller guarantees AVX-512F.
        Self(unsafe { _mm512_set1_epi32(x as i32) })
    }

    #[inline(always)]
    unsafe fn load(ptr: *const u32) -> Self {
        // SAFETY: the caller guarantees AVX-512F and 16 readable values at `ptr`.
        Self(unsafe { _mm512_loadu_si512(ptr.cast::<__m512i>()) })
    }

    #[inline(always)]
    fn from_f32(f: F32x16) -> Self {
        // SAFETY: `f` exists, so AVX-512F is available.
        Self(unsafe { _mm512_castps_si512(f.0) })
    }

    lane_ops!(add => _mm512_add_epi32, sub => _mm512_sub_epi32, xor => _mm512_xor_si512,
        and => _mm512_and_si512, or => _mm512_or_si512, shr_var => _mm512_srlv_epi32,
        min => _mm512_min_epu32, max => _mm512_max_epu32);

    #[inline(always)]
    fn mulhilo(self, m: u32) -> (Self, Self) {
        // SAFETY: a value of this type exists only where AVX-512F is available.
        unsafe {
            let m = _mm512_set1_epi32(m as i32);
            // 64-bit products of the even lanes, then of the odd lanes.
            let even = _mm512_mul_epu32(self.0, m);
            let odd = _mm512_mul_epu32(_mm512_srli_epi64::<32>(self.0), m);
            let lo = _mm512_mask_blend_epi32(0xaaaa, even, _mm512_slli_epi64::<32>(odd));
            let hi = _mm512_mask_blend_epi32(0xaaaa, _mm512_srli_epi64::<32>(even), odd);
            (Self(hi), Self(lo))
        }
    }

    #[inline(always)]
    fn select_gt(self, than: Self, a: Self, b: Self) -> Self {
        // SAFETY: a value of this type exists only where AVX-512F is available.
        Self(unsafe { _mm512_mask_blend_epi32(_mm512_cmpgt_epi32_mask(self.0, than.0), b.0, a.0) })
    }

    #[inline(always)]
    unsafe fn store_u16(self, ptr: *mut u16) {
        // SAFETY: the caller guarantees 16 writable u16; AVX-512F holds since `self` exists.
        unsafe { _mm256_storeu_si256(ptr.cast::<__m256i>(), _mm512_cvtepi32_epi16(self.0)) }
    }
}

/// bf16 by integer operations (AVX-512F): widening shifts, narrowing by the bit recipe of
/// [`sgd_core::convert::f32_to_bf16`].
pub(crate) struct Bf16Int;

/// The bf16 bits (in the low half of each lane) of `x` rounded to nearest even; NaN lanes
/// become quiet NaNs.
///
/// # Safety
/// The CPU supports AVX-512F.
#[inline(always)]
unsafe fn bf16_nearest(x: __m512) -> __m512i {
    // SAFETY: the caller guarantees AVX-512F.
    unsafe {
        let bits = _mm512_castps_si512(x);
        let lsb = _mm512_and_si512(_mm512_srli_epi32::<16>(bits), _mm512_set1_epi32(1));
        let rounded = _mm512_srli_epi32::<16>(_mm512_add_epi32(
            _mm512_add_epi32(bits, _mm512_set1_epi32(0x7fff)),
            lsb,
        ));
        let quiet = _mm512_or_si512(_mm512_srli_epi32::<16>(bits), _mm512_set1_epi32(0x40));
        let nan = _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(x, x);
        _mm512_mask_blend_epi32(nan, rounded, quiet)
    }
}

impl Conv for Bf16Int {
    type V = F32x16;
    type U = U32x16;
    type H = Bf16;

    #[inline(always)]
    unsafe fn load(ptr: *const Bf16) -> F32x16 {
        // SAFETY: the caller guarantees AVX-512F and 16 readable values (32 bytes) at `ptr`.
        F32x16(unsafe {
            let h = _mm256_loadu_si256(ptr.cast::<__m256i>());
            _mm512_castsi512_ps(_mm512_slli_epi32::<16>(_mm512_cvtepu16_epi32(h)))
        })
    }

    #[inline(always)]
    unsafe fn store(v: F32x16, ptr: *mut Bf16) {
        // SAFETY: the caller guarantees 16 writable values; AVX-512F holds since `v` exists.
        unsafe {
            _mm256_storeu_si256(ptr.cast::<__m256i>(), _mm512_cvtepi32_epi16(bf16_nearest(v.0)))
        }
    }
}

/// bf16 with AVX512_BF16's `vcvtneps2bf16` (round to nearest even) for narrowing. The
/// instruction treats subnormal inputs as zero, so a vector with a subnormal lane is narrowed
/// by [`Bf16Int`]'s integer recipe instead.
pub(crate) struct Bf16Native;

impl Conv for Bf16Native {
    type V = F32x16;
    type U = U32x16;
    type H = Bf16;

    #[inline(always)]
    unsafe fn load(ptr: *const Bf16) -> F32x16 {
        // SAFETY: forwarded from the caller.
        unsafe { Bf16Int::load(ptr) }
    }

    #[inline(always)]
    unsafe fn store(v: F32x16, ptr: *mut Bf16) {
        // SAFETY: only called from `update_bf16_native`, compiled for (and, through
        // `Kernel`, run only where there are) AVX-512F and AVX512_BF16; 16 writable values
        // at `ptr` are the caller's contract.
        unsafe {
            let bits = _mm512_castps_si512(v.0);
            let tiny = _mm512_testn_epi32_mask(bits, _mm512_set1_epi32(0x7f80_0000));
            let narrow = if tiny == 0 {
                // `__m256bh` and `__m256i` are both 256 bits of plain data.
                core::mem::transmute::<__m256bh, __m256i>(_mm512_cvtneps_pbh(v.0))
            } else {
                _mm512_cvtepi32_epi16(bf16_nearest(v.0))
            };
            _mm256_storeu_si256(ptr.cast::<__m256i>(), narrow);
        }
    }
}

/// f16 with AVX-512F's `vcvtph2ps` / `vcvtps2ph` (round to nearest even).
pub(crate) struct F16Cvt;

impl Conv for F16Cvt {
    type V = F32x16;
    type U = U32x16;
    type H = F16;

    #[inline(always)]
    unsafe fn load(ptr: *const F16) -> F32x16 {
        // SAFETY: the caller guarantees AVX-512F and 16 readable values at `ptr`.
        F32x16(unsafe { _mm512_cvtph_ps(_mm256_loadu_si256(ptr.cast::<__m256i>())) })
    }

    #[inline(always)]
    unsafe fn store(v: F32x16, ptr: *mut F16) {
        // SAFETY: the caller guarantees 16 writable values; AVX-512F holds since `v` exists.
        unsafe {
            let h = _mm512_cvtps_ph::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(v.0);
            _mm256_storeu_si256(ptr.cast::<__m256i>(), h);
        }
    }
}

half_entry!(update_bf16, Bf16Int, "avx512f", "AVX-512F");
half_entry!(update_bf16_native, Bf16Native, "avx512f,avx512bf16", "AVX-512F and AVX512_BF16");
half_entry!(update_f16, F16Cvt, "avx512f", "AVX-512F");
wide_entry!("avx512f", "AVX-512F");

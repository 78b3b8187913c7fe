//! Stochastic rounding in vectors: Philox4x32-10 on `LANES` counters at once and the bit
//! recipes of [`sgd_core::convert::f32_to_bf16_sr`] / [`sgd_core::convert::f32_to_f16_sr`] on
//! `LANES` values, generic over the ISA's 32-bit integer vector ([`Bits`]). Lane `k` of a vector
//! at element `i` of a piece gets exactly the words [`SrStream::words`]`(i + k)` gives, so the
//! SIMD kernels round to the bits of sgd-core's scalar reference (tested on every backend).
use sgd_core::philox::{M0, M1, W0, W1};
use sgd_core::{Bf16, F16, SrStream};

use super::lanes::{Lanes, MAX_LANES};

/// A vector of `LANES` u32 values with the operations Philox and the rounding recipes need.
///
/// Values only come from the `unsafe` constructors ([`Bits::splat`], [`Bits::load`],
/// [`Bits::from_f32`] of an existing float vector), whose contract is that the CPU supports the
/// ISA; the operations are therefore safe.
pub(crate) trait Bits: Copy {
    /// The float vector of the same lanes.
    type F: Lanes;
    /// All lanes `x`.
    ///
    /// # Safety
    /// The CPU supports the ISA.
    unsafe fn splat(x: u32) -> Self;
    /// Loads `LANES` values from `ptr` (no alignment needed).
    ///
    /// # Safety
    /// The CPU supports the ISA and `ptr` is valid for `LANES` reads.
    unsafe fn load(ptr: *const u32) -> Self;
    /// The bits of each lane of `f`.
    fn from_f32(f: Self::F) -> Self;
    /// Wrapping `self + b`.
    fn add(self, b: Self) -> Self;
    /// Wrapping `self - b`.
    fn sub(self, b: Self) -> Self;
    /// `self ^ b`.
    fn xor(self, b: Self) -> Self;
    /// `self & b`.
    fn and(self, b: Self) -> Self;
    /// `self | b`.
    fn or(self, b: Self) -> Self;
    /// `self >> n` per lane, `n` in `0..=112` (0 for `n >= 32`).
    fn shr_var(self, n: Self) -> Self;
    /// Unsigned minimum.
    fn min(self, b: Self) -> Self;
    /// Unsigned maximum.
    fn max(self, b: Self) -> Self;
    /// The high and low halves of the 64-bit products `self * m`.
    fn mulhilo(self, m: u32) -> (Self, Self);
    /// `self > than ? a : b` per lane, for lanes below 2^31 (a signed compare).
    fn select_gt(self, than: Self, a: Self, b: Self) -> Self;
    /// Stores the low 16 bits of each lane (every lane below 2^16) at `ptr`.
    ///
    /// # Safety
    /// `ptr` is valid for `LANES` writes of u16.
    unsafe fn store_u16(self, ptr: *mut u16);

    /// `self >> n`.
    #[inline(always)]
    fn shr(self, n: u32) -> Self {
        // SAFETY: a value of `Self` exists, so the ISA holds.
        self.shr_var(unsafe { Self::splat(n) })
    }

    /// All lanes `x`, from an existing vector (the ISA holds).
    #[inline(always)]
    fn k(self, x: u32) -> Self {
        // SAFETY: a value of `Self` exists, so the ISA holds.
        unsafe { Self::splat(x) }
    }
}

/// The [`Bits`] methods that are one instruction `$op(self, b)` of the ISA, in an impl for a
/// tuple struct over the ISA's register (whose values exist only where the ISA is available).
macro_rules! lane_ops {
    ($($name:ident => $op:ident),*) => {$(
        #[inline(always)]
        fn $name(self, b: Self) -> Self {
            // SAFETY: a value of this type exists only where its ISA is available.
            Self(unsafe { $op(self.0, b.0) })
        }
    )*};
}
pub(crate) use lane_ops;

/// The Philox words 0 and 1 of elements `i .. i + LANES` of the piece of `stream`
/// ([`SrStream::words`]): Philox4x32-10 on the counters `[j, j >> 32, tensor, step]`.
///
/// # Safety
/// The CPU supports `U`'s ISA.
#[inline(always)]
pub(crate) unsafe fn words<U: Bits>(stream: &SrStream, i: usize) -> (U, U) {
    const IOTA: [u32; MAX_LANES] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
    let lanes = <U::F as Lanes>::LANES;
    let first = stream.offset.wrapping_add(i as u64);
    // The split of the element index into counter words 0 and 1; `LANES <= 16`.
    #[allow(clippy::cast_possible_truncation)]
    let (lo, hi, last) = (first as u32, (first >> 32) as u32, lanes as u32 - 1);
    // SAFETY: the caller guarantees the ISA; the arrays hold `MAX_LANES >= LANES` values.
    let (mut c0, mut c1) = unsafe {
        if lo.checked_add(last).is_some() {
            (U::splat(lo).add(U::load(IOTA.as_ptr())), U::splat(hi))
        } else {
            // The counter's low word wraps inside this vector: lane by lane.
            let (mut a, mut b) = ([0u32; MAX_LANES], [0u32; MAX_LANES]);
            for k in 0..lanes {
                let j = first.wrapping_add(k as u64);
                #[allow(clippy::cast_possible_truncation)]
                {
                    (a[k], b[k]) = (j as u32, (j >> 32) as u32);
                }
            }
            (U::load(a.as_ptr()), U::load(b.as_ptr()))
        }
    };
    let mut c2 = c0.k(stream.tensor);
    let mut c3 = c0.k(stream.step);
    let [mut k0, mut k1] = stream.key();
    for round in 0..10 {
        if round > 0 {
            k0 = k0.wrapping_add(W0);
            k1 = k1.wrapping_add(W1);
        }
        let (hi0, lo0) = c0.mulhilo(M0);
        let (hi1, lo1) = c2.mulhilo(M1);
        (c0, c1, c2, c3) = (hi1.xor(c1).xor(c0.k(k0)), lo1, hi0.xor(c3).xor(c0.k(k1)), lo0);
    }
    (c0, c1)
}

/// A 16-bit type whose stochastic rounding has a vector recipe.
pub(crate) trait SrHalf {
    /// The bits of each lane of `x` rounded with the random word of the lane in `r` (the low 16
    /// bits of each result lane).
    fn round_sr<U: Bits>(x: U, r: U) -> U;
}

/// `f32` bits above which an `|x|` is a NaN.
const F32_INF: u32 = 0x7f80_0000;

impl SrHalf for Bf16 {
    /// [`sgd_core::convert::f32_to_bf16_sr`]: `(bits + (r >> 16)) >> 16`, NaN quieted.
    #[inline(always)]
    fn round_sr<U: Bits>(bits: U, r: U) -> U {
        let a = bits.and(bits.k(0x7fff_ffff));
        let quiet = bits.shr(16).or(bits.k(0x40));
        let rounded = bits.add(r.shr(16)).shr(16);
        a.select_gt(a.k(F32_INF), quiet, rounded)
    }
}

impl SrHalf for F16 {
    /// [`sgd_core::convert::f32_to_f16_sr`]: `Y` in units of 2^-13 f16 ulps (normal: the bits
    /// rebiased, below 2^-14: `floor(|x| * 2^37)`), `min((Y + (r >> 19)) >> 13, 0x7c00)` with the
    /// sign; NaN quieted with its top fraction bits.
    #[inline(always)]
    fn round_sr<U: Bits>(bits: U, r: U) -> U {
        let sign = bits.shr(16).and(bits.k(0x8000));
        let a = bits.and(bits.k(0x7fff_ffff));
        let e = a.shr(23);
        let implicit = a.select_gt(a.k(0x7f_ffff), a.k(0x80_0000), a.k(0));
        let m = a.and(a.k(0x7f_ffff)).or(implicit);
        // 113 - max(e, 1), with e capped at 113 (larger e are normal values, not used here).
        let shift = a.k(113).sub(e.max(a.k(1)).min(a.k(113)));
        let below = m.shr_var(shift);
        let normal = a.sub(a.k(112 << 23));
        let y = a.select_gt(a.k(0x3880_0000 - 1), normal, below);
        let h = y.add(r.shr(19)).shr(13).min(a.k(0x7c00));
        let nan = sign.or(a.k(0x7e00)).or(bits.shr(13).and(a.k(0x1ff)));
        a.select_gt(a.k(F32_INF), nan, sign.or(h))
    }
}

/// Rounds `v` to `H` with the random words `r` and stores the `LANES` results at `ptr`.
///
/// # Safety
/// `ptr` is valid for `LANES` writes (the ISA holds since `v` exists).
#[inline(always)]
pub(crate) unsafe fn store_sr<U: Bits, H: SrHalf>(v: U::F, r: U, ptr: *mut H) {
    // SAFETY: forwarded from the caller; `H` is a `repr(transparent)` u16.
    unsafe { H::round_sr(U::from_f32(v), r).store_u16(ptr.cast::<u16>()) }
}

#[cfg(all(test, feature = "std"))]
#[allow(clippy::cast_possible_truncation)] // test data: lane indices below 16
mod tests {
    use sgd_core::convert::{f32_to_bf16_sr, f32_to_f16_sr};

    use super::*;

    /// The lanes of `v`.
    fn lanes<U: Bits>(v: U) -> Vec<u32> {
        let n = <U::F as Lanes>::LANES;
        let mut out = [0u16; MAX_LANES];
        let (lo, hi) = (v.and(v.k(0xffff)), v.shr(16));
        let mut high = [0u16; MAX_LANES];
        // SAFETY: the arrays hold MAX_LANES >= LANES u16; the ISA holds since `v` exists.
        unsafe {
            lo.store_u16(out.as_mut_ptr());
            hi.store_u16(high.as_mut_ptr());
        }
        (0..n).map(|k| u32::from(out[k]) | (u32::from(high[k]) << 16)).collect()
    }

    /// Words at offsets around the wrap of counter word 0, and both recipes on every exponent,
    /// the f16 range's edges, subnormals, infinities and NaNs, against sgd-core.
    ///
    /// # Safety
    /// The CPU supports `U`'s ISA.
    unsafe fn check<U: Bits>() {
        let n = <U::F as Lanes>::LANES;
        let base = SrStream { seed: 0x0123_4567_89ab_cdef, step: 9, tensor: 3, offset: 0 };
        for offset in [0u64, 5, u64::from(u32::MAX) - 2, (7u64 << 32) + 1, u64::MAX - 1] {
            let st = SrStream { offset, ..base };
            for i in [0usize, 1, 17] {
                // SAFETY: the caller guarantees the ISA.
                let (w0, w1) = unsafe { words::<U>(&st, i) };
                for (k, (a, b)) in lanes(w0).into_iter().zip(lanes(w1)).enumerate() {
                    let want = st.words(i + k);
                    assert_eq!([a, b], [want[0], want[1]], "offset {offset} i {i} lane {k}");
                }
            }
        }
        let mut x = 0x9e37_79b9u32;
        let mut values: Vec<u32> = Vec::new();
        for e in 0..256u32 {
            for f in [0u32, 1, 0x3f_ffff, 0x40_0000, 0x7f_ffff, 0x12_3456] {
                values.push((e << 23) | f);
                values.push(0x8000_0000 | (e << 23) | f);
            }
        }
        values.extend([
            0x477f_e000,
            0x477f_f000,
            0x477f_efff,
            0x3880_0000,
            0x387f_ffff,
            0x7fc0_0001,
        ]);
        for _ in 0..4000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            values.push(x);
        }
        for chunk in values.chunks(n) {
            let mut v = [0u32; MAX_LANES];
            let mut r = [0u32; MAX_LANES];
            for (k, &b) in chunk.iter().enumerate() {
                v[k] = b;
                r[k] = b.rotate_left(7) ^ 0x5bd1_e995 ^ (k as u32).wrapping_mul(0x9e37_79b9);
            }
            // SAFETY: the caller guarantees the ISA; the arrays hold MAX_LANES values.
            let (vu, ru) = unsafe { (U::load(v.as_ptr()), U::load(r.as_ptr())) };
            let bf = lanes(Bf16::round_sr(vu, ru));
            let hf = lanes(F16::round_sr(vu, ru));
            for k in 0..chunk.len() {
                let f = f32::from_bits(v[k]);
                assert_eq!(
                    bf[k],
                    u32::from(f32_to_bf16_sr(f, r[k])),
                    "bf16 {:#x} r {:#x}",
                    v[k],
                    r[k]
                );
                assert_eq!(
                    hf[k],
                    u32::from(f32_to_f16_sr(f, r[k])),
                    "f16 {:#x} r {:#x}",
                    v[k],
                    r[k]
                );
            }
        }
    }

    #[test]
    fn vector_philox_and_recipes_are_sgd_cores_bits() {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 was just detected.
                unsafe { check::<crate::backend::avx2::U32x8>() };
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: AVX-512F was just detected.
                unsafe { check::<crate::backend::avx512::U32x16>() };
            }
        }
        #[cfg(target_arch = "aarch64")]
        // SAFETY: NEON is part of the aarch64 base ISA.
        unsafe {
            check::<crate::backend::neon::U32x4>()
        };
    }
}

//! Exact conversions between f32 and the 16-bit storage types, by integer operations (one
//! function per file, like libm): widening is exact, narrowing rounds to nearest even (torch's
//! `c10::BFloat16` / `c10::Half` conversions) or stochastically. Every SIMD conversion of
//! sgd-cpu (AVX-512 `vcvtneps2bf16` / `vcvtps2ph`, F16C, NEON `fcvtn`) is tested bit for bit
//! against these, subnormals, overflow to infinity and NaN included.
//!
//! NaN: a NaN stays a NaN (quiet, sign kept, top fraction bits kept where they fit); which NaN
//! is not part of the contract (backends agree on NaN-ness only).

mod bf16_to_f32;
mod f16_to_f32;
mod f32_to_bf16;
mod f32_to_bf16_sr;
mod f32_to_f16;
mod f32_to_f16_sr;

pub use bf16_to_f32::bf16_to_f32;
pub use f16_to_f32::f16_to_f32;
pub use f32_to_bf16::f32_to_bf16;
pub use f32_to_bf16_sr::f32_to_bf16_sr;
pub use f32_to_f16::f32_to_f16;
pub use f32_to_f16_sr::f32_to_f16_sr;

/// Bits of the absolute value of an f32 above which it is a NaN.
pub(crate) const F32_INF: u32 = 0x7f80_0000;
/// f16 infinity.
pub(crate) const F16_INF: u16 = 0x7c00;
/// `|x|` bits from which an f32 is in f16's normal range (2^-14).
pub(crate) const F16_MIN_NORMAL_AS_F32: u32 = 0x3880_0000;
/// Exponent rebias from f32 (127) to f16 (15), shifted into the f32 exponent field.
pub(crate) const F16_REBIAS: u32 = 112 << 23;

/// The f16 bits of an f32 NaN: quiet, sign and the top 9 fraction bits kept.
#[inline(always)]
#[allow(clippy::cast_possible_truncation)] // 16 bits selected by the masks
pub(crate) fn f16_nan(x: u32) -> u16 {
    (((x >> 16) & 0x8000) | 0x7e00 | ((x >> 13) & 0x1ff)) as u16
}

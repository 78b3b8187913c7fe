//! The 16-bit storage types: [`Bf16`] and [`F16`], plain bit patterns with exact widening and
//! rounded narrowing ([`crate::convert`]), and [`HalfFloat`], what the mixed-precision rule
//! ([`crate::precision`]) is generic over.

use crate::Dtype;
use crate::convert;

/// A bfloat16 value as its 16 bits (torch's `torch.bfloat16`, `c10::BFloat16`). `repr(transparent)`
/// over `u16`, so a `u16` buffer (C, CUDA, a file) views as `[Bf16]` (`bytemuck::cast_slice`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(transparent)]
pub struct Bf16(pub u16);

/// A float16 value as its 16 bits (torch's `torch.float16`, `c10::Half`, IEEE 754 binary16).
/// `repr(transparent)` over `u16`, like [`Bf16`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(transparent)]
pub struct F16(pub u16);

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Bf16 {}
    impl Sealed for super::F16 {}
}

/// A 16-bit storage type: exact widening to f32, narrowing rounded to nearest even or
/// stochastically. Implemented by [`Bf16`] and [`F16`] only.
pub trait HalfFloat:
    Copy + Default + PartialEq + core::fmt::Debug + sealed::Sealed + Send + Sync
{
    /// The dtype this type stores.
    const DTYPE: Dtype;
    /// The value, widened exactly (torch: `.float()`).
    fn to_f32(self) -> f32;
    /// `x` rounded to nearest even (torch: `.to(dtype)`).
    fn from_f32(x: f32) -> Self;
    /// `x` rounded stochastically with the random word `r` (see [`crate::convert`]).
    fn from_f32_sr(x: f32, r: u32) -> Self;
    /// The bit pattern.
    fn to_bits(self) -> u16;
}

impl HalfFloat for Bf16 {
    const DTYPE: Dtype = Dtype::Bf16;
    #[inline(always)]
    fn to_f32(self) -> f32 {
        convert::bf16_to_f32(self.0)
    }
    #[inline(always)]
    fn from_f32(x: f32) -> Self {
        Bf16(convert::f32_to_bf16(x))
    }
    #[inline(always)]
    fn from_f32_sr(x: f32, r: u32) -> Self {
        Bf16(convert::f32_to_bf16_sr(x, r))
    }
    #[inline(always)]
    fn to_bits(self) -> u16 {
        self.0
    }
}

impl HalfFloat for F16 {
    const DTYPE: Dtype = Dtype::F16;
    #[inline(always)]
    fn to_f32(self) -> f32 {
        convert::f16_to_f32(self.0)
    }
    #[inline(always)]
    fn from_f32(x: f32) -> Self {
        F16(convert::f32_to_f16(x))
    }
    #[inline(always)]
    fn from_f32_sr(x: f32, r: u32) -> Self {
        F16(convert::f32_to_f16_sr(x, r))
    }
    #[inline(always)]
    fn to_bits(self) -> u16 {
        self.0
    }
}

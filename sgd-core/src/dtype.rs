//! The element types a step stores its tensors in, and how a narrow store rounds.

use core::fmt;

/// The storage type of a tensor's elements (torch's `dtype`).
///
/// | dtype | torch | Rust element | rule |
/// |---|---|---|---|
/// | [`Dtype::F32`] | `torch.float32` | `f32` | [`crate::scalar::sgd_update`] (`SPEC.md` §4.2) |
/// | [`Dtype::F64`] | `torch.float64` | `f64` | [`crate::scalar64::sgd_update_f64`]: the same rule in f64 |
/// | [`Dtype::Bf16`] | `torch.bfloat16` | [`Bf16`](crate::Bf16) | [`crate::precision`]: widened to f32, rounded back |
/// | [`Dtype::F16`] | `torch.float16` | [`F16`](crate::F16) | [`crate::precision`]: widened to f32, rounded back |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dtype {
    /// IEEE 754 binary32.
    F32,
    /// IEEE 754 binary64.
    F64,
    /// bfloat16: the top half of a binary32 (8 exponent bits, 7 fraction bits).
    Bf16,
    /// IEEE 754 binary16 (5 exponent bits, 10 fraction bits).
    F16,
}

impl Dtype {
    /// torch's name (`"float32"`, `"float64"`, `"bfloat16"`, `"float16"`).
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "float32",
            Dtype::F64 => "float64",
            Dtype::Bf16 => "bfloat16",
            Dtype::F16 => "float16",
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F64 => 8,
            Dtype::Bf16 | Dtype::F16 => 2,
        }
    }

    /// Whether this is a 16-bit type (bf16 or f16): one that may keep an f32 master copy and
    /// round stochastically.
    pub fn is_half(self) -> bool {
        matches!(self, Dtype::Bf16 | Dtype::F16)
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How an f32 result is rounded to a 16-bit storage type (the parameter and momentum buffer of
/// bf16/f16 storage, or the master-to-model copy).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rounding {
    /// Round to nearest, ties to even (torch's `.to(dtype)` and its fused kernels).
    #[default]
    NearestEven,
    /// Stochastic rounding: random low bits from [`crate::philox`] are added before truncation
    /// ([`crate::convert::f32_to_bf16_sr`], [`crate::convert::f32_to_f16_sr`]). No torch
    /// equivalent.
    Stochastic,
}

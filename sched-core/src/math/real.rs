//! [`Real`]: the floating-point type a closed form is evaluated in, and where its
//! transcendentals come from (the platform libm with `std`, crmath and the `libm` crate
//! without).

use core::ops::{Add, Div, Mul, Neg, Sub};

use super::{PI, clib};

/// A binary floating-point type the closed forms can be evaluated in (`f64` to match
/// PyTorch; `f32` for microcontrollers without double-precision hardware).
pub trait Real:
    Copy
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + core::fmt::Debug
{
    /// `0`.
    const ZERO: Self;
    /// `1`.
    const ONE: Self;
    /// `2`.
    const TWO: Self;
    /// π rounded to this type.
    const PI: Self;
    /// Whether a closed form in this type reproduces PyTorch's f32 tensor arithmetic for a
    /// group with a 0-dim Tensor lr (`f64`: bit for bit, with f64 transcendentals as Python
    /// calls them). `f32` evaluates such a group's formula in f32 like any other, so that an
    /// f32 closed form needs no f64 transcendental (the firmware's code size).
    const TORCH_TENSOR_ARITHMETIC: bool;
    /// Rounds an `f64` to this type (round to nearest even).
    fn from_f64(x: f64) -> Self;
    /// Converts an integer (exact below 2^53 for `f64`, 2^24 for `f32`).
    fn from_i64(x: i64) -> Self;
    /// Widens to `f64` (exact).
    fn to_f64(self) -> f64;
    /// Cosine (`math.cos`).
    fn cos(self) -> Self;
    /// Natural logarithm (`math.log`).
    fn ln(self) -> Self;
    /// `self ** y` (C `pow`).
    fn pow(self, y: Self) -> Self;
    /// Round toward negative infinity (`math.floor`).
    fn floor(self) -> Self;
    /// Remainder with the sign of the dividend (C `fmod`).
    fn fmod(self, y: Self) -> Self;
    /// Square root (`math.sqrt`; IEEE-754 correctly rounded everywhere).
    fn sqrt(self) -> Self;
    /// Hyperbolic tangent (`math.tanh`).
    fn tanh(self) -> Self;
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const TWO: Self = 2.0;
    const PI: Self = PI;
    const TORCH_TENSOR_ARITHMETIC: bool = true;
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline(always)]
    #[allow(clippy::cast_precision_loss)] // documented: exact below 2^53, like Python's float(int).
    fn from_i64(x: i64) -> Self {
        x as f64
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn cos(self) -> Self {
        clib::cos(self)
    }
    #[inline(always)]
    fn ln(self) -> Self {
        clib::log(self)
    }
    #[inline(always)]
    fn pow(self, y: Self) -> Self {
        clib::pow(self, y)
    }
    #[inline(always)]
    fn floor(self) -> Self {
        libm::floor(self)
    }
    #[inline(always)]
    fn fmod(self, y: Self) -> Self {
        libm::fmod(self, y)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        libm::sqrt(self)
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        clib::tanh(self)
    }
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const TWO: Self = 2.0;
    const PI: Self = core::f32::consts::PI;
    const TORCH_TENSOR_ARITHMETIC: bool = false;
    #[inline(always)]
    #[allow(clippy::cast_possible_truncation)] // rounding f64 -> f32 is the point.
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    #[allow(clippy::cast_precision_loss)] // documented: exact below 2^24.
    fn from_i64(x: i64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline(always)]
    fn cos(self) -> Self {
        libm::cosf(self)
    }
    #[inline(always)]
    fn ln(self) -> Self {
        libm::logf(self)
    }
    #[inline(always)]
    fn pow(self, y: Self) -> Self {
        libm::powf(self, y)
    }
    #[inline(always)]
    fn floor(self) -> Self {
        libm::floorf(self)
    }
    #[inline(always)]
    fn fmod(self, y: Self) -> Self {
        libm::fmodf(self, y)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        libm::sqrtf(self)
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        libm::tanhf(self)
    }
}

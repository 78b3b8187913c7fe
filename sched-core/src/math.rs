//! The one math shim of the crate: every transcendental goes through [`Real`].
//!
//! With the `std` feature, `f64`/`f32` methods of the standard library are used; on
//! Linux they call the platform libm (glibc), the same library Python's `math` module
//! calls, so values are bit-identical to PyTorch. Without `std`, the pure-Rust
//! [`libm`] crate is used; it can differ from glibc by one or two ulp on some inputs
//! (the golden parity test measures it against every recorded `cos`/`log` call).
//!
//! All other operations (`+ - * /`, `floor`) are IEEE-754 correctly rounded and
//! identical everywhere; the crate never uses fused multiply-add for schedules,
//! because Python floats round every operation.

use core::ops::{Add, Div, Mul, Neg, Sub};

/// `math.pi` (`0x400921fb54442d18`).
pub const PI: f64 = core::f64::consts::PI;

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

#[cfg(feature = "std")]
extern crate std;

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const TWO: Self = 2.0;
    const PI: Self = PI;
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
        #[cfg(feature = "std")]
        return f64::cos(self);
        #[cfg(not(feature = "std"))]
        return crate::crmath::cos(self);
    }
    #[inline(always)]
    fn ln(self) -> Self {
        #[cfg(feature = "std")]
        return f64::ln(self);
        #[cfg(not(feature = "std"))]
        return crate::crmath::ln(self);
    }
    #[inline(always)]
    fn pow(self, y: Self) -> Self {
        #[cfg(feature = "std")]
        return f64::powf(self, y);
        #[cfg(not(feature = "std"))]
        return libm::pow(self, y);
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
        #[cfg(feature = "std")]
        return f64::tanh(self);
        #[cfg(not(feature = "std"))]
        return crate::crmath::tanh(self);
    }
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const TWO: Self = 2.0;
    const PI: Self = core::f32::consts::PI;
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

/// Distance in units in the last place between two `f64` (0 when bitwise equal,
/// `u64::MAX` when exactly one is NaN or the signs differ and neither is zero).
pub fn ulp_distance(a: f64, b: f64) -> u64 {
    if a.to_bits() == b.to_bits() || (a == 0.0 && b == 0.0) {
        return 0;
    }
    if a.is_nan() || b.is_nan() {
        return u64::MAX;
    }
    // Map the sign-magnitude bit patterns onto a monotone integer line.
    let key = |x: f64| -> i128 {
        let bits = i128::from(x.to_bits() & !(1 << 63));
        if x.is_sign_negative() { -bits } else { bits }
    };
    let d = (key(a) - key(b)).unsigned_abs();
    u64::try_from(d).unwrap_or(u64::MAX)
}

/// `cos(x)` in double-double arithmetic, rounded once: what the `no_std` build uses
/// for `f64` (see the `crmath` notes in the README: within 1 ulp of glibc, equal on all
/// but about 0.1 % of inputs).
pub fn cos_dd(x: f64) -> f64 {
    crate::crmath::cos(x)
}

/// `tanh(x)` in double-double arithmetic, rounded once (the `no_std` `f64` hyperbolic
/// tangent; glibc's is within 2 ulp of it).
pub fn tanh_dd(x: f64) -> f64 {
    crate::crmath::tanh(x)
}

/// `ln(x)` in double-double arithmetic, rounded once (the `no_std` `f64` logarithm).
pub fn ln_dd(x: f64) -> f64 {
    crate::crmath::ln(x)
}

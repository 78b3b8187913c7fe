//! The C library functions CPython's `float` and `math` call, for `f64`, in one place (what
//! [`Real`](crate::math::Real) is for the closed forms): with `std`, the `f64` methods, which
//! call the platform libm (glibc on Linux, the library CPython calls), so results are
//! Python's bits; without it the crate's own double-double `cos`, `log` and `tanh`
//! (`crmath`) and the pure-Rust `libm` crate for the rest (within a few ulp of glibc).
//! `sqrt`, `fmod`, `floor`, `ceil`, `trunc`, `round` and `copysign` are exact and come from
//! the `libm` crate either way.
//!
//! Only functions whose `std` method is the platform's C call are here: Rust's own `asinh`,
//! `acosh` and `atanh` are not glibc's, and `f64::cbrt` resolves to the `libm` crate's on
//! Linux (measured: never glibc's bits), so Python's `math.asinh`, `math.acosh`, `math.atanh`
//! and `math.cbrt` are not offered.

/// Declares each function: `std` method with `std`, else the given `no_std` path.
macro_rules! c_functions {
    ($($(#[$doc:meta])* $name:ident($($arg:ident),+) = $std:ident, $nostd:path;)*) => {
        $(
            $(#[$doc])*
            #[inline(always)]
            pub(crate) fn $name($($arg: f64),+) -> f64 {
                #[cfg(feature = "std")]
                return c_functions!(@std $std, $($arg),+);
                #[cfg(not(feature = "std"))]
                return $nostd($($arg),+);
            }
        )*
    };
    (@std $std:ident, $x:ident) => { f64::$std($x) };
    (@std $std:ident, $x:ident, $y:ident) => { f64::$std($x, $y) };
}

c_functions! {
    /// C `pow(x, y)` (Python's `float ** float`, `math.pow`).
    pow(x, y) = powf, libm::pow;
    /// C `exp`.
    exp(x) = exp, libm::exp;
    /// C `exp2`.
    exp2(x) = exp2, libm::exp2;
    /// C `expm1`.
    expm1(x) = exp_m1, libm::expm1;
    /// C `log` (natural).
    log(x) = ln, crate::math::crmath::ln;
    /// C `log2`.
    log2(x) = log2, libm::log2;
    /// C `log10`.
    log10(x) = log10, libm::log10;
    /// C `log1p`.
    log1p(x) = ln_1p, libm::log1p;
    /// C `sin`.
    sin(x) = sin, libm::sin;
    /// C `cos`.
    cos(x) = cos, crate::math::crmath::cos;
    /// C `tan`.
    tan(x) = tan, libm::tan;
    /// C `asin`.
    asin(x) = asin, libm::asin;
    /// C `acos`.
    acos(x) = acos, libm::acos;
    /// C `atan`.
    atan(x) = atan, libm::atan;
    /// C `atan2(y, x)`.
    atan2(y, x) = atan2, libm::atan2;
    /// C `sinh`.
    sinh(x) = sinh, libm::sinh;
    /// C `cosh`.
    cosh(x) = cosh, libm::cosh;
    /// C `tanh`.
    tanh(x) = tanh, crate::math::crmath::tanh;
}

pub(crate) use libm::{ceil, copysign, fabs, floor, fmod, round, sqrt, trunc};

//! The crate's numerics: the one math shim every transcendental goes through ([`Real`]),
//! the double-double `cos`/`ln`/`tanh` of the `no_std` build (`crmath`: [`cos_dd`],
//! [`ln_dd`], [`tanh_dd`]), and Python's operators where they differ from Rust's
//! (`python`: floor division, `%`, `max`, `bisect_right`), Python's
//! raising float operations for the peer families' formulas (`raising`), and the C library
//! calls of CPython's `float` and `math` for the lambda evaluator (`clib`).
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

/// `math.pi` (`0x400921fb54442d18`).
pub const PI: f64 = core::f64::consts::PI;

pub(crate) mod clib;
mod crmath;
pub(crate) mod python;
pub(crate) mod raising;
mod real;

pub use real::Real;

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
    crmath::cos(x)
}

/// `tanh(x)` in double-double arithmetic, rounded once (the `no_std` `f64` hyperbolic
/// tangent; glibc's is within 2 ulp of it).
pub fn tanh_dd(x: f64) -> f64 {
    crmath::tanh(x)
}

/// `ln(x)` in double-double arithmetic, rounded once (the `no_std` `f64` logarithm).
pub fn ln_dd(x: f64) -> f64 {
    crmath::ln(x)
}

//! One fused multiply-add with a single rounding, with or without `std`.
//!
//! `fma(a, b, c)` = `a * b + c` rounded once to f32 (IEEE 754 `fusedMultiplyAdd`). With `std`
//! this is `f32::mul_add` (a hardware instruction where the function enables FMA, otherwise the
//! platform's `fmaf`); without `std` it is `libm::fmaf`. Both are correctly rounded, so the result
//! is the same bits either way.

/// `a * b + c` with one rounding (torch's `vec::fmadd(a, b, c)`).
#[inline(always)]
pub fn fma(a: f32, b: f32, c: f32) -> f32 {
    #[cfg(feature = "std")]
    {
        a.mul_add(b, c)
    }
    #[cfg(not(feature = "std"))]
    {
        libm::fmaf(a, b, c)
    }
}

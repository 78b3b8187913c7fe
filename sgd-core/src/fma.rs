//! One fused multiply-add with a single rounding, with or without `std`.
//!
//! `fma(a, b, c)` = `a * b + c` rounded once to f32 (IEEE 754 `fusedMultiplyAdd`; PyTorch:
//! `at::vec::fmadd`, the `alpha=` of `add_` in its fused and vectorised kernels). With `std`
//! this is `f32::mul_add` (a hardware instruction where the function enables FMA, otherwise the
//! platform's `fmaf`); without `std` it is [`fmaf_exact`], the crate's integer `fmaf` (a few
//! dozen integer instructions where `libm::fmaf`'s f64 arithmetic is soft-float: Cortex-M0,
//! RISC-V), or with the `arm-vfma` feature on 32-bit Arm the FPU's `vfma.f32`. All are correctly
//! rounded, so the result is the same bits every way.

mod exact;

pub use exact::fmaf_exact;

/// `a * b + c` with one rounding (torch's `vec::fmadd(a, b, c)`).
#[inline(always)]
pub fn fma(a: f32, b: f32, c: f32) -> f32 {
    #[cfg(feature = "std")]
    {
        a.mul_add(b, c)
    }
    #[cfg(all(
        not(feature = "std"),
        feature = "arm-vfma",
        target_arch = "arm",
        target_abi = "eabihf"
    ))]
    {
        vfma(a, b, c)
    }
    #[cfg(all(
        not(feature = "std"),
        not(all(feature = "arm-vfma", target_arch = "arm", target_abi = "eabihf"))
    ))]
    {
        fmaf_exact(a, b, c)
    }
}

/// `a * b + c` in f64 with one rounding (torch's `vec::fmadd` on float64 tensors): with `std`
/// `f64::mul_add`, without it `libm::fma`; correctly rounded either way.
#[inline(always)]
pub fn fma64(a: f64, b: f64, c: f64) -> f64 {
    #[cfg(feature = "std")]
    {
        a.mul_add(b, c)
    }
    #[cfg(not(feature = "std"))]
    {
        libm::fma(a, b, c)
    }
}

/// `c + a * b` by the FPU's fused multiply-accumulate (`VFMA.F32 Sd, Sn, Sm`: one rounding, in
/// the FPSCR's rounding mode, round to nearest even after reset).
///
/// The operands travel through core registers and `s0`-`s2`, which the sequence saves and
/// restores on the stack: stable Rust cannot name Arm FPU registers in `asm!` operands (the
/// `sreg` class needs the unstable `vfp2` target feature), so the compiler must not see them
/// used. Six extra moves per call; still about ten times fewer instructions than the soft-float
/// `libm::fmaf`.
#[cfg(all(not(feature = "std"), feature = "arm-vfma", target_arch = "arm", target_abi = "eabihf"))]
#[inline(always)]
#[allow(unsafe_code)] // The crate's only unsafe block (see the `arm-vfma` feature).
fn vfma(a: f32, b: f32, c: f32) -> f32 {
    let mut acc = c.to_bits();
    // SAFETY: the sequence saves `s0`-`s2` on the stack (8-byte aligned pair plus one word,
    // restored before the end), computes in them and restores them, so no register the compiler
    // uses changes except `acc`'s; it reads and writes only its own 12 bytes below the stack
    // pointer. `vfma.f32` is in every FPU the `arm-vfma` feature is for (FPv4-SP and later); on
    // others it fails to assemble.
    unsafe {
        core::arch::asm!(
            "vpush {{s0, s1, s2}}",
            "vmov s0, {a}",
            "vmov s1, {b}",
            "vmov s2, {acc}",
            "vfma.f32 s2, s0, s1",
            "vmov {acc}, s2",
            "vpop {{s0, s1, s2}}",
            acc = inout(reg) acc,
            a = in(reg) a.to_bits(),
            b = in(reg) b.to_bits(),
            options(pure, readonly, preserves_flags),
        );
    }
    f32::from_bits(acc)
}

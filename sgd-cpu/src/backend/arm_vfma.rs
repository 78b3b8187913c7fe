//! The scalar backend's loops in Thumb-2 assembly for 32-bit Arm FPUs with VFMA (feature
//! `arm-vfma`: Cortex-M4F, M7, M33), for the configurations a training loop steps every time:
//! no gradient scale, no `maximize`, and a momentum buffer that already holds a value (or no
//! momentum). Everything else (the first momentum step, `maximize`, `grad_scale`) runs the Rust
//! reference loop.
//!
//! Why assembly: the reference's `fma` is one `vfma.f32`, but stable Rust cannot name the FPU's
//! registers in `asm!` operands (the `sreg` class needs the unstable `vfp2` target feature), so
//! an inline `vfma.f32` costs 12 instructions of moves and saves (`crate::fma`). These loops are
//! whole functions under the hard-float calling convention instead: the scalars arrive in
//! `s0`-`s3`, and `s4`-`s7`, `r12` are free to use (caller-saved in AAPCS-VFP).
//!
//! Per element, exactly the reference's operations in its order (`VFMA.F32 Sd, Sn, Sm` is
//! `Sd = Sd + Sn * Sm` with one rounding):
//!
//! ```text
//! g = grad; p = param
//! if weight decay:  g = fma(p, wd, g)                        vfma s4, s5, s1
//! momentum:         b = fma(g, 1-d, buf * m)                 vmul s6, s6, s2; vfma s6, s4, s3
//!                   d = nesterov ? fma(b, m, g) : b           vmov s7, s4; vfma s7, s6, s2
//!                   p = fma(d, -lr, p)                        vfma s5, s7, s0  (or s6)
//! plain:            p = fma(g, -lr, p)                        vfma s5, s4, s0
//! ```

use core::arch::global_asm;

use crate::StepScalars;
use crate::scalar::MomentumBuffer;

/// Bits of the `flags` argument.
const WEIGHT_DECAY: u32 = 1;
/// See [`WEIGHT_DECAY`].
const NESTEROV: u32 = 2;

/// One loop of `sgd_cpu_vfma_momentum` at local label `$label`, `r3` elements: loads the
/// gradient (`s4`), parameter (`s5`) and buffer (`s6`); the weight-decay `vfma` if `decay`
/// names it; the buffer update and store; the instructions of `update` (the parameter update,
/// through nesterov's direction or not); the parameter store; the loop branch.
macro_rules! momentum_loop {
    ($label:literal, decay: [$($decay:literal)?], update: [$($update:literal),+]) => {
        concat!(
            $label, ": vldmia r1!, {{s4}}\n",
            "    vldr s5, [r0]\n",
            "    vldr s6, [r2]\n",
            $("    ", $decay, "\n",)?
            "    vmul.f32 s6, s6, s2\n",
            "    vfma.f32 s6, s4, s3\n",
            "    vstmia r2!, {{s6}}\n",
            $("    ", $update, "\n",)+
            "    vstmia r0!, {{s5}}\n",
            "    subs r3, r3, #1\n",
            "    bne ", $label, "b",
        )
    };
}

/// One loop of `sgd_cpu_vfma_plain` at local label `$label`, `r2` elements: loads the
/// gradient (`s4`) and parameter (`s5`); the weight-decay `vfma` if `decay` names it; the
/// parameter update and store; the loop branch.
macro_rules! plain_loop {
    ($label:literal, decay: [$($decay:literal)?]) => {
        concat!(
            $label, ": vldmia r1!, {{s4}}\n",
            "    vldr s5, [r0]\n",
            $("    ", $decay, "\n",)?
            "    vfma.f32 s5, s4, s0\n",
            "    vstmia r0!, {{s5}}\n",
            "    subs r2, r2, #1\n",
            "    bne ", $label, "b",
        )
    };
}

global_asm!(
    ".syntax unified",
    ".thumb",
    // The module-level assembler does not see the target's FPU: name the smallest FPU with
    // VFMA (FPv4-SP, single precision, 16 d-registers), which the others include.
    ".fpu fpv4-sp-d16",
    // sgd_cpu_vfma_momentum(param r0, grad r1, buf r2, n r3, neg_lr s0, wd s1, m s2, 1-d s3,
    //                       flags [sp])
    ".section .text.sgd_cpu_vfma_momentum,\"ax\",%progbits",
    ".global sgd_cpu_vfma_momentum",
    ".type sgd_cpu_vfma_momentum,%function",
    ".thumb_func",
    "sgd_cpu_vfma_momentum:",
    "    cmp r3, #0",
    "    beq 9f",
    "    ldr r12, [sp]",
    "    cmp r12, #1", // weight decay, no nesterov
    "    beq 2f",
    "    cmp r12, #2", // nesterov, no weight decay
    "    beq 3f",
    "    cmp r12, #3", // both
    "    beq 4f",
    // Neither, weight decay, nesterov, both.
    momentum_loop!("1", decay: [], update: ["vfma.f32 s5, s6, s0"]),
    "    bx lr",
    momentum_loop!("2", decay: ["vfma.f32 s4, s5, s1"], update: ["vfma.f32 s5, s6, s0"]),
    "    bx lr",
    momentum_loop!("3", decay: [], update: ["vfma.f32 s4, s6, s2", "vfma.f32 s5, s4, s0"]),
    "    bx lr",
    momentum_loop!(
        "4",
        decay: ["vfma.f32 s4, s5, s1"],
        update: ["vfma.f32 s4, s6, s2", "vfma.f32 s5, s4, s0"]
    ),
    "9:  bx lr",
    ".size sgd_cpu_vfma_momentum, . - sgd_cpu_vfma_momentum",
    // sgd_cpu_vfma_plain(param r0, grad r1, n r2, neg_lr s0, wd s1, flags r3)
    ".section .text.sgd_cpu_vfma_plain,\"ax\",%progbits",
    ".global sgd_cpu_vfma_plain",
    ".type sgd_cpu_vfma_plain,%function",
    ".thumb_func",
    "sgd_cpu_vfma_plain:",
    "    cbz r2, 9f",
    "    cbnz r3, 2f",
    // No weight decay, weight decay.
    plain_loop!("1", decay: []),
    "    bx lr",
    plain_loop!("2", decay: ["vfma.f32 s4, s5, s1"]),
    "9:  bx lr",
    ".size sgd_cpu_vfma_plain, . - sgd_cpu_vfma_plain",
);

unsafe extern "C" {
    /// Momentum update of `n` elements (buffer already initialised). Reads `param`, `grad`,
    /// `buf`; writes `param`, `buf`. `flags`: [`WEIGHT_DECAY`] | [`NESTEROV`].
    fn sgd_cpu_vfma_momentum(
        param: *mut f32,
        grad: *const f32,
        buf: *mut f32,
        n: usize,
        neg_lr: f32,
        weight_decay: f32,
        momentum: f32,
        one_minus_dampening: f32,
        flags: u32,
    );

    /// Plain update of `n` elements. `flags`: [`WEIGHT_DECAY`] or 0.
    fn sgd_cpu_vfma_plain(
        param: *mut f32,
        grad: *const f32,
        n: usize,
        neg_lr: f32,
        weight_decay: f32,
        flags: u32,
    );
}

/// Runs the assembly loop for this configuration and returns `true`, or returns `false` (and
/// writes nothing) when the configuration is one the loops do not cover. Lengths: the first
/// `min` of the three lengths, as [`crate::scalar::sgd_update`].
#[inline]
pub(crate) fn update(
    s: &StepScalars,
    params: &mut [f32],
    grads: &[f32],
    momentum_buffer: Option<MomentumBuffer<'_>>,
    grad_scale: Option<f32>,
) -> bool {
    if grad_scale.is_some() || s.maximize {
        return false;
    }
    let wd = if s.has_weight_decay { WEIGHT_DECAY } else { 0 };
    match momentum_buffer {
        Some(MomentumBuffer { values: buf, first_step: first }) if s.has_momentum => {
            if first {
                return false;
            }
            let n = params.len().min(grads.len()).min(buf.len());
            let flags = wd | if s.nesterov { NESTEROV } else { 0 };
            // SAFETY: the three regions are distinct Rust slices (two `&mut`, one `&`) of at
            // least `n` elements; the function reads and writes exactly their first `n` elements
            // and follows AAPCS-VFP (it uses only caller-saved registers).
            unsafe {
                sgd_cpu_vfma_momentum(
                    params.as_mut_ptr(),
                    grads.as_ptr(),
                    buf.as_mut_ptr(),
                    n,
                    s.neg_lr,
                    s.weight_decay,
                    s.momentum,
                    s.one_minus_dampening,
                    flags,
                );
            }
        }
        _ => {
            let n = params.len().min(grads.len());
            // SAFETY: `params` and `grads` are distinct slices of at least `n` elements; the
            // function reads both and writes `params`' first `n` elements only, and follows
            // AAPCS-VFP.
            unsafe {
                sgd_cpu_vfma_plain(
                    params.as_mut_ptr(),
                    grads.as_ptr(),
                    n,
                    s.neg_lr,
                    s.weight_decay,
                    wd,
                )
            };
        }
    }
    true
}

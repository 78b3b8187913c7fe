//! Instructions per element of the SGD step on the emulated core (feature `sgd-cost`, run by
//! `scripts/on-device.sh` under QEMU's `-icount shift=0`).
//!
//! Under `-icount shift=0` every instruction advances the virtual clock by exactly 1 ns. On
//! Cortex-M, SysTick counts that clock; on RISC-V, `minstret` counts the instructions
//! themselves (`platform::clock`). A loop of known length gives the ticks per instruction, so the
//! tick count of a step gives its instructions. (QEMU's instruction count, not a cycle count: a
//! Cortex-M4F spends 1 cycle on most of these instructions, 2 or more on loads, stores and
//! branches.)

use core::fmt::{self, Write};
use core::hint::black_box;

use super::platform::clock::{spin, start, ticks};
use on_device::decimal::Fixed;
use on_device::rng::Pcg32;
use sgd_cpu::{
    Backend, MomentumBuffer, SgdConfig, StepOptions, StepScalars, TensorGroup, TensorSlot,
    fused_step, scalar,
};

/// Elements per tensor: 1024, or 256 with `small-model` (the Cortex-M0's 16 KiB of RAM hold the
/// measurement's seven arrays of 256 f32 but not of 1024).
const N: usize = if cfg!(feature = "small-model") { 256 } else { 1024 };
/// `N` in the u32 arithmetic of the counts.
#[allow(clippy::cast_possible_truncation)] // 256 or 1024: fits
const N_U32: u32 = N as u32;

/// How the scalar path's fused multiply-add is computed on this target.
const FMA: &str = if cfg!(all(target_arch = "arm", target_abi = "eabihf")) {
    "vfma.f32 (feature arm-vfma)"
} else {
    "sgd-core's exact integer fmaf"
};
/// Steps measured.
const STEPS: u32 = 8;
/// Iterations of the calibration loop (two instructions each).
const SPIN: u32 = 100_000;

#[cfg(feature = "c-baseline")]
unsafe extern "C" {
    /// `c/sgd_momentum.c`.
    fn sgd_momentum_c(
        param: *mut f32,
        grad: *const f32,
        buf: *mut f32,
        n: u32,
        neg_lr: f32,
        weight_decay: f32,
        momentum: f32,
        one_minus_dampening: f32,
    );
}

/// Instructions per element, two decimals, from ticks and the calibration.
fn per_element(ticks: u32, empty: u32, ticks_per_spin: f32, elements: u32) -> Fixed {
    let instructions = exact_f32(ticks.saturating_sub(empty)) / ticks_per_spin * 2.0;
    Fixed { value: instructions / exact_f32(elements), places: 2 }
}

/// A SysTick count (24 bits) or an element count (at most `N * STEPS`) as `f32`: exact.
#[allow(clippy::cast_precision_loss)] // below 2^24: exact
fn exact_f32(x: u32) -> f32 {
    x as f32
}

/// Measures and prints; returns whether the C loop (if linked) gave the same bits.
pub(super) fn report(out: &mut impl Write) -> Result<bool, fmt::Error> {
    start();
    let empty = ticks(|| {});
    let spin_ticks = ticks(|| spin(SPIN)).saturating_sub(empty).max(1);
    let ticks_per_spin = exact_f32(spin_ticks) / exact_f32(SPIN);
    writeln!(out, "sgd cost: calibration: {spin_ticks} clock ticks for {} instructions", 2 * SPIN)?;

    let mut rng = Pcg32::new(5, 0);
    let mut param: [f32; N] = core::array::from_fn(|_| rng.uniform(1.0));
    let grad: [f32; N] = core::array::from_fn(|_| rng.uniform(1.0));
    let mut buf = [0.0f32; N];
    let mut initialized = false;
    let config = SgdConfig { lr: 0.05, momentum: 0.9, weight_decay: 5e-4, ..SgdConfig::default() };
    let step = |param: &mut [f32; N], buf: &mut [f32; N], initialized: &mut bool| {
        let mut slots = [TensorSlot::with_momentum(param, Some(&grad), buf, initialized)];
        let mut groups = [TensorGroup { config, tensors: &mut slots }];
        fused_step(black_box(&mut groups), &StepOptions::default()).is_ok()
    };
    // The first step only copies the gradient into the buffer: measure the steps after it.
    let mut ok = step(&mut param, &mut buf, &mut initialized);
    #[cfg(feature = "c-baseline")]
    let (mut c_param, mut c_buf) = (param, buf);
    let t = ticks(|| {
        for _ in 0..STEPS {
            ok &= step(&mut param, &mut buf, &mut initialized);
        }
    });
    let elements = N_U32 * STEPS;
    writeln!(
        out,
        "sgd cost: sgd-cpu fused_step, momentum + weight decay: {} instructions per element ({N} elements x {STEPS} steps)",
        per_element(t, empty, ticks_per_spin, elements)
    )?;

    let (a, b) = (black_box(1.000_1f32), black_box(0.999_9f32));
    let mut acc = 0.0f32;
    let t_fma = ticks(|| (0..N).for_each(|_| acc = sgd_cpu::fma::fma(a, b, black_box(acc))));
    let t_libm = ticks(|| (0..N).for_each(|_| acc = libm::fmaf(a, b, black_box(acc))));
    black_box(acc);
    writeln!(
        out,
        "sgd cost: one fused multiply-add: {} instructions with {FMA}, {} with libm::fmaf",
        per_element(t_fma, empty, ticks_per_spin, N_U32),
        per_element(t_libm, empty, ticks_per_spin, N_U32),
    )?;

    #[cfg(feature = "c-baseline")]
    {
        let s = StepScalars::from_config(&config);
        let t = ticks(|| {
            for _ in 0..STEPS {
                // SAFETY: three distinct arrays of N elements each; the function reads and
                // writes exactly N elements of each.
                unsafe {
                    sgd_momentum_c(
                        black_box(c_param.as_mut_ptr()),
                        grad.as_ptr(),
                        c_buf.as_mut_ptr(),
                        N as u32,
                        s.neg_lr,
                        s.weight_decay,
                        s.momentum,
                        s.one_minus_dampening,
                    )
                };
            }
        });
        let same = c_param
            .iter()
            .chain(&c_buf)
            .zip(param.iter().chain(&buf))
            .all(|(x, y)| x.to_bits() == y.to_bits());
        writeln!(
            out,
            "sgd cost: plain C loop (arm-none-eabi-gcc -O2), same arithmetic: {} instructions per element; same bits as sgd-cpu: {}",
            per_element(t, empty, ticks_per_spin, elements),
            if same { "yes" } else { "NO" }
        )?;
        ok &= same;
    }
    ok &= check_backend(out, &mut rng)?;
    Ok(ok)
}

/// Runs every step configuration through the scalar backend (on the hard-float Arm cores the
/// assembly loops of feature `arm-vfma` where they apply) and through the Rust reference loop, on data with zeros of both
/// signs, infinities, NaNs, subnormals and huge values, and compares the results: NaN where the
/// reference has NaN, the same bits everywhere else. Prints one line; returns whether all agree.
fn check_backend(out: &mut impl Write, rng: &mut Pcg32) -> Result<bool, fmt::Error> {
    const SPECIAL: [f32; 8] =
        [0.0, -0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 1e-40, -3e38, 3e38];
    let mut value =
        |i: usize| if i % 13 == 7 { SPECIAL[(i / 13) % SPECIAL.len()] } else { rng.uniform(2.0) };
    let param: [f32; N] = core::array::from_fn(&mut value);
    let grad: [f32; N] = core::array::from_fn(&mut value);
    let buf: [f32; N] = core::array::from_fn(&mut value);
    let same = |a: &[f32], b: &[f32]| {
        a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
    };
    let (mut configurations, mut failures) = (0u32, 0u32);
    for bits in 0u32..64 {
        let (momentum, first) = match bits % 3 {
            0 => (0.0, false),
            1 => (0.9, false),
            _ => (0.9, true),
        };
        let nesterov = bits & 4 != 0 && momentum != 0.0;
        let config = SgdConfig {
            lr: 0.05,
            momentum,
            dampening: if nesterov { 0.0 } else { 0.25 },
            weight_decay: if bits & 8 != 0 { 5e-4 } else { 0.0 },
            nesterov,
            maximize: bits & 16 != 0,
        };
        let grad_scale = if bits & 32 != 0 { Some(0.5) } else { None };
        let s = StepScalars::from_config(&config);
        let (mut p1, mut b1, mut p2, mut b2) = (param, buf, param, buf);
        let backend = Backend::Scalar.update(
            &s,
            &mut p1,
            &grad,
            Some(MomentumBuffer::new(&mut b1, first)),
            grad_scale,
        );
        scalar::sgd_update(
            &s,
            &mut p2,
            &grad,
            Some(MomentumBuffer::new(&mut b2, first)),
            grad_scale,
        );
        configurations += 1;
        if backend.is_err() || !same(&p1, &p2) || !same(&b1, &b2) {
            failures += 1;
            writeln!(
                out,
                "sgd check: configuration {bits}: the scalar backend differs from the reference"
            )?;
        }
    }
    writeln!(
        out,
        "sgd check: {configurations} configurations x {N} elements (with zeros, infinities, NaNs, subnormals): scalar backend{} vs the Rust reference: {}",
        if cfg!(all(target_arch = "arm", target_abi = "eabihf")) {
            " (assembly loops)"
        } else {
            ""
        },
        if failures == 0 { "same bits" } else { "DIFFERENT" }
    )?;
    Ok(failures == 0)
}

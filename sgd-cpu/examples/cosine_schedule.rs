//! Two parameter groups trained with `sgd_cpu::Sgd`, each with its own learning rate fed
//! every step by a `sched_core::CosineAnnealingLr` through `sgd_cpu::inject_hyperparams`
//! (torch: `CosineAnnealingLR(opt, T_max)` over `SGD([{params: weights, ...}, {params: bias,
//! ...}])`).
//!
//! The task: least-squares regression `y = W x + b` on synthetic data (8 inputs, 4 outputs,
//! 256 samples, no noise). Group 0 (weights): lr 0.1, momentum 0.9, Nesterov, weight decay 1e-4.
//! Group 1 (bias): lr 0.05, momentum 0.9, no weight decay.
//!
//! Run: `cargo run -p sgd-cpu --example cosine_schedule`
// An example: errors abort with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// An example: a 24-bit integer, 2^24 and the sample count (256) as f32 are exact.
#![allow(clippy::cast_precision_loss)]

use sched_core::{CosineAnnealingLr, CosineAnnealingLrConfig, ParamGroup};
use sgd_cpu::{GroupSpec, Sgd, SgdConfig, SgdError, inject_hyperparams};

const INPUTS: usize = 8;
const OUTPUTS: usize = 4;
const SAMPLES: usize = 256;
const EPOCHS: u64 = 60;

/// A small deterministic generator in [-1, 1).
fn uniform(state: &mut u64) -> f32 {
    *state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
    ((*state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
}

/// Mean squared error of `W x + b` and its gradients (written into `gw`, `gb`).
fn loss_and_grads(
    w: &[f32],
    b: &[f32],
    xs: &[f32],
    ys: &[f32],
    gw: &mut [f32],
    gb: &mut [f32],
) -> f32 {
    gw.fill(0.0);
    gb.fill(0.0);
    let mut loss = 0.0;
    for (x, y) in xs.chunks_exact(INPUTS).zip(ys.chunks_exact(OUTPUTS)) {
        for o in 0..OUTPUTS {
            let pred: f32 =
                w[o * INPUTS..(o + 1) * INPUTS].iter().zip(x).map(|(w, x)| w * x).sum::<f32>()
                    + b[o];
            let err = pred - y[o];
            loss += err * err;
            let d = 2.0 * err / SAMPLES as f32;
            gb[o] += d;
            for (g, xi) in gw[o * INPUTS..(o + 1) * INPUTS].iter_mut().zip(x) {
                *g += d * xi;
            }
        }
    }
    loss / SAMPLES as f32
}

fn main() -> Result<(), SgdError> {
    // Synthetic data from a hidden linear map.
    let mut rng = 42u64;
    let true_w: Vec<f32> = (0..OUTPUTS * INPUTS).map(|_| uniform(&mut rng)).collect();
    let true_b: Vec<f32> = (0..OUTPUTS).map(|_| 2.0 * uniform(&mut rng)).collect();
    let xs: Vec<f32> = (0..SAMPLES * INPUTS).map(|_| uniform(&mut rng)).collect();
    let ys: Vec<f32> = xs
        .chunks_exact(INPUTS)
        .flat_map(|x| {
            let (tw, tb) = (&true_w, &true_b);
            (0..OUTPUTS).map(move |o| {
                tw[o * INPUTS..(o + 1) * INPUTS].iter().zip(x).map(|(w, x)| w * x).sum::<f32>()
                    + tb[o]
            })
        })
        .collect();

    let weights = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        nesterov: true,
        weight_decay: 1e-4,
        ..SgdConfig::default()
    };
    let bias = SgdConfig { lr: 0.05, momentum: 0.9, ..SgdConfig::default() };
    let mut sgd = Sgd::new(vec![
        GroupSpec { config: weights, numels: vec![OUTPUTS * INPUTS] },
        GroupSpec { config: bias, numels: vec![OUTPUTS] },
    ])?;
    // The scheduler's view of the two groups; its step() writes each group's next lr.
    let mut groups = [weights, bias].map(|c| ParamGroup::new(c.lr).with_momentum(c.momentum));
    let mut sched = CosineAnnealingLr::new(CosineAnnealingLrConfig::new(EPOCHS), &mut groups)
        .expect("scheduler");

    let mut w = vec![0.0f32; OUTPUTS * INPUTS];
    let mut b = vec![0.0f32; OUTPUTS];
    let (mut gw, mut gb) = (vec![0.0f32; w.len()], vec![0.0f32; b.len()]);
    let first_loss = loss_and_grads(&w, &b, &xs, &ys, &mut gw, &mut gb);
    let mut loss = first_loss;
    println!("epoch  lr(weights)  lr(bias)     loss");
    for epoch in 0..EPOCHS {
        // Feed this step's per-group learning rates into the optimizer.
        inject_hyperparams(&groups, &mut sgd)?;
        loss = loss_and_grads(&w, &b, &xs, &ys, &mut gw, &mut gb);
        if epoch % 10 == 0 || epoch + 1 == EPOCHS {
            println!("{epoch:5}  {:11.6}  {:9.6}  {loss:.6}", groups[0].lr, groups[1].lr);
        }
        sgd.step(&mut [&mut w, &mut b], &[Some(&gw), Some(&gb)])?;
        sched.step(&mut groups).expect("scheduler step");
    }
    let final_loss = loss_and_grads(&w, &b, &xs, &ys, &mut gw, &mut gb);
    println!(
        "loss {first_loss:.4} -> {final_loss:.6} (last epoch {loss:.6}); backend {}",
        sgd_cpu::Backend::active()
    );
    assert!(final_loss < first_loss * 0.01, "training did not converge");
    Ok(())
}

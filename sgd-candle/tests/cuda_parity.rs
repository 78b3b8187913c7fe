//! sgd-candle on candle CUDA variables (feature `cuda`): bit for bit sgd-cpu's scalar reference,
//! in one launch for every variable, on candle's stream. Each test prints why it skips when no
//! GPU can be opened (`SGD_CUDA_REQUIRE_GPU=1` makes that a failure, as `scripts/gpu-check.sh`
//! does).
#![cfg(feature = "cuda")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failure is the assertion
#![allow(missing_docs)]
// Test code: small indices as f32 are exact.
#![allow(clippy::cast_precision_loss)]

mod common;

use candle_core::{Device, Tensor, Var};
use common::{Host, Rng, assert_same, grads_of, three_groups};
use sched_core::{OneCycleLr, OneCycleLrConfig, Scheduler};
use sgd_candle::{CandleSgd, CandleSgdError, ScheduleEvery, VarGroup};
use sgd_cpu::scalar::sgd_update;
use sgd_cpu::{MomentumBuffer, SgdConfig, StepOutcome, StepScalars};

/// candle's CUDA device 0, or `None` after printing why the test skips.
fn gpu_or_skip(test: &str) -> Option<Device> {
    match Device::new_cuda(0) {
        Ok(d) => Some(d),
        Err(e) => {
            assert!(
                std::env::var_os("SGD_CUDA_REQUIRE_GPU").is_none(),
                "{test}: SGD_CUDA_REQUIRE_GPU is set but candle opened no CUDA device: {e}"
            );
            eprintln!("skipping {test}: no CUDA device ({e})");
            None
        }
    }
}

fn values(v: &Var) -> Vec<f32> {
    v.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

/// Groups with nesterov, dampening, weight decay and maximize; variables without a gradient in
/// some steps; one group on the CPU beside the CUDA ones; a gradient scale for two steps and a
/// skipped (found-inf) step: every variable and momentum buffer equals the scalar reference.
#[test]
fn cuda_steps_equal_the_scalar_reference_bit_for_bit() {
    let Some(gpu) = gpu_or_skip("cuda_steps_equal_the_scalar_reference") else { return };
    let [a, b, c] = three_groups();
    let configs = [a, b, c, SgdConfig { lr: 0.02, momentum: 0.5, ..SgdConfig::default() }];
    // Odd lengths (scalar tails, unaligned sub-chunks), more than a chunk (4096), one group
    // (the last) on the CPU.
    let sizes: [&[usize]; 4] = [&[7, 10_000, 33], &[64, 1, 4097], &[4099, 2], &[5, 300]];
    let devices = [&gpu, &gpu, &gpu, &Device::Cpu];
    let mut rng = Rng(0xC0DA);
    let (mut vars, mut host, mut groups, mut group_of) = (vec![], vec![], vec![], vec![]);
    for (g, ((config, sizes), device)) in configs.iter().zip(sizes).zip(devices).enumerate() {
        let mut gv = Vec::new();
        for &n in sizes {
            let init = rng.vec(n);
            let v = Var::from_slice(&init, n, device).unwrap();
            host.push(Host { p: init, buf: vec![0.0; n], first: true });
            vars.push(v.clone());
            gv.push(v);
            group_of.push(g);
        }
        groups.push(VarGroup { vars: gv, config: *config });
    }
    let mut opt = CandleSgd::new(groups).unwrap();
    for step in 0..8 {
        let scale = (step == 2 || step == 3).then_some(4.0f32);
        let found_inf = step == 5;
        opt.set_grad_scale(scale);
        opt.set_found_inf(found_inf);
        let mut pairs = Vec::new();
        for (i, v) in vars.iter().enumerate() {
            // Variable 1 has no gradient at step 0, variable 4 none at step 3.
            if (i, step) == (1, 0) || (i, step) == (4, 3) {
                continue;
            }
            let g = rng.vec(v.elem_count());
            if !found_inf {
                let s = StepScalars::from_config(&configs[group_of[i]]);
                let h = &mut host[i];
                let buf = s.has_momentum.then_some(MomentumBuffer::new(&mut h.buf[..], h.first));
                sgd_update(&s, &mut h.p, &g, buf, scale);
                h.first &= !s.has_momentum;
            }
            pairs.push((v, g));
        }
        opt.step(&grads_of(&pairs)).unwrap();
        for (i, v) in vars.iter().enumerate() {
            assert_same(&values(v), &host[i].p, &format!("step {step} var {i}"));
        }
    }
    for (i, h) in host.iter().enumerate() {
        let (g, first) = (group_of[i], group_of[..i].iter().filter(|&&x| x == group_of[i]).count());
        let got = opt.momentum_to_vec(g, first).unwrap();
        if configs[g].momentum == 0.0 {
            assert!(got.is_none(), "group {g} has no momentum");
        } else {
            assert_same(&got.unwrap(), &h.buf, &format!("momentum of var {i}"));
        }
    }
}

/// A schedule that cycles momentum (OneCycleLR) changes the group options every step: the
/// device step follows, bit for bit.
#[test]
fn a_schedule_cycling_momentum_drives_the_cuda_step() {
    let Some(gpu) = gpu_or_skip("a_schedule_cycling_momentum") else { return };
    let mut rng = Rng(77);
    let init = rng.vec(5000);
    let config = SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() };
    let build = |device: &Device| {
        let v = Var::from_slice(&init, 5000, device).unwrap();
        let opt = CandleSgd::new(vec![VarGroup { vars: vec![v.clone()], config }])
            .unwrap()
            .with_schedule(
                |groups| {
                    Ok(Scheduler::OneCycle(OneCycleLr::new(
                        OneCycleLrConfig::new(0.5, 20),
                        groups,
                    )?))
                },
                ScheduleEvery::Step,
            )
            .unwrap();
        (v, opt)
    };
    let (on_gpu, mut gpu_opt) = build(&gpu);
    let (on_cpu, mut cpu_opt) = build(&Device::Cpu);
    for step in 0..12 {
        let g = rng.vec(5000);
        gpu_opt.step(&grads_of(&[(&on_gpu, g.clone())])).unwrap();
        cpu_opt.step(&grads_of(&[(&on_cpu, g)])).unwrap();
        assert_same(&values(&on_gpu), &values(&on_cpu), &format!("step {step}"));
        assert_eq!(gpu_opt.group_lr(0).unwrap().to_bits(), cpu_opt.group_lr(0).unwrap().to_bits());
    }
}

/// 300 variables in one step (the CPU path nests at most `MAX_NESTED` per pass; the CUDA path
/// takes them all in one launch).
#[test]
fn many_cuda_variables_in_one_step() {
    let Some(gpu) = gpu_or_skip("many_cuda_variables_in_one_step") else { return };
    let vars: Vec<Var> =
        (0..300).map(|i| Var::from_slice(&[i as f32; 3], 3, &gpu).unwrap()).collect();
    let config = SgdConfig { lr: 1.0, ..SgdConfig::default() };
    let mut opt = CandleSgd::new(vec![VarGroup { vars: vars.clone(), config }]).unwrap();
    let outcome =
        opt.step(&grads_of(&vars.iter().map(|v| (v, vec![1.0; 3])).collect::<Vec<_>>())).unwrap();
    assert!(
        matches!(outcome, StepOutcome::Applied { tensors: 300, elements: 900, .. }),
        "{outcome:?}"
    );
    for (i, v) in vars.iter().enumerate() {
        assert_eq!(values(v), [i as f32 - 1.0; 3]);
    }
}

/// A gradient on the CPU for a CUDA variable is refused, naming the variable, and nothing is
/// written (not even the CPU group's variables).
#[test]
fn a_gradient_on_another_device_is_a_typed_error_and_writes_nothing() {
    let Some(gpu) = gpu_or_skip("a_gradient_on_another_device") else { return };
    let on_cpu = Var::from_slice(&[1.0f32, 2.0], 2, &Device::Cpu).unwrap();
    let on_gpu = Var::from_slice(&[3.0f32, 4.0], 2, &gpu).unwrap();
    let config = SgdConfig { lr: 1.0, ..SgdConfig::default() };
    let mut opt = CandleSgd::new(vec![
        VarGroup { vars: vec![on_cpu.clone()], config },
        VarGroup { vars: vec![on_gpu.clone()], config },
    ])
    .unwrap();
    let mut grads = grads_of(&[(&on_cpu, vec![1.0, 1.0])]);
    grads.insert(on_gpu.as_tensor(), Tensor::from_slice(&[1.0f32, 1.0], 2, &Device::Cpu).unwrap());
    let err = opt.step(&grads).unwrap_err();
    assert!(matches!(err, CandleSgdError::DeviceMismatch { group: 1, var: 0 }), "{err}");
    assert_eq!(values(&on_cpu), [1.0, 2.0]);
    assert_eq!(values(&on_gpu), [3.0, 4.0]);
}

/// A CUDA variable in two groups, and a gradient that is its own variable's storage, are
/// refused (naming both), and nothing is written; each storage is read-locked once at a time, so
/// neither can deadlock.
#[test]
fn shared_cuda_storage_is_a_typed_error_and_writes_nothing() {
    let Some(gpu) = gpu_or_skip("shared_cuda_storage") else { return };
    let w = Var::from_slice(&[1.0f32, 2.0, 3.0], 3, &gpu).unwrap();
    let config = SgdConfig { lr: 0.5, momentum: 0.9, ..SgdConfig::default() };
    let err = CandleSgd::new(vec![
        VarGroup { vars: vec![w.clone()], config },
        VarGroup { vars: vec![w.clone()], config },
    ])
    .unwrap_err();
    assert!(
        matches!(err, CandleSgdError::SharedStorage { first: (0, 0), second: (1, 0) }),
        "{err}"
    );
    let other = Var::from_slice(&[5.0f32, 6.0, 7.0], 3, &gpu).unwrap();
    let mut opt =
        CandleSgd::new(vec![VarGroup { vars: vec![w.clone(), other.clone()], config }]).unwrap();
    // The gradient of `other` is `w`'s storage: the step would write what it reads.
    let mut grads = grads_of(&[(&w, vec![1.0, 1.0, 1.0])]);
    grads.insert(other.as_tensor(), w.as_tensor().clone());
    let err = opt.step(&grads).unwrap_err();
    assert!(matches!(err, CandleSgdError::SharedStorage { .. }), "{err}");
    assert_eq!(values(&w), [1.0, 2.0, 3.0]);
    assert_eq!(values(&other), [5.0, 6.0, 7.0]);
    assert!(opt.momentum_to_vec(0, 0).unwrap().is_none(), "no momentum step happened");
}

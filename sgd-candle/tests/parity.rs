//! sgd-candle against sgd-cpu's scalar reference (bit for bit), against candle's own `SGD`
//! where their arithmetic coincides, with schedules, and its typed errors.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failure is the assertion
#![allow(missing_docs)]
// Test code: 24-bit random integers, powers of two and small indices as f32 are exact.
#![allow(clippy::cast_precision_loss)]

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::Optimizer;
use sched_core::{
    CosineAnnealingLr, CosineAnnealingLrConfig, LinearLr, LinearLrConfig, OneCycleLr,
    OneCycleLrConfig, ParamGroup, Scheduler, SequentialLr,
};
use sgd_candle::{CandleSgd, CandleSgdError, ScheduleEvery, VarGroup};
use sgd_cpu::scalar::sgd_update;
use sgd_cpu::{ConfigError, MomentumBuffer, SgdConfig, SgdError, StepOutcome, StepScalars};

mod common;

use common::{Host, Rng, assert_same, grads_of, three_groups};

#[test]
fn steps_equal_the_scalar_reference_bit_for_bit() {
    let configs = three_groups();
    let sizes: [&[usize]; 3] = [&[7, 1000, 33], &[64, 1], &[4097, 2]];
    let mut rng = Rng(0x1234_5678);
    let mut vars = Vec::new();
    let mut host = Vec::new();
    let mut groups = Vec::new();
    for (config, sizes) in configs.iter().zip(sizes) {
        let mut gv = Vec::new();
        for &n in sizes {
            let init = rng.vec(n);
            let v = Var::from_slice(&init, n, &Device::Cpu).unwrap();
            host.push(Host { p: init, buf: vec![0.0; n], first: true });
            vars.push(v.clone());
            gv.push(v);
        }
        groups.push(VarGroup { vars: gv, config: *config });
    }
    let group_of: Vec<usize> =
        sizes.iter().enumerate().flat_map(|(g, s)| core::iter::repeat_n(g, s.len())).collect();
    let mut opt = CandleSgd::new(groups).unwrap().with_threads(2).unwrap();
    for step in 0..6 {
        // Variable 1 has no gradient at step 0 and variable 4 none at step 3 (skipped, as
        // torch skips `p.grad is None`).
        let mut pairs = Vec::new();
        for (i, v) in vars.iter().enumerate() {
            if (i, step) == (1, 0) || (i, step) == (4, 3) {
                continue;
            }
            let g = rng.vec(v.elem_count());
            let s = StepScalars::from_config(&configs[group_of[i]]);
            let h = &mut host[i];
            let buf = (s.has_momentum).then_some(MomentumBuffer::new(&mut h.buf[..], h.first));
            sgd_update(&s, &mut h.p, &g, buf, None);
            h.first &= !s.has_momentum;
            pairs.push((v, g));
        }
        opt.step(&grads_of(&pairs)).unwrap();
        for (i, v) in vars.iter().enumerate() {
            assert_same(
                &v.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
                &host[i].p,
                &format!("step {step} var {i}"),
            );
        }
    }
    assert_same(opt.momentum_buffer(0, 1).unwrap(), &host[1].buf, "momentum buffer");
    assert!(opt.momentum_buffer(2, 0).is_none(), "a group without momentum has no buffer");
}

#[test]
fn grad_scale_and_found_inf() {
    let v = Var::from_slice(&[1.0f32, -2.0, 3.0], 3, &Device::Cpu).unwrap();
    let config = SgdConfig { lr: 0.5, momentum: 0.9, ..SgdConfig::default() };
    let mut opt = CandleSgd::new(vec![VarGroup { vars: vec![v.clone()], config }]).unwrap();
    let grads = grads_of(&[(&v, vec![4.0, 8.0, -2.0])]);
    opt.set_found_inf(true);
    opt.step(&grads).unwrap();
    assert_eq!(v.to_vec1::<f32>().unwrap(), [1.0, -2.0, 3.0], "skipped step writes nothing");
    assert!(opt.momentum_buffer(0, 0).is_none());
    opt.set_found_inf(false);
    opt.set_grad_scale(Some(2.0));
    opt.step(&grads).unwrap();
    // g / 2 = [2, 4, -1]; first step: buf = g; p -= 0.5 * g.
    assert_eq!(v.to_vec1::<f32>().unwrap(), [0.0, -4.0, 3.5]);
}

#[test]
fn plain_sgd_equals_candles_sgd_where_lr_times_grad_is_exact() {
    // candle's SGD computes `p - (g * lr)` with two roundings, torch (and sgd-cpu) `p + (-lr) * g`
    // with one (a fused multiply-add): the same bits whenever `g * lr` is exact, e.g. for a
    // power-of-two lr; otherwise apart by at most the rounding of `g * lr` (half an ulp of the
    // product) plus one of the result, which can be many ulps of a result near zero.
    let mut rng = Rng(99);
    let init = rng.vec(5000);
    let grad = rng.vec(5000);
    let run = |lr: f64, ours: bool| {
        let v = Var::from_slice(&init, 5000, &Device::Cpu).unwrap();
        let grads = grads_of(&[(&v, grad.clone())]);
        if ours {
            let config = SgdConfig { lr, ..SgdConfig::default() };
            let mut opt = CandleSgd::new(vec![VarGroup { vars: vec![v.clone()], config }]).unwrap();
            Optimizer::step(&mut opt, &grads).unwrap();
        } else {
            let mut opt = candle_nn::SGD::new(vec![v.clone()], lr).unwrap();
            opt.step(&grads).unwrap();
        }
        v.to_vec1::<f32>().unwrap()
    };
    assert_same(&run(0.25, true), &run(0.25, false), "lr 0.25");
    let (ours, theirs) = (run(0.1, true), run(0.1, false));
    let differ = ours.iter().zip(&theirs).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
    assert!(differ > 0, "lr 0.1: two roundings vs one should differ somewhere");
    for ((a, b), g) in ours.iter().zip(&theirs).zip(&grad) {
        let bound = f32::EPSILON * (0.1 * g.abs() + a.abs());
        assert!((a - b).abs() <= bound, "{a} vs {b} (g = {g})");
    }
}

#[test]
fn schedules_drive_the_groups_per_step_and_per_epoch() {
    let make = || Var::from_slice(&[1.0f32; 8], 8, &Device::Cpu).unwrap();
    let (w, b) = (make(), make());
    let groups = vec![
        VarGroup {
            vars: vec![w.clone()],
            config: SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() },
        },
        VarGroup {
            vars: vec![b.clone()],
            config: SgdConfig { lr: 0.02, momentum: 0.9, ..SgdConfig::default() },
        },
    ];
    // Per step: OneCycleLR, with the momentum it cycles.
    let mut opt = CandleSgd::new(groups.clone())
        .unwrap()
        .with_schedule(
            |g| Ok(Scheduler::OneCycle(OneCycleLr::new(OneCycleLrConfig::new(0.5, 20), g)?)),
            ScheduleEvery::Step,
        )
        .unwrap();
    let mut reference =
        vec![ParamGroup::new(0.1).with_momentum(0.9), ParamGroup::new(0.02).with_momentum(0.9)];
    let mut sched = OneCycleLr::new(OneCycleLrConfig::new(0.5, 20), &mut reference).unwrap();
    let grads = grads_of(&[(&w, vec![0.01; 8]), (&b, vec![0.01; 8])]);
    for step in 0..10 {
        assert_eq!(opt.group_lr(0).unwrap().to_bits(), reference[0].lr.to_bits(), "step {step}");
        assert_eq!(opt.group_lr(1).unwrap().to_bits(), reference[1].lr.to_bits(), "step {step}");
        opt.step(&grads).unwrap();
        sched.step(&mut reference).unwrap();
    }
    // Per epoch: warmup + cosine as a SequentialLR whose children live on the stack.
    let mut reference = [ParamGroup::new(0.1), ParamGroup::new(0.02)];
    fn build<'a>(g: &mut [ParamGroup]) -> Result<[Scheduler<'a>; 2], sched_core::SchedError> {
        let warm = LinearLr::new(
            LinearLrConfig { start_factor: 0.1, total_iters: 3, ..LinearLrConfig::default() },
            g,
        )?;
        let cos = CosineAnnealingLr::new(CosineAnnealingLrConfig::new(10), g)?;
        Ok([Scheduler::Linear(warm), Scheduler::CosineAnnealing(cos)])
    }
    let mut children = build(&mut reference).unwrap();
    let mut seq = SequentialLr::new(&mut children, &[3], -1, &mut reference).unwrap();
    let mut opt_children = None;
    let mut opt = CandleSgd::new(groups)
        .unwrap()
        .with_schedule(
            |g| {
                let c = opt_children.insert(build(g)?);
                Ok(Scheduler::Sequential(SequentialLr::new(c, &[3], -1, g)?))
            },
            ScheduleEvery::Epoch,
        )
        .unwrap();
    for epoch in 0..8 {
        for _ in 0..3 {
            opt.step(&grads).unwrap(); // steps within an epoch do not move the lr
        }
        assert_eq!(opt.group_lr(0).unwrap().to_bits(), reference[0].lr.to_bits(), "epoch {epoch}");
        assert_eq!(opt.group_lr(1).unwrap().to_bits(), reference[1].lr.to_bits(), "epoch {epoch}");
        opt.end_epoch().unwrap();
        seq.step(&mut reference).unwrap();
    }
    // set_learning_rate still works (candle's interface).
    Optimizer::set_learning_rate(&mut opt, 0.5);
    assert_eq!((opt.group_lr(0).unwrap(), opt.group_lr(1).unwrap()), (0.5, 0.5));
    assert_eq!(Optimizer::learning_rate(&opt), 0.5);
}

#[test]
fn bad_input_is_a_typed_error_and_writes_nothing() {
    let dev = Device::Cpu;
    let config = SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() };
    let v64 = Var::zeros(4, DType::F64, &dev).unwrap();
    let e = CandleSgd::new(vec![VarGroup { vars: vec![v64], config }]).unwrap_err();
    assert!(matches!(e, CandleSgdError::NotF32 { group: 0, var: 0, dtype: DType::F64 }), "{e}");
    // The same variable twice (shared storage).
    let v = Var::from_slice(&[1.0f32, 2.0], 2, &dev).unwrap();
    let alias = Var::from_tensor(v.as_tensor()).unwrap();
    let e = CandleSgd::new(vec![VarGroup { vars: vec![v.clone(), alias], config }]).unwrap_err();
    assert!(matches!(e, CandleSgdError::SharedStorage { first: (0, 0), second: (0, 1) }), "{e}");
    let e = CandleSgd::new(vec![VarGroup {
        vars: vec![v.clone()],
        config: SgdConfig { lr: -1.0, ..config },
    }])
    .unwrap_err();
    assert!(
        matches!(
            e,
            CandleSgdError::Sgd(SgdError::Config(ConfigError::NegativeLearningRate { .. }))
        ),
        "{e}"
    );

    let w = Var::from_slice(&[1.0f32, 2.0, 3.0], 3, &dev).unwrap();
    let mut opt =
        CandleSgd::new(vec![VarGroup { vars: vec![v.clone(), w.clone()], config }]).unwrap();
    // A wrong gradient for the second variable: nothing is written, the first included.
    let mut store = GradStore::default();
    store.insert(v.as_tensor(), Tensor::new(&[1.0f32, 1.0], &dev).unwrap());
    store.insert(w.as_tensor(), Tensor::new(&[1.0f32, 1.0], &dev).unwrap());
    let e = opt.step(&store).unwrap_err();
    assert!(
        matches!(e, CandleSgdError::GradientShape { group: 0, var: 1, expected: 3, got: 2 }),
        "{e}"
    );
    store.insert(w.as_tensor(), Tensor::new(&[1.0f64, 1.0, 1.0], &dev).unwrap());
    let e = opt.step(&store).unwrap_err();
    assert!(matches!(e, CandleSgdError::NotF32 { group: 0, var: 1, .. }), "{e}");
    assert_eq!(v.to_vec1::<f32>().unwrap(), [1.0, 2.0]);
    assert_eq!(w.to_vec1::<f32>().unwrap(), [1.0, 2.0, 3.0]);
    assert!(opt.momentum_buffer(0, 0).is_none());
    // A gradient that is a strided view is copied and used.
    let g = Tensor::new(&[[1.0f32, 3.0], [2.0, 4.0]], &dev).unwrap().t().unwrap();
    let m = Var::from_slice(&[0.0f32; 4], (2, 2), &dev).unwrap();
    let mut opt = CandleSgd::new(vec![VarGroup {
        vars: vec![m.clone()],
        config: SgdConfig { lr: 1.0, ..config },
    }])
    .unwrap();
    let mut store = GradStore::default();
    store.insert(m.as_tensor(), g);
    opt.step(&store).unwrap();
    assert_eq!(m.flatten_all().unwrap().to_vec1::<f32>().unwrap(), [-1.0, -2.0, -3.0, -4.0]);
    // The error names what it is about and chains its source.
    let e = CandleSgd::new(vec![VarGroup {
        vars: vec![v],
        config: SgdConfig { lr: f64::NAN, ..config },
    }])
    .unwrap_err();
    assert!(core::error::Error::source(&e).is_some());
    assert!(e.to_string().contains("NaN"), "{e}");
}

#[test]
fn many_tensors_go_through_several_fused_passes() {
    // More variables than one nested pass takes: every one is stepped once.
    let vars: Vec<Var> = (0..sgd_candle::MAX_NESTED * 2 + 5)
        .map(|i| Var::from_slice(&[i as f32; 3], 3, &Device::Cpu).unwrap())
        .collect();
    let config = SgdConfig { lr: 1.0, ..SgdConfig::default() };
    let mut opt = CandleSgd::new(vec![VarGroup { vars: vars.clone(), config }]).unwrap();
    let grads = grads_of(&vars.iter().map(|v| (v, vec![1.0; 3])).collect::<Vec<_>>());
    let outcome = opt.step(&grads).unwrap();
    let n = vars.len();
    assert!(
        matches!(outcome, StepOutcome::Applied { tensors, elements, .. } if tensors == n && elements == 3 * n),
        "every pass counted: {outcome:?}"
    );
    for (i, v) in vars.iter().enumerate() {
        assert_eq!(v.to_vec1::<f32>().unwrap(), [i as f32 - 1.0; 3]);
    }
}

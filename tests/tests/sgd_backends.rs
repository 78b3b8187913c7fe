//! `sgd-cpu` API behaviour: validation before any write, typed errors naming the bad value,
//! mixed precision (`grad_scale`, `found_inf`), per-parameter first steps, missing gradients,
//! and thread-count/backend independence (bitwise) against the scalar reference.
//! (The kernel-level suite run against every backend is `sgd-cpu/tests/backends.rs`; torch
//! parity is `sgd_golden.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used)]
// tests: a failed unwrap is a failed test.
// Test data: a pseudo-random u32 rounded to the nearest f32 (deterministic; any nearby value
// would do), small indices as f32 (exact).
#![allow(clippy::cast_precision_loss)]

use proptest::prelude::*;
use sgd_cpu::{
    Backend, ConfigError, GroupSpec, MomentumBuffer, Sgd, SgdConfig, SgdError, StepOptions,
    StepOutcome, StepScalars, TensorGroup, TensorSlot, ThreadPool, bytes, fused_step, scalar,
};

fn pseudo(n: usize, seed: u32) -> Vec<f32> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x as f32 / u32::MAX as f32) * 4.0 - 2.0
        })
        .collect()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

const MOMENTUM: SgdConfig = SgdConfig {
    lr: 0.05,
    momentum: 0.9,
    dampening: 0.1,
    weight_decay: 1e-4,
    nesterov: false,
    maximize: false,
};

/// The scalar reference over a list of tensors with an explicit per-tensor "initialised" flag.
fn reference_step(
    config: &SgdConfig,
    params: &mut [Vec<f32>],
    grads: &[Option<Vec<f32>>],
    bufs: &mut [Vec<f32>],
    init: &mut [bool],
    scale: Option<f32>,
) {
    let s = StepScalars::from_config(config);
    for i in 0..params.len() {
        let Some(g) = &grads[i] else { continue };
        let buf = s.has_momentum.then(|| MomentumBuffer::new(&mut bufs[i][..], !init[i]));
        scalar::sgd_update(&s, &mut params[i], g, buf, scale);
        init[i] |= s.has_momentum;
    }
}

#[test]
fn hyper_parameter_errors_name_the_value_and_group() {
    let bad = |c: SgdConfig| {
        Sgd::new(vec![
            GroupSpec { config: MOMENTUM, numels: vec![2] },
            GroupSpec { config: c, numels: vec![3] },
        ])
        .err()
    };
    assert_eq!(
        bad(SgdConfig { lr: -0.5, ..MOMENTUM }),
        Some(SgdError::Config(ConfigError::NegativeLearningRate { group: 1, lr: -0.5 }))
    );
    assert_eq!(
        bad(SgdConfig { lr: f64::INFINITY, ..MOMENTUM }),
        Some(SgdError::Config(ConfigError::NonFiniteLearningRate { group: 1, lr: f64::INFINITY }))
    );
    assert!(matches!(
        bad(SgdConfig { lr: f64::NAN, ..MOMENTUM }),
        Some(SgdError::Config(ConfigError::NonFiniteLearningRate { group: 1, lr })) if lr.is_nan()
    ));
    assert_eq!(
        bad(SgdConfig { momentum: -0.1, ..MOMENTUM }),
        Some(SgdError::Config(ConfigError::InvalidMomentum { group: 1, momentum: -0.1 }))
    );
    assert_eq!(
        bad(SgdConfig { weight_decay: -1e-4, ..MOMENTUM }),
        Some(SgdError::Config(ConfigError::InvalidWeightDecay { group: 1, weight_decay: -1e-4 }))
    );
    assert_eq!(
        bad(SgdConfig { nesterov: true, ..MOMENTUM }),
        Some(SgdError::Config(ConfigError::NesterovRequiresMomentumAndZeroDampening {
            group: 1,
            momentum: 0.9,
            dampening: 0.1
        }))
    );
    assert_eq!(
        bad(SgdConfig { nesterov: true, momentum: 0.0, dampening: 0.0, ..MOMENTUM }),
        Some(SgdError::Config(ConfigError::NesterovRequiresMomentumAndZeroDampening {
            group: 1,
            momentum: 0.0,
            dampening: 0.0
        }))
    );
    // Errors display torch's wording.
    assert!(
        SgdError::Config(ConfigError::NegativeLearningRate { group: 0, lr: -0.1 })
            .to_string()
            .starts_with("Invalid learning rate: -0.1")
    );
}

#[test]
fn bad_input_is_rejected_before_anything_is_written() {
    let mut sgd = Sgd::new(vec![
        GroupSpec { config: MOMENTUM, numels: vec![4, 3] },
        GroupSpec { config: SgdConfig { lr: 0.1, ..SgdConfig::default() }, numels: vec![5] },
    ])
    .unwrap();
    let mut a = pseudo(4, 1);
    let mut b = pseudo(3, 2);
    let mut c = pseudo(5, 3);
    let (a0, b0, c0) = (a.clone(), b.clone(), c.clone());
    let ga = pseudo(4, 4);
    let gb = pseudo(3, 5);
    let gc_short = pseudo(4, 6);
    let gc = pseudo(5, 6);
    // Tensor 2's gradient is one short: nothing may change, tensors 0 and 1 included.
    let r = sgd.step(&mut [&mut a, &mut b, &mut c], &[Some(&ga), Some(&gb), Some(&gc_short)]);
    assert_eq!(r, Err(SgdError::LengthMismatch { tensor: 2, params: 5, grads: 4 }));
    let r = sgd.step(&mut [&mut a, &mut b[..2], &mut c], &[Some(&ga), Some(&gb), Some(&gc)]);
    assert_eq!(r, Err(SgdError::ParamLength { tensor: 1, expected: 3, got: 2 }));
    let r = sgd.step(&mut [&mut a, &mut b], &[Some(&ga), Some(&gb)]);
    assert_eq!(r, Err(SgdError::TensorCount { expected: 3, got: 2 }));
    let opts = StepOptions { grad_scale: Some(0.0), ..StepOptions::default() };
    let r = sgd.step_with(&mut [&mut a, &mut b, &mut c], &[Some(&ga), Some(&gb), Some(&gc)], &opts);
    assert_eq!(r, Err(SgdError::InvalidGradScale { scale: 0.0 }));
    assert_eq!(
        sgd.set_lr(1, -1.0),
        Err(SgdError::Config(ConfigError::NegativeLearningRate { group: 1, lr: -1.0 }))
    );
    assert_eq!(sgd.set_lr(2, 0.1), Err(SgdError::NoSuchGroup { group: 2, groups: 2 }));
    if let Some(missing) = Backend::ALL.into_iter().find(|b| !b.is_available()) {
        assert_eq!(
            sgd.set_backend(Some(missing)),
            Err(SgdError::BackendUnavailable { backend: missing })
        );
    }
    assert_eq!((bits(&a), bits(&b), bits(&c)), (bits(&a0), bits(&b0), bits(&c0)));
    assert!(sgd.momentum_buffer(0).is_none() && sgd.momentum_buffer(1).is_none());
    assert_eq!(sgd.config(1).unwrap().lr, 0.1);

    // Caller-owned API: a missing or short momentum buffer names the tensor.
    let mut buf = vec![0.0; 2];
    let mut flag = false;
    let mut slots = [
        TensorSlot::new(&mut a, Some(&ga)),
        TensorSlot::with_momentum(&mut b, Some(&gb), &mut buf, &mut flag),
    ];
    let mut groups = [TensorGroup { config: MOMENTUM, tensors: &mut slots }];
    assert_eq!(
        fused_step(&mut groups, &StepOptions::default()),
        Err(SgdError::MissingMomentumBuffer { tensor: 0 })
    );
    groups[0].tensors[0].grad = None; // tensor 0 skipped: its missing buffer is fine now
    assert_eq!(
        fused_step(&mut groups, &StepOptions::default()),
        Err(SgdError::MomentumBufferLength { tensor: 1, params: 3, buffer: 2 })
    );
    groups[0].config.lr = -0.5;
    assert_eq!(
        fused_step(&mut groups, &StepOptions::default()),
        Err(SgdError::Config(ConfigError::NegativeLearningRate { group: 0, lr: -0.5 }))
    );
    assert_eq!((bits(&a), bits(&b)), (bits(&a0), bits(&b0)));
    assert!(!flag);
}

#[test]
fn found_inf_skips_everything_including_first_step_initialisation() {
    // Without weight decay the first buffer is exactly the gradient.
    const NO_DECAY: SgdConfig = SgdConfig { weight_decay: 0.0, ..MOMENTUM };
    let mut sgd = Sgd::new(vec![GroupSpec { config: NO_DECAY, numels: vec![7] }]).unwrap();
    let mut p = pseudo(7, 9);
    let p0 = p.clone();
    let g = pseudo(7, 10);
    let skip = StepOptions { found_inf: true, grad_scale: Some(65536.0), ..StepOptions::default() };
    assert_eq!(sgd.step_with(&mut [&mut p], &[Some(&g)], &skip), Ok(StepOutcome::SkippedFoundInf));
    assert_eq!(bits(&p), bits(&p0));
    assert!(sgd.momentum_buffer(0).is_none(), "the skipped step must not initialise the buffer");
    // The next real step is this parameter's first step: buffer = grad.
    sgd.step(&mut [&mut p], &[Some(&g)]).unwrap();
    assert_eq!(bits(sgd.momentum_buffer(0).unwrap()), bits(&g));
    // A skipped later step leaves params and the buffer alone.
    let (p1, b1) = (p.clone(), sgd.momentum_buffer(0).unwrap().to_vec());
    sgd.step_with(&mut [&mut p], &[Some(&g)], &skip).unwrap();
    assert_eq!((bits(&p), bits(sgd.momentum_buffer(0).unwrap())), (bits(&p1), bits(&b1)));
    // Invalid input is still an error when found_inf is set.
    let short = pseudo(6, 1);
    assert!(sgd.step_with(&mut [&mut p], &[Some(&short)], &skip).is_err());

    // Caller-owned: flag untouched.
    let mut buf = vec![0.0; 7];
    let mut flag = false;
    let mut slots = [TensorSlot::with_momentum(&mut p, Some(&g), &mut buf, &mut flag)];
    let mut groups = [TensorGroup { config: NO_DECAY, tensors: &mut slots }];
    assert_eq!(fused_step(&mut groups, &skip), Ok(StepOutcome::SkippedFoundInf));
    assert!(!flag);
    assert_eq!(bits(&p), bits(&p1));
}

#[test]
fn grad_scale_divides_inside_the_pass_and_never_writes_grads() {
    // Scaling by a power of two is exact, so unscaling must reproduce the unscaled step.
    for backend in Backend::available() {
        let config = SgdConfig { nesterov: true, dampening: 0.0, maximize: true, ..MOMENTUM };
        let mut plain = Sgd::new(vec![GroupSpec { config, numels: vec![1000] }]).unwrap();
        let mut scaled = Sgd::new(vec![GroupSpec { config, numels: vec![1000] }]).unwrap();
        plain.set_backend(Some(backend)).unwrap();
        scaled.set_backend(Some(backend)).unwrap();
        let mut p1 = pseudo(1000, 11);
        let mut p2 = p1.clone();
        for step in 0..3 {
            let g = pseudo(1000, 20 + step);
            let g_scaled: Vec<f32> = g.iter().map(|x| x * 1024.0).collect();
            let before = bits(&g_scaled);
            plain.step(&mut [&mut p1], &[Some(&g)]).unwrap();
            let opts = StepOptions { grad_scale: Some(1024.0), ..StepOptions::default() };
            scaled.step_with(&mut [&mut p2], &[Some(&g_scaled)], &opts).unwrap();
            assert_eq!(bits(&p1), bits(&p2), "{backend} step {step}");
            assert_eq!(bits(&g_scaled), before);
        }
    }
}

#[test]
fn first_step_is_per_parameter_and_missing_grads_leave_tensors_alone() {
    let mut sgd = Sgd::new(vec![GroupSpec { config: MOMENTUM, numels: vec![5, 6] }]).unwrap();
    let mut params = vec![pseudo(5, 1), pseudo(6, 2)];
    let mut bufs = vec![vec![0.0; 5], vec![0.0; 6]];
    let mut init = vec![false; 2];
    let mut expect = params.clone();
    for step in 0..4u32 {
        // Tensor 1 gets its first gradient at step 2; tensor 0 has none at step 3.
        let grads = vec![
            (step != 3).then(|| pseudo(5, 10 + step)),
            (step >= 2).then(|| pseudo(6, 20 + step)),
        ];
        let before1 = params[1].clone();
        let views: Vec<Option<&[f32]>> = grads.iter().map(|g| g.as_deref()).collect();
        let (a, b) = params.split_at_mut(1);
        sgd.step(&mut [&mut a[0], &mut b[0]], &views).unwrap();
        reference_step(&MOMENTUM, &mut expect, &grads, &mut bufs, &mut init, None);
        assert_eq!(bits(&params[0]), bits(&expect[0]), "step {step}");
        assert_eq!(bits(&params[1]), bits(&expect[1]), "step {step}");
        if step < 2 {
            assert_eq!(bits(&params[1]), bits(&before1));
            assert!(sgd.momentum_buffer(1).is_none());
        }
        if step >= 2 {
            assert_eq!(bits(sgd.momentum_buffer(1).unwrap()), bits(&bufs[1]), "step {step}");
        }
    }
}

#[test]
fn momentum_zero_keeps_the_buffer_for_later() {
    // torch stores the buffer only while momentum != 0 and reuses it when momentum returns.
    let mut sgd = Sgd::new(vec![GroupSpec { config: MOMENTUM, numels: vec![9] }]).unwrap();
    let mut p = pseudo(9, 3);
    sgd.step(&mut [&mut p], &[Some(&pseudo(9, 4))]).unwrap();
    let b0 = sgd.momentum_buffer(0).unwrap().to_vec();
    sgd.set_momentum(0, 0.0).unwrap();
    sgd.step(&mut [&mut p], &[Some(&pseudo(9, 5))]).unwrap();
    assert_eq!(bits(sgd.momentum_buffer(0).unwrap()), bits(&b0));
    sgd.set_momentum(0, 0.9).unwrap();
    let g = pseudo(9, 6);
    let mut expect = p.clone();
    let mut b = b0.clone();
    let s = StepScalars::from_config(&MOMENTUM);
    scalar::sgd_update(&s, &mut expect, &g, Some(MomentumBuffer::new(&mut b, false)), None);
    sgd.step(&mut [&mut p], &[Some(&g)]).unwrap();
    assert_eq!(bits(&p), bits(&expect));
}

#[test]
fn results_are_bitwise_identical_for_every_thread_count_and_backend() {
    let numels = [1usize << 18, 4096, 3, 0, 70_001, 64, 100_000];
    let configs = [
        MOMENTUM,
        SgdConfig {
            lr: 0.01,
            momentum: 0.5,
            nesterov: true,
            dampening: 0.0,
            maximize: true,
            ..MOMENTUM
        },
        SgdConfig { lr: 0.2, ..SgdConfig::default() },
    ];
    let grads_at = |step: u32| -> Vec<Vec<f32>> {
        numels
            .iter()
            .enumerate()
            .map(|(i, &n)| pseudo(n, 100 * step + u32::try_from(i).unwrap()))
            .collect()
    };
    let init: Vec<Vec<f32>> =
        numels.iter().enumerate().map(|(i, &n)| pseudo(n, 7 + u32::try_from(i).unwrap())).collect();
    // Reference: the scalar kernel, tensor by tensor, groups [0..3), [3..5), [5..7).
    let split = [0, 3, 5, 7];
    let mut expect = init.clone();
    let mut bufs: Vec<Vec<f32>> = numels.iter().map(|&n| vec![0.0; n]).collect();
    let mut flags = vec![false; numels.len()];
    for step in 0..3 {
        let g: Vec<Option<Vec<f32>>> = grads_at(step).into_iter().map(Some).collect();
        for k in 0..3 {
            let r = split[k]..split[k + 1];
            reference_step(
                &configs[k],
                &mut expect[r.clone()],
                &g[r.clone()],
                &mut bufs[r.clone()],
                &mut flags[r],
                Some(2.0),
            );
        }
    }
    for backend in Backend::available() {
        for threads in [1, 2, 3, 4] {
            let specs = (0..3)
                .map(|k| GroupSpec {
                    config: configs[k],
                    numels: numels[split[k]..split[k + 1]].to_vec(),
                })
                .collect();
            let mut sgd = Sgd::new(specs).unwrap();
            sgd.set_threads(threads).unwrap();
            sgd.set_backend(Some(backend)).unwrap();
            assert_eq!(sgd.threads(), threads);
            let mut params = init.clone();
            for step in 0..3 {
                let g = grads_at(step);
                let views: Vec<Option<&[f32]>> = g.iter().map(|x| Some(&x[..])).collect();
                let mut ps: Vec<&mut [f32]> = params.iter_mut().map(|p| &mut p[..]).collect();
                let opts = StepOptions { grad_scale: Some(2.0), ..StepOptions::default() };
                let out = sgd.step_with(&mut ps, &views, &opts).unwrap();
                assert_eq!(
                    out,
                    StepOutcome::Applied { tensors: 7, elements: numels.iter().sum(), backend }
                );
            }
            for (i, (got, want)) in params.iter().zip(&expect).enumerate() {
                assert_eq!(bits(got), bits(want), "{backend} threads={threads} tensor {i}");
                let group = (0..3).find(|&k| (split[k]..split[k + 1]).contains(&i)).unwrap();
                match sgd.momentum_buffer(i) {
                    Some(b) => assert_eq!(bits(b), bits(&bufs[i]), "buffer {i}"),
                    None => assert_eq!(configs[group].momentum, 0.0, "buffer {i} missing"),
                }
            }
        }
    }
}

#[test]
fn thread_pool_splits_large_tensors_and_matches_the_calling_thread() {
    let n = 1_000_003;
    let g = pseudo(n, 1);
    let mut p1 = pseudo(n, 2);
    let mut p2 = p1.clone();
    let (mut b1, mut b2) = (vec![0.0; n], vec![0.0; n]);
    let (mut f1, mut f2) = (false, false);
    let pool = ThreadPool::new(2).unwrap();
    assert_eq!(pool.threads(), 2);
    for _ in 0..2 {
        let mut s1 = [TensorSlot::with_momentum(&mut p1, Some(&g), &mut b1, &mut f1)];
        let mut s2 = [TensorSlot::with_momentum(&mut p2, Some(&g), &mut b2, &mut f2)];
        fused_step(
            &mut [TensorGroup { config: MOMENTUM, tensors: &mut s1 }],
            &StepOptions::default(),
        )
        .unwrap();
        pool.fused_step(
            &mut [TensorGroup { config: MOMENTUM, tensors: &mut s2 }],
            &StepOptions::default(),
        )
        .unwrap();
    }
    assert!(f1 && f2);
    assert_eq!(bits(&p1), bits(&p2));
    assert_eq!(bits(&b1), bits(&b2));
}

#[test]
fn byte_buffers_are_viewed_without_copying() {
    let mut storage = vec![0u32; 5];
    let bytes_view: &mut [u8] = bytemuck::cast_slice_mut(&mut storage);
    let f = bytes::f32s_mut(bytes_view, 0).unwrap();
    assert_eq!(f.len(), 5);
    let addr = f.as_ptr() as usize;
    assert_eq!(addr, storage.as_ptr() as usize);
    let raw: &[u8] = bytemuck::cast_slice(&storage);
    assert_eq!(bytes::f32s(&raw[1..5], 3), Err(SgdError::ByteLayout { tensor: 3, bytes: 4 }));
    assert_eq!(bytes::f32s(&raw[..6], 3), Err(SgdError::ByteLayout { tensor: 3, bytes: 6 }));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Any valid configuration, any tensor sizes, two steps: `Sgd` equals the scalar reference.
    #[test]
    fn sgd_equals_the_scalar_reference(
        numels in proptest::collection::vec(0usize..300, 1..6),
        lr in 0.0f64..2.0,
        momentum in prop_oneof![Just(0.0), 0.0f64..1.0],
        dampening in prop_oneof![Just(0.0), 0.0f64..1.0],
        weight_decay in prop_oneof![Just(0.0), 0.0f64..0.5],
        nesterov: bool,
        maximize: bool,
        seed in 0u32..1000,
    ) {
        let nesterov = nesterov && momentum > 0.0;
        let dampening = if nesterov { 0.0 } else { dampening };
        let config = SgdConfig { lr, momentum, dampening, weight_decay, nesterov, maximize };
        let mut sgd = Sgd::new(vec![GroupSpec { config, numels: numels.clone() }]).unwrap();
        let mut params: Vec<Vec<f32>> = numels.iter().enumerate().map(|(i, &n)| pseudo(n, seed + u32::try_from(i).unwrap())).collect();
        let mut expect = params.clone();
        let mut bufs: Vec<Vec<f32>> = numels.iter().map(|&n| vec![0.0; n]).collect();
        let mut init = vec![false; numels.len()];
        for step in 0..2u32 {
            let grads: Vec<Option<Vec<f32>>> = numels.iter().enumerate().map(|(i, &n)| Some(pseudo(n, seed * 7 + step * 31 + u32::try_from(i).unwrap()))).collect();
            reference_step(&config, &mut expect, &grads, &mut bufs, &mut init, None);
            let views: Vec<Option<&[f32]>> = grads.iter().map(|g| g.as_deref()).collect();
            let mut ps: Vec<&mut [f32]> = params.iter_mut().map(|p| &mut p[..]).collect();
            sgd.step(&mut ps, &views).unwrap();
        }
        for (got, want) in params.iter().zip(&expect) {
            prop_assert_eq!(bits(got), bits(want));
        }
    }
}

#[test]
fn optimizer_and_pool_can_move_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Sgd>();
    send_sync::<ThreadPool>();
    send_sync::<SgdError>();
    let mut sgd = Sgd::new(vec![GroupSpec { config: MOMENTUM, numels: vec![3] }]).unwrap();
    sgd.set_threads(2).unwrap();
    let handle = std::thread::spawn(move || {
        let mut p = [1.0f32; 3];
        sgd.step(&mut [&mut p], &[Some(&[1.0; 3])]).unwrap();
        p
    });
    assert!(handle.join().unwrap().iter().all(|&x| x < 1.0));
}

//! A schedule that lives on the device: K replays of the captured scheduled step (the lrs
//! read from the device table at the device counter's row, no host-to-device copy) equal K
//! host-driven steps (`step(&lrs)` with the lrs of host stepping of the same schedule),
//! bitwise; a step past the table updates nothing and is reported as
//! `ScheduleError::Exhausted`.
//!
//! Skips with a printed reason without a GPU (set `SGD_CUDA_REQUIRE_GPU=1` to make that a
//! failure, as `scripts/gpu-check.sh` does).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test.

use std::sync::{Arc, Mutex, MutexGuard};

use cudarc::driver::CudaStream;
mod common;

use common::Rng;
use common::gpu::stream_or_skip;
use sgd_core::{GroupCountMismatch, inject_hyperparams};
use sgd_cuda::sched_core::spec::{Value, build};
use sgd_cuda::sched_core::{ParamGroup, Scheduler};
use sgd_cuda::{
    BufferId, CudaSgd, CudaSgdError, CudaSgdOptions, GroupError, ScheduleError, SgdConfig,
    TensorRef,
};

/// One GPU test at a time in this process: `cudarc` synchronises a context when a stream is
/// created, which would invalidate another test's graph capture running concurrently.
fn gpu_lock() -> MutexGuard<'static, ()> {
    static GPU: Mutex<()> = Mutex::new(());
    GPU.lock().unwrap_or_else(|p| p.into_inner())
}

/// Lengths at element offsets 0..3 (float4 and scalar paths), 3 groups.
const LENS: &[usize] = &[5, 4096, 70_001, 3, 1023, 131_075];

fn groups() -> Vec<SgdConfig> {
    let base = SgdConfig::default();
    vec![
        SgdConfig { lr: 0.1, momentum: 0.9, weight_decay: 1e-4, ..base },
        SgdConfig { lr: 0.1, momentum: 0.8, nesterov: true, ..base },
        SgdConfig { lr: 0.1, weight_decay: 1e-2, maximize: true, ..base },
    ]
}

/// An optimizer over LENS and the gradients of `steps` steps (the same for both runs).
fn optimizer(stream: &Arc<CudaStream>, rng: &mut Rng) -> (CudaSgd, Vec<f32>, usize) {
    let mut at = 0usize;
    let mut tensors = Vec::new();
    for (i, &len) in LENS.iter().enumerate() {
        let offset = at + i % 4;
        tensors.push(TensorRef {
            group: i % 3,
            param_buffer: BufferId(0),
            params: offset..offset + len,
            grad_buffer: BufferId(1),
            grads: offset..offset + len,
        });
        at = (offset + len).div_ceil(4) * 4;
    }
    let params = rng.vec(at);
    let d_params = stream.clone_htod(&params).unwrap();
    let d_grads = stream.alloc_zeros::<f32>(at).unwrap();
    let opt = CudaSgd::new(
        stream.clone(),
        groups(),
        vec![d_params, d_grads],
        tensors,
        CudaSgdOptions::default(),
    )
    .unwrap();
    (opt, params, at)
}

/// OneCycleLR over 3 groups (a new lr at every step), without momentum cycling.
fn one_cycle(groups: &mut [ParamGroup]) -> Scheduler<'static> {
    let max_lr = [Value::Float(0.5), Value::Float(0.05), Value::Float(0.2)];
    let kwargs = [
        ("max_lr", Value::List(&max_lr)),
        ("total_steps", Value::Int(20)),
        ("cycle_momentum", Value::Bool(false)),
    ];
    build("OneCycleLR", &kwargs, groups).unwrap()
}

fn param_groups() -> Vec<ParamGroup> {
    vec![ParamGroup::new(0.1); 3]
}

fn upload_grads(opt: &mut CudaSgd, grads: &[f32]) {
    let stream = opt.stream().clone();
    let mut view = opt.buffer_mut(BufferId(1)).unwrap();
    stream.memcpy_htod(grads, &mut view).unwrap();
}

/// One step of both runs with gradients `grads`: `dev` replays its scheduled step (no lr
/// upload), `host` steps with the lrs of its host scheduler, which then steps.
fn step_both(
    dev: &mut CudaSgd,
    host: &mut CudaSgd,
    (scheduler, groups): (&mut Scheduler<'_>, &mut [ParamGroup]),
    grads: &[f32],
) {
    upload_grads(dev, grads);
    dev.step_scheduled().unwrap();
    upload_grads(host, grads);
    let lrs: Vec<f64> = groups.iter().map(|g| g.lr).collect();
    host.step(&lrs).unwrap();
    scheduler.step(groups).unwrap();
}

fn snapshot(opt: &CudaSgd) -> Vec<Vec<u32>> {
    let bits = |v: Vec<f32>| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
    let mut out = Vec::new();
    for t in 0..opt.num_tensors() {
        out.push(bits(opt.params_to_host(t).unwrap()));
        out.push(opt.momentum_to_host(t).unwrap().map(bits).unwrap_or_default());
    }
    out
}

#[test]
fn graph_replays_of_the_device_schedule_equal_host_driven_steps_bitwise() {
    let _gpu = gpu_lock();
    let Some(stream) = stream_or_skip("graph_replays_of_the_device_schedule") else { return };
    const K: usize = 9;
    let mut rng = Rng(21);
    let (mut dev, _, total) = optimizer(&stream, &mut Rng(5));
    let (mut host, _, _) = optimizer(&stream, &mut Rng(5));
    let grads: Vec<Vec<f32>> = (0..K + 2).map(|_| rng.vec(total)).collect();

    let (mut g_dev, mut g_host) = (param_groups(), param_groups());
    let (mut s_dev, mut s_host) = (one_cycle(&mut g_dev), one_cycle(&mut g_host));
    dev.capture_graph().unwrap();
    dev.set_device_schedule(&mut s_dev, &mut g_dev, K).unwrap();
    assert_eq!(dev.schedule_steps_left().unwrap(), K);
    for (k, g) in grads.iter().take(K).enumerate() {
        step_both(&mut dev, &mut host, (&mut s_host, &mut g_host), g);
        assert_eq!(snapshot(&dev), snapshot(&host), "step {k}: device schedule vs host lrs");
    }
    assert_eq!(dev.schedule_steps_left().unwrap(), 0);
    // The host schedulers agree: set_device_schedule stepped it K times.
    assert_eq!(g_dev, g_host);
    assert_eq!(s_dev.last_epoch(), s_host.last_epoch());

    // Past the table: the step is enqueued, updates nothing, and is reported.
    let before = snapshot(&dev);
    upload_grads(&mut dev, &grads[K]);
    dev.step_scheduled().unwrap();
    let err = dev.schedule_steps_left().unwrap_err();
    assert!(
        matches!(
            err,
            CudaSgdError::Schedule(ScheduleError::Exhausted { rows: K, skipped_steps: 1 })
        ),
        "{err}"
    );
    assert_eq!(snapshot(&dev), before, "a step past the table wrote");
    assert!(matches!(
        dev.synchronize(),
        Err(CudaSgdError::Schedule(ScheduleError::Exhausted { .. }))
    ));
    assert!(matches!(
        dev.step_scheduled(),
        Err(CudaSgdError::Schedule(ScheduleError::Exhausted { .. }))
    ));
    assert!(matches!(
        dev.step(&[0.1; 3]),
        Err(CudaSgdError::Schedule(ScheduleError::Exhausted { .. }))
    ));
    assert_eq!(snapshot(&dev), before, "a refused step wrote");

    // A new table continues where the host scheduler is; it fits the old allocation, so the
    // captured graph stays. The host run took no step K either (the device's did nothing).
    dev.set_device_schedule(&mut s_dev, &mut g_dev, 2).unwrap();
    assert!(dev.has_graph());
    dev.synchronize().unwrap();
    for g in &grads[K..K + 2] {
        step_both(&mut dev, &mut host, (&mut s_host, &mut g_host), g);
        assert_eq!(snapshot(&dev), snapshot(&host), "second table");
    }
    assert_eq!(dev.schedule_steps_left().unwrap(), 0);
}

#[test]
fn bad_device_schedules_are_rejected_before_anything_is_written() {
    let _gpu = gpu_lock();
    let Some(stream) = stream_or_skip("bad_device_schedules_are_rejected") else { return };
    let (mut opt, _, _) = optimizer(&stream, &mut Rng(6));
    assert!(matches!(opt.step_scheduled(), Err(CudaSgdError::Schedule(ScheduleError::NotSet))));
    let mut g = param_groups();
    let mut plateau = build("ReduceLROnPlateau", &[], &mut g).unwrap();
    let err = opt.set_device_schedule(&mut plateau, &mut g, 4).unwrap_err();
    assert!(matches!(err, CudaSgdError::Schedule(ScheduleError::NeedsMetric { .. })), "{err}");
    let mut s = one_cycle(&mut g);
    let err = opt.set_device_schedule(&mut s, &mut g, 0).unwrap_err();
    assert!(matches!(err, CudaSgdError::Schedule(ScheduleError::Length { steps: 0, .. })), "{err}");
    let err = opt.set_device_schedule(&mut s, &mut g[..2], 3).unwrap_err();
    assert!(
        matches!(err, CudaSgdError::Group(GroupError::LrCount { expected: 3, got: 2 })),
        "{err}"
    );
    let err = opt.set_device_schedule_lrs(&[0.1; 4]).unwrap_err();
    assert!(
        matches!(err, CudaSgdError::Schedule(ScheduleError::Shape { values: 4, groups: 3 })),
        "{err}"
    );
    assert_eq!(s.last_epoch(), 0, "a rejected schedule stepped the scheduler");
    assert!(!opt.has_device_schedule());
    // Precomputed rows work without a graph too.
    opt.set_device_schedule_lrs(&[0.1, 0.2, 0.3]).unwrap();
    opt.step_scheduled().unwrap();
    assert_eq!(opt.schedule_steps_left().unwrap(), 0);
    opt.clear_device_schedule();
    opt.synchronize().unwrap();
}

#[test]
fn a_scheduler_drives_the_group_options_through_inject_hyperparams() {
    let _gpu = gpu_lock();
    let Some(stream) = stream_or_skip("a_scheduler_drives_the_group_options") else { return };
    let (mut opt, _, _) = optimizer(&stream, &mut Rng(7));
    // OneCycleLR cycling momentum: the bridge carries lr and momentum into every group.
    let mut g = vec![ParamGroup::new(0.1).with_momentum(0.9); 3];
    let kwargs = [("max_lr", Value::Float(0.5)), ("total_steps", Value::Int(20))];
    let mut s = build("OneCycleLR", &kwargs, &mut g).unwrap();
    for _ in 0..3 {
        s.step(&mut g).unwrap();
        inject_hyperparams(&g, &mut opt).unwrap();
        for (i, group) in g.iter().enumerate() {
            let expected = groups()[i].scheduled(group);
            assert_eq!(opt.group_config(i), Some(&expected), "group {i}");
        }
        let lrs: Vec<f64> = g.iter().map(|g| g.lr).collect();
        opt.step(&lrs).unwrap();
    }
    let before: Vec<SgdConfig> = (0..3).map(|i| *opt.group_config(i).unwrap()).collect();
    let err = inject_hyperparams(&g[..2], &mut opt).unwrap_err();
    let mismatch = GroupCountMismatch { scheduler: 2, optimizer: 3 };
    assert_eq!(err, CudaSgdError::Schedule(ScheduleError::OptimizerGroupCount(mismatch)));
    let after: Vec<SgdConfig> = (0..3).map(|i| *opt.group_config(i).unwrap()).collect();
    assert_eq!(after, before, "a refused injection changed the options");
    opt.synchronize().unwrap();
}

//! GPU results are bitwise equal to `sgd_core::scalar::sgd_update` (the specification).
//!
//! Every test needing a GPU prints why it skips when there is none (set
//! `SGD_CUDA_REQUIRE_GPU=1` to make that a failure, as `scripts/gpu-check.sh` does).
#![allow(clippy::unwrap_used, clippy::expect_used)]
// tests: a failed unwrap is a failed test.
// Test code: group and step counts (below 10) as f32/f64 are exact.
#![allow(clippy::cast_precision_loss)]

use core::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard};

use cudarc::driver::CudaStream;
mod common;

use common::Rng;
use common::gpu::stream_or_skip;
use sgd_core::scalar::sgd_update;
use sgd_core::{MomentumBuffer, SgdConfig, StepScalars};
use sgd_cuda::device::open_stream;
use sgd_cuda::{
    BufferId, CudaSgd, CudaSgdError, CudaSgdOptions, GroupError, LaunchError, LibraryError,
    TensorError, TensorRef,
};

/// One GPU test at a time in this process: `cudarc` synchronises a context when its first
/// stream is created, which would invalidate another test's graph capture running concurrently.
fn gpu_lock() -> MutexGuard<'static, ()> {
    static GPU: Mutex<()> = Mutex::new(());
    GPU.lock().unwrap_or_else(|p| p.into_inner())
}

/// Host mirror of one tensor.
struct HostTensor {
    group: usize,
    offset: usize,
    param: Vec<f32>,
    momentum: Option<Vec<f32>>,
}

fn configs() -> Vec<SgdConfig> {
    let base = SgdConfig::default();
    vec![
        SgdConfig { lr: 0.1, ..base },
        SgdConfig { lr: 0.05, momentum: 0.9, dampening: 0.1, weight_decay: 1e-4, ..base },
        SgdConfig { lr: 0.01, momentum: 0.8, weight_decay: 5e-3, nesterov: true, ..base },
        SgdConfig { lr: 0.2, momentum: 0.7, maximize: true, ..base },
        SgdConfig { lr: 0.3, weight_decay: 0.1, maximize: true, ..base },
    ]
}

/// Odd lengths at element offsets 0..3 (so most tensors are not 16-byte aligned).
const LENS: &[usize] = &[1, 3, 4, 7, 4095, 65_537, 131_075, 200_003, 8, 1023];

struct Setup {
    opt: CudaSgd,
    host: Vec<HostTensor>,
    grads_host: Vec<f32>,
    rng: Rng,
}

fn setup(stream: &Arc<CudaStream>, seed: u64, options: CudaSgdOptions) -> Setup {
    let mut rng = Rng(seed);
    let groups = configs();
    let mut at = 0usize;
    let mut refs = Vec::new();
    let mut host = Vec::new();
    let mut ranges: Vec<Range<usize>> = Vec::new();
    for (i, &len) in LENS.iter().enumerate() {
        let offset = at + i % 4; // element offsets 0, 1, 2, 3 from a 16-byte boundary
        let group = i % groups.len();
        ranges.push(offset..offset + len);
        refs.push(TensorRef {
            group,
            param_buffer: BufferId(0),
            params: offset..offset + len,
            grad_buffer: BufferId(1),
            grads: offset..offset + len,
        });
        host.push(HostTensor { group, offset, param: rng.vec(len), momentum: None });
        at = (offset + len).div_ceil(4) * 4;
    }
    let total = at + 3;
    let mut params = vec![f32::NAN; total];
    for h in &host {
        params[h.offset..h.offset + h.param.len()].copy_from_slice(&h.param);
    }
    let d_params = stream.clone_htod(&params).unwrap();
    let d_grads = stream.alloc_zeros::<f32>(total).unwrap();
    let opt = CudaSgd::new(stream.clone(), groups, vec![d_params, d_grads], refs, options).unwrap();
    Setup { opt, host, grads_host: vec![0.0; total], rng }
}

impl Setup {
    /// New random gradients, uploaded.
    fn new_grads(&mut self) {
        for h in &self.host {
            let g = self.rng.vec(h.param.len());
            self.grads_host[h.offset..h.offset + g.len()].copy_from_slice(&g);
        }
        let stream = self.opt.stream().clone();
        let mut view = self.opt.buffer_mut(BufferId(1)).unwrap();
        stream.memcpy_htod(&self.grads_host, &mut view).unwrap();
    }

    /// The scalar reference for one step of every tensor that has a gradient.
    fn reference_step(&mut self, lrs: &[f64], has_grad: &[bool], grad_scale: Option<f32>) {
        for (i, h) in self.host.iter_mut().enumerate() {
            if !has_grad[i] {
                continue;
            }
            let cfg = SgdConfig { lr: lrs[h.group], ..*self.opt.group_config(h.group).unwrap() };
            let s = StepScalars::from_config(&cfg);
            let g = &self.grads_host[h.offset..h.offset + h.param.len()];
            if s.has_momentum {
                let first = h.momentum.is_none();
                let buf = h.momentum.get_or_insert_with(|| vec![0.0; g.len()]);
                sgd_update(
                    &s,
                    &mut h.param,
                    g,
                    Some(MomentumBuffer::new(buf.as_mut_slice(), first)),
                    grad_scale,
                );
            } else {
                sgd_update(&s, &mut h.param, g, None, grad_scale);
            }
        }
    }

    fn assert_matches(&self, what: &str) {
        for (i, h) in self.host.iter().enumerate() {
            let got = self.opt.params_to_host(i).unwrap();
            assert_bits(&got, &h.param, &format!("{what}: params of tensor {i}"));
            let got_m = self.opt.momentum_to_host(i).unwrap();
            match (&got_m, &h.momentum) {
                (Some(g), Some(e)) => assert_bits(g, e, &format!("{what}: momentum of tensor {i}")),
                (None, None) => {}
                _ => panic!(
                    "{what}: tensor {i}: momentum presence {:?} vs {:?}",
                    got_m.is_some(),
                    h.momentum.is_some()
                ),
            }
        }
    }
}

/// The README's contract (as sgd-cpu's backends): NaN wherever the reference has NaN (its
/// payload and sign are not specified: IEEE 754 leaves them to the hardware, and the GPU's
/// canonical NaN is 0x7fffffff where the CPU's is 0xffc00000), the exact bits everywhere else.
fn same(got: f32, expected: f32) -> bool {
    got.to_bits() == expected.to_bits() || (got.is_nan() && expected.is_nan())
}

fn assert_bits(got: &[f32], expected: &[f32], what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}: length");
    let bad: Vec<usize> = (0..got.len()).filter(|&i| !same(got[i], expected[i])).collect();
    if let Some(&i) = bad.first() {
        panic!(
            "{what}: {} of {} elements differ; first at {i}: got {:e} ({:#010x}), expected {:e} ({:#010x})",
            bad.len(),
            got.len(),
            got[i],
            got[i].to_bits(),
            expected[i],
            expected[i].to_bits()
        );
    }
}

fn run_steps(s: &mut Setup, steps: usize) {
    let n = s.host.len();
    for t in 0..steps {
        let lrs: Vec<f64> =
            (0..s.opt.num_groups()).map(|g| 0.01 * (g + 1) as f64 / (t + 1) as f64).collect();
        // Tensor 2 gets its first gradient at step 1 (per-parameter first step).
        let has_grad: Vec<bool> = (0..n).map(|i| !(i == 2 && t == 0)).collect();
        for (i, &h) in has_grad.iter().enumerate() {
            s.opt.set_has_grad(i, h).unwrap();
        }
        if t == 2 {
            // A scheduler changing momentum between steps (CyclicLR-style).
            let mut cfg = *s.opt.group_config(1).unwrap();
            cfg.momentum = 0.85;
            s.opt.set_group_config(1, cfg).unwrap();
        }
        s.new_grads();
        s.opt.step(&lrs).unwrap();
        s.reference_step(&lrs, &has_grad, None);
        s.assert_matches(&format!("step {t}"));
    }
}

#[test]
fn opening_a_device_never_panics() {
    let _gpu = gpu_lock();
    match open_stream(0) {
        Ok(_) => {
            let err = open_stream(1 << 20).unwrap_err();
            assert!(
                matches!(
                    err,
                    CudaSgdError::Library(LibraryError::NoDevice { ordinal: 1048576, .. })
                ),
                "{err}"
            );
        }
        Err(err) => {
            assert!(!err.to_string().is_empty());
            eprintln!("no device (expected without a GPU): {err}");
        }
    }
}

#[test]
fn random_groups_odd_lengths_unaligned_offsets_match_scalar_reference() {
    let _gpu = gpu_lock();
    let Some(stream) = stream_or_skip("random_groups_odd_lengths_unaligned_offsets") else {
        return;
    };
    let mut s = setup(&stream, 1, CudaSgdOptions::default());
    run_steps(&mut s, 4);
}

#[test]
fn small_chunks_and_scalar_only_chunks_match_scalar_reference() {
    let _gpu = gpu_lock();
    let Some(stream) = stream_or_skip("small_chunks_and_scalar_only_chunks") else { return };
    // 4096-element chunks (many chunks per tensor, float4 path) and 1001-element chunks
    // (not a multiple of 4: scalar path everywhere), small blocks.
    for (chunk_elems, block_threads) in [(4096, 128), (1001, 64)] {
        let mut s =
            setup(&stream, 2, CudaSgdOptions { chunk_elems: Some(chunk_elems), block_threads });
        run_steps(&mut s, 3);
    }
}

#[test]
fn graph_replay_with_new_learning_rates_matches_scalar_reference() {
    let _gpu = gpu_lock();
    let Some(stream) = stream_or_skip("graph_replay_with_new_learning_rates") else { return };
    let mut s = setup(&stream, 3, CudaSgdOptions::default());
    s.opt.capture_graph().unwrap();
    assert!(s.opt.has_graph());
    // Capturing does not execute anything.
    s.assert_matches("after capture");
    run_steps(&mut s, 4);
    assert!(s.opt.has_graph());
}

#[test]
fn grad_scale_and_skipped_steps_match_scalar_reference() {
    let _gpu = gpu_lock();
    let Some(stream) = stream_or_skip("grad_scale_and_skipped_steps") else { return };
    for graph in [false, true] {
        let mut s = setup(&stream, 4, CudaSgdOptions::default());
        s.opt.enable_grad_scaling().unwrap();
        if graph {
            s.opt.capture_graph().unwrap();
        }
        let all = vec![true; s.host.len()];
        let lrs: Vec<f64> = (0..s.opt.num_groups()).map(|g| 0.1 / (g + 1) as f64).collect();
        // A skipped first step: nothing changes, momentum buffers are not initialised.
        s.new_grads();
        s.opt.set_grad_scaler(1024.0, 1.0).unwrap();
        s.opt.step(&lrs).unwrap();
        s.assert_matches(&format!("skipped step (graph {graph})"));
        for t in 0..3 {
            s.new_grads();
            let scale = [1024.0f32, 3.0, 0.75][t];
            s.opt.set_grad_scaler(scale, 0.0).unwrap();
            s.opt.step(&lrs).unwrap();
            s.reference_step(&lrs, &all, Some(scale));
            s.assert_matches(&format!("scaled step {t} (graph {graph})"));
        }
    }
}

#[test]
fn wrong_learning_rate_count_is_rejected() {
    let _gpu = gpu_lock();
    let Some(stream) = stream_or_skip("wrong_learning_rate_count") else { return };
    let mut s = setup(&stream, 5, CudaSgdOptions::default());
    let err = s.opt.step(&[0.1]).unwrap_err();
    assert!(
        matches!(err, CudaSgdError::Group(GroupError::LrCount { expected: 5, got: 1 })),
        "{err}"
    );
    s.assert_matches("after rejected step");
    let d = stream.alloc_zeros::<f32>(8).unwrap();
    let g = stream.alloc_zeros::<f32>(8).unwrap();
    let bad = TensorRef {
        group: 0,
        param_buffer: BufferId(0),
        params: 0..8,
        grad_buffer: BufferId(1),
        grads: 1..8,
    };
    let err =
        CudaSgd::new(stream.clone(), configs(), vec![d, g], vec![bad], CudaSgdOptions::default())
            .err()
            .unwrap();
    assert!(
        matches!(
            err,
            CudaSgdError::Tensor(TensorError::LengthMismatch { tensor: 0, params: 8, grads: 7 })
        ),
        "{err}"
    );
}

/// Options sgd-cpu's `Sgd::new` and `Sgd::set_config` reject are rejected by `CudaSgd::new`
/// and `CudaSgd::set_group_config` with the same `ConfigError`, and nothing is written: the
/// options stay, no momentum buffer is allocated, the next step is the old options' step.
#[test]
fn invalid_group_options_are_rejected_and_nothing_is_written() {
    let _gpu = gpu_lock();
    let Some(stream) = stream_or_skip("invalid_group_options_are_rejected") else { return };
    // Group 0 of `configs()` has no momentum: a rejected config with momentum must not give
    // it buffers.
    let bad = [
        SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            dampening: 0.1,
            nesterov: true,
            ..SgdConfig::default()
        },
        SgdConfig { lr: -0.1, momentum: 0.9, ..SgdConfig::default() },
        SgdConfig { lr: 0.1, momentum: f64::NAN, ..SgdConfig::default() },
    ];
    let config_error = |err: CudaSgdError| match err {
        CudaSgdError::Config(e) => format!("{e:?}"), // Debug: NaN != NaN
        other => panic!("expected CudaSgdError::Config, got {other:?}"),
    };
    for b in bad {
        let mut groups = configs();
        groups[3] = b;
        let d = stream.alloc_zeros::<f32>(8).unwrap();
        let g = stream.alloc_zeros::<f32>(8).unwrap();
        let err =
            CudaSgd::new(stream.clone(), groups, vec![d, g], vec![], CudaSgdOptions::default())
                .err()
                .unwrap();
        assert_eq!(config_error(err), format!("{:?}", b.validate(3).unwrap_err()), "new: {b:?}");
    }
    let mut s = setup(&stream, 6, CudaSgdOptions::default());
    run_steps(&mut s, 1);
    let before = *s.opt.group_config(0).unwrap();
    for b in bad {
        let err = s.opt.set_group_config(0, b).unwrap_err();
        assert_eq!(config_error(err), format!("{:?}", b.validate(0).unwrap_err()), "{b:?}");
        assert_eq!(s.opt.group_config(0), Some(&before), "{b:?}");
    }
    let err = s.opt.set_group_config(5, before).unwrap_err();
    assert!(
        matches!(
            err,
            CudaSgdError::Group(GroupError::Unknown { tensor: None, group: 5, groups: 5 })
        ),
        "{err}"
    );
    let all = vec![true; s.host.len()];
    for i in 0..s.host.len() {
        s.opt.set_has_grad(i, true).unwrap(); // run_steps left tensor 2 without a gradient
    }
    let lrs: Vec<f64> = (0..s.opt.num_groups()).map(|g| 0.02 * (g + 1) as f64).collect();
    s.new_grads();
    s.opt.step(&lrs).unwrap();
    s.reference_step(&lrs, &all, None);
    s.assert_matches("step after rejected options");
}

#[test]
fn a_block_larger_than_the_kernel_allows_is_a_typed_error() {
    let _gpu = gpu_lock();
    let Some(stream) = stream_or_skip("a_block_larger_than_the_kernel_allows") else { return };
    let options = CudaSgdOptions { block_threads: 1024, ..CudaSgdOptions::default() };
    let d = stream.alloc_zeros::<f32>(8).unwrap();
    let g = stream.alloc_zeros::<f32>(8).unwrap();
    match CudaSgd::new(stream.clone(), configs(), vec![d, g], vec![], options) {
        // This device and compiler fit the kernel's registers into 1024 threads.
        Ok(_) => eprintln!("1024 threads per block fit on this device: nothing to reject"),
        Err(CudaSgdError::Launch(LaunchError::BlockTooLarge { block_threads: 1024, max })) => {
            assert!((256..1024).contains(&max), "max {max}");
            // The largest block the error names works, bitwise.
            let largest = CudaSgdOptions { block_threads: max / 32 * 32, ..options };
            let mut s = setup(&stream, 7, largest);
            run_steps(&mut s, 3);
        }
        Err(e) => panic!("expected BlockTooLarge, got {e:?}"),
    }
}

/// The comparison itself, without a GPU: NaN payloads are free, every other bit is not.
#[test]
fn comparison_is_nan_ness_then_bits() {
    let gpu_nan = f32::from_bits(0x7fff_ffff);
    let cpu_nan = f32::from_bits(0xffc0_0000);
    assert!(same(gpu_nan, cpu_nan));
    assert!(!same(gpu_nan, 1.0));
    assert!(!same(1.0, f32::from_bits(1.0f32.to_bits() + 1)));
    assert!(!same(0.0, -0.0), "signed zeros are bits, not NaN");
    assert!(same(-0.0, -0.0));
}

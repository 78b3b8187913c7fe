//! `BorrowedSgd`: the step over device tensors the caller owns. Host logic (the plan: checks,
//! tables, first-step words) without a GPU; on a GPU, steps bitwise equal to
//! `sgd_core::scalar::sgd_update` (NaN-ness for NaN results), skipping with a reason otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test.

mod common;

use common::Rng;
use common::gpu::stream_or_skip;
use sgd_core::scalar::sgd_update;
use sgd_core::{MomentumBuffer, SgdConfig, StepScalars};
use sgd_cuda::cudarc::driver::{CudaSlice, DevicePtr};
use sgd_cuda::test_support::chunks_of;
use sgd_cuda::{
    BorrowedPlan, BorrowedSgd, BorrowedTensor, CudaSgdError, CudaSgdOptions, GroupError,
    TensorError,
};

fn tensor(
    group: usize,
    len: usize,
    param: u64,
    grad: u64,
    momentum: Option<u64>,
) -> BorrowedTensor {
    BorrowedTensor { group, len, param, grad, momentum, first_step: false }
}

#[test]
fn plan_checks_groups_buffers_and_overlaps() {
    let groups = [
        SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() },
        SgdConfig { lr: 0.1, ..SgdConfig::default() },
    ];
    let a = 0x1000_0000u64; // 256 MiB apart: no accidental overlaps
    let ok = [
        tensor(0, 100, a, a + 0x1000, Some(a + 0x2000)),
        tensor(1, 8, a + 0x3000, a + 0x4000, None),
    ];
    assert!(BorrowedPlan::new(&groups, &ok, 64).is_ok());
    let e = BorrowedPlan::new(&groups, &[tensor(2, 1, a, a + 0x1000, None)], 64).unwrap_err();
    assert!(
        matches!(
            e,
            CudaSgdError::Group(GroupError::Unknown { tensor: Some(0), group: 2, groups: 2 })
        ),
        "{e}"
    );
    let e = BorrowedPlan::new(&groups, &[tensor(0, 1, a, a + 0x1000, None)], 64).unwrap_err();
    assert!(
        matches!(e, CudaSgdError::Tensor(TensorError::MissingMomentumBuffer { tensor: 0 })),
        "{e}"
    );
    // A parameter that overlaps another tensor's parameter, its own gradient, or a buffer.
    for bad in [
        [tensor(1, 100, a, a + 0x1000, None), tensor(1, 100, a + 0x100, a + 0x2000, None)],
        [tensor(1, 100, a, a + 0x40, None), tensor(1, 8, a + 0x3000, a + 0x4000, None)],
        [
            tensor(0, 100, a, a + 0x1000, Some(a + 0x1100)),
            tensor(1, 8, a + 0x3000, a + 0x4000, None),
        ],
    ] {
        let e = BorrowedPlan::new(&groups, &bad, 64).unwrap_err();
        assert!(matches!(e, CudaSgdError::Tensor(TensorError::Overlap { .. })), "{bad:?}: {e}");
    }
    // Two tensors reading the same gradient memory is fine (nothing writes it).
    let shared_grad =
        [tensor(1, 100, a, a + 0x1000, None), tensor(1, 100, a + 0x2000, a + 0x1000, None)];
    assert!(BorrowedPlan::new(&groups, &shared_grad, 64).is_ok());
    // Not f32-aligned.
    let e = BorrowedPlan::new(&groups, &[tensor(1, 4, a + 2, a + 0x1000, None)], 64).unwrap_err();
    assert!(matches!(e, CudaSgdError::Tensor(TensorError::Misaligned { .. })), "{e}");
}

#[test]
fn plan_tables_and_first_step_words() {
    let groups = [SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() }];
    let a = 0x2000_0000u64;
    let mut tensors = [
        tensor(0, 130, a, a + 0x10000, Some(a + 0x20000)),
        tensor(0, 64, a + 0x30000, a + 0x40000, Some(a + 0x50000)),
    ];
    tensors[1].first_step = true;
    let p = BorrowedPlan::new(&groups, &tensors, 64).unwrap();
    assert_eq!(p.table.tensors.len(), 2);
    assert_eq!(p.table.tensors[0].param, a);
    assert_eq!(p.table.tensors[1].momentum, a + 0x50000);
    assert_eq!(p.table.num_chunks(), chunks_of(130, 64) + chunks_of(64, 64));
    // Tensor 0's three chunks keep their buffers; tensor 1's one chunk takes its first step.
    assert_eq!(p.chunk_first, [0, 0, 0, 1]);
}

#[test]
fn borrowed_steps_match_the_scalar_reference_on_a_gpu() {
    let Some(stream) = stream_or_skip("borrowed_steps_match_the_scalar_reference") else { return };
    let groups = vec![
        SgdConfig {
            lr: 0.05,
            momentum: 0.9,
            nesterov: true,
            weight_decay: 1e-2,
            ..SgdConfig::default()
        },
        SgdConfig { lr: 0.2, ..SgdConfig::default() },
    ];
    let lens = [1000usize, 3, 70_001];
    let group_of = [0usize, 1, 0];
    let mut rng = Rng(7);
    let mut host_p: Vec<Vec<f32>> = lens.iter().map(|&n| rng.vec(n)).collect();
    let mut host_b: Vec<Vec<f32>> = lens.iter().map(|&n| vec![0.0; n]).collect();
    let params: Vec<_> = host_p.iter().map(|p| stream.clone_htod(p).unwrap()).collect();
    let bufs: Vec<_> = lens.iter().map(|&n| stream.alloc_zeros::<f32>(n).unwrap()).collect();
    let mut opt =
        BorrowedSgd::new(stream.clone(), groups.clone(), CudaSgdOptions::default()).unwrap();
    let mut first = [true; 3];
    for step in 0..4 {
        let grads_h: Vec<Vec<f32>> = lens.iter().map(|&n| rng.vec(n)).collect();
        let grads: Vec<_> = grads_h.iter().map(|g| stream.clone_htod(g).unwrap()).collect();
        let addr = |s: &CudaSlice<f32>| s.device_ptr(&stream).0;
        let tensors: Vec<BorrowedTensor> = (0..lens.len())
            .map(|i| BorrowedTensor {
                group: group_of[i],
                len: lens[i],
                param: addr(&params[i]),
                grad: addr(&grads[i]),
                momentum: (groups[group_of[i]].momentum != 0.0).then(|| addr(&bufs[i])),
                first_step: first[i],
            })
            .collect();
        // SAFETY: every address is a live allocation of this stream's context of `len` f32,
        // nothing else touches them until the step has run (the copies below are in order).
        unsafe { opt.step(&tensors).unwrap() };
        for i in 0..lens.len() {
            let s = StepScalars::from_config(&groups[group_of[i]]);
            let buf = s.has_momentum.then_some(MomentumBuffer::new(&mut host_b[i][..], first[i]));
            sgd_update(&s, &mut host_p[i], &grads_h[i], buf, None);
            first[i] &= !s.has_momentum;
        }
        common::gpu::assert_params_bitwise(&stream, &params, &host_p, step);
    }
}

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
    BorrowedTensor::new(group, len, param, grad, momentum, false)
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
            .map(|i| {
                let momentum = (groups[group_of[i]].momentum != 0.0).then(|| addr(&bufs[i]));
                let (group, len) = (group_of[i], lens[i]);
                BorrowedTensor::new(
                    group,
                    len,
                    addr(&params[i]),
                    addr(&grads[i]),
                    momentum,
                    first[i],
                )
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

/// The dtypes of borrowed tensors are checked as sgd-core checks them (typed errors naming the
/// tensor), their addresses aligned to their elements, their master copies as written ranges;
/// a plan with a tensor that is not float32 asks for the typed kernel.
#[test]
fn plan_checks_dtypes_master_copies_and_alignment() {
    use sgd_core::{Dtype, PrecisionError, Rounding};
    use sgd_cuda::{BorrowedMaster, BorrowedPrecision};
    let groups = [SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() }];
    let a = 0x3000_0000u64;
    let t =
        |p: BorrowedPrecision| tensor(0, 100, a, a + 0x1000, Some(a + 0x2000)).with_precision(p);
    let master = BorrowedPrecision::with_master(Dtype::Bf16, a + 0x3000, 100);
    let plan = BorrowedPlan::new(&groups, &[t(master)], 64).unwrap();
    assert!(plan.typed);
    assert!(!BorrowedPlan::new(&groups, &[t(BorrowedPrecision::F32)], 64).unwrap().typed);
    let cases = [
        (
            BorrowedPrecision { grad: Dtype::F16, ..BorrowedPrecision::storage(Dtype::Bf16) },
            PrecisionError::GradDtype { tensor: 0, param: Dtype::Bf16, grad: Dtype::F16 },
        ),
        (
            BorrowedPrecision { buffer: Dtype::F32, ..BorrowedPrecision::storage(Dtype::F64) },
            PrecisionError::BufferDtype {
                tensor: 0,
                param: Dtype::F64,
                buffer: Dtype::F32,
                expected: Dtype::F64,
            },
        ),
        (
            BorrowedPrecision {
                master: Some(BorrowedMaster { address: a + 0x3000, len: 99 }),
                ..master
            },
            PrecisionError::MasterLength { tensor: 0, params: 100, master: 99 },
        ),
        (
            BorrowedPrecision::F32.rounded(Rounding::Stochastic),
            PrecisionError::StochasticRoundingUnsupported { tensor: 0, dtype: Dtype::F32 },
        ),
        (
            BorrowedPrecision::storage(Dtype::F64).rounded(Rounding::Stochastic),
            PrecisionError::StochasticRoundingUnsupported { tensor: 0, dtype: Dtype::F64 },
        ),
    ];
    for (p, want) in cases {
        let e = BorrowedPlan::new(&groups, &[t(p)], 64).unwrap_err();
        assert_eq!(e, CudaSgdError::Precision(want), "{p:?}");
        assert!(e.to_string().starts_with("tensor 0: "), "{e}");
    }
    // float64 addresses are 8-byte aligned, bf16 ones 2-byte aligned.
    let f64_at_4 = tensor(0, 10, a + 4, a + 0x1000, Some(a + 0x2000))
        .with_precision(BorrowedPrecision::storage(Dtype::F64));
    let e = BorrowedPlan::new(&groups, &[f64_at_4], 64).unwrap_err();
    assert!(
        matches!(e, CudaSgdError::Tensor(TensorError::Misaligned { tensor: 0, align: 8, .. })),
        "{e}"
    );
    let bf16_at_2 = tensor(0, 10, a + 2, a + 0x1002, Some(a + 0x2002))
        .with_precision(BorrowedPrecision::storage(Dtype::Bf16));
    assert!(BorrowedPlan::new(&groups, &[bf16_at_2], 64).is_ok());
    // A master copy over the tensor's own buffer is an overlap.
    let over = BorrowedPrecision::with_master(Dtype::Bf16, a + 0x2000 + 8, 100);
    let e = BorrowedPlan::new(&groups, &[t(over)], 64).unwrap_err();
    assert!(matches!(e, CudaSgdError::Tensor(TensorError::Overlap { .. })), "{e}");
}

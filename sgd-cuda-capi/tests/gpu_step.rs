//! Steps through the C ABI on a GPU, bit for bit against sgd-core's scalar reference: three
//! tensors in two groups on a stream the test owns (as PyTorch owns its own), new learning
//! rates, a device grad scale, a skipped step (found_inf), a captured graph replayed with new
//! and with unchanged learning rates. Without a GPU it prints why it skips (and fails instead
//! under `SGD_CUDA_REQUIRE_GPU=1`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test.
use core::ffi::c_void;
use core::ptr;

use sgd_core::scalar::sgd_update;
use sgd_core::{MomentumBuffer, SgdConfig, StepScalars};
use sgd_cuda::cudarc::driver::{CudaSlice, CudaStream, DevicePtr};
use sgd_cuda_capi::{
    SgdCudaConfigC, SgdCudaOptimizer, SgdCudaTensorC, sgd_cuda_capture_graph, sgd_cuda_create,
    sgd_cuda_destroy, sgd_cuda_last_error_message, sgd_cuda_set_grad_scaler, sgd_cuda_step,
};

/// sgd-cuda's GPU-test device: a stream on device 0 or a printed reason to skip.
#[path = "../../sgd-cuda/tests/common/gpu.rs"]
mod gpu;
use gpu::stream_or_skip;

/// Deterministic values in [-2, 2).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let top = u32::try_from(x >> 40).unwrap(); // 24 bits
            f32::from(u16::try_from(top >> 8).unwrap()) / 16384.0 - 2.0
        })
        .collect()
}

fn message() -> String {
    let mut buf = [0u8; 512];
    // SAFETY: `buf` is valid for its length.
    unsafe { sgd_cuda_last_error_message(buf.as_mut_ptr(), buf.len()) };
    core::ffi::CStr::from_bytes_until_nul(&buf).unwrap().to_string_lossy().into_owned()
}

fn address<T>(s: &CudaSlice<T>, stream: &CudaStream) -> usize {
    usize::try_from(s.device_ptr(stream).0).unwrap()
}

/// One step: learning rates (`None`: keep them), grad scale (`None`: no scaler yet),
/// found_inf, whether to capture a graph first.
type StepPlan = (Option<[f64; 2]>, Option<f32>, f32, bool);

#[test]
fn c_steps_match_the_scalar_reference_on_a_gpu() {
    let Some(stream) = stream_or_skip("c_steps_match_the_scalar_reference_on_a_gpu") else {
        return;
    };
    let mut groups = [
        SgdConfig {
            lr: 0.05,
            momentum: 0.9,
            nesterov: true,
            weight_decay: 1e-2,
            ..SgdConfig::default()
        },
        SgdConfig { lr: 0.2, maximize: true, ..SgdConfig::default() },
    ];
    let lens = [1000usize, 3, 70_001];
    let group_of = [0usize, 1, 0];
    let mut host_p: Vec<Vec<f32>> = lens.iter().zip(1..).map(|(&n, s)| values(n, s)).collect();
    let mut host_b: Vec<Vec<f32>> = lens.iter().map(|&n| vec![0.0; n]).collect();
    let params: Vec<CudaSlice<f32>> =
        host_p.iter().map(|p| stream.clone_htod(p).unwrap()).collect();
    let mut grads: Vec<CudaSlice<f32>> =
        lens.iter().map(|&n| stream.alloc_zeros::<f32>(n).unwrap()).collect();
    let bufs: Vec<CudaSlice<f32>> =
        lens.iter().map(|&n| stream.alloc_zeros::<f32>(n).unwrap()).collect();
    let mut scaler = stream.clone_htod(&[1.0f32, 0.0]).unwrap();

    let configs: Vec<SgdCudaConfigC> = groups.iter().map(|&c| SgdCudaConfigC::from(c)).collect();
    let tensors: Vec<SgdCudaTensorC> = (0..lens.len())
        .map(|i| SgdCudaTensorC {
            param: ptr::with_exposed_provenance_mut(address(&params[i], &stream)),
            grad: ptr::with_exposed_provenance(address(&grads[i], &stream)),
            momentum_buffer: ptr::with_exposed_provenance_mut(address(&bufs[i], &stream)),
            numel: lens[i],
            group: u32::try_from(group_of[i]).unwrap(),
            initialized: 0,
        })
        .collect();
    let mut opt: *mut SgdCudaOptimizer = ptr::null_mut();
    let raw_stream: *mut c_void = stream.cu_stream().cast();
    // SAFETY: host arrays alive for the call; device pointers of live allocations of the
    // stream's context that outlive the optimizer; the stream outlives it too.
    let status = unsafe {
        sgd_cuda_create(0, raw_stream, configs.as_ptr(), 2, tensors.as_ptr(), 3, &raw mut opt)
    };
    assert_eq!(status, 0, "{}", message());

    let scale_at: *const f32 = ptr::with_exposed_provenance(address(&scaler, &stream));
    let mut first = [true; 3];
    let plan: [StepPlan; 6] = [
        (Some([0.05, 0.2]), None, 0.0, false),
        (Some([0.01, 0.3]), Some(1024.0), 0.0, false),
        (None, Some(1024.0), 1.0, false),
        (Some([0.02, 0.1]), Some(0.5), 0.0, true),
        (None, Some(0.5), 0.0, false),
        (Some([0.03, 0.4]), Some(0.5), 0.0, false),
    ];
    let mut scaled = false;
    for (step, &(lrs, scale, found_inf, capture)) in plan.iter().enumerate() {
        let host_g: Vec<Vec<f32>> =
            lens.iter().zip(100..).map(|(&n, s)| values(n, s + step as u64)).collect();
        for (g, h) in grads.iter_mut().zip(&host_g) {
            stream.memcpy_htod(h, g).unwrap();
        }
        if let Some(scale) = scale {
            stream.memcpy_htod(&[scale, found_inf], &mut scaler).unwrap();
            if !scaled {
                // SAFETY: a live optimizer; two floats of a live allocation, outside every tensor.
                let status =
                    unsafe { sgd_cuda_set_grad_scaler(opt, scale_at, scale_at.wrapping_add(1)) };
                assert_eq!(status, 0, "{}", message());
                scaled = true;
            }
        }
        if capture {
            // SAFETY: a live optimizer; nothing else uses the stream during the capture.
            assert_eq!(unsafe { sgd_cuda_capture_graph(opt) }, 0, "{}", message());
        }
        let (lr_ptr, n) = lrs.as_ref().map_or((ptr::null(), 0), |l| (l.as_ptr(), 2));
        // SAFETY: a live optimizer; the tensors are only used on this stream, in order.
        assert_eq!(unsafe { sgd_cuda_step(opt, lr_ptr, n) }, 0, "step {step}: {}", message());
        if let Some(l) = lrs {
            groups[0].lr = l[0];
            groups[1].lr = l[1];
        }
        if found_inf == 0.0 {
            for i in 0..lens.len() {
                let s = StepScalars::from_config(&groups[group_of[i]]);
                let buf =
                    s.has_momentum.then_some(MomentumBuffer::new(&mut host_b[i][..], first[i]));
                sgd_update(&s, &mut host_p[i], &host_g[i], buf, scale);
                first[i] &= !s.has_momentum;
            }
        }
        gpu::assert_params_bitwise(&stream, &params, &host_p, step);
    }
    // SAFETY: created above, destroyed once, its stream still alive.
    unsafe { sgd_cuda_destroy(opt) };
    stream.synchronize().unwrap();
}

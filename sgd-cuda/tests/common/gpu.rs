//! The GPU tests' device: a stream on device 0, or a printed reason to skip.
//!
//! Included by the GPU tests of sgd-cuda (through `common`), sgd-cuda-capi and lrkit-tests
//! (with `#[path]`): it uses sgd-cuda's public API only.

use std::sync::Arc;

use sgd_cuda::cudarc::driver::{CudaSlice, CudaStream};

/// A stream on device 0, or `None` after printing why the GPU test `test` skips
/// (`skipping <test>: ...` on stderr).
///
/// # Panics
///
/// When `SGD_CUDA_REQUIRE_GPU` is set and no device can be opened, so that a GPU run cannot
/// pass by skipping everything.
pub(crate) fn stream_or_skip(test: &str) -> Option<Arc<CudaStream>> {
    match sgd_cuda::device::open_stream(0) {
        Ok(stream) => Some(stream),
        Err(err) => {
            assert!(
                std::env::var_os("SGD_CUDA_REQUIRE_GPU").is_none(),
                "{test}: SGD_CUDA_REQUIRE_GPU is set but no CUDA device could be opened: {err}"
            );
            eprintln!("skipping {test}: {err}");
            None
        }
    }
}

/// Asserts that every device tensor in `params` equals its host reference in `want` bit for
/// bit (NaN-ness for NaNs), naming the step, tensor and element of the first difference.
///
/// # Panics
///
/// On a difference, or when a device read fails.
// Not every test that includes this file compares device tensors with a host reference.
#[allow(dead_code)]
pub(crate) fn assert_params_bitwise(
    stream: &Arc<CudaStream>,
    params: &[CudaSlice<f32>],
    want: &[Vec<f32>],
    step: usize,
) {
    for (i, (param, want)) in params.iter().zip(want).enumerate() {
        let got = stream.clone_dtoh(param).unwrap();
        for (j, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                "step {step} tensor {i}[{j}]: {g:e} vs {w:e}"
            );
        }
    }
}

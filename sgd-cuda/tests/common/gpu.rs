//! The GPU tests' device: a stream on device 0, or a printed reason to skip.
//!
//! Included by the GPU tests of sgd-cuda (through `common`), sgd-cuda-capi and lrkit-tests
//! (with `#[path]`): it uses sgd-cuda's public API only.

use std::sync::Arc;

use sgd_cuda::cudarc::driver::CudaStream;

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

//! C ABI for [`sgd_cuda`]: one fused SGD step over device tensors that belong to the caller
//! (PyTorch's CUDA tensors, a C program's allocations), on the caller's stream. The header is
//! `include/sgd_cuda.h`.
//!
//! An optimizer is made once from the tensors' device pointers, their groups' options and the
//! caller's `CUstream` ([`sgd_cuda_create`]); each [`sgd_cuda_step`] then is one kernel launch
//! (or one replay of the graph of [`sgd_cuda_capture_graph`]) with the step's learning rates.
//! The gradient scaler (`grad_scale`, `found_inf`) is read from device memory
//! ([`sgd_cuda_set_grad_scaler`]), as torch's fused optimizers read it.
//!
//! Every entry point checks everything it can on the host before anything is written to the
//! device or launched, and reports bad input as a status code ([`SgdCudaStatus`]) with a message
//! that names the bad value ([`sgd_cuda_last_error_message`]); none of them unwinds into C (a
//! panic, which would be a bug, is caught and reported as [`SgdCudaStatus::Panic`]). Without a
//! CUDA driver, creating an optimizer fails cleanly with [`SgdCudaStatus::NoDriver`] after the
//! host-side checks.
//!
//! ```c
//! sgd_cuda_tensor t = { w, g, buf, n, 0 /* group */, 0 /* initialized */ };
//! sgd_cuda_config group = { .lr = 0.1, .momentum = 0.9 };
//! sgd_cuda_optimizer *opt = NULL;
//! int32_t status = sgd_cuda_create(0, stream, &group, 1, &t, 1, &opt);
//! double lr = 0.05;
//! if (status == SGD_CUDA_OK) status = sgd_cuda_step(opt, &lr, 1);
//! if (status < 0) { char msg[256]; sgd_cuda_last_error_message(msg, sizeof msg); }
//! sgd_cuda_destroy(opt);
//! ```

mod check;
mod error;
mod optimizer;
mod types;

pub use error::{CapiError, Field, SgdCudaStatus, sgd_cuda_last_error_message};
pub use optimizer::{
    SgdCudaOptimizer, sgd_cuda_capture_graph, sgd_cuda_create, sgd_cuda_create_typed,
    sgd_cuda_destroy, sgd_cuda_release_graph, sgd_cuda_set_grad_scaler, sgd_cuda_set_lrs,
    sgd_cuda_set_rounding_key, sgd_cuda_step,
};
pub use types::{SgdCudaConfigC, SgdCudaTensorC, SgdCudaTypedTensorC};

/// The README's Rust example, compiled as a doctest (`no_run`: it needs a GPU).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

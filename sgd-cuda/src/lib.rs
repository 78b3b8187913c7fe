//! One-launch multi-tensor fused `torch.optim.SGD` for NVIDIA GPUs.
//!
//! The update is the one of `sgd_cpu::scalar::sgd_update` (the specification), bit for bit,
//! applied to every tensor of every parameter group in **one kernel launch**:
//!
//! * kernels are `.cu` files compiled at run time by NVRTC ([`kernels`]) with explicit
//!   options (no contraction, no fast math), once per device ([`device::module_for`]);
//! * the tensor table, chunk list and group table live in device memory across steps
//!   ([`table`] builds them on the host, pure Rust); a step uploads only the learning rates;
//! * a step can be captured in a CUDA graph and replayed with new learning rates;
//! * gradient scale and found-inf flag are read on the device (AMP-style skipped steps).
//!
//! `cudarc` loads `libcuda`/`libnvrtc` at run time, so the crate builds (and its host-side
//! tests run) on machines without CUDA; opening a device there returns
//! [`CudaSgdError::DriverLibraryNotFound`] instead of panicking.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod device;
mod error;
pub mod kernels;
mod sgd;
pub mod table;

/// The `cudarc` version this crate is built on (device buffers are `cudarc::driver::CudaSlice`).
pub use cudarc;
pub use error::CudaSgdError;
pub use sgd::{BufferId, CudaSgd, CudaSgdOptions, TensorRef, validate_tensors};

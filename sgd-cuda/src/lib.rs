//! One-launch multi-tensor fused `torch.optim.SGD` for NVIDIA GPUs.
//!
//! The update is the one of `sgd_core::scalar::sgd_update` (the specification), bit for bit,
//! applied to every tensor of every parameter group in **one kernel launch**:
//!
//! * kernels are `.cu` files compiled at run time by NVRTC ([`kernels`]) with explicit
//!   options (no contraction, no fast math), once per device ([`device::module_for`]);
//! * the tensor table, chunk list and group table live in device memory across steps
//!   ([`table`] builds them on the host, pure Rust); a step uploads only the learning rates;
//! * a step can be captured in a CUDA graph and replayed with new learning rates;
//! * or the learning rates of the next K steps live on the device ([`schedule`],
//!   [`CudaSgd::set_device_schedule`]): a replayed graph then needs no host work at all;
//! * gradient scale and found-inf flag are read on the device (AMP-style skipped steps).
//!
//! ```no_run
//! use sgd_cuda::{device, BufferId, CudaSgd, CudaSgdOptions, SgdConfig, TensorRef};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let stream = device::open_stream(0)?; // typed error without a driver or GPU
//! let params = stream.clone_htod(&vec![1.0f32; 1000])?;
//! let grads = stream.alloc_zeros::<f32>(1000)?;
//! // Two tensors in one buffer pair, two groups (the second one with momentum).
//! let tensors = vec![
//!     TensorRef { group: 0, param_buffer: BufferId(0), params: 0..600, grad_buffer: BufferId(1), grads: 0..600 },
//!     TensorRef { group: 1, param_buffer: BufferId(0), params: 600..1000, grad_buffer: BufferId(1), grads: 600..1000 },
//! ];
//! let groups = vec![SgdConfig { lr: 0.1, ..SgdConfig::default() }, SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() }];
//! let mut opt = CudaSgd::new(stream.clone(), groups, vec![params, grads], tensors, CudaSgdOptions::default())?;
//! opt.capture_graph()?; // optional: later steps replay one CUDA graph
//! for step in 0..10 {
//!     // ... write gradients into opt.buffer_mut(BufferId(1))? ...
//!     let lr = 0.1 / (1 + step) as f64; // from a scheduler
//!     opt.step(&[lr, lr])?; // one H2D copy of the lrs + one launch (or graph replay)
//! }
//! let first_tensor = opt.params_to_host(0)?;
//! # Ok(()) }
//! ```
//!
//! By default (feature `dynamic-loading`) `cudarc` loads `libcuda`/`libnvrtc` at run time, so
//! the crate builds (and its host-side tests run) on machines without CUDA; opening a device
//! there returns [`CudaSgdError::DriverLibraryNotFound`] instead of panicking. The
//! `dynamic-linking` feature links them instead, as candle-core does (see Cargo.toml).
#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(all(feature = "dynamic-loading", feature = "dynamic-linking"))]
compile_error!(
    "sgd-cuda: features `dynamic-loading` and `dynamic-linking` exclude each other (use `default-features = false` with `dynamic-linking`)"
);
#[cfg(not(any(feature = "dynamic-loading", feature = "dynamic-linking")))]
compile_error!("sgd-cuda: enable `dynamic-loading` (the default) or `dynamic-linking`");

mod borrowed;
pub mod device;
mod error;
mod fixed_borrowed;
mod foreign_stream;
pub mod kernels;
mod library_panic;
pub mod schedule;
mod sgd;
mod sgd_device_schedule;
pub mod table;

pub use borrowed::{BorrowedPlan, BorrowedSgd, BorrowedTensor, plan};
/// The `cudarc` version this crate is built on (device buffers are `cudarc::driver::CudaSlice`).
pub use cudarc;
pub use error::CudaSgdError;
pub use fixed_borrowed::{FixedBorrowedSgd, validate_lrs};
pub use foreign_stream::{borrow_stream, preserving_current_context};
/// The sched-core version device schedules are recorded with ([`CudaSgd::set_device_schedule`]).
pub use sched_core;
pub use schedule::LrTable;
pub use sgd::{BufferId, CudaSgd, CudaSgdOptions, TensorRef, validate_groups, validate_tensors};
/// A group's options and their errors (from sgd-core, the same types sgd-cpu uses).
pub use sgd_core::{ConfigError, SgdConfig};

/// The README's examples, compiled as doctests (`no_run`: they need a GPU).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

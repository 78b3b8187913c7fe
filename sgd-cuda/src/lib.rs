//! One-launch multi-tensor fused `torch.optim.SGD` for NVIDIA GPUs.
//!
//! The update is the one of `sgd_core::scalar::sgd_update` (the specification), bit for bit,
//! applied to every tensor of every parameter group in **one kernel launch**:
//!
//! * kernels are `.cu` files compiled at run time by NVRTC with explicit options (no
//!   contraction, no fast math), once per device and process;
//! * the tensor table, chunk list and group table live in device memory across steps (built
//!   on the host, pure Rust); a step uploads only the learning rates;
//! * a step can be captured in a CUDA graph and replayed with new learning rates;
//! * or the learning rates of the next K steps live on the device ([`schedule`],
//!   [`CudaSgd::set_device_schedule`]): a replayed graph then needs no host work at all;
//! * gradient scale and found-inf flag are read on the device (AMP-style skipped steps);
//! * borrowed tensors ([`BorrowedTensor`]) may be float64, bfloat16/float16 or bf16/f16 with f32
//!   master weights, rounded to nearest or stochastically ([`BorrowedPrecision`]), the rules of
//!   `sgd_core::scalar64` and `sgd_core::precision` bit for bit, in the same one launch.
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
//! Every failure is a [`CudaSgdError`], one variant per category, each category an enum of its
//! own ([`LibraryError`], [`TensorError`], [`ScheduleError`], ...). [`CudaSgd`] implements
//! [`sgd_core::ScheduledGroups`], so [`sgd_core::inject_hyperparams`] writes what a sched-core
//! scheduler put into its parameter groups into the optimizer's group options.
//!
//! By default (feature `dynamic-loading`) `cudarc` loads `libcuda`/`libnvrtc` at run time, so
//! the crate builds (and its host-side tests run) on machines without CUDA; opening a device
//! there returns [`LibraryError::DriverNotFound`] instead of panicking. The
//! `dynamic-linking` feature links them instead, as candle-core does (see Cargo.toml).
#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(all(feature = "dynamic-loading", feature = "dynamic-linking"))]
compile_error!(
    "sgd-cuda: features `dynamic-loading` and `dynamic-linking` exclude each other (use `default-features = false` with `dynamic-linking`)"
);
#[cfg(not(any(feature = "dynamic-loading", feature = "dynamic-linking")))]
compile_error!("sgd-cuda: enable `dynamic-loading` (the default) or `dynamic-linking`");

mod borrowed_plan;
mod borrowed_precision;
mod borrowed_sgd;
mod borrowed_tensor;
mod cuda_sgd;
pub mod device;
mod error;
mod fixed_borrowed_sgd;
mod foreign_stream;
mod host_kernel;
mod kernel_tables;
mod kernels;
mod launch;
mod launch_options;
mod library_panic;
mod module_cache;
pub mod schedule;
mod sr_key;
mod tensor_kind;
mod tensor_ref;
mod validation;

pub use borrowed_plan::BorrowedPlan;
pub use borrowed_precision::{BorrowedMaster, BorrowedPrecision};
pub use borrowed_sgd::BorrowedSgd;
pub use borrowed_tensor::BorrowedTensor;
pub use cuda_sgd::CudaSgd;
/// The `cudarc` version this crate is built on (device buffers are `cudarc::driver::CudaSlice`).
pub use cudarc;
pub use error::{
    CompileError, CudaSgdError, GradScalerError, GroupError, LaunchError, LibraryError,
    ScheduleError, StreamError, TensorError,
};
pub use fixed_borrowed_sgd::FixedBorrowedSgd;
pub use foreign_stream::{borrow_stream, preserving_current_context};
pub use launch_options::CudaSgdOptions;
/// The sched-core version device schedules are recorded with ([`CudaSgd::set_device_schedule`]).
pub use sched_core;
pub use schedule::LrTable;
/// A group's options and their errors, the dtypes and their errors (from sgd-core, the same
/// types sgd-cpu uses).
pub use sgd_core::{ConfigError, Dtype, PrecisionError, Rounding, SgdConfig};
pub use sr_key::SrKey;
pub use tensor_kind::TensorKind;
pub use tensor_ref::{BufferId, TensorRef};
pub use validation::{validate_groups, validate_lrs, validate_tensors};

/// What the integration tests that run without a GPU reach inside the crate: the kernel sources
/// and their NVRTC compilation (`tests/nvrtc_compile.rs`), the host-side tables the kernel reads
/// (`tests/kernel_on_host.rs`, `tests/borrowed.rs`), and the kernel source compiled for the host
/// and run on such tables (`host_runner`, `run_on_host`; also lrkit-tests' golden parity). Not part of the API: hidden from the docs,
/// without any stability promise.
#[doc(hidden)]
pub mod test_support {
    pub use crate::host_kernel::{HostLaunch, HostOutcome, host_runner, run_on_host};
    pub use crate::kernel_tables::{
        DeviceTensorTable, TensorSpec, chunks_of, group_entries, packed_offsets,
    };
    pub use crate::kernels::{ALL_KERNELS, KernelSource, compile, compile_cubin, nvrtc_available};
    pub use crate::kernels::{SGD_KERNEL, SGD_TYPED_KERNEL};
}

/// The README's examples, compiled as doctests (`no_run`: they need a GPU).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

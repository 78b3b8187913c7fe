//! What the C ABIs of `sgd-cpu-capi` and `sgd-cuda-capi` share, so that their headers'
//! common parts have one Rust side: the `#[repr(C)]` options of a parameter group
//! ([`ConfigC`]: `sgd_config` in `sgd_cpu.h`, `sgd_cuda_config` in `sgd_cuda.h`), the dtype and
//! rounding codes of a tensor ([`dtype_code`]) and the per-thread message of the last error
//! ([`last_error`]).
//!
//! Each C library links its own copy of this crate, so each keeps its own last-error slot.

mod config;
pub mod dtype_code;
pub mod last_error;

pub use config::ConfigC;

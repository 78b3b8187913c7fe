//! The scalar core of lrkit's fused `torch.optim.SGD`, shared by every backend (sgd-cpu's SIMD
//! kernels, sgd-cuda's kernel, the C ABI, the candle optimizer):
//!
//! * [`SgdConfig`]: a parameter group's options as `torch.optim.SGD` takes them, and their
//!   checks ([`SgdConfig::validate`], [`ConfigError`]);
//! * [`StepScalars`]: the f32 scalars of one step, rounded from the f64 options as torch
//!   rounds them (`f32(-lr)`, [`neg_lr`]);
//! * [`scalar::sgd_update`]: the update of one element, the executable specification every
//!   backend matches bit for bit, with its operation order and its fused multiply-adds
//!   ([`fma::fma`]);
//! * the dtypes people train in ([`Dtype`]): float64 ([`scalar64`], the same rule in f64),
//!   bfloat16/float16 storage and f32 master weights ([`precision`], with [`Bf16`], [`F16`]
//!   and the exact integer conversions of [`convert`]), stochastic rounding from a
//!   counter-based generator ([`philox`], [`SrStream`], [`Rounding`]), and the check of a
//!   tensor's dtypes ([`check_tensor`], typed [`PrecisionError`]);
//! * [`inject_hyperparams`]: the bridge from a sched-core schedule to an optimizer, writing
//!   what a scheduler put into its [`ParamGroup`]s into the optimizer's options
//!   ([`ScheduledGroups`], [`SgdConfig::scheduled`]).
//!
//! `no_std` without the default feature `std`, no heap, no unsafe code (except the one
//! `vfma.f32` of feature `arm-vfma` on 32-bit Arm), no dependencies but `libm`, sched-core
//! (for [`ParamGroup`]) and `bytemuck` (the `Pod` views of [`Bf16`] and [`F16`]).
//!
//! ```
//! use sgd_core::scalar::sgd_update;
//! use sgd_core::{MomentumBuffer, SgdConfig, StepScalars};
//!
//! let config = SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() };
//! config.validate(0)?;
//! let s = StepScalars::from_config(&config);
//! let (mut w, g, mut buf) = ([1.0f32, 2.0], [0.5f32, 0.5], [0.0f32; 2]);
//! sgd_update(&s, &mut w, &g, Some(MomentumBuffer::new(&mut buf, true)), None);
//! assert_eq!(w, [0.95, 1.95]);
//! assert_eq!(buf, [0.5, 0.5]);
//! # Ok::<(), sgd_core::ConfigError>(())
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
// The `vfma.f32` of `fma` (feature `arm-vfma`) is the only unsafe code; without that feature
// none can be written.
#![cfg_attr(not(feature = "arm-vfma"), forbid(unsafe_code))]
#![cfg_attr(feature = "arm-vfma", deny(unsafe_code))]

mod config;
mod config_error;
pub mod convert;
mod dtype;
pub mod fma;
mod half;
mod inject;
#[cfg(feature = "std")]
mod panic_message;
pub mod philox;
pub mod precision;
mod precision_error;
pub mod scalar;
pub mod scalar64;
mod step_scalars;
mod step_scalars64;

pub use config::SgdConfig;
pub use config_error::ConfigError;
pub use dtype::{Dtype, Rounding};
pub use half::{Bf16, F16, HalfFloat};
pub use inject::{GroupCountMismatch, InjectError, ScheduledGroups, inject_hyperparams};
#[cfg(feature = "std")]
pub use panic_message::panic_message;
pub use philox::SrStream;
pub use precision::{TensorDtypes, UpdateMode, check_tensor};
pub use precision_error::PrecisionError;
pub use scalar::MomentumBuffer;
/// The scheduler side of [`inject_hyperparams`]: a parameter group as a schedule writes it.
pub use sched_core::ParamGroup;
pub use step_scalars::{StepScalars, neg_lr};
pub use step_scalars64::StepScalars64;

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

//! Fused multi-tensor `torch.optim.SGD` for CPUs.
//!
//! One pass over memory per step for a whole model: every tensor of every parameter group is
//! updated in a single fused read-modify-write (read param, grad, momentum buffer; write param,
//! buffer: 20 bytes per element with momentum), with the semantics of `torch.optim.SGD`
//! (`lr`, `momentum`, `dampening`, `nesterov`, `weight_decay`, `maximize`, per group) and
//! torch's fused mixed-precision inputs (`grad_scale`, `found_inf`).
//!
//! * The rule, its rounding and its operation order: [`scalar`] (the specification; every
//!   backend matches it bit for bit), with [`SgdConfig`], [`StepScalars`] and [`fma`]: the
//!   scalar core, defined in [`sgd_core`] and re-exported here.
//! * Backends: scalar, AVX2+FMA, AVX-512, NEON, chosen once at run time ([`Backend`]).
//! * Caller-owned tensors: [`fused_step`] over [`TensorGroup`]s of [`TensorSlot`]s (no
//!   allocation, works without `std`); multi-threaded: [`ThreadPool::fused_step`].
//! * Owned state: [`Sgd`] (momentum buffers and their "initialised" flags per tensor); a
//!   scheduler drives its groups through [`inject_hyperparams`] ([`ScheduledGroups`]).
//! * Steps whose working set exceeds the last-level cache prefetch ([`Prefetch`]).
//!
//! ```
//! use sgd_cpu::{GroupSpec, Sgd, SgdConfig};
//!
//! let config = SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() };
//! let mut sgd = Sgd::new(vec![GroupSpec { config, numels: vec![3] }])?;
//! let mut w = [1.0f32, 2.0, 3.0];
//! let g = [0.5f32, 0.5, 0.5];
//! sgd.step(&mut [&mut w[..]], &[Some(&g[..])])?;
//! assert_eq!(w, [0.95, 1.95, 2.95]);
//! sgd.set_lr(0, 0.05)?; // or every group from a scheduler: `inject_hyperparams`
//! # Ok::<(), sgd_cpu::SgdError>(())
//! ```
#![cfg_attr(not(feature = "std"), no_std)]

#[cfg(feature = "alloc")]
extern crate alloc;

mod backend;
pub mod bytes;
mod error;
mod group;
#[cfg(feature = "alloc")]
mod optimizer;
#[cfg(feature = "alloc")]
mod placed;
mod prefetch;
mod step;
#[cfg(feature = "std")]
mod thread_pool;
mod typed;
#[cfg(feature = "std")]
mod workers;

pub use backend::Backend;
pub use error::SgdError;
pub use group::{MomentumSlot, TensorGroup, TensorSlot};
#[cfg(feature = "alloc")]
pub use optimizer::{GroupSpec, Sgd};
pub use prefetch::Prefetch;
pub use scalar::MomentumBuffer;
/// The scalar core: the options and their rules, the step scalars, the reference update and its
/// fused multiply-add, and the bridge from a schedule to the options.
pub use sgd_core::{
    Bf16, ConfigError, Dtype, F16, GroupCountMismatch, HalfFloat, InjectError, PrecisionError,
    Rounding, ScheduledGroups, SgdConfig, SrStream, StepScalars, StepScalars64, convert, fma,
    inject_hyperparams, philox, precision, scalar, scalar64,
};
pub use step::{StepOptions, StepOutcome, fused_step};
#[cfg(feature = "std")]
pub use thread_pool::ThreadPool;
pub use typed::{
    Conversions, TensorMut, TensorRef, TypedGroup, TypedMomentum, TypedSlot, TypedStepOptions,
    typed_step,
};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

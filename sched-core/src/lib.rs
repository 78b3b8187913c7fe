//! Every PyTorch learning-rate scheduler, `no_std` and without a heap, with two ways to
//! evaluate it:
//!
//! - **torch-exact stepping**: `step()` writes into your [`ParamGroup`]s exactly what
//!   `torch.optim.lr_scheduler.*.step()` writes into `optimizer.param_groups`, bit for
//!   bit (same operation order, same libm with the `std` feature), including the step
//!   done at construction, `initial_lr` handling, compound use of several schedulers
//!   on the same groups, SequentialLR / ChainedScheduler, fractional epochs for warm
//!   restarts, the plateau logic and cycled momentum;
//! - **closed form**: [`ClosedForm::lr_at`] gives `lr(t)` in O(1) for every schedule
//!   that has one (all but ReduceLROnPlateau, MultiplicativeLR and user functions),
//!   including OneCycleLR, CyclicLR, warm restarts and SequentialLR; also in `f32`
//!   ([`ClosedForm::lr_at_f32`]) for microcontrollers without double-precision hardware.
//!   [`Join`] chains two closed forms with static dispatch (SequentialLR's closed form without
//!   linking every scheduler).
//!
//! A training loop that steps a scheduler and stops early:
//!
//! ```
//! use sched_core::{CosineAnnealingLr, CosineAnnealingLrConfig, EarlyStopping, ParamGroup, PlateauMode};
//!
//! # fn main() -> Result<(), sched_core::SchedError> {
//! let mut groups = [ParamGroup::new(0.1)];
//! let mut sched = CosineAnnealingLr::new(CosineAnnealingLrConfig::new(30), &mut groups)?;
//! let mut stop = EarlyStopping::new(PlateauMode::Min, 3, 1e-4)?;
//! let mut last_epoch = 0;
//! for epoch in 0..100 {
//!     let lr = groups[0].lr; // the optimizer trains one epoch with this lr ...
//!     let val_loss = 1.0 / (1.0 + epoch.min(10) as f64); // ... and validates: stalls after 10
//!     sched.step(&mut groups)?;
//!     last_epoch = epoch;
//!     if stop.update(val_loss) {
//!         break;
//!     }
//!     assert!(lr > 0.0);
//! }
//! assert_eq!(last_epoch, 13); // 3 epochs of patience after the last improvement
//! assert_eq!(stop.best_epoch(), 11);
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//! - `std` (default): route the `f64` `cos`, `ln` and `pow` to the platform libm (glibc on
//!   Linux, the library PyTorch's Python `math` calls), making every value bit-identical to
//!   PyTorch. Without it, `cos` and `ln` are evaluated in double-double arithmetic and rounded
//!   once ([`math::cos_dd`], [`math::ln_dd`]) and `pow` comes from the pure-Rust `libm` crate:
//!   at most 2 ulp from glibc on every recorded value. `floor`, `fmod` (exact either way) and
//!   every `f32` function of [`ClosedForm::lr_at_f32`] come from the `libm` crate with or
//!   without `std`.
#![no_std]
#![forbid(unsafe_code)]

mod base;
mod chained_scheduler;
mod closed_form;
mod constant_lr;
mod cosine_annealing_lr;
mod crmath;
mod cyclic_lr;
mod early_stopping;
mod error;
mod exponential_lr;
mod group;
mod join;
mod lambda_lr;
mod linear_lr;
mod lr_lambda;
mod macros;
pub mod math;
mod multi_step_lr;
mod one_cycle_lr;
pub mod optax;
mod polynomial_lr;
mod reduce_lr_on_plateau;
pub mod registry;
mod scheduler;
mod sequential_lr;
mod snapshot;
pub mod spec;
mod step_lr;
pub mod timm;
pub mod transformers;
mod warm_restarts;

pub use base::MAX_EPOCH;
pub use chained_scheduler::ChainedScheduler;
pub use closed_form::ClosedForm;
pub use constant_lr::{ConstantLr, ConstantLrConfig};
pub use cosine_annealing_lr::{CosineAnnealingLr, CosineAnnealingLrConfig};
pub use cyclic_lr::{CyclicLr, CyclicLrConfig, CyclicMode, ScaleMode};
pub use early_stopping::EarlyStopping;
pub use error::SchedError;
pub use exponential_lr::{ExponentialLr, ExponentialLrConfig};
pub use group::{MAX_GROUPS, MAX_MILESTONES, ParamGroup, PerGroup};
pub use join::Join;
pub use lambda_lr::{LambdaLr, MultiplicativeLr};
pub use linear_lr::{LinearLr, LinearLrConfig};
pub use lr_lambda::{Lambdas, LrLambda};
pub use multi_step_lr::{MultiStepLr, MultiStepLrConfig};
pub use one_cycle_lr::{AnnealStrategy, OneCycleLr, OneCycleLrConfig};
pub use optax::{OptaxLr, OptaxSchedule};
pub use polynomial_lr::{PolynomialLr, PolynomialLrConfig};
pub use reduce_lr_on_plateau::{PlateauConfig, PlateauMode, ReduceLrOnPlateau, ThresholdMode};
pub use scheduler::Scheduler;
pub use sequential_lr::SequentialLr;
pub use snapshot::{SNAPSHOT_VERSION, Snapshot};
pub use step_lr::{StepLr, StepLrConfig};
pub use timm::{TimmConfig, TimmCycles, TimmScheduler, TimmShape};
pub use transformers::{HfSchedule, TransformersLr, WsdShape};
pub use warm_restarts::{CosineAnnealingWarmRestarts, WarmRestartsConfig};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

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

#[cfg(feature = "std")]
extern crate std;

mod early_stopping;
mod error;
pub mod math;
pub mod optax;
mod protocol;
pub mod python;
pub mod registry;
pub mod spec;
pub mod timm;
pub mod torch;
pub mod transformers;

pub use early_stopping::EarlyStopping;
pub use error::SchedError;
pub use optax::{OptaxSchedule, OptaxScheduler};
pub use protocol::{
    ClosedForm, Join, MAX_EPOCH, MAX_GROUPS, MAX_MILESTONES, ParamGroup, PerGroup,
    SNAPSHOT_VERSION, Scheduler, Snapshot, TorchState,
};
pub use python::{LambdaProgram, LambdaSyntaxError, PyException};
pub use timm::{TimmCycles, TimmScheduler, TimmSchedulerConfig, TimmShape};
pub use torch::{
    AnnealStrategy, ChainedScheduler, ConstantLr, ConstantLrConfig, CosineAnnealingLr,
    CosineAnnealingLrConfig, CosineAnnealingWarmRestarts, CosineAnnealingWarmRestartsConfig,
    CyclicLr, CyclicLrConfig, CyclicMode, ExponentialLr, ExponentialLrConfig, LambdaLr, Lambdas,
    LinearLr, LinearLrConfig, LrLambda, MultiStepLr, MultiStepLrConfig, MultiplicativeLr,
    OneCycleLr, OneCycleLrConfig, PlateauMode, PolynomialLr, PolynomialLrConfig, ReduceLrOnPlateau,
    ReduceLrOnPlateauConfig, ScaleMode, SequentialLr, SequentialLrInit, StepLr, StepLrConfig,
    ThresholdMode,
};
pub use transformers::{TransformersSchedule, TransformersScheduler, WsdShape};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

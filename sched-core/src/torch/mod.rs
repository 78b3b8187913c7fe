//! `torch.optim.lr_scheduler`: the 15 schedulers of PyTorch, each in its own file, with its
//! keyword builder (`kwargs`).
//!
//! Every leaf scheduler steps the way its `step()` does (its chainable or closed-form
//! branch, in torch's operation order) and, where torch's formula allows, has an O(1)
//! closed form ([`crate::ClosedForm`]). The composites ([`SequentialLr`],
//! [`ChainedScheduler`]) borrow their children as [`crate::Scheduler`]s.

mod chained_scheduler;
mod constant_lr;
mod cosine_annealing_lr;
mod cosine_annealing_warm_restarts;
mod cyclic_lr;
mod exponential_lr;
pub(crate) mod kwargs;
pub(crate) mod lambda_function;
mod lambda_lr;
mod linear_lr;
mod multi_step_lr;
mod one_cycle_lr;
mod polynomial_lr;
pub(crate) mod reduce_lr_on_plateau;
pub(crate) mod sequential_lr;
mod step_lr;

pub use chained_scheduler::ChainedScheduler;
pub use constant_lr::{ConstantLr, ConstantLrConfig};
pub use cosine_annealing_lr::{CosineAnnealingLr, CosineAnnealingLrConfig};
pub use cosine_annealing_warm_restarts::{
    CosineAnnealingWarmRestarts, CosineAnnealingWarmRestartsConfig,
};
pub use cyclic_lr::{CyclicLr, CyclicLrConfig, CyclicMode, ScaleMode};
pub use exponential_lr::{ExponentialLr, ExponentialLrConfig};
pub use lambda_function::{LAMBDA_POOL_CONSTS, LAMBDA_POOL_OPS, Lambdas, LrLambda};
pub use lambda_lr::{LambdaLr, MultiplicativeLr};
pub use linear_lr::{LinearLr, LinearLrConfig};
pub use multi_step_lr::{MultiStepLr, MultiStepLrConfig};
pub use one_cycle_lr::{AnnealStrategy, OneCycleLr, OneCycleLrConfig};
pub use polynomial_lr::{PolynomialLr, PolynomialLrConfig};
pub use reduce_lr_on_plateau::{
    PlateauMode, ReduceLrOnPlateau, ReduceLrOnPlateauConfig, ThresholdMode,
};
pub use sequential_lr::{SequentialLr, SequentialLrInit};
pub use step_lr::{StepLr, StepLrConfig};

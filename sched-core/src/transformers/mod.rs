//! Hugging Face transformers' schedules (`transformers.optimization.get_*_schedule*`).
//!
//! Every one of them is a `torch.optim.lr_scheduler.LambdaLR` whose `lr_lambda` is a
//! function of the step: `lr(t) = base_lr * λ(t)`. [`TransformersSchedule`] is that λ as data, each
//! variant evaluated in the exact operation order of the Python function it names
//! (transformers 5.24); [`TransformersScheduler`] is the `LambdaLR` that runs it, so stepping,
//! snapshots, tensor lrs and SequentialLR / ChainedScheduler membership are LambdaLR's.
//!
//! The algebra shared by the ten functions: a linear warmup
//! `float(t) / float(max(1, num_warmup_steps))` (except [`TransformersSchedule::CosineWithMinLrRate`],
//! which has its own), then a decay shape. Stepping and the closed form are the same
//! expression, so they agree bit for bit.
//!
//! Layout: [`TransformersSchedule`] and [`WsdShape`] (`schedule.rs`), their λ(t)
//! (`lambda.rs`), the scheduler
//! (`scheduler.rs`), the keyword builder of [`crate::spec::build`] (`kwargs.rs`).

pub(crate) mod kwargs;
mod lambda;
mod schedule;
mod scheduler;

pub use schedule::{TransformersSchedule, WsdShape};
pub use scheduler::TransformersScheduler;

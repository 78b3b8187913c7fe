//! optax's schedule functions (`optax.schedules`, optax 0.2.8), in float32 as jax computes
//! them, and [`OptaxScheduler`], which drives them through sched-core's stepping interface.
//!
//! An optax schedule is a pure function of the update count: it *is* the learning rate,
//! not a factor of a base lr. [`OptaxSchedule::value`] is that function (the closed form);
//! [`OptaxScheduler`] writes `schedule(count)` (widened to f64) into every parameter group,
//! `count` being `last_epoch` (0 after construction), the way `optax.scale_by_schedule`
//! sees its own counter.
//!
//! Precision: every value is float32. Where no transcendental is involved
//! (constant, linear, polynomial with an `int` power, piecewise constant, linear
//! interpolation and onecycle, exponential decay apart from its `pow`) each operation
//! is the float32 operation jax performs, so values are bitwise equal to optax. `cos` and
//! a float `pow` are evaluated in f64 and rounded once to float32; XLA's float32 `cos` is
//! its own approximation, so those values may differ from optax by a few ulp of f32
//! (measured on the golden vectors: at most 2; the parity test enforces 2).
//!
//! Layout: the schedule functions (`leaf.rs`) and `join_schedules` over them (`join.rs`),
//! the scheduler (`scheduler.rs`), the keyword builder of [`crate::spec::build`]
//! (`kwargs.rs`).

mod join;
pub(crate) mod kwargs;
mod leaf;
mod scheduler;

pub use join::{MAX_LEAVES, OptaxSchedule};
pub use leaf::{Interpolation, MAX_PIECES, OptaxLeaf, OptaxPower};
pub use scheduler::OptaxScheduler;

/// The largest count an optax schedule takes (its count is an `int32`).
pub const MAX_COUNT: u64 = i32::MAX.unsigned_abs() as u64;

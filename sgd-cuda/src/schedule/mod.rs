//! Host side of a schedule that lives on the device: the table of `f32(-lr)` per (row, group)
//! ([`LrTable`]) and the step counter the kernels read and advance ([`ScheduleState`]). Pure
//! Rust, no GPU.
//!
//! Row `k` holds the learning rates of the `k`-th scheduled step from now. For a sched-core
//! schedule they are recorded by torch-exact stepping on the host ([`LrTable::from_scheduler`]):
//!
//! ```text
//! for k in 0..K:
//!     row[k][g] = f32(-config[g].lr)         config[g] = SgdConfig::scheduled(groups[g]), rounded
//!                                            by sgd_core::neg_lr, as CudaSgd::step rounds
//!     scheduler.step(groups)                 torch: optimizer.step(); scheduler.step()
//! ```
//!
//! so row `k` is bitwise the `f32(-lr)` a host loop `step(&lrs); scheduler.step()` would
//! upload at its `k`-th iteration, and the host scheduler ends where such a loop is after `K`
//! iterations.

mod lr_table;
mod state;

pub use lr_table::{LrTable, MAX_SCHEDULE_ROWS};
pub use state::ScheduleState;

//! timm's schedulers (`timm.scheduler.*LRScheduler`, timm 1.0.31), per-epoch protocol.
//!
//! timm sets every group's lr to an absolute value computed from the step `t` and the
//! group's `initial_lr` (`base_values`): `scheduler.step(t)` writes `_get_lr(t)`. The
//! algebra of the five classes:
//! - a **warmup** prefix: for `t < warmup_t`, `warmup_lr_init + t * s` with
//!   `s = (v - warmup_lr_init) / warmup_t` per group (`v` the base value, or for
//!   `TanhLRScheduler` without `warmup_prefix`, the schedule's value at `warmup_t`);
//!   `warmup_prefix` shifts the rest by `warmup_t`;
//! - **cycles** (cosine, tanh, poly): cycle `i` of length `t_initial * cycle_mul ** i`, peak
//!   `v * cycle_decay ** i`, `lr_min` from `cycle_limit` cycles on;
//! - a **shape** within the cycle, or a **step decay** (`decay_rate ** (t // decay_t)`,
//!   `decay_rate ** bisect_right(decay_t, t + 1)`).
//!
//! Every value follows timm's Python expression order in `f64`; the step is a Python
//! `int`. Construction writes the base values, then `warmup_lr_init` when there is a
//! warmup (row 0); `step()` then writes `_get_lr(1)`, `_get_lr(2)`, ...
//!
//! Layout: the arguments ([`TimmSchedulerConfig`], [`TimmShape`], [`TimmCycles`]) and
//! timm's checks of them (`schedule.rs`), the scheduler (`scheduler.rs`), the keyword
//! builder of [`crate::spec::build`] (`kwargs.rs`).

pub(crate) mod kwargs;
mod schedule;
mod scheduler;

pub use schedule::{TimmCycles, TimmSchedulerConfig, TimmShape};
pub use scheduler::TimmScheduler;

//! `lrkit_fw`: sched-core's schedules, early stopping and sgd-cpu's fused SGD step as a C
//! library for microcontrollers (`include/lrkit_fw.h`, `liblrkit_fw.a`): `no_std`, no heap,
//! `panic = abort` (profile `firmware`), over caller-owned memory only.
//!
//! - **Schedulers** live in caller-allocated [`sched::SchedulerStorage`] blocks
//!   (`lrk_scheduler`, `LRK_SCHEDULER_SIZE` bytes, 8-byte aligned), each holding one
//!   `sched_core::Scheduler<'static>`, built by a typed `lrk_*_init` per torch class or, for
//!   every family (torch, transformers, timm, optax), by name with keyword arguments
//!   (`lrk_scheduler_build`, sched-core's `spec::build`). Composites (`SequentialLR`,
//!   `ChainedScheduler`) borrow a caller array of already built children.
//! - **Early stopping**: `lrk_early_stopping` (sched-core's `EarlyStopping`).
//! - **SGD**: `lrk_sgd_step` (f32) and `lrk_sgd_step_typed` (f32, f64, bf16, f16, f32 master
//!   copies, stochastic rounding) over caller arrays: sgd-cpu's `fused_step` / `typed_step`.
//!
//! Every function validates its arguments and returns a status (`LRK_OK` = 0, negative =
//! rejected); a rejected call writes nothing, and `lrk_last_error_message` names the reason.
//! The message is built from static text only (no `core::fmt`, which would cost the firmware
//! several KiB of flash).
//!
//! On bare metal the library brings its own panic handler: it calls the hook set with
//! `lrk_set_panic_hook` (default: none) and then stops in an endless loop.
#![no_std]

#[cfg(not(target_os = "none"))]
extern crate std;

#[cfg(feature = "digits")]
pub mod digits;
mod error;
mod panic;
pub mod sched;
pub mod sgd;
mod status;

pub use error::lrk_last_error_message;
pub use panic::{PanicHook, lrk_set_panic_hook};
pub use status::*;

//! A complete training loop for a microcontroller: no `std`, no heap, no `unsafe`.
//!
//! It trains a 64-16-10 multilayer perceptron (f32, ReLU, softmax cross-entropy) on the bundled
//! handwritten digits, which live in flash as one byte per pixel ([`digits`]), with
//!
//! - the learning rate of each epoch from `sched-core`: PyTorch's warmup + cosine,
//!   `SequentialLR([LinearLR(start_factor, total_iters=warmup), CosineAnnealingLR(T_max)],
//!   milestones=[warmup])`, evaluated by its closed form in f32 ([`ClosedForm::lr_at_f32`]), so
//!   the Cortex-M4F's single-precision FPU does the work;
//! - one fused momentum-SGD step of `sgd-cpu` per minibatch ([`sgd_cpu::fused_step`]) over two
//!   parameter groups (weights with weight decay, biases without);
//! - early stopping on the validation loss (`sched-core`'s [`EarlyStopping`]).
//!
//! [`train`] runs it and reports every epoch through a callback; the firmware (`src/main.rs`)
//! prints those reports over semihosting, and the same code built for the host prints the same
//! lines, bit for bit (see "Same numbers on every target" below).
//!
//! ```
//! let mut lines = 0;
//! let summary = on_device::train(&on_device::TrainConfig::default(), |_epoch| lines += 1)?;
//! assert!(summary.last.val_correct * 10 >= summary.last.val_total * 9); // >= 90 %
//! assert_eq!(lines, summary.epochs);
//! # Ok::<(), on_device::TrainError>(())
//! ```
//!
//! # Same numbers on every target
//! Every value is computed with IEEE-754 f32 operations that round the same way everywhere:
//! `+ - * /` and comparisons, which Rust never contracts into fused multiply-adds; `expf`,
//! `logf` and `cosf` from the pure-Rust `libm` crate (the same code on every target, never the
//! platform library); the SGD update from `sgd-cpu`, whose every backend (the scalar backend's
//! `vfma.f32` loops on the Cortex-M4F, AVX-512 or AVX2 on a PC) gives the bits of its scalar
//! reference; the
//! schedule's f32 closed form, which uses `libm` in f32 on every target; and the
//! early-stopping comparison, in f64. The host test `tests/host_training.rs` checks the host
//! run against a transcript recorded from the firmware under QEMU.
#![no_std]
#![forbid(unsafe_code)]

pub mod decimal;
pub mod digits;
mod error;
pub mod mlp;
mod report;
pub mod rng;
mod run;
pub mod text;
mod train;

pub use error::TrainError;
pub use report::EpochReport;
pub use run::{RunError, run};
pub use train::{Summary, TrainConfig, train};

#[doc(no_inline)]
pub use sched_core::{ClosedForm, EarlyStopping};

//! Fused multi-tensor `torch.optim.SGD` for CPUs.
//!
//! (Work in progress: the scalar reference below is the contract other crates
//! build against; see `scalar`.)
#![cfg_attr(not(feature = "std"), no_std)]

pub mod config;
pub mod scalar;

pub use config::{SgdConfig, StepScalars};

//! Hyper-parameters of one parameter group ([`SgdConfig`]) and the f32 scalars of one step
//! ([`StepScalars`]): defined in [`sgd_core`] (with their rules and rounding), re-exported here
//! so that `sgd_cpu::config::SgdConfig` and `sgd_cpu::SgdConfig` keep working.
pub use sgd_core::{SgdConfig, StepScalars};

//! Why a training run could not start or continue.

use core::fmt;

use sched_core::SchedError;
use sgd_cpu::{ConfigError, SgdError};

/// A training run was refused or stopped: every variant names the bad value.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum TrainError {
    /// A [`crate::TrainConfig`] field is out of range.
    Config {
        /// The field.
        param: &'static str,
        /// Its value.
        value: u64,
        /// What it must be.
        expected: &'static str,
    },
    /// The schedule rejected its configuration (`sched-core`).
    Schedule(SchedError),
    /// The optimizer rejected a step (`sgd-cpu`); nothing was written by it.
    Step(SgdError),
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config { param, value, expected } => {
                write!(f, "{param} = {value}: must be {expected}")
            }
            Self::Schedule(e) => write!(f, "schedule: {e}"),
            Self::Step(e) => write!(f, "SGD step: {e}"),
        }
    }
}

impl core::error::Error for TrainError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Config { .. } => None,
            Self::Schedule(e) => Some(e),
            Self::Step(e) => Some(e),
        }
    }
}

impl From<SchedError> for TrainError {
    fn from(e: SchedError) -> Self {
        Self::Schedule(e)
    }
}

impl From<SgdError> for TrainError {
    fn from(e: SgdError) -> Self {
        Self::Step(e)
    }
}

impl From<ConfigError> for TrainError {
    /// A refused group option, as the `SgdError` of the same name (what `Sgd::new` returns).
    fn from(e: ConfigError) -> Self {
        Self::Step(e.into())
    }
}

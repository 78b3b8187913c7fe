//! Why a training run could not start or continue.

use core::fmt;

use sched_core::SchedError;
use sgd_cpu::{ConfigError, InjectError, SgdError};

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
    /// The options the schedule set for an epoch were refused (`inject_hyperparams`).
    Inject(InjectError),
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config { param, value, expected } => {
                write!(f, "{param} = {value}: must be {expected}")
            }
            Self::Schedule(e) => write!(f, "schedule: {e}"),
            Self::Step(e) => write!(f, "SGD step: {e}"),
            Self::Inject(e) => write!(f, "scheduled SGD options: {e}"),
        }
    }
}

impl core::error::Error for TrainError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Config { .. } => None,
            Self::Schedule(e) => Some(e),
            Self::Step(e) => Some(e),
            Self::Inject(e) => Some(e),
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
    /// A refused group option, as the `SgdError` a step returns for it.
    fn from(e: ConfigError) -> Self {
        Self::Step(e.into())
    }
}

impl From<InjectError> for TrainError {
    fn from(e: InjectError) -> Self {
        Self::Inject(e)
    }
}

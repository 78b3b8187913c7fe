//! Why a step or a construction was refused.

use core::fmt;

/// An error of [`crate::CandleSgd`]; a variant about a variable names it (group and index in
/// its group) and the bad value. Nothing has been written when one is returned, except after a
/// failed CUDA launch (a driver error, the last thing a step does, after the CPU groups).
#[derive(Debug)]
#[non_exhaustive]
pub enum CandleSgdError {
    /// A variable (or its gradient) is not `f32`.
    NotF32 {
        /// Group index.
        group: usize,
        /// Variable index within the group.
        var: usize,
        /// Its dtype.
        dtype: candle_core::DType,
    },
    /// A variable is not contiguous in memory (the fused pass needs one slice per tensor).
    NotContiguous {
        /// Group index.
        group: usize,
        /// Variable index within the group.
        var: usize,
    },
    /// A variable or gradient is on another device than the group's first variable.
    DeviceMismatch {
        /// Group index.
        group: usize,
        /// Variable index within the group.
        var: usize,
    },
    /// A gradient has another number of elements than its variable.
    GradientShape {
        /// Group index.
        group: usize,
        /// Variable index within the group.
        var: usize,
        /// Elements of the variable.
        expected: usize,
        /// Elements of the gradient.
        got: usize,
    },
    /// Two variables (or a variable and a gradient) share memory: an in-place update of one
    /// would change the other.
    SharedStorage {
        /// Group and variable index of the first.
        first: (usize, usize),
        /// Group and variable index of the second.
        second: (usize, usize),
    },
    /// A device this crate does not step: CUDA without the `cuda` feature, a second CUDA
    /// device in one optimizer, or any other backend.
    UnsupportedDevice {
        /// Group index.
        group: usize,
        /// The device, as candle names it.
        device: String,
    },
    /// A group index that does not exist.
    NoSuchGroup {
        /// The index.
        group: usize,
        /// Number of groups.
        groups: usize,
    },
    /// sgd-cpu rejected the options or the step.
    Sgd(sgd_cpu::SgdError),
    /// sched-core rejected the schedule or a step of it.
    Schedule(sched_core::SchedError),
    /// sgd-cuda refused or failed the step of the CUDA variables.
    #[cfg(feature = "cuda")]
    Cuda(sgd_cuda::CudaSgdError),
    /// candle failed while the optimizer used it.
    Candle(candle_core::Error),
}

/// The devices this build steps.
#[cfg(feature = "cuda")]
const SUPPORTED: &str = "the CPU and one CUDA device per optimizer";
#[cfg(not(feature = "cuda"))]
const SUPPORTED: &str = "CPU only: CUDA needs the `cuda` feature";

impl fmt::Display for CandleSgdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotF32 { group, var, dtype } => {
                write!(f, "group {group}, variable {var}: dtype {dtype:?}, expected f32")
            }
            Self::NotContiguous { group, var } => {
                write!(f, "group {group}, variable {var}: not contiguous")
            }
            Self::DeviceMismatch { group, var } => write!(
                f,
                "group {group}, variable {var}: on another device than the group's first variable"
            ),
            Self::GradientShape { group, var, expected, got } => write!(
                f,
                "group {group}, variable {var}: gradient has {got} elements, the variable {expected}"
            ),
            Self::SharedStorage { first, second } => {
                write!(f, "variables {first:?} and {second:?} (group, index) share memory")
            }
            Self::UnsupportedDevice { group, device } => {
                write!(f, "group {group}: device {device} is not supported ({SUPPORTED})")
            }
            Self::NoSuchGroup { group, groups } => {
                write!(f, "group {group} does not exist ({groups} groups)")
            }
            Self::Sgd(e) => write!(f, "SGD: {e}"),
            Self::Schedule(e) => write!(f, "schedule: {e}"),
            #[cfg(feature = "cuda")]
            Self::Cuda(e) => write!(f, "CUDA: {e}"),
            Self::Candle(e) => write!(f, "candle: {e}"),
        }
    }
}

impl core::error::Error for CandleSgdError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Sgd(e) => Some(e),
            Self::Schedule(e) => Some(e),
            #[cfg(feature = "cuda")]
            Self::Cuda(e) => Some(e),
            Self::Candle(e) => Some(e),
            _ => None,
        }
    }
}

impl From<sgd_cpu::SgdError> for CandleSgdError {
    fn from(e: sgd_cpu::SgdError) -> Self {
        Self::Sgd(e)
    }
}

impl From<sgd_core::ConfigError> for CandleSgdError {
    /// A group option sgd-core's checks refuse: [`CandleSgdError::Sgd`] with the `SgdError` that
    /// sgd-cpu's `Sgd::new` returns for it.
    fn from(e: sgd_core::ConfigError) -> Self {
        Self::Sgd(e.into())
    }
}

impl From<sgd_core::GroupCountMismatch> for CandleSgdError {
    /// A scheduler over another number of groups ([`sgd_core::inject_hyperparams`]), as
    /// [`CandleSgdError::Sgd`].
    fn from(e: sgd_core::GroupCountMismatch) -> Self {
        Self::Sgd(e.into())
    }
}

impl From<sched_core::SchedError> for CandleSgdError {
    fn from(e: sched_core::SchedError) -> Self {
        Self::Schedule(e)
    }
}

impl From<candle_core::Error> for CandleSgdError {
    fn from(e: candle_core::Error) -> Self {
        Self::Candle(e)
    }
}

impl From<CandleSgdError> for candle_core::Error {
    /// For [`candle_nn::Optimizer`], whose methods return candle's error type.
    fn from(e: CandleSgdError) -> Self {
        match e {
            CandleSgdError::Candle(e) => e,
            other => candle_core::Error::wrap(other),
        }
    }
}

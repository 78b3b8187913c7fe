//! Typed errors: every bad input is reported before anything is written.
use core::fmt;

use crate::{Backend, ConfigError, GroupCountMismatch, PrecisionError};

/// Why a step (or a constructor) refused its input. Nothing has been written when one of
/// these is returned. Tensor indices count over all groups, in group order (torch's flattened
/// parameter list); group indices count from 0.
///
/// A group's options are checked by sgd-core ([`SgdConfig::validate`](crate::SgdConfig::validate)),
/// whose [`ConfigError`] arrives here as [`SgdError::Config`] (`From<ConfigError>`, so `?`
/// works); its message is this error's message. The other variants are this crate's checks of
/// tensors, step options, threads and memory.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum SgdError {
    /// A group's options break `torch.optim.SGD`'s rules (or are not finite).
    Config(ConfigError),
    /// A scheduler steps another number of parameter groups than the optimizer has
    /// ([`inject_hyperparams`](crate::inject_hyperparams) into an `Sgd`).
    GroupCount(GroupCountMismatch),
    /// A tensor's dtypes do not fit together (gradient, momentum buffer, master copy, stochastic
    /// rounding; sgd-core's [`check_tensor`](sgd_core::check_tensor)), in a
    /// [`typed_step`](crate::typed_step).
    Precision(PrecisionError),
    /// A tensor's gradient length differs from its parameter length.
    LengthMismatch {
        /// Tensor index.
        tensor: usize,
        /// Parameter length.
        params: usize,
        /// Gradient length.
        grads: usize,
    },
    /// A tensor's momentum buffer length differs from its parameter length.
    MomentumBufferLength {
        /// Tensor index.
        tensor: usize,
        /// Parameter length.
        params: usize,
        /// Buffer length.
        buffer: usize,
    },
    /// A tensor of a group with momentum has a gradient but no momentum buffer slot.
    MissingMomentumBuffer {
        /// Tensor index.
        tensor: usize,
    },
    /// A parameter's length differs from the length it was registered with ([`crate::Sgd`]).
    ParamLength {
        /// Tensor index.
        tensor: usize,
        /// Registered length.
        expected: usize,
        /// Length given.
        got: usize,
    },
    /// The number of tensors (params or grads) differs from the registered number.
    TensorCount {
        /// Registered number of tensors.
        expected: usize,
        /// Number given.
        got: usize,
    },
    /// A group index out of range.
    NoSuchGroup {
        /// Index given.
        group: usize,
        /// Number of groups.
        groups: usize,
    },
    /// The gradient scale is zero, NaN or infinite.
    InvalidGradScale {
        /// The value given.
        scale: f32,
    },
    /// A byte buffer is not a whole number of aligned f32 values.
    ByteLayout {
        /// Tensor index.
        tensor: usize,
        /// Byte length given.
        bytes: usize,
    },
    /// The requested backend cannot run on this CPU (or is not compiled for this target).
    BackendUnavailable {
        /// The backend asked for.
        backend: Backend,
    },
    /// A momentum buffer could not be allocated.
    AllocationFailed {
        /// Tensor index.
        tensor: usize,
        /// Elements requested.
        elements: usize,
    },
    /// The thread pool could not start a worker thread.
    ThreadSpawnFailed {
        /// Threads requested.
        threads: usize,
    },
    /// A thread pool of more than [`ThreadPool::MAX_THREADS`](crate::ThreadPool::MAX_THREADS)
    /// threads was asked for (the process could not give every thread its stack and guard
    /// page; Rust aborts rather than fails then).
    TooManyThreads {
        /// Threads requested.
        threads: usize,
        /// The limit.
        max: usize,
    },
}

impl From<ConfigError> for SgdError {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

impl fmt::Display for SgdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SgdError::Config(e) => e.fmt(f),
            SgdError::GroupCount(e) => e.fmt(f),
            SgdError::Precision(e) => e.fmt(f),
            SgdError::LengthMismatch { tensor, params, grads } => {
                write!(f, "tensor {tensor}: gradient has {grads} elements, parameter has {params}")
            }
            SgdError::MomentumBufferLength { tensor, params, buffer } => write!(
                f,
                "tensor {tensor}: momentum buffer has {buffer} elements, parameter has {params}"
            ),
            SgdError::MissingMomentumBuffer { tensor } => {
                write!(
                    f,
                    "tensor {tensor}: the group has momentum but no momentum buffer was given"
                )
            }
            SgdError::ParamLength { tensor, expected, got } => write!(
                f,
                "tensor {tensor}: parameter has {got} elements, registered with {expected}"
            ),
            SgdError::TensorCount { expected, got } => {
                write!(f, "{got} tensors given, {expected} registered")
            }
            SgdError::NoSuchGroup { group, groups } => {
                write!(f, "no parameter group {group} (there are {groups})")
            }
            SgdError::InvalidGradScale { scale } => {
                write!(f, "invalid gradient scale {scale} (must be finite and non-zero)")
            }
            SgdError::ByteLayout { tensor, bytes } => write!(
                f,
                "tensor {tensor}: {bytes} bytes are not a whole number of 4-byte aligned f32 values"
            ),
            SgdError::BackendUnavailable { backend } => {
                write!(f, "backend {backend} is not available on this CPU/target")
            }
            SgdError::AllocationFailed { tensor, elements } => write!(
                f,
                "tensor {tensor}: could not allocate a momentum buffer of {elements} elements"
            ),
            SgdError::ThreadSpawnFailed { threads } => {
                write!(f, "could not start a thread pool of {threads} threads")
            }
            SgdError::TooManyThreads { threads, max } => {
                write!(f, "a thread pool of {threads} threads is more than the limit of {max}")
            }
        }
    }
}

impl core::error::Error for SgdError {
    /// The [`ConfigError`] of [`SgdError::Config`], the [`GroupCountMismatch`] of
    /// [`SgdError::GroupCount`], the [`PrecisionError`] of [`SgdError::Precision`]; `None` for
    /// this crate's own checks.
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Config(e) => Some(e),
            Self::GroupCount(e) => Some(e),
            Self::Precision(e) => Some(e),
            _ => None,
        }
    }
}

/// A tensor whose dtypes do not fit together.
impl From<PrecisionError> for SgdError {
    fn from(e: PrecisionError) -> Self {
        Self::Precision(e)
    }
}

/// A scheduler over another number of groups ([`inject_hyperparams`](crate::inject_hyperparams)).
impl From<GroupCountMismatch> for SgdError {
    fn from(e: GroupCountMismatch) -> Self {
        Self::GroupCount(e)
    }
}

#[cfg(test)]
mod tests {
    use core::error::Error;

    use super::*;

    #[test]
    fn option_errors_are_wrapped_with_their_message_and_source() {
        let rule = ConfigError::NesterovRequiresMomentumAndZeroDampening {
            group: 6,
            momentum: 0.9,
            dampening: 0.1,
        };
        let e = SgdError::from(rule);
        assert_eq!(e, SgdError::Config(rule));
        assert_eq!(e.to_string(), rule.to_string());
        assert!(e.source().is_some());
        let mismatch = GroupCountMismatch { scheduler: 1, optimizer: 2 };
        assert_eq!(SgdError::from(mismatch).to_string(), mismatch.to_string());
        assert!(SgdError::TensorCount { expected: 1, got: 2 }.source().is_none());
    }
}

//! Typed errors: every bad input is reported before anything is written.
use core::fmt;

use crate::{Backend, ConfigError};

/// Why a step (or a constructor) refused its input. Nothing has been written when one of
/// these is returned. Tensor indices count over all groups, in group order (torch's flattened
/// parameter list); group indices count from 0.
///
/// The first six variants are the rules of a group's options, checked by sgd-core
/// ([`SgdConfig::validate`](crate::SgdConfig::validate) returns a [`ConfigError`]); they keep
/// their names here so that `SgdError::NegativeLearningRate { .. }` matches as it always did,
/// and `From<ConfigError>` maps each [`ConfigError`] variant to the one of the same name (a
/// rule sgd-core adds later arrives as [`SgdError::Config`]). [`SgdError::config_error`] maps
/// back; the messages are [`ConfigError`]'s.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum SgdError {
    /// `lr < 0` (torch: `Invalid learning rate: {lr}`).
    NegativeLearningRate {
        /// Parameter group.
        group: usize,
        /// The value given.
        lr: f64,
    },
    /// `lr` is NaN or infinite (torch accepts it; it would destroy every parameter).
    NonFiniteLearningRate {
        /// Parameter group.
        group: usize,
        /// The value given.
        lr: f64,
    },
    /// `momentum < 0` or NaN or infinite (torch: `Invalid momentum value: {m}`).
    InvalidMomentum {
        /// Parameter group.
        group: usize,
        /// The value given.
        momentum: f64,
    },
    /// `weight_decay < 0` or NaN or infinite (torch: `Invalid weight_decay value: {wd}`).
    InvalidWeightDecay {
        /// Parameter group.
        group: usize,
        /// The value given.
        weight_decay: f64,
    },
    /// `dampening` is NaN or infinite (torch does not validate dampening at all).
    InvalidDampening {
        /// Parameter group.
        group: usize,
        /// The value given.
        dampening: f64,
    },
    /// `nesterov` with `momentum <= 0` or `dampening != 0` (torch: `Nesterov momentum requires
    /// a momentum and zero dampening`).
    NesterovRequiresMomentumAndZeroDampening {
        /// Parameter group.
        group: usize,
        /// The group's momentum.
        momentum: f64,
        /// The group's dampening.
        dampening: f64,
    },
    /// A rule of a group's options without a variant of its own above (one that sgd-core's
    /// [`ConfigError`] adds after this version).
    Config(ConfigError),
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
    /// A thread pool of more than [`crate::MAX_THREADS`] threads was asked for (the process
    /// could not give every thread its stack and guard page; Rust aborts rather than fails then).
    TooManyThreads {
        /// Threads requested.
        threads: usize,
        /// The limit.
        max: usize,
    },
}

impl SgdError {
    /// The rule of a group's options this error reports, if it is one (the variants up to
    /// [`SgdError::Config`]), as sgd-core's [`ConfigError`].
    pub fn config_error(&self) -> Option<ConfigError> {
        Some(match *self {
            Self::NegativeLearningRate { group, lr } => {
                ConfigError::NegativeLearningRate { group, lr }
            }
            Self::NonFiniteLearningRate { group, lr } => {
                ConfigError::NonFiniteLearningRate { group, lr }
            }
            Self::InvalidMomentum { group, momentum } => {
                ConfigError::InvalidMomentum { group, momentum }
            }
            Self::InvalidWeightDecay { group, weight_decay } => {
                ConfigError::InvalidWeightDecay { group, weight_decay }
            }
            Self::InvalidDampening { group, dampening } => {
                ConfigError::InvalidDampening { group, dampening }
            }
            Self::NesterovRequiresMomentumAndZeroDampening { group, momentum, dampening } => {
                ConfigError::NesterovRequiresMomentumAndZeroDampening { group, momentum, dampening }
            }
            Self::Config(e) => e,
            _ => return None,
        })
    }
}

impl From<ConfigError> for SgdError {
    /// The variant of the same name.
    fn from(e: ConfigError) -> Self {
        match e {
            ConfigError::NegativeLearningRate { group, lr } => {
                Self::NegativeLearningRate { group, lr }
            }
            ConfigError::NonFiniteLearningRate { group, lr } => {
                Self::NonFiniteLearningRate { group, lr }
            }
            ConfigError::InvalidMomentum { group, momentum } => {
                Self::InvalidMomentum { group, momentum }
            }
            ConfigError::InvalidWeightDecay { group, weight_decay } => {
                Self::InvalidWeightDecay { group, weight_decay }
            }
            ConfigError::InvalidDampening { group, dampening } => {
                Self::InvalidDampening { group, dampening }
            }
            ConfigError::NesterovRequiresMomentumAndZeroDampening {
                group,
                momentum,
                dampening,
            } => Self::NesterovRequiresMomentumAndZeroDampening { group, momentum, dampening },
            other => Self::Config(other),
        }
    }
}

impl fmt::Display for SgdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SgdError::NegativeLearningRate { .. }
            | SgdError::NonFiniteLearningRate { .. }
            | SgdError::InvalidMomentum { .. }
            | SgdError::InvalidWeightDecay { .. }
            | SgdError::InvalidDampening { .. }
            | SgdError::NesterovRequiresMomentumAndZeroDampening { .. }
            | SgdError::Config(_) => {
                // The message of the rule, written once in sgd-core.
                self.config_error().map_or(Ok(()), |e| e.fmt(f))
            }
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

impl core::error::Error for SgdError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_errors_convert_to_the_variant_of_the_same_name_and_back() {
        let rules = [
            ConfigError::NegativeLearningRate { group: 1, lr: -0.5 },
            ConfigError::NonFiniteLearningRate { group: 2, lr: f64::INFINITY },
            ConfigError::InvalidMomentum { group: 3, momentum: -0.1 },
            ConfigError::InvalidWeightDecay { group: 4, weight_decay: -1e-4 },
            ConfigError::InvalidDampening { group: 5, dampening: f64::NEG_INFINITY },
            ConfigError::NesterovRequiresMomentumAndZeroDampening {
                group: 6,
                momentum: 0.9,
                dampening: 0.1,
            },
        ];
        for rule in rules {
            let e = SgdError::from(rule);
            assert!(!matches!(e, SgdError::Config(_)), "{rule:?} has a variant of its own");
            assert_eq!(e.config_error(), Some(rule));
            assert_eq!(e.to_string(), rule.to_string());
        }
        assert_eq!(SgdError::from(rules[0]), SgdError::NegativeLearningRate { group: 1, lr: -0.5 });
        assert_eq!(SgdError::TensorCount { expected: 1, got: 2 }.config_error(), None);
    }
}

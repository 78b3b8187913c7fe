//! Typed errors: every bad input is reported before anything is written.
use core::fmt;

use crate::Backend;

/// Why a step (or a constructor) refused its input. Nothing has been written when one of
/// these is returned. Tensor indices count over all groups, in group order (torch's flattened
/// parameter list); group indices count from 0.
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

impl fmt::Display for SgdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SgdError::NegativeLearningRate { group, lr } => {
                write!(f, "Invalid learning rate: {lr} (group {group}; must be >= 0)")
            }
            SgdError::NonFiniteLearningRate { group, lr } => {
                write!(f, "Invalid learning rate: {lr} (group {group}; must be finite)")
            }
            SgdError::InvalidMomentum { group, momentum } => write!(
                f,
                "Invalid momentum value: {momentum} (group {group}; must be finite and >= 0)"
            ),
            SgdError::InvalidWeightDecay { group, weight_decay } => write!(
                f,
                "Invalid weight_decay value: {weight_decay} (group {group}; must be finite and >= 0)"
            ),
            SgdError::InvalidDampening { group, dampening } => {
                write!(f, "Invalid dampening value: {dampening} (group {group}; must be finite)")
            }
            SgdError::NesterovRequiresMomentumAndZeroDampening { group, momentum, dampening } => {
                write!(
                    f,
                    "Nesterov momentum requires a momentum and zero dampening \
                     (group {group}: momentum {momentum}, dampening {dampening})"
                )
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

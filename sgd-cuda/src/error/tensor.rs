//! [`TensorError`]: tensors and buffers that do not describe a valid step.

use core::fmt;

/// A tensor or buffer given to an optimizer is invalid. Tensor and buffer indices are positions
/// in the caller's lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TensorError {
    /// A tensor's parameter and gradient (or momentum) lengths differ.
    LengthMismatch {
        /// Tensor index.
        tensor: usize,
        /// Number of parameter elements.
        params: usize,
        /// Number of gradient elements.
        grads: usize,
    },
    /// A tensor range does not fit in its device buffer.
    OutOfBounds {
        /// Tensor index.
        tensor: usize,
        /// Buffer index.
        buffer: usize,
        /// First element of the range.
        offset: usize,
        /// Number of elements of the range.
        len: usize,
        /// Length of the buffer.
        buffer_len: usize,
    },
    /// A tensor's written range (parameters, momentum buffer) overlaps another tensor's range
    /// or its own gradient (the kernel writes them: they must not alias anything).
    Overlap {
        /// The later tensor.
        tensor: usize,
        /// The tensor it overlaps (may be itself: its own gradient).
        other: usize,
    },
    /// A device address not aligned to its element (4 bytes for f32, 8 for f64, 2 for
    /// bf16/f16).
    Misaligned {
        /// Tensor index.
        tensor: usize,
        /// The byte address.
        address: u64,
        /// The alignment it needs.
        align: u64,
    },
    /// A borrowed tensor of a group with momentum has no momentum buffer.
    MissingMomentumBuffer {
        /// Tensor index.
        tensor: usize,
    },
    /// A buffer index that was never registered.
    UnknownBuffer {
        /// The bad index.
        buffer: usize,
        /// Number of registered buffers.
        buffers: usize,
    },
    /// A tensor index that was never registered.
    UnknownTensor {
        /// The bad index.
        tensor: usize,
        /// Number of registered tensors.
        tensors: usize,
    },
    /// A buffer belongs to a different CUDA context than the optimizer's stream.
    BufferOfAnotherContext {
        /// Buffer index.
        buffer: usize,
    },
}

impl fmt::Display for TensorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LengthMismatch { tensor, params, grads } => write!(
                f,
                "tensor {tensor}: {params} parameter elements but {grads} gradient elements"
            ),
            Self::OutOfBounds { tensor, buffer, offset, len, buffer_len } => write!(
                f,
                "tensor {tensor}: elements {offset}..{offset}+{len} do not fit in buffer {buffer} of {buffer_len} elements"
            ),
            Self::Overlap { tensor, other } => write!(
                f,
                "tensor {tensor}: parameter range overlaps tensor {other}'s parameters or gradients"
            ),
            Self::Misaligned { tensor, address, align } => {
                write!(
                    f,
                    "tensor {tensor}: device address {address:#x} is not {align}-byte aligned"
                )
            }
            Self::MissingMomentumBuffer { tensor } => {
                write!(
                    f,
                    "tensor {tensor}: its group has momentum but no momentum buffer was given"
                )
            }
            Self::UnknownBuffer { buffer, buffers } => {
                write!(f, "buffer {buffer} does not exist ({buffers} registered)")
            }
            Self::UnknownTensor { tensor, tensors } => {
                write!(f, "tensor {tensor} does not exist ({tensors} registered)")
            }
            Self::BufferOfAnotherContext { buffer } => write!(
                f,
                "buffer {buffer} belongs to another CUDA context than the optimizer's stream"
            ),
        }
    }
}

impl core::error::Error for TensorError {}

//! [`TensorRef`]: a tensor of a [`crate::CudaSgd`], as element ranges of the buffers it owns.

use core::ops::Range;

/// Index of a device buffer owned by a [`crate::CudaSgd`] (position in the `buffers` passed to
/// [`crate::CudaSgd::new`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BufferId(pub usize);

/// One tensor: a parameter range and a gradient range (element ranges of owned buffers),
/// and its parameter group. Ranges may start at any element (unaligned sub-slices work; the
/// kernel falls back to scalar loads where `float4` is impossible).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorRef {
    /// Parameter group index.
    pub group: usize,
    /// Buffer holding the parameters.
    pub param_buffer: BufferId,
    /// Element range of the parameters.
    pub params: Range<usize>,
    /// Buffer holding the gradients.
    pub grad_buffer: BufferId,
    /// Element range of the gradients (same length as `params`).
    pub grads: Range<usize>,
}

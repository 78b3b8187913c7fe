//! Why a tensor's dtypes were refused.

use core::fmt;

use crate::Dtype;

/// A tensor whose parameter, gradient, momentum buffer, master copy and rounding do not fit
/// together ([`crate::precision::check_tensor`]). Every variant names the tensor (its flat
/// index in the step) and the bad dtype or length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrecisionError {
    /// The gradient's dtype is not the parameter's.
    GradDtype {
        /// Tensor index.
        tensor: usize,
        /// The parameter's dtype.
        param: Dtype,
        /// The gradient's dtype.
        grad: Dtype,
    },
    /// The momentum buffer's dtype is not the one the parameter needs (its own dtype, or f32
    /// with a master copy).
    BufferDtype {
        /// Tensor index.
        tensor: usize,
        /// The parameter's dtype.
        param: Dtype,
        /// The buffer's dtype.
        buffer: Dtype,
        /// The dtype it must have.
        expected: Dtype,
    },
    /// The f32 master copy has another length than the parameter.
    MasterLength {
        /// Tensor index.
        tensor: usize,
        /// Parameter length.
        params: usize,
        /// Master copy length.
        master: usize,
    },
    /// A master copy was given for a parameter that is not bf16 or f16.
    MasterForDtype {
        /// Tensor index.
        tensor: usize,
        /// The parameter's dtype.
        dtype: Dtype,
    },
    /// Stochastic rounding was asked for a tensor that stores nothing in 16 bits (f32 or f64
    /// storage).
    StochasticRoundingUnsupported {
        /// Tensor index.
        tensor: usize,
        /// The parameter's dtype.
        dtype: Dtype,
    },
}

impl fmt::Display for PrecisionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::GradDtype { tensor, param, grad } => {
                write!(f, "tensor {tensor}: gradient is {grad}, parameter is {param}")
            }
            Self::BufferDtype { tensor, param, buffer, expected } => write!(
                f,
                "tensor {tensor}: momentum buffer is {buffer}, a {param} parameter here needs {expected}"
            ),
            Self::MasterLength { tensor, params, master } => write!(
                f,
                "tensor {tensor}: master copy has {master} elements, parameter has {params}"
            ),
            Self::MasterForDtype { tensor, dtype } => write!(
                f,
                "tensor {tensor}: a master copy is for bfloat16/float16 parameters, not {dtype}"
            ),
            Self::StochasticRoundingUnsupported { tensor, dtype } => write!(
                f,
                "tensor {tensor}: stochastic rounding needs bfloat16/float16 storage, not {dtype}"
            ),
        }
    }
}

impl core::error::Error for PrecisionError {}

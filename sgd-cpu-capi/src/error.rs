//! Status codes, the typed error behind each, and the last error message per thread.
use std::fmt;

use sgd_cpu::SgdError;

/// `sgd_status`: what an entry point returns. `0` and positive values are success; negative
/// values are errors, and then nothing was written.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SgdStatus {
    /// The step ran.
    Ok = 0,
    /// `found_inf` was set: the step was skipped, nothing was written.
    SkippedFoundInf = 1,
    /// A pointer that must point at data is null.
    NullPointer = -1,
    /// A float pointer is not 4-byte aligned.
    Misaligned = -2,
    /// A tensor's size in bytes exceeds `isize::MAX`.
    TooLarge = -3,
    /// A written region overlaps another region of the step.
    Overlap = -4,
    /// Invalid hyper-parameter (lr, momentum, dampening, weight decay, nesterov rule).
    InvalidConfig = -10,
    /// A tensor of a group with momentum has a gradient but no momentum buffer.
    MissingMomentumBuffer = -11,
    /// The gradient scale is zero, NaN or infinite.
    InvalidGradScale = -12,
    /// The thread pool could not start its threads.
    ThreadSpawnFailed = -13,
    /// A tensor's dtypes, master copy or rounding do not fit together (sgd-core's
    /// `check_tensor`: gradient or buffer dtype, master copy for a non-16-bit parameter or of
    /// another length, stochastic rounding of float32/float64 storage).
    Dtype = -14,
    /// A dtype or rounding code the header does not define.
    UnknownCode = -15,
    /// Any other error of `sgd-cpu` (see the message).
    Other = -98,
    /// A bug: a panic was caught at the boundary (see the message).
    Panic = -99,
}

/// Which pointer of a tensor (or of the call) an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PointerField {
    /// The `groups` array of the call.
    Groups,
    /// A group's `tensors` array.
    Tensors,
    /// A tensor's `param`.
    Param,
    /// A tensor's `grad`.
    Grad,
    /// A tensor's `momentum_buffer`.
    MomentumBuffer,
    /// A tensor's `initialized` flag.
    Initialized,
    /// A tensor's `master` copy.
    Master,
    /// A tensor's `param_dtype`.
    ParamDtype,
    /// A tensor's `grad_dtype`.
    GradDtype,
    /// A tensor's `buffer_dtype`.
    BufferDtype,
    /// A tensor's `rounding`.
    Rounding,
    /// The pool handle.
    Pool,
    /// The gradient scale.
    GradScale,
}

impl fmt::Display for PointerField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PointerField::Groups => "groups",
            PointerField::Tensors => "tensors",
            PointerField::Param => "param",
            PointerField::Grad => "grad",
            PointerField::MomentumBuffer => "momentum_buffer",
            PointerField::Initialized => "initialized",
            PointerField::Master => "master",
            PointerField::ParamDtype => "param_dtype",
            PointerField::GradDtype => "grad_dtype",
            PointerField::BufferDtype => "buffer_dtype",
            PointerField::Rounding => "rounding",
            PointerField::Pool => "pool",
            PointerField::GradScale => "grad_scale",
        })
    }
}

/// Why a C call refused its input: the pointer checks of this crate, or an [`SgdError`].
/// Tensor indices count over all groups, in order (as in [`SgdError`]).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum CapiError {
    /// A null pointer where data is needed (`tensor` is `None` for call-level pointers).
    NullPointer {
        /// Group index, where the pointer belongs to a group or tensor.
        group: Option<usize>,
        /// Tensor index, where the pointer belongs to a tensor.
        tensor: Option<usize>,
        /// Which pointer.
        field: PointerField,
    },
    /// A pointer not aligned for its type (4 bytes for floats, 8 for the `groups` and
    /// `tensors` arrays on 64-bit targets).
    Misaligned {
        /// Group index, where the pointer belongs to a group or tensor.
        group: Option<usize>,
        /// Tensor index, where the pointer belongs to a tensor.
        tensor: Option<usize>,
        /// Which pointer.
        field: PointerField,
        /// The address.
        address: usize,
        /// The alignment required.
        align: usize,
    },
    /// An array argument (`groups` or a group's `tensors`) of more than `isize::MAX` bytes.
    CountTooLarge {
        /// Which array.
        field: PointerField,
        /// Elements given.
        count: usize,
    },
    /// `numel * 4` exceeds `isize::MAX`.
    TooLarge {
        /// Tensor index.
        tensor: usize,
        /// Elements given.
        numel: usize,
    },
    /// A written region overlaps another region of the step (the call's own `groups` and
    /// `tensors` arrays and `grad_scale` count as read regions, with no tensor index).
    Overlap {
        /// First region: tensor index (if a tensor's) and pointer.
        a: (Option<usize>, PointerField),
        /// Second region: tensor index (if a tensor's) and pointer.
        b: (Option<usize>, PointerField),
    },
    /// A dtype or rounding code the header does not define.
    UnknownCode {
        /// Tensor index.
        tensor: usize,
        /// Which field (`param_dtype`, `grad_dtype`, `buffer_dtype` or `rounding`).
        field: PointerField,
        /// The code given.
        code: u32,
    },
    /// Rejected by `sgd-cpu`.
    Sgd(SgdError),
    /// A panic caught at the boundary (a bug).
    Panic(String),
}

impl CapiError {
    /// A panic caught at the C boundary, with its message (sgd-core's `panic_message`, which
    /// sgd-cuda uses for the panics of the CUDA libraries too).
    pub(crate) fn panic(payload: Box<dyn core::any::Any + Send>) -> Self {
        CapiError::Panic(sgd_core::panic_message(&*payload).to_owned())
    }

    /// The status code of this error.
    pub fn status(&self) -> SgdStatus {
        match self {
            CapiError::NullPointer { .. } => SgdStatus::NullPointer,
            CapiError::Misaligned { .. } => SgdStatus::Misaligned,
            CapiError::TooLarge { .. } | CapiError::CountTooLarge { .. } => SgdStatus::TooLarge,
            CapiError::Overlap { .. } => SgdStatus::Overlap,
            CapiError::UnknownCode { .. } => SgdStatus::UnknownCode,
            CapiError::Panic(_) => SgdStatus::Panic,
            CapiError::Sgd(e) => match e {
                SgdError::Config(_) => SgdStatus::InvalidConfig,
                SgdError::MissingMomentumBuffer { .. } => SgdStatus::MissingMomentumBuffer,
                SgdError::Precision(_) => SgdStatus::Dtype,
                SgdError::InvalidGradScale { .. } => SgdStatus::InvalidGradScale,
                SgdError::ThreadSpawnFailed { .. } | SgdError::TooManyThreads { .. } => {
                    SgdStatus::ThreadSpawnFailed
                }
                _ => SgdStatus::Other,
            },
        }
    }
}

impl fmt::Display for CapiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CapiError::NullPointer { group, tensor, field } => {
                write!(f, "null pointer: {field}")?;
                if let Some(t) = tensor {
                    write!(f, " of tensor {t}")?;
                }
                if let Some(g) = group {
                    write!(f, " (group {g})")?;
                }
                Ok(())
            }
            CapiError::Misaligned { group, tensor, field, address, align } => {
                write!(f, "{field} at {address:#x} is not aligned to {align} bytes")?;
                if let Some(t) = tensor {
                    write!(f, " (tensor {t})")?;
                } else if let Some(g) = group {
                    write!(f, " (group {g})")?;
                }
                Ok(())
            }
            CapiError::CountTooLarge { field, count } => {
                write!(f, "{field}: count {count} is too large (over isize::MAX bytes)")
            }
            CapiError::TooLarge { tensor, numel } => {
                write!(f, "tensor {tensor}: numel {numel} is too large (over isize::MAX bytes)")
            }
            CapiError::Overlap { a, b } => {
                let region =
                    |f: &mut fmt::Formatter<'_>, (tensor, field): (Option<usize>, PointerField)| {
                        match tensor {
                            Some(t) => write!(f, "tensor {t} {field}"),
                            None => write!(f, "the {field} argument"),
                        }
                    };
                region(f, *a)?;
                f.write_str(" overlaps ")?;
                region(f, *b)?;
                f.write_str(" (a written region must not share memory)")
            }
            CapiError::UnknownCode { tensor, field, code } => {
                write!(f, "tensor {tensor}: {field} {code} is not a code of sgd_cpu.h")
            }
            CapiError::Sgd(e) => e.fmt(f),
            CapiError::Panic(msg) => write!(f, "internal error (panic): {msg}"),
        }
    }
}

impl core::error::Error for CapiError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            CapiError::Sgd(e) => Some(e),
            _ => None,
        }
    }
}

impl From<SgdError> for CapiError {
    fn from(e: SgdError) -> Self {
        CapiError::Sgd(e)
    }
}

/// Records the outcome of a call on this thread and returns its status code.
pub(crate) fn record(result: Result<SgdStatus, CapiError>) -> i32 {
    let (status, message) = match result {
        Ok(status) => (status, String::new()),
        Err(e) => (e.status(), e.to_string()),
    };
    sgd_capi_support::last_error::set(message);
    status as i32
}

/// `size_t sgd_last_error_message(char *buf, size_t len)`: copies the message of the last
/// error on this thread ("" after a success) into `buf` as a NUL-terminated string, truncated
/// to `len - 1` bytes, and returns the full length (without the NUL), like `snprintf`. With
/// `buf` null or `len` 0 nothing is written.
///
/// # Safety
/// `buf` is null or valid for `len` bytes of writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sgd_last_error_message(buf: *mut u8, len: usize) -> usize {
    // SAFETY: the caller's guarantee on `buf` is `copy_to`'s.
    unsafe { sgd_capi_support::last_error::copy_to(buf, len) }
}

#[cfg(test)]
mod tests {
    use sgd_cpu::{ConfigError, GroupCountMismatch};

    use super::*;

    #[test]
    fn every_sgd_error_keeps_its_status() {
        let cases = [
            (SgdError::Config(ConfigError::InvalidMomentum { group: 0, momentum: -1.0 }), -10),
            (SgdError::MissingMomentumBuffer { tensor: 0 }, -11),
            (SgdError::InvalidGradScale { scale: 0.0 }, -12),
            (SgdError::ThreadSpawnFailed { threads: 2 }, -13),
            (SgdError::TooManyThreads { threads: 2000, max: 1024 }, -13),
            (SgdError::GroupCount(GroupCountMismatch { scheduler: 1, optimizer: 2 }), -98),
            (SgdError::TensorCount { expected: 1, got: 2 }, -98),
            (
                SgdError::Precision(sgd_cpu::PrecisionError::StochasticRoundingUnsupported {
                    tensor: 0,
                    dtype: sgd_cpu::Dtype::F32,
                }),
                -14,
            ),
        ];
        for (e, status) in cases {
            assert_eq!(CapiError::Sgd(e).status() as i32, status, "{e}");
        }
    }
}

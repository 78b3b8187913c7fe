//! Status codes, the typed error behind each, the last error message per thread, and the guard
//! every entry point runs in.
use core::fmt;
use core::panic::AssertUnwindSafe;
use std::panic::catch_unwind;

use sgd_cuda::{
    CudaSgdError, GradScalerError, GroupError, LaunchError, LibraryError, StreamError, TensorError,
    preserving_current_context,
};

/// What an entry point returns: `0` is success; negative values are errors, and then the call
/// changed nothing (but for [`SgdCudaStatus::Panic`]).
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SgdCudaStatus {
    /// The call did what it says.
    Ok = 0,
    /// A pointer that must point at data is null.
    NullPointer = -1,
    /// A pointer is not aligned for its type (device floats: 4 bytes; host arrays: their
    /// type's alignment).
    Misaligned = -2,
    /// A size in bytes past `isize::MAX`, a range wrapping the address space, or more chunks
    /// than the kernel can index.
    TooLarge = -3,
    /// A written device range overlaps another range.
    Overlap = -4,
    /// No groups or no tensors.
    Empty = -5,
    /// Invalid options of a group, or an invalid learning rate (sgd-core's rules).
    InvalidConfig = -10,
    /// A tensor with a gradient in a group with momentum has no momentum buffer.
    MissingMomentumBuffer = -11,
    /// A tensor's group index is not below the number of groups.
    UnknownGroup = -12,
    /// Not one learning rate per group.
    LrCount = -13,
    /// The stream is null or `CU_STREAM_LEGACY` (the legacy default stream).
    DefaultStream = -14,
    /// A negative device ordinal, or no such device.
    InvalidDevice = -15,
    /// New learning rates while the stream is being captured into a graph.
    Capturing = -16,
    /// A tensor's dtypes, master copy or rounding do not fit together (sgd-core's
    /// `check_tensor`).
    Dtype = -17,
    /// A dtype or rounding code the header does not define.
    UnknownCode = -18,
    /// The CUDA driver library (`libcuda`) could not be loaded.
    NoDriver = -20,
    /// NVRTC (`libnvrtc`) could not be loaded.
    NoNvrtc = -21,
    /// The stream does not belong to the device's primary context.
    WrongContext = -22,
    /// A CUDA driver call or the kernel compile failed (see the message).
    Cuda = -23,
    /// Any other error of `sgd-cuda` (see the message).
    Other = -98,
    /// A bug: a panic was caught at the boundary (see the message).
    Panic = -99,
}

/// Which argument or tensor field an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Field {
    /// The `out` argument of `sgd_cuda_create`.
    Out,
    /// The optimizer handle.
    Optimizer,
    /// The `groups` array.
    Groups,
    /// The `tensors` array.
    Tensors,
    /// The `lrs` array.
    Lrs,
    /// A tensor's `param`.
    Param,
    /// A tensor's `grad`.
    Grad,
    /// A tensor's `momentum_buffer`.
    MomentumBuffer,
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
    /// The `grad_scale` device pointer.
    GradScale,
    /// The `found_inf` device pointer.
    FoundInf,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Out => "out",
            Field::Optimizer => "optimizer",
            Field::Groups => "groups",
            Field::Tensors => "tensors",
            Field::Lrs => "lrs",
            Field::Param => "param",
            Field::Grad => "grad",
            Field::MomentumBuffer => "momentum_buffer",
            Field::Master => "master",
            Field::ParamDtype => "param_dtype",
            Field::GradDtype => "grad_dtype",
            Field::BufferDtype => "buffer_dtype",
            Field::Rounding => "rounding",
            Field::GradScale => "grad_scale",
            Field::FoundInf => "found_inf",
        })
    }
}

/// Why a C call refused its input: the checks of this crate, or a [`CudaSgdError`]. Tensor
/// indices are positions in the caller's `tensors` array.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum CapiError {
    /// A null pointer where data is needed.
    NullPointer {
        /// Tensor index, where the pointer is a tensor's.
        tensor: Option<usize>,
        /// Which pointer.
        field: Field,
    },
    /// A pointer not aligned for its type.
    Misaligned {
        /// Tensor index, where the pointer is a tensor's.
        tensor: Option<usize>,
        /// Which pointer.
        field: Field,
        /// The address.
        address: usize,
        /// The alignment required.
        align: usize,
    },
    /// An array or tensor of more than `isize::MAX` bytes, or one wrapping the address space.
    TooLarge {
        /// Tensor index, where the size is a tensor's.
        tensor: Option<usize>,
        /// Which pointer.
        field: Field,
        /// Elements given.
        count: usize,
    },
    /// An array that must not be empty is.
    Empty {
        /// Which array.
        field: Field,
    },
    /// A negative device ordinal.
    InvalidDevice {
        /// The ordinal given.
        device: i32,
    },
    /// The stream is null or `CU_STREAM_LEGACY`.
    DefaultStream {
        /// The handle given.
        stream: usize,
    },
    /// A gradient-scaler pointer inside a range the step writes.
    ScalerOverlap {
        /// `grad_scale` or `found_inf`.
        field: Field,
        /// The tensor whose range it lies in.
        tensor: usize,
        /// Which range of the tensor.
        range: Field,
    },
    /// A dtype or rounding code the header does not define.
    UnknownCode {
        /// Tensor index.
        tensor: usize,
        /// Which field.
        field: Field,
        /// The code given.
        code: u32,
    },
    /// Refused by `sgd-cuda` (tensor indices already translated to the caller's).
    Cuda(CudaSgdError),
    /// A panic caught at the boundary (a bug).
    Panic(String),
}

impl CapiError {
    /// The status code of this error.
    pub fn status(&self) -> SgdCudaStatus {
        match self {
            CapiError::NullPointer { .. } => SgdCudaStatus::NullPointer,
            CapiError::Misaligned { .. } => SgdCudaStatus::Misaligned,
            CapiError::TooLarge { .. } => SgdCudaStatus::TooLarge,
            CapiError::Empty { .. } => SgdCudaStatus::Empty,
            CapiError::InvalidDevice { .. } => SgdCudaStatus::InvalidDevice,
            CapiError::DefaultStream { .. } => SgdCudaStatus::DefaultStream,
            CapiError::ScalerOverlap { .. } => SgdCudaStatus::Overlap,
            CapiError::UnknownCode { .. } => SgdCudaStatus::UnknownCode,
            CapiError::Panic(_) => SgdCudaStatus::Panic,
            CapiError::Cuda(e) => cuda_status(e),
        }
    }
}

/// The status of an `sgd-cuda` error.
fn cuda_status(e: &CudaSgdError) -> SgdCudaStatus {
    match e {
        CudaSgdError::Config(_) => SgdCudaStatus::InvalidConfig,
        CudaSgdError::Precision(_) => SgdCudaStatus::Dtype,
        CudaSgdError::Tensor(TensorError::MissingMomentumBuffer { .. }) => {
            SgdCudaStatus::MissingMomentumBuffer
        }
        CudaSgdError::Group(GroupError::Unknown { .. }) => SgdCudaStatus::UnknownGroup,
        CudaSgdError::Tensor(TensorError::Overlap { .. }) => SgdCudaStatus::Overlap,
        CudaSgdError::Tensor(TensorError::Misaligned { .. })
        | CudaSgdError::GradScaler(GradScalerError::Misaligned { .. }) => SgdCudaStatus::Misaligned,
        CudaSgdError::Launch(LaunchError::TooManyChunks { .. }) => SgdCudaStatus::TooLarge,
        CudaSgdError::Group(GroupError::LrCount { .. }) => SgdCudaStatus::LrCount,
        CudaSgdError::Stream(StreamError::Capturing { .. }) => SgdCudaStatus::Capturing,
        CudaSgdError::Stream(StreamError::OfAnotherContext { .. }) => SgdCudaStatus::WrongContext,
        CudaSgdError::Library(LibraryError::NoDevice { .. }) => SgdCudaStatus::InvalidDevice,
        CudaSgdError::Library(LibraryError::DriverNotFound) => SgdCudaStatus::NoDriver,
        CudaSgdError::Library(LibraryError::NvrtcNotFound) => SgdCudaStatus::NoNvrtc,
        CudaSgdError::Library(LibraryError::Driver { .. } | LibraryError::Panic { .. })
        | CudaSgdError::Compile(_) => SgdCudaStatus::Cuda,
        _ => SgdCudaStatus::Other,
    }
}

impl fmt::Display for CapiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let of = |f: &mut fmt::Formatter<'_>, tensor: &Option<usize>| match tensor {
            Some(t) => write!(f, " of tensor {t}"),
            None => Ok(()),
        };
        match self {
            CapiError::NullPointer { tensor, field } => {
                write!(f, "null pointer: {field}")?;
                of(f, tensor)
            }
            CapiError::Misaligned { tensor, field, address, align } => {
                write!(f, "{field}")?;
                of(f, tensor)?;
                write!(f, " at {address:#x} is not aligned to {align} bytes")
            }
            CapiError::TooLarge { tensor, field, count } => {
                write!(f, "{field}")?;
                of(f, tensor)?;
                write!(
                    f,
                    ": {count} elements are too many (over isize::MAX bytes or past the end of the address space)"
                )
            }
            CapiError::Empty { field } => write!(f, "{field}: at least one is needed, got 0"),
            CapiError::InvalidDevice { device } => {
                write!(f, "device {device}: a device ordinal is >= 0")
            }
            CapiError::DefaultStream { stream } => write!(
                f,
                "stream {stream:#x}: the legacy default stream (NULL or CU_STREAM_LEGACY) cannot be used (it cannot be captured into a graph); pass a stream the caller created"
            ),
            CapiError::ScalerOverlap { field, tensor, range } => write!(
                f,
                "{field} lies inside the {range} of tensor {tensor}, which the step writes"
            ),
            CapiError::UnknownCode { tensor, field, code } => {
                write!(f, "tensor {tensor}: {field} {code} is not a code of sgd_cuda.h")
            }
            CapiError::Cuda(e) => e.fmt(f),
            CapiError::Panic(msg) => write!(f, "internal error (panic): {msg}"),
        }
    }
}

impl core::error::Error for CapiError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            CapiError::Cuda(e) => Some(e),
            _ => None,
        }
    }
}

impl From<CudaSgdError> for CapiError {
    fn from(e: CudaSgdError) -> Self {
        CapiError::Cuda(e)
    }
}

/// Runs the body of an entry point: a panic inside becomes [`SgdCudaStatus::Panic`] (with the
/// message of sgd-core's `panic_message`) instead of unwinding into C; the outcome is recorded
/// as this thread's last error message, and its status code returned.
///
/// The body runs in [`sgd_cuda::preserving_current_context`]: the caller's current CUDA context
/// (PyTorch's current device, say) is current again when the call returns.
pub(crate) fn guarded(body: impl FnOnce() -> Result<(), CapiError>) -> i32 {
    let body = || preserving_current_context(body);
    let result = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        Err(CapiError::Panic(sgd_core::panic_message(&*payload).to_owned()))
    });
    let (status, message) = match result {
        Ok(()) => (SgdCudaStatus::Ok, String::new()),
        Err(e) => (e.status(), e.to_string()),
    };
    sgd_capi_support::last_error::set(message);
    status as i32
}

/// `size_t sgd_cuda_last_error_message(char *buf, size_t len)`: copies the message of the last
/// error on this thread ("" after a success) into `buf` as a NUL-terminated string, truncated
/// to `len - 1` bytes, and returns the full length (without the NUL), like `snprintf`. With
/// `buf` null or `len` 0 nothing is written.
///
/// # Safety
/// `buf` is null or valid for `len` bytes of writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sgd_cuda_last_error_message(buf: *mut u8, len: usize) -> usize {
    // SAFETY: the caller's guarantee on `buf` is `copy_to`'s.
    unsafe { sgd_capi_support::last_error::copy_to(buf, len) }
}

#[cfg(test)]
mod tests {
    use sgd_core::ConfigError;
    use sgd_cuda::{CompileError, ScheduleError};

    use super::*;

    #[test]
    fn every_driver_side_error_has_its_status_and_sgd_cudas_message() {
        let cases: [(CudaSgdError, SgdCudaStatus); 14] = [
            (LibraryError::DriverNotFound.into(), SgdCudaStatus::NoDriver),
            (LibraryError::NvrtcNotFound.into(), SgdCudaStatus::NoNvrtc),
            (LibraryError::NoDevice { ordinal: 3, count: 1 }.into(), SgdCudaStatus::InvalidDevice),
            (StreamError::OfAnotherContext { ordinal: 0 }.into(), SgdCudaStatus::WrongContext),
            (
                StreamError::Capturing { what: "new learning rates" }.into(),
                SgdCudaStatus::Capturing,
            ),
            (
                StreamError::Capturing { what: "capturing the step" }.into(),
                SgdCudaStatus::Capturing,
            ),
            (GroupError::LrCount { expected: 2, got: 1 }.into(), SgdCudaStatus::LrCount),
            (
                ConfigError::NegativeLearningRate { group: 1, lr: -0.5 }.into(),
                SgdCudaStatus::InvalidConfig,
            ),
            (
                GradScalerError::Misaligned { name: "found_inf", address: 6 }.into(),
                SgdCudaStatus::Misaligned,
            ),
            (LaunchError::TooManyChunks { chunks: 1 << 33 }.into(), SgdCudaStatus::TooLarge),
            (
                LibraryError::Panic { context: "NVRTC compile", message: "x".into() }.into(),
                SgdCudaStatus::Cuda,
            ),
            (
                CompileError::Nvrtc {
                    kernel: "k.cu",
                    arch: "compute_90".into(),
                    options: Vec::new(),
                    log: "x".into(),
                }
                .into(),
                SgdCudaStatus::Cuda,
            ),
            (GradScalerError::Disabled.into(), SgdCudaStatus::Other),
            (ScheduleError::NotSet.into(), SgdCudaStatus::Other),
        ];
        for (e, status) in cases {
            let message = e.to_string();
            let c = CapiError::from(e);
            assert_eq!(c.status(), status, "{message}");
            assert_eq!(c.to_string(), message);
        }
        let panic = CapiError::Panic("boom".into());
        assert_eq!(
            (panic.status(), panic.to_string().as_str()),
            (SgdCudaStatus::Panic, "internal error (panic): boom")
        );
    }

    #[test]
    fn a_panic_in_a_body_is_a_status_and_a_message() {
        let status = guarded(|| panic!("bad {}", 7));
        assert_eq!(status, SgdCudaStatus::Panic as i32);
        let last = || {
            let mut buf = [0u8; 64];
            // SAFETY: `buf` is valid for its 64 bytes.
            let n = unsafe { sgd_cuda_last_error_message(buf.as_mut_ptr(), buf.len()) };
            String::from_utf8_lossy(&buf[..n]).into_owned()
        };
        assert_eq!(last(), "internal error (panic): bad 7");
        assert_eq!(guarded(|| Ok(())), 0);
        assert_eq!(last(), "");
    }
}

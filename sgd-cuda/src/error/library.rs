//! [`LibraryError`]: the CUDA driver and libraries, missing or failing.

use core::fmt;
use std::string::String;

use cudarc::driver::DriverError;

/// The CUDA driver library, NVRTC or a device could not be used.
///
/// Driver errors carry the raw `CUresult`, printed by name without calling into the driver, so
/// formatting works even when the driver library is missing.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LibraryError {
    /// `libcuda.so` could not be loaded (no NVIDIA driver on this machine).
    DriverNotFound,
    /// `libnvrtc.so` could not be loaded (NVRTC is not installed or not on `LD_LIBRARY_PATH`).
    NvrtcNotFound,
    /// The driver reports no device with this ordinal.
    NoDevice {
        /// Requested ordinal.
        ordinal: usize,
        /// Number of devices the driver reports.
        count: usize,
    },
    /// A CUDA driver call failed.
    Driver {
        /// What was being done (e.g. `"cuStreamSynchronize"`).
        context: &'static str,
        /// The driver's result code.
        source: DriverError,
    },
    /// The dynamic loader panicked inside `cudarc` (a symbol missing from an old library, for
    /// example); caught and reported instead of unwinding into the caller.
    Panic {
        /// What was being done.
        context: &'static str,
        /// The panic message.
        message: String,
    },
}

impl fmt::Display for LibraryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DriverNotFound => f.write_str("no CUDA driver: libcuda could not be loaded"),
            Self::NvrtcNotFound => f.write_str(
                "no NVRTC: libnvrtc could not be loaded (install CUDA or the nvidia-cuda-nvrtc wheel and put its lib dir on LD_LIBRARY_PATH)",
            ),
            Self::NoDevice { ordinal, count } => {
                write!(f, "no CUDA device {ordinal}: the driver reports {count} device(s)")
            }
            Self::Driver { context, source } => {
                write!(f, "CUDA driver call failed ({context}): {:?}", source.0)
            }
            Self::Panic { context, message } => {
                write!(f, "CUDA library loader panicked ({context}): {message}")
            }
        }
    }
}

impl core::error::Error for LibraryError {
    /// The driver's error of [`LibraryError::Driver`] (its `Display` asks the driver library,
    /// loaded by then, for the message); `None` for the others.
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Driver { source, .. } => Some(source),
            _ => None,
        }
    }
}

//! [`CompileError`]: a kernel that NVRTC or the driver would not take.

use core::fmt;
use std::string::String;
use std::vec::Vec;

use cudarc::driver::DriverError;

/// A kernel could not be compiled or loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CompileError {
    /// NVRTC rejected a kernel.
    Nvrtc {
        /// Kernel source file name (e.g. `"sgd_multi_tensor.cu"`).
        kernel: &'static str,
        /// Target architecture (e.g. `"compute_90"`).
        arch: String,
        /// NVRTC options used.
        options: Vec<String>,
        /// NVRTC status and log.
        log: String,
    },
    /// The driver could not load the PTX that NVRTC produced (for example PTX from a newer
    /// NVRTC than the driver supports: put the CUDA install's `libnvrtc` first on
    /// `LD_LIBRARY_PATH`).
    ModuleLoad {
        /// Kernel source file name.
        kernel: &'static str,
        /// Target architecture.
        arch: String,
        /// The driver's result code.
        source: DriverError,
    },
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Nvrtc { kernel, arch, options, log } => write!(
                f,
                "NVRTC failed to compile {kernel} for {arch} with options {options:?}: {log}"
            ),
            Self::ModuleLoad { kernel, arch, source } => write!(
                f,
                "the driver could not load the PTX of {kernel} ({arch}): {:?} (is libnvrtc newer than the driver? put the CUDA install's lib64 first on LD_LIBRARY_PATH)",
                source.0
            ),
        }
    }
}

impl core::error::Error for CompileError {
    /// The driver's error of [`CompileError::ModuleLoad`]; `None` for NVRTC's (its log is in
    /// the message).
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::ModuleLoad { source, .. } => Some(source),
            Self::Nvrtc { .. } => None,
        }
    }
}

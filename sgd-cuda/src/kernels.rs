//! The CUDA kernel sources and their NVRTC compilation (explicit options, no fast math).
//!
//! Kernels are `.cu` files in `sgd-cuda/kernels/`, embedded with `include_str!` and
//! compiled once per device at run time (`module_cache` keeps them per device).

use core::ffi::CStr;
use std::ffi::CString;
use std::string::{String, ToString};
use std::vec::Vec;

use cudarc::nvrtc::{CompileError as NvrtcError, CompileOptions, Ptx};

use crate::error::{CompileError, CudaSgdError, LibraryError};
use crate::library_panic::catch_library_panic;

/// A kernel source file and the entry points it defines.
#[derive(Clone, Copy, Debug)]
pub struct KernelSource {
    /// File name inside `sgd-cuda/kernels/` (used as the NVRTC program name and in errors).
    pub file: &'static str,
    /// CUDA C++ source text.
    pub source: &'static str,
    /// `extern "C"` entry points.
    pub entry_points: &'static [&'static str],
}

/// Name of the multi-tensor SGD kernel for float32 tensors.
pub const SGD_KERNEL: &str = "sgd_multi_tensor_f32";

/// Name of the multi-tensor SGD kernel for tensors of every dtype and mode (the same body,
/// dispatching per chunk on `TensorEntry.kind`).
pub const SGD_TYPED_KERNEL: &str = "sgd_multi_tensor_typed";

/// Name of the one-thread kernel that advances a device schedule's step counter after a
/// scheduled step ([`crate::schedule::ScheduleState`]).
pub(crate) const SCHEDULE_ADVANCE_KERNEL: &str = "sgd_schedule_advance";

/// The multi-tensor fused SGD kernel and the schedule counter's kernel
/// (`kernels/sgd_multi_tensor.cu`).
pub(crate) const SGD_MULTI_TENSOR: KernelSource = KernelSource {
    file: "sgd_multi_tensor.cu",
    source: include_str!("../kernels/sgd_multi_tensor.cu"),
    entry_points: &[SGD_KERNEL, SGD_TYPED_KERNEL, SCHEDULE_ADVANCE_KERNEL],
};

/// Every kernel of the crate (the compile test compiles each of them).
pub const ALL_KERNELS: &[KernelSource] = &[SGD_MULTI_TENSOR];

/// Virtual architecture for a compute capability, e.g. `(9, 0)` -> `"compute_90"`.
///
/// A virtual architecture makes NVRTC emit PTX, which the driver JIT-compiles for the
/// exact device when the module is loaded.
pub(crate) fn arch_for_compute_capability(major: i32, minor: i32) -> String {
    std::format!("compute_{major}{minor}")
}

/// The NVRTC options every kernel is compiled with for `arch`.
///
/// * `--fmad=false`: no multiply-add contraction; the kernels write every FMA of the
///   scalar reference explicitly (`__fmaf_rn`), every separately rounded product as
///   `__fmul_rn`.
/// * `--ftz=false`, `--prec-div=true`, `--prec-sqrt=true`: IEEE subnormals and division
///   (the gradient scale uses `__fdiv_rn` anyway), i.e. no fast math.
/// * `-default-device`: functions without an execution-space annotation are device code.
/// * `--gpu-architecture=<arch>` from the device's compute capability.
pub(crate) fn compile_options(arch: &str) -> Vec<String> {
    std::vec![
        "--fmad=false".to_string(),
        "--ftz=false".to_string(),
        "--prec-div=true".to_string(),
        "--prec-sqrt=true".to_string(),
        "-default-device".to_string(),
        std::format!("--gpu-architecture={arch}"),
        "--std=c++17".to_string(),
    ]
}

/// Whether `libnvrtc` can be loaded (searched like `cudarc` does: `libnvrtc.so`,
/// `libnvrtc.so.13`, ... on `LD_LIBRARY_PATH` and the system paths).
///
/// With the `dynamic-linking` feature the library is linked: a process that started has it.
pub fn nvrtc_available() -> bool {
    #[cfg(feature = "dynamic-loading")]
    // SAFETY: `is_culib_present` only tries `dlopen` on the candidate library names (and
    // closes them again); loading runs the library's own initialisers, exactly what any
    // later NVRTC call would do.
    let present = unsafe { cudarc::nvrtc::sys::is_culib_present() };
    #[cfg(not(feature = "dynamic-loading"))]
    let present = true;
    present
}

/// Compiles `kernel` for `arch` with `compile_options` and returns its PTX.
///
/// Fails with [`LibraryError::NvrtcNotFound`] when libnvrtc is missing (checked before any
/// NVRTC call, which would otherwise panic in the dynamic loader) and with
/// [`CompileError::Nvrtc`] (options and NVRTC log included) when NVRTC rejects it.
pub fn compile(kernel: &KernelSource, arch: &str) -> Result<Ptx, CudaSgdError> {
    if !nvrtc_available() {
        return Err(LibraryError::NvrtcNotFound.into());
    }
    let options = compile_options(arch);
    let opts = CompileOptions {
        options: options.clone(),
        name: Some(kernel.file.to_string()),
        ..Default::default()
    };
    let source = kernel.source;
    catch_library_panic("NVRTC compile", move || {
        cudarc::nvrtc::compile_ptx_with_opts(source, opts).map_err(|err| {
            let (kernel, arch, log) = (kernel.file, arch.to_string(), compile_log(&err));
            CompileError::Nvrtc { kernel, arch, options, log }.into()
        })
    })
}

/// Real architecture for a compute capability, e.g. `(9, 0)` -> `"sm_90"` (for CUBIN).
pub(crate) fn sm_arch_for_compute_capability(major: i32, minor: i32) -> String {
    std::format!("sm_{major}{minor}")
}

/// Compiles `kernel` to a CUBIN (device machine code) for `sm_arch` (e.g. `"sm_90"`), with
/// the same `compile_options` as [`compile`].
///
/// Used when the driver rejects the PTX of [`compile`]: PTX from an NVRTC newer than the
/// driver (e.g. the NVRTC 13.5 wheel with a CUDA 13.0 driver) cannot be JIT-compiled, while
/// machine code from a newer minor toolkit loads on an older driver of the same major version.
pub fn compile_cubin(kernel: &KernelSource, sm_arch: &str) -> Result<Vec<u8>, CudaSgdError> {
    use cudarc::nvrtc::{result, sys};

    if !nvrtc_available() {
        return Err(LibraryError::NvrtcNotFound.into());
    }
    let options = compile_options(sm_arch);
    let fail = |log: String| {
        let (kernel, arch, options) = (kernel.file, sm_arch.to_string(), options.clone());
        CudaSgdError::from(CompileError::Nvrtc { kernel, arch, options, log })
    };
    let src = CString::new(kernel.source).map_err(|_| fail("NUL byte in the source".into()))?;
    let name = CString::new(kernel.file).map_err(|_| fail("NUL byte in the name".into()))?;
    let run = || -> Result<Vec<u8>, CudaSgdError> {
        let prog = result::create_program(&src, Some(&name))
            .map_err(|e| fail(std::format!("nvrtcCreateProgram: {:?}", e.0)))?;
        // SAFETY: `prog` was just created and is destroyed exactly once below; the options are
        // plain ASCII strings without NUL bytes (`compile_program` converts them to C strings).
        let compiled = unsafe { result::compile_program(prog, &options) };
        let out = match compiled {
            Err(e) => {
                // SAFETY: `prog` is a valid program; the log is NUL-terminated by NVRTC.
                let log = unsafe { result::get_program_log(prog) }
                    .map(|raw| {
                        // SAFETY: `raw` holds the NUL-terminated log NVRTC wrote.
                        unsafe { CStr::from_ptr(raw.as_ptr()) }.to_string_lossy().into_owned()
                    })
                    .unwrap_or_default();
                Err(fail(std::format!("{:?}: {log}", e.0)))
            }
            Ok(()) => {
                let mut size = 0usize;
                // SAFETY: `prog` compiled successfully; `size` is a valid out pointer.
                let r = unsafe { sys::nvrtcGetCUBINSize(prog, &mut size) };
                let mut cubin = std::vec![0u8; size];
                let r = r.result().and_then(|()| {
                    // SAFETY: `cubin` has the `size` bytes NVRTC reported for this program.
                    unsafe { sys::nvrtcGetCUBIN(prog, cubin.as_mut_ptr().cast()) }.result()
                });
                match r {
                    Ok(()) if size > 0 => Ok(cubin),
                    Ok(()) => Err(fail("NVRTC produced no CUBIN".into())),
                    Err(e) => Err(fail(std::format!("nvrtcGetCUBIN: {:?}", e.0))),
                }
            }
        };
        // SAFETY: `prog` is valid and not used after this call.
        let _ = unsafe { result::destroy_program(prog) };
        out
    };
    catch_library_panic("NVRTC compile (CUBIN)", run)
}

/// NVRTC status plus its log, as text.
fn compile_log(err: &NvrtcError) -> String {
    match err {
        NvrtcError::CompileError { nvrtc, log, .. } => {
            std::format!("{:?}: {}", nvrtc.0, log.to_string_lossy())
        }
        other => std::format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_names() {
        assert_eq!(sm_arch_for_compute_capability(9, 0), "sm_90");
        assert_eq!(arch_for_compute_capability(9, 0), "compute_90");
        assert_eq!(arch_for_compute_capability(12, 0), "compute_120");
        assert_eq!(arch_for_compute_capability(8, 6), "compute_86");
    }

    #[test]
    fn options_forbid_contraction_and_fast_math() {
        let o = compile_options("compute_90");
        assert!(o.iter().any(|s| s == "--fmad=false"));
        assert!(o.iter().any(|s| s == "--ftz=false"));
        assert!(o.iter().any(|s| s == "--prec-div=true"));
        assert!(o.iter().any(|s| s == "-default-device"));
        assert!(o.iter().any(|s| s == "--gpu-architecture=compute_90"));
        assert!(!o.iter().any(|s| s.contains("fast")));
    }

    #[test]
    fn every_kernel_names_its_entry_points_in_the_source() {
        for k in ALL_KERNELS {
            for e in k.entry_points {
                let decl = std::format!("__global__ void {e}(");
                assert!(k.source.contains(&decl), "{} lacks {decl}", k.file);
            }
        }
    }
}

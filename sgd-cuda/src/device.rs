//! Opening a device without panicking, and the per-device compiled-module cache.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use cudarc::driver::{CudaContext, CudaFunction, CudaModule, CudaStream};
use cudarc::nvrtc::Ptx;

use crate::CudaSgdError;
use crate::kernels::{self, KernelSource};
use crate::library_panic::catch_library_panic;

/// Whether `libcuda` (the NVIDIA driver library) can be loaded.
///
/// With the `dynamic-linking` feature the library is linked: a process that started has it.
pub fn driver_available() -> bool {
    #[cfg(feature = "dynamic-loading")]
    // SAFETY: `is_culib_present` only tries `dlopen` on the candidate names of the driver
    // library; loading runs the driver's own initialisers, as any driver call would.
    let present = unsafe { cudarc::driver::sys::is_culib_present() };
    #[cfg(not(feature = "dynamic-loading"))]
    let present = true;
    present
}

/// Opens device `ordinal` (its primary context) and creates a new stream on it.
///
/// Returns [`CudaSgdError::DriverLibraryNotFound`] when there is no driver library,
/// [`CudaSgdError::NoDevice`] / [`CudaSgdError::Driver`] when the driver finds no usable GPU;
/// never panics. A non-default stream is created because graph capture needs one.
pub fn open_stream(ordinal: usize) -> Result<Arc<CudaStream>, CudaSgdError> {
    let ctx = open_context(ordinal)?;
    catch_library_panic("create stream", || {
        ctx.new_stream().map_err(CudaSgdError::driver("cuStreamCreate"))
    })
}

/// Opens device `ordinal`'s primary context (the one the CUDA runtime, and so PyTorch, uses).
///
/// Returns [`CudaSgdError::DriverLibraryNotFound`] when there is no driver library,
/// [`CudaSgdError::NoDevice`] / [`CudaSgdError::Driver`] when the driver finds no usable GPU;
/// never panics.
pub fn open_context(ordinal: usize) -> Result<Arc<CudaContext>, CudaSgdError> {
    if !driver_available() {
        return Err(CudaSgdError::DriverLibraryNotFound);
    }
    catch_library_panic("open device", || {
        cudarc::driver::result::init().map_err(CudaSgdError::driver("cuInit"))?;
        let count =
            CudaContext::device_count().map_err(CudaSgdError::driver("cuDeviceGetCount"))?;
        let count = usize::try_from(count).unwrap_or(0);
        if ordinal >= count {
            return Err(CudaSgdError::NoDevice { ordinal, count });
        }
        CudaContext::new(ordinal).map_err(CudaSgdError::driver("cuDevicePrimaryCtxRetain"))
    })
}

/// Cache key: the raw context handle (one primary context per device) and the kernel file.
type CacheKey = (usize, &'static str);

/// Compiled modules, per context and kernel file: NVRTC runs once per device and process.
fn cache() -> &'static Mutex<HashMap<CacheKey, Arc<CudaModule>>> {
    static CACHE: OnceLock<Mutex<HashMap<CacheKey, Arc<CudaModule>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Returns `kernel` compiled for the device of `ctx`: compiled by NVRTC for the device's
/// compute capability on first use, then reused from a process-wide cache.
///
/// The cache keeps the module (and so the context) alive for the life of the process.
pub fn module_for(
    ctx: &Arc<CudaContext>,
    kernel: &KernelSource,
) -> Result<Arc<CudaModule>, CudaSgdError> {
    let key = (ctx.cu_ctx() as usize, kernel.file);
    {
        let guard = cache().lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = guard.get(&key) {
            return Ok(m.clone());
        }
    }
    let (major, minor) = ctx
        .compute_capability()
        .map_err(CudaSgdError::driver("cuDeviceGetAttribute(compute capability)"))?;
    let arch = kernels::arch_for_compute_capability(major, minor);
    let ptx = kernels::compile(kernel, &arch)?;
    let ctx2 = ctx.clone();
    let loaded = catch_library_panic("cuModuleLoadData", move || {
        ctx2.load_module(ptx).map_err(|source| CudaSgdError::ModuleLoad {
            kernel: kernel.file,
            arch: arch.clone(),
            source,
        })
    });
    let module = match loaded {
        Ok(m) => m,
        // PTX newer than the driver (or otherwise not loadable): machine code for the exact
        // device instead, compiled with the same options.
        Err(ptx_err @ CudaSgdError::ModuleLoad { .. }) => {
            let sm = kernels::sm_arch_for_compute_capability(major, minor);
            let Ok(cubin) = kernels::compile_cubin(kernel, &sm) else { return Err(ptx_err) };
            let ctx2 = ctx.clone();
            catch_library_panic("cuModuleLoadData (CUBIN)", move || {
                ctx2.load_module(Ptx::from_binary(cubin)).map_err(|_| ptx_err)
            })?
        }
        Err(e) => return Err(e),
    };
    let mut guard = cache().lock().unwrap_or_else(|p| p.into_inner());
    Ok(guard.entry(key).or_insert(module).clone())
}

/// Loads entry point `name` of `kernel` on the device of `ctx` (compiling on first use).
pub fn function_for(
    ctx: &Arc<CudaContext>,
    kernel: &KernelSource,
    name: &'static str,
) -> Result<CudaFunction, CudaSgdError> {
    let module = module_for(ctx, kernel)?;
    module.load_function(name).map_err(CudaSgdError::driver("cuModuleGetFunction"))
}

/// For test harnesses: a stream on device 0, or `None` after printing why the GPU tests
/// skip (`skipping: ...` on stderr).
///
/// # Panics
///
/// When `SGD_CUDA_REQUIRE_GPU` is set and no device can be opened, so that a GPU run cannot
/// pass by skipping everything.
pub fn stream_or_skip(test: &str) -> Option<Arc<CudaStream>> {
    match open_stream(0) {
        Ok(stream) => Some(stream),
        Err(err) => {
            assert!(
                std::env::var_os("SGD_CUDA_REQUIRE_GPU").is_none(),
                "{test}: SGD_CUDA_REQUIRE_GPU is set but no CUDA device could be opened: {err}"
            );
            std::eprintln!("skipping {test}: {err}");
            None
        }
    }
}

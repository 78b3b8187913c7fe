//! The compiled kernels, per device: NVRTC runs once per device and kernel file in a process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use cudarc::driver::{CudaContext, CudaFunction, CudaModule};
use cudarc::nvrtc::Ptx;

use crate::error::{CompileError, CudaSgdError};
use crate::kernels::{self, KernelSource};
use crate::library_panic::catch_library_panic;

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
fn module_for(
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
        ctx2.load_module(ptx).map_err(|source| {
            CudaSgdError::from(CompileError::ModuleLoad {
                kernel: kernel.file,
                arch: arch.clone(),
                source,
            })
        })
    });
    let module = match loaded {
        Ok(m) => m,
        // PTX newer than the driver (or otherwise not loadable): machine code for the exact
        // device instead, compiled with the same options.
        Err(ptx_err @ CudaSgdError::Compile(CompileError::ModuleLoad { .. })) => {
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
pub(crate) fn function_for(
    ctx: &Arc<CudaContext>,
    kernel: &KernelSource,
    name: &'static str,
) -> Result<CudaFunction, CudaSgdError> {
    let module = module_for(ctx, kernel)?;
    module.load_function(name).map_err(CudaSgdError::driver("cuModuleGetFunction"))
}

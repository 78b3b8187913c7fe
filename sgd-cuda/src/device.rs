//! Opening a device and its stream without panicking.

use std::sync::Arc;

use cudarc::driver::{CudaContext, CudaStream};

use crate::error::{CudaSgdError, LibraryError};
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
/// Returns [`LibraryError::DriverNotFound`] when there is no driver library,
/// [`LibraryError::NoDevice`] / [`LibraryError::Driver`] when the driver finds no usable GPU;
/// never panics. A non-default stream is created because graph capture needs one.
pub fn open_stream(ordinal: usize) -> Result<Arc<CudaStream>, CudaSgdError> {
    let ctx = open_context(ordinal)?;
    catch_library_panic("create stream", || {
        ctx.new_stream().map_err(CudaSgdError::driver("cuStreamCreate"))
    })
}

/// Opens device `ordinal`'s primary context (the one the CUDA runtime, and so PyTorch, uses).
///
/// Returns [`LibraryError::DriverNotFound`] when there is no driver library,
/// [`LibraryError::NoDevice`] / [`LibraryError::Driver`] when the driver finds no usable GPU;
/// never panics.
pub fn open_context(ordinal: usize) -> Result<Arc<CudaContext>, CudaSgdError> {
    if !driver_available() {
        return Err(LibraryError::DriverNotFound.into());
    }
    catch_library_panic("open device", || {
        cudarc::driver::result::init().map_err(CudaSgdError::driver("cuInit"))?;
        let count =
            CudaContext::device_count().map_err(CudaSgdError::driver("cuDeviceGetCount"))?;
        let count = usize::try_from(count).unwrap_or(0);
        if ordinal >= count {
            return Err(LibraryError::NoDevice { ordinal, count }.into());
        }
        CudaContext::new(ordinal).map_err(CudaSgdError::driver("cuDevicePrimaryCtxRetain"))
    })
}

//! Streams that belong to someone else: PyTorch's current stream, a C program's
//! `cudaStream_t`.

use core::ptr;
use std::sync::{Arc, OnceLock};

use cudarc::driver::CudaStream;
use cudarc::driver::sys::{CUcontext, CUstream, cuCtxGetCurrent, cuCtxSetCurrent, cuStreamGetCtx};

use crate::device::{driver_available, open_context};
use crate::error::{CudaSgdError, StreamError};
use crate::library_panic::catch_library_panic;

/// `stream`, a stream of device `ordinal` created and owned by someone else (a framework's
/// stream such as `torch.cuda.current_stream().cuda_stream`, a C program's `cudaStream_t`), as
/// a [`CudaStream`] this crate can enqueue work on, in order with the owner's work. Dropping
/// it never destroys the stream.
///
/// Opens device `ordinal`'s primary context ([`crate::device::open_context`], the context of
/// the CUDA runtime and so of PyTorch) and checks with `cuStreamGetCtx` that the stream belongs
/// to it. cudarc's per-buffer event tracking is turned off for this context handle (created
/// here, shared with nobody): whatever this crate allocates through the returned stream is
/// used on that one stream only, and event records would break a CUDA graph capture.
///
/// # Safety
/// `stream` is a live stream handle (or a special one: null, `CU_STREAM_LEGACY`,
/// `CU_STREAM_PER_THREAD`) and stays alive as long as the returned stream, or anything holding
/// it, is used.
///
/// # Errors
/// [`crate::LibraryError::DriverNotFound`], [`crate::LibraryError::NoDevice`],
/// [`crate::LibraryError::Driver`], [`StreamError::OfAnotherContext`].
pub unsafe fn borrow_stream(
    ordinal: usize,
    stream: CUstream,
) -> Result<Arc<CudaStream>, CudaSgdError> {
    let ctx = open_context(ordinal)?;
    catch_library_panic("borrow stream", || {
        ctx.bind_to_thread().map_err(CudaSgdError::driver("cuCtxSetCurrent"))?;
        let mut owner: CUcontext = ptr::null_mut();
        // SAFETY: `stream` is a live (or special) stream handle (this function's contract) and
        // `owner` a valid out pointer; for a special handle the driver reports the current
        // context, bound just above.
        unsafe { cuStreamGetCtx(stream, &raw mut owner) }
            .result()
            .map_err(CudaSgdError::driver("cuStreamGetCtx"))?;
        if owner != ctx.cu_ctx() {
            return Err(StreamError::OfAnotherContext { ordinal }.into());
        }
        // SAFETY: this context handle was created above and no buffer of it exists yet; every
        // buffer allocated through the returned stream is used on that stream only.
        unsafe { ctx.disable_event_tracking() };
        // SAFETY: `stream` belongs to `ctx` (checked above) and outlives the returned value
        // (this function's contract); work is ordered by the stream itself.
        Ok(unsafe { ctx.wrap_borrowed_stream(stream) })
    })
}

/// Runs `f`, then makes the CUDA context that was current on this thread before it current
/// again (also when `f` panics). cudarc makes its context current for each of its calls; a
/// caller such as PyTorch, whose current device may be another one, keeps its own. Without a
/// driver library it only runs `f`.
pub fn preserving_current_context<T>(f: impl FnOnce() -> T) -> T {
    /// Makes its context current again when dropped.
    struct Restore(CUcontext);
    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: `self.0` was current on this thread just before (a live context or null);
            // the driver library is loaded (checked before this guard was made).
            let _ = unsafe { cuCtxSetCurrent(self.0) };
        }
    }
    static DRIVER: OnceLock<bool> = OnceLock::new();
    if !*DRIVER.get_or_init(driver_available) {
        return f();
    }
    let mut saved: CUcontext = ptr::null_mut();
    // SAFETY: a valid out pointer; the driver library is loaded (checked above).
    let _restore =
        unsafe { cuCtxGetCurrent(&raw mut saved) }.result().ok().map(|()| Restore(saved));
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_driver_the_error_says_so() {
        if driver_available() {
            std::eprintln!("skipping without_a_driver_the_error_says_so: a CUDA driver is here");
            return;
        }
        // SAFETY: the driver library is missing, so the handle is never used.
        let err = unsafe { borrow_stream(0, ptr::null_mut()) }.err();
        let expected = CudaSgdError::Library(crate::error::LibraryError::DriverNotFound);
        assert_eq!(err, Some(expected));
        assert_eq!(preserving_current_context(|| 7), 7);
    }
}

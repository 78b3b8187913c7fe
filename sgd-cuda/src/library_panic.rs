//! Panics of the dynamically loaded CUDA libraries, stopped at this crate's boundary.

use core::panic::AssertUnwindSafe;
use std::panic::catch_unwind;
use std::string::ToString;

use crate::error::{CudaSgdError, LibraryError};

/// Runs `f`, turning a panic inside it (`cudarc`'s dynamic loader panics when a symbol is
/// missing from an old `libcuda` or `libnvrtc`, for example) into
/// [`LibraryError::Panic`] with `context` and the panic's message
/// ([`sgd_core::panic_message`]), instead of unwinding into the caller.
pub(crate) fn catch_library_panic<T>(
    context: &'static str,
    f: impl FnOnce() -> Result<T, CudaSgdError>,
) -> Result<T, CudaSgdError> {
    // Nothing observes state half-updated by a panic: the result is discarded.
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let message = sgd_core::panic_message(&*payload).to_string();
        Err(LibraryError::Panic { context, message }.into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_library_panic_with_its_message() {
        let r: Result<(), _> = catch_library_panic("loading", || panic!("symbol {} missing", "x"));
        match r {
            Err(CudaSgdError::Library(LibraryError::Panic { context, message })) => {
                assert_eq!((context, message.as_str()), ("loading", "symbol x missing"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(catch_library_panic("ok", || Ok(3)), Ok(3)));
    }
}

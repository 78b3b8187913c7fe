//! `sgd_pool`: a persistent thread pool handle.
use core::panic::AssertUnwindSafe;
use std::panic::catch_unwind;

use sgd_cpu::ThreadPool;

use crate::error::record;
use crate::{CapiError, SgdStatus};

/// `sgd_pool`: an opaque handle to a [`ThreadPool`] (workers started once, reused by every
/// step that passes the handle).
#[derive(Debug)]
pub struct SgdPool(pub(crate) ThreadPool);

/// `sgd_pool *sgd_pool_new(size_t threads)`: a pool of `threads` threads in total, the calling
/// thread included (`0` = one per core). Returns null on failure (see
/// [`crate::sgd_last_error_message`]). Free it with [`sgd_pool_free`].
#[unsafe(no_mangle)]
pub extern "C" fn sgd_pool_new(threads: usize) -> *mut SgdPool {
    let made = catch_unwind(|| ThreadPool::new(threads).map_err(CapiError::from))
        .unwrap_or_else(|p| Err(CapiError::panic(p)));
    match made {
        Ok(pool) => {
            record(Ok(SgdStatus::Ok));
            Box::into_raw(Box::new(SgdPool(pool)))
        }
        Err(e) => {
            record(Err(e));
            core::ptr::null_mut()
        }
    }
}

/// `void sgd_pool_free(sgd_pool *pool)`: stops the workers and frees the pool; null is
/// ignored.
///
/// # Safety
/// `pool` is null or was returned by [`sgd_pool_new`] and not freed yet, and no step using it
/// is running.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sgd_pool_free(pool: *mut SgdPool) {
    if !pool.is_null() {
        // SAFETY: the caller guarantees `pool` came from `Box::into_raw` in `sgd_pool_new`
        // and is freed once.
        let pool = unsafe { Box::from_raw(pool) };
        // Joining the workers cannot panic in practice; never unwind into C if it did.
        let _ = catch_unwind(AssertUnwindSafe(|| drop(pool)));
    }
}

/// `size_t sgd_pool_threads(const sgd_pool *pool)`: threads taking part in a step (0 for
/// null).
///
/// # Safety
/// `pool` is null or a live pool from [`sgd_pool_new`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sgd_pool_threads(pool: *const SgdPool) -> usize {
    // SAFETY: the caller guarantees `pool` is null or live.
    unsafe { pool.as_ref() }.map_or(0, |p| p.0.threads())
}

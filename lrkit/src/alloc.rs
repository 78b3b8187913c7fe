//! The allocator of the `lrkit` binary: the system allocator, and, when an allocation fails, a
//! message on stderr and exit code 1 (a failure while running) instead of Rust's abort
//! (`SIGABRT`, exit code 134). Nothing else of lrkit is `unsafe`; this library exists so that
//! the binary stays `#![forbid(unsafe_code)]`.

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicBool, Ordering};
use std::alloc::System;
use std::io::Write;

/// [`System`], exiting with a message where it returns no memory.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExitOnOom;

/// Set by the first failure: a second one while exiting aborts.
static FAILED: AtomicBool = AtomicBool::new(false);

/// Reports a failed allocation of `size` bytes and exits with code 1, allocating nothing.
#[cold]
fn out_of_memory(size: usize) -> ! {
    if FAILED.swap(true, Ordering::SeqCst) {
        std::process::abort();
    }
    // The message is formatted into a fixed buffer: no allocation is possible any more.
    let mut buf = [0u8; 128];
    let len = {
        let mut cursor = std::io::Cursor::new(&mut buf[..]);
        let _ = writeln!(
            cursor,
            "error: out of memory: an allocation of {size} bytes failed (lrkit needs more memory than it may use)"
        );
        usize::try_from(cursor.position()).unwrap_or(0)
    };
    let _ = std::io::stderr().write_all(&buf[..len]);
    std::process::exit(1)
}

// SAFETY: every method forwards to `System` with the caller's arguments, so `System`'s
// guarantees hold; a null result never reaches the caller (the process exits instead).
unsafe impl GlobalAlloc for ExitOnOom {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` needs.
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            out_of_memory(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            out_of_memory(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (through this type) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract; `ptr` came from
        // `System` through this type.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            out_of_memory(new_size);
        }
        p
    }
}

//! The message of the last error on this thread, for a C library's
//! `size_t *_last_error_message(char *buf, size_t len)`.
use core::cell::RefCell;

thread_local! {
    /// The message of the last error on this thread ("" after a success).
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records the message of a call's outcome on this thread ("" for a success).
pub fn set(message: String) {
    // `try_with`: during thread teardown the slot may be gone; the status still reports.
    let _ = LAST_ERROR.try_with(|m| *m.borrow_mut() = message);
}

/// Copies the message of the last error on this thread ("" after a success) into `buf` as a
/// NUL-terminated string, truncated to `len - 1` bytes, and returns the full length (without
/// the NUL), like `snprintf`. With `buf` null or `len` 0 nothing is written.
///
/// # Safety
/// `buf` is null or valid for `len` bytes of writes.
pub unsafe fn copy_to(buf: *mut u8, len: usize) -> usize {
    let copied = LAST_ERROR.try_with(|m| {
        let m = m.borrow();
        let bytes = m.as_bytes();
        if !buf.is_null() && len > 0 {
            let n = bytes.len().min(len - 1);
            // SAFETY: the caller guarantees `buf` is valid for `len > n` bytes; the message is
            // a separate Rust allocation, so the regions do not overlap.
            unsafe {
                core::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, n);
                *buf.add(n) = 0;
            }
        }
        bytes.len()
    });
    copied.unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn copies_truncates_and_reports_the_full_length() {
        super::set("bad lr".to_owned());
        let mut buf = [0xffu8; 4];
        // SAFETY: `buf` is valid for its 4 bytes.
        let n = unsafe { super::copy_to(buf.as_mut_ptr(), buf.len()) };
        assert_eq!(n, 6);
        assert_eq!(&buf, b"bad\0");
        // SAFETY: a null buffer is allowed and untouched.
        assert_eq!(unsafe { super::copy_to(core::ptr::null_mut(), 10) }, 6);
        super::set(String::new());
        // SAFETY: as above.
        assert_eq!(unsafe { super::copy_to(buf.as_mut_ptr(), buf.len()) }, 0);
        assert_eq!(buf[0], 0);
    }
}

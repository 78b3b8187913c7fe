//! The last error's message: up to [`PIECES`] pieces of static text and an optional index,
//! kept in atomics (no heap, no `core::fmt`). One slot for the program: a microcontroller
//! firmware has one thread; on a host, a thread reading the message sees the last error of
//! any thread.

use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// Static pieces per message.
const PIECES: usize = 6;
/// "No index" in [`INDEX`].
const NO_INDEX: usize = usize::MAX;

static PTRS: [AtomicPtr<u8>; PIECES] = [const { AtomicPtr::new(core::ptr::null_mut()) }; PIECES];
static LENS: [AtomicUsize; PIECES] = [const { AtomicUsize::new(0) }; PIECES];
/// A number printed after the first piece (`"lrk_sgd_step: tensor 3: ..."`), or [`NO_INDEX`].
static INDEX: AtomicUsize = AtomicUsize::new(NO_INDEX);

/// A message: its pieces in order, and an index written after the third (`"fn"`, `": "`,
/// `"tensor "`, index, ...).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Message {
    pub(crate) pieces: [&'static str; PIECES],
    pub(crate) index: Option<usize>,
}

impl Message {
    pub(crate) const fn new(pieces: [&'static str; PIECES]) -> Self {
        Self { pieces, index: None }
    }
}

/// Records `m` as the last error.
pub(crate) fn set(m: Message) {
    for (i, piece) in m.pieces.iter().enumerate() {
        PTRS[i].store(piece.as_ptr().cast_mut(), Ordering::Relaxed);
        LENS[i].store(piece.len(), Ordering::Relaxed);
    }
    INDEX.store(m.index.unwrap_or(NO_INDEX), Ordering::Relaxed);
}

/// Clears the message (after a success).
pub(crate) fn clear() {
    set(Message::default());
}

/// Records `func: ` followed by the pieces of `what`, and returns `status`.
pub(crate) fn fail(status: i32, func: &'static str, what: [&'static str; 4]) -> i32 {
    set(Message::new([func, ": ", what[0], what[1], what[2], what[3]]));
    status
}

/// As [`fail`], with `index` written right after `what[0]` (`"tensor "`, `"group "`).
pub(crate) fn fail_at(
    status: i32,
    func: &'static str,
    index: usize,
    what: [&'static str; 4],
) -> i32 {
    set(Message { pieces: [func, ": ", what[0], what[1], what[2], what[3]], index: Some(index) });
    status
}

/// Emits the message byte by byte; returns its length.
fn render(mut emit: impl FnMut(u8)) -> usize {
    let mut n = 0;
    let mut put = |b: u8| {
        emit(b);
        n += 1;
    };
    let index = INDEX.load(Ordering::Relaxed);
    for i in 0..PIECES {
        let (p, len) = (PTRS[i].load(Ordering::Relaxed), LENS[i].load(Ordering::Relaxed));
        if !p.is_null() {
            // SAFETY: `p`/`len` were stored together from one `&'static str` by `set`.
            let piece = unsafe { core::slice::from_raw_parts(p, len) };
            piece.iter().for_each(|&b| put(b));
        }
        if i == 2 && index != NO_INDEX {
            // The index follows the third piece ("fn", ": ", "tensor ").
            let mut digits = [0u8; 20];
            let (mut v, mut k) = (index, digits.len());
            loop {
                k -= 1;
                digits[k] = b"0123456789"[v % 10];
                v /= 10;
                if v == 0 {
                    break;
                }
            }
            digits[k..].iter().for_each(|&b| put(b));
        }
    }
    n
}

/// Copies the message of the last error ("" after a success) into `buf` as a NUL-terminated
/// string, truncated to `len - 1` bytes, and returns its full length without the NUL (like
/// `snprintf`). With `buf` null or `len` 0 nothing is written.
///
/// # Safety
/// `buf` is null or valid for `len` bytes of writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_last_error_message(buf: *mut u8, len: usize) -> usize {
    let mut written = 0;
    let total = render(|b| {
        if !buf.is_null() && written + 1 < len {
            // SAFETY: `written + 1 < len`: within the caller's `len` bytes.
            unsafe { *buf.add(written) = b };
            written += 1;
        }
    });
    if !buf.is_null() && len > 0 {
        // SAFETY: `written < len`.
        unsafe { *buf.add(written) = 0 };
    }
    total
}

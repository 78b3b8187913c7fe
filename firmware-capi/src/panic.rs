//! The panic hook, and on bare metal the panic handler that calls it.

use core::sync::atomic::{AtomicPtr, Ordering};

/// `lrk_panic_hook`: message and file as pointer + length (not NUL-terminated), line.
pub type PanicHook = unsafe extern "C" fn(
    message: *const u8,
    message_len: usize,
    file: *const u8,
    file_len: usize,
    line: u32,
);

/// The hook, as a type-erased function pointer (null: none).
static HOOK: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// Sets the function the library's panic handler calls before it stops (`NULL`: none). The
/// hook may end the program (the usual choice: report, then reset or exit); if it returns,
/// the handler loops forever.
#[unsafe(no_mangle)]
pub extern "C" fn lrk_set_panic_hook(hook: Option<PanicHook>) {
    HOOK.store(hook.map_or(core::ptr::null_mut(), |h| h as *mut ()), Ordering::SeqCst);
}

/// The hook set by [`lrk_set_panic_hook`], if any.
#[cfg_attr(not(target_os = "none"), allow(dead_code))]
fn hook() -> Option<PanicHook> {
    let p = HOOK.load(Ordering::SeqCst);
    // SAFETY: the only non-null value ever stored is a `PanicHook` cast to `*mut ()`.
    (!p.is_null()).then(|| unsafe { core::mem::transmute::<*mut (), PanicHook>(p) })
}

/// Bare metal: the library is the program's one Rust piece, so it supplies the handler.
#[cfg(all(target_os = "none", not(test)))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let message = info.message().as_str().unwrap_or("(formatted message)");
    let (file, line) = info.location().map_or(("?", 0), |l| (l.file(), l.line()));
    if let Some(h) = hook() {
        // SAFETY: the caller of `lrk_set_panic_hook` promised a function of this signature;
        // both strings are valid for their lengths for the duration of the call.
        unsafe { h(message.as_ptr(), message.len(), file.as_ptr(), file.len(), line) };
    }
    loop {
        core::hint::spin_loop();
    }
}

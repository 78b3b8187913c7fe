//! The text of a caught panic, for the crates that stop panics at an FFI boundary (sgd-cpu-capi
//! at the C ABI, sgd-cuda around the dynamically loaded CUDA libraries).

use core::any::Any;

/// The message of a panic payload caught by `std::panic::catch_unwind`: the `&str` or `String`
/// that `panic!` was given, or `"non-string panic payload"` for any other payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.as_str()
    } else {
        "non-string panic payload"
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test.
    use super::panic_message;

    #[test]
    fn message_of_str_string_and_other_payloads() {
        let text = std::panic::catch_unwind(|| panic!("plain")).unwrap_err();
        assert_eq!(panic_message(&*text), "plain");
        let formatted = std::panic::catch_unwind(|| panic!("{} {}", "formatted", 1)).unwrap_err();
        assert_eq!(panic_message(&*formatted), "formatted 1");
        let other = std::panic::catch_unwind(|| std::panic::panic_any(7u8)).unwrap_err();
        assert_eq!(panic_message(&*other), "non-string panic payload");
    }
}

//! Integers as text without `core::fmt`'s machinery: the firmware prints every line through
//! these and `write_str`, so neither `core::fmt::write` with its padding logic nor the 64-bit
//! division of `compiler-builtins` is linked (about 5 KiB of flash on the Cortex-M4F).

use core::fmt::{self, Write};

/// Writes `n` in decimal, at least `width` digits (zero-padded; `width` at most 10).
pub fn write_u32(out: &mut (impl Write + ?Sized), n: u32, width: usize) -> fmt::Result {
    let mut digits = [b'0'; 10];
    let mut n = n;
    let mut start = digits.len();
    while n > 0 || start > digits.len() - width.clamp(1, 10) {
        start -= 1;
        digits[start] = b'0' + u8::try_from(n % 10).unwrap_or(0);
        n /= 10;
    }
    // Only ASCII digits were written.
    out.write_str(core::str::from_utf8(&digits[start..]).unwrap_or("?"))
}

/// Writes `n` as eight lowercase hexadecimal digits (`{:08x}`).
pub fn write_hex8(out: &mut (impl Write + ?Sized), n: u32) -> fmt::Result {
    let mut digits = [0u8; 8];
    for (i, d) in digits.iter_mut().enumerate() {
        let nibble = (n >> (28 - 4 * i)) & 0xF;
        *d = b"0123456789abcdef"[nibble as usize];
    }
    out.write_str(core::str::from_utf8(&digits).unwrap_or("?"))
}

/// `(n / d, n % d)` for `d != 0` by binary long division: a few dozen bytes of code, where
/// `compiler-builtins`' 64-bit division takes about 1 KiB on a 32-bit core (`d == 0` gives
/// `(u64::MAX, n)`).
pub fn div_rem_u64(n: u64, d: u64) -> (u64, u64) {
    let (mut q, mut r) = (0u64, 0u64);
    for i in (0..64).rev() {
        r = (r << 1) | ((n >> i) & 1);
        q <<= 1;
        if r >= d {
            r -= d;
            q |= 1;
        }
    }
    (q, r)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::String;

    use super::*;

    #[test]
    fn digits() {
        let text = |n, w| {
            let mut s = String::new();
            write_u32(&mut s, n, w).unwrap();
            s
        };
        assert_eq!(text(0, 0), "0");
        assert_eq!(text(0, 2), "00");
        assert_eq!(text(7, 6), "000007");
        assert_eq!(text(4_294_967_295, 0), "4294967295");
        assert_eq!(text(123_456, 3), "123456");
        let mut s = String::new();
        write_hex8(&mut s, 0x3c23_d70b).unwrap();
        assert_eq!(s, "3c23d70b");
    }

    #[test]
    fn division() {
        for (n, d) in [(0u64, 1u64), (10, 3), (u64::MAX, 7), (999_999_999_999, 1_000_000), (5, 9)] {
            assert_eq!(div_rem_u64(n, d), (n / d, n % d));
        }
        assert_eq!(div_rem_u64(5, 0), (u64::MAX, 5));
    }
}

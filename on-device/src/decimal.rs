//! Decimal output without `core`'s float formatting (which would cost the firmware several KiB
//! of flash): fixed-point numbers and percentages, the same text on every target.

use core::fmt::{self, Write};

use crate::text::{div_rem_u64, write_u32};

/// Powers of ten that are exact in f64.
const POW10: [f64; 10] = [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/// `value` with `places` digits after the point (at most 9), rounded half away from zero:
/// `round(f64(value) * 10^places)` printed as an integer with the point put back. Magnitudes of
/// 10^9 and above, NaN and infinities print as in Rust (`1e9` as `>=1e9`, `NaN`, `inf`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fixed {
    /// The number.
    pub value: f32,
    /// Digits after the point.
    pub places: usize,
}

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

impl Fixed {
    /// Writes the text of [`Display`](fmt::Display) to any writer, without `core::fmt::write`.
    pub fn write_to(&self, f: &mut (impl Write + ?Sized)) -> fmt::Result {
        let v = self.value;
        if v.is_nan() {
            return f.write_str("NaN");
        }
        let sign = if v.is_sign_negative() { "-" } else { "" };
        let magnitude = f64::from(v.abs());
        if magnitude >= 1e9 {
            f.write_str(sign)?;
            return f.write_str(if v.is_infinite() { "inf" } else { ">=1e9" });
        }
        let places = self.places.min(POW10.len() - 1);
        let unit = POW10[places];
        // Below 1e9 * 1e9 < 2^63: the rounded product converts to u64 exactly.
        let scaled = exact_u64(libm::round(magnitude * unit));
        let (whole, fraction) = div_rem_u64(scaled, exact_u64(unit));
        f.write_str(if scaled == 0 { "" } else { sign })?;
        // whole <= 1e9 and fraction < 1e9: both fit u32.
        write_u32(f, u32::try_from(whole).unwrap_or(u32::MAX), 1)?;
        if places == 0 {
            return Ok(());
        }
        f.write_char('.')?;
        write_u32(f, u32::try_from(fraction).unwrap_or(u32::MAX), places)
    }
}

/// A non-negative integral `f64` below 2^63 (a rounded, bounded magnitude or a power of ten)
/// as `u64`: the conversion is exact.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // integral, in 0..2^63
fn exact_u64(x: f64) -> u64 {
    x as u64
}

/// `part / whole` as a percentage with two decimals, rounded half up, in integer arithmetic
/// (`whole == 0` prints `NaN`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Percent {
    /// Numerator.
    pub part: u32,
    /// Denominator.
    pub whole: u32,
}

impl Percent {
    /// Hundredths of a percent, rounded half up; `None` for `whole == 0`.
    pub fn basis_points(&self) -> Option<u64> {
        let whole = u64::from(self.whole);
        (whole > 0).then(|| div_rem_u64(u64::from(self.part) * 20_000 + whole, 2 * whole).0)
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

impl Percent {
    /// Writes the text of [`Display`](fmt::Display) to any writer, without `core::fmt::write`.
    pub fn write_to(&self, f: &mut (impl Write + ?Sized)) -> fmt::Result {
        match self.basis_points() {
            Some(bp) => {
                let (whole, hundredths) = div_rem_u64(bp, 100);
                // whole <= 2^32 * 100 / 100: at most u32::MAX (+1 for a rounded-up maximum).
                write_u32(f, u32::try_from(whole).unwrap_or(u32::MAX), 1)?;
                f.write_char('.')?;
                write_u32(f, u32::try_from(hundredths).unwrap_or(0), 2)
            }
            None => f.write_str("NaN"),
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::ToString;

    use super::*;

    fn fixed(value: f32, places: usize) -> std::string::String {
        Fixed { value, places }.to_string()
    }

    #[test]
    fn fixed_point_text() {
        assert_eq!(fixed(0.1, 6), "0.100000");
        assert_eq!(fixed(2.236_337, 6), "2.236337");
        assert_eq!(fixed(1.0e-7, 6), "0.000000");
        assert_eq!(fixed(-1.0e-7, 6), "0.000000"); // no "-0"
        assert_eq!(fixed(-0.25, 1), "-0.3"); // half away from zero
        assert_eq!(fixed(12.5, 0), "13");
        assert_eq!(fixed(123_456.79, 3), "123456.789");
        assert_eq!(fixed(f32::NAN, 6), "NaN");
        assert_eq!(fixed(f32::NEG_INFINITY, 6), "-inf");
        assert_eq!(fixed(3.0e9, 2), ">=1e9");
        assert_eq!(fixed(0.5, 20), "0.500000000"); // places capped at 9
        // Agrees with Rust's correctly rounded formatting away from ties.
        for v in [0.012_345_678f32, 0.999_999_9, 7.25e-3, 1.0 / 3.0] {
            assert_eq!(fixed(v, 6), std::format!("{v:.6}"));
        }
    }

    #[test]
    fn percentages() {
        assert_eq!(Percent { part: 348, whole: 360 }.to_string(), "96.67");
        assert_eq!(Percent { part: 1, whole: 8 }.to_string(), "12.50");
        assert_eq!(Percent { part: 1, whole: 40_000 }.to_string(), "0.00"); // 0.0025 %
        assert_eq!(Percent { part: 1, whole: 20_000 }.to_string(), "0.01"); // 0.005 %: half up
        assert_eq!(Percent { part: 360, whole: 360 }.to_string(), "100.00");
        assert_eq!(Percent { part: 0, whole: 0 }.to_string(), "NaN");
    }
}

//! Python's `repr(float)` (what `print(f"{lr}")` shows): the shortest digits that read back as
//! the same double, in fixed notation for decimal exponents -4..=15 (always with a fractional
//! part, `1.0`), otherwise in scientific notation with a signed exponent of at least two digits
//! (`1e-05`, `1.2345678901234568e+17`); `inf`, `-inf`, `nan`, `-0.0`.
//!
//! The digits are Rust's shortest round-trip digits (`{:e}`), which, like CPython's
//! `float_repr_style = 'short'` (David Gay's mode 0), are the shortest string that rounds to the
//! value, the nearest such when there are several.

/// `repr(x)` as CPython prints it.
pub(crate) fn repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // `d.ddde±x`: the shortest round-trip digits and the decimal exponent of the first one.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if x < 0.0 { "-" } else { "" };
    let n = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    if (-4..16).contains(&exp) {
        // Fixed: the point goes after digit `exp + 1` (before the first digit when <= 0).
        let point = exp + 1;
        let zeros = |k: i32| "0".repeat(usize::try_from(k).unwrap_or(0));
        if point <= 0 {
            format!("{sign}0.{}{digits}", zeros(-point))
        } else if point >= n {
            format!("{sign}{digits}{}.0", zeros(point - n))
        } else {
            let (int, frac) = digits.split_at(usize::try_from(point).unwrap_or(0));
            format!("{sign}{int}.{frac}")
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() { first.to_string() } else { format!("{first}.{rest}") };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exp.unsigned_abs())
    }
}

/// Python's `f"{x:.{decimals}f}"`: fixed notation, and `nan`, `inf`, `-inf` as Python writes
/// them.
pub(crate) fn fixed(x: f64, decimals: usize) -> String {
    if x.is_finite() { format!("{x:.decimals$}") } else { repr(x) }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::repr;

    #[test]
    fn matches_cpython() {
        // (value, CPython 3.11 `repr(value)`)
        let cases: &[(f64, &str)] = &[
            (0.1, "0.1"),
            (1e-05, "1e-05"),
            (f64::from_bits(0x3EE4_F8B5_88E3_68F3), "1.0000000000000004e-05"),
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123_456_789_012_345_680.0, "1.2345678901234568e+17"),
            (1e307, "1e+307"),
            (5e-324, "5e-324"),
            (2.5e-05, "2.5e-05"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (-1.5e-07, "-1.5e-07"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (1.0 / 3.0, "0.3333333333333333"),
            (0.010_000_000_000_000_002, "0.010000000000000002"),
            (100.0, "100.0"),
            (1e22, "1e+22"),
            (9_999_999_999_999_998.0, "9999999999999998.0"),
            (-2.0, "-2.0"),
            (f64::MAX, "1.7976931348623157e+308"),
        ];
        for &(x, want) in cases {
            assert_eq!(repr(x), want, "{x:e}");
        }
    }

    proptest! {
        #[test]
        fn reads_back_as_the_same_double(bits in any::<u64>()) {
            let x = f64::from_bits(bits);
            let s = repr(x);
            let back: f64 = s.parse().unwrap_or(f64::NAN);
            prop_assert!(back.to_bits() == x.to_bits() || (x.is_nan() && back.is_nan()), "{} -> {}", x, s);
            prop_assert!(!s.contains('e') || s.contains("e-") || s.contains("e+"), "{}", s);
        }
    }
}

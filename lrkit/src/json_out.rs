//! JSON written as it is produced: numbers as Python's `repr(float)` (which is valid JSON for
//! every finite float: `0.1`, `1e-05`, `-0.0`), and the values JSON has no number for as the
//! strings Python's `repr` gives them: `"inf"`, `"-inf"`, `"nan"` (`float(s)` reads them back
//! in Python; Python's own `json.dumps` would write `Infinity`, which is not JSON).

use crate::py_float::repr;

/// `x` as a JSON value.
pub(crate) fn number(x: f64) -> String {
    if x.is_finite() { repr(x) } else { format!("\"{}\"", repr(x)) }
}

/// `s` as a JSON string (escaped as JSON requires, control characters included).
pub(crate) fn string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// `[x, y, ...]` of [`number`]s.
pub(crate) fn numbers(xs: impl IntoIterator<Item = f64>) -> String {
    let items: Vec<String> = xs.into_iter().map(number).collect();
    format!("[{}]", items.join(","))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failure is the assertion
    use super::{number, numbers, string};

    #[test]
    fn non_finite_values_are_distinct_strings() {
        assert_eq!(
            numbers([0.1, 1e-5, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN]),
            r#"[0.1,1e-05,-0.0,"inf","-inf","nan"]"#
        );
        assert_eq!(number(1e308), "1e+308");
        assert_eq!(string("a\"b\u{1b}"), r#""a\"b\u001b""#);
        let v: serde_json::Value = serde_json::from_str(&numbers([1e-5, 1e+308, 5e-324])).unwrap();
        assert_eq!(v[2].as_f64(), Some(5e-324));
    }
}

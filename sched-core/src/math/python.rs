//! Python's numerics where they differ from Rust's operators: integer and float floor
//! division, `%`, `max` and `bisect.bisect_right` (the operations that raise are in
//! [`super::raising`]). Every family evaluates its library's Python formula through these, so
//! a formula reads as its source.

use crate::math::Real;
use crate::protocol::base::float_of;

/// Python's integer `a // b` (floor division: `7 // -3 == -3`); `0` for `b == 0`, which
/// every caller rejects first (Python raises `ZeroDivisionError`).
///
/// In 32 bits where both operands fit (the usual non-negative epoch and period: a 64-bit
/// division costs several times more on x86-64); never panics (`i64::MIN // -1` wraps).
#[inline(always)]
pub(crate) fn floor_div(a: i64, b: i64) -> i64 {
    if let (Ok(a), Ok(b)) = (u32::try_from(a), u32::try_from(b))
        && b != 0
    {
        return i64::from(a / b);
    }
    if b == 0 {
        return 0;
    }
    let q = a.wrapping_div(b);
    if a.wrapping_rem(b) != 0 && ((a < 0) != (b < 0)) { q - 1 } else { q }
}

/// Python's float `a // b` (CPython's `float_floor_div`, `b != 0`). For an integral `b`
/// and integral `a` below 2^53 (timm's step and usual `decay_t`) it is the integer floor
/// division, computed as such (the same value, without `fmod`).
pub(crate) fn float_floor_div(a: f64, b: f64) -> f64 {
    #[allow(clippy::cast_possible_truncation)] // below 2^53 in magnitude: exact if integral
    let (ai, bi) = (a as i64, b as i64);
    if b.abs() < 9.0e15 && a.abs() < 9.0e15 && float_of(ai) == a && float_of(bi) == b && bi != 0 {
        let q = floor_div(ai, bi);
        // Python returns -0.0 for a zero quotient of operands of opposite signs.
        return if q == 0 { libm::copysign(0.0, a / b) } else { float_of(q) };
    }
    let m = libm::fmod(a, b);
    let mut div = (a - m) / b;
    if m != 0.0 && ((b < 0.0) != (m < 0.0)) {
        div -= 1.0;
    }
    if div != 0.0 {
        let f = libm::floor(div);
        if div - f > 0.5 { f + 1.0 } else { f }
    } else {
        libm::copysign(0.0, a / b)
    }
}

/// Python's float `x % 1.0`: `fmod`, moved into `[0, 1)` for negative `x`.
#[inline(always)]
pub(crate) fn mod_one<R: Real>(x: R) -> R {
    let m = x.fmod(R::ONE);
    if m < R::ZERO { m + R::ONE } else { m }
}

/// Python's `max(a, b)` on floats: `b` if `b > a`, else `a` (so `a` when either is NaN
/// and `b` is not greater).
#[inline(always)]
pub(crate) fn max<R: Real>(a: R, b: R) -> R {
    if b > a { b } else { a }
}

/// Python's `max(0.0, x)` (and `max(0, x)`): `x` if `x > 0`, else 0 (also for NaN).
#[inline(always)]
pub(crate) fn max_zero<R: Real>(x: R) -> R {
    max(R::ZERO, x)
}

/// Python's `max(1, n)` on ints, as a float.
#[inline(always)]
pub(crate) fn max_one<R: Real>(n: i64) -> R {
    R::from_i64(n.max(1))
}

/// Python's `bisect.bisect_right(list, x)`, on the list as given (sorted or not, as
/// Python runs it).
pub(crate) fn bisect_right<T: PartialOrd>(list: &[T], x: T) -> usize {
    let (mut lo, mut hi) = (0, list.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if x < list[mid] { hi = mid } else { lo = mid + 1 }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::{bisect_right, float_floor_div, floor_div, max, max_zero, mod_one};

    #[test]
    fn integer_floor_division_is_pythons() {
        // Python: 7 // 3, -7 // 3, 7 // -3, -7 // -3, 6 // -3, 0 // -5, big // 7, big // -7
        let big = i64::from(u32::MAX) + 10;
        for (a, b, want) in [
            (7, 3, 2),
            (-7, 3, -3),
            (7, -3, -3),
            (-7, -3, 2),
            (6, -3, -2),
            (0, -5, 0),
            (big, 7, 613_566_757),
            (big, -7, -613_566_758),
            (i64::MIN, -1, i64::MIN),
        ] {
            assert_eq!(floor_div(a, b), want, "{a} // {b}");
        }
    }

    #[test]
    fn float_floor_division_is_pythons() {
        // Python: 7 // 2.5, -7 // 2.5, 7 // -3, -7 // -3, 7 // 3, 0 // -3 (-0.0), 9 // 3,
        // 5.5 // 2, 7.0 // 2.0, -7.0 // 2.0, 7.5 // -2.0, -0.0 // 3.0, 0.5 // 0.1, 1e300 // 1e-10
        for (a, b, want) in [
            (7.0, 2.5, 2.0),
            (-7.0, 2.5, -3.0),
            (7.0, -3.0, -3.0),
            (-7.0, -3.0, 2.0),
            (7.0, 3.0, 2.0),
            (9.0, 3.0, 3.0),
            (5.5, 2.0, 2.0),
            (7.0, 2.0, 3.0),
            (-7.0, 2.0, -4.0),
            (7.5, -2.0, -4.0),
            (0.0, -3.0, -0.0),
            (-0.0, 3.0, -0.0),
            (0.5, 0.1, 4.0),
            (1e300, 1e-10, f64::INFINITY),
        ] {
            let got: f64 = float_floor_div(a, b);
            assert_eq!(got.to_bits(), f64::to_bits(want), "{a} // {b}: {got}");
        }
    }

    #[test]
    fn mod_max_and_bisect_are_pythons() {
        assert_eq!(mod_one(-0.25f64), 0.75);
        assert_eq!(mod_one(2.5f64), 0.5);
        assert_eq!(max(1.0f64, f64::NAN), 1.0);
        assert!(max(f64::NAN, 1.0f64).is_nan());
        assert_eq!(max_zero(-3.0f64), 0.0);
        assert_eq!(max_zero(f64::NAN), 0.0);
        assert_eq!(bisect_right(&[9, 12, 18], 9), 1);
        assert_eq!(bisect_right(&[9, 12, 18], 8), 0);
        assert_eq!(bisect_right(&[9, 12, 18], 40), 3);
        assert_eq!(bisect_right::<i64>(&[], 1), 0);
        assert_eq!(bisect_right(&[0u64, 0, 1], 0), 2);
    }
}

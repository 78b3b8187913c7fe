//! CPython's `float` operators where C's differ or raise: true and floor division, `%`,
//! `divmod`, `**` (`float_pow`), `round(x)` and `round(x, n)` (`double_round`), and
//! `float -> int` (`PyLong_FromDouble`), each with Python's exception and message.

use crate::math::clib;
use crate::python::bigint::BigInt;
use crate::python::errors::PyException;

/// `a / b` (`ZeroDivisionError: float division by zero`).
#[inline]
pub(crate) fn div(a: f64, b: f64) -> Result<f64, PyException> {
    if b == 0.0 { Err(PyException::ZeroDivisionError("float division by zero")) } else { Ok(a / b) }
}

/// CPython's `_float_div_mod` for `wx != 0`: `(vx // wx, vx % wx)`.
fn div_mod(vx: f64, wx: f64) -> (f64, f64) {
    let mut m = clib::fmod(vx, wx);
    // fmod is exact, so vx - m is a multiple of wx; the division may still round.
    let mut div = (vx - m) / wx;
    if m != 0.0 {
        // The remainder takes the sign of the divisor.
        if (wx < 0.0) != (m < 0.0) {
            m += wx;
            div -= 1.0;
        }
    } else {
        m = clib::copysign(0.0, wx);
    }
    let floordiv = if div != 0.0 {
        // Snap the quotient to the nearest integer.
        let f = clib::floor(div);
        if div - f > 0.5 { f + 1.0 } else { f }
    } else {
        clib::copysign(0.0, vx / wx)
    };
    (floordiv, m)
}

/// `a // b` (`ZeroDivisionError: float floor division by zero`).
pub(crate) fn floor_div(a: f64, b: f64) -> Result<f64, PyException> {
    if b == 0.0 {
        return Err(PyException::ZeroDivisionError("float floor division by zero"));
    }
    Ok(div_mod(a, b).0)
}

/// `a % b` (`ZeroDivisionError: float modulo`): `fmod`, moved to the sign of `b`.
pub(crate) fn rem(a: f64, b: f64) -> Result<f64, PyException> {
    if b == 0.0 {
        return Err(PyException::ZeroDivisionError("float modulo"));
    }
    Ok(div_mod(a, b).1)
}

/// `divmod(a, b)` (`ZeroDivisionError: float divmod()`).
pub(crate) fn divmod(a: f64, b: f64) -> Result<(f64, f64), PyException> {
    if b == 0.0 {
        return Err(PyException::ZeroDivisionError("float divmod()"));
    }
    Ok(div_mod(a, b))
}

/// `fmod(|x|, 2) == 1`: an odd integer.
fn is_odd_integer(x: f64) -> bool {
    clib::fmod(clib::fabs(x), 2.0) == 1.0
}

/// CPython's `float_pow`: `iv ** iw` with IEEE special cases decided first, a negative base
/// to a fractional power a complex number, `0.0 ** negative` a `ZeroDivisionError`, and an
/// infinite result of finite operands `OverflowError: (34, 'Numerical result out of
/// range')` (errno `ERANGE`). The C `pow` is called on `|iv|`, the sign restored after.
pub(crate) fn pow(iv: f64, iw: f64) -> Result<f64, PyException> {
    if iw == 0.0 {
        return Ok(1.0);
    }
    if iv.is_nan() {
        return Ok(iv);
    }
    if iw.is_nan() {
        return Ok(if iv == 1.0 { 1.0 } else { iw });
    }
    if iw.is_infinite() {
        let a = clib::fabs(iv);
        return Ok(if a == 1.0 {
            1.0
        } else if (iw > 0.0) == (a > 1.0) {
            clib::fabs(iw)
        } else {
            0.0
        });
    }
    if iv.is_infinite() {
        let odd = is_odd_integer(iw);
        return Ok(match (iw > 0.0, odd) {
            (true, true) => iv,
            (true, false) => clib::fabs(iv),
            (false, true) => clib::copysign(0.0, iv),
            (false, false) => 0.0,
        });
    }
    if iv == 0.0 {
        if iw < 0.0 {
            return Err(PyException::ZeroDivisionError("0.0 cannot be raised to a negative power"));
        }
        return Ok(if is_odd_integer(iw) { iv } else { 0.0 });
    }
    let (v, negate) = if iv < 0.0 {
        if iw != clib::floor(iw) {
            return Err(PyException::Complex);
        }
        (-iv, is_odd_integer(iw))
    } else {
        (iv, false)
    };
    if v == 1.0 {
        return Ok(if negate { -1.0 } else { 1.0 });
    }
    let ix = clib::pow(v, iw);
    if ix.is_infinite() {
        return Err(PyException::OverflowError("(34, 'Numerical result out of range')"));
    }
    Ok(if negate { -ix } else { ix })
}

/// `round(x)` for a float before its conversion to int: to nearest, ties to even
/// (`round(x)`, or `2 * round(x / 2)` on a tie).
pub(crate) fn round_half_even(x: f64) -> f64 {
    let r = clib::round(x);
    if clib::fabs(x - r) == 0.5 { 2.0 * clib::round(x / 2.0) } else { r }
}

/// `PyLong_FromDouble` of an integral float: the error for NaN and infinities.
pub(crate) fn check_int_convertible(x: f64) -> Result<f64, PyException> {
    if x.is_nan() {
        Err(PyException::ValueError("cannot convert float NaN to integer"))
    } else if x.is_infinite() {
        Err(PyException::OverflowError("cannot convert float infinity to integer"))
    } else {
        Ok(x)
    }
}

/// `n / d` rounded to the nearest integer, ties to even (`n >= 0`, `d > 0`).
fn div_round_half_even(n: &BigInt, d: &BigInt) -> Option<BigInt> {
    let (q, r) = n.divmod_floor(d).ok()?;
    let twice = r.shl(1).ok()?;
    let up = match twice.cmp_int(d) {
        core::cmp::Ordering::Greater => true,
        core::cmp::Ordering::Equal => q.is_odd(),
        core::cmp::Ordering::Less => false,
    };
    if up { q.add(&BigInt::from_i64(1)).ok() } else { Some(q) }
}

/// `10 ** k` for `0 <= k <= 330`.
fn pow10(k: i64) -> Option<BigInt> {
    BigInt::from_i64(10).pow(&BigInt::from_i64(k)).ok()
}

/// CPython's `round(x, ndigits)` for a float: `x` rounded to `ndigits` decimal digits on its
/// exact binary value, ties to even, then correctly rounded back to a float (`double_round`:
/// `dtoa` mode 3 then `strtod`); `x` itself past 323 digits, `0.0 * x` below -308, and
/// `OverflowError: rounded value too large to represent` when rounding up leaves the range.
pub(crate) fn round_digits(x: f64, ndigits: i64) -> Result<f64, PyException> {
    const OVERFLOW: PyException =
        PyException::OverflowError("rounded value too large to represent");
    if !x.is_finite() || ndigits > 323 {
        return Ok(x);
    }
    if ndigits < -308 {
        return Ok(0.0 * x);
    }
    if x == 0.0 {
        return Ok(x);
    }
    // |x| = m * 2^e exactly.
    let bits = x.to_bits();
    let biased = i64::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
    let frac = bits & ((1 << 52) - 1);
    let (m, e) = if biased == 0 { (frac, -1074) } else { (frac | 1 << 52, biased - 1075) };
    let m = BigInt::from_i64(i64::try_from(m).unwrap_or(0));
    let rounded = if ndigits >= 0 {
        if e >= 0 {
            return Ok(x); // an integer already
        }
        let p = pow10(ndigits).ok_or(OVERFLOW)?;
        let scaled = m.mul(&p).map_err(|_| OVERFLOW)?;
        let d = BigInt::from_i64(1)
            .shl(e.unsigned_abs().try_into().unwrap_or(0))
            .map_err(|_| OVERFLOW)?;
        let digits = div_round_half_even(&scaled, &d).ok_or(OVERFLOW)?;
        digits.true_div(&p).ok_or(OVERFLOW)?
    } else {
        let p = pow10(-ndigits).ok_or(OVERFLOW)?;
        let digits = if e >= 0 {
            let n = m.shl(e.unsigned_abs().try_into().unwrap_or(0)).map_err(|_| OVERFLOW)?;
            div_round_half_even(&n, &p).ok_or(OVERFLOW)?
        } else if -ndigits > 16 {
            BigInt::ZERO // |x| < 2^53 < 10^16 / 2
        } else {
            let d = p.shl(e.unsigned_abs().try_into().unwrap_or(0)).map_err(|_| OVERFLOW)?;
            div_round_half_even(&m, &d).ok_or(OVERFLOW)?
        };
        digits.mul(&p).map_err(|_| OVERFLOW)?.to_f64().ok_or(OVERFLOW)?
    };
    Ok(clib::copysign(rounded, x))
}

//! Python's float operations that raise, on any [`Real`]: every transformers and timm formula,
//! and optax's Python-level arithmetic on its arguments, computes through these wherever its
//! Python source can raise, so that no value is returned where Python raises.
//!
//! Each is CPython's operation on `float`s (`floatobject.c`, `mathmodule.c`):
//!
//! | here | Python | raises |
//! |---|---|---|
//! | [`pow`] | `a ** b` (`float_pow`) | `ZeroDivisionError` for `0.0 ** negative`; `OverflowError: (34, 'Numerical result out of range')` for an infinite result of finite operands; a negative base to a fractional power is a complex number ([`PyException::Complex`]) |
//! | [`div`] | `a / b` | `ZeroDivisionError: float division by zero` |
//! | [`cos`] | `math.cos(x)` | `ValueError: math domain error` for an infinite `x` |
//! | [`sqrt`] | `math.sqrt(x)` | `ValueError: math domain error` for `x < 0` |
//! | [`log_base`] | `math.log(x, base)` (`loghelper(x) / loghelper(base)`) | `ValueError` for `x <= 0` or `base <= 0`, `ZeroDivisionError` for `base == 1` |
//! | [`floor_int`], [`trunc_int`] | `math.floor(x)`, `int(x)` | `OverflowError` for an infinite `x`, `ValueError` for NaN |
//!
//! `+`, `-` and `*` of Python floats never raise (an overflow is `inf`), nor do `math.tanh`,
//! `max` and `x % 1.0`. The value returned is the one the unchecked operation gives (the same
//! `Real` call), so checking changes no bit. In `f32` (`lr_at_f32`) the same rules apply to the
//! `f32` values: an `f32` overflow is an error too.

use crate::SchedError;
use crate::math::Real;
use crate::python::PyException;

/// `OverflowError` of a float `**` whose result is out of range (errno `ERANGE`).
const RANGE: PyException = PyException::OverflowError("(34, 'Numerical result out of range')");
/// `ValueError` of a `math` function outside its domain (errno `EDOM`).
const DOMAIN: PyException = PyException::ValueError("math domain error");

/// The [`SchedError::PythonRaised`] of `param` at step `epoch`, for `map_err`.
pub(crate) fn raised(param: &'static str, epoch: i64) -> impl Fn(PyException) -> SchedError {
    move |exception| SchedError::PythonRaised { param, epoch: Some(epoch), exception }
}

/// The [`SchedError::PythonRaised`] of `param` while the schedule is built, for `map_err`.
pub(crate) fn raised_at_build(param: &'static str) -> impl Fn(PyException) -> SchedError {
    move |exception| SchedError::PythonRaised { param, epoch: None, exception }
}

/// Python's `a ** b` on floats (`float_pow`): `a.pow(b)`, or what Python raises.
#[inline]
pub(crate) fn pow<R: Real>(a: R, b: R) -> Result<R, PyException> {
    let (x, y) = (a.to_f64(), b.to_f64());
    if !(x.is_finite() && y.is_finite()) || y == 0.0 {
        // C99's special cases are Python's (`float_pow` decides them before calling `pow`).
        return Ok(a.pow(b));
    }
    if x == 0.0 && y < 0.0 {
        return Err(PyException::ZeroDivisionError("0.0 cannot be raised to a negative power"));
    }
    if x < 0.0 && libm::floor(y) != y {
        return Err(PyException::Complex);
    }
    let r = a.pow(b);
    if r.to_f64().is_infinite() { Err(RANGE) } else { Ok(r) }
}

/// Python's `a / b` on floats.
#[inline(always)]
pub(crate) fn div<R: Real>(a: R, b: R) -> Result<R, PyException> {
    if b == R::ZERO {
        Err(PyException::ZeroDivisionError("float division by zero"))
    } else {
        Ok(a / b)
    }
}

/// `math.cos(x)`.
#[inline(always)]
pub(crate) fn cos<R: Real>(x: R) -> Result<R, PyException> {
    if x.to_f64().is_infinite() { Err(DOMAIN) } else { Ok(x.cos()) }
}

/// `math.sqrt(x)`.
#[inline(always)]
pub(crate) fn sqrt<R: Real>(x: R) -> Result<R, PyException> {
    if x < R::ZERO { Err(DOMAIN) } else { Ok(x.sqrt()) }
}

/// `math.log(x, base)`: `log(x) / log(base)`, each `log` raising for a non-positive argument.
pub(crate) fn log_base(x: f64, base: f64) -> Result<f64, PyException> {
    let log = |v: f64| if v > 0.0 || v.is_nan() { Ok(Real::ln(v)) } else { Err(DOMAIN) };
    div(log(x)?, log(base)?)
}

/// `math.floor(x)` as the int Python returns (`|floor(x)| < 2^63` for every caller).
pub(crate) fn floor_int(x: f64) -> Result<i64, PyException> {
    to_int(libm::floor(x))
}

/// `int(x)` for a float: truncation towards zero, as the int Python returns.
pub(crate) fn trunc_int(x: f64) -> Result<i64, PyException> {
    to_int(libm::trunc(x))
}

/// An integral float as an int (`PyLong_FromDouble`), saturating past `i64` (far beyond every
/// count a schedule uses, where the caller's own range check refuses it).
fn to_int(x: f64) -> Result<i64, PyException> {
    if x.is_nan() {
        return Err(PyException::ValueError("cannot convert float NaN to integer"));
    }
    if x.is_infinite() {
        return Err(PyException::OverflowError("cannot convert float infinity to integer"));
    }
    #[allow(clippy::cast_possible_truncation)] // integral; saturates past i64 (doc)
    Ok(x as i64)
}

#[cfg(test)]
mod tests {
    use super::{cos, div, floor_int, log_base, pow, sqrt, trunc_int};
    use crate::python::PyException;

    #[test]
    fn raise_where_cpython_raises() {
        // Python 3.11: 10.0 ** 400, 0.0 ** -1, (-8.0) ** (1/3), 2.0 ** 10, 0.5 ** 2000,
        // (-2.0) ** 3.0, inf ** 2, 1.0 / 0.0, math.cos(inf), math.cos(nan), math.sqrt(-1),
        // math.log(0, 2), math.log(8, 1), math.floor(inf), int(nan).
        assert_eq!(
            pow(10.0f64, 400.0),
            Err(PyException::OverflowError("(34, 'Numerical result out of range')"))
        );
        assert_eq!(
            pow(0.0f64, -1.0),
            Err(PyException::ZeroDivisionError("0.0 cannot be raised to a negative power"))
        );
        assert_eq!(pow(-8.0f64, 1.0 / 3.0), Err(PyException::Complex));
        assert_eq!(pow(2.0f64, 10.0), Ok(1024.0));
        assert_eq!(pow(0.5f64, 2000.0), Ok(0.0));
        assert_eq!(pow(-2.0f64, 3.0), Ok(-8.0));
        assert_eq!(pow(f64::INFINITY, 2.0), Ok(f64::INFINITY));
        assert_eq!(pow(1e30f32, 2.0), Err(super::RANGE));
        assert_eq!(div(1.0f64, 0.0), Err(PyException::ZeroDivisionError("float division by zero")));
        assert_eq!(
            div(1.0f64, -0.0),
            Err(PyException::ZeroDivisionError("float division by zero"))
        );
        assert_eq!(cos(f64::INFINITY), Err(super::DOMAIN));
        assert!(cos(f64::NAN).is_ok_and(f64::is_nan));
        assert_eq!(sqrt(-1.0f64), Err(super::DOMAIN));
        assert_eq!(sqrt(-0.0f64).map(f64::to_bits), Ok((-0.0f64).to_bits()));
        assert_eq!(log_base(0.0, 2.0), Err(super::DOMAIN));
        assert_eq!(
            log_base(8.0, 1.0),
            Err(PyException::ZeroDivisionError("float division by zero"))
        );
        assert_eq!(
            floor_int(f64::INFINITY),
            Err(PyException::OverflowError("cannot convert float infinity to integer"))
        );
        assert_eq!(
            trunc_int(f64::NAN),
            Err(PyException::ValueError("cannot convert float NaN to integer"))
        );
        assert_eq!(trunc_int(-2.7), Ok(-2));
        assert_eq!(floor_int(-2.7), Ok(-3));
    }
}

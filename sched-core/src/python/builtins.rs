//! The functions a body may call: Python's builtins `abs int float bool round pow divmod min
//! max` and the `math` module's, each as CPython 3.11 implements it (`math_1`'s error rules,
//! `loghelper` for ints, `math_pow`, `m_atan2`, `math_fmod`), on the C library calls of
//! [`crate::math::clib`].

use core::cmp::Ordering;

use crate::math::clib;
use crate::python::bigint::{BigInt, INT_BITS};
use crate::python::errors::PyException;
use crate::python::float;
use crate::python::int::{Fail, IntRepr};
use crate::python::ops::int_divmod;
use crate::python::program::Func;
use crate::python::value::Val;

const DOMAIN: PyException = PyException::ValueError("math domain error");
const RANGE: PyException = PyException::OverflowError("math range error");

/// `f(args)`; `args` has `f.arity()` values.
pub(crate) fn call<I: IntRepr>(f: Func, args: &[Val<I>]) -> Result<Val<I>, Fail> {
    let x = args[0];
    let y = || args[1];
    let fl = |r: Result<f64, PyException>| Ok(Val::Float(r?));
    match f {
        Func::Abs => Ok(match x {
            Val::Float(v) => Val::Float(clib::fabs(v)),
            _ => {
                let i = x.as_int().unwrap_or(I::from_i64(0));
                Val::Int(if i.is_negative() { i.neg()? } else { i })
            }
        }),
        Func::Int | Func::Trunc => to_int(x, clib::trunc),
        Func::Floor => to_int(x, clib::floor),
        Func::Ceil => to_int(x, clib::ceil),
        Func::Round => to_int(x, float::round_half_even),
        Func::Float => Ok(Val::Float(x.to_f64()?)),
        Func::Bool => Ok(Val::Bool(x.truthy())),
        Func::RoundDigits => round_digits(x, y()),
        Func::PowMod => pow_mod(&x, &y(), &args[2]),
        Func::DivmodQuotient | Func::DivmodRemainder => {
            let q = f == Func::DivmodQuotient;
            match (x.as_int(), y().as_int()) {
                (Some(a), Some(b)) => {
                    let (d, m) = int_divmod(&a, &b)?;
                    Ok(Val::Int(if q { d } else { m }))
                }
                _ => {
                    let (d, m) = float::divmod(x.to_f64()?, y().to_f64()?)?;
                    Ok(Val::Float(if q { d } else { m }))
                }
            }
        }
        Func::Sqrt => math_1(x, clib::sqrt, false),
        Func::Exp => math_1(x, clib::exp, true),
        Func::Exp2 => math_1(x, clib::exp2, true),
        Func::Expm1 => math_1(x, clib::expm1, true),
        Func::Log => Ok(Val::Float(log_helper(&x, clib::log)?)),
        Func::LogBase => {
            let num = log_helper(&x, clib::log)?;
            let den = log_helper(&y(), clib::log)?;
            fl(float::div(num, den))
        }
        Func::Log2 => Ok(Val::Float(log_helper(&x, clib::log2)?)),
        Func::Log10 => Ok(Val::Float(log_helper(&x, clib::log10)?)),
        Func::Log1p => math_1(x, clib::log1p, false),
        Func::Sin => math_1(x, clib::sin, false),
        Func::Cos => math_1(x, clib::cos, false),
        Func::Tan => math_1(x, clib::tan, false),
        Func::Asin => math_1(x, clib::asin, false),
        Func::Acos => math_1(x, clib::acos, false),
        Func::Atan => math_1(x, clib::atan, false),
        Func::Sinh => math_1(x, clib::sinh, true),
        Func::Cosh => math_1(x, clib::cosh, true),
        Func::Tanh => math_1(x, clib::tanh, false),
        Func::Fabs => math_1(x, clib::fabs, false),
        Func::Atan2 => fl(math_2(x.to_f64()?, y().to_f64()?, atan2)),
        Func::Copysign => fl(math_2(x.to_f64()?, y().to_f64()?, clib::copysign)),
        Func::Fmod => fl(fmod(x.to_f64()?, y().to_f64()?)),
        Func::MathPow => fl(math_pow(x.to_f64()?, y().to_f64()?)),
        Func::Isnan => Ok(Val::Bool(x.to_f64()?.is_nan())),
        Func::Isinf => Ok(Val::Bool(x.to_f64()?.is_infinite())),
        Func::Isfinite => Ok(Val::Bool(x.to_f64()?.is_finite())),
        Func::Degrees => Ok(Val::Float(x.to_f64()? * (180.0 / core::f64::consts::PI))),
        Func::Radians => Ok(Val::Float(x.to_f64()? * (core::f64::consts::PI / 180.0))),
    }
}

/// `int(x)`, `math.floor`, `math.ceil`, `math.trunc`, `round(x)`: an int stays itself (a
/// bool becomes its int); a float goes through `f`, then `PyLong_FromDouble`.
fn to_int<I: IntRepr>(x: Val<I>, f: fn(f64) -> f64) -> Result<Val<I>, Fail> {
    match x {
        Val::Float(v) => Ok(Val::Int(I::from_integral_f64(float::check_int_convertible(f(v))?)?)),
        _ => Ok(Val::Int(x.as_int().unwrap_or(I::from_i64(0)))),
    }
}

/// `min(args)` / `max(args)`: the first of the extreme values, compared as Python does (a
/// later value replaces the current one only when strictly less / greater; NaN never
/// does), returned as it is (an int stays an int).
pub(crate) fn extreme<I: IntRepr>(args: &[Val<I>], want: Ordering) -> Val<I> {
    let mut best = args[0];
    for v in &args[1..] {
        if v.compare(&best) == Some(want) {
            best = *v;
        }
    }
    best
}

/// CPython's `math_1`: the float of `x` through `f`; a NaN from a non-NaN is `ValueError:
/// math domain error`, an infinity from a finite value `OverflowError: math range error`
/// where the function can overflow (`exp`, `cosh`, ...), else the domain error (a pole).
fn math_1<I: IntRepr>(x: Val<I>, f: fn(f64) -> f64, can_overflow: bool) -> Result<Val<I>, Fail> {
    let v = x.to_f64()?;
    let r = f(v);
    if r.is_nan() && !v.is_nan() {
        return Err(DOMAIN.into());
    }
    if r.is_infinite() && v.is_finite() {
        return Err(if can_overflow { RANGE } else { DOMAIN }.into());
    }
    Ok(Val::Float(r))
}

/// CPython's `math_2` for a function of two floats: a NaN from non-NaNs is the domain error.
fn math_2(x: f64, y: f64, f: fn(f64, f64) -> f64) -> Result<f64, PyException> {
    let r = f(x, y);
    if r.is_nan() && !x.is_nan() && !y.is_nan() {
        return Err(DOMAIN);
    }
    if r.is_infinite() && x.is_finite() && y.is_finite() {
        return Err(RANGE);
    }
    Ok(r)
}

/// CPython's `m_atan2`: IEEE special cases, then C `atan2`.
fn atan2(y: f64, x: f64) -> f64 {
    use core::f64::consts::PI;
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if y.is_infinite() {
        if x.is_infinite() {
            let q = if clib::copysign(1.0, x) == 1.0 { 0.25 * PI } else { 0.75 * PI };
            return clib::copysign(q, y);
        }
        return clib::copysign(0.5 * PI, y);
    }
    if x.is_infinite() || y == 0.0 {
        return if clib::copysign(1.0, x) == 1.0 {
            clib::copysign(0.0, y)
        } else {
            clib::copysign(PI, y)
        };
    }
    clib::atan2(y, x)
}

/// CPython's `math_fmod`: `x` for an infinite `y` and finite `x`, a NaN from non-NaNs the
/// domain error.
fn fmod(x: f64, y: f64) -> Result<f64, PyException> {
    if y.is_infinite() && x.is_finite() {
        return Ok(x);
    }
    let r = clib::fmod(x, y);
    if r.is_nan() && !x.is_nan() && !y.is_nan() { Err(DOMAIN) } else { Ok(r) }
}

/// CPython's `math_pow`: IEEE special cases decided first, then C `pow`; a NaN result (a
/// negative base to a fractional power) or an infinity from `0 ** negative` is the domain
/// error, an infinity from finite operands `OverflowError: math range error`.
fn math_pow(x: f64, y: f64) -> Result<f64, PyException> {
    if !x.is_finite() || !y.is_finite() {
        let odd_y = y.is_finite() && clib::fmod(clib::fabs(y), 2.0) == 1.0;
        return Ok(if x.is_nan() {
            if y == 0.0 { 1.0 } else { x }
        } else if y.is_nan() {
            if x == 1.0 { 1.0 } else { y }
        } else if x.is_infinite() {
            if y > 0.0 {
                if odd_y { x } else { clib::fabs(x) }
            } else if y == 0.0 {
                1.0
            } else if odd_y {
                clib::copysign(0.0, x)
            } else {
                0.0
            }
        } else if clib::fabs(x) == 1.0 {
            1.0
        } else if (y > 0.0 && clib::fabs(x) > 1.0) || (y < 0.0 && clib::fabs(x) < 1.0) {
            f64::INFINITY
        } else {
            0.0
        });
    }
    let r = clib::pow(x, y);
    if r.is_nan() || (r.is_infinite() && x == 0.0) {
        Err(DOMAIN)
    } else if r.is_infinite() {
        Err(RANGE)
    } else {
        Ok(r)
    }
}

/// CPython's `loghelper`: for an int, a domain error unless positive, and past the float
/// range `f(m) + f(2.0) * e` for `x = m * 2^e`; for a float, `math_1` on CPython's `m_log`
/// family (a domain error for `x <= 0` and `-inf`, `inf` and NaN themselves).
fn log_helper<I: IntRepr>(x: &Val<I>, f: fn(f64) -> f64) -> Result<f64, Fail> {
    if let Some(i) = x.as_int() {
        if i.is_negative() || i.is_zero() {
            return Err(DOMAIN.into());
        }
        return match i.to_f64() {
            Ok(v) => Ok(f(v)),
            Err(_) => {
                let (m, e) = i.to_big().frexp();
                #[allow(clippy::cast_precision_loss)] // |e| <= INT_BITS + 1: exact
                let e = e as f64;
                Ok(f(m) + f(2.0) * e)
            }
        };
    }
    let v = x.to_f64()?;
    if v.is_nan() || v == f64::INFINITY {
        return Ok(v);
    }
    if v > 0.0 {
        let r = f(v);
        if r.is_infinite() || r.is_nan() { Err(DOMAIN.into()) } else { Ok(r) }
    } else {
        Err(DOMAIN.into())
    }
}

/// `round(x, n)`: `n` an int (or bool; a float is `TypeError`), clipped to the `ssize_t`
/// range as CPython's `PyNumber_AsSsize_t(n, NULL)` does; a float rounds to `n` decimal
/// digits ([`float::round_digits`]), an int to a multiple of `10 ** -n`, ties to even.
fn round_digits<I: IntRepr>(x: Val<I>, n: Val<I>) -> Result<Val<I>, Fail> {
    let Some(n) = n.as_int() else {
        return Err(
            PyException::TypeError("'float' object cannot be interpreted as an integer").into()
        );
    };
    let nd = n.to_i64().unwrap_or(if n.is_negative() { i64::MIN } else { i64::MAX });
    match x {
        Val::Float(v) => Ok(Val::Float(float::round_digits(v, nd)?)),
        _ => {
            let i = x.as_int().unwrap_or(I::from_i64(0));
            if nd >= 0 {
                return Ok(Val::Int(i));
            }
            let big = i.to_big();
            // 10^501 > 2^1664 > 2 |i| for |i| < 2^1663, 10^502 > 2^1665 > 2 |i| always: every
            // multiple but 0 is farther than |i| (and 10^501 needs more than INT_BITS bits).
            if nd <= -502 || (nd == -501 && big.bit_length() < INT_BITS) {
                return Ok(Val::Int(I::from_i64(0)));
            }
            let p = BigInt::from_i64(10).pow(&BigInt::from_i64(-nd))?;
            let (q, r) = big.divmod_floor(&p)?;
            // Python's divmod_near: round half to even on the quotient.
            let twice = r.shl(1)?;
            let up = match twice.cmp_int(&p) {
                Ordering::Greater => true,
                Ordering::Equal => q.is_odd(),
                Ordering::Less => false,
            };
            let q = if up { q.add(&BigInt::from_i64(1))? } else { q };
            Ok(Val::Int(I::from_big(q.mul(&p)?)?))
        }
    }
}

/// `pow(a, b, m)` on ints (CPython's `long_pow` with a modulus): `ValueError` for `m == 0`,
/// the modular inverse for a negative exponent, the result with the sign of `m`. Moduli of
/// 2^63 and more are past this evaluator ([`PyException::IntTooLarge`]).
fn pow_mod<I: IntRepr>(a: &Val<I>, b: &Val<I>, m: &Val<I>) -> Result<Val<I>, Fail> {
    let (Some(a), Some(b), Some(m)) = (a.as_int(), b.as_int(), m.as_int()) else {
        return Err(PyException::TypeError(
            "pow() 3rd argument not allowed unless all arguments are integers",
        )
        .into());
    };
    if m.is_zero() {
        return Err(PyException::ValueError("pow() 3rd argument cannot be 0").into());
    }
    let m = m.to_i64().ok_or(PyException::IntTooLarge)?;
    let (negative_output, modulus) = (m < 0, m.unsigned_abs());
    if modulus == 1 {
        return Ok(Val::Int(I::from_i64(0)));
    }
    let mut base = a.to_big().rem_u64(modulus);
    let exp = b.to_big();
    if exp.is_negative() {
        base = inverse_mod(base, modulus)
            .ok_or(PyException::ValueError("base is not invertible for the given modulus"))?;
    }
    let exp = exp.abs();
    let mul = |x: u64, y: u64| {
        let p = u128::from(x) * u128::from(y) % u128::from(modulus);
        u64::try_from(p).unwrap_or(0)
    };
    let mut acc = 1u64;
    for i in (0..exp.bit_length()).rev() {
        acc = mul(acc, acc);
        if exp.bit(i) {
            acc = mul(acc, base);
        }
    }
    let r = i64::try_from(acc).unwrap_or(0);
    // acc < modulus <= 2^63, so r - modulus fits.
    let r =
        if negative_output && r != 0 { r.wrapping_add_unsigned(modulus.wrapping_neg()) } else { r };
    Ok(Val::Int(I::from_i64(r)))
}

/// The inverse of `a` modulo `m` (`0 <= a < m`), if `gcd(a, m) == 1`.
fn inverse_mod(a: u64, m: u64) -> Option<u64> {
    let (mut r0, mut r1) = (i128::from(m), i128::from(a));
    let (mut t0, mut t1) = (0i128, 1i128);
    while r1 != 0 {
        let q = r0 / r1;
        (r0, r1) = (r1, r0 - q * r1);
        (t0, t1) = (t1, t0 - q * t1);
    }
    if r0 != 1 {
        return None;
    }
    u64::try_from(t0.rem_euclid(i128::from(m))).ok()
}

//! [`IntRepr`]: the integer arithmetic the evaluator runs on, in two representations with one
//! meaning. `i64` is the fast one: an operation whose exact result leaves it answers
//! [`Fail::Widen`], and the evaluation starts again on [`BigInt`], which is exact up to
//! [`INT_BITS`](crate::python::INT_BITS).

use core::cmp::Ordering;

use crate::python::bigint::{BigInt, TooLarge};
use crate::python::errors::PyException;

/// Why an operation did not produce a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fail {
    /// Python raises (or this evaluator stops: complex values, its integer bound).
    Raise(PyException),
    /// The exact result does not fit the fast representation: evaluate again with
    /// [`BigInt`].
    Widen,
}

impl From<PyException> for Fail {
    fn from(e: PyException) -> Self {
        Self::Raise(e)
    }
}

impl From<TooLarge> for Fail {
    fn from(_: TooLarge) -> Self {
        Self::Raise(PyException::IntTooLarge)
    }
}

/// `OverflowError: int too large to convert to float`.
pub(crate) const INT_TO_FLOAT: PyException =
    PyException::OverflowError("int too large to convert to float");

/// A Python `int` (a `bool` is carried as its own value kind and converted on use).
pub(crate) trait IntRepr: Copy + core::fmt::Debug {
    /// From a machine integer.
    fn from_i64(v: i64) -> Self;
    /// The value as a [`BigInt`] (for the rare operations done there only).
    fn to_big(&self) -> BigInt;
    /// From a [`BigInt`] result.
    fn from_big(v: BigInt) -> Result<Self, Fail>;
    /// The value, if it fits an `i64`.
    fn to_i64(&self) -> Option<i64>;
    /// `self == 0`.
    fn is_zero(&self) -> bool;
    /// `self < 0`.
    fn is_negative(&self) -> bool;
    /// `self + o`.
    fn add(&self, o: &Self) -> Result<Self, Fail>;
    /// `self - o`.
    fn sub(&self, o: &Self) -> Result<Self, Fail>;
    /// `self * o`.
    fn mul(&self, o: &Self) -> Result<Self, Fail>;
    /// `-self`.
    fn neg(&self) -> Result<Self, Fail>;
    /// `divmod(self, o)` with Python's floor semantics, `o != 0`.
    fn divmod(&self, o: &Self) -> Result<(Self, Self), Fail>;
    /// `self ** e` for `e >= 0`.
    fn pow(&self, e: &Self) -> Result<Self, Fail>;
    /// `float(self)`, correctly rounded (`OverflowError` past the float range).
    fn to_f64(&self) -> Result<f64, Fail>;
    /// `self / o` for `o != 0`: CPython's correctly rounded `long_true_divide`.
    fn true_div(&self, o: &Self) -> Result<f64, Fail>;
    /// The int of a finite, integral float.
    fn from_integral_f64(x: f64) -> Result<Self, Fail>;
    /// Exact comparison.
    fn cmp_int(&self, o: &Self) -> Ordering;
    /// Exact comparison with a float (`None` for NaN), as Python compares them.
    fn cmp_f64(&self, x: f64) -> Option<Ordering>;
}

/// `2^63` as a float.
const TWO_63: f64 = f64::from_bits(0x43e0_0000_0000_0000);

/// Within this magnitude an `i64` converts to `f64` exactly.
const EXACT: u64 = 1 << 53;

impl IntRepr for i64 {
    #[inline(always)]
    fn from_i64(v: i64) -> Self {
        v
    }
    fn to_big(&self) -> BigInt {
        BigInt::from_i64(*self)
    }
    fn from_big(v: BigInt) -> Result<Self, Fail> {
        v.to_i64().ok_or(Fail::Widen)
    }
    #[inline(always)]
    fn to_i64(&self) -> Option<i64> {
        Some(*self)
    }
    #[inline(always)]
    fn is_zero(&self) -> bool {
        *self == 0
    }
    #[inline(always)]
    fn is_negative(&self) -> bool {
        *self < 0
    }
    #[inline(always)]
    fn add(&self, o: &Self) -> Result<Self, Fail> {
        self.checked_add(*o).ok_or(Fail::Widen)
    }
    #[inline(always)]
    fn sub(&self, o: &Self) -> Result<Self, Fail> {
        self.checked_sub(*o).ok_or(Fail::Widen)
    }
    #[inline(always)]
    fn mul(&self, o: &Self) -> Result<Self, Fail> {
        self.checked_mul(*o).ok_or(Fail::Widen)
    }
    #[inline(always)]
    fn neg(&self) -> Result<Self, Fail> {
        self.checked_neg().ok_or(Fail::Widen)
    }
    #[inline]
    fn divmod(&self, o: &Self) -> Result<(Self, Self), Fail> {
        if let (Ok(a), Ok(b)) = (u32::try_from(*self), u32::try_from(*o)) {
            // The usual epoch and period: a 32-bit division (64-bit ones cost several times
            // more on x86-64).
            return Ok((i64::from(a / b), i64::from(a % b)));
        }
        let q = self.checked_div_euclid(*o).ok_or(Fail::Widen)?;
        let r = self.rem_euclid(*o);
        // Euclid's remainder is >= 0; Python's has the sign of the divisor.
        if r != 0 && *o < 0 { Ok((q - 1, r + o)) } else { Ok((q, r)) }
    }
    fn pow(&self, e: &Self) -> Result<Self, Fail> {
        match (*self, u32::try_from(*e)) {
            (0 | 1, _) if *e > 0 => Ok(*self),
            (-1, _) => Ok(if e % 2 == 0 { 1 } else { -1 }),
            (_, Ok(e)) => self.checked_pow(e).ok_or(Fail::Widen),
            _ if *e == 0 => Ok(1),
            _ => Err(Fail::Widen),
        }
    }
    #[inline(always)]
    #[allow(clippy::cast_precision_loss)] // `as` rounds to nearest even: PyLong_AsDouble
    fn to_f64(&self) -> Result<f64, Fail> {
        Ok(*self as f64)
    }
    fn true_div(&self, o: &Self) -> Result<f64, Fail> {
        if self.unsigned_abs() <= EXACT && o.unsigned_abs() <= EXACT {
            // Both exact in a double: one correctly rounded division (CPython's fast path).
            return Ok(self.to_f64()? / o.to_f64()?);
        }
        BigInt::from_i64(*self).true_div(&BigInt::from_i64(*o)).ok_or(Fail::Raise(
            PyException::OverflowError("integer division result too large for a float"),
        ))
    }
    #[allow(clippy::cast_possible_truncation)] // in range and integral: exact
    fn from_integral_f64(x: f64) -> Result<Self, Fail> {
        // -2^63 <= x < 2^63
        if (-TWO_63..TWO_63).contains(&x) { Ok(x as i64) } else { Err(Fail::Widen) }
    }
    #[inline(always)]
    fn cmp_int(&self, o: &Self) -> Ordering {
        self.cmp(o)
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)] // exact, see below
    fn cmp_f64(&self, x: f64) -> Option<Ordering> {
        if self.unsigned_abs() <= EXACT {
            // Exact as a float.
            return (*self as f64).partial_cmp(&x);
        }
        if x.is_nan() {
            return None;
        }
        if x >= TWO_63 {
            return Some(Ordering::Less);
        }
        if x < -TWO_63 {
            return Some(Ordering::Greater);
        }
        // |x| < 2^63 (or x = -2^63): its integer part is an exact i64.
        let t = libm::trunc(x);
        Some(
            self.cmp(&(t as i64))
                .then_with(|| 0.0f64.partial_cmp(&(x - t)).unwrap_or(Ordering::Equal)),
        )
    }
}

impl IntRepr for BigInt {
    fn from_i64(v: i64) -> Self {
        BigInt::from_i64(v)
    }
    fn to_big(&self) -> BigInt {
        *self
    }
    fn from_big(v: BigInt) -> Result<Self, Fail> {
        Ok(v)
    }
    fn to_i64(&self) -> Option<i64> {
        BigInt::to_i64(*self)
    }
    fn is_zero(&self) -> bool {
        BigInt::is_zero(self)
    }
    fn is_negative(&self) -> bool {
        BigInt::is_negative(self)
    }
    fn add(&self, o: &Self) -> Result<Self, Fail> {
        Ok(BigInt::add(self, o)?)
    }
    fn sub(&self, o: &Self) -> Result<Self, Fail> {
        Ok(BigInt::sub(self, o)?)
    }
    fn mul(&self, o: &Self) -> Result<Self, Fail> {
        Ok(BigInt::mul(self, o)?)
    }
    fn neg(&self) -> Result<Self, Fail> {
        Ok(BigInt::neg(self))
    }
    fn divmod(&self, o: &Self) -> Result<(Self, Self), Fail> {
        Ok(self.divmod_floor(o)?)
    }
    fn pow(&self, e: &Self) -> Result<Self, Fail> {
        Ok(BigInt::pow(self, e)?)
    }
    fn to_f64(&self) -> Result<f64, Fail> {
        BigInt::to_f64(*self).ok_or(Fail::Raise(INT_TO_FLOAT))
    }
    fn true_div(&self, o: &Self) -> Result<f64, Fail> {
        BigInt::true_div(self, o).ok_or(Fail::Raise(PyException::OverflowError(
            "integer division result too large for a float",
        )))
    }
    fn from_integral_f64(x: f64) -> Result<Self, Fail> {
        Ok(BigInt::from_integral_f64(x))
    }
    fn cmp_int(&self, o: &Self) -> Ordering {
        BigInt::cmp_int(self, o)
    }
    fn cmp_f64(&self, x: f64) -> Option<Ordering> {
        BigInt::cmp_f64(self, x)
    }
}

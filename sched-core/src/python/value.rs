//! The values of a lambda body: Python's `int`, `float` and `bool` ([`Val`] inside the
//! evaluator, [`PyValue`] for callers), with Python's truthiness, conversions and comparisons.

use core::cmp::Ordering;
use core::fmt;

use crate::python::bigint::BigInt;
use crate::python::errors::PyException;
use crate::python::int::{Fail, IntRepr};

/// A value on the evaluation stack, over the integer representation `I`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Val<I> {
    /// `int`.
    Int(I),
    /// `float`.
    Float(f64),
    /// `bool` (an `int` subclass: `True + 1 == 2`).
    Bool(bool),
}

/// Two operands of an arithmetic operator after Python's coercion: both ints (bools count),
/// or both floats (the int converted by `PyLong_AsDouble`).
pub(crate) enum Operands<I> {
    /// `int op int`.
    Ints(I, I),
    /// `float op float`, `float op int`, `int op float`.
    Floats(f64, f64),
}

impl<I: IntRepr> Val<I> {
    /// The int of an int or bool (`None` for a float).
    #[inline]
    pub(crate) fn as_int(&self) -> Option<I> {
        match *self {
            Self::Int(i) => Some(i),
            Self::Bool(b) => Some(I::from_i64(i64::from(b))),
            Self::Float(_) => None,
        }
    }

    /// Python's `float(x)` (`OverflowError` for an int past the float range).
    #[inline]
    pub(crate) fn to_f64(self) -> Result<f64, Fail> {
        match self {
            Self::Int(i) => i.to_f64(),
            Self::Float(x) => Ok(x),
            Self::Bool(b) => Ok(f64::from(u8::from(b))),
        }
    }

    /// Python's truthiness (`bool(x)`: a NaN is true).
    #[inline]
    pub(crate) fn truthy(&self) -> bool {
        match *self {
            Self::Int(i) => !i.is_zero(),
            Self::Float(x) => x != 0.0,
            Self::Bool(b) => b,
        }
    }

    /// The coercion of a binary arithmetic operator.
    #[inline]
    pub(crate) fn operands(&self, other: &Self) -> Result<Operands<I>, Fail> {
        match (self.as_int(), other.as_int()) {
            (Some(a), Some(b)) => Ok(Operands::Ints(a, b)),
            _ => Ok(Operands::Floats(self.to_f64()?, other.to_f64()?)),
        }
    }

    /// Python's ordering of two numbers, exact across int and float (`None` when a NaN is
    /// involved: every comparison but `!=` is false).
    pub(crate) fn compare(&self, other: &Self) -> Option<Ordering> {
        match (self.as_int(), other.as_int(), self, other) {
            (Some(a), Some(b), ..) => Some(a.cmp_int(&b)),
            (Some(a), None, _, Self::Float(y)) => a.cmp_f64(*y),
            (None, Some(b), Self::Float(x), _) => b.cmp_f64(*x).map(Ordering::reverse),
            (_, _, Self::Float(x), Self::Float(y)) => x.partial_cmp(y),
            _ => None,
        }
    }

    /// The value for callers, its int widened to a [`BigInt`].
    pub(crate) fn to_public(self) -> PyValue {
        match self {
            Self::Int(i) => PyValue::Int(i.to_big()),
            Self::Float(x) => PyValue::Float(x),
            Self::Bool(b) => PyValue::Bool(b),
        }
    }
}

/// What a lambda body evaluates to: a Python `int` (exact), `float` or `bool`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // the int by value: no heap
pub enum PyValue {
    /// `int`, exact (its decimal digits by `Display`).
    Int(BigInt),
    /// `float`.
    Float(f64),
    /// `bool`.
    Bool(bool),
}

impl PyValue {
    /// `float(value)`: what torch multiplies the learning rate by (`base_lr * value` is
    /// `base_lr * float(value)` for every int, float and bool); `OverflowError: int too large
    /// to convert to float` past the float range.
    pub fn to_f64(&self) -> Result<f64, PyException> {
        match self {
            Self::Int(i) => BigInt::to_f64(*i).ok_or(crate::python::int::INT_TO_FLOAT),
            Self::Float(x) => Ok(*x),
            Self::Bool(b) => Ok(f64::from(u8::from(*b))),
        }
    }

    /// Python's type name: `"int"`, `"float"` or `"bool"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Int(_) => "int",
            Self::Float(_) => "float",
            Self::Bool(_) => "bool",
        }
    }
}

/// Python's `repr` for ints and bools; floats as Rust's shortest round-trip form (`{:?}`).
impl fmt::Display for PyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(i) => fmt::Display::fmt(i, f),
            Self::Float(x) => write!(f, "{x:?}"),
            Self::Bool(true) => f.write_str("True"),
            Self::Bool(false) => f.write_str("False"),
        }
    }
}

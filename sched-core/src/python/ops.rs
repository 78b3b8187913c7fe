//! Python's arithmetic and comparison operators on [`Val`]s: `int` exact, `float` as CPython
//! computes it, `bool` as the int 0 or 1, and the mixed cases converted as Python converts
//! them.

use core::cmp::Ordering;

use crate::python::errors::PyException;
use crate::python::float;
use crate::python::int::{Fail, IntRepr};
use crate::python::program::{BinOp, CmpOp};
use crate::python::value::{Operands, Val};

/// `a <op> b`.
#[inline]
pub(crate) fn binary<I: IntRepr>(op: BinOp, a: &Val<I>, b: &Val<I>) -> Result<Val<I>, Fail> {
    Ok(match (op, a.operands(b)?) {
        (BinOp::Add, Operands::Ints(x, y)) => Val::Int(x.add(&y)?),
        (BinOp::Add, Operands::Floats(x, y)) => Val::Float(x + y),
        (BinOp::Sub, Operands::Ints(x, y)) => Val::Int(x.sub(&y)?),
        (BinOp::Sub, Operands::Floats(x, y)) => Val::Float(x - y),
        (BinOp::Mul, Operands::Ints(x, y)) => Val::Int(x.mul(&y)?),
        (BinOp::Mul, Operands::Floats(x, y)) => Val::Float(x * y),
        (BinOp::TrueDiv, Operands::Ints(x, y)) => {
            if y.is_zero() {
                return Err(PyException::ZeroDivisionError("division by zero").into());
            }
            Val::Float(x.true_div(&y)?)
        }
        (BinOp::TrueDiv, Operands::Floats(x, y)) => Val::Float(float::div(x, y)?),
        (BinOp::FloorDiv, Operands::Ints(x, y)) => Val::Int(int_divmod(&x, &y)?.0),
        (BinOp::FloorDiv, Operands::Floats(x, y)) => Val::Float(float::floor_div(x, y)?),
        (BinOp::Mod, Operands::Ints(x, y)) => {
            if y.is_zero() {
                return Err(PyException::ZeroDivisionError("integer modulo by zero").into());
            }
            Val::Int(x.divmod(&y)?.1)
        }
        (BinOp::Mod, Operands::Floats(x, y)) => Val::Float(float::rem(x, y)?),
        (BinOp::Pow, Operands::Ints(x, y)) => {
            if y.is_negative() {
                // int ** negative int is float ** float.
                Val::Float(float::pow(x.to_f64()?, y.to_f64()?)?)
            } else {
                Val::Int(x.pow(&y)?)
            }
        }
        (BinOp::Pow, Operands::Floats(x, y)) => Val::Float(float::pow(x, y)?),
    })
}

/// `divmod(a, b)` of ints (`ZeroDivisionError: integer division or modulo by zero`).
pub(crate) fn int_divmod<I: IntRepr>(a: &I, b: &I) -> Result<(I, I), Fail> {
    if b.is_zero() {
        return Err(PyException::ZeroDivisionError("integer division or modulo by zero").into());
    }
    a.divmod(b)
}

/// `-a`.
#[inline]
pub(crate) fn neg<I: IntRepr>(a: &Val<I>) -> Result<Val<I>, Fail> {
    Ok(match *a {
        Val::Float(x) => Val::Float(-x),
        Val::Int(i) => Val::Int(i.neg()?),
        Val::Bool(b) => Val::Int(I::from_i64(-i64::from(b))),
    })
}

/// `+a` (a bool becomes its int).
#[inline]
pub(crate) fn pos<I: IntRepr>(a: &Val<I>) -> Val<I> {
    match *a {
        Val::Bool(b) => Val::Int(I::from_i64(i64::from(b))),
        v => v,
    }
}

/// `a <op> b` as a bool (one link of a comparison chain).
#[inline]
pub(crate) fn compare<I: IntRepr>(op: CmpOp, a: &Val<I>, b: &Val<I>) -> bool {
    let ord = a.compare(b);
    match op {
        CmpOp::Lt => ord == Some(Ordering::Less),
        CmpOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => ord == Some(Ordering::Greater),
        CmpOp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
        CmpOp::Eq => ord == Some(Ordering::Equal),
        CmpOp::Ne => ord != Some(Ordering::Equal),
    }
}

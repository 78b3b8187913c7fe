//! The evaluator: runs a program's postfix code on a fixed stack of [`MAX_DEPTH`] values,
//! first with `i64` ints and, when an exact int leaves them, again with [`BigInt`]s (the
//! same operations in the same order, so the same result and the same exception).

use core::cmp::Ordering;

use crate::python::bigint::BigInt;
use crate::python::builtins;
use crate::python::errors::PyException;
use crate::python::int::{Fail, IntRepr};
use crate::python::ops;
use crate::python::program::{Code, Instr, MAX_DEPTH};
use crate::python::value::{PyValue, Val};

/// `f(epoch)`.
pub(crate) fn call(code: Code<'_>, epoch: i64) -> Result<PyValue, PyException> {
    match run::<i64>(code, epoch) {
        Ok(v) => Ok(v.to_public()),
        Err(Fail::Raise(e)) => Err(e),
        Err(Fail::Widen) => match run::<BigInt>(code, epoch) {
            Ok(v) => Ok(v.to_public()),
            Err(Fail::Raise(e)) => Err(e),
            Err(Fail::Widen) => Err(PyException::IntTooLarge),
        },
    }
}

/// `float(f(epoch))`.
pub(crate) fn factor(code: Code<'_>, epoch: i64) -> Result<f64, PyException> {
    let raised = |f: Fail| match f {
        Fail::Raise(e) => e,
        Fail::Widen => PyException::IntTooLarge,
    };
    match run::<i64>(code, epoch).and_then(|v| v.to_f64()) {
        Ok(x) => Ok(x),
        Err(Fail::Widen) => run::<BigInt>(code, epoch).and_then(|v| v.to_f64()).map_err(raised),
        Err(f) => Err(raised(f)),
    }
}

/// Runs `code` with ints in `I`.
fn run<I: IntRepr>(code: Code<'_>, epoch: i64) -> Result<Val<I>, Fail> {
    let mut stack = [Val::<I>::Bool(false); MAX_DEPTH];
    let mut sp = 0;
    let mut pc = 0;
    while let Some(&ins) = code.ops.get(pc) {
        pc += 1;
        let push = match ins {
            Instr::Param => Some(Val::Int(I::from_i64(epoch))),
            Instr::SmallInt(k) => Some(Val::Int(I::from_i64(i64::from(k)))),
            Instr::Int(k) => Some(Val::Int(I::from_i64(code.consts[usize::from(k)].cast_signed()))),
            Instr::Float(k) => Some(Val::Float(f64::from_bits(code.consts[usize::from(k)]))),
            Instr::Bool(b) => Some(Val::Bool(b)),
            _ => None,
        };
        if let Some(v) = push {
            stack[sp] = v;
            sp += 1;
            continue;
        }
        match ins {
            Instr::Neg => stack[sp - 1] = ops::neg(&stack[sp - 1])?,
            Instr::Pos => stack[sp - 1] = ops::pos(&stack[sp - 1]),
            Instr::Not => stack[sp - 1] = Val::Bool(!stack[sp - 1].truthy()),
            Instr::Binary(op) => {
                sp -= 1;
                stack[sp - 1] = ops::binary(op, &stack[sp - 1], &stack[sp])?;
            }
            Instr::Compare(op) => {
                sp -= 1;
                stack[sp - 1] = Val::Bool(ops::compare(op, &stack[sp - 1], &stack[sp]));
            }
            Instr::ChainLink(op) => {
                if ops::compare(op, &stack[sp - 2], &stack[sp - 1]) {
                    stack[sp - 2] = stack[sp - 1];
                    stack[sp - 1] = Val::Bool(true);
                } else {
                    stack[sp - 2] = Val::Bool(false);
                    stack[sp - 1] = Val::Bool(false);
                }
            }
            Instr::JumpIfFalseOrPop(off) | Instr::JumpIfTrueOrPop(off) => {
                let jump_when = matches!(ins, Instr::JumpIfTrueOrPop(_));
                if stack[sp - 1].truthy() == jump_when {
                    pc += usize::from(off);
                } else {
                    sp -= 1;
                }
            }
            Instr::PopJumpIfFalse(off) => {
                sp -= 1;
                if !stack[sp].truthy() {
                    pc += usize::from(off);
                }
            }
            Instr::Jump(off) => pc += usize::from(off),
            Instr::Call(f) => {
                let n = f.arity();
                let v = builtins::call(f, &stack[sp - n..sp])?;
                sp -= n - 1;
                stack[sp - 1] = v;
            }
            Instr::Min(n) | Instr::Max(n) => {
                let n = usize::from(n);
                let want =
                    if matches!(ins, Instr::Min(_)) { Ordering::Less } else { Ordering::Greater };
                let v = builtins::extreme(&stack[sp - n..sp], want);
                sp -= n - 1;
                stack[sp - 1] = v;
            }
            Instr::Param
            | Instr::SmallInt(_)
            | Instr::Int(_)
            | Instr::Float(_)
            | Instr::Bool(_) => {}
        }
    }
    Ok(stack[0])
}

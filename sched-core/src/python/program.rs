//! [`LambdaProgram`]: a compiled lambda body, a postfix program of at most [`MAX_OPS`]
//! two-byte instructions and [`MAX_CONSTS`] 64-bit constants, held by value.

use crate::python::errors::{LambdaSyntaxError, PyException};
use crate::python::eval;
use crate::python::value::PyValue;

/// Instructions a body may compile to (one per name, literal, operator or call, plus the
/// jumps of `and`, `or`, `if`/`else` and comparison chains).
pub const MAX_OPS: usize = 64;

/// Distinct constants a body may hold (float literals, `math.pi` and the like, and integer
/// literals outside `-128..=127`, which are inline).
pub const MAX_CONSTS: usize = 16;

/// Operands pending at once during evaluation (the evaluation stack: `a + (b + (c + d))`
/// needs 4).
pub const MAX_DEPTH: usize = 16;

/// Nesting of brackets, unary operators, `**` exponents and conditional expressions.
pub const MAX_NESTING: usize = 32;

/// A binary arithmetic operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinOp {
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    TrueDiv,
    /// `//`.
    FloorDiv,
    /// `%`.
    Mod,
    /// `**` (and `pow(a, b)`).
    Pow,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
}

/// A function of fixed arity (`min` and `max` are [`Instr::Min`] / [`Instr::Max`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Func {
    /// `abs(x)`.
    Abs,
    /// `int(x)`.
    Int,
    /// `float(x)`.
    Float,
    /// `bool(x)`.
    Bool,
    /// `round(x)`.
    Round,
    /// `round(x, n)`.
    RoundDigits,
    /// `pow(a, b, m)`.
    PowMod,
    /// `divmod(a, b)[0]`.
    DivmodQuotient,
    /// `divmod(a, b)[1]`.
    DivmodRemainder,
    /// `math.sqrt`.
    Sqrt,
    /// `math.exp`.
    Exp,
    /// `math.exp2`.
    Exp2,
    /// `math.expm1`.
    Expm1,
    /// `math.log(x)`.
    Log,
    /// `math.log(x, base)`.
    LogBase,
    /// `math.log2`.
    Log2,
    /// `math.log10`.
    Log10,
    /// `math.log1p`.
    Log1p,
    /// `math.sin`.
    Sin,
    /// `math.cos`.
    Cos,
    /// `math.tan`.
    Tan,
    /// `math.asin`.
    Asin,
    /// `math.acos`.
    Acos,
    /// `math.atan`.
    Atan,
    /// `math.atan2(y, x)`.
    Atan2,
    /// `math.sinh`.
    Sinh,
    /// `math.cosh`.
    Cosh,
    /// `math.tanh`.
    Tanh,
    /// `math.pow(x, y)`.
    MathPow,
    /// `math.floor`.
    Floor,
    /// `math.ceil`.
    Ceil,
    /// `math.trunc`.
    Trunc,
    /// `math.fabs`.
    Fabs,
    /// `math.copysign(x, y)`.
    Copysign,
    /// `math.fmod(x, y)`.
    Fmod,
    /// `math.isnan`.
    Isnan,
    /// `math.isinf`.
    Isinf,
    /// `math.isfinite`.
    Isfinite,
    /// `math.degrees`.
    Degrees,
    /// `math.radians`.
    Radians,
}

impl Func {
    /// Number of arguments taken.
    pub(crate) fn arity(self) -> usize {
        match self {
            Self::RoundDigits
            | Self::DivmodQuotient
            | Self::DivmodRemainder
            | Self::LogBase
            | Self::Atan2
            | Self::MathPow
            | Self::Copysign
            | Self::Fmod => 2,
            Self::PowMod => 3,
            _ => 1,
        }
    }
}

/// One instruction. Jumps are forward, by the number of instructions to skip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Instr {
    /// Push the parameter (an int).
    Param,
    /// Push a small int.
    SmallInt(i8),
    /// Push constant `k` as an int.
    Int(u8),
    /// Push constant `k` as a float.
    Float(u8),
    /// Push `True` / `False`.
    Bool(bool),
    /// `-a`.
    Neg,
    /// `+a`.
    Pos,
    /// `not a`.
    Not,
    /// `a <op> b`.
    Binary(BinOp),
    /// `a <op> b` (the last link of a comparison).
    Compare(CmpOp),
    /// A middle link of a chain `a < b < ...`: `[a, b]` becomes `[b, True]` when `a <op> b`
    /// holds, else `[False, False]`; a `PopJumpIfFalse` to the end of the chain follows.
    ChainLink(CmpOp),
    /// `and`: jump keeping the operand when it is false, else pop it.
    JumpIfFalseOrPop(u8),
    /// `or`: jump keeping the operand when it is true, else pop it.
    JumpIfTrueOrPop(u8),
    /// Pop; jump when false (`if`/`else`, comparison chains).
    PopJumpIfFalse(u8),
    /// Jump.
    Jump(u8),
    /// Call a function of fixed arity.
    Call(Func),
    /// `min` of the top `n` values.
    Min(u8),
    /// `max` of the top `n` values.
    Max(u8),
}

/// A program's code and constants wherever they are stored (a [`LambdaProgram`], or a
/// scheduler's pool).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Code<'a> {
    /// The instructions.
    pub(crate) ops: &'a [Instr],
    /// The constants' bits (`i64` or `f64`, as the instruction reading them says).
    pub(crate) consts: &'a [u64],
}

/// A compiled `lambda <param>: <body>`, evaluated exactly as CPython 3.11 evaluates the body
/// (see the [module](crate::python) for the language): plain data, `Copy`, 264 bytes, no
/// allocation to build or to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LambdaProgram {
    pub(crate) ops: [Instr; MAX_OPS],
    pub(crate) consts: [u64; MAX_CONSTS],
    pub(crate) n_ops: u8,
    pub(crate) n_consts: u8,
}

impl LambdaProgram {
    /// Compiles `lambda <param>: <body>`.
    ///
    /// ```
    /// use sched_core::python::{LambdaProgram, PyValue};
    ///
    /// let p = LambdaProgram::compile("e", "0.5 ** (e // 1000)").unwrap();
    /// assert_eq!(p.call(2500), Ok(PyValue::Float(0.25)));
    /// let err = LambdaProgram::compile("e", "e ++").unwrap_err();
    /// assert_eq!(err.span(), 4..4); // the body ends where an operand is expected
    /// ```
    pub fn compile(param: &str, body: &str) -> Result<Self, LambdaSyntaxError> {
        crate::python::parser::compile(param, body)
    }

    /// The body's value at `epoch` (`f(epoch)`), or the exception Python raises.
    pub fn call(&self, epoch: i64) -> Result<PyValue, PyException> {
        eval::call(self.code(), epoch)
    }

    /// `float(f(epoch))`: what torch multiplies the learning rate by.
    pub fn factor(&self, epoch: i64) -> Result<f64, PyException> {
        eval::factor(self.code(), epoch)
    }

    /// Number of instructions (at most [`MAX_OPS`]).
    pub fn len(&self) -> usize {
        usize::from(self.n_ops)
    }

    /// Whether the program has no instructions (never true for a compiled body).
    pub fn is_empty(&self) -> bool {
        self.n_ops == 0
    }

    /// Number of distinct constants (at most [`MAX_CONSTS`]).
    pub fn constants(&self) -> usize {
        usize::from(self.n_consts)
    }

    /// The code and constants in use.
    pub(crate) fn code(&self) -> Code<'_> {
        Code {
            ops: &self.ops[..usize::from(self.n_ops)],
            consts: &self.consts[..usize::from(self.n_consts)],
        }
    }
}

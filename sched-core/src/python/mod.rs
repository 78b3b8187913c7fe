//! Python lambda bodies for `LambdaLR` and `MultiplicativeLR`: `lambda e: <expr>` compiled
//! into a fixed-size [`LambdaProgram`] and evaluated exactly as CPython 3.11 evaluates it,
//! without allocation.
//!
//! # The language
//!
//! Python 3's expression grammar, with Python's precedence (`if`/`else` < `or` < `and` <
//! `not` < comparisons < `+ -` < `* / // %` < unary `- +` < `**`, which is right-associative
//! and binds tighter than a sign on its left: `-2 ** 2 == -4`, `2 ** -1 == 0.5`):
//!
//! - literals: ints (`1_000`, `0x1f`, `0o17`, `0b101`; below 2^63), floats (`1e-3`, `.5`,
//!   `1.`), `True`, `False`; the parameter; `math.pi`, `math.e`, `math.tau`, `math.inf`,
//!   `math.nan`;
//! - `+ - * / // % **`, unary `- + not`; comparisons `< <= > >= == !=`, chained
//!   (`2 <= e < 8` evaluates `e` once and stops at the first false link); `and` / `or`
//!   returning an operand; `x if c else y`, lazy (the branch not taken is not evaluated);
//! - builtins `min`, `max` (two or more arguments), `abs`, `int`, `float`, `bool`, `round`
//!   (`round(x)`, `round(x, n)`, `round(x, None)`), `pow` (`pow(a, b)`, `pow(a, b, m)`,
//!   `pow(a, b, None)`), `divmod(a, b)[i]` (`i` a literal);
//! - `math.` `sqrt exp exp2 expm1 log log2 log10 log1p sin cos tan asin acos atan atan2
//!   sinh cosh tanh pow floor ceil trunc fabs copysign fmod isnan isinf isfinite degrees
//!   radians`, and `math.log(x, base)`.
//!
//! Not supported (a [`LambdaSyntaxError`] naming it, with its byte span): strings, `None`
//! elsewhere, complex literals, tuples, lists, subscripts and attributes other than the
//! above, keyword arguments, bitwise operators, `in` / `is`, nested lambdas, other names.
//! Python's `NameError`s and argument-count `TypeError`s, which Python raises only when the
//! lambda is called, are syntax errors here.
//!
//! # Semantics
//!
//! Python's, value for value and exception for exception: ints are exact (up to
//! [`INT_BITS`] bits); `int / int` is CPython's correctly rounded `long_true_divide`; a float
//! operation with an int converts the int correctly rounded (`OverflowError: int too large
//! to convert to float` past the float range); `//` and `%` floor, the remainder taking the
//! divisor's sign; `int ** negative int` is a float; comparisons between ints and floats
//! are exact; `round` rounds half to even (`round(x, n)` on the float's exact decimal
//! value, as CPython's `dtoa`); `min` / `max` return the first extreme argument as it is.
//! Floats go through CPython's own code paths (`float_pow`, `float_divmod`, `math_1`,
//! `loghelper`, `math_pow`) on the same C library calls ([`crate::math`]'s `clib`: glibc's
//! bits with the `std` feature). Where Python raises — `ZeroDivisionError`, `OverflowError`
//! (`10.0 ** e`, `math.exp`), `ValueError: math domain error` — evaluation returns that
//! [`PyException`] with Python's message. Two results Python would go on with stop here: a
//! complex number ([`PyException::Complex`]: `(-1.0) ** 0.5`; Python returns one, torch then
//! fails on it) and an int past [`INT_BITS`] ([`PyException::IntTooLarge`]).
//!
//! # Capacities
//!
//! A program holds at most [`MAX_OPS`] instructions (one per literal, name, operator and
//! call; `and`, `or`, each comparison-chain link and `if`/`else` add jumps) and
//! [`MAX_CONSTS`] distinct constants (float literals, `math` constants, ints outside
//! `-128..=127`); evaluation keeps at most [`MAX_DEPTH`] operands pending; brackets, signs,
//! exponents and conditionals nest at most [`MAX_NESTING`] deep. Past any of them,
//! compilation fails with the matching [`SyntaxErrorKind`]. A [`LambdaProgram`] is 264 bytes.
//! Evaluation runs on a stack of [`MAX_DEPTH`] values: 256 bytes while every int fits 64
//! bits, about 3.6 KiB in the (rare) exact big-int pass.
//!
//! ```
//! use sched_core::python::{LambdaProgram, PyException, PyValue};
//!
//! let f = LambdaProgram::compile("e", "3 ** e / 3 ** (e - 1) if e > 0 else 1").unwrap();
//! assert_eq!(f.call(700), Ok(PyValue::Float(3.0))); // exact ints of 1110 bits
//! let g = LambdaProgram::compile("e", "math.sqrt(2 - e)").unwrap();
//! assert_eq!(g.call(3), Err(PyException::ValueError("math domain error")));
//! ```

mod bigint;
mod builtins;
mod errors;
mod eval;
mod float;
mod int;
mod lexer;
mod ops;
mod parser;
mod program;
mod value;

pub use bigint::{BigInt, INT_BITS};
pub use errors::{LambdaSyntaxError, PyException, SyntaxErrorKind};
pub(crate) use eval::factor;
pub(crate) use program::{Code, Instr};
pub use program::{LambdaProgram, MAX_CONSTS, MAX_DEPTH, MAX_NESTING, MAX_OPS};
pub use value::PyValue;

//! The two ways a lambda body fails: it does not compile ([`LambdaSyntaxError`], with the
//! byte span of the offending text), or Python raises while evaluating it ([`PyException`]).

use core::fmt;
use core::ops::Range;

/// What Python raises while evaluating a lambda at some epoch (or, for
/// [`PyException::Complex`] and [`PyException::IntTooLarge`], where this evaluator stops
/// where Python would go on). The message is Python's `str(exception)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PyException {
    /// `ZeroDivisionError` (`division by zero`, `float modulo`, `integer division or modulo
    /// by zero`, `0.0 cannot be raised to a negative power`, ...).
    ZeroDivisionError(&'static str),
    /// `OverflowError` (`(34, 'Numerical result out of range')` from `10.0 ** e`, `math range
    /// error` from `math.exp`, `int too large to convert to float`, ...).
    OverflowError(&'static str),
    /// `ValueError` (`math domain error`, `cannot convert float NaN to integer`, ...).
    ValueError(&'static str),
    /// `TypeError` (`'float' object cannot be interpreted as an integer` for `round(x, 1.0)`,
    /// `pow()` with a modulus and a float).
    TypeError(&'static str),
    /// The value is a complex number: Python's `**` of a negative float to a fractional power
    /// (`(-1.0) ** 0.5`) returns one. This evaluator has no complex values, so the step fails
    /// where Python computes it (torch then fails on the complex learning rate).
    Complex,
    /// An int that needs more than [`INT_BITS`](crate::python::INT_BITS) bits (sign apart):
    /// Python would compute it, this evaluator's fixed-size integers cannot. Not a Python
    /// exception.
    IntTooLarge,
}

impl PyException {
    /// Python's class name (`"ZeroDivisionError"`, ...); `"complex"` for a complex result and
    /// `"IntTooLarge"` for this evaluator's integer bound.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ZeroDivisionError(_) => "ZeroDivisionError",
            Self::OverflowError(_) => "OverflowError",
            Self::ValueError(_) => "ValueError",
            Self::TypeError(_) => "TypeError",
            Self::Complex => "complex",
            Self::IntTooLarge => "IntTooLarge",
        }
    }

    /// Python's message (`str(exception)`), or this evaluator's for the last two kinds.
    pub fn message(&self) -> &'static str {
        match self {
            Self::ZeroDivisionError(m)
            | Self::OverflowError(m)
            | Self::ValueError(m)
            | Self::TypeError(m) => m,
            Self::Complex => "the result is a complex number",
            Self::IntTooLarge => "the int needs more bits than the evaluator holds",
        }
    }
}

impl fmt::Display for PyException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name(), self.message())
    }
}

impl core::error::Error for PyException {}

/// Why a lambda body was refused, with the byte range of the body it is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LambdaSyntaxError {
    /// What is wrong.
    pub kind: SyntaxErrorKind,
    /// First byte of the offending text in the body.
    pub start: usize,
    /// One past its last byte (`start == end` at the end of the body).
    pub end: usize,
}

impl LambdaSyntaxError {
    /// The offending bytes of the body, `start..end`.
    pub fn span(&self) -> Range<usize> {
        self.start..self.end
    }
}

impl fmt::Display for LambdaSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (bytes {}..{} of the lambda body)", self.kind, self.start, self.end)
    }
}

impl core::error::Error for LambdaSyntaxError {}

/// The kinds of [`LambdaSyntaxError`]: Python's own `SyntaxError`s, what Python would only
/// raise when the lambda is called (`NameError`, a wrong argument count), and what this
/// evaluator does not support or has no room for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyntaxErrorKind {
    /// The parameter name is not a Python identifier, or is a keyword.
    InvalidParameter,
    /// The body is empty.
    Empty,
    /// A character that cannot start a token (or a non-ASCII identifier).
    UnexpectedCharacter,
    /// A token where the grammar needs something else.
    UnexpectedToken {
        /// What the grammar expects here, in words.
        expected: &'static str,
    },
    /// The body ends where the grammar needs more.
    UnexpectedEnd {
        /// What the grammar expects here, in words.
        expected: &'static str,
    },
    /// A malformed number (`1__0`, `1e`, `0x`, `012`).
    InvalidNumber,
    /// An integer literal of 2^63 or more (literals are held as 64-bit constants; compute
    /// larger ones, e.g. `2 ** 70`).
    LiteralTooLarge,
    /// A name that is neither the parameter, `True`/`False`/`None`, a supported builtin nor
    /// `math` (Python's `NameError` when called).
    UnknownName,
    /// `math.<name>` of something this evaluator does not provide.
    UnknownMathName,
    /// Valid Python outside the supported language (strings, complex literals, bitwise
    /// operators, other subscripts and attributes, keyword arguments ...).
    Unsupported {
        /// What, in words.
        what: &'static str,
    },
    /// A call with a number of arguments the function does not take (Python's `TypeError`
    /// when called).
    WrongArgumentCount {
        /// The function.
        function: &'static str,
        /// The counts it takes, in words.
        expected: &'static str,
    },
    /// `divmod(...)[i]` with `i` not in `-2..=1` (Python's `IndexError`).
    TupleIndexOutOfRange,
    /// More instructions than [`MAX_OPS`](crate::python::MAX_OPS).
    TooManyOps {
        /// The capacity.
        max: usize,
    },
    /// More distinct constants than [`MAX_CONSTS`](crate::python::MAX_CONSTS).
    TooManyConstants {
        /// The capacity.
        max: usize,
    },
    /// More operands pending at once than [`MAX_DEPTH`](crate::python::MAX_DEPTH).
    TooDeep {
        /// The capacity.
        max: usize,
    },
    /// Brackets, unary operators or conditionals nested deeper than
    /// [`MAX_NESTING`](crate::python::MAX_NESTING).
    NestingTooDeep {
        /// The capacity.
        max: usize,
    },
}

impl fmt::Display for SyntaxErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::InvalidParameter => write!(f, "the parameter is not a Python identifier"),
            Self::Empty => write!(f, "the lambda body is empty"),
            Self::UnexpectedCharacter => write!(f, "unexpected character"),
            Self::UnexpectedToken { expected } => write!(f, "expected {expected}"),
            Self::UnexpectedEnd { expected } => {
                write!(f, "the body ends where {expected} is expected")
            }
            Self::InvalidNumber => write!(f, "invalid number literal"),
            Self::LiteralTooLarge => write!(f, "integer literal of 2^63 or more"),
            Self::UnknownName => write!(f, "unknown name (Python: NameError)"),
            Self::UnknownMathName => write!(f, "unknown or unsupported member of math"),
            Self::Unsupported { what } => write!(f, "not supported: {what}"),
            Self::WrongArgumentCount { function, expected } => {
                write!(f, "{function}() takes {expected}")
            }
            Self::TupleIndexOutOfRange => {
                write!(f, "divmod(...) has 2 items (Python: IndexError: tuple index out of range)")
            }
            Self::TooManyOps { max } => {
                write!(f, "the body needs more than {max} instructions")
            }
            Self::TooManyConstants { max } => {
                write!(f, "the body has more than {max} distinct constants")
            }
            Self::TooDeep { max } => {
                write!(f, "the body keeps more than {max} operands pending at once")
            }
            Self::NestingTooDeep { max } => write!(f, "nested deeper than {max} levels"),
        }
    }
}

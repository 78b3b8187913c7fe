//! The compiler: Python 3's expression grammar by recursive descent (one function per
//! precedence level, as the grammar's rules), emitting postfix code into a
//! [`LambdaProgram`] as it goes. Evaluation order is Python's: operands left to right, the
//! condition of `x if c else y` first (its code is moved before `x`'s once parsed), `and`,
//! `or` and comparison chains short-circuited by forward jumps.

use crate::python::errors::{LambdaSyntaxError, SyntaxErrorKind as K};
use crate::python::lexer::{Lexer, Op, Tok, Token, is_identifier};
use crate::python::program::{
    BinOp, CmpOp, Func, Instr, LambdaProgram, MAX_CONSTS, MAX_DEPTH, MAX_NESTING, MAX_OPS,
};

/// Python's keywords (not usable as the parameter; most are errors in a body).
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// The builtins a body may call.
const BUILTINS: &[&str] = &["min", "max", "abs", "int", "float", "bool", "round", "pow", "divmod"];

/// `math.<name>` functions (`math.log` with two arguments is [`Func::LogBase`]).
const MATH_FUNCTIONS: &[(&str, Func)] = &[
    ("sqrt", Func::Sqrt),
    ("exp", Func::Exp),
    ("exp2", Func::Exp2),
    ("expm1", Func::Expm1),
    ("log", Func::Log),
    ("log2", Func::Log2),
    ("log10", Func::Log10),
    ("log1p", Func::Log1p),
    ("sin", Func::Sin),
    ("cos", Func::Cos),
    ("tan", Func::Tan),
    ("asin", Func::Asin),
    ("acos", Func::Acos),
    ("atan", Func::Atan),
    ("atan2", Func::Atan2),
    ("sinh", Func::Sinh),
    ("cosh", Func::Cosh),
    ("tanh", Func::Tanh),
    ("pow", Func::MathPow),
    ("floor", Func::Floor),
    ("ceil", Func::Ceil),
    ("trunc", Func::Trunc),
    ("fabs", Func::Fabs),
    ("copysign", Func::Copysign),
    ("fmod", Func::Fmod),
    ("isnan", Func::Isnan),
    ("isinf", Func::Isinf),
    ("isfinite", Func::Isfinite),
    ("degrees", Func::Degrees),
    ("radians", Func::Radians),
];

/// `math.<name>` constants.
const MATH_CONSTANTS: &[(&str, f64)] = &[
    ("pi", core::f64::consts::PI),
    ("e", core::f64::consts::E),
    ("tau", core::f64::consts::TAU),
    ("inf", f64::INFINITY),
    ("nan", f64::NAN),
];

/// Compiles `lambda <param>: <body>`.
pub(crate) fn compile(param: &str, body: &str) -> Result<LambdaProgram, LambdaSyntaxError> {
    if !is_identifier(param) || KEYWORDS.contains(&param) {
        return Err(LambdaSyntaxError { kind: K::InvalidParameter, start: 0, end: 0 });
    }
    let mut p = Parser {
        src: body,
        lex: Lexer::new(body),
        tok: Token { tok: Tok::End, start: 0, end: 0 },
        param,
        prog: LambdaProgram {
            ops: [Instr::Param; MAX_OPS],
            consts: [0; MAX_CONSTS],
            n_ops: 0,
            n_consts: 0,
        },
        height: 0,
        nesting: 0,
    };
    p.advance()?;
    if p.tok.tok == Tok::End {
        return Err(p.error(K::Empty));
    }
    p.expression()?;
    if p.tok.tok != Tok::End {
        return Err(p.unexpected("the end of the body"));
    }
    Ok(p.prog)
}

/// Where a call's `None` arguments may stand: `pow(a, b, None)`, `round(x, None)`.
#[derive(Clone, Copy)]
struct Args {
    /// Arguments given (`None`s included).
    count: usize,
    /// Bit `i`: argument `i` is the literal `None` (and was not compiled).
    none: u32,
}

struct Parser<'a> {
    src: &'a str,
    lex: Lexer<'a>,
    /// The current token (one token of lookahead).
    tok: Token,
    param: &'a str,
    prog: LambdaProgram,
    /// Operands on the evaluation stack at the current point of the code.
    height: usize,
    nesting: usize,
}

type R<T = ()> = Result<T, LambdaSyntaxError>;

impl Parser<'_> {
    fn advance(&mut self) -> R {
        self.tok = self.lex.next_token()?;
        Ok(())
    }

    fn text(&self) -> &str {
        self.src.get(self.tok.start..self.tok.end).unwrap_or("")
    }

    fn is_name(&self, name: &str) -> bool {
        self.tok.tok == Tok::Name && self.text() == name
    }

    /// The token after the current one (a lexing error reads as the end).
    fn peek(&self) -> Tok {
        self.lex.clone().next_token().map_or(Tok::End, |t| t.tok)
    }

    /// The text of the token after the current one.
    fn peek_text(&self) -> &str {
        self.lex.clone().next_token().map_or("", |t| self.src.get(t.start..t.end).unwrap_or(""))
    }

    fn is_op(&self, op: Op) -> bool {
        self.tok.tok == Tok::Op(op)
    }

    fn error(&self, kind: K) -> LambdaSyntaxError {
        LambdaSyntaxError { kind, start: self.tok.start, end: self.tok.end }
    }

    fn unexpected(&self, expected: &'static str) -> LambdaSyntaxError {
        match self.tok.tok {
            Tok::End => self.error(K::UnexpectedEnd { expected }),
            Tok::Op(Op::Other) => self.error(K::Unsupported {
                what: "operators outside + - * / // % ** and comparisons (bitwise, @, :=)",
            }),
            _ => self.error(K::UnexpectedToken { expected }),
        }
    }

    fn expect(&mut self, op: Op, expected: &'static str) -> R {
        if !self.is_op(op) {
            return Err(self.unexpected(expected));
        }
        self.advance()
    }

    /// Opens a bracket (newlines inside are blanks) and moves past it.
    fn open(&mut self) -> R {
        self.lex.depth += 1;
        self.advance()
    }

    /// Closes a bracket: expects `op` and moves past it.
    fn close(&mut self, op: Op, expected: &'static str) -> R {
        if !self.is_op(op) {
            return Err(self.unexpected(expected));
        }
        self.lex.depth = self.lex.depth.saturating_sub(1);
        self.advance()
    }

    fn enter(&mut self) -> R {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(self.error(K::NestingTooDeep { max: MAX_NESTING }));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting -= 1;
    }

    fn len(&self) -> usize {
        usize::from(self.prog.n_ops)
    }

    /// Appends `ins` (erring, at the current token, past the capacities).
    fn emit(&mut self, ins: Instr) -> R {
        let n = self.len();
        if n >= MAX_OPS {
            return Err(self.error(K::TooManyOps { max: MAX_OPS }));
        }
        self.prog.ops[n] = ins;
        self.prog.n_ops += 1;
        let (pop, push) = match ins {
            Instr::Param
            | Instr::SmallInt(_)
            | Instr::Int(_)
            | Instr::Float(_)
            | Instr::Bool(_) => (0, 1),
            Instr::Neg | Instr::Pos | Instr::Not | Instr::ChainLink(_) | Instr::Jump(_) => (0, 0),
            Instr::Binary(_) | Instr::Compare(_) => (2, 1),
            Instr::JumpIfFalseOrPop(_) | Instr::JumpIfTrueOrPop(_) | Instr::PopJumpIfFalse(_) => {
                (1, 0)
            }
            Instr::Call(f) => (f.arity(), 1),
            Instr::Min(k) | Instr::Max(k) => (usize::from(k), 1),
        };
        self.height = self.height.saturating_sub(pop) + push;
        if self.height > MAX_DEPTH {
            return Err(self.error(K::TooDeep { max: MAX_DEPTH }));
        }
        Ok(())
    }

    /// The index of a constant (shared by equal bits), adding it if new.
    fn constant(&mut self, bits: u64) -> R<u8> {
        let n = usize::from(self.prog.n_consts);
        if let Some(i) = self.prog.consts[..n].iter().position(|&c| c == bits) {
            return Ok(u8::try_from(i).unwrap_or(u8::MAX));
        }
        if n >= MAX_CONSTS {
            return Err(self.error(K::TooManyConstants { max: MAX_CONSTS }));
        }
        self.prog.consts[n] = bits;
        self.prog.n_consts += 1;
        Ok(self.prog.n_consts - 1)
    }

    fn emit_int(&mut self, v: i64) -> R {
        match i8::try_from(v) {
            Ok(k) => self.emit(Instr::SmallInt(k)),
            Err(_) => {
                let k = self.constant(v.cast_unsigned())?;
                self.emit(Instr::Int(k))
            }
        }
    }

    fn emit_float(&mut self, v: f64) -> R {
        let k = self.constant(v.to_bits())?;
        self.emit(Instr::Float(k))
    }

    /// A forward jump to the current end of the code from the jump at `at`.
    fn offset_to_end(&self, at: usize) -> R<u8> {
        u8::try_from(self.len() - at - 1).map_err(|_| self.error(K::TooManyOps { max: MAX_OPS }))
    }

    /// Points the jump at `at` to the current end.
    fn patch(&mut self, at: usize) -> R {
        let off = self.offset_to_end(at)?;
        self.prog.ops[at] = match self.prog.ops[at] {
            Instr::JumpIfFalseOrPop(_) => Instr::JumpIfFalseOrPop(off),
            Instr::JumpIfTrueOrPop(_) => Instr::JumpIfTrueOrPop(off),
            Instr::PopJumpIfFalse(_) => Instr::PopJumpIfFalse(off),
            Instr::Jump(_) => Instr::Jump(off),
            other => other,
        };
        Ok(())
    }

    /// Points every jump of a pending list to the current end. The list is threaded
    /// through the jumps' own operands: each holds the index + 1 of the previous one (0
    /// ends it).
    fn patch_list(&mut self, mut head: usize) -> R {
        while head != 0 {
            let at = head - 1;
            head = match self.prog.ops[at] {
                Instr::JumpIfFalseOrPop(p)
                | Instr::JumpIfTrueOrPop(p)
                | Instr::PopJumpIfFalse(p) => usize::from(p),
                _ => 0,
            };
            self.patch(at)?;
        }
        Ok(())
    }

    /// Emits a jump that joins the pending list `head`; returns the new head.
    fn emit_pending(&mut self, jump: fn(u8) -> Instr, head: usize) -> R<usize> {
        let at = self.len();
        self.emit(jump(u8::try_from(head).unwrap_or(0)))?;
        Ok(at + 1)
    }

    /// `expression: disjunction ['if' disjunction 'else' expression]`.
    fn expression(&mut self) -> R {
        self.enter()?;
        let h0 = self.height;
        let start = self.len();
        self.or_test()?;
        if self.is_name("if") {
            self.advance()?;
            let cond_at = self.len();
            self.height = h0;
            self.or_test()?;
            if !self.is_name("else") {
                return Err(self.unexpected("'else'"));
            }
            // [x][cond] -> [cond][PopJumpIfFalse][x]
            let end = self.len();
            self.prog.ops[start..end].rotate_left(cond_at - start);
            let jump_at = start + (end - cond_at);
            self.emit(Instr::PopJumpIfFalse(0))?;
            self.prog.ops[jump_at..=end].rotate_right(1);
            self.height = h0 + 1;
            self.advance()?;
            let skip_at = self.len();
            self.emit(Instr::Jump(0))?;
            // The false branch starts here.
            let off = u8::try_from(skip_at - jump_at)
                .map_err(|_| self.error(K::TooManyOps { max: MAX_OPS }))?;
            self.prog.ops[jump_at] = Instr::PopJumpIfFalse(off);
            self.height = h0;
            self.expression()?;
            self.patch(skip_at)?;
        }
        self.leave();
        Ok(())
    }

    /// `disjunction: conjunction ('or' conjunction)*`.
    fn or_test(&mut self) -> R {
        self.short_circuit("or", Instr::JumpIfTrueOrPop, Self::and_test)
    }

    /// `conjunction: inversion ('and' inversion)*`.
    fn and_test(&mut self) -> R {
        self.short_circuit("and", Instr::JumpIfFalseOrPop, Self::not_test)
    }

    /// Operands joined by `keyword` (`or`, `and`): after each but the last a `jump` to the
    /// end that keeps the deciding operand, else pops it.
    fn short_circuit(
        &mut self,
        keyword: &str,
        jump: fn(u8) -> Instr,
        operand: fn(&mut Self) -> R,
    ) -> R {
        operand(self)?;
        let mut pending = 0;
        while self.is_name(keyword) {
            self.advance()?;
            pending = self.emit_pending(jump, pending)?;
            operand(self)?;
        }
        self.patch_list(pending)
    }

    /// `inversion: 'not' inversion | comparison`.
    fn not_test(&mut self) -> R {
        if self.is_name("not") {
            self.advance()?;
            self.enter()?;
            self.not_test()?;
            self.leave();
            return self.emit(Instr::Not);
        }
        self.comparison()
    }

    /// The comparison operator at the current token, if any.
    fn comparison_op(&self) -> R<Option<CmpOp>> {
        Ok(match self.tok.tok {
            Tok::Op(Op::Lt) => Some(CmpOp::Lt),
            Tok::Op(Op::Le) => Some(CmpOp::Le),
            Tok::Op(Op::Gt) => Some(CmpOp::Gt),
            Tok::Op(Op::Ge) => Some(CmpOp::Ge),
            Tok::Op(Op::EqEq) => Some(CmpOp::Eq),
            Tok::Op(Op::Ne) => Some(CmpOp::Ne),
            _ if self.is_name("in")
                || self.is_name("is")
                || (self.is_name("not") && self.peek_text() == "in") =>
            {
                return Err(self.error(K::Unsupported { what: "`in` and `is`" }));
            }
            _ => None,
        })
    }

    /// `comparison: sum (compare_op sum)*`, chained: `a < b < c` is `a < b and b < c` with
    /// `b` evaluated once.
    fn comparison(&mut self) -> R {
        self.arith(1)?;
        let Some(mut op) = self.comparison_op()? else { return Ok(()) };
        let mut pending = 0;
        loop {
            self.advance()?;
            self.arith(1)?;
            match self.comparison_op()? {
                Some(next) => {
                    self.emit(Instr::ChainLink(op))?;
                    pending = self.emit_pending(Instr::PopJumpIfFalse, pending)?;
                    op = next;
                }
                None => {
                    self.emit(Instr::Compare(op))?;
                    break;
                }
            }
        }
        self.patch_list(pending)
    }

    /// The arithmetic operator at the current token and its precedence (`+ -`: 1,
    /// `* / // %`: 2).
    fn arith_op(&self) -> R<Option<(BinOp, u8)>> {
        Ok(match self.tok.tok {
            Tok::Op(Op::Plus) => Some((BinOp::Add, 1)),
            Tok::Op(Op::Minus) => Some((BinOp::Sub, 1)),
            Tok::Op(Op::Star) => Some((BinOp::Mul, 2)),
            Tok::Op(Op::Slash) => Some((BinOp::TrueDiv, 2)),
            Tok::Op(Op::DoubleSlash) => Some((BinOp::FloorDiv, 2)),
            Tok::Op(Op::Percent) => Some((BinOp::Mod, 2)),
            Tok::Op(Op::Other) => return Err(self.unexpected("an operator")),
            _ => None,
        })
    }

    /// `sum` and `term` by precedence climbing (both left-associative).
    fn arith(&mut self, min_prec: u8) -> R {
        self.unary()?;
        while let Some((op, prec)) = self.arith_op()? {
            if prec < min_prec {
                break;
            }
            self.advance()?;
            // At most two levels deeper (two precedences): no nesting to count.
            self.arith(prec + 1)?;
            self.emit(Instr::Binary(op))?;
        }
        Ok(())
    }

    /// `factor: ('+' | '-') factor | power`. A minus on a small int literal alone is folded
    /// into it (the value Python computes at run time).
    fn unary(&mut self) -> R {
        let neg = match self.tok.tok {
            Tok::Op(Op::Minus) => true,
            Tok::Op(Op::Plus) => false,
            Tok::Op(Op::Other) => return Err(self.unexpected("an operand")),
            _ => return self.power(),
        };
        self.advance()?;
        self.enter()?;
        let start = self.len();
        self.unary()?;
        self.leave();
        if !neg {
            return self.emit(Instr::Pos);
        }
        if self.len() == start + 1
            && let Instr::SmallInt(k) = self.prog.ops[start]
            && k != i8::MIN
        {
            self.prog.ops[start] = Instr::SmallInt(-k);
            return Ok(());
        }
        self.emit(Instr::Neg)
    }

    /// `power: primary ['**' factor]` (right-associative, binding tighter than a sign on its
    /// left: `-2 ** 2 == -4`).
    fn power(&mut self) -> R {
        self.primary()?;
        if self.is_op(Op::Power) {
            self.advance()?;
            self.enter()?;
            self.unary()?;
            self.leave();
            self.emit(Instr::Binary(BinOp::Pow))?;
        }
        Ok(())
    }

    /// `primary`: a literal, name, parenthesized expression or call; then no trailers.
    fn primary(&mut self) -> R {
        match self.tok.tok {
            Tok::Int(v) => {
                self.advance()?;
                self.emit_int(v)?;
            }
            Tok::Float(v) => {
                self.advance()?;
                self.emit_float(v)?;
            }
            Tok::Op(Op::LParen) => {
                self.open()?;
                if self.is_op(Op::RParen) {
                    return Err(self.error(K::Unsupported { what: "tuples" }));
                }
                self.expression()?;
                if self.is_op(Op::Comma) {
                    return Err(self.error(K::Unsupported { what: "tuples" }));
                }
                self.close(Op::RParen, "')'")?;
            }
            Tok::Op(Op::LBracket) => {
                return Err(self.error(K::Unsupported { what: "lists" }));
            }
            Tok::Name => self.name()?,
            _ => return Err(self.unexpected("an operand")),
        }
        match self.tok.tok {
            Tok::Op(Op::LParen) => Err(self.error(K::Unsupported { what: "calling a value" })),
            Tok::Op(Op::LBracket) => {
                Err(self.error(K::Unsupported { what: "subscripts other than divmod(...)[i]" }))
            }
            Tok::Op(Op::Dot) => Err(self.error(K::Unsupported { what: "attributes" })),
            _ => Ok(()),
        }
    }

    /// A name: the parameter, `True`/`False`, `math.<name>` or a builtin call.
    fn name(&mut self) -> R {
        let name_tok = self.tok;
        let name = self.src.get(name_tok.start..name_tok.end).unwrap_or("");
        if name == self.param {
            self.advance()?;
            return self.emit(Instr::Param);
        }
        if let Some(&builtin) = BUILTINS.iter().find(|b| **b == name) {
            self.function_name(name_tok)?;
            return self.builtin(builtin, name_tok);
        }
        match name {
            "True" | "False" => {
                self.advance()?;
                self.emit(Instr::Bool(name == "True"))
            }
            "None" => Err(self.error(K::Unsupported {
                what: "None (only pow(a, b, None) and round(x, None) take it)",
            })),
            "math" => self.math(),
            "lambda" => Err(self.error(K::Unsupported { what: "nested lambdas" })),
            _ if KEYWORDS.contains(&name) => Err(self.unexpected("an operand")),
            _ => Err(self.error(K::UnknownName)),
        }
    }

    /// Moves past a function's name (`name_tok`): it must be called.
    fn function_name(&mut self, name_tok: Token) -> R {
        self.advance()?;
        if self.is_op(Op::LParen) {
            return Ok(());
        }
        Err(LambdaSyntaxError {
            kind: K::Unsupported { what: "functions as values" },
            start: name_tok.start,
            end: name_tok.end,
        })
    }

    /// `math.<constant>` or `math.<function>(...)`.
    fn math(&mut self) -> R {
        self.advance()?;
        self.expect(Op::Dot, "'.' after math")?;
        if self.tok.tok != Tok::Name {
            return Err(self.unexpected("a name of math"));
        }
        let attr_tok = self.tok;
        let attr = self.src.get(attr_tok.start..attr_tok.end).unwrap_or("");
        if let Some(&(_, v)) = MATH_CONSTANTS.iter().find(|(n, _)| *n == attr) {
            self.advance()?;
            return self.emit_float(v);
        }
        let Some(&(name, f)) = MATH_FUNCTIONS.iter().find(|(n, _)| *n == attr) else {
            return Err(self.error(K::UnknownMathName));
        };
        self.function_name(attr_tok)?;
        let args = self.arguments(0)?;
        let f = match (f, args.count) {
            (Func::Log, 2) => Func::LogBase,
            (f, n) if n == f.arity() => f,
            _ => {
                let expected = match f {
                    Func::Log => "1 or 2 arguments",
                    f if f.arity() == 2 => "2 arguments",
                    _ => "1 argument",
                };
                return Err(LambdaSyntaxError {
                    kind: K::WrongArgumentCount { function: name, expected },
                    start: attr_tok.start,
                    end: self.tok.start,
                });
            }
        };
        self.emit(Instr::Call(f))
    }

    /// The arguments of a call at `(`, compiled in order; `None` accepted where bit `i` of
    /// `none_ok` is set (and then not compiled).
    fn arguments(&mut self, none_ok: u32) -> R<Args> {
        self.open()?;
        let mut args = Args { count: 0, none: 0 };
        while !self.is_op(Op::RParen) {
            if self.is_op(Op::Star) || self.is_op(Op::Power) {
                return Err(self.error(K::Unsupported { what: "*args and **kwargs" }));
            }
            if self.tok.tok == Tok::Name && self.peek() == Tok::Op(Op::Assign) {
                return Err(self.error(K::Unsupported { what: "keyword arguments" }));
            }
            let bit = 1u32.checked_shl(u32::try_from(args.count).unwrap_or(u32::MAX)).unwrap_or(0);
            if self.is_name("None") && none_ok & bit != 0 {
                self.advance()?;
                args.none |= bit;
            } else {
                self.expression()?;
            }
            args.count += 1;
            if !self.is_op(Op::Comma) {
                break;
            }
            self.advance()?;
        }
        self.close(Op::RParen, "',' or ')'")?;
        Ok(args)
    }

    /// A builtin call at `(`.
    fn builtin(&mut self, name: &'static str, name_tok: Token) -> R {
        let none_ok = match name {
            "pow" => 1 << 2,
            "round" => 1 << 1,
            _ => 0,
        };
        let args = self.arguments(none_ok)?;
        let compiled = args.count - usize::try_from(args.none.count_ones()).unwrap_or(0);
        let wrong = |expected| LambdaSyntaxError {
            kind: K::WrongArgumentCount { function: name, expected },
            start: name_tok.start,
            end: self.tok.start,
        };
        let count =
            u8::try_from(compiled).map_err(|_| self.error(K::TooManyOps { max: MAX_OPS }))?;
        match (name, args.count) {
            ("min" | "max", 0) => Err(wrong("at least 1 argument")),
            ("min" | "max", 1) => Err(LambdaSyntaxError {
                kind: K::Unsupported { what: "min/max of one argument (an iterable)" },
                start: name_tok.start,
                end: self.tok.start,
            }),
            ("min", _) => self.emit(Instr::Min(count)),
            ("max", _) => self.emit(Instr::Max(count)),
            ("int", 0) => self.emit_int(0),
            ("float", 0) => self.emit_float(0.0),
            ("bool", 0) => self.emit(Instr::Bool(false)),
            ("int", 2) => Err(LambdaSyntaxError {
                kind: K::Unsupported { what: "int() with a base (strings)" },
                start: name_tok.start,
                end: self.tok.start,
            }),
            ("int", 1) => self.emit(Instr::Call(Func::Int)),
            ("float", 1) => self.emit(Instr::Call(Func::Float)),
            ("bool", 1) => self.emit(Instr::Call(Func::Bool)),
            ("int" | "float" | "bool", _) => Err(wrong("at most 1 argument")),
            ("abs", 1) => self.emit(Instr::Call(Func::Abs)),
            ("abs", _) => Err(wrong("exactly one argument")),
            ("round", 1) => self.emit(Instr::Call(Func::Round)),
            ("round", 2) if args.none != 0 => self.emit(Instr::Call(Func::Round)),
            ("round", 2) => self.emit(Instr::Call(Func::RoundDigits)),
            ("round", _) => Err(wrong("1 or 2 arguments")),
            ("pow", 2) => self.emit(Instr::Binary(BinOp::Pow)),
            ("pow", 3) if args.none != 0 => self.emit(Instr::Binary(BinOp::Pow)),
            ("pow", 3) => self.emit(Instr::Call(Func::PowMod)),
            ("pow", _) => Err(wrong("2 or 3 arguments")),
            ("divmod", 2) => self.divmod_index(),
            _ => Err(wrong("2 arguments")),
        }
    }

    /// `divmod(a, b)[i]` at `[`: `i` a literal in `-2..=1`.
    fn divmod_index(&mut self) -> R {
        if !self.is_op(Op::LBracket) {
            return Err(
                self.error(K::Unsupported { what: "divmod(...) without [0] or [1] (a tuple)" })
            );
        }
        self.open()?;
        let start = self.tok.start;
        let neg = self.is_op(Op::Minus);
        if neg {
            self.advance()?;
        }
        let Tok::Int(i) = self.tok.tok else {
            return Err(self.error(K::Unsupported { what: "a divmod index that is not a literal" }));
        };
        let end = self.tok.end;
        self.advance()?;
        let f = match (neg, i) {
            (false, 0) | (true, 2) => Func::DivmodQuotient,
            (false, 1) | (true, 1) => Func::DivmodRemainder,
            _ => return Err(LambdaSyntaxError { kind: K::TupleIndexOutOfRange, start, end }),
        };
        self.close(Op::RBracket, "']'")?;
        self.emit(Instr::Call(f))
    }
}

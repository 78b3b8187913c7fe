//! Python's tokens over the bytes of a lambda body: numbers (with Python's literal rules:
//! `1_000`, `1e-3`, `.5`, `0x1f`; no leading zeros), names, operators and brackets, each
//! with its byte span.

use crate::python::errors::{LambdaSyntaxError, SyntaxErrorKind};

/// A token's kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Tok {
    /// An integer literal (below 2^63).
    Int(i64),
    /// A float literal.
    Float(f64),
    /// A name or keyword (its text is the span).
    Name,
    /// An operator or delimiter.
    Op(Op),
    /// The end of the body.
    End,
}

/// Operators and delimiters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `**`
    Power,
    /// `/`
    Slash,
    /// `//`
    DoubleSlash,
    /// `%`
    Percent,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    EqEq,
    /// `!=`
    Ne,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// `.`
    Dot,
    /// `=` (keyword arguments; refused)
    Assign,
    /// Python operators outside the language: `& | ^ ~ << >> @ :=` and the rest.
    Other,
}

/// A token and its bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// The tokenizer (`Clone`: a copy looks ahead).
#[derive(Clone)]
pub(crate) struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    /// Open brackets: inside them newlines are whitespace (implicit line joining).
    pub(crate) depth: usize,
}

fn err(kind: SyntaxErrorKind, start: usize, end: usize) -> LambdaSyntaxError {
    LambdaSyntaxError { kind, start, end }
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Whether `s` is a Python identifier (ASCII).
pub(crate) fn is_identifier(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty() && is_name_start(b[0]) && b.iter().all(|&c| is_name_char(c))
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Self { src: src.as_bytes(), pos: 0, depth: 0 }
    }

    fn peek_at(&self, i: usize) -> u8 {
        self.src.get(i).copied().unwrap_or(0)
    }

    /// Skips blanks, comments, line continuations and (inside brackets) newlines.
    fn skip_blank(&mut self) -> Result<(), LambdaSyntaxError> {
        loop {
            match self.peek_at(self.pos) {
                b' ' | b'\t' | 0x0c => self.pos += 1,
                b'\\' if matches!(self.peek_at(self.pos + 1), b'\n' | b'\r') => {
                    self.pos += 2;
                    if self.peek_at(self.pos - 1) == b'\r' && self.peek_at(self.pos) == b'\n' {
                        self.pos += 1;
                    }
                }
                b'\n' | b'\r' if self.depth > 0 => self.pos += 1,
                b'#' => {
                    while self.pos < self.src.len() && !matches!(self.src[self.pos], b'\n' | b'\r')
                    {
                        self.pos += 1;
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    /// The next token.
    pub(crate) fn next_token(&mut self) -> Result<Token, LambdaSyntaxError> {
        self.skip_blank()?;
        let start = self.pos;
        let Some(&c) = self.src.get(start) else {
            return Ok(Token { tok: Tok::End, start, end: start });
        };
        if c.is_ascii_digit() || (c == b'.' && self.peek_at(start + 1).is_ascii_digit()) {
            return self.number();
        }
        if is_name_start(c) {
            while is_name_char(self.peek_at(self.pos)) {
                self.pos += 1;
            }
            if self.peek_at(self.pos) >= 0x80 {
                return Err(err(SyntaxErrorKind::UnexpectedCharacter, start, self.pos + 1));
            }
            if matches!(self.peek_at(self.pos), b'\'' | b'"') {
                // A prefixed string: b"...", f"...", r"...".
                return Err(err(
                    SyntaxErrorKind::Unsupported { what: "strings" },
                    start,
                    self.pos + 1,
                ));
            }
            return Ok(Token { tok: Tok::Name, start, end: self.pos });
        }
        let two = [c, self.peek_at(start + 1)];
        let (op, len) = match &two {
            b"**" => (Op::Power, 2),
            b"//" => (Op::DoubleSlash, 2),
            b"<=" => (Op::Le, 2),
            b">=" => (Op::Ge, 2),
            b"==" => (Op::EqEq, 2),
            b"!=" => (Op::Ne, 2),
            b"<<" | b">>" | b":=" | b"->" => (Op::Other, 2),
            _ => match c {
                b'+' => (Op::Plus, 1),
                b'-' => (Op::Minus, 1),
                b'*' => (Op::Star, 1),
                b'/' => (Op::Slash, 1),
                b'%' => (Op::Percent, 1),
                b'<' => (Op::Lt, 1),
                b'>' => (Op::Gt, 1),
                b'(' => (Op::LParen, 1),
                b')' => (Op::RParen, 1),
                b'[' => (Op::LBracket, 1),
                b']' => (Op::RBracket, 1),
                b',' => (Op::Comma, 1),
                b'.' => (Op::Dot, 1),
                b'=' => (Op::Assign, 1),
                b'&' | b'|' | b'^' | b'~' | b'@' | b':' | b';' => (Op::Other, 1),
                b'{' | b'}' => {
                    return Err(err(
                        SyntaxErrorKind::Unsupported { what: "sets and dicts" },
                        start,
                        start + 1,
                    ));
                }
                b'\'' | b'"' => {
                    return Err(err(
                        SyntaxErrorKind::Unsupported { what: "strings" },
                        start,
                        start + 1,
                    ));
                }
                _ => {
                    // The whole UTF-8 character.
                    let mut end = start + 1;
                    while self.peek_at(end) & 0xc0 == 0x80 {
                        end += 1;
                    }
                    return Err(err(SyntaxErrorKind::UnexpectedCharacter, start, end));
                }
            },
        };
        self.pos += len;
        Ok(Token { tok: Tok::Op(op), start, end: self.pos })
    }

    /// Digits of `radix` with single underscores between them; returns whether any digit was
    /// read.
    fn digits(&mut self, radix: u32, start: usize) -> Result<bool, LambdaSyntaxError> {
        let mut any = false;
        loop {
            let c = self.peek_at(self.pos);
            if char::from(c).is_digit(radix) {
                self.pos += 1;
                any = true;
            } else if c == b'_' && any && char::from(self.peek_at(self.pos + 1)).is_digit(radix) {
                self.pos += 1;
            } else if c == b'_' {
                return Err(err(SyntaxErrorKind::InvalidNumber, start, self.pos + 1));
            } else {
                return Ok(any);
            }
        }
    }

    /// A number literal.
    fn number(&mut self) -> Result<Token, LambdaSyntaxError> {
        let start = self.pos;
        let c1 = self.peek_at(start + 1) | 0x20;
        if self.peek_at(start) == b'0' && matches!(c1, b'x' | b'o' | b'b') {
            let radix = match c1 {
                b'x' => 16,
                b'o' => 8,
                _ => 2,
            };
            self.pos += 2;
            if self.peek_at(self.pos) == b'_' {
                self.pos += 1; // 0x_ff
            }
            if !self.digits(radix, start)? {
                return Err(err(SyntaxErrorKind::InvalidNumber, start, self.pos));
            }
            self.check_number_end(start)?;
            return self.int_token(start, radix);
        }
        let int_part = self.digits(10, start)?;
        let int_end = self.pos;
        let mut is_float = false;
        if self.peek_at(self.pos) == b'.' {
            is_float = true;
            self.pos += 1;
            if self.peek_at(self.pos) == b'_' {
                return Err(err(SyntaxErrorKind::InvalidNumber, start, self.pos + 1));
            }
            let frac = self.digits(10, start)?;
            if !int_part && !frac {
                return Err(err(SyntaxErrorKind::InvalidNumber, start, self.pos));
            }
        }
        if self.peek_at(self.pos) | 0x20 == b'e' {
            let sign = usize::from(matches!(self.peek_at(self.pos + 1), b'+' | b'-'));
            if self.peek_at(self.pos + 1 + sign).is_ascii_digit() {
                is_float = true;
                self.pos += 1 + sign;
                self.digits(10, start)?;
            } else if sign == 1 || !is_name_char(self.peek_at(self.pos + 1)) {
                return Err(err(SyntaxErrorKind::InvalidNumber, start, self.pos + 1 + sign));
            }
        }
        if self.peek_at(self.pos) | 0x20 == b'j' {
            return Err(err(
                SyntaxErrorKind::Unsupported { what: "complex numbers" },
                start,
                self.pos + 1,
            ));
        }
        self.check_number_end(start)?;
        if is_float {
            return self.float_token(start);
        }
        // Leading zeros are not permitted in a nonzero decimal integer.
        let text = &self.src[start..int_end];
        if text.len() > 1 && text[0] == b'0' && text.iter().any(|&d| d != b'0' && d != b'_') {
            return Err(err(SyntaxErrorKind::InvalidNumber, start, int_end));
        }
        self.int_token(start, 10)
    }

    /// A number directly followed by a name character is an invalid literal (`1abc`), except
    /// where a keyword follows (`1if`, `1or`, ...) as CPython 3.11 still accepts.
    fn check_number_end(&self, start: usize) -> Result<(), LambdaSyntaxError> {
        let c = self.peek_at(self.pos);
        if !is_name_char(c) {
            return Ok(());
        }
        let rest = &self.src[self.pos..];
        for kw in [&b"and"[..], b"or", b"if", b"else", b"in", b"is", b"not"] {
            if rest.starts_with(kw) && !is_name_char(rest.get(kw.len()).copied().unwrap_or(0)) {
                return Ok(());
            }
        }
        let mut end = self.pos;
        while is_name_char(self.peek_at(end)) {
            end += 1;
        }
        Err(err(SyntaxErrorKind::InvalidNumber, start, end))
    }

    fn int_token(&self, start: usize, radix: u32) -> Result<Token, LambdaSyntaxError> {
        let digits = &self.src[start..self.pos];
        let digits = if radix == 10 { digits } else { &digits[2..] };
        let mut v: u64 = 0;
        for &c in digits {
            let Some(d) = char::from(c).to_digit(radix) else { continue };
            v = v
                .checked_mul(u64::from(radix))
                .and_then(|v| v.checked_add(u64::from(d)))
                .ok_or(err(SyntaxErrorKind::LiteralTooLarge, start, self.pos))?;
        }
        let v =
            i64::try_from(v).map_err(|_| err(SyntaxErrorKind::LiteralTooLarge, start, self.pos))?;
        Ok(Token { tok: Tok::Int(v), start, end: self.pos })
    }

    fn float_token(&self, start: usize) -> Result<Token, LambdaSyntaxError> {
        let text = &self.src[start..self.pos];
        // Rust's parser (correctly rounded, as Python's) takes no underscores: copy without.
        let mut buf = [0u8; 128];
        let mut n = 0;
        for &c in text.iter().filter(|&&c| c != b'_') {
            let slot = buf.get_mut(n).ok_or(err(
                SyntaxErrorKind::Unsupported { what: "float literals of more than 128 digits" },
                start,
                self.pos,
            ))?;
            *slot = c;
            n += 1;
        }
        let v = core::str::from_utf8(&buf[..n])
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .ok_or(err(SyntaxErrorKind::InvalidNumber, start, self.pos))?;
        Ok(Token { tok: Tok::Float(v), start, end: self.pos })
    }
}

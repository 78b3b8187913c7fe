//! Parser for specs written the way PyTorch users write a scheduler:
//!
//! ```text
//! spec  := value                      (a call, in practice)
//! value := number | string | True | False | None | list | call | name
//! list  := '[' (value (',' value)* ','?)? ']'
//! call  := name '(' (arg (',' arg)* ','?)? ')'
//! arg   := name '=' value | value
//! name  := [A-Za-z_][A-Za-z0-9_.]*
//! number:= [+-]? Python int or float literal (`10`, `1_000`, `0.5`, `.5`, `5.`, `1e-3`)
//! string:= '...' | "..."  (escapes \\ \' \" \n \t)
//! ```

use super::error::{SpecError, SpecErrorKind};
use super::syntax::{Arg, Call, Expr, Node, Span};

/// Lists and calls nest at most this deep (a spec that needs more is not a schedule anyone
/// writes; the limit keeps hostile input from exhausting the stack).
pub(crate) const MAX_DEPTH: usize = 64;

/// Parses a whole spec; anything after the first value is an error.
pub(crate) fn parse(text: &str) -> Result<Node, SpecError> {
    let mut p = Parser { text, pos: 0, depth: 0 };
    p.skip_ws();
    if p.pos == text.len() {
        return Err(SpecError::new(SpecErrorKind::Empty, Span::new(0, 0)));
    }
    let node = p.value()?;
    p.skip_ws();
    if p.pos < text.len() {
        let span = p.token_span();
        return Err(SpecError::new(
            SpecErrorKind::Unexpected { found: p.describe(span), expected: "the end of the spec" },
            span,
        ));
    }
    Ok(node)
}

struct Parser<'t> {
    text: &'t str,
    pos: usize,
    /// Values being parsed (nesting level).
    depth: usize,
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek().filter(|c| c.is_whitespace()) {
            self.pos += c.len_utf8();
        }
    }

    /// Span of the token (roughly) starting at the current position, for messages.
    fn token_span(&self) -> Span {
        let rest = &self.text[self.pos..];
        let len = match rest.chars().next() {
            None => 0,
            Some(c) if is_name_char(c) => {
                rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len())
            }
            Some(c) => c.len_utf8(),
        };
        Span::new(self.pos, self.pos + len)
    }

    fn describe(&self, span: Span) -> String {
        if span.start == span.end {
            "the end of the spec".to_string()
        } else {
            format!("`{}`", &self.text[span.start..span.end])
        }
    }

    fn unexpected(&self, expected: &'static str) -> SpecError {
        let span = self.token_span();
        let kind = match self.peek() {
            Some(ch) if !(ch.is_ascii_punctuation() || is_name_char(ch)) => {
                SpecErrorKind::UnexpectedChar { ch }
            }
            _ => SpecErrorKind::Unexpected { found: self.describe(span), expected },
        };
        SpecError::new(kind, span)
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// A value, at most [`MAX_DEPTH`] levels deep.
    fn value(&mut self) -> Result<Node, SpecError> {
        self.skip_ws();
        if self.depth >= MAX_DEPTH {
            return Err(SpecError::new(
                SpecErrorKind::TooDeep { max: MAX_DEPTH },
                self.token_span(),
            ));
        }
        self.depth += 1;
        let node = self.value_at_depth();
        self.depth -= 1;
        node
    }

    fn value_at_depth(&mut self) -> Result<Node, SpecError> {
        let start = self.pos;
        match self.peek() {
            Some('[') => self.list(),
            Some('{') => self.dict(),
            Some('\'' | '"') => self.string(),
            Some(c) if c.is_ascii_digit() || c == '.' || c == '-' || c == '+' => self.number(),
            Some(c) if is_name_start(c) => {
                let name = self.name();
                let name_span = Span::new(start, self.pos);
                let expr = match name.as_str() {
                    "True" => Expr::Bool(true),
                    "False" => Expr::Bool(false),
                    "None" => Expr::None,
                    "lambda" => return self.lambda(start),
                    _ => {
                        self.skip_ws();
                        if self.peek() == Some('(') {
                            self.pos += 1;
                            return self.call(name, name_span);
                        }
                        Expr::Name(name)
                    }
                };
                Ok(Node { expr, span: name_span })
            }
            _ => Err(self.unexpected(
                "a value (number, string, list, dict, True, False, None or Scheduler(...))",
            )),
        }
    }

    /// `lambda VAR: BODY`, the body running to the next `,`, `)` or `]` outside brackets.
    fn lambda(&mut self, start: usize) -> Result<Node, SpecError> {
        self.skip_ws();
        if !self.peek().is_some_and(is_name_start) {
            return Err(self.unexpected("the lambda's parameter name"));
        }
        let var = self.name();
        if !self.eat(':') {
            return Err(self.unexpected("`:`"));
        }
        self.skip_ws();
        let body_start = self.pos;
        let mut depth = 0usize;
        for (i, c) in self.text[body_start..].char_indices() {
            match c {
                '(' | '[' => depth += 1,
                ')' | ']' | ',' if depth == 0 => {
                    self.pos = body_start + i;
                    break;
                }
                ')' | ']' => depth -= 1,
                _ => {}
            }
            self.pos = body_start + i + c.len_utf8();
        }
        let body = self.text[body_start..self.pos].trim_end().to_string();
        let body_span = Span::new(body_start, body_start + body.len());
        if body.is_empty() {
            return Err(self.unexpected("the lambda's body"));
        }
        Ok(Node {
            expr: Expr::Lambda { var, body, body_span },
            span: Span::new(start, body_span.end),
        })
    }

    fn name(&mut self) -> String {
        let rest = &self.text[self.pos..];
        let len = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
        self.pos += len;
        rest[..len].to_string()
    }

    fn list(&mut self) -> Result<Node, SpecError> {
        let start = self.pos;
        self.pos += 1; // '['
        let mut items = Vec::new();
        loop {
            if self.eat(']') {
                break;
            }
            items.push(self.value()?);
            if self.eat(',') {
                continue;
            }
            if self.eat(']') {
                break;
            }
            return Err(self.unexpected("`,` or `]`"));
        }
        Ok(Node { expr: Expr::List(items), span: Span::new(start, self.pos) })
    }

    fn dict(&mut self) -> Result<Node, SpecError> {
        let start = self.pos;
        self.pos += 1; // '{'
        let mut items = Vec::new();
        loop {
            if self.eat('}') {
                break;
            }
            let key = self.value()?;
            if !self.eat(':') {
                return Err(self.unexpected("`:`"));
            }
            items.push((key, self.value()?));
            if self.eat(',') {
                continue;
            }
            if self.eat('}') {
                break;
            }
            return Err(self.unexpected("`,` or `}`"));
        }
        Ok(Node { expr: Expr::Dict(items), span: Span::new(start, self.pos) })
    }

    fn call(&mut self, name: String, name_span: Span) -> Result<Node, SpecError> {
        let mut args = Vec::new();
        let close = loop {
            self.skip_ws();
            let here = self.pos;
            if self.eat(')') {
                break Span::new(here, here + 1);
            }
            args.push(self.arg()?);
            if self.eat(',') {
                continue;
            }
            self.skip_ws();
            let here = self.pos;
            if self.eat(')') {
                break Span::new(here, here + 1);
            }
            return Err(self.unexpected("`,` or `)`"));
        };
        let span = name_span.to(close);
        Ok(Node { expr: Expr::Call(Call { name, name_span, args, close }), span })
    }

    fn arg(&mut self) -> Result<Arg, SpecError> {
        self.skip_ws();
        let start = self.pos;
        if self.peek().is_some_and(is_name_start) {
            let name = self.name();
            let name_span = Span::new(start, self.pos);
            self.skip_ws();
            // `key=value`, but not `key==...`.
            if self.peek() == Some('=') && !self.text[self.pos..].starts_with("==") {
                self.pos += 1;
                let value = self.value()?;
                return Ok(Arg { name: Some((name, name_span)), value });
            }
            self.pos = start;
        }
        Ok(Arg { name: None, value: self.value()? })
    }

    fn string(&mut self) -> Result<Node, SpecError> {
        let start = self.pos;
        let quote = self.peek().unwrap_or('\'');
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.text[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                c if c == quote => {
                    self.pos += i + 1;
                    return Ok(Node { expr: Expr::Str(out), span: Span::new(start, self.pos) });
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, e)) => out.push(e),
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err(SpecError::new(SpecErrorKind::UnterminatedString, Span::new(start, self.text.len())))
    }

    fn number(&mut self) -> Result<Node, SpecError> {
        let start = self.pos;
        let rest = &self.text[self.pos..];
        let bytes = rest.as_bytes();
        let mut i = 0;
        if matches!(bytes.first(), Some(b'-' | b'+')) {
            i += 1;
        }
        let mut is_float = false;
        let mut seen_exp = false;
        while i < bytes.len() {
            match bytes[i] {
                b'0'..=b'9' | b'_' => {}
                b'.' if !is_float && !seen_exp => is_float = true,
                b'e' | b'E' if !seen_exp => {
                    seen_exp = true;
                    is_float = true;
                    if matches!(bytes.get(i + 1), Some(b'-' | b'+')) {
                        i += 1;
                    }
                }
                _ => break,
            }
            i += 1;
        }
        // A number glued to letters (`3x`, `1e`) is malformed.
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.') {
            i += 1;
        }
        let text = &rest[..i];
        let span = Span::new(start, start + i);
        self.pos += i;
        let bad = || SpecError::new(SpecErrorKind::BadNumber { text: text.to_string() }, span);
        let digits_ok = {
            let unsigned = text.trim_start_matches(['-', '+']);
            // Python: underscores only between digits.
            !unsigned.is_empty()
                && !unsigned.starts_with('_')
                && !text.contains("__")
                && !text.contains("_.")
                && !text.contains("._")
                && !text.contains("_e")
                && !text.contains("_E")
                && !text.ends_with('_')
                && unsigned.bytes().any(|b| b.is_ascii_digit())
        };
        if !digits_ok {
            return Err(bad());
        }
        let clean: String = text.chars().filter(|&c| c != '_').collect();
        let expr = if is_float {
            let unsigned = clean.trim_start_matches(['-', '+']);
            // Rust accepts `inf`/`nan`; Python literals do not; both reject a lone exponent.
            if unsigned.starts_with(['e', 'E']) {
                return Err(bad());
            }
            Expr::Float(clean.parse::<f64>().map_err(|_| bad())?)
        } else {
            let unsigned = clean.trim_start_matches(['-', '+']);
            if unsigned.len() > 1
                && unsigned.starts_with('0')
                && unsigned.bytes().any(|b| b != b'0')
            {
                // Python 3 rejects `010`.
                return Err(bad());
            }
            if !unsigned.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            Expr::Int(clean.parse::<i64>().map_err(|_| {
                SpecError::new(SpecErrorKind::IntOutOfRange { text: text.to_string() }, span)
            })?)
        };
        Ok(Node { expr, span })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is the assertion
    use super::*;

    fn call(n: &Node) -> &Call {
        match &n.expr {
            Expr::Call(c) => c,
            other => panic!("not a call: {other:?}"),
        }
    }

    fn err(text: &str) -> SpecError {
        parse(text).expect_err(text)
    }

    #[test]
    fn parses_keywords_and_spans() {
        let text = "StepLR(step_size=10, gamma=0.5)";
        let n = parse(text).unwrap();
        let c = call(&n);
        assert_eq!(c.name, "StepLR");
        assert_eq!(c.args.len(), 2);
        let (k, ks) = c.args[1].name.clone().unwrap();
        assert_eq!(k, "gamma");
        assert_eq!(&text[ks.start..ks.end], "gamma");
        assert_eq!(c.args[1].value.expr, Expr::Float(0.5));
        assert_eq!(&text[c.args[1].value.span.start..c.args[1].value.span.end], "0.5");
        assert_eq!(c.args[0].value.expr, Expr::Int(10));
        assert_eq!(n.span, Span::new(0, text.len()));
    }

    #[test]
    fn nested_lists_and_calls() {
        let text = "SequentialLR([LinearLR(start_factor=0.1, total_iters=5), CosineAnnealingLR(T_max=25)], milestones=[5],)";
        let n = parse(text).unwrap();
        let five = text.rfind('5').unwrap();
        let c = call(&n);
        let Expr::List(items) = &c.args[0].value.expr else { panic!("not a list") };
        assert_eq!(items.len(), 2);
        assert_eq!(call(&items[1]).name, "CosineAnnealingLR");
        assert_eq!(
            c.args[1].value.expr,
            Expr::List(vec![Node { expr: Expr::Int(5), span: Span::new(five, five + 1) }])
        );
        let n = parse("[[1, [2.5]], []]").unwrap();
        let Expr::List(outer) = n.expr else { panic!() };
        let Expr::List(inner) = &outer[0].expr else { panic!() };
        assert_eq!(inner[0].expr, Expr::Int(1));
        assert!(matches!(&inner[1].expr, Expr::List(v) if v[0].expr == Expr::Float(2.5)));
        assert_eq!(outer[1].expr, Expr::List(vec![]));
    }

    #[test]
    fn numbers() {
        let v = |t: &str| parse(t).unwrap().expr;
        assert_eq!(v("-3"), Expr::Int(-3));
        assert_eq!(v("+7"), Expr::Int(7));
        assert_eq!(v("1_000"), Expr::Int(1000));
        assert_eq!(v("-0.5"), Expr::Float(-0.5));
        assert_eq!(v("1e-3"), Expr::Float(1e-3));
        assert_eq!(v("2.5E+2"), Expr::Float(250.0));
        assert_eq!(v("-1e-10"), Expr::Float(-1e-10));
        assert_eq!(v(".5"), Expr::Float(0.5));
        assert_eq!(v("5."), Expr::Float(5.0));
        assert_eq!(v("0"), Expr::Int(0));
        assert_eq!(v("0.1"), Expr::Float(0.1));
        assert_eq!(v("9223372036854775807"), Expr::Int(i64::MAX));
        for bad in ["1e", "3x", "1..2", "--1", "010", "1__0", "1_", "-", "1.2.3", "1e5e"] {
            let e = parse(bad).expect_err(bad);
            assert!(
                matches!(
                    e.kind,
                    SpecErrorKind::BadNumber { .. } | SpecErrorKind::Unexpected { .. }
                ),
                "{bad}: {e:?}"
            );
        }
        let e = err("StepLR(step_size=99999999999999999999)");
        assert!(matches!(e.kind, SpecErrorKind::IntOutOfRange { .. }));
        assert_eq!(e.span, Span::new(17, 37));
    }

    #[test]
    fn strings_booleans_none_names() {
        let n = parse(r#"F(mode='exp_range', s="a\"b", t=True, f=False, n=None, o=optimizer)"#)
            .unwrap();
        let c = call(&n);
        let vals: Vec<_> = c.args.iter().map(|a| a.value.expr.clone()).collect();
        assert_eq!(
            vals,
            vec![
                Expr::Str("exp_range".into()),
                Expr::Str("a\"b".into()),
                Expr::Bool(true),
                Expr::Bool(false),
                Expr::None,
                Expr::Name("optimizer".into()),
            ]
        );
        let n = parse("torch.optim.lr_scheduler.StepLR(opt, 3)").unwrap();
        assert_eq!(call(&n).short_name(), "StepLR");
        assert!(call(&n).args.iter().all(|a| a.name.is_none()));
    }

    #[test]
    fn python_lambdas() {
        let text = "LambdaLR(lr_lambda=lambda epoch: 0.95 ** epoch, last_epoch=-1)";
        let n = parse(text).unwrap();
        let c = call(&n);
        let Expr::Lambda { var, body, body_span } = &c.args[0].value.expr else { panic!() };
        assert_eq!((var.as_str(), body.as_str()), ("epoch", "0.95 ** epoch"));
        assert_eq!(&text[body_span.start..body_span.end], "0.95 ** epoch");
        assert_eq!(c.args[1].value.expr, Expr::Int(-1));
        let n = parse("F([lambda e: min(1.0, (e + 1) / 5), lambda e: e // 2])").unwrap();
        let Expr::List(items) = &call(&n).args[0].value.expr else { panic!() };
        assert!(
            matches!(&items[0].expr, Expr::Lambda { body, .. } if body == "min(1.0, (e + 1) / 5)")
        );
        assert!(matches!(&items[1].expr, Expr::Lambda { body, .. } if body == "e // 2"));
        assert_eq!(err("F(f=lambda: 1)").span.start, 10);
        assert_eq!(err("F(f=lambda e 1)").span.start, 13);
    }

    #[test]
    fn errors_point_at_the_offending_column() {
        let e = err("StepLR(step_size=10 gamma=0.1)");
        assert_eq!(e.span.start, 20);
        assert!(e.to_string().contains("`gamma`"), "{e}");
        let e = err("StepLR(step_size=10,");
        assert_eq!(e.span.start, 20);
        assert!(e.to_string().contains("end of the spec"), "{e}");
        let e = err("StepLR(step_size=)");
        assert_eq!(e.span.start, 17);
        let e = err("StepLR(mode='cos)");
        assert_eq!((e.kind.clone(), e.span.start), (SpecErrorKind::UnterminatedString, 12));
        let e = err("StepLR(step_size=10))");
        assert_eq!(e.span.start, 20);
        let e = err("StepLR(step_size=10, gamma=0.1 # x)");
        assert_eq!(e.span.start, 31);
        let e = err("StepLR(step_size=§)");
        assert_eq!(e.kind, SpecErrorKind::UnexpectedChar { ch: '§' });
        assert_eq!(e.span.start, 17);
        let e = err("[1, 2");
        assert_eq!(e.span.start, 5);
        assert_eq!(err("   ").kind, SpecErrorKind::Empty);
    }

    #[test]
    fn caret_rendering() {
        let text = "StepLR(step_size=10 gamma=0.1)";
        let e = err(text);
        let r = e.render(text);
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(lines[1], format!("    {text}"));
        assert_eq!(lines[2].find('^'), Some(4 + 20));
        assert_eq!(lines[2].trim_start(), "^~~~~");
    }
}

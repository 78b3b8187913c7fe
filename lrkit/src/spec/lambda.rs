//! Learning-rate functions for `LambdaLR(lr_lambda=...)` and `MultiplicativeLR`: a Python
//! `lambda VAR: BODY`, compiled by sched-core ([`LrLambda::python`]: Python's expression
//! grammar and arithmetic, bit for bit), or a call of a built-in form (the descriptor kinds
//! of the golden vectors):
//!
//! | written | PyTorch equivalent | sched-core |
//! |---|---|---|
//! | `constant(0.9)` | `lambda epoch: 0.9` | `LrLambda::Constant` |
//! | `pow(0.95)` | `lambda epoch: 0.95 ** epoch` | `LrLambda::Pow` |
//! | `floordiv(3)` | `lambda epoch: epoch // 3` | `LrLambda::FloorDiv` |
//! | `warmup(5)` | `lambda epoch: min(1.0, (epoch + 1) / 5)` | `LrLambda::LinearWarmup` |
//! | `step_pow(0.5, 10)` | `lambda epoch: 0.5 ** (epoch // 10)` | `LrLambda::StepPow` |

use sched_core::LrLambda;

use super::error::{SpecError, SpecErrorKind};
use super::syntax::{Call, Expr, Node, Span};

/// The functions and their signatures, for messages and `--help`.
pub(crate) const SIGNATURES: &str =
    "constant(value), pow(base), floordiv(divisor), warmup(iters), step_pow(gamma, every)";

/// Parameter names of each function, in positional order.
fn params(name: &str) -> Option<(&'static [&'static str], &'static str)> {
    Some(match name {
        "constant" => (&["value"], "constant(value: float)"),
        "pow" => (&["base"], "pow(base: float)"),
        "floordiv" => (&["divisor"], "floordiv(divisor: int)"),
        "warmup" | "linear_warmup" => (&["warmup"], "warmup(iters: int)"),
        "step_pow" => (&["gamma", "every"], "step_pow(gamma: float, every: int)"),
        _ => return None,
    })
}

/// Whether `name` is a learning-rate function.
pub(crate) fn is_function(name: &str) -> bool {
    params(name).is_some()
}

/// The [`LrLambda`] of `lambda VAR: BODY`, `body` being the text at `body_span` of the spec:
/// a refused body is an error whose span is the part of the body sched-core names.
pub(crate) fn from_python(var: &str, body: &str, body_span: Span) -> Result<LrLambda, SpecError> {
    LrLambda::python(var, body).map_err(|e| {
        let (start, end) = (e.start.min(body.len()), e.end.clamp(e.start, body.len()));
        let text = body.get(start..end).unwrap_or("").to_string();
        SpecError::new(
            SpecErrorKind::LambdaSyntax { kind: e.kind, text },
            Span::new(body_span.start + start, body_span.start + end),
        )
    })
}

/// The error for a call of `name`, which is not a learning-rate function.
pub(crate) fn unknown_function(name: &str, span: Span) -> SpecError {
    SpecError::new(
        SpecErrorKind::UnknownFunction { name: name.to_string(), expected: SIGNATURES },
        span,
    )
}

/// The [`LrLambda`] a call such as `pow(0.95)` stands for.
pub(crate) fn lambda(call: &Call) -> Result<LrLambda, SpecError> {
    let name = call.short_name();
    let Some((names, signature)) = params(name) else {
        return Err(unknown_function(name, call.name_span));
    };
    let bad = |span| {
        SpecError::new(SpecErrorKind::BadFunctionArgs { name: name.to_string(), signature }, span)
    };
    let mut slots: Vec<Option<&Node>> = vec![None; names.len()];
    for (i, arg) in call.args.iter().enumerate() {
        let slot = match &arg.name {
            // `iters` is accepted as the keyword of `warmup` too.
            Some((k, _)) => names.iter().position(|n| n == k || (*n == "warmup" && k == "iters")),
            None => Some(i).filter(|&i| i < names.len()),
        };
        match slot {
            Some(s) if slots[s].is_none() => slots[s] = Some(&arg.value),
            _ => return Err(bad(arg.key_span())),
        }
    }
    let mut got = Vec::with_capacity(names.len());
    for slot in slots {
        got.push(slot.ok_or_else(|| bad(call.close))?);
    }
    let float = |n: &Node| match n.expr {
        Expr::Float(x) => Ok(x),
        #[allow(clippy::cast_precision_loss)] // Python's int -> float, exact for |i| < 2^53
        Expr::Int(i) => Ok(i as f64),
        _ => Err(bad(n.span)),
    };
    let int = |n: &Node| match n.expr {
        Expr::Int(i) => Ok(i),
        _ => Err(bad(n.span)),
    };
    Ok(match name {
        "constant" => LrLambda::Constant(float(got[0])?),
        "pow" => LrLambda::Pow(float(got[0])?),
        "floordiv" => LrLambda::FloorDiv(int(got[0])?),
        "step_pow" => LrLambda::StepPow { gamma: float(got[0])?, every: int(got[1])? },
        _ => LrLambda::LinearWarmup(int(got[0])?),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is the assertion
    use super::*;
    use crate::spec::parse::parse;

    fn lam(text: &str) -> Result<LrLambda, SpecError> {
        match parse(text).unwrap().expr {
            Expr::Call(c) => lambda(&c),
            _ => panic!("not a call"),
        }
    }

    #[test]
    fn every_function() {
        assert!(matches!(lam("constant(0.9)").unwrap(), LrLambda::Constant(v) if v == 0.9));
        assert!(matches!(lam("pow(base=0.95)").unwrap(), LrLambda::Pow(v) if v == 0.95));
        assert!(matches!(lam("floordiv(3)").unwrap(), LrLambda::FloorDiv(3)));
        assert!(matches!(lam("warmup(5)").unwrap(), LrLambda::LinearWarmup(5)));
        assert!(matches!(lam("warmup(iters=5)").unwrap(), LrLambda::LinearWarmup(5)));
        assert!(matches!(
            lam("step_pow(0.5, every=10)").unwrap(),
            LrLambda::StepPow { gamma, every: 10 } if gamma == 0.5
        ));
        assert!(matches!(lam("pow(1)").unwrap(), LrLambda::Pow(v) if v == 1.0));
    }

    #[test]
    fn python_lambdas_evaluate_as_python() {
        let py = |body: &str| from_python("epoch", body, Span::new(10, 10 + body.len()));
        let at = |body: &str, e: i64| py(body).unwrap().eval(e);
        // `**` binds tighter than unary minus: -(2 ** e).
        assert_eq!([0, 1, 2].map(|e| at("-2 ** epoch", e)), [-1.0, -2.0, -4.0]);
        assert_eq!([0, 1, 2].map(|e| at("(-2) ** epoch", e)), [1.0, -2.0, 4.0]);
        assert_eq!(at("0.95 ** epoch", 7), 0.95f64.powf(7.0));
        assert_eq!(at("min(1.0, (epoch + 1) / 5)", 1), 0.4);
        assert_eq!(at("0.5 ** (epoch // 10) if epoch >= 3 else 0.1", 25), 0.25);
        assert_eq!(at("epoch % 3 - 1", 5), 1.0);
        assert_eq!(at("math.cos(math.pi * epoch / 4)", 4), -1.0);
    }

    #[test]
    fn refused_bodies_point_into_the_body() {
        let py = |body: &str| from_python("epoch", body, Span::new(10, 10 + body.len()));
        // (body, offending text)
        for (body, text) in [
            ("epochs // 3", "epochs"),
            ("math.foo(epoch)", "foo"),
            ("epoch +* 2", "*"),
            ("1 + 'a'", "'"),
        ] {
            let e = py(body).unwrap_err();
            let SpecErrorKind::LambdaSyntax { text: got, .. } = &e.kind else {
                panic!("{body}: {e:?}")
            };
            assert_eq!(got, text, "{body}");
            let start = body.find(text).unwrap();
            assert_eq!((e.span.start, e.span.end), (10 + start, 10 + start + text.len()), "{body}");
        }
        let e = py("epoch +").unwrap_err();
        assert_eq!((e.span.start, e.span.end), (17, 17));
        assert!(e.to_string().starts_with("lambda body: "), "{e}");
    }

    #[test]
    fn wrong_arguments_point_at_them() {
        let e = lam("warmup(2.5)").unwrap_err();
        assert_eq!(e.span.start, 7);
        let e = lam("pow()").unwrap_err();
        assert_eq!(e.span.start, 4);
        let e = lam("pow(0.9, 3)").unwrap_err();
        assert_eq!(e.span.start, 9);
        let e = lam("pow(base=0.9, exp=3)").unwrap_err();
        assert_eq!(e.span.start, 14);
        let e = lam("sqrt(2)").unwrap_err();
        assert!(matches!(e.kind, SpecErrorKind::UnknownFunction { .. }));
    }
}

//! Learning-rate functions for `LambdaLR(lr_lambda=...)` and `MultiplicativeLR`, written as
//! calls, mapped to sched-core's built-in [`LrLambda`] kinds (the descriptor kinds of the
//! golden vectors):
//!
//! | written | PyTorch equivalent | sched-core |
//! |---|---|---|
//! | `constant(0.9)` | `lambda epoch: 0.9` | `LrLambda::Constant` |
//! | `pow(0.95)` | `lambda epoch: 0.95 ** epoch` | `LrLambda::Pow` |
//! | `floordiv(3)` | `lambda epoch: epoch // 3` | `LrLambda::FloorDiv` |
//! | `warmup(5)` | `lambda epoch: min(1.0, (epoch + 1) / 5)` | `LrLambda::LinearWarmup` |
//! | `step_pow(0.5, 10)` | `lambda epoch: 0.5 ** (epoch // 10)` | `LrLambda::StepPow` |
//!
//! The Python lambdas of the middle column are accepted as written too (any parameter
//! name, any spacing); other bodies are errors, since they cannot be evaluated exactly.

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

/// The Python lambda bodies that have a built-in equivalent.
pub(crate) const PYTHON_FORMS: &str = "C, B ** e, e // D, min(1.0, (e + 1) / W), G ** (e // N)";

/// The [`LrLambda`] of `lambda VAR: BODY`, for the forms of [`PYTHON_FORMS`].
pub(crate) fn from_python(var: &str, body: &str, body_span: Span) -> Result<LrLambda, SpecError> {
    let bad = || {
        SpecError::new(
            SpecErrorKind::UnsupportedLambda { forms: PYTHON_FORMS, functions: SIGNATURES },
            body_span,
        )
    };
    // Normalise: no spaces, the parameter renamed `e` (whole words only).
    let mut norm = String::new();
    let mut word = String::new();
    for c in body.chars().chain([' ']) {
        if c.is_ascii_alphanumeric() || c == '_' || (c == '.' && !word.is_empty()) {
            word.push(c);
            continue;
        }
        norm.push_str(if word == var { "e" } else { &word });
        word.clear();
        if !c.is_whitespace() {
            norm.push(c);
        }
    }
    let float = |s: &str| {
        s.parse::<f64>().ok().filter(|x| {
            x.is_finite() && s.bytes().all(|b| b.is_ascii_digit() || b".eE+-_".contains(&b))
        })
    };
    let int = |s: &str| s.parse::<i64>().ok();
    // The base of `B ** x`: Python's `**` binds tighter than a unary minus on its left, so
    // `-2 ** e` is `-(2 ** e)` (no built-in computes that); `(-2) ** e` is a negative base.
    let base = |s: &str| {
        if let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            float(inner).ok_or_else(bad)
        } else if s.starts_with('-') {
            Err(SpecError::new(SpecErrorKind::NegatedPower, body_span))
        } else {
            float(s).ok_or_else(bad)
        }
    };
    let l = if let Some(b) = norm.strip_suffix("**e") {
        LrLambda::Pow(base(b)?)
    } else if let Some(d) = norm.strip_prefix("e//") {
        LrLambda::FloorDiv(int(d).ok_or_else(bad)?)
    } else if let Some(w) =
        norm.strip_prefix("min(1.0,(e+1)/").or_else(|| norm.strip_prefix("min(1,(e+1)/"))
    {
        LrLambda::LinearWarmup(w.strip_suffix(')').and_then(int).ok_or_else(bad)?)
    } else if let Some((g, n)) = norm.strip_suffix(')').and_then(|r| r.split_once("**(e//")) {
        LrLambda::StepPow { gamma: base(g)?, every: int(n).ok_or_else(bad)? }
    } else {
        LrLambda::Constant(float(&norm).ok_or_else(bad)?)
    };
    Ok(l)
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
    fn python_lambda_forms() {
        let py = |body: &str| from_python("epoch", body, Span::new(0, body.len()));
        assert!(matches!(py("0.95 ** epoch").unwrap(), LrLambda::Pow(v) if v == 0.95));
        assert!(matches!(py("epoch // 3").unwrap(), LrLambda::FloorDiv(3)));
        assert!(matches!(py("min(1.0, (epoch + 1) / 5)").unwrap(), LrLambda::LinearWarmup(5)));
        assert!(matches!(py("min(1, (epoch+1)/8)").unwrap(), LrLambda::LinearWarmup(8)));
        assert!(
            matches!(py("0.5 ** (epoch // 10)").unwrap(), LrLambda::StepPow { gamma, every: 10 } if gamma == 0.5)
        );
        assert!(matches!(py("1e-1").unwrap(), LrLambda::Constant(v) if v == 0.1));
        assert!(matches!(py("-0.9").unwrap(), LrLambda::Constant(v) if v == -0.9));
        // Python: `**` binds tighter than unary minus; parentheses make a negative base.
        assert!(matches!(py("(-2) ** epoch").unwrap(), LrLambda::Pow(v) if v == -2.0));
        assert!(
            matches!(py("(-0.5) ** (epoch // 1)").unwrap(), LrLambda::StepPow { gamma, every: 1 } if gamma == -0.5)
        );
        for negated in ["-2 ** epoch", "-1 ** epoch", "-0.5 ** (epoch // 1)"] {
            let e = py(negated).unwrap_err();
            assert_eq!(e.kind, SpecErrorKind::NegatedPower, "{negated}");
        }
        // `epochs` is another name, not the parameter.
        for bad in [
            "epochs // 3",
            "math.cos(epoch)",
            "0.9 ** epoch ** 2",
            "epoch // 2.5",
            "inf",
            "2 * epoch",
        ] {
            let e = py(bad).unwrap_err();
            assert!(matches!(e.kind, SpecErrorKind::UnsupportedLambda { .. }), "{bad}");
        }
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

//! Errors of reading and building a spec, each with the span it is about, and their
//! rendering with a caret under the offending part.

use core::fmt;

use sched_core::SchedError;
use sched_core::python::SyntaxErrorKind;

use super::syntax::Span;

/// What is wrong with a spec.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub(crate) enum SpecErrorKind {
    /// The spec is empty.
    Empty,
    /// A character that starts no token.
    UnexpectedChar {
        /// The character.
        ch: char,
    },
    /// A token other than the grammar allows here.
    Unexpected {
        /// What was found, in words.
        found: String,
        /// What was expected, in words.
        expected: &'static str,
    },
    /// A string literal without its closing quote.
    UnterminatedString,
    /// A malformed number literal.
    BadNumber {
        /// The text.
        text: String,
    },
    /// An integer literal outside `i64`.
    IntOutOfRange {
        /// The text.
        text: String,
    },
    /// A positional argument after a keyword argument (Python's rule).
    PositionalAfterKeyword,
    /// The same keyword twice.
    RepeatedKeyword {
        /// The keyword.
        name: String,
    },
    /// More positional arguments than the callee takes.
    TooManyPositional {
        /// The callee.
        callee: String,
        /// How many it takes.
        max: usize,
    },
    /// A name that is not a scheduler.
    UnknownScheduler {
        /// The name.
        name: String,
        /// The scheduler probably meant (case-insensitive edit distance at most 2, or the
        /// same name in another library).
        suggestion: Option<String>,
    },
    /// A scheduler's name without its call: `StepLR` for `StepLR(step_size=...)`.
    MissingCall {
        /// The scheduler.
        name: String,
        /// Its parameters, comma-separated.
        parameters: &'static str,
    },
    /// A name that is not a learning-rate function.
    UnknownFunction {
        /// The name.
        name: String,
        /// The learning-rate functions and their signatures.
        expected: &'static str,
    },
    /// A bare name where a value is needed.
    UnknownName {
        /// The name.
        name: String,
    },
    /// A learning-rate function called with wrong arguments.
    BadFunctionArgs {
        /// The function.
        name: String,
        /// Its signature.
        signature: &'static str,
    },
    /// CyclicLR's `scale_fn` given as something other than None.
    CustomScaleFn,
    /// A Python lambda body that sched-core's evaluator refuses (the span is the part of the
    /// body the error names).
    LambdaSyntax {
        /// Why, from [`sched_core::python::LambdaProgram::compile`].
        kind: SyntaxErrorKind,
        /// The offending text (empty at the end of the body).
        text: String,
    },
    /// A composite's `schedulers` is missing or not a list of schedulers.
    BadSchedulers {
        /// The composite.
        callee: String,
    },
    /// A keyword that is not a parameter of the scheduler.
    UnknownParameter {
        /// The scheduler.
        scheduler: String,
        /// The keyword.
        name: String,
        /// Its parameters, comma-separated.
        accepted: &'static str,
        /// The parameter that is probably meant.
        suggestion: Option<&'static str>,
    },
    /// Lists, calls and lambdas nested deeper than the parser follows.
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// A step of the built schedule failed.
    StepFailed {
        /// The 1-based epoch after which the step was taken.
        epoch: usize,
        /// Why.
        error: super::schedule::StepError,
    },
    /// sched-core rejected the arguments.
    Invalid {
        /// The scheduler.
        scheduler: String,
        /// The typed error.
        error: SchedError,
    },
}

/// A spec error and where it is.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SpecError {
    /// What is wrong.
    pub kind: SpecErrorKind,
    /// Where (bytes of the spec text).
    pub span: Span,
}

impl SpecError {
    /// An error of `kind` at `span`.
    pub(crate) fn new(kind: SpecErrorKind, span: Span) -> Self {
        Self { kind, span }
    }

    /// The typed sched-core error, if that is what this is.
    #[cfg(test)]
    pub(crate) fn sched_error(&self) -> Option<SchedError> {
        match self.kind {
            SpecErrorKind::Invalid { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The message, then the spec indented by four spaces with a caret line under it:
    ///
    /// ```text
    /// `step_size` must be positive, got 0 (in StepLR)
    ///     StepLR(step_size=0)
    ///                      ^
    /// ```
    pub(crate) fn render(&self, spec: &str) -> String {
        /// Characters of context shown on each side of a long line's caret.
        const CONTEXT: usize = 60;
        let line_start = spec[..self.span.start.min(spec.len())].rfind('\n').map_or(0, |i| i + 1);
        let line_end = spec[line_start..].find('\n').map_or(spec.len(), |i| line_start + i);
        let line: Vec<char> = spec[line_start..line_end].chars().collect();
        let col = spec[line_start..self.span.start.min(line_end)].chars().count();
        let width = spec
            [self.span.start.min(line_end)..self.span.end.clamp(self.span.start, line_end)]
            .chars()
            .count()
            .max(1);
        // A long line (hostile input, a generated spec) shows a window around the caret.
        let (from, to) = if line.len() > 2 * CONTEXT + 20 {
            let from = col.saturating_sub(CONTEXT);
            (from, (col + width.min(CONTEXT) + CONTEXT).min(line.len()))
        } else {
            (0, line.len())
        };
        // Control characters are shown escaped (`\x1b`), and the caret moves with them.
        let shown: Vec<std::borrow::Cow<'static, str>> =
            line[from..to].iter().map(|&c| crate::output::escape_char(c)).collect();
        let columns = |chars: &[std::borrow::Cow<'static, str>]| {
            chars.iter().map(|c| c.chars().count()).sum::<usize>()
        };
        let (pre, post) =
            (if from > 0 { "..." } else { "" }, if to < line.len() { "..." } else { "" });
        let caret_at = (col - from).min(shown.len());
        let width = width.min(to.saturating_sub(col)).max(1);
        let under = columns(&shown[caret_at..(caret_at + width).min(shown.len())]).max(1);
        format!(
            "{self}\n    {pre}{}{post}\n    {}^{}",
            shown.concat(),
            " ".repeat(columns(&shown[..caret_at]) + pre.len()),
            "~".repeat(under - 1)
        )
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use SpecErrorKind as K;
        match &self.kind {
            K::Empty => write!(f, "the spec is empty: write e.g. \"StepLR(step_size=10)\""),
            K::UnexpectedChar { ch } => write!(f, "unexpected character {ch:?}"),
            K::Unexpected { found, expected } => write!(f, "expected {expected}, found {found}"),
            K::UnterminatedString => write!(f, "string literal without closing quote"),
            K::BadNumber { text } => write!(f, "malformed number `{text}`"),
            K::IntOutOfRange { text } => write!(f, "integer `{text}` is out of range"),
            K::PositionalAfterKeyword => write!(f, "positional argument follows keyword argument"),
            K::RepeatedKeyword { name } => write!(f, "keyword argument repeated: `{name}`"),
            K::TooManyPositional { callee, max } => {
                write!(f, "{callee} takes at most {max} positional arguments")
            }
            K::UnknownScheduler { name, suggestion: Some(s) } => {
                write!(f, "unknown scheduler `{name}`: did you mean `{s}`? ({})", known_schedules())
            }
            K::UnknownScheduler { name, suggestion: None } => {
                write!(f, "unknown scheduler `{name}`: expected {}", known_schedules())
            }
            K::MissingCall { name, parameters } => write!(
                f,
                "`{name}` needs its arguments in parentheses: {name}({parameters}) (the optimizer may be left out)"
            ),
            K::UnknownFunction { name, expected } => {
                write!(f, "unknown learning-rate function `{name}`: expected one of {expected}")
            }
            K::UnknownName { name } => {
                write!(
                    f,
                    "unknown name `{name}`: expected a number, string, list, True, False or None"
                )
            }
            K::BadFunctionArgs { name, signature } => {
                write!(f, "wrong arguments for `{name}`: expected {signature}")
            }
            K::CustomScaleFn => write!(
                f,
                "a custom `scale_fn` cannot be written in a spec: use mode='triangular', 'triangular2' or 'exp_range' (with gamma)"
            ),
            K::LambdaSyntax { kind, text } if text.is_empty() => write!(f, "lambda body: {kind}"),
            K::LambdaSyntax { kind, text } => write!(f, "lambda body: {kind}: `{text}`"),
            K::BadSchedulers { callee } => write!(
                f,
                "{callee} needs a list of schedulers as its first argument, e.g. {callee}([StepLR(step_size=3), ExponentialLR(gamma=0.9)]{})",
                if callee == "SequentialLR" { ", milestones=[3]" } else { "" }
            ),
            K::UnknownParameter { scheduler, name, accepted, suggestion } => {
                write!(f, "`{name}` is not a parameter of {scheduler}")?;
                match suggestion {
                    Some(s) => write!(f, ": did you mean `{s}`? (its parameters: {accepted})"),
                    None => write!(f, " (its parameters: {accepted})"),
                }
            }
            K::Invalid { scheduler, error } => write!(f, "{error} (in {scheduler})"),
            K::TooDeep { max } => write!(f, "nested more than {max} levels deep"),
            K::StepFailed { epoch, error } => write!(f, "step after epoch {epoch}: {error}"),
        }
    }
}

impl core::error::Error for SpecError {}

/// Every schedule name by library, from sched-core's registry:
/// `torch: StepLR, ...; transformers: ...; timm: ...; optax: ...`.
fn known_schedules() -> String {
    use sched_core::registry::{KINDS, Library};
    let mut out = String::from("schedules of ");
    for (i, lib) in [Library::Torch, Library::Transformers, Library::Timm, Library::Optax]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            out.push_str("; ");
        }
        let names: Vec<&str> = KINDS.iter().filter(|k| k.library == lib).map(|k| k.name).collect();
        out.push_str(&format!("{}: {}", lib.prefix(), names.join(", ")));
    }
    out
}

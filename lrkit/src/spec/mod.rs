//! Schedule specs: PyTorch notation (`"CosineAnnealingLR(T_max=30, eta_min=0.001)"`) or a
//! JSON file in the golden vectors' `spec` format, parsed, built with
//! `sched_core::spec`, and errors rendered with a caret under the offending part.

pub(crate) mod build;
mod dict;
pub(crate) mod error;
#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod fuzz_peers;
pub(crate) mod json;
pub(crate) mod lambda;
pub(crate) mod parse;
pub(crate) mod schedule;
pub(crate) mod syntax;

use std::path::Path;

use sched_core::ParamGroup;

use crate::torch_release::TorchRelease;

pub(crate) use error::{SpecError, SpecErrorKind};
pub(crate) use schedule::Schedule;

/// A spec as given on the command line, and its text in PyTorch notation.
#[derive(Clone, Debug)]
pub(crate) struct SpecSource {
    /// The spec text that was parsed (the rendered JSON for a file).
    pub text: String,
    /// The file it was read from, if any.
    pub file: Option<String>,
    /// The PyTorch release whose behaviour it is built with (`--torch`).
    pub torch: TorchRelease,
}

impl SpecSource {
    /// `arg` is PyTorch notation, or the path of a JSON spec file (it names an existing
    /// file, or ends in `.json`), to be built as PyTorch `torch` builds it.
    pub(crate) fn from_arg(arg: &str, torch: TorchRelease) -> Result<Self, String> {
        let path = Path::new(arg);
        let looks_like_path = arg.ends_with(".json") || (!arg.contains('(') && path.is_file());
        if !looks_like_path {
            // A name with a file extension or a directory part, and no call: a path that is
            // not there (`spec.jsn`), not a schedule.
            let file_like = !arg.contains(['(', '[', ' '])
                && (arg.contains('/')
                    || path.extension().is_some_and(|e| {
                        e.len() <= 5
                            && e.to_str()
                                .is_some_and(|e| e.chars().all(|c| c.is_ascii_alphabetic()))
                    }));
            if file_like && !path.exists() {
                return Err(format!(
                    "no spec file {arg}: a SPEC is a schedule such as \"StepLR(step_size=10)\" or the path of a JSON spec file"
                ));
            }
            return Ok(Self { text: arg.to_string(), file: None, torch });
        }
        let doc = std::fs::read_to_string(arg)
            .map_err(|e| format!("cannot read spec file {arg}: {e}"))?;
        let text = json::render(&doc).map_err(|e| format!("spec file {arg}: {e}"))?;
        Ok(Self { text, file: Some(arg.to_string()), torch })
    }

    /// Parses and builds the schedule on `groups`.
    pub(crate) fn build(&self, groups: &mut [ParamGroup]) -> Result<Schedule, SpecError> {
        build::build_schedule(&parse::parse(&self.text)?, self.torch.sequential_init(), groups)
    }

    /// The message for a step that failed after 1-based `epoch`, with a caret under what
    /// caused it: the parameter the error names (`total_steps`, `step_plan`, the `lr_lambda`
    /// that raised), the ReduceLROnPlateau that needs `--metrics`, or else the scheduler.
    pub(crate) fn explain_step(&self, e: &schedule::StepError, epoch: usize) -> String {
        let tree = parse::parse(&self.text).ok();
        let find = |names: &[&str]| tree.as_ref().and_then(|t| syntax::find_keyword(t, names));
        let span = match e {
            schedule::StepError::Sched(sched_core::SchedError::TotalStepsExceeded { .. }) => {
                find(&["total_steps", "epochs"])
            }
            schedule::StepError::Sched(
                sched_core::SchedError::Overflow { param, .. }
                | sched_core::SchedError::OutOfRange { param, .. }
                | sched_core::SchedError::NonFinite { param, .. }
                | sched_core::SchedError::PythonRaised { param, .. },
            ) => find(&[param]),
            schedule::StepError::Sched(sched_core::SchedError::LambdaRaised { .. }) => {
                find(&["lr_lambda"])
            }
            schedule::StepError::PlanTooShort { .. } => find(&["step_plan"]),
            schedule::StepError::MetricRequired | schedule::StepError::MetricsTooShort { .. } => {
                tree.as_ref().and_then(|t| syntax::find_call(t, "ReduceLROnPlateau"))
            }
            _ => None,
        };
        let span =
            span.or_else(|| tree.as_ref().map(|t| t.span)).unwrap_or(syntax::Span::new(0, 0));
        let error = SpecError::new(SpecErrorKind::StepFailed { epoch, error: e.clone() }, span);
        self.explain(&error)
    }

    /// The message for `e`: the error, the spec with a caret under the offending part, and
    /// where the spec came from when it was a file.
    pub(crate) fn explain(&self, e: &SpecError) -> String {
        let mut msg = e.render(&self.text);
        if let Some(f) = &self.file {
            msg.push_str(&format!("\n(spec read from {f}, shown in PyTorch notation)"));
        }
        msg
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Specs built from valid pieces, then cut and spliced: mostly malformed, sometimes valid.
    fn specish() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "StepLR(",
            "SequentialLR([",
            "Compound([",
            "LambdaLR(lr_lambda=",
            "lambda e: ",
            "0.95 ** e",
            "step_size=",
            "gamma=",
            "milestones=[",
            "T_max=",
            "mode=",
            "'exp_range'",
            "\"x\"",
            "1e-3",
            "-2",
            "10",
            "0.1",
            ".5",
            "True",
            "None",
            "pow(",
            "warmup(5)",
            ", ",
            ")",
            "]",
            "[",
            "=",
            "é",
            "§",
            " ",
            "optimizer, ",
            "step_plan=[[0]]",
            "\n",
            "'",
            "1_0",
            "99999999999999999999",
        ]);
        prop::collection::vec(pieces, 0..14).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn any_text_parses_or_errors_inside_it(text in "\\PC{0,40}") {
            check(&text);
        }

        #[test]
        fn spliced_specs_parse_or_error_inside_them(text in specish()) {
            check(&text);
        }
    }

    /// Building never panics, and an error's span lies on character boundaries of the text
    /// and renders with a caret.
    fn check(text: &str) {
        let source =
            SpecSource { text: text.to_string(), file: None, torch: TorchRelease::CURRENT };
        let mut groups = [ParamGroup::new(0.1), ParamGroup::new(0.2)];
        if let Err(e) = source.build(&mut groups) {
            assert!(e.span.start <= e.span.end && e.span.end <= text.len(), "{e:?} in {text:?}");
            assert!(
                text.is_char_boundary(e.span.start) && text.is_char_boundary(e.span.end),
                "{e:?}"
            );
            let shown = source.explain(&e);
            assert!(shown.contains('^'), "{shown}");
        }
    }
}

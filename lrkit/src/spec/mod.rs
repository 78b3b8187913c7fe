//! Schedule specs: PyTorch notation (`"CosineAnnealingLR(T_max=30, eta_min=0.001)"`) or a
//! JSON file in the golden vectors' `spec` format, parsed, built with
//! `sched_core::spec`, and errors rendered with a caret under the offending part.

pub mod build;
pub mod error;
pub mod json;
pub mod lambda;
pub mod parse;
pub mod schedule;
pub mod syntax;

use std::path::Path;

use sched_core::ParamGroup;

pub use error::SpecError;
pub use schedule::Schedule;

/// A spec as given on the command line, and its text in PyTorch notation.
#[derive(Clone, Debug)]
pub struct SpecSource {
    /// The spec text that was parsed (the rendered JSON for a file).
    pub text: String,
    /// The file it was read from, if any.
    pub file: Option<String>,
}

impl SpecSource {
    /// `arg` is PyTorch notation, or the path of a JSON spec file (it names an existing
    /// file, or ends in `.json`).
    pub fn from_arg(arg: &str) -> Result<Self, String> {
        let looks_like_path =
            arg.ends_with(".json") || (!arg.contains('(') && Path::new(arg).is_file());
        if !looks_like_path {
            return Ok(Self { text: arg.to_string(), file: None });
        }
        let doc = std::fs::read_to_string(arg)
            .map_err(|e| format!("cannot read spec file {arg}: {e}"))?;
        let text = json::render(&doc).map_err(|e| format!("spec file {arg}: {e}"))?;
        Ok(Self { text, file: Some(arg.to_string()) })
    }

    /// Parses and builds the schedule on `groups`.
    pub fn build(&self, groups: &mut [ParamGroup]) -> Result<Schedule, SpecError> {
        build::build_schedule(&parse::parse(&self.text)?, groups)
    }

    /// The message for `e`: the error, the spec with a caret under the offending part, and
    /// where the spec came from when it was a file.
    pub fn explain(&self, e: &SpecError) -> String {
        let mut msg = e.render(&self.text);
        if let Some(f) = &self.file {
            msg.push_str(&format!("\n(spec read from {f}, shown in PyTorch notation)"));
        }
        msg
    }
}

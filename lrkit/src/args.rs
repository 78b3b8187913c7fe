//! Hand-written command-line parsing: `--name value`, `--name=value`, flags, positionals.

use crate::error::CliError;

/// The arguments of one command, consumed option by option.
#[derive(Debug)]
pub struct Args {
    items: Vec<String>,
    /// Positionals and options not yet consumed, in order.
    used: Vec<bool>,
}

impl Args {
    /// Wraps the arguments after the command name. `--` ends option parsing.
    pub fn new(items: Vec<String>) -> Self {
        let used = vec![false; items.len()];
        Self { items, used }
    }

    fn find(&self, name: &str) -> Option<usize> {
        let end = self.items.iter().position(|a| a == "--").unwrap_or(self.items.len());
        (0..end).rev().find(|&i| {
            !self.used[i]
                && (self.items[i] == name
                    || self.items[i].strip_prefix(name).is_some_and(|r| r.starts_with('=')))
        })
    }

    /// Whether the flag `name` (e.g. `--json`) is present.
    pub fn flag(&mut self, name: &str) -> bool {
        let mut found = false;
        while let Some(i) = self.find(name) {
            self.used[i] = true;
            found = true;
        }
        found
    }

    /// The value of option `name` (the last one given wins), as a string.
    pub fn value(&mut self, name: &str) -> Result<Option<String>, CliError> {
        let mut out = None;
        while let Some(i) = self.find(name) {
            self.used[i] = true;
            let v = if let Some(v) =
                self.items[i].strip_prefix(name).and_then(|r| r.strip_prefix('='))
            {
                v.to_string()
            } else {
                match self.items.get(i + 1) {
                    Some(v) if !self.used[i + 1] && v != "--" => {
                        self.used[i + 1] = true;
                        v.clone()
                    }
                    _ => return Err(CliError::Usage(format!("{name} needs a value"))),
                }
            };
            out.get_or_insert(v);
        }
        Ok(out)
    }

    /// The value of option `name` parsed as `T`, or `default`.
    pub fn parsed<T: std::str::FromStr>(
        &mut self,
        name: &str,
        default: T,
        what: &str,
    ) -> Result<T, CliError> {
        match self.value(name)? {
            None => Ok(default),
            Some(v) => {
                v.parse().map_err(|_| CliError::Usage(format!("{name} expects {what}, got {v:?}")))
            }
        }
    }

    /// A comma-separated list of numbers for option `name`.
    pub fn list(&mut self, name: &str) -> Result<Option<Vec<f64>>, CliError> {
        let Some(v) = self.value(name)? else { return Ok(None) };
        v.split(',')
            .map(|x| {
                x.trim()
                    .parse::<f64>()
                    .map_err(|_| CliError::Usage(format!("{name}: {x:?} is not a number")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// The remaining arguments, which must all be positionals.
    pub fn positionals(self) -> Result<Vec<String>, CliError> {
        let mut out = Vec::new();
        let mut options_ended = false;
        for (a, used) in self.items.into_iter().zip(self.used) {
            if used {
                continue;
            }
            if !options_ended && a == "--" {
                options_ended = true;
                continue;
            }
            if !options_ended && a.starts_with("--") {
                return Err(CliError::Usage(format!("unknown option {a} (see --help)")));
            }
            out.push(a);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failure is the assertion
    use super::*;

    fn args(v: &[&str]) -> Args {
        Args::new(v.iter().map(|s| (*s).to_string()).collect())
    }

    #[test]
    fn options_flags_and_positionals() {
        let mut a = args(&["StepLR(step_size=3)", "--epochs", "5", "--json", "--lr=0.5,0.25", "X"]);
        assert!(a.flag("--json"));
        assert_eq!(a.parsed("--epochs", 30usize, "an integer").unwrap(), 5);
        assert_eq!(a.list("--lr").unwrap(), Some(vec![0.5, 0.25]));
        assert_eq!(a.positionals().unwrap(), vec!["StepLR(step_size=3)", "X"]);
        let mut a = args(&["--epochs"]);
        assert!(a.value("--epochs").is_err());
        let mut a = args(&["--epochs", "x"]);
        assert!(a.parsed("--epochs", 1usize, "an integer").is_err());
        assert!(args(&["--bogus"]).positionals().is_err());
        assert_eq!(
            args(&["--", "--not-an-option"]).positionals().unwrap(),
            vec!["--not-an-option"]
        );
    }
}

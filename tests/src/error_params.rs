//! Matching a library's exception message to sched-core's typed error by the parameter
//! both name, so that a message the tests have never seen still checks the right thing.

use sched_core::SchedError;
use sched_core::registry::find;

/// Whether `phrase` occurs in `text` as whole words (bounded by non-identifier chars).
fn has_words(text: &str, phrase: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(phrase).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + phrase.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// The parameters of schedule `kind` (any name `sched_core::registry::find` resolves) that
/// `message` names: as written (`T_max`) or in words (`warmup type` for `warmup_type`),
/// ignoring case.
pub fn named_parameters(kind: &str, message: &str) -> Vec<&'static str> {
    let Some(k) = find(kind) else { return Vec::new() };
    let text = message.to_lowercase();
    k.parameters
        .split(", ")
        .filter(|p| {
            let p = p.to_lowercase();
            has_words(&text, &p) || has_words(&text, &p.replace('_', " "))
        })
        .collect()
}

/// Whether `err` names one of `params` (a missing-parameter error may name several:
/// `"min_lr (or min_lr_rate)"`).
pub fn names_one_of(err: &SchedError, params: &[&str]) -> bool {
    err.param().is_some_and(|p| {
        p.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|w| params.contains(&w))
    })
}

#[cfg(test)]
mod tests {
    use super::named_parameters;

    #[test]
    fn finds_parameters_as_written_and_in_words() {
        let wsd = "transformers.get_wsd_schedule";
        assert_eq!(named_parameters(wsd, "Unknown warmup type: quadratic"), ["warmup_type"]);
        assert_eq!(
            named_parameters(
                wsd,
                "Either num_training_steps or num_stable_steps must be specified."
            ),
            ["num_training_steps", "num_stable_steps"]
        );
        assert_eq!(named_parameters("CosineAnnealingLR", "Expected T_max > 0"), ["T_max"]);
        assert_eq!(
            named_parameters(
                "OneCycleLR",
                "Tried to step 5 times. The specified number of total steps is 4"
            ),
            ["total_steps"]
        );
        // `factor` is not a LinearLR parameter (`start_factor` is), and words must be whole.
        assert!(named_parameters("LinearLR", "Starting multiplicative factor expected").is_empty());
        assert!(named_parameters("StepLR", "step_sizes").is_empty());
    }
}

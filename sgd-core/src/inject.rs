//! The one bridge from a learning-rate schedule to an optimizer.
//!
//! A sched-core scheduler writes `lr` (and, when it cycles it, `momentum`) into its
//! [`ParamGroup`]s, exactly as a `torch.optim.lr_scheduler` writes `optimizer.param_groups`;
//! the optimizer's step then reads them. Here the optimizer keeps its own [`SgdConfig`] per
//! group, so each training step injects what the scheduler wrote (optax's
//! `inject_hyperparams`; burn's "the scheduler returns an lr, the learner injects it"):
//!
//! ```text
//! for g in groups:  config[g] = SgdConfig { lr: groups[g].lr, momentum: groups[g].momentum or config[g].momentum, ..config[g] }
//! ```
//!
//! [`inject_hyperparams`] does it for any optimizer that implements [`ScheduledGroups`]
//! (sgd-cpu's `Sgd`, sgd-cuda's `CudaSgd`, sgd-candle's `CandleSgd`, a plain `[SgdConfig]`
//! slice for firmware), writing only the groups whose options change.

use core::fmt;

use sched_core::ParamGroup;

use crate::{ConfigError, SgdConfig};

impl SgdConfig {
    /// These options with what a scheduler wrote into `group`: its `lr`, and its `momentum`
    /// when it has one (`ParamGroup::momentum` is `None` for optimizers without momentum, and
    /// CyclicLR / OneCycleLR write it when they cycle momentum). Everything else is kept.
    #[must_use]
    pub const fn scheduled(self, group: &ParamGroup) -> Self {
        let momentum = match group.momentum {
            Some(m) => m,
            None => self.momentum,
        };
        Self { lr: group.lr, momentum, ..self }
    }

    /// Whether `self` and `other` are the same options bit for bit (`-0.0` differs from
    /// `0.0`: the sign of a zero lr reaches the update).
    pub const fn same_bits(&self, other: &Self) -> bool {
        self.lr.to_bits() == other.lr.to_bits()
            && self.momentum.to_bits() == other.momentum.to_bits()
            && self.dampening.to_bits() == other.dampening.to_bits()
            && self.weight_decay.to_bits() == other.weight_decay.to_bits()
            && self.nesterov == other.nesterov
            && self.maximize == other.maximize
    }
}

/// An optimizer whose per-group options a scheduler drives.
pub trait ScheduledGroups {
    /// The optimizer's error: a rejected option, or a scheduler over another number of groups.
    type Error: From<GroupCountMismatch>;

    /// Number of parameter groups.
    fn group_count(&self) -> usize;

    /// The options of group `group` (`group < group_count()`).
    fn group_options(&self, group: usize) -> SgdConfig;

    /// Replaces the options of group `group`, validating them as the optimizer does.
    ///
    /// # Errors
    /// The optimizer's error for a rejected option; nothing is written then.
    fn set_group_options(&mut self, group: usize, options: SgdConfig) -> Result<(), Self::Error>;
}

/// Writes what the scheduler put into `groups` into `optimizer`'s group options
/// ([`SgdConfig::scheduled`] per group), touching only the groups whose options change.
///
/// # Errors
/// [`GroupCountMismatch`] (before anything is written) when the scheduler's groups and the
/// optimizer's differ in number; otherwise the optimizer's error for a rejected option (a
/// scheduler never writes a negative or non-finite lr from valid arguments, but a caller can).
pub fn inject_hyperparams<O: ScheduledGroups + ?Sized>(
    groups: &[ParamGroup],
    optimizer: &mut O,
) -> Result<(), O::Error> {
    let optimizer_groups = optimizer.group_count();
    if groups.len() != optimizer_groups {
        return Err(
            GroupCountMismatch { scheduler: groups.len(), optimizer: optimizer_groups }.into()
        );
    }
    for (g, group) in groups.iter().enumerate() {
        let current = optimizer.group_options(g);
        let next = current.scheduled(group);
        if !next.same_bits(&current) {
            optimizer.set_group_options(g, next)?;
        }
    }
    Ok(())
}

/// A scheduler's parameter groups and the optimizer's differ in number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupCountMismatch {
    /// Groups the scheduler steps.
    pub scheduler: usize,
    /// Groups the optimizer has.
    pub optimizer: usize,
}

impl fmt::Display for GroupCountMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the scheduler steps {} parameter groups, the optimizer has {}",
            self.scheduler, self.optimizer
        )
    }
}

impl core::error::Error for GroupCountMismatch {}

/// Why [`inject_hyperparams`] into a plain `[SgdConfig]` failed.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum InjectError {
    /// The scheduler's groups and the options differ in number.
    GroupCount(GroupCountMismatch),
    /// A scheduled option breaks torch's rules ([`SgdConfig::validate_values`]).
    Config(ConfigError),
}

impl fmt::Display for InjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::GroupCount(e) => e.fmt(f),
            Self::Config(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for InjectError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::GroupCount(e) => Some(e),
            Self::Config(e) => Some(e),
        }
    }
}

impl From<GroupCountMismatch> for InjectError {
    fn from(e: GroupCountMismatch) -> Self {
        Self::GroupCount(e)
    }
}

impl From<ConfigError> for InjectError {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

/// The options of a caller-owned step (`sgd_cpu::step`, firmware): one [`SgdConfig`] per group.
impl ScheduledGroups for [SgdConfig] {
    type Error = InjectError;

    fn group_count(&self) -> usize {
        self.len()
    }

    fn group_options(&self, group: usize) -> SgdConfig {
        self[group]
    }

    fn set_group_options(&mut self, group: usize, options: SgdConfig) -> Result<(), InjectError> {
        options.validate_values(group)?;
        self[group] = options;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test.
    use std::string::ToString;

    use super::*;

    fn config(lr: f64, momentum: f64) -> SgdConfig {
        SgdConfig { lr, momentum, weight_decay: 1e-4, ..SgdConfig::default() }
    }

    #[test]
    fn scheduled_takes_lr_and_momentum_when_the_group_has_one() {
        let base = config(0.1, 0.9);
        let cycled = base.scheduled(&ParamGroup::new(0.05).with_momentum(0.85));
        assert_eq!(cycled, SgdConfig { lr: 0.05, momentum: 0.85, ..base });
        let no_momentum = ParamGroup { momentum: None, ..ParamGroup::new(0.2) };
        assert_eq!(base.scheduled(&no_momentum), SgdConfig { lr: 0.2, ..base });
    }

    #[test]
    fn injects_every_group_and_rejects_a_count_mismatch_before_writing() {
        let mut configs = [config(0.1, 0.9), config(0.1, 0.0)];
        let groups = [ParamGroup::new(0.01).with_momentum(0.8), ParamGroup::new(0.02)];
        inject_hyperparams(&groups, &mut configs[..]).unwrap();
        assert_eq!(configs, [config(0.01, 0.8), config(0.02, 0.0)]);

        let before = configs;
        let err = inject_hyperparams(&groups[..1], &mut configs[..]).unwrap_err();
        assert_eq!(err, InjectError::GroupCount(GroupCountMismatch { scheduler: 1, optimizer: 2 }));
        assert_eq!(err.to_string(), "the scheduler steps 1 parameter groups, the optimizer has 2");
        assert_eq!(configs, before);
    }

    #[test]
    fn a_rejected_lr_names_the_group_and_leaves_it_unchanged() {
        let mut configs = [config(0.1, 0.0), config(0.1, 0.0)];
        let groups = [ParamGroup::new(0.05), ParamGroup::new(-1.0)];
        let err = inject_hyperparams(&groups, &mut configs[..]).unwrap_err();
        assert_eq!(
            err,
            InjectError::Config(ConfigError::NegativeLearningRate { group: 1, lr: -1.0 })
        );
        assert_eq!(configs[1], config(0.1, 0.0));
    }

    #[test]
    fn a_sign_change_of_a_zero_lr_is_a_change() {
        let mut configs = [config(0.0, 0.0)];
        inject_hyperparams(&[ParamGroup::new(-0.0)], &mut configs[..]).unwrap();
        assert_eq!(configs[0].lr.to_bits(), (-0.0f64).to_bits());
    }
}

//! Why a parameter group's options were refused.

use core::fmt;

/// A parameter group option that breaks `torch.optim.SGD`'s rules (or is not finite), as
/// [`SgdConfig::validate`](crate::SgdConfig::validate) reports it. Every variant names the group
/// (counted from 0) and the bad value; the message starts with torch's `ValueError` text.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `lr < 0` (torch: `Invalid learning rate: {lr}`).
    NegativeLearningRate {
        /// Parameter group.
        group: usize,
        /// The value given.
        lr: f64,
    },
    /// `lr` is NaN or infinite (torch accepts it; it would destroy every parameter).
    NonFiniteLearningRate {
        /// Parameter group.
        group: usize,
        /// The value given.
        lr: f64,
    },
    /// `momentum < 0` or NaN or infinite (torch: `Invalid momentum value: {m}`).
    InvalidMomentum {
        /// Parameter group.
        group: usize,
        /// The value given.
        momentum: f64,
    },
    /// `weight_decay < 0` or NaN or infinite (torch: `Invalid weight_decay value: {wd}`).
    InvalidWeightDecay {
        /// Parameter group.
        group: usize,
        /// The value given.
        weight_decay: f64,
    },
    /// `dampening` is NaN or infinite (torch does not validate dampening at all).
    InvalidDampening {
        /// Parameter group.
        group: usize,
        /// The value given.
        dampening: f64,
    },
    /// `nesterov` with `momentum <= 0` or `dampening != 0` (torch: `Nesterov momentum requires
    /// a momentum and zero dampening`).
    NesterovRequiresMomentumAndZeroDampening {
        /// Parameter group.
        group: usize,
        /// The group's momentum.
        momentum: f64,
        /// The group's dampening.
        dampening: f64,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NegativeLearningRate { group, lr } => {
                write!(f, "Invalid learning rate: {lr} (group {group}; must be >= 0)")
            }
            Self::NonFiniteLearningRate { group, lr } => {
                write!(f, "Invalid learning rate: {lr} (group {group}; must be finite)")
            }
            Self::InvalidMomentum { group, momentum } => write!(
                f,
                "Invalid momentum value: {momentum} (group {group}; must be finite and >= 0)"
            ),
            Self::InvalidWeightDecay { group, weight_decay } => write!(
                f,
                "Invalid weight_decay value: {weight_decay} (group {group}; must be finite and >= 0)"
            ),
            Self::InvalidDampening { group, dampening } => {
                write!(f, "Invalid dampening value: {dampening} (group {group}; must be finite)")
            }
            Self::NesterovRequiresMomentumAndZeroDampening { group, momentum, dampening } => {
                write!(
                    f,
                    "Nesterov momentum requires a momentum and zero dampening \
                     (group {group}: momentum {momentum}, dampening {dampening})"
                )
            }
        }
    }
}

impl core::error::Error for ConfigError {}

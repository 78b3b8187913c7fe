//! The f64 scalars of one step of a float64 parameter group.

use crate::SgdConfig;

/// The scalars a float64 step uses: the options themselves, not rounded (torch's Python floats
/// passed as `alpha=` to float64 tensor ops): `neg_lr = -lr`, `one_minus_dampening = 1 - d`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepScalars64 {
    /// `-lr`.
    pub neg_lr: f64,
    /// `weight_decay`.
    pub weight_decay: f64,
    /// `momentum`.
    pub momentum: f64,
    /// `1.0 - dampening`.
    pub one_minus_dampening: f64,
    /// `weight_decay != 0.0`.
    pub has_weight_decay: bool,
    /// `momentum != 0.0`.
    pub has_momentum: bool,
    /// Nesterov momentum.
    pub nesterov: bool,
    /// Negate the gradient first.
    pub maximize: bool,
}

impl StepScalars64 {
    /// The scalars of a group's options.
    pub fn from_config(c: &SgdConfig) -> Self {
        Self {
            neg_lr: -c.lr,
            weight_decay: c.weight_decay,
            momentum: c.momentum,
            one_minus_dampening: 1.0 - c.dampening,
            has_weight_decay: c.weight_decay != 0.0,
            has_momentum: c.momentum != 0.0,
            nesterov: c.nesterov,
            maximize: c.maximize,
        }
    }
}

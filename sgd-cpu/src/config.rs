//! Hyper-parameters of one parameter group, as `torch.optim.SGD` takes them.

use crate::SgdError;

/// Options of one parameter group, exactly as `torch.optim.SGD(params, lr, momentum,
/// dampening, weight_decay, nesterov, maximize=...)` takes them (f64, like Python floats).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate (`lr`), usually fed each step by a scheduler.
    pub lr: f64,
    /// Momentum factor (`momentum`); `0.0` disables the momentum buffer.
    pub momentum: f64,
    /// Dampening for momentum (`dampening`).
    pub dampening: f64,
    /// L2 penalty (`weight_decay`).
    pub weight_decay: f64,
    /// Nesterov momentum (`nesterov`).
    pub nesterov: bool,
    /// Maximise the objective instead of minimising it (`maximize`).
    pub maximize: bool,
}

impl Default for SgdConfig {
    /// torch's defaults: `lr=1e-3`, everything else off.
    fn default() -> Self {
        Self {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
        }
    }
}

impl SgdConfig {
    /// Checks torch's constructor rules (`SPEC.md` §4.1) plus finiteness, naming `group` in
    /// the error: `lr >= 0` and finite, `momentum >= 0` and finite, `weight_decay >= 0` and
    /// finite, `dampening` finite, and `nesterov` only with `momentum > 0` and
    /// `dampening == 0`. Checked in torch's order (lr, momentum, weight_decay, nesterov).
    ///
    /// # Errors
    /// The first rule broken, as an [`SgdError`] naming the bad value.
    pub fn validate(&self, group: usize) -> Result<(), SgdError> {
        self.validate_values(group)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(SgdError::NesterovRequiresMomentumAndZeroDampening {
                group,
                momentum: self.momentum,
                dampening: self.dampening,
            });
        }
        Ok(())
    }

    /// The checks every step makes: those of [`SgdConfig::validate`] except the nesterov rule.
    ///
    /// torch checks the nesterov rule only in the constructor and only on the defaults, so a
    /// parameter group `{nesterov: True, dampening: 0.1}` runs the formula as written
    /// (`SPEC.md` §4.1, "torch_quirk_unvalidated_group"); the caller-owned-buffer step
    /// functions accept such a group as torch does, [`crate::Sgd`] rejects it at construction.
    ///
    /// # Errors
    /// The first rule broken, as an [`SgdError`] naming the bad value.
    pub fn validate_values(&self, group: usize) -> Result<(), SgdError> {
        let lr = self.lr;
        if lr < 0.0 {
            return Err(SgdError::NegativeLearningRate { group, lr });
        }
        if !lr.is_finite() {
            return Err(SgdError::NonFiniteLearningRate { group, lr });
        }
        if !(self.momentum >= 0.0 && self.momentum.is_finite()) {
            return Err(SgdError::InvalidMomentum { group, momentum: self.momentum });
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(SgdError::InvalidWeightDecay { group, weight_decay: self.weight_decay });
        }
        if !self.dampening.is_finite() {
            return Err(SgdError::InvalidDampening { group, dampening: self.dampening });
        }
        Ok(())
    }
}

/// The f32 scalars one step uses, rounded from the f64 options exactly as torch does
/// (`SPEC.md` §4.2): `neg_lr = f32(-lr)`, `weight_decay = f32(wd)`, `momentum = f32(m)`,
/// `one_minus_dampening = f32(1.0 - dampening)` with the subtraction done in f64.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepScalars {
    /// `f32(-lr)`.
    pub neg_lr: f32,
    /// `f32(weight_decay)`.
    pub weight_decay: f32,
    /// `f32(momentum)`.
    pub momentum: f32,
    /// `f32(1.0 - dampening)`.
    pub one_minus_dampening: f32,
    /// `weight_decay != 0.0`, decided on the f64 value.
    pub has_weight_decay: bool,
    /// `momentum != 0.0`, decided on the f64 value.
    pub has_momentum: bool,
    /// Nesterov momentum.
    pub nesterov: bool,
    /// Negate the gradient first.
    pub maximize: bool,
}

impl StepScalars {
    /// Rounds a group's options to the scalars of one step.
    #[allow(clippy::cast_possible_truncation)] // f64 -> f32 rounding is the documented torch rule.
    pub fn from_config(c: &SgdConfig) -> Self {
        Self {
            neg_lr: (-c.lr) as f32,
            weight_decay: c.weight_decay as f32,
            momentum: c.momentum as f32,
            one_minus_dampening: (1.0 - c.dampening) as f32,
            has_weight_decay: c.weight_decay != 0.0,
            has_momentum: c.momentum != 0.0,
            nesterov: c.nesterov,
            maximize: c.maximize,
        }
    }
}

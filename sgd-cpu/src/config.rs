//! Hyper-parameters of one parameter group, as `torch.optim.SGD` takes them.

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

//! The f32 scalars of one step of one parameter group, rounded from its f64 options.

use crate::SgdConfig;

/// The f32 scalars one step uses, rounded from the f64 options exactly as torch does
/// (`SPEC.md` §4.2): `neg_lr = f32(-lr)`, `weight_decay = f32(wd)`, `momentum = f32(m)`,
/// `one_minus_dampening = f32(1.0 - dampening)` with the subtraction done in f64.
///
/// PyTorch: the Python floats of `param_groups[i]` passed as `alpha=` / `mul_(m)` scalars to
/// float32 tensor ops, which round them to the tensor's dtype.
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
    pub fn from_config(c: &SgdConfig) -> Self {
        Self {
            neg_lr: neg_lr(c.lr),
            weight_decay: round_to_f32(c.weight_decay),
            momentum: round_to_f32(c.momentum),
            one_minus_dampening: round_to_f32(1.0 - c.dampening),
            has_weight_decay: c.weight_decay != 0.0,
            has_momentum: c.momentum != 0.0,
            nesterov: c.nesterov,
            maximize: c.maximize,
        }
    }
}

/// `f32(-lr)`: the learning rate of one step as the update multiplies by it (negated in f64,
/// then rounded to nearest; torch's `p.add_(grad, alpha=-lr)`). [`StepScalars::from_config`]
/// uses it; a backend that uploads only the learning rates each step (sgd-cuda) rounds them
/// with it.
pub fn neg_lr(lr: f64) -> f32 {
    round_to_f32(-lr)
}

/// f64 to f32, rounded to nearest even (Rust's `as`, torch's scalar-to-float32 conversion).
#[allow(clippy::cast_possible_truncation)] // f64 -> f32 rounding is the documented torch rule.
fn round_to_f32(x: f64) -> f32 {
    x as f32
}

#[cfg(test)]
// The tests spell out Rust's `as` f64 -> f32 rounding as the oracle, independently of
// `round_to_f32`.
#[allow(clippy::cast_possible_truncation)]
mod tests {
    use super::*;

    #[test]
    fn scalars_round_the_f64_options_once() {
        let base = SgdConfig { lr: 0.3, momentum: 0.7, dampening: 0.3, ..SgdConfig::default() };
        let c = SgdConfig { weight_decay: 3e-4, nesterov: true, maximize: true, ..base };
        let s = StepScalars::from_config(&c);
        assert_eq!(s.neg_lr.to_bits(), (-0.3f64 as f32).to_bits());
        assert_eq!(s.momentum, 0.7f64 as f32);
        assert_eq!(s.weight_decay, 3e-4f64 as f32);
        // 1 - 0.3 in f64 first, then rounded.
        assert_eq!(s.one_minus_dampening.to_bits(), ((1.0f64 - 0.3) as f32).to_bits());
        assert!(s.has_momentum && s.has_weight_decay && s.nesterov && s.maximize);
        let plain = StepScalars::from_config(&SgdConfig::default());
        assert!(!plain.has_momentum && !plain.has_weight_decay);
        assert_eq!(plain.one_minus_dampening, 1.0);
    }

    #[test]
    fn neg_lr_is_f32_of_negated_f64() {
        for lr in [0.1f64, 0.126, 1e-3, 3.0e-7, 0.0, 1e300] {
            assert_eq!(neg_lr(lr).to_bits(), ((-lr) as f32).to_bits());
            let s = StepScalars::from_config(&SgdConfig { lr, ..SgdConfig::default() });
            assert_eq!(s.neg_lr.to_bits(), neg_lr(lr).to_bits());
        }
    }
}

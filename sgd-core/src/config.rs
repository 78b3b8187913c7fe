//! Hyper-parameters of one parameter group, as `torch.optim.SGD` takes them, and their checks.

use crate::ConfigError;

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
    /// PyTorch: the `ValueError`s of `torch.optim.SGD.__init__` (which checks only the
    /// defaults; every optimizer of this workspace checks every group with this).
    ///
    /// # Errors
    /// The first rule broken, as a [`ConfigError`] naming the bad value.
    pub fn validate(&self, group: usize) -> Result<(), ConfigError> {
        self.validate_values(group)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(ConfigError::NesterovRequiresMomentumAndZeroDampening {
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
    /// functions accept such a group as torch does, the optimizers that own their state
    /// (`sgd_cpu::Sgd`, `sgd_cuda::CudaSgd`) reject it at construction.
    ///
    /// # Errors
    /// The first rule broken, as a [`ConfigError`] naming the bad value.
    pub fn validate_values(&self, group: usize) -> Result<(), ConfigError> {
        let lr = self.lr;
        if lr < 0.0 {
            return Err(ConfigError::NegativeLearningRate { group, lr });
        }
        if !lr.is_finite() {
            return Err(ConfigError::NonFiniteLearningRate { group, lr });
        }
        if !(self.momentum >= 0.0 && self.momentum.is_finite()) {
            return Err(ConfigError::InvalidMomentum { group, momentum: self.momentum });
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(ConfigError::InvalidWeightDecay { group, weight_decay: self.weight_decay });
        }
        if !self.dampening.is_finite() {
            return Err(ConfigError::InvalidDampening { group, dampening: self.dampening });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: SgdConfig = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        dampening: 0.0,
        weight_decay: 1e-4,
        nesterov: true,
        maximize: false,
    };

    #[test]
    fn every_rule_names_the_group_and_the_value_in_torch_order() {
        assert_eq!(OK.validate(0), Ok(()));
        assert_eq!(SgdConfig::default().validate(0), Ok(()));
        let cases = [
            (
                SgdConfig { lr: -0.5, momentum: -1.0, ..OK },
                ConfigError::NegativeLearningRate { group: 2, lr: -0.5 },
            ),
            (
                SgdConfig { lr: f64::INFINITY, ..OK },
                ConfigError::NonFiniteLearningRate { group: 2, lr: f64::INFINITY },
            ),
            (
                SgdConfig { momentum: -0.1, weight_decay: -1.0, ..OK },
                ConfigError::InvalidMomentum { group: 2, momentum: -0.1 },
            ),
            (
                SgdConfig { weight_decay: f64::INFINITY, ..OK },
                ConfigError::InvalidWeightDecay { group: 2, weight_decay: f64::INFINITY },
            ),
            (
                SgdConfig { dampening: f64::NEG_INFINITY, ..OK },
                ConfigError::InvalidDampening { group: 2, dampening: f64::NEG_INFINITY },
            ),
            (
                SgdConfig { dampening: 0.1, ..OK },
                ConfigError::NesterovRequiresMomentumAndZeroDampening {
                    group: 2,
                    momentum: 0.9,
                    dampening: 0.1,
                },
            ),
            (
                SgdConfig { momentum: 0.0, ..OK },
                ConfigError::NesterovRequiresMomentumAndZeroDampening {
                    group: 2,
                    momentum: 0.0,
                    dampening: 0.0,
                },
            ),
        ];
        for (config, expected) in cases {
            assert_eq!(config.validate(2), Err(expected), "{config:?}");
        }
    }

    #[test]
    fn nan_values_are_rejected() {
        let lr = SgdConfig { lr: f64::NAN, ..OK }.validate(0);
        assert!(
            matches!(lr, Err(ConfigError::NonFiniteLearningRate { group: 0, lr }) if lr.is_nan())
        );
        let m = SgdConfig { momentum: f64::NAN, ..OK }.validate(1);
        assert!(
            matches!(m, Err(ConfigError::InvalidMomentum { group: 1, momentum }) if momentum.is_nan())
        );
        let wd = SgdConfig { weight_decay: f64::NAN, ..OK }.validate(0);
        assert!(matches!(wd, Err(ConfigError::InvalidWeightDecay { .. })));
        let d = SgdConfig { dampening: f64::NAN, nesterov: false, ..OK }.validate(0);
        assert!(matches!(d, Err(ConfigError::InvalidDampening { .. })));
    }

    #[test]
    fn validate_values_runs_torch_s_unvalidated_nesterov_group() {
        let quirk = SgdConfig { dampening: 0.1, ..OK };
        assert_eq!(quirk.validate_values(0), Ok(()));
        assert!(quirk.validate(0).is_err());
    }
}

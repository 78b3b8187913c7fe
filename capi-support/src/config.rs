//! The C struct of a parameter group's options.
use sgd_core::SgdConfig;

/// The options of one parameter group as `torch.optim.SGD` takes them, as a C struct
/// (`sgd_config` in `sgd_cpu.h`, `sgd_cuda_config` in `sgd_cuda.h`: the same layout, 40
/// bytes on every target with an 8-byte `double`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConfigC {
    /// `lr`.
    pub lr: f64,
    /// `momentum` (`0` = no momentum buffer).
    pub momentum: f64,
    /// `dampening`.
    pub dampening: f64,
    /// `weight_decay`.
    pub weight_decay: f64,
    /// `nesterov` (non-zero = true).
    pub nesterov: u32,
    /// `maximize` (non-zero = true).
    pub maximize: u32,
}

const _: () = assert!(size_of::<ConfigC>() == 40);

impl From<ConfigC> for SgdConfig {
    fn from(c: ConfigC) -> Self {
        SgdConfig {
            lr: c.lr,
            momentum: c.momentum,
            dampening: c.dampening,
            weight_decay: c.weight_decay,
            nesterov: c.nesterov != 0,
            maximize: c.maximize != 0,
        }
    }
}

impl From<SgdConfig> for ConfigC {
    fn from(c: SgdConfig) -> Self {
        ConfigC {
            lr: c.lr,
            momentum: c.momentum,
            dampening: c.dampening,
            weight_decay: c.weight_decay,
            nesterov: u32::from(c.nesterov),
            maximize: u32::from(c.maximize),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ConfigC;
    use sgd_core::SgdConfig;

    #[test]
    fn round_trips_through_sgd_config() {
        let c = SgdConfig { lr: 0.1, nesterov: true, momentum: 0.9, ..SgdConfig::default() };
        let back = SgdConfig::from(ConfigC::from(c));
        assert_eq!(back, c);
        assert_eq!(ConfigC::from(c).nesterov, 1);
        assert!(SgdConfig::from(ConfigC { nesterov: 7, ..ConfigC::from(c) }).nesterov);
    }
}

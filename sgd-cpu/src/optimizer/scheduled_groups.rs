//! The schedule-to-optimizer bridge for [`Sgd`]: [`inject_hyperparams`](crate::inject_hyperparams)
//! writes what a sched-core scheduler put into its parameter groups into the groups' options.
use super::Sgd;
use crate::{ScheduledGroups, SgdConfig, SgdError};

impl ScheduledGroups for Sgd {
    type Error = SgdError;

    fn group_count(&self) -> usize {
        self.groups()
    }

    fn group_options(&self, group: usize) -> SgdConfig {
        self.configs[group]
    }

    /// [`Sgd::set_config`]: validated as [`Sgd::new`] validates.
    fn set_group_options(&mut self, group: usize, options: SgdConfig) -> Result<(), SgdError> {
        self.set_config(group, options)
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use sched_core::ParamGroup;

    use crate::{
        ConfigError, GroupCountMismatch, GroupSpec, Sgd, SgdConfig, SgdError, inject_hyperparams,
    };

    fn sgd() -> Sgd {
        let config = SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() };
        let spec = |numels| GroupSpec { config, numels };
        Sgd::new(vec![spec(vec![3]), spec(vec![2])]).unwrap()
    }

    #[test]
    fn injects_lr_and_momentum_per_group() {
        let mut sgd = sgd();
        let groups = [ParamGroup::new(0.05).with_momentum(0.8), ParamGroup::new(0.02)];
        inject_hyperparams(&groups, &mut sgd).unwrap();
        assert_eq!((sgd.config(0).unwrap().lr, sgd.config(0).unwrap().momentum), (0.05, 0.8));
        assert_eq!((sgd.config(1).unwrap().lr, sgd.config(1).unwrap().momentum), (0.02, 0.0));
    }

    #[test]
    fn refuses_another_group_count_and_invalid_options_unchanged() {
        let mut sgd = sgd();
        assert_eq!(
            inject_hyperparams(&[ParamGroup::new(0.05)], &mut sgd),
            Err(SgdError::GroupCount(GroupCountMismatch { scheduler: 1, optimizer: 2 }))
        );
        let groups = [ParamGroup::new(0.05).with_momentum(0.9), ParamGroup::new(-1.0)];
        assert_eq!(
            inject_hyperparams(&groups, &mut sgd),
            Err(SgdError::Config(ConfigError::NegativeLearningRate { group: 1, lr: -1.0 }))
        );
        assert_eq!(sgd.config(1).unwrap().lr, 0.1);
    }
}

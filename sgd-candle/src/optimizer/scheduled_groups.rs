//! The schedule-to-optimizer bridge for [`CandleSgd`]: [`sgd_core::inject_hyperparams`] writes
//! what a sched-core scheduler put into its parameter groups into the groups' options, for an
//! attached schedule ([`CandleSgd::with_schedule`]) as for one the caller steps.

use sgd_core::{ScheduledGroups, SgdConfig};

use super::CandleSgd;
use crate::CandleSgdError;

impl ScheduledGroups for CandleSgd<'_> {
    type Error = CandleSgdError;

    fn group_count(&self) -> usize {
        self.groups.len()
    }

    fn group_options(&self, group: usize) -> SgdConfig {
        self.groups[group].config
    }

    /// Checked as every step checks a group's options
    /// ([`SgdConfig::validate_values`]: torch checks the nesterov rule only at construction,
    /// where [`CandleSgd::new`] checks it). An attached schedule's view of the group is left
    /// as it is ([`CandleSgd::set_group_lr`] moves it).
    fn set_group_options(
        &mut self,
        group: usize,
        options: SgdConfig,
    ) -> Result<(), CandleSgdError> {
        options.validate_values(group)?;
        self.groups[group].config = options;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device, Var};
    use sched_core::ParamGroup;
    use sgd_core::{GroupCountMismatch, SgdConfig, inject_hyperparams};
    use sgd_cpu::SgdError;

    use crate::{CandleSgd, CandleSgdError, VarGroup};

    #[test]
    fn a_scheduler_stepped_by_the_caller_drives_the_groups() {
        let var = || Var::zeros(3, DType::F32, &Device::Cpu).unwrap();
        let config = SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() };
        let group = |vars| VarGroup { vars, config };
        let mut opt = CandleSgd::new(vec![group(vec![var()]), group(vec![var()])]).unwrap();
        let groups = [ParamGroup::new(0.05).with_momentum(0.8), ParamGroup::new(0.02)];
        inject_hyperparams(&groups, &mut opt).unwrap();
        assert_eq!((opt.group_lr(0).unwrap(), opt.group_lr(1).unwrap()), (0.05, 0.02));
        let err = inject_hyperparams(&groups[..1], &mut opt).unwrap_err();
        let mismatch = GroupCountMismatch { scheduler: 1, optimizer: 2 };
        assert!(matches!(err, CandleSgdError::Sgd(SgdError::GroupCount(m)) if m == mismatch));
    }
}

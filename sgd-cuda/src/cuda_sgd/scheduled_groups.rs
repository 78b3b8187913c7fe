//! The schedule-to-optimizer bridge for [`CudaSgd`]: [`sgd_core::inject_hyperparams`] writes what
//! a sched-core scheduler put into its parameter groups into the optimizer's group options.
//!
//! A [`CudaSgd::step`] takes its learning rates as an argument; what the bridge injects is the
//! rest of a group's options (the momentum that CyclicLR / OneCycleLR cycle) and the `lr`
//! that [`CudaSgd::group_config`] reports.

use sgd_core::{ScheduledGroups, SgdConfig};

use super::CudaSgd;
use crate::error::CudaSgdError;

impl ScheduledGroups for CudaSgd {
    type Error = CudaSgdError;

    fn group_count(&self) -> usize {
        self.groups.len()
    }

    fn group_options(&self, group: usize) -> SgdConfig {
        self.groups[group]
    }

    /// [`CudaSgd::set_group_config`]: validated, the group table re-uploaded at the next step.
    fn set_group_options(&mut self, group: usize, options: SgdConfig) -> Result<(), CudaSgdError> {
        self.set_group_config(group, options)
    }
}

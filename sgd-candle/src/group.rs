//! A parameter group: variables and their options.

use candle_core::Var;
use sgd_core::SgdConfig;

/// One parameter group, like a dict in torch's `param_groups`: its variables and their SGD
/// options (the lr is the initial one when a schedule is attached).
#[derive(Clone, Debug)]
pub struct VarGroup {
    /// The group's variables (f32, contiguous, all on one device).
    pub vars: Vec<Var>,
    /// `torch.optim.SGD` options of the group.
    pub config: SgdConfig,
}

//! What every scheduler shares, whatever its library: the parameter groups it writes
//! ([`ParamGroup`]), the step counter and torch's stepping rules (`base`), the enum over
//! every scheduler ([`Scheduler`]), the closed form ([`ClosedForm`]) and its join
//! ([`Join`]), the state snapshot ([`Snapshot`]), and stepping from the state of a torch
//! scheduler object ([`TorchState`]).

pub(crate) mod base;
mod closed_form;
pub(crate) mod group;
mod join;
pub(crate) mod macros;
mod scheduler;
mod snapshot;
mod torch_state;

pub use base::MAX_EPOCH;
pub use closed_form::ClosedForm;
pub use group::{MAX_GROUPS, MAX_MILESTONES, ParamGroup, PerGroup};
pub use join::Join;
pub use scheduler::Scheduler;
pub use snapshot::{SNAPSHOT_VERSION, Snapshot};
pub use torch_state::TorchState;

//! `ChainedScheduler`: step several schedulers together.

use crate::protocol::base::StepMode;
use crate::torch::sequential_lr::check_children;
use crate::{ParamGroup, SchedError, Scheduler};

/// PyTorch `torch.optim.lr_scheduler.ChainedScheduler(schedulers, optimizer=None)`.
///
/// No construction step of its own (the value after construction is the compound of
/// the children's construction steps); `step()` steps every child in order, so
/// relative (chainable) rules compose multiplicatively and absolute ones (LambdaLR,
/// CyclicLR, OneCycleLR, warm restarts) overwrite what came before.
///
/// No closed form. If a child fails mid-chain (OneCycleLR stepped past its end) the
/// children before it have already stepped, as in PyTorch.
#[derive(Debug)]
pub struct ChainedScheduler<'a> {
    children: &'a mut [Scheduler<'a>],
    groups: usize,
}

impl<'a> ChainedScheduler<'a> {
    /// Chains `children` (built on `groups`, in order).
    pub fn new(
        children: &'a mut [Scheduler<'a>],
        groups: &[ParamGroup],
    ) -> Result<Self, SchedError> {
        check_children(children, groups)?;
        Ok(Self { children, groups: groups.len() })
    }

    /// One `scheduler.step()`: every child steps, in order.
    pub fn step(&mut self, groups: &mut [ParamGroup]) -> Result<(), SchedError> {
        if groups.len() != self.groups {
            return Err(SchedError::GroupCountChanged { expected: self.groups, got: groups.len() });
        }
        for c in self.children.iter_mut() {
            c.step_mode(groups, StepMode::Normal)?;
        }
        Ok(())
    }

    /// `last_epoch` of the first child.
    pub fn last_epoch(&self) -> i64 {
        self.children.first().map_or(0, Scheduler::last_epoch)
    }
}

crate::protocol::macros::composite_api!(ChainedScheduler);

//! `SequentialLR`: hand over from one scheduler to the next at milestones.

use crate::protocol::base::StepMode;
use crate::protocol::group::MAX_MILESTONES;
use crate::{ParamGroup, SchedError, Scheduler};

/// PyTorch `torch.optim.lr_scheduler.SequentialLR(optimizer, schedulers, milestones, last_epoch=-1)`.
///
/// Construction (after the children were built on the same groups): every group's lr
/// is reset to its `initial_lr`, every leaf's `last_epoch` is decremented, and the first
/// child performs its construction step again. `step()`: `last_epoch += 1`;
/// `i = bisect_right(milestones, last_epoch)`; at a milestone the child `i` restarts at
/// epoch 0 with its closed form (`_update_lr(0)`), otherwise it steps.
///
/// Closed form: child `i`'s closed form at `e - milestones[i-1]`; within the ulp bounds of
/// the children, bitwise where the children are absolute. None with a milestone at 0 (PyTorch
/// never restarts that child; it steps on from the first child's construction value).
#[derive(Debug)]
pub struct SequentialLr<'a> {
    children: &'a mut [Scheduler<'a>],
    milestones: [u64; MAX_MILESTONES],
    n_milestones: usize,
    last_epoch: i64,
    groups: usize,
}

impl<'a> SequentialLr<'a> {
    /// Takes over `children` (built on `groups`, in order) and performs PyTorch's
    /// construction. `milestones` must be non-decreasing, one fewer than the children.
    pub fn new(
        children: &'a mut [Scheduler<'a>],
        milestones: &[u64],
        last_epoch: i64,
        groups: &mut [ParamGroup],
    ) -> Result<Self, SchedError> {
        check_children(children, groups)?;
        if milestones.len() + 1 != children.len() {
            return Err(SchedError::MilestoneCount {
                schedulers: children.len(),
                milestones: milestones.len(),
            });
        }
        if milestones.len() > MAX_MILESTONES {
            return Err(SchedError::TooManyItems {
                param: "milestones",
                got: milestones.len(),
                max: MAX_MILESTONES,
            });
        }
        if let Some(i) = milestones.windows(2).position(|w| w[1] < w[0]) {
            return Err(SchedError::UnsortedMilestones { index: i + 1 });
        }
        if let Some(i) = groups.iter().position(|g| g.initial_lr.is_none()) {
            return Err(SchedError::MissingInitialLr { group: i });
        }
        if last_epoch < -1 {
            return Err(SchedError::OutOfRange {
                param: "last_epoch",
                value: crate::protocol::base::float_of(last_epoch),
                expected: ">= -1",
            });
        }
        if last_epoch > crate::protocol::base::MAX_EPOCH {
            return Err(crate::protocol::base::epoch_out_of_range("last_epoch", last_epoch));
        }
        let mut ms = [0; MAX_MILESTONES];
        ms[..milestones.len()].copy_from_slice(milestones);
        for g in groups.iter_mut() {
            if let Some(initial) = g.initial_lr {
                g.lr = initial;
            }
        }
        for c in children.iter_mut() {
            c.undo();
        }
        children[0].step_mode(groups, StepMode::Initial)?;
        Ok(Self {
            children,
            milestones: ms,
            n_milestones: milestones.len(),
            last_epoch: last_epoch + 1,
            groups: groups.len(),
        })
    }

    /// One `scheduler.step()`.
    pub fn step(&mut self, groups: &mut [ParamGroup]) -> Result<(), SchedError> {
        let e = crate::protocol::base::next(self.last_epoch)?;
        let ms = &self.milestones[..self.n_milestones];
        let at = u64::try_from(e).unwrap_or(0);
        let idx = ms.partition_point(|&m| m <= at);
        let mode =
            if idx > 0 && ms[idx - 1] == at { StepMode::RestartAtZero } else { StepMode::Normal };
        self.children[idx].step_mode(groups, mode)?;
        self.last_epoch = e;
        Ok(())
    }

    /// PyTorch's `last_epoch`.
    pub fn last_epoch(&self) -> i64 {
        self.last_epoch
    }

    pub(crate) fn set_last_epoch(&mut self, e: i64) {
        self.last_epoch = e;
    }

    pub(crate) fn closed<R: crate::math::Real>(
        &self,
        group: usize,
        epoch: u64,
    ) -> Result<R, SchedError> {
        let ms = &self.milestones[..self.n_milestones];
        if ms.first() == Some(&0) {
            // A milestone at 0 is never reached by a step (the first step is epoch 1), so its
            // child is never restarted: it continues from the lr the first child's
            // construction left, which no closed form of its own knows.
            return Err(SchedError::NoClosedForm);
        }
        let idx = ms.partition_point(|&m| m <= epoch);
        let local = if idx == 0 { epoch } else { epoch - ms[idx - 1] };
        self.children[idx].closed::<R>(group, local)
    }
}

crate::protocol::macros::composite_api!(SequentialLr);

/// Checks the children of a composite: at least one, none is ReduceLROnPlateau, all
/// built for these groups.
pub(crate) fn check_children(
    children: &[Scheduler<'_>],
    groups: &[ParamGroup],
) -> Result<(), SchedError> {
    if children.is_empty() {
        return Err(SchedError::EmptyComposite);
    }
    for c in children {
        if matches!(c, Scheduler::Plateau(_)) {
            return Err(SchedError::PlateauInComposite);
        }
        if c.groups() != groups.len() {
            return Err(SchedError::GroupCountChanged { expected: c.groups(), got: groups.len() });
        }
    }
    Ok(())
}

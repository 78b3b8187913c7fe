//! `SequentialLR`: hand over from one scheduler to the next at milestones.

use crate::math::python::bisect_right;
use crate::protocol::base::StepMode;
use crate::protocol::group::MAX_MILESTONES;
use crate::{ParamGroup, SchedError, Scheduler};

/// PyTorch `torch.optim.lr_scheduler.SequentialLR(optimizer, schedulers, milestones, last_epoch=-1)`.
///
/// Construction (after the children were built on the same groups): every group's lr
/// is reset to its `initial_lr`, every leaf's `last_epoch` is decremented, and one child
/// performs its construction step again: the one that runs at step 0,
/// `schedulers[bisect_right(milestones, 0)]` (PyTorch >= 2.13), or always the first
/// (PyTorch <= 2.12); [`SequentialLrInit`] chooses, and the two differ only with a
/// milestone at 0. `step()`: `last_epoch += 1`;
/// `i = bisect_right(milestones, last_epoch)`; at a milestone the child `i` restarts at
/// epoch 0 with its closed form (`_update_lr(0)`), otherwise it steps.
///
/// Closed form: child `i`'s closed form at `e - milestones[i-1]`; within the ulp bounds of
/// the children, bitwise where the children are absolute. With [`SequentialLrInit::First`]
/// none with a milestone at 0 (PyTorch <= 2.12 never restarts that child; it steps on from the
/// first child's construction value).
#[derive(Debug)]
pub struct SequentialLr<'a> {
    children: &'a mut [Scheduler<'a>],
    milestones: [u64; MAX_MILESTONES],
    n_milestones: usize,
    last_epoch: i64,
    groups: usize,
    init: SequentialLrInit,
}

/// Which child `SequentialLR.__init__` steps, by PyTorch release: the behaviour changed in
/// PyTorch 2.13 (pytorch#185872), and differs only when the first milestone is 0.
///
/// With `milestones=[0]`, `SequentialLR([ExponentialLR(gamma=0.5), StepLR(step_size=2,
/// gamma=0.1)], milestones=[0])` on lr 0.1 gives 0.1, 0.1, 0.01, 0.01, 0.001 with
/// [`ActiveAtZero`](Self::ActiveAtZero) and 0.1, 0.1, 0.1, 0.01, 0.01 with
/// [`First`](Self::First).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SequentialLrInit {
    /// PyTorch >= 2.13: `schedulers[bisect_right(milestones, 0)]._initial_step()`, the child
    /// that runs at step 0.
    #[default]
    ActiveAtZero,
    /// PyTorch <= 2.12: `schedulers[0]._initial_step()`, even when a milestone at 0 hands
    /// over before the first step.
    First,
}

impl SequentialLrInit {
    /// The behaviour of PyTorch `major.minor`.
    pub const fn of_torch(major: u32, minor: u32) -> Self {
        if major > 2 || (major == 2 && minor >= 13) { Self::ActiveAtZero } else { Self::First }
    }
}

impl<'a> SequentialLr<'a> {
    /// Takes over `children` (built on `groups`, in order) and performs the construction of
    /// the current PyTorch ([`SequentialLrInit::ActiveAtZero`]). `milestones` must be
    /// non-decreasing, one fewer than the children.
    pub fn new(
        children: &'a mut [Scheduler<'a>],
        milestones: &[u64],
        last_epoch: i64,
        groups: &mut [ParamGroup],
    ) -> Result<Self, SchedError> {
        Self::with_init(children, milestones, last_epoch, SequentialLrInit::default(), groups)
    }

    /// [`SequentialLr::new`] with the construction of the PyTorch release `init` names.
    pub fn with_init(
        children: &'a mut [Scheduler<'a>],
        milestones: &[u64],
        last_epoch: i64,
        init: SequentialLrInit,
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
        let first = match init {
            SequentialLrInit::ActiveAtZero => bisect_right(milestones, 0),
            SequentialLrInit::First => 0,
        };
        children[first].step_mode(groups, StepMode::Initial)?;
        Ok(Self {
            children,
            milestones: ms,
            n_milestones: milestones.len(),
            last_epoch: last_epoch + 1,
            groups: groups.len(),
            init,
        })
    }

    /// One `scheduler.step()`.
    pub fn step(&mut self, groups: &mut [ParamGroup]) -> Result<(), SchedError> {
        let e = crate::protocol::base::next(self.last_epoch)?;
        let ms = &self.milestones[..self.n_milestones];
        let at = u64::try_from(e).unwrap_or(0);
        let idx = bisect_right(ms, at);
        let mode =
            if idx > 0 && ms[idx - 1] == at { StepMode::RestartAtZero } else { StepMode::Normal };
        self.children[idx].step_mode(groups, mode)?;
        self.last_epoch = e;
        Ok(())
    }

    /// The PyTorch release whose construction this scheduler performed.
    pub fn init(&self) -> SequentialLrInit {
        self.init
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
        if self.init == SequentialLrInit::First && ms.first() == Some(&0) {
            // A milestone at 0 is never reached by a step (the first step is epoch 1), so its
            // child is never restarted: it continues from the lr the first child's
            // construction left, which no closed form of its own knows.
            return Err(SchedError::NoClosedForm);
        }
        let idx = bisect_right(ms, epoch);
        let local = if idx == 0 { epoch } else { epoch - ms[idx - 1] };
        self.children[idx].closed::<R>(group, local)
    }
}

crate::protocol::macros::composite_api!(SequentialLr);

/// Checks the children of a composite: at least one, none is ReduceLROnPlateau or a timm or
/// optax schedule (not torch `LRScheduler`s: torch fails on them, if only at the step that
/// reaches them), all built for these groups.
pub(crate) fn check_children(
    children: &[Scheduler<'_>],
    groups: &[ParamGroup],
) -> Result<(), SchedError> {
    if children.is_empty() {
        return Err(SchedError::EmptyComposite);
    }
    for (index, c) in children.iter().enumerate() {
        if matches!(c, Scheduler::Plateau(_)) {
            return Err(SchedError::PlateauInComposite);
        }
        let library = match c {
            Scheduler::Timm(_) => Some("timm"),
            Scheduler::Optax(_) => Some("optax"),
            _ => None,
        };
        if let Some(library) = library {
            return Err(SchedError::NotATorchScheduler { index, kind: c.kind(), library });
        }
        if c.groups() != groups.len() {
            return Err(SchedError::GroupCountChanged { expected: c.groups(), got: groups.len() });
        }
    }
    Ok(())
}

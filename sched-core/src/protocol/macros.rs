//! Boilerplate shared by the epoch-indexed schedulers.

/// Implements the public stepping API of a scheduler that has a `base: Base` field and
/// a `step_mode(&mut self, &mut [ParamGroup], StepMode)` method.
macro_rules! epoch_scheduler_api {
    ($ty:ty) => {
        impl $ty {
            /// One `scheduler.step()`: advances `last_epoch` and writes every group's lr
            /// exactly as PyTorch does. On error nothing is written.
            pub fn step(
                &mut self,
                groups: &mut [$crate::ParamGroup],
            ) -> Result<(), $crate::SchedError> {
                self.step_mode(groups, $crate::protocol::base::StepMode::Normal)
            }

            /// PyTorch's `last_epoch` (0 right after construction).
            pub fn last_epoch(&self) -> i64 {
                self.base.last_epoch
            }

            /// PyTorch's `base_lrs`: one per group.
            pub fn base_lrs(&self) -> &[f64] {
                &self.base.base_lrs[..self.base.groups]
            }

            /// Number of parameter groups the scheduler was built for.
            pub fn groups(&self) -> usize {
                self.base.groups
            }

            /// Performs PyTorch's construction step on a freshly built scheduler (the tail
            /// of every constructor).
            pub(crate) fn constructed(
                mut self,
                groups: &mut [$crate::ParamGroup],
            ) -> Result<Self, $crate::SchedError> {
                self.step_mode(groups, $crate::protocol::base::StepMode::Initial)?;
                Ok(self)
            }
        }
    };
}

/// Implements [`ClosedForm`](crate::ClosedForm) for a scheduler with an inherent
/// `closed::<R>(&self, group, epoch) -> Result<R, SchedError>`.
macro_rules! closed_form_via_inherent {
    ($ty:ty) => {
        impl $crate::ClosedForm for $ty {
            #[inline]
            fn lr_at(&self, group: usize, epoch: u64) -> Result<f64, $crate::SchedError> {
                $crate::protocol::base::check_closed_epoch(epoch)?;
                self.closed::<f64>(group, epoch)
            }
            #[inline]
            fn lr_at_f32(&self, group: usize, epoch: u64) -> Result<f32, $crate::SchedError> {
                $crate::protocol::base::check_closed_epoch(epoch)?;
                self.closed::<f32>(group, epoch)
            }
        }
    };
}

/// Implements [`ClosedForm`](crate::ClosedForm) for a scheduler whose lr is
/// `base_lr * self.factor::<R>(epoch)`: its inherent `closed` and the trait.
macro_rules! closed_form_via_factor {
    ($ty:ty) => {
        impl $ty {
            #[inline]
            pub(crate) fn closed<R: $crate::math::Real>(
                &self,
                group: usize,
                epoch: u64,
            ) -> Result<R, $crate::SchedError> {
                self.base.check_group(group)?;
                let e = $crate::protocol::base::epoch_i64(epoch);
                Ok(self.base.times_base(group, self.factor::<R>(e)))
            }
        }
        $crate::protocol::macros::closed_form_via_inherent!($ty);
    };
}

/// Implements the accessors the composites (SequentialLR, ChainedScheduler) share, for a type
/// with fields `children: &'a mut [Scheduler<'a>]` and `groups: usize`.
macro_rules! composite_api {
    ($ty:ident) => {
        impl<'a> $ty<'a> {
            /// Number of parameter groups.
            pub fn groups(&self) -> usize {
                self.groups
            }

            /// The children, in order.
            pub fn children(&self) -> &[$crate::Scheduler<'a>] {
                self.children
            }

            pub(crate) fn children_mut(&mut self) -> &mut [$crate::Scheduler<'a>] {
                self.children
            }

            /// SequentialLR's `recursive_undo`: every leaf's `last_epoch -= 1`.
            pub(crate) fn undo(&mut self) {
                for c in self.children.iter_mut() {
                    c.undo();
                }
            }
        }
    };
}

pub(crate) use {
    closed_form_via_factor, closed_form_via_inherent, composite_api, epoch_scheduler_api,
};

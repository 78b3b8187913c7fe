//! [`Join`]: two closed forms one after the other, without the [`Scheduler`](crate::Scheduler)
//! enum.

use crate::{ClosedForm, SchedError};

/// `first` for the epochs before `boundary`, then `second` restarted at 0: the closed form of
/// PyTorch's `SequentialLR(optimizer, [first, second], milestones=[boundary])` (and of optax's
/// `join_schedules([first, second], boundaries=[boundary])`):
///
/// ```text
/// lr(g, e) = first.lr(g, e)                 e <  boundary
///          = second.lr(g, e - boundary)     e >= boundary
/// ```
///
/// The same values, bit for bit, as [`Scheduler::lr_at`](crate::Scheduler::lr_at) of a
/// two-child [`SequentialLr`](crate::SequentialLr), in f64 and f32. At `boundary == 0` a
/// `Join` is `second` throughout, as the formula says, as optax's `join_schedules` computes
/// and as PyTorch >= 2.13 constructs SequentialLR (PyTorch <= 2.12 never restarted the
/// second child there: [`SequentialLrInit::First`](crate::SequentialLrInit::First) has no
/// closed form). It holds its children by
/// value and dispatches statically, so a program links only the two schedules it uses: on a
/// microcontroller that is the code of two closed forms instead of all fifteen schedulers
/// behind `Scheduler`. Joins nest (`Join<Join<A, B>, C>`) for more milestones. It has no
/// torch-exact stepping of its own: step a [`SequentialLr`](crate::SequentialLr) for that.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Join<A, B> {
    /// The schedule of the epochs before `boundary`.
    pub first: A,
    /// The schedule from `boundary` on, at `epoch - boundary`.
    pub second: B,
    /// The first epoch of `second` (SequentialLR's milestone).
    pub boundary: u64,
}

impl<A, B> Join<A, B> {
    /// `first` until `boundary`, then `second`.
    pub const fn new(first: A, boundary: u64, second: B) -> Self {
        Self { first, second, boundary }
    }
}

impl<A: ClosedForm, B: ClosedForm> ClosedForm for Join<A, B> {
    fn lr_at(&self, group: usize, epoch: u64) -> Result<f64, SchedError> {
        match epoch.checked_sub(self.boundary) {
            None => self.first.lr_at(group, epoch),
            Some(local) => self.second.lr_at(group, local),
        }
    }

    fn lr_at_f32(&self, group: usize, epoch: u64) -> Result<f32, SchedError> {
        match epoch.checked_sub(self.boundary) {
            None => self.first.lr_at_f32(group, epoch),
            Some(local) => self.second.lr_at_f32(group, local),
        }
    }
}

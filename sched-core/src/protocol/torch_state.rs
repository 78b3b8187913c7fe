//! Stepping from the state a PyTorch scheduler object keeps in its attributes: for a drop-in
//! subclass of torch's own classes (the `lrkit` Python package), where torch's code keeps the
//! state (`last_epoch`, `base_lrs`, `T_cur`, `best`, ...; what `state_dict()` saves) and
//! sched-core computes every value.
//!
//! torch's `LRScheduler._update_lr(None)` increments `last_epoch` and calls `get_lr()`, which
//! reads `last_epoch`, `base_lrs`, the groups' current `lr` (the chainable forms) and
//! `_is_initial` (inside the constructor's step). [`Scheduler::torch_get_lr`] is that
//! `get_lr()`: it sets the scheduler to the given state and writes the values `get_lr()`
//! returns into the groups, so a subclass's `get_lr` is one call.

use crate::protocol::base::{MAX_EPOCH, StepMode, epoch_out_of_range, float_of};
use crate::{ParamGroup, ReduceLrOnPlateau, SchedError, Scheduler};

/// The attributes of a torch scheduler object that its `get_lr()` reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TorchState<'s> {
    /// `self.last_epoch`, already incremented for this step (0 in the constructor's step).
    pub last_epoch: i64,
    /// `self.base_lrs`, one per group.
    pub base_lrs: &'s [f64],
    /// `self._is_initial`: the step done by the constructor (`_initial_step`).
    pub initial: bool,
    /// CosineAnnealingWarmRestarts' `(self.T_cur, self.T_i)`, which its own `step()` updates
    /// before calling `get_lr()`; `None` for every other scheduler.
    pub cycle: Option<(f64, i64)>,
}

impl Scheduler<'_> {
    /// torch's `get_lr()` of this scheduler in `state`, from the groups' current lrs (and
    /// momenta): the values are written into `groups` (lr, and momentum where CyclicLR and
    /// OneCycleLR cycle it), exactly as torch's `_update_lr` then stores them. The scheduler
    /// is left in `state` (its next [`Scheduler::step`] continues from there).
    ///
    /// # Errors
    /// [`SchedError::Unsupported`] for ReduceLROnPlateau (see
    /// [`ReduceLrOnPlateau::set_torch_state`]) and the composites (torch's own `step()` runs
    /// their children); [`SchedError::GroupCountChanged`] when `base_lrs` or `groups` is not
    /// one per group; range errors for `last_epoch` and a cycle; the step's own errors
    /// (OneCycleLR past `total_steps`, an overflow). Nothing is written then.
    pub fn torch_get_lr(
        &mut self,
        state: &TorchState<'_>,
        groups: &mut [ParamGroup],
    ) -> Result<(), SchedError> {
        let Some(base) = self.base_state() else {
            return Err(SchedError::Unsupported {
                what: "torch_get_lr of ReduceLROnPlateau, SequentialLR or ChainedScheduler",
            });
        };
        let n = base.groups;
        if state.base_lrs.len() != n || groups.len() != n {
            let got = if state.base_lrs.len() == n { groups.len() } else { state.base_lrs.len() };
            return Err(SchedError::GroupCountChanged { expected: n, got });
        }
        if !(0..=MAX_EPOCH).contains(&state.last_epoch) {
            return Err(epoch_out_of_range("last_epoch", state.last_epoch));
        }
        if let Some(&b) = state.base_lrs.iter().find(|b| !b.is_finite()) {
            return Err(SchedError::NonFinite { param: "base_lrs", value: b });
        }
        if let (Scheduler::WarmRestarts(_), None) = (&*self, state.cycle) {
            return Err(SchedError::Unsupported {
                what: "CosineAnnealingWarmRestarts' get_lr without (T_cur, T_i)",
            });
        }
        if let Some((t_cur, t_i)) = state.cycle {
            if !t_cur.is_finite() || t_cur < 0.0 {
                return Err(SchedError::NonFinite { param: "T_cur", value: t_cur });
            }
            if t_i <= 0 {
                let value = float_of(t_i);
                return Err(SchedError::OutOfRange { param: "T_i", value, expected: "> 0" });
            }
        }
        // The step validates before it writes; the state set here is put back on an error.
        let saved = *base;
        let base = self.base_state_mut().ok_or(SchedError::NoClosedForm)?;
        base.base_lrs[..n].copy_from_slice(state.base_lrs);
        base.tensor =
            groups.iter().enumerate().fold(0, |t, (i, g)| t | u32::from(g.tensor_lr) << i);
        base.last_epoch = state.last_epoch - 1;
        let stepped = match (&mut *self, state.cycle) {
            (Scheduler::WarmRestarts(s), Some((t_cur, t_i))) => {
                let cycle = (s.t_cur, s.t_i);
                (s.t_cur, s.t_i) = (t_cur, t_i);
                // `_update_lr(0)`'s path: get_lr() at the given T_cur, T_i, no advance.
                let r = s.step_mode(groups, StepMode::RestartAtZero, None);
                if r.is_err() {
                    (s.t_cur, s.t_i) = cycle;
                }
                r
            }
            (s, _) => {
                let mode = if state.initial { StepMode::Initial } else { StepMode::Normal };
                s.step_mode(groups, mode)
            }
        };
        if let Some(base) = self.base_state_mut() {
            if stepped.is_err() {
                *base = saved;
            } else {
                base.last_epoch = state.last_epoch;
            }
        }
        stepped
    }
}

impl ReduceLrOnPlateau {
    /// Sets the state torch's `ReduceLROnPlateau` keeps in its attributes (`last_epoch`,
    /// `best`, `num_bad_epochs`, `cooldown_counter`), so that the next
    /// [`ReduceLrOnPlateau::step`] is torch's `step(metrics)` from there.
    ///
    /// # Errors
    /// [`SchedError::OutOfRange`] for a `last_epoch` outside `0..=2^53`; nothing is set then.
    pub fn set_torch_state(
        &mut self,
        last_epoch: i64,
        best: f64,
        num_bad_epochs: u64,
        cooldown_counter: u64,
    ) -> Result<(), SchedError> {
        if !(0..=MAX_EPOCH).contains(&last_epoch) {
            return Err(epoch_out_of_range("last_epoch", last_epoch));
        }
        self.last_epoch = last_epoch;
        self.best = best;
        self.num_bad_epochs = num_bad_epochs;
        self.cooldown_counter = cooldown_counter;
        Ok(())
    }
}

//! `MultiStepLR`: decay by `gamma` at each milestone.

use crate::math::Real;
use crate::protocol::base::{Base, StepMode, finite};
use crate::protocol::group::MAX_MILESTONES;
use crate::{ParamGroup, SchedError};

/// Arguments of [`MultiStepLr`] (PyTorch `MultiStepLR(optimizer, milestones, gamma=0.1, last_epoch=-1)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MultiStepLrConfig<'a> {
    /// Epochs at which to decay, in any order; a repeated milestone decays once per copy
    /// (PyTorch stores them as a `Counter`). At most [`MAX_MILESTONES`].
    pub milestones: &'a [u64],
    /// Multiplicative factor (finite).
    pub gamma: f64,
    /// `-1` to start fresh; `k >= 0` to resume.
    pub last_epoch: i64,
}

impl<'a> MultiStepLrConfig<'a> {
    /// PyTorch's defaults for the given milestones: `gamma = 0.1`.
    pub const fn new(milestones: &'a [u64]) -> Self {
        Self { milestones, gamma: 0.1, last_epoch: -1 }
    }
}

/// PyTorch `torch.optim.lr_scheduler.MultiStepLR`.
///
/// With `M` the multiset of milestones:
/// - step: `lr' = lr` if `e` is not in `M`, else `lr' = lr * gamma ** count(M, e)`;
/// - closed form: `lr(e) = base_lr * gamma ** #{m in M : m <= e}` (PyTorch's
///   `bisect_right`).
///
/// Largest closed-form vs. stepping distance: 2 ulp.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MultiStepLr {
    pub(crate) base: Base,
    /// Sorted milestones (with multiplicity).
    milestones: [u64; MAX_MILESTONES],
    len: usize,
    gamma: f64,
    /// `gamma ** k` for every possible count `k <= len`, computed once with the same
    /// `pow` (bit-identical, no `pow` per query).
    powers: [f64; MAX_MILESTONES + 1],
}

impl MultiStepLr {
    /// Builds the scheduler and performs PyTorch's construction step (milestone `0`
    /// is applied there).
    pub fn new(
        config: MultiStepLrConfig<'_>,
        groups: &mut [ParamGroup],
    ) -> Result<Self, SchedError> {
        let len = config.milestones.len();
        if len > MAX_MILESTONES {
            return Err(SchedError::TooManyItems {
                param: "milestones",
                got: len,
                max: MAX_MILESTONES,
            });
        }
        let gamma = finite("gamma", config.gamma)?;
        let mut milestones = [0u64; MAX_MILESTONES];
        milestones[..len].copy_from_slice(config.milestones);
        milestones[..len].sort_unstable();
        let base = Base::new(groups, config.last_epoch)?;
        let mut powers = [1.0; MAX_MILESTONES + 1];
        for (k, p) in powers.iter_mut().enumerate() {
            *p = gamma.pow(count_f64(k));
        }
        Self { base, milestones, len, gamma, powers }.constructed(groups)
    }

    /// Number of milestones `<= e` (`bisect_right`).
    #[inline]
    fn passed(&self, e: u64) -> usize {
        self.milestones[..self.len].partition_point(|&m| m <= e)
    }

    pub(crate) fn step_mode(
        &mut self,
        groups: &mut [ParamGroup],
        mode: StepMode,
    ) -> Result<(), SchedError> {
        let k0 = self.powers[self.passed(0)];
        let (ms, powers) = (&self.milestones[..self.len], &self.powers);
        self.base.chain(
            groups,
            mode,
            || k0,
            |e| {
                // The same epoch for every group: count its milestones once.
                let n = u64::try_from(e).map_or(0, |e| copies(ms, e));
                (n != 0).then_some(powers[n])
            },
        )
    }

    #[inline]
    pub(crate) fn closed<R: Real>(&self, group: usize, epoch: u64) -> Result<R, SchedError> {
        self.base.check_group(group)?;
        Ok(self.base.times_base(group, R::from_f64(self.powers[self.passed(epoch)])))
    }
}

/// Number of copies of `e` in the sorted milestones `ms`.
#[inline]
fn copies(ms: &[u64], e: u64) -> usize {
    ms.partition_point(|&m| m <= e) - ms.partition_point(|&m| m < e)
}

#[inline(always)]
#[allow(clippy::cast_precision_loss)] // at most MAX_MILESTONES
fn count_f64(n: usize) -> f64 {
    n as f64
}

crate::protocol::macros::epoch_scheduler_api!(MultiStepLr);
crate::protocol::macros::closed_form_via_inherent!(MultiStepLr);

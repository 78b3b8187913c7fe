//! `StepLR`: decay by `gamma` every `step_size` epochs.

use crate::math::Real;
use crate::protocol::base::{Base, StepMode, finite, float_of_u64};
use crate::{ParamGroup, SchedError};

/// Arguments of [`StepLr`] (PyTorch `StepLR(optimizer, step_size, gamma=0.1, last_epoch=-1)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepLrConfig {
    /// Period of the decay, in epochs (> 0).
    pub step_size: u64,
    /// Multiplicative factor (finite, >= 0).
    pub gamma: f64,
    /// `-1` to start fresh; `k >= 0` to resume (groups must carry `initial_lr`).
    pub last_epoch: i64,
}

impl StepLrConfig {
    /// PyTorch's defaults for the given `step_size`: `gamma = 0.1`.
    pub const fn new(step_size: u64) -> Self {
        Self { step_size, gamma: 0.1, last_epoch: -1 }
    }
}

/// PyTorch `torch.optim.lr_scheduler.StepLR`.
///
/// - step (chainable, what `step()` writes): `lr' = lr` if `e == 0` or `e % step_size != 0`,
///   else `lr' = lr * gamma`;
/// - closed form: `lr(e) = base_lr * gamma ** (e // step_size)` (C `pow`).
///
/// Largest distance between the two over the golden vectors and the property tests:
/// 2 ulp (the chain rounds once per decay).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepLr {
    pub(crate) base: Base,
    step_size: i64,
    gamma: f64,
    /// `gamma ** k` for the first decays, computed once with the same `pow` (so the
    /// closed form stays bit-identical and O(1) without a `pow` call per query).
    powers: [f64; POWERS],
}

/// Number of precomputed powers of `gamma`.
const POWERS: usize = 64;

impl StepLr {
    /// Builds the scheduler on `groups` and performs PyTorch's construction step.
    ///
    /// Rejects `step_size == 0`, which PyTorch accepts and then fails on at its first
    /// step with `ZeroDivisionError`.
    pub fn new(config: StepLrConfig, groups: &mut [ParamGroup]) -> Result<Self, SchedError> {
        if config.step_size == 0 {
            return Err(SchedError::ZeroPeriod { param: "step_size" });
        }
        let step_size = i64::try_from(config.step_size).map_err(|_| SchedError::OutOfRange {
            param: "step_size",
            value: float_of_u64(config.step_size),
            expected: "< 2^63",
        })?;
        let gamma = finite("gamma", config.gamma)?;
        let base = Base::new(groups, config.last_epoch)?;
        let mut powers = [1.0; POWERS];
        for (k, p) in powers.iter_mut().enumerate() {
            *p = gamma.pow(float_of_u64(k as u64));
        }
        Self { base, step_size, gamma, powers }.constructed(groups)
    }

    pub(crate) fn step_mode(
        &mut self,
        groups: &mut [ParamGroup],
        mode: StepMode,
    ) -> Result<(), SchedError> {
        // Closed form at 0: b * gamma ** 0.
        let (k0, step, gamma) = (self.powers[0], self.step_size, self.gamma);
        self.base.chain(
            groups,
            mode,
            || k0,
            |e| (e != 0 && e.rem_euclid(step) == 0).then_some(gamma),
        )
    }

    #[inline]
    pub(crate) fn closed<R: Real>(&self, group: usize, epoch: u64) -> Result<R, SchedError> {
        self.base.check_group(group)?;
        let k = epoch / self.step_size.unsigned_abs();
        let g = match self.powers.get(usize::try_from(k).unwrap_or(usize::MAX)) {
            Some(&p) => R::from_f64(p),
            None => R::from_f64(self.gamma).pow(R::from_f64(float_of_u64(k))),
        };
        Ok(self.base.times_base(group, g))
    }
}

crate::protocol::macros::epoch_scheduler_api!(StepLr);
crate::protocol::macros::closed_form_via_inherent!(StepLr);

//! `CosineAnnealingLR`: cosine from `base_lr` down to `eta_min` over `T_max` epochs.

use crate::math::{PI, Real};
use crate::protocol::base::{
    Base, Ctx, StepMode, epoch_i64, finite, float_of, float_of_u64, round_to_f32, t_add, t_div,
    t_mul, t_sub,
};
use crate::{ParamGroup, SchedError};

/// Arguments of [`CosineAnnealingLr`] (PyTorch `CosineAnnealingLR(optimizer, T_max, eta_min=0.0, last_epoch=-1)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineAnnealingLrConfig {
    /// Half period in epochs (> 0).
    pub t_max: u64,
    /// Minimum learning rate (finite).
    pub eta_min: f64,
    /// `-1` to start fresh; `k >= 0` to resume.
    pub last_epoch: i64,
}

impl CosineAnnealingLrConfig {
    /// PyTorch's defaults for the given `T_max`: `eta_min = 0.0`.
    pub const fn new(t_max: u64) -> Self {
        Self { t_max, eta_min: 0.0, last_epoch: -1 }
    }
}

/// PyTorch `torch.optim.lr_scheduler.CosineAnnealingLR`.
///
/// With `m = eta_min`, `T = T_max`, `b = base_lr`:
/// - step (PyTorch's recurrence, in its branch order): construction keeps `lr`;
///   at `e = (2k+1) T + 1`: `lr' = lr + (b - m) * (1 - cos(pi / T)) / 2`;
///   otherwise `lr' = (1 + cos(pi * e / T)) / (1 + cos(pi * (e - 1) / T)) * (lr - m) + m`;
/// - closed form: `lr(e) = m + (b - m) * (1 + cos(pi * e / T)) / 2`.
///
/// Both continue the cosine past `T` (period `2 T`, no clamping). Largest
/// closed-form vs. stepping distance: tens of ulp past `T` (39 ulp at `e = 20`,
/// `T = 10` in the golden vectors); the recurrence accumulates error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineAnnealingLr {
    pub(crate) base: Base,
    t_max: i64,
    eta_min: f64,
}

impl CosineAnnealingLr {
    /// Builds the scheduler and performs PyTorch's construction step.
    ///
    /// Rejects `T_max == 0`, which PyTorch accepts and fails on at the first step.
    pub fn new(
        config: CosineAnnealingLrConfig,
        groups: &mut [ParamGroup],
    ) -> Result<Self, SchedError> {
        if config.t_max == 0 {
            return Err(SchedError::ZeroPeriod { param: "T_max" });
        }
        let t_max = i64::try_from(config.t_max).map_err(|_| SchedError::OutOfRange {
            param: "T_max",
            value: float_of_u64(config.t_max),
            expected: "< 2^63",
        })?;
        let eta_min = finite("eta_min", config.eta_min)?;
        let base = Base::new(groups, config.last_epoch)?;
        Self { base, t_max, eta_min }.constructed(groups)
    }

    pub(crate) fn step_mode(
        &mut self,
        groups: &mut [ParamGroup],
        mode: StepMode,
    ) -> Result<(), SchedError> {
        let (t, m) = (self.t_max, self.eta_min);
        let e = match mode {
            StepMode::Initial => return self.base.advance(groups, mode, |c| Ok(c.lr)),
            StepMode::RestartAtZero => 0,
            StepMode::Normal => crate::protocol::base::next(self.base.last_epoch)?,
        };
        // Every branch depends on the epoch only: its cosines are computed once per step.
        let tf = float_of(t);
        if mode == StepMode::RestartAtZero || (self.base.step_count == 0 && e > 0) {
            // The closed form (the second case is `_step_count == 1 and last_epoch > 0`:
            // unreachable through PyTorch's public API, kept for fidelity).
            let k = Self::cos_term(e, t);
            return self.base.advance(groups, mode, |c| Ok(Self::absolute(c, m, k)));
        }
        if (e - 1 - t).rem_euclid(2 * t) == 0 {
            // lr + (b - m) * (1 - cos(pi / T)) / 2
            let k = 1.0 - (PI / tf).cos();
            return self.base.advance(groups, mode, |c| {
                Ok(if c.tensor {
                    round_to_f32(c.lr + t_div(t_mul(t_sub(c.base_lr, m), k), 2.0))
                } else {
                    c.lr + (c.base_lr - m) * k / 2.0
                })
            });
        }
        // (1 + cos(pi e / T)) / (1 + cos(pi (e - 1) / T)) * (lr - m) + m
        let ratio =
            (1.0 + (PI * float_of(e) / tf).cos()) / (1.0 + (PI * float_of(e - 1) / tf).cos());
        self.base.advance(groups, mode, |c| {
            Ok(if c.tensor {
                t_add(t_mul(t_sub(c.lr, m), ratio), m)
            } else {
                ratio * (c.lr - m) + m
            })
        })
    }

    /// `1 + cos(pi * e / T)`.
    #[inline(always)]
    fn cos_term(e: i64, t: i64) -> f64 {
        1.0 + (PI * float_of(e) / float_of(t)).cos()
    }

    /// `m + (b - m) * k / 2` with `k = 1 + cos(pi * e / T)`, in PyTorch's arithmetic (f32
    /// tensor ops for tensor lrs).
    #[inline(always)]
    fn absolute(c: Ctx, m: f64, k: f64) -> f64 {
        if c.tensor {
            t_add(t_div(t_mul(t_sub(c.base_lr, m), k), 2.0), m)
        } else {
            m + (c.base_lr - m) * k / 2.0
        }
    }

    #[inline]
    pub(crate) fn closed<R: Real>(&self, group: usize, epoch: u64) -> Result<R, SchedError> {
        self.base.check_group(group)?;
        let e = epoch_i64(epoch);
        let c = self.base.ctx(group, e);
        if c.tensor && R::TORCH_TENSOR_ARITHMETIC {
            return Ok(R::from_f64(Self::absolute(c, self.eta_min, Self::cos_term(e, self.t_max))));
        }
        let (b, m, t) = (R::from_f64(c.base_lr), R::from_f64(self.eta_min), self.t_max);
        Ok(m + (b - m) * (R::ONE + (R::PI * R::from_i64(e) / R::from_i64(t)).cos()) / R::TWO)
    }
}

crate::protocol::macros::epoch_scheduler_api!(CosineAnnealingLr);
crate::protocol::macros::closed_form_via_inherent!(CosineAnnealingLr);

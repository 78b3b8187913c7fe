//! `CosineAnnealingWarmRestarts` (SGDR).

use crate::math::{PI, Real};
use crate::protocol::base::{
    Base, StepMode, epoch_i64, finite, float_of, t_add, t_div, t_mul, t_sub,
};
use crate::{MAX_GROUPS, ParamGroup, SchedError};

/// Arguments of [`CosineAnnealingWarmRestarts`] (PyTorch
/// `CosineAnnealingWarmRestarts(optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineAnnealingWarmRestartsConfig {
    /// Length of the first cycle in epochs (> 0).
    pub t_0: u64,
    /// Growth factor of the cycle length (>= 1).
    pub t_mult: u64,
    /// Minimum learning rate (finite).
    pub eta_min: f64,
    /// `-1` to start fresh; `k >= 0` to resume.
    pub last_epoch: i64,
}

impl CosineAnnealingWarmRestartsConfig {
    /// PyTorch's defaults for the given `T_0`: `T_mult = 1`, `eta_min = 0.0`.
    pub const fn new(t_0: u64) -> Self {
        Self { t_0, t_mult: 1, eta_min: 0.0, last_epoch: -1 }
    }
}

/// PyTorch `torch.optim.lr_scheduler.CosineAnnealingWarmRestarts`.
///
/// `lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2`, where a
/// plain `step()` does `T_cur += 1` and, when `T_cur >= T_i`, `T_cur %= T_i`,
/// `T_i *= T_mult`; `step_epoch(epoch)` (fractional epochs) recomputes the cycle
/// with PyTorch's `log`-based formula, including its rounding at restart boundaries.
///
/// Closed form (integer epochs, plain steps): the cycle is found with exact integer
/// arithmetic, so it equals stepping bit for bit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineAnnealingWarmRestarts {
    pub(crate) base: Base,
    t_0: i64,
    t_mult: i64,
    eta_min: f64,
    pub(crate) t_i: i64,
    pub(crate) t_cur: f64,
}

impl CosineAnnealingWarmRestarts {
    /// Builds the scheduler and performs PyTorch's construction step.
    pub fn new(
        config: CosineAnnealingWarmRestartsConfig,
        groups: &mut [ParamGroup],
    ) -> Result<Self, SchedError> {
        let t_0 = i64::try_from(config.t_0).unwrap_or(0);
        if t_0 <= 0 {
            return Err(SchedError::ZeroPeriod { param: "T_0" });
        }
        let t_mult = i64::try_from(config.t_mult).unwrap_or(0);
        if t_mult < 1 {
            return Err(SchedError::OutOfRange {
                param: "T_mult",
                value: crate::protocol::base::float_of_u64(config.t_mult),
                expected: "an integer >= 1",
            });
        }
        let eta_min = finite("eta_min", config.eta_min)?;
        let base = Base::new(groups, config.last_epoch)?;
        #[allow(clippy::cast_precision_loss)] // T_cur = last_epoch, a small int
        let t_cur = config.last_epoch as f64;
        let mut s = Self { base, t_0, t_mult, eta_min, t_i: t_0, t_cur };
        s.step_mode(groups, StepMode::Initial, None)?;
        Ok(s)
    }

    /// One `scheduler.step()`.
    pub fn step(&mut self, groups: &mut [ParamGroup]) -> Result<(), SchedError> {
        self.step_mode(groups, StepMode::Normal, None)
    }

    /// PyTorch's `scheduler.step(epoch)`: jump to a (possibly fractional) epoch.
    /// Negative epochs are rejected.
    pub fn step_epoch(&mut self, epoch: f64, groups: &mut [ParamGroup]) -> Result<(), SchedError> {
        self.step_mode(groups, StepMode::Normal, Some(epoch))
    }

    /// PyTorch's `last_epoch` (`floor` of the last epoch).
    pub fn last_epoch(&self) -> i64 {
        self.base.last_epoch
    }

    /// PyTorch's `T_cur`: epochs since the last restart (fractional after `step_epoch`).
    pub fn t_cur(&self) -> f64 {
        self.t_cur
    }

    /// PyTorch's `T_i`: length of the current cycle.
    pub fn t_i(&self) -> i64 {
        self.t_i
    }

    /// PyTorch's `base_lrs`.
    pub fn base_lrs(&self) -> &[f64] {
        &self.base.base_lrs[..self.base.groups]
    }

    pub(crate) fn step_mode(
        &mut self,
        groups: &mut [ParamGroup],
        mode: StepMode,
        epoch: Option<f64>,
    ) -> Result<(), SchedError> {
        self.base.check_count(groups)?;
        let (mut t_cur, mut t_i, last_epoch);
        if mode == StepMode::RestartAtZero {
            // `_update_lr(0)`: last_epoch = 0, get_lr() with the current T_cur.
            (t_cur, t_i, last_epoch) = (self.t_cur, self.t_i, 0);
        } else {
            let epoch = match epoch {
                None if self.base.last_epoch < 0 => Some(0.0),
                e => e,
            };
            match epoch {
                None => {
                    t_cur = self.t_cur + 1.0;
                    t_i = self.t_i;
                    if t_cur >= float_of(t_i) {
                        t_cur = t_cur.fmod(float_of(t_i));
                        t_i = t_i.saturating_mul(self.t_mult);
                    }
                    last_epoch = crate::protocol::base::next(self.base.last_epoch)?;
                }
                Some(epoch) => {
                    if epoch.is_nan() || epoch < 0.0 {
                        return Err(SchedError::NegativeEpoch { epoch });
                    }
                    if !epoch.is_finite() {
                        return Err(SchedError::NonFinite { param: "epoch", value: epoch });
                    }
                    (t_cur, t_i) = self.cycle_at(epoch);
                    #[allow(clippy::cast_possible_truncation)] // floor of a finite epoch
                    {
                        last_epoch = epoch.floor() as i64;
                    }
                }
            }
        }
        let m = self.eta_min;
        let k = 1.0 + (PI * t_cur / float_of(t_i)).cos();
        let mut new = [0.0; MAX_GROUPS];
        for ((n, b), g) in
            new.iter_mut().zip(&self.base.base_lrs[..self.base.groups]).zip(groups.iter())
        {
            // eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2
            *n = if g.tensor_lr {
                t_add(t_div(t_mul(t_sub(*b, m), k), 2.0), m)
            } else {
                m + (b - m) * k / 2.0
            };
        }
        for (g, n) in groups.iter_mut().zip(new) {
            g.lr = n;
        }
        self.t_cur = t_cur;
        self.t_i = t_i;
        self.base.commit(mode, last_epoch);
        Ok(())
    }

    /// `(T_cur, T_i)` for an explicit epoch, with PyTorch's formula:
    /// `n = int(log(epoch / T_0 * (T_mult - 1) + 1) / log(T_mult))`,
    /// `T_cur = epoch - T_0 * (T_mult ** n - 1) / (T_mult - 1)`, `T_i = T_0 * T_mult ** n`.
    fn cycle_at(&self, epoch: f64) -> (f64, i64) {
        let (t0, tm) = (self.t_0, self.t_mult);
        if epoch < float_of(t0) {
            return (epoch, t0);
        }
        if tm == 1 {
            return (epoch.fmod(float_of(t0)), self.t_i);
        }
        let x = epoch / float_of(t0) * float_of(tm - 1) + 1.0;
        // Python int() truncation; x >= 1 and T_mult >= 2 here, so the quotient is >= 0.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let n = (x.ln() / float_of(tm).ln()) as u32;
        let pow = tm.saturating_pow(n);
        let t_cur = epoch - float_of(t0.saturating_mul(pow - 1)) / float_of(tm - 1);
        (t_cur, t0.saturating_mul(pow))
    }

    /// `(T_cur, T_i)` after `epoch` plain steps from construction, in exact integers.
    ///
    /// Cycle `n` starts at `T_0 (m^n - 1) / (m - 1)`, so the cycle of `e` is the largest
    /// `n` with `m^n <= floor(e (m - 1) / T_0) + 1`: an integer logarithm, no loop over
    /// cycles and no floating-point rounding.
    fn cycle_of_step(&self, epoch: u64) -> (i64, i64) {
        let e = epoch_i64(epoch);
        if self.t_mult == 1 {
            return (e % self.t_0, self.t_0);
        }
        // t_0 > 0 and t_mult > 1 were validated at construction.
        let (t0, m) = (self.t_0.unsigned_abs(), self.t_mult.unsigned_abs());
        let clamp = |v: u128| i64::try_from(v).unwrap_or(i64::MAX);
        // Fast path in u64 (no 128-bit division); exact fallback in u128.
        if let Some(x) = epoch.checked_mul(m - 1).map(|p| p / t0 + 1) {
            let n = if m == 2 { x.ilog2() } else { x.ilog(m) };
            if let Some(mn) = m.checked_pow(n).filter(|mn| mn.checked_mul(t0).is_some()) {
                let start = if m == 2 { t0 * (mn - 1) } else { t0 * (mn - 1) / (m - 1) };
                return (clamp(u128::from(epoch - start)), clamp(u128::from(t0 * mn)));
            }
        }
        let x = u128::from(epoch) * u128::from(m - 1) / u128::from(t0) + 1;
        let mn = u128::from(m).saturating_pow(x.ilog(u128::from(m)));
        let start = u128::from(t0) * (mn - 1) / u128::from(m - 1);
        (clamp(u128::from(epoch) - start), clamp(u128::from(t0).saturating_mul(mn)))
    }

    #[inline]
    pub(crate) fn closed<R: Real>(&self, group: usize, epoch: u64) -> Result<R, SchedError> {
        self.base.check_group(group)?;
        let (t_cur, t_i) = self.cycle_of_step(epoch);
        if self.base.is_tensor(group) && R::TORCH_TENSOR_ARITHMETIC {
            let (b, m) = (self.base.base_lrs[group], self.eta_min);
            let k = 1.0 + (PI * float_of(t_cur) / float_of(t_i)).cos();
            return Ok(R::from_f64(t_add(t_div(t_mul(t_sub(b, m), k), 2.0), m)));
        }
        let (b, m) = (R::from_f64(self.base.base_lrs[group]), R::from_f64(self.eta_min));
        Ok(m + (b - m) * (R::ONE + (R::PI * R::from_i64(t_cur) / R::from_i64(t_i)).cos()) / R::TWO)
    }
}

crate::protocol::macros::closed_form_via_inherent!(CosineAnnealingWarmRestarts);

//! [`TimmScheduler`]: a timm scheduler driven through sched-core's stepping interface.

use super::schedule::validate;
use super::{TimmCycles, TimmSchedulerConfig, TimmShape};
use crate::math::Real;
use crate::math::python::{bisect_right, float_floor_div, floor_div};
use crate::math::raising::{self, raised};
use crate::protocol::base::{Base, StepMode, epoch_i64, float_of};
use crate::{MAX_GROUPS, ParamGroup, SchedError};

/// A timm scheduler (`CosineLRScheduler`, `TanhLRScheduler`, `PolyLRScheduler`,
/// `StepLRScheduler`, `MultiStepLRScheduler`) driven through sched-core's stepping
/// interface: construction writes timm's row 0, each [`TimmScheduler::step`] is
/// `scheduler.step(t)` with the next `t`, and `last_epoch` is `t`. The closed form is the
/// same computation (bitwise equal to stepping).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimmScheduler {
    pub(crate) base: Base,
    rule: TimmRule,
}

/// What a timm scheduler computes its lrs from (everything but the step counters), apart
/// from `base` so that a step borrows it while `base` advances.
#[derive(Clone, Copy, Debug, PartialEq)]
struct TimmRule {
    config: TimmSchedulerConfig,
    /// `warmup_steps`, per group.
    warmup_steps: [f64; MAX_GROUPS],
    /// `t // t_initial` as a multiply (hoisted out of the per-step path).
    divider: Divider,
    /// `rate ** k` for `k < POWERS`, `rate` being `decay_rate` (step shapes) or
    /// `cycle_decay` (cycle shapes): the same `pow` calls, made once at construction.
    powers: [f64; POWERS],
}

/// Number of precomputed powers of the decay rate.
const POWERS: usize = 64;

/// `rate ** k`: `powers[k]` where `k` is an integral exponent below [`POWERS`], else the
/// `pow` call itself, with what Python raises as a typed error naming `param`.
#[inline(always)]
fn power(
    powers: &[f64; POWERS],
    rate: f64,
    k: f64,
    param: &'static str,
    t: i64,
) -> Result<f64, SchedError> {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // checked integral, in range
    if (0.0..64.0).contains(&k) && f64::from(k as u8) == k {
        let p = powers[k as usize];
        if p.is_finite() || !rate.is_finite() {
            return Ok(p);
        }
    }
    raising::pow(rate, k).map_err(raised(param, t))
}

impl TimmScheduler {
    /// Builds the scheduler as timm's constructor does: `initial_lr` set to the group's lr
    /// where missing, every group's lr set to its base value, then to `warmup_lr_init`
    /// when `warmup_t != 0`. Validates everything first (timm's `assert`s, and the
    /// divisions by zero Python would raise later).
    pub fn new(config: TimmSchedulerConfig, groups: &mut [ParamGroup]) -> Result<Self, SchedError> {
        validate(&config)?;
        Base::check_new(groups, -1)?;
        // The base values as `Base::init` will set them, before anything is written.
        let mut base_lrs = [0.0; MAX_GROUPS];
        for (b, g) in base_lrs.iter_mut().zip(groups.iter()) {
            *b = g.initial_lr.unwrap_or(g.lr);
        }
        let cycles = config.shape.cycles();
        let divider = Divider::new(cycles.map_or(1, |c| c.t_initial));
        let rate = match config.shape {
            TimmShape::Step { decay_rate, .. } | TimmShape::MultiStep { decay_rate, .. } => {
                decay_rate
            }
            _ => cycles.map_or(1.0, |c| c.cycle_decay),
        };
        let mut powers = [1.0; POWERS];
        for (k, p) in powers.iter_mut().enumerate() {
            *p = Real::pow(rate, float_of(i64::try_from(k).unwrap_or(0)));
        }
        let mut rule = TimmRule { config, warmup_steps: [0.0; MAX_GROUPS], divider, powers };
        if config.warmup_t != 0 {
            let w = float_of(config.warmup_t);
            for (i, &v) in base_lrs.iter().enumerate().take(groups.len()) {
                // Tanh without warmup_prefix warms up towards its value at `warmup_t`.
                let target = match config.shape {
                    TimmShape::Tanh { .. } if !config.warmup_prefix => {
                        rule.after_warmup::<f64>(v, config.warmup_t)?
                    }
                    _ => v,
                };
                rule.warmup_steps[i] = (target - config.warmup_lr_init) / w;
            }
        }
        Self { base: Base::init(groups, -1), rule }.constructed(groups)
    }

    /// The configuration.
    pub fn config(&self) -> &TimmSchedulerConfig {
        &self.rule.config
    }

    pub(crate) fn step_mode(
        &mut self,
        groups: &mut [ParamGroup],
        mode: StepMode,
    ) -> Result<(), SchedError> {
        let rule = &self.rule;
        let what = "a timm scheduler inside SequentialLR";
        self.base.advance_absolute(groups, mode, what, |c| {
            rule.lr_in::<f64>(c.group, c.base_lr, c.epoch)
        })
    }

    #[inline]
    pub(crate) fn closed<R: Real>(&self, group: usize, epoch: u64) -> Result<R, SchedError> {
        self.base.check_group(group)?;
        self.rule.lr_in(group, self.base.base_lrs[group], epoch_i64(epoch))
    }
}

impl TimmRule {
    /// `_get_lr(t)[group]` (row 0 at `t == 0`: the base value, or `warmup_lr_init` under a
    /// warmup); `base_lr` is the group's base value.
    #[inline]
    fn lr_in<R: Real>(&self, group: usize, base_lr: f64, t: i64) -> Result<R, SchedError> {
        if t == 0 {
            let row0 = if self.config.warmup_t == 0 { base_lr } else { self.config.warmup_lr_init };
            return Ok(R::from_f64(row0));
        }
        let c = &self.config;
        if t < c.warmup_t {
            return Ok(R::from_f64(c.warmup_lr_init)
                + R::from_i64(t) * R::from_f64(self.warmup_steps[group]));
        }
        let t = if c.warmup_prefix { t - c.warmup_t } else { t };
        self.after_warmup(base_lr, t)
    }

    /// The schedule past the warmup at (shifted) step `t`.
    #[inline]
    fn after_warmup<R: Real>(&self, base_lr: f64, t: i64) -> Result<R, SchedError> {
        let v = R::from_f64(base_lr);
        match self.config.shape {
            TimmShape::Cosine { cycles, k_decay } => {
                // `gamma = cycle_decay ** i` comes before the `cycle_limit` test here.
                let (i, t_curr, t_i) = cycle::<R>(&cycles, self, t)?;
                let gamma = cycle_gamma(&cycles, self, i, t)?;
                if i >= cycles.cycle_limit {
                    return Ok(R::from_f64(cycles.lr_min));
                }
                let (lr_max, m, k) = (v * gamma, R::from_f64(cycles.lr_min), R::from_f64(k_decay));
                let at = raised("k_decay", t);
                let a = R::PI * pow_k(t_curr, k).map_err(&at)?;
                let x = raising::div(a, pow_k(t_i, k).map_err(&at)?).map_err(&at)?;
                let c = raising::cos(x).map_err(at)?;
                Ok(m + R::from_f64(0.5) * (lr_max - m) * (R::ONE + c))
            }
            TimmShape::Tanh { cycles, lb, ub } => {
                // `gamma` only within `cycle_limit` here.
                let (i, t_curr, t_i) = cycle::<R>(&cycles, self, t)?;
                if i >= cycles.cycle_limit {
                    return Ok(R::from_f64(cycles.lr_min));
                }
                let lr_max = v * cycle_gamma(&cycles, self, i, t)?;
                let m = R::from_f64(cycles.lr_min);
                let tr = raising::div(t_curr, t_i).map_err(raised("cycle_mul", t))?;
                let x = R::from_f64(lb) * (R::ONE - tr) + R::from_f64(ub) * tr;
                Ok(m + R::from_f64(0.5) * (lr_max - m) * (R::ONE - x.tanh()))
            }
            TimmShape::Poly { cycles, power, k_decay } => {
                // `gamma` before the `cycle_limit` test, as in the cosine.
                let (i, t_curr, t_i) = cycle::<R>(&cycles, self, t)?;
                let gamma = cycle_gamma(&cycles, self, i, t)?;
                if i >= cycles.cycle_limit {
                    return Ok(R::from_f64(cycles.lr_min));
                }
                let (lr_max, m, k) = (v * gamma, R::from_f64(cycles.lr_min), R::from_f64(k_decay));
                let at = raised("k_decay", t);
                let a = pow_k(t_curr, k).map_err(&at)?;
                let x = R::ONE - raising::div(a, pow_k(t_i, k).map_err(&at)?).map_err(at)?;
                let p = raising::pow(x, R::from_f64(power)).map_err(raised("power", t))?;
                Ok(m + (lr_max - m) * p)
            }
            TimmShape::Step { decay_t, decay_rate } => {
                let q = float_floor_div(float_of(t), decay_t);
                Ok(v * R::from_f64(power(&self.powers, decay_rate, q, "decay_rate", t)?))
            }
            TimmShape::MultiStep { decay_t, len, decay_rate } => {
                let n = bisect_right(&decay_t[..len], t + 1);
                let n = crate::protocol::base::float_of_u64(n as u64);
                Ok(v * R::from_f64(power(&self.powers, decay_rate, n, "decay_rate", t)?))
            }
        }
    }
}

/// Exact division of 32-bit numerators by a fixed divisor as a multiply and a shift
/// (Lemire, Kaser and Kurz, "Faster remainder by direct computation", 2019:
/// `floor(n / d) = (M * n) >> 64` with `M = floor((2^64 - 1) / d) + 1`, for every 32-bit `n`
/// and `d`): timm's `t // t_initial` without a division instruction on the per-step path.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Divider {
    d: i64,
    /// `M`, or 0 when `d` is 1 or does not fit 32 bits (then the plain division runs).
    m: u64,
}

impl Divider {
    fn new(d: i64) -> Self {
        let m = match u32::try_from(d) {
            Ok(d) if d > 1 => u64::MAX / u64::from(d) + 1,
            _ => 0,
        };
        Self { d, m }
    }

    /// Python's `t // d` (`d > 0`).
    #[inline(always)]
    fn floor_div(self, t: i64) -> i64 {
        match u32::try_from(t) {
            // The high 64 bits of a 96-bit product (below 2^32: no truncation).
            Ok(n) if self.m != 0 => ((u128::from(self.m) * u128::from(n)) >> 64) as i64,
            _ => floor_div(t, self.d),
        }
    }
}

/// `(i, t_curr, t_i)`: the cycle step `t` falls in, the step within it and its length.
#[inline(always)]
fn cycle<R: Real>(c: &TimmCycles, s: &TimmRule, t: i64) -> Result<(i64, R, R), SchedError> {
    let (i, t_i, t_curr) = if c.cycle_mul == 1.0 {
        let i = s.divider.floor_div(t);
        (i, float_of(c.t_initial), float_of(t - c.t_initial * i))
    } else {
        grown_cycle(c, t)?
    };
    Ok((i, R::from_f64(t_curr), R::from_f64(t_i)))
}

/// `gamma = cycle_decay ** i` of cycle `i`, with what Python raises.
#[inline(always)]
fn cycle_gamma<R: Real>(c: &TimmCycles, s: &TimmRule, i: i64, t: i64) -> Result<R, SchedError> {
    // pow(1, y) is 1 for every y (C99 F.9.4.4): timm's default decay needs no lookup.
    if c.cycle_decay == 1.0 {
        return Ok(R::ONE);
    }
    power(&s.powers, c.cycle_decay, float_of(i), "cycle_decay", t).map(R::from_f64)
}

/// `(i, t_i, t_curr)` for `cycle_mul != 1`, in timm's order. Never inlined: LLVM treats
/// `log` as speculatable and would otherwise compute both logarithms on every step, before
/// the `cycle_mul == 1` test.
#[inline(never)]
fn grown_cycle(c: &TimmCycles, t: i64) -> Result<(i64, f64, f64), SchedError> {
    // i = math.floor(math.log(1 - t / t_initial * (1 - cycle_mul), cycle_mul))
    let (tf, ti, mul) = (float_of(t), float_of(c.t_initial), c.cycle_mul);
    let at = raised("cycle_mul", t);
    let x = 1.0 - tf / ti * (1.0 - mul);
    let i = raising::floor_int(raising::log_base(x, mul).map_err(&at)?).map_err(&at)?;
    // `cycle_mul ** i` (an int exponent: never complex); `1 - cycle_mul != 0` here.
    let p = raising::pow(mul, float_of(i)).map_err(at)?;
    Ok((i, p * ti, tf - (1.0 - p) / (1.0 - mul) * ti))
}

/// `x ** k`, without the `pow` call for timm's default `k_decay = 1` (`pow(x, 1)` is `x`
/// exactly, C99 F.9.4.4, and never raises for a finite `x`).
#[inline(always)]
fn pow_k<R: Real>(x: R, k: R) -> Result<R, crate::python::PyException> {
    if k == R::ONE { Ok(x) } else { raising::pow(x, k) }
}

crate::protocol::macros::epoch_scheduler_api!(TimmScheduler);
crate::protocol::macros::closed_form_via_inherent!(TimmScheduler);

#[cfg(test)]
mod tests {
    #[test]
    fn the_divider_is_exact() {
        use super::Divider;
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for d in [1i64, 2, 3, 7, 10, 1000, 65_537, 100_000, 4_294_967_295, 4_294_967_296] {
            let div = Divider::new(d);
            for _ in 0..20_000 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let t = i64::try_from(state >> 31).unwrap();
                assert_eq!(div.floor_div(t), t / d, "{t} // {d}");
            }
            for t in [0, 1, d - 1, d, d + 1, 4_294_967_295, 4_294_967_296] {
                assert_eq!(div.floor_div(t), t / d, "{t} // {d}");
            }
        }
    }
}

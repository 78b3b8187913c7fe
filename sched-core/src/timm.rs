//! timm's schedulers (`timm.scheduler.*LRScheduler`, timm 1.0.31), per-epoch protocol.
//!
//! timm sets every group's lr to an absolute value computed from the step `t` and the
//! group's `initial_lr` (`base_values`): `scheduler.step(t)` writes `_get_lr(t)`. The
//! algebra of the five classes:
//! - a **warmup** prefix: for `t < warmup_t`, `warmup_lr_init + t * s` with
//!   `s = (v - warmup_lr_init) / warmup_t` per group (`v` the base value, or for
//!   `TanhLRScheduler` without `warmup_prefix`, the schedule's value at `warmup_t`);
//!   `warmup_prefix` shifts the rest by `warmup_t`;
//! - **cycles** (cosine, tanh, poly): cycle `i` of length `t_initial * cycle_mul ** i`, peak
//!   `v * cycle_decay ** i`, `lr_min` from `cycle_limit` cycles on;
//! - a **shape** within the cycle, or a **step decay** (`decay_rate ** (t // decay_t)`,
//!   `decay_rate ** bisect_right(decay_t, t + 1)`).
//!
//! Every value follows timm's Python expression order in `f64`; the step is a Python
//! `int`. Construction writes the base values, then `warmup_lr_init` when there is a
//! warmup (row 0); `step()` then writes `_get_lr(1)`, `_get_lr(2)`, ...

use crate::base::{Base, StepMode, epoch_i64, finite, float_of};
use crate::math::Real;
use crate::{MAX_GROUPS, MAX_MILESTONES, ParamGroup, SchedError};

/// The cycle structure of `CosineLRScheduler`, `TanhLRScheduler` and `PolyLRScheduler`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimmCycles {
    /// `t_initial`: length of the first cycle (`> 0`).
    pub t_initial: i64,
    /// `lr_min` (`>= 0`).
    pub lr_min: f64,
    /// `cycle_mul`: growth of the cycle length.
    pub cycle_mul: f64,
    /// `cycle_decay`: factor of the peak per cycle.
    pub cycle_decay: f64,
    /// `cycle_limit`: number of cycles before `lr_min` for ever.
    pub cycle_limit: i64,
}

impl TimmCycles {
    /// timm's defaults for `t_initial`: `lr_min = 0`, `cycle_mul = 1`, `cycle_decay = 1`,
    /// `cycle_limit = 1`.
    pub const fn new(t_initial: i64) -> Self {
        Self { t_initial, lr_min: 0.0, cycle_mul: 1.0, cycle_decay: 1.0, cycle_limit: 1 }
    }
}

/// What a timm scheduler does after its warmup.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
// No heap: MultiStep's milestones are stored inline, like MultiStepLr's.
#[allow(clippy::large_enum_variant)]
pub enum TimmShape {
    /// `CosineLRScheduler`: `lr_min + 0.5 * (lr_max - lr_min) * (1 + cos(pi * t_curr ** k / t_i ** k))`.
    Cosine {
        /// The cycles.
        cycles: TimmCycles,
        /// `k_decay`.
        k_decay: f64,
    },
    /// `TanhLRScheduler`: with `tr = t_curr / t_i`,
    /// `lr_min + 0.5 * (lr_max - lr_min) * (1 - tanh(lb * (1. - tr) + ub * tr))`.
    Tanh {
        /// The cycles.
        cycles: TimmCycles,
        /// `lb` (`< ub`).
        lb: f64,
        /// `ub`.
        ub: f64,
    },
    /// `PolyLRScheduler`: `lr_min + (lr_max - lr_min) * (1 - t_curr ** k / t_i ** k) ** power`.
    Poly {
        /// The cycles.
        cycles: TimmCycles,
        /// `power`.
        power: f64,
        /// `k_decay`.
        k_decay: f64,
    },
    /// `StepLRScheduler`: `v * decay_rate ** (t // decay_t)` (Python floor division, float
    /// `decay_t` allowed).
    Step {
        /// `decay_t` (`!= 0`).
        decay_t: f64,
        /// `decay_rate`.
        decay_rate: f64,
    },
    /// `MultiStepLRScheduler`: `v * decay_rate ** bisect_right(decay_t, t + 1)` (timm's
    /// milestone `m` applies from `t == m - 1`).
    MultiStep {
        /// `decay_t`, as given (timm assumes it sorted; `bisect_right` runs on it as is).
        decay_t: [i64; MAX_MILESTONES],
        /// How many of `decay_t` are used.
        len: usize,
        /// `decay_rate`.
        decay_rate: f64,
    },
}

impl TimmShape {
    /// The cycle structure of the cosine, tanh and poly shapes (`None` for the step shapes).
    pub const fn cycles(&self) -> Option<&TimmCycles> {
        match self {
            Self::Cosine { cycles, .. } | Self::Tanh { cycles, .. } | Self::Poly { cycles, .. } => {
                Some(cycles)
            }
            Self::Step { .. } | Self::MultiStep { .. } => None,
        }
    }
}

/// Arguments of [`TimmScheduler`]: the shape and the warmup (`t_in_epochs`, noise and
/// `lr_scale` are not modelled).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimmConfig {
    /// What follows the warmup.
    pub shape: TimmShape,
    /// `warmup_t`: warmup length (0: none).
    pub warmup_t: i64,
    /// `warmup_lr_init`: the lr at `t = 0` of the warmup.
    pub warmup_lr_init: f64,
    /// `warmup_prefix`: count the schedule's `t` from the end of the warmup. timm's
    /// default is `False` for the cycle schedulers and `True` for the step schedulers.
    pub warmup_prefix: bool,
}

impl TimmConfig {
    /// No warmup, with timm's default `warmup_prefix` for the shape.
    pub const fn new(shape: TimmShape) -> Self {
        let warmup_prefix = matches!(shape, TimmShape::Step { .. } | TimmShape::MultiStep { .. });
        Self { shape, warmup_t: 0, warmup_lr_init: 0.0, warmup_prefix }
    }

    /// timm's class name.
    pub const fn class_name(&self) -> &'static str {
        match self.shape {
            TimmShape::Cosine { .. } => "CosineLRScheduler",
            TimmShape::Tanh { .. } => "TanhLRScheduler",
            TimmShape::Poly { .. } => "PolyLRScheduler",
            TimmShape::Step { .. } => "StepLRScheduler",
            TimmShape::MultiStep { .. } => "MultiStepLRScheduler",
        }
    }
}

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
    config: TimmConfig,
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

/// `powers[k]` where `k` is an integral exponent below [`POWERS`], else the `pow` call
/// itself (with Python's `OverflowError` as a typed error).
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
    pow_checked(rate, k, param, t)
}

impl TimmScheduler {
    /// Builds the scheduler as timm's constructor does: `initial_lr` set to the group's lr
    /// where missing, every group's lr set to its base value, then to `warmup_lr_init`
    /// when `warmup_t != 0`. Validates everything first (timm's `assert`s, and the
    /// divisions by zero Python would raise later).
    pub fn new(config: TimmConfig, groups: &mut [ParamGroup]) -> Result<Self, SchedError> {
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
    pub fn config(&self) -> &TimmConfig {
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
                let Some((lr_max, t_curr, t_i)) = cycle::<R>(&cycles, self, v, t)? else {
                    return Ok(R::from_f64(cycles.lr_min));
                };
                let (m, k) = (R::from_f64(cycles.lr_min), R::from_f64(k_decay));
                let x = R::PI * pow_k(t_curr, k) / pow_k(t_i, k);
                Ok(m + R::from_f64(0.5) * (lr_max - m) * (R::ONE + x.cos()))
            }
            TimmShape::Tanh { cycles, lb, ub } => {
                let Some((lr_max, t_curr, t_i)) = cycle::<R>(&cycles, self, v, t)? else {
                    return Ok(R::from_f64(cycles.lr_min));
                };
                let m = R::from_f64(cycles.lr_min);
                let tr = t_curr / t_i;
                let x = R::from_f64(lb) * (R::ONE - tr) + R::from_f64(ub) * tr;
                Ok(m + R::from_f64(0.5) * (lr_max - m) * (R::ONE - x.tanh()))
            }
            TimmShape::Poly { cycles, power, k_decay } => {
                let Some((lr_max, t_curr, t_i)) = cycle::<R>(&cycles, self, v, t)? else {
                    return Ok(R::from_f64(cycles.lr_min));
                };
                let (m, k) = (R::from_f64(cycles.lr_min), R::from_f64(k_decay));
                let x = R::ONE - pow_k(t_curr, k) / pow_k(t_i, k);
                if x < R::ZERO && libm::trunc(power) != power {
                    return Err(SchedError::MathDomain { param: "k_decay", epoch: t });
                }
                Ok(m + (lr_max - m) * x.pow(R::from_f64(power)))
            }
            TimmShape::Step { decay_t, decay_rate } => {
                let q = py_floor_div(float_of(t), decay_t);
                Ok(v * R::from_f64(power(&self.powers, decay_rate, q, "decay_rate", t)?))
            }
            TimmShape::MultiStep { decay_t, len, decay_rate } => {
                let n = bisect_right(&decay_t[..len], t + 1);
                let n = crate::base::float_of_u64(n as u64);
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
            _ => floor_div_i64(t, self.d),
        }
    }
}

/// `(lr_max, t_curr, t_i)` of the cycle step `t` falls in, or `None` past `cycle_limit`.
#[inline(always)]
fn cycle<R: Real>(
    c: &TimmCycles,
    s: &TimmRule,
    v: R,
    t: i64,
) -> Result<Option<(R, R, R)>, SchedError> {
    let (i, t_i, t_curr) = if c.cycle_mul == 1.0 {
        let i = s.divider.floor_div(t);
        (i, float_of(c.t_initial), float_of(t - c.t_initial * i))
    } else {
        grown_cycle(c, t)?
    };
    if i >= c.cycle_limit {
        return Ok(None);
    }
    // pow(1, y) is 1 for every y (C99 F.9.4.4): timm's default decay needs no lookup.
    let gamma = if c.cycle_decay == 1.0 {
        1.0
    } else {
        power(&s.powers, c.cycle_decay, float_of(i), "cycle_decay", t)?
    };
    Ok(Some((v * R::from_f64(gamma), R::from_f64(t_curr), R::from_f64(t_i))))
}

/// `(i, t_i, t_curr)` for `cycle_mul != 1`, in timm's order. Never inlined: LLVM treats
/// `log` as speculatable and would otherwise compute both logarithms on every step, before
/// the `cycle_mul == 1` test.
#[inline(never)]
fn grown_cycle(c: &TimmCycles, t: i64) -> Result<(i64, f64, f64), SchedError> {
    // math.floor(math.log(1 - t / t_initial * (1 - cycle_mul), cycle_mul))
    let (tf, ti, mul) = (float_of(t), float_of(c.t_initial), c.cycle_mul);
    let x = 1.0 - tf / ti * (1.0 - mul);
    if x <= 0.0 || x.is_nan() {
        return Err(SchedError::MathDomain { param: "cycle_mul", epoch: t });
    }
    let l = ln(x) / ln(mul);
    if !l.is_finite() {
        return Err(SchedError::MathDomain { param: "cycle_mul", epoch: t });
    }
    let i = libm::floor(l);
    let p = pow_checked(mul, i, "cycle_mul", t)?;
    #[allow(clippy::cast_possible_truncation)] // |i| is far below 2^63 here
    Ok((i as i64, p * ti, tf - (1.0 - p) / (1.0 - mul) * ti))
}

/// `x ** k`, without the `pow` call for timm's default `k_decay = 1` (`pow(x, 1)` is `x`
/// exactly, C99 F.9.4.4).
#[inline(always)]
fn pow_k<R: Real>(x: R, k: R) -> R {
    if k == R::ONE { x } else { x.pow(k) }
}

/// Python's integer floor division `a // b` (`b != 0`), in 32 bits where both fit (a
/// 64-bit division costs several times more on x86-64).
#[inline(always)]
fn floor_div_i64(a: i64, b: i64) -> i64 {
    if let (Ok(a), Ok(b)) = (u32::try_from(a), u32::try_from(b)) {
        return i64::from(a / b);
    }
    a.div_euclid(b) - i64::from(b < 0 && a.rem_euclid(b) != 0)
}

/// `math.log` in `f64` through the crate's one math shim.
fn ln(x: f64) -> f64 {
    Real::ln(x)
}

/// Python's `a ** b` on floats, with `OverflowError` as a typed error naming `param`.
fn pow_checked(a: f64, b: f64, param: &'static str, t: i64) -> Result<f64, SchedError> {
    let r = Real::pow(a, b);
    // OverflowError, or ZeroDivisionError for `0.0 ** negative`.
    if r.is_finite() || !a.is_finite() || !b.is_finite() {
        Ok(r)
    } else {
        Err(SchedError::Overflow { param, epoch: t })
    }
}

/// Python's float floor division `a // b` (`float_floor_div`, `b != 0`). For an integral
/// `b` and integral `a` below 2^53 (timm's step and usual `decay_t`) it is the integer
/// floor division, computed as such (the same value, without `fmod`).
fn py_floor_div(a: f64, b: f64) -> f64 {
    #[allow(clippy::cast_possible_truncation)] // below 2^53 in magnitude: exact if integral
    let (ai, bi) = (a as i64, b as i64);
    if b.abs() < 9.0e15 && a.abs() < 9.0e15 && float_of(ai) == a && float_of(bi) == b && bi != 0 {
        let q = floor_div_i64(ai, bi);
        // Python returns -0.0 for a zero quotient of operands of opposite signs.
        return if q == 0 { libm::copysign(0.0, a / b) } else { float_of(q) };
    }
    let m = libm::fmod(a, b);
    let mut div = (a - m) / b;
    if m != 0.0 && ((b < 0.0) != (m < 0.0)) {
        div -= 1.0;
    }
    if div != 0.0 {
        let f = libm::floor(div);
        if div - f > 0.5 { f + 1.0 } else { f }
    } else {
        libm::copysign(0.0, a / b)
    }
}

/// Python's `bisect.bisect_right(list, x)`, on the list as given.
fn bisect_right(list: &[i64], x: i64) -> usize {
    let (mut lo, mut hi) = (0, list.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if x < list[mid] { hi = mid } else { lo = mid + 1 }
    }
    lo
}

/// timm's constructor `assert`s and the later Python errors, as typed errors.
fn validate(c: &TimmConfig) -> Result<(), SchedError> {
    let limit = |param, v| crate::base::step_count(param, v).map(drop);
    limit("warmup_t", c.warmup_t)?;
    finite("warmup_lr_init", c.warmup_lr_init)?;
    if let Some(cy) = c.shape.cycles() {
        limit("t_initial", cy.t_initial)?;
        limit("cycle_limit", cy.cycle_limit)?;
        if cy.t_initial <= 0 {
            return Err(SchedError::OutOfRange {
                param: "t_initial",
                value: float_of(cy.t_initial),
                expected: "> 0",
            });
        }
        if finite("lr_min", cy.lr_min)? < 0.0 {
            return Err(SchedError::OutOfRange {
                param: "lr_min",
                value: cy.lr_min,
                expected: ">= 0",
            });
        }
        let mul = finite("cycle_mul", cy.cycle_mul)?;
        if mul != 1.0 && mul <= 0.0 {
            // math.log(x, cycle_mul) needs a positive base (and base 1 divides by zero,
            // which timm avoids by its `cycle_mul != 1` branch).
            return Err(SchedError::OutOfRange { param: "cycle_mul", value: mul, expected: "> 0" });
        }
        finite("cycle_decay", cy.cycle_decay)?;
    }
    match c.shape {
        TimmShape::Cosine { k_decay, .. } => finite("k_decay", k_decay).map(drop),
        TimmShape::Tanh { cycles: cy, lb, ub } => {
            if finite("lb", lb)? >= finite("ub", ub)? {
                return Err(SchedError::OutOfRange { param: "lb", value: lb, expected: "< ub" });
            }
            if cy.cycle_limit < 0 {
                return Err(SchedError::OutOfRange {
                    param: "cycle_limit",
                    value: float_of(cy.cycle_limit),
                    expected: ">= 0",
                });
            }
            if c.warmup_t < 0 {
                return Err(SchedError::OutOfRange {
                    param: "warmup_t",
                    value: float_of(c.warmup_t),
                    expected: ">= 0",
                });
            }
            if c.warmup_lr_init < 0.0 {
                return Err(SchedError::OutOfRange {
                    param: "warmup_lr_init",
                    value: c.warmup_lr_init,
                    expected: ">= 0",
                });
            }
            Ok(())
        }
        TimmShape::Poly { power, k_decay, .. } => {
            finite("power", power)?;
            finite("k_decay", k_decay).map(drop)
        }
        TimmShape::Step { decay_t, decay_rate } => {
            if finite("decay_t", decay_t)? == 0.0 {
                return Err(SchedError::ZeroPeriod { param: "decay_t" });
            }
            finite("decay_rate", decay_rate).map(drop)
        }
        TimmShape::MultiStep { len, decay_rate, .. } => {
            if len > MAX_MILESTONES {
                return Err(SchedError::TooManyItems {
                    param: "decay_t",
                    got: len,
                    max: MAX_MILESTONES,
                });
            }
            finite("decay_rate", decay_rate).map(drop)
        }
    }
}

crate::macros::epoch_scheduler_api!(TimmScheduler);
crate::macros::closed_form_via_inherent!(TimmScheduler);

#[cfg(test)]
mod tests {
    use super::{bisect_right, py_floor_div};

    #[test]
    fn floor_division_is_pythons() {
        // Python: 7 // 2.5, -7 // 2.5, 7 // -3, -7 // -3, 7 // 3, 0 // -3 (-0.0), 9 // 3
        let cases = [
            (7.0, 2.5, 2.0),
            (-7.0, 2.5, -3.0),
            (7.0, -3.0, -3.0),
            (-7.0, -3.0, 2.0),
            (7.0, 3.0, 2.0),
            (0.0, -3.0, -0.0),
            (9.0, 3.0, 3.0),
            (5.5, 2.0, 2.0),
        ];
        for (a, b, want) in cases {
            let got: f64 = py_floor_div(a, b);
            assert_eq!(got.to_bits(), f64::to_bits(want), "{a} // {b}");
        }
    }

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

    #[test]
    fn bisect_right_is_pythons() {
        assert_eq!(bisect_right(&[9, 12, 18], 9), 1);
        assert_eq!(bisect_right(&[9, 12, 18], 8), 0);
        assert_eq!(bisect_right(&[9, 12, 18], 40), 3);
        assert_eq!(bisect_right(&[], 1), 0);
    }
}

//! λ(t) of every [`TransformersSchedule`], in the exact operation order of the Python
//! function it names (transformers 5.24), every operation Python can raise on (`**`, `/`,
//! `math.cos`, `math.sqrt`) through [`crate::math::raising`], so that a step fails where
//! Python raises.

use super::{TransformersSchedule, WsdShape};
use crate::SchedError;
use crate::math::Real;
use crate::math::python::{max, max_one, max_zero, mod_one};
use crate::math::raising::{self, raised};

impl TransformersSchedule {
    /// `λ(t)` in `f64`, Python's exact operation order ([`SchedError::PythonRaised`] where
    /// Python raises).
    #[inline]
    pub fn eval(&self, step: i64) -> Result<f64, SchedError> {
        self.eval_in::<f64>(step)
    }

    /// `λ(t)` evaluated in `R` (the formula of [`TransformersSchedule::eval`] with `R` arithmetic).
    #[allow(clippy::too_many_lines)] // one arm per transformers function, each its formula
    pub(crate) fn eval_in<R: Real>(&self, t: i64) -> Result<R, SchedError> {
        let warmup = |w: i64| R::from_i64(t) / max_one::<R>(w);
        let half = R::from_f64(0.5);
        Ok(match *self {
            Self::Constant => R::ONE,
            Self::ConstantWithWarmup { num_warmup_steps: w } => {
                if t < w {
                    warmup(w)
                } else {
                    R::ONE
                }
            }
            Self::LinearWithWarmup { num_warmup_steps: w, num_training_steps: n } => {
                if t < w {
                    warmup(w)
                } else {
                    max_zero(R::from_i64(n - t) / max_one::<R>(n - w))
                }
            }
            Self::CosineWithWarmup {
                num_warmup_steps: w,
                num_training_steps: n,
                num_cycles,
                min_lr_rate,
                ..
            } => {
                if t < w {
                    warmup(w)
                } else {
                    let progress = R::from_i64(t - w) / max_one::<R>(n - w);
                    cosine_above(num_cycles, progress, min_lr_rate, t)?
                }
            }
            Self::CosineWithHardRestarts {
                num_warmup_steps: w,
                num_training_steps: n,
                num_cycles,
            } => {
                if t < w {
                    warmup(w)
                } else {
                    let progress = R::from_i64(t - w) / max_one::<R>(n - w);
                    if progress >= R::ONE {
                        R::ZERO
                    } else {
                        let x = mod_one(R::from_f64(num_cycles) * progress);
                        let c = raising::cos(R::PI * x).map_err(raised("num_cycles", t))?;
                        max_zero(half * (R::ONE + c))
                    }
                }
            }
            Self::PolynomialDecay {
                num_warmup_steps: w,
                num_training_steps: n,
                lr_end,
                power,
                lr_init,
            } => {
                let (end, init) = (R::from_f64(lr_end), R::from_f64(lr_init));
                // `x / lr_init`: optimizer.defaults["lr"] may be 0 (with a negative lr_end).
                let over_init = |x: R| raising::div(x, init).map_err(raised("lr", t));
                if t < w {
                    warmup(w)
                } else if t > n {
                    over_init(end)?
                } else {
                    let range = init - end;
                    // `n - w != 0`: checked at construction.
                    let remaining = R::ONE - R::from_i64(t - w) / R::from_i64(n - w);
                    let p =
                        raising::pow(remaining, R::from_f64(power)).map_err(raised("power", t))?;
                    over_init(range * p + end)?
                }
            }
            Self::InverseSqrt { num_warmup_steps: w, timescale } => {
                if t < w {
                    warmup(w)
                } else {
                    let shift = timescale - w;
                    // `timescale > 0`: checked at construction.
                    let x = R::from_i64(t + shift) / R::from_i64(timescale);
                    let at = raised("timescale", t);
                    raising::div(R::ONE, raising::sqrt(x).map_err(&at)?).map_err(at)?
                }
            }
            Self::CosineWithMinLrRate {
                num_warmup_steps: w,
                num_training_steps: n,
                num_cycles,
                min_lr_rate,
                warmup_lr_rate,
            } => {
                let (tf, wf, nf) = (R::from_i64(t), R::from_i64(w), R::from_i64(n));
                if tf < wf {
                    match warmup_lr_rate {
                        None => (tf + R::ONE) / max(R::ONE, wf),
                        Some(r) => {
                            let r = R::from_f64(r);
                            r + (R::ONE - r) * tf / max(R::ONE, wf - R::ONE)
                        }
                    }
                } else {
                    let progress = (tf - wf + R::ONE) / max(R::ONE, nf - wf);
                    cosine_above(num_cycles, progress, min_lr_rate, t)?
                }
            }
            Self::Wsd {
                num_warmup_steps: w,
                num_stable_steps: s,
                num_decay_steps: d,
                warmup_type,
                decay_type,
                min_lr_ratio,
                num_cycles,
            } => {
                let ratio = R::from_f64(min_lr_ratio);
                if t < w {
                    let p = warmup(w);
                    let at = raised("num_warmup_steps", t);
                    let f = match warmup_type {
                        WsdShape::Linear => p,
                        WsdShape::Cosine => {
                            half * (R::ONE - raising::cos(R::PI * p).map_err(at)?)
                        }
                        WsdShape::OneMinusSqrt => R::ONE - raising::sqrt(R::ONE - p).map_err(at)?,
                    };
                    max_zero(f * (R::ONE - ratio) + ratio)
                } else if t < w + s {
                    R::ONE
                } else if t < w + s + d {
                    let p = R::from_i64(t - w - s) / max_one::<R>(d);
                    let f = match decay_type {
                        WsdShape::Linear => R::ONE - p,
                        WsdShape::Cosine => {
                            let x = R::PI * R::from_f64(num_cycles) * R::TWO * p;
                            half * (R::ONE + raising::cos(x).map_err(raised("num_cycles", t))?)
                        }
                        WsdShape::OneMinusSqrt => {
                            R::ONE - raising::sqrt(p).map_err(raised("num_decay_steps", t))?
                        }
                    };
                    max_zero(f * (R::ONE - ratio) + ratio)
                } else {
                    ratio
                }
            }
        })
    }
}

/// The cosine decay of `get_cosine_schedule_with_warmup` and its min-lr variants, for a
/// `progress` past the warmup:
/// `f = 0.5 * (1.0 + cos(pi * float(num_cycles) * 2.0 * progress))`,
/// `max(0, f * (1 - min_lr_rate) + min_lr_rate)`; `math.cos` of an infinite angle (a huge
/// `num_cycles`) raises at step `t`.
#[inline(always)]
fn cosine_above<R: Real>(
    num_cycles: f64,
    progress: R,
    min_lr_rate: f64,
    t: i64,
) -> Result<R, SchedError> {
    let half = R::from_f64(0.5);
    let x = R::PI * R::from_f64(num_cycles) * R::TWO * progress;
    let f = half * (R::ONE + raising::cos(x).map_err(raised("num_cycles", t))?);
    let rate = R::from_f64(min_lr_rate);
    Ok(max_zero(f * (R::ONE - rate) + rate))
}

//! [`TransformersSchedule`]: transformers' `lr_lambda` functions as data, and their
//! evaluation in the Python functions' operation order.

use crate::SchedError;

/// The warmup and decay shapes of `get_wsd_schedule` (`'linear'`, `'cosine'`, `'1-sqrt'`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WsdShape {
    /// `'linear'`: warmup `p`, decay `1 - p`.
    Linear,
    /// `'cosine'`: warmup `0.5 * (1 - cos(pi * p))`, decay
    /// `0.5 * (1 + cos(pi * num_cycles * 2 * p))`.
    Cosine,
    /// `'1-sqrt'`: warmup `1 - sqrt(1 - p)`, decay `1 - sqrt(p)`.
    OneMinusSqrt,
}

/// One of transformers' `lr_lambda` functions with its bound arguments (`functools.partial`).
///
/// Steps are Python `int`s, at most 2^53 in magnitude; fractional parameters are Python
/// `float`s. Construct through the named constructors (each with the Python function's defaults),
/// a variant literal for other values, or [`crate::spec::build`]; [`crate::TransformersScheduler::new`]
/// validates them.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum TransformersSchedule {
    /// `get_constant_schedule`: `λ = 1`.
    Constant,
    /// `get_constant_schedule_with_warmup`: warmup, then `1.0`.
    ConstantWithWarmup {
        /// `num_warmup_steps`.
        num_warmup_steps: i64,
    },
    /// `get_linear_schedule_with_warmup`: warmup, then
    /// `max(0.0, float(T - t) / float(max(1, T - W)))`.
    LinearWithWarmup {
        /// `num_warmup_steps` (`W`).
        num_warmup_steps: i64,
        /// `num_training_steps` (`T`).
        num_training_steps: i64,
    },
    /// `get_cosine_schedule_with_warmup` (`min_lr_rate = 0`) and
    /// `get_cosine_with_min_lr_schedule_with_warmup`: warmup, then with
    /// `p = float(t - W) / float(max(1, T - W))`,
    /// `f = 0.5 * (1.0 + cos(pi * float(num_cycles) * 2.0 * p))`,
    /// `max(0, f * (1 - min_lr_rate) + min_lr_rate)`.
    CosineWithWarmup {
        /// `num_warmup_steps` (`W`).
        num_warmup_steps: i64,
        /// `num_training_steps` (`T`).
        num_training_steps: i64,
        /// `num_cycles` (0.5: half a cosine).
        num_cycles: f64,
        /// `min_lr_rate` (0 for `get_cosine_schedule_with_warmup`; `min_lr / lr` when
        /// given as `min_lr`).
        min_lr_rate: f64,
        /// Whether the function is `get_cosine_with_min_lr_schedule_with_warmup` (only the
        /// name differs).
        with_min_lr: bool,
    },
    /// `get_cosine_with_hard_restarts_schedule_with_warmup`: warmup, then `0.0` once
    /// `p >= 1`, else `max(0.0, 0.5 * (1.0 + cos(pi * ((float(num_cycles) * p) % 1.0))))`.
    CosineWithHardRestarts {
        /// `num_warmup_steps` (`W`).
        num_warmup_steps: i64,
        /// `num_training_steps` (`T`).
        num_training_steps: i64,
        /// `num_cycles` (an `int` in transformers' signature, used as `float(num_cycles)`).
        num_cycles: f64,
    },
    /// `get_polynomial_decay_schedule_with_warmup`: warmup; past `T`, `lr_end / lr_init`;
    /// else `((lr_init - lr_end) * (1 - (t - W) / (T - W)) ** power + lr_end) / lr_init`.
    PolynomialDecay {
        /// `num_warmup_steps` (`W`).
        num_warmup_steps: i64,
        /// `num_training_steps` (`T`, `> W`).
        num_training_steps: i64,
        /// `lr_end` (below `lr_init`).
        lr_end: f64,
        /// `power`.
        power: f64,
        /// `optimizer.defaults["lr"]` at construction.
        lr_init: f64,
    },
    /// `get_inverse_sqrt_schedule`: warmup, then
    /// `1.0 / sqrt((t + timescale - W) / timescale)`.
    InverseSqrt {
        /// `num_warmup_steps` (`W`).
        num_warmup_steps: i64,
        /// `timescale` (`> 0`; defaults to `W or 10_000`).
        timescale: i64,
    },
    /// `get_cosine_with_min_lr_schedule_with_warmup_lr_rate`, in floats throughout: warmup
    /// `(t + 1.0) / max(1.0, W)`, or with a `warmup_lr_rate` `r`,
    /// `r + (1.0 - r) * t / max(1, W - 1)`; then with
    /// `p = (t - W + 1.0) / max(1.0, T - W)`, the cosine of [`TransformersSchedule::CosineWithWarmup`].
    CosineWithMinLrRate {
        /// `num_warmup_steps` (`W`).
        num_warmup_steps: i64,
        /// `num_training_steps` (`T`).
        num_training_steps: i64,
        /// `num_cycles`.
        num_cycles: f64,
        /// `min_lr_rate` (or `min_lr / lr`).
        min_lr_rate: f64,
        /// `warmup_lr_rate` (`None`: Python's `None`).
        warmup_lr_rate: Option<f64>,
    },
    /// `get_wsd_schedule`: warmup-stable-decay. Warmup by `warmup_type` from
    /// `min_lr_ratio` to 1, `num_stable_steps` at 1, decay by `decay_type` to
    /// `min_lr_ratio` over `num_decay_steps`, then `min_lr_ratio`.
    Wsd {
        /// `num_warmup_steps`.
        num_warmup_steps: i64,
        /// `num_stable_steps` (given, or `num_training_steps - warmup - decay`).
        num_stable_steps: i64,
        /// `num_decay_steps`.
        num_decay_steps: i64,
        /// `warmup_type`.
        warmup_type: WsdShape,
        /// `decay_type`.
        decay_type: WsdShape,
        /// `min_lr_ratio`.
        min_lr_ratio: f64,
        /// `num_cycles` (cosine decay only).
        num_cycles: f64,
    },
}

impl TransformersSchedule {
    /// `get_constant_schedule(optimizer)`.
    pub const fn constant() -> Self {
        Self::Constant
    }

    /// `get_constant_schedule_with_warmup(optimizer, num_warmup_steps)`.
    pub const fn constant_with_warmup(num_warmup_steps: i64) -> Self {
        Self::ConstantWithWarmup { num_warmup_steps }
    }

    /// `get_linear_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps)`.
    pub const fn linear_with_warmup(num_warmup_steps: i64, num_training_steps: i64) -> Self {
        Self::LinearWithWarmup { num_warmup_steps, num_training_steps }
    }

    /// `get_cosine_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps,
    /// num_cycles=0.5)`.
    pub const fn cosine_with_warmup(num_warmup_steps: i64, num_training_steps: i64) -> Self {
        Self::CosineWithWarmup {
            num_warmup_steps,
            num_training_steps,
            num_cycles: 0.5,
            min_lr_rate: 0.0,
            with_min_lr: false,
        }
    }

    /// `get_cosine_with_hard_restarts_schedule_with_warmup(optimizer, num_warmup_steps,
    /// num_training_steps, num_cycles=1)`.
    pub const fn cosine_with_hard_restarts(num_warmup_steps: i64, num_training_steps: i64) -> Self {
        Self::CosineWithHardRestarts { num_warmup_steps, num_training_steps, num_cycles: 1.0 }
    }

    /// `get_polynomial_decay_schedule_with_warmup(optimizer, num_warmup_steps,
    /// num_training_steps, lr_end=1e-7, power=1.0)` on an optimizer whose
    /// `defaults["lr"]` is `lr_init`.
    pub const fn polynomial_decay(
        num_warmup_steps: i64,
        num_training_steps: i64,
        lr_init: f64,
    ) -> Self {
        Self::PolynomialDecay {
            num_warmup_steps,
            num_training_steps,
            lr_end: 1e-7,
            power: 1.0,
            lr_init,
        }
    }

    /// `get_inverse_sqrt_schedule(optimizer, num_warmup_steps, timescale=None)`:
    /// `timescale = num_warmup_steps or 10_000`.
    pub const fn inverse_sqrt(num_warmup_steps: i64) -> Self {
        let timescale = if num_warmup_steps != 0 { num_warmup_steps } else { 10_000 };
        Self::InverseSqrt { num_warmup_steps, timescale }
    }

    /// `get_cosine_with_min_lr_schedule_with_warmup(optimizer, num_warmup_steps,
    /// num_training_steps, num_cycles=0.5, min_lr_rate=min_lr_rate)`.
    pub const fn cosine_with_min_lr(
        num_warmup_steps: i64,
        num_training_steps: i64,
        min_lr_rate: f64,
    ) -> Self {
        Self::CosineWithWarmup {
            num_warmup_steps,
            num_training_steps,
            num_cycles: 0.5,
            min_lr_rate,
            with_min_lr: true,
        }
    }

    /// `get_cosine_with_min_lr_schedule_with_warmup_lr_rate(optimizer, num_warmup_steps,
    /// num_training_steps, num_cycles=0.5, min_lr_rate=min_lr_rate, warmup_lr_rate=None)`.
    pub const fn cosine_with_min_lr_rate(
        num_warmup_steps: i64,
        num_training_steps: i64,
        min_lr_rate: f64,
    ) -> Self {
        Self::CosineWithMinLrRate {
            num_warmup_steps,
            num_training_steps,
            num_cycles: 0.5,
            min_lr_rate,
            warmup_lr_rate: None,
        }
    }

    /// `get_wsd_schedule(optimizer, num_warmup_steps, num_decay_steps,
    /// num_stable_steps=num_stable_steps, warmup_type='linear', decay_type='cosine',
    /// min_lr_ratio=0, num_cycles=0.5)`.
    pub const fn wsd(num_warmup_steps: i64, num_decay_steps: i64, num_stable_steps: i64) -> Self {
        Self::Wsd {
            num_warmup_steps,
            num_stable_steps,
            num_decay_steps,
            warmup_type: WsdShape::Linear,
            decay_type: WsdShape::Cosine,
            min_lr_ratio: 0.0,
            num_cycles: 0.5,
        }
    }

    /// transformers' function name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Constant => "get_constant_schedule",
            Self::ConstantWithWarmup { .. } => "get_constant_schedule_with_warmup",
            Self::LinearWithWarmup { .. } => "get_linear_schedule_with_warmup",
            Self::CosineWithWarmup { with_min_lr: false, .. } => "get_cosine_schedule_with_warmup",
            Self::CosineWithWarmup { with_min_lr: true, .. } => {
                "get_cosine_with_min_lr_schedule_with_warmup"
            }
            Self::CosineWithHardRestarts { .. } => {
                "get_cosine_with_hard_restarts_schedule_with_warmup"
            }
            Self::PolynomialDecay { .. } => "get_polynomial_decay_schedule_with_warmup",
            Self::InverseSqrt { .. } => "get_inverse_sqrt_schedule",
            Self::CosineWithMinLrRate { .. } => {
                "get_cosine_with_min_lr_schedule_with_warmup_lr_rate"
            }
            Self::Wsd { .. } => "get_wsd_schedule",
        }
    }

    /// Checks the parameters as transformers does at construction, plus the divisions by
    /// zero and domain errors Python would raise at some later step (named by parameter).
    pub fn validate(&self) -> Result<(), SchedError> {
        let steps = |param, v| crate::protocol::base::step_count(param, v).map(drop);
        let finite = crate::protocol::base::finite;
        match *self {
            Self::Constant => Ok(()),
            Self::ConstantWithWarmup { num_warmup_steps } => {
                steps("num_warmup_steps", num_warmup_steps)
            }
            Self::LinearWithWarmup { num_warmup_steps, num_training_steps } => {
                steps("num_warmup_steps", num_warmup_steps)?;
                steps("num_training_steps", num_training_steps)
            }
            Self::CosineWithWarmup {
                num_warmup_steps,
                num_training_steps,
                num_cycles,
                min_lr_rate,
                ..
            } => {
                steps("num_warmup_steps", num_warmup_steps)?;
                steps("num_training_steps", num_training_steps)?;
                finite("num_cycles", num_cycles)?;
                finite("min_lr_rate", min_lr_rate).map(drop)
            }
            Self::CosineWithHardRestarts { num_warmup_steps, num_training_steps, num_cycles } => {
                steps("num_warmup_steps", num_warmup_steps)?;
                steps("num_training_steps", num_training_steps)?;
                finite("num_cycles", num_cycles).map(drop)
            }
            Self::PolynomialDecay {
                num_warmup_steps,
                num_training_steps,
                lr_end,
                power,
                lr_init,
            } => {
                steps("num_warmup_steps", num_warmup_steps)?;
                steps("num_training_steps", num_training_steps)?;
                finite("lr_end", lr_end)?;
                finite("power", power)?;
                finite("lr", lr_init)?;
                if lr_init <= lr_end {
                    return Err(SchedError::OutOfRange {
                        param: "lr_end",
                        value: lr_end,
                        expected: "smaller than the initial lr",
                    });
                }
                // `(t - W) / (T - W)` at t == W == T: ZeroDivisionError in Python.
                if num_training_steps == num_warmup_steps {
                    return Err(SchedError::ZeroPeriod { param: "num_training_steps" });
                }
                Ok(())
            }
            Self::InverseSqrt { num_warmup_steps, timescale } => {
                steps("num_warmup_steps", num_warmup_steps)?;
                steps("timescale", timescale)?;
                if timescale <= 0 {
                    return Err(SchedError::OutOfRange {
                        param: "timescale",
                        value: crate::protocol::base::float_of(timescale),
                        expected: "a positive integer",
                    });
                }
                Ok(())
            }
            Self::CosineWithMinLrRate {
                num_warmup_steps,
                num_training_steps,
                num_cycles,
                min_lr_rate,
                warmup_lr_rate,
            } => {
                steps("num_warmup_steps", num_warmup_steps)?;
                steps("num_training_steps", num_training_steps)?;
                finite("num_cycles", num_cycles)?;
                finite("min_lr_rate", min_lr_rate)?;
                if let Some(r) = warmup_lr_rate {
                    finite("warmup_lr_rate", r)?;
                }
                Ok(())
            }
            Self::Wsd {
                num_warmup_steps,
                num_stable_steps,
                num_decay_steps,
                min_lr_ratio,
                num_cycles,
                ..
            } => {
                steps("num_warmup_steps", num_warmup_steps)?;
                steps("num_stable_steps", num_stable_steps)?;
                steps("num_decay_steps", num_decay_steps)?;
                finite("min_lr_ratio", min_lr_ratio)?;
                finite("num_cycles", num_cycles).map(drop)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test.
    use super::TransformersSchedule as S;
    use crate::spec::{Value, build};
    use crate::{ParamGroup, Scheduler};

    /// Every named constructor is the schedule the Python function builds with only its
    /// required arguments given (its defaults are the function's defaults).
    #[test]
    fn named_constructors_have_pythons_defaults() {
        let (w, t) = (Value::Int(3), Value::Int(20));
        type Case<'a> = (&'a str, &'a [(&'a str, Value<'a>)], S);
        let cases: [Case<'_>; 10] = [
            ("get_constant_schedule", &[], S::constant()),
            (
                "get_constant_schedule_with_warmup",
                &[("num_warmup_steps", w)],
                S::constant_with_warmup(3),
            ),
            (
                "get_linear_schedule_with_warmup",
                &[("num_warmup_steps", w), ("num_training_steps", t)],
                S::linear_with_warmup(3, 20),
            ),
            (
                "get_cosine_schedule_with_warmup",
                &[("num_warmup_steps", w), ("num_training_steps", t)],
                S::cosine_with_warmup(3, 20),
            ),
            (
                "get_cosine_with_hard_restarts_schedule_with_warmup",
                &[("num_warmup_steps", w), ("num_training_steps", t)],
                S::cosine_with_hard_restarts(3, 20),
            ),
            (
                "get_polynomial_decay_schedule_with_warmup",
                &[("num_warmup_steps", w), ("num_training_steps", t)],
                S::polynomial_decay(3, 20, 0.1),
            ),
            ("get_inverse_sqrt_schedule", &[("num_warmup_steps", w)], S::inverse_sqrt(3)),
            (
                "get_cosine_with_min_lr_schedule_with_warmup",
                &[
                    ("num_warmup_steps", w),
                    ("num_training_steps", t),
                    ("min_lr_rate", Value::Float(0.1)),
                ],
                S::cosine_with_min_lr(3, 20, 0.1),
            ),
            (
                "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
                &[
                    ("num_warmup_steps", w),
                    ("num_training_steps", t),
                    ("min_lr_rate", Value::Float(0.1)),
                ],
                S::cosine_with_min_lr_rate(3, 20, 0.1),
            ),
            (
                "get_wsd_schedule",
                &[
                    ("num_warmup_steps", w),
                    ("num_decay_steps", Value::Int(5)),
                    ("num_stable_steps", Value::Int(7)),
                ],
                S::wsd(3, 5, 7),
            ),
        ];
        for (name, kwargs, want) in cases {
            let mut groups = [ParamGroup::new(0.1)];
            let Scheduler::Transformers(built) = build(name, kwargs, &mut groups).unwrap() else {
                panic!("{name}: not a transformers scheduler");
            };
            assert_eq!(*built.schedule(), want, "{name}");
            assert_eq!(want.name(), name);
        }
        assert_eq!(S::inverse_sqrt(0), S::InverseSqrt { num_warmup_steps: 0, timescale: 10_000 });
    }
}

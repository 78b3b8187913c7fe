//! transformers' `get_*_schedule*` functions from keyword arguments.

use crate::math::raising;
use crate::spec::Value;
use crate::spec::kwargs::Kwargs;
use crate::transformers::{TransformersSchedule, TransformersScheduler, WsdShape};
use crate::{ParamGroup, SchedError, Scheduler};

const SHAPES: &[(&str, WsdShape)] = &[
    ("linear", WsdShape::Linear),
    ("cosine", WsdShape::Cosine),
    ("1-sqrt", WsdShape::OneMinusSqrt),
];

/// `min_lr_rate` from `min_lr` / `min_lr_rate` as transformers resolves them (exactly one
/// must be given; `min_lr` is divided by `optimizer.defaults["lr"]`, Python's
/// `ZeroDivisionError` for an lr of 0).
fn min_lr_rate(k: &mut Kwargs<'_, '_>, lr_init: f64) -> Result<f64, SchedError> {
    match (k.opt_float("min_lr")?, k.opt_float("min_lr_rate")?) {
        (Some(_), Some(_)) => Err(SchedError::Conflict { param: "min_lr", other: "min_lr_rate" }),
        (Some(min_lr), None) => {
            raising::div(min_lr, lr_init).map_err(raising::raised_at_build("min_lr"))
        }
        (None, Some(rate)) => Ok(rate),
        (None, None) => Err(SchedError::MissingParameter { param: "min_lr (or min_lr_rate)" }),
    }
}

/// Builds transformers' function `name` on `groups`. `optimizer.defaults["lr"]` (used by
/// `get_polynomial_decay_schedule_with_warmup` and by `min_lr`) is the first group's lr.
pub(crate) fn build<'a>(
    name: &str,
    kwargs: &[(&str, Value<'_>)],
    groups: &mut [ParamGroup],
) -> Result<Scheduler<'a>, SchedError> {
    let lr_init = groups.first().map(|g| g.lr).ok_or(SchedError::NoGroups)?;
    let mut k = Kwargs::new(kwargs)?;
    let warmup = |k: &mut Kwargs<'_, '_>| k.int("num_warmup_steps", None);
    let training = |k: &mut Kwargs<'_, '_>| k.int("num_training_steps", None);
    let schedule = match name {
        "get_constant_schedule" => TransformersSchedule::Constant,
        "get_constant_schedule_with_warmup" => {
            TransformersSchedule::ConstantWithWarmup { num_warmup_steps: warmup(&mut k)? }
        }
        "get_linear_schedule_with_warmup" => TransformersSchedule::LinearWithWarmup {
            num_warmup_steps: warmup(&mut k)?,
            num_training_steps: training(&mut k)?,
        },
        "get_cosine_schedule_with_warmup" => TransformersSchedule::CosineWithWarmup {
            num_warmup_steps: warmup(&mut k)?,
            num_training_steps: training(&mut k)?,
            num_cycles: k.float("num_cycles", 0.5)?,
            min_lr_rate: 0.0,
            with_min_lr: false,
        },
        "get_cosine_with_hard_restarts_schedule_with_warmup" => {
            TransformersSchedule::CosineWithHardRestarts {
                num_warmup_steps: warmup(&mut k)?,
                num_training_steps: training(&mut k)?,
                num_cycles: k.float("num_cycles", 1.0)?,
            }
        }
        "get_polynomial_decay_schedule_with_warmup" => TransformersSchedule::PolynomialDecay {
            num_warmup_steps: warmup(&mut k)?,
            num_training_steps: training(&mut k)?,
            lr_end: k.float("lr_end", 1e-7)?,
            power: k.float("power", 1.0)?,
            lr_init,
        },
        "get_inverse_sqrt_schedule" => {
            let num_warmup_steps = warmup(&mut k)?;
            // `timescale = num_warmup_steps or 10_000` when None.
            let timescale = match k.opt_int("timescale")? {
                Some(t) => t,
                None if num_warmup_steps != 0 => num_warmup_steps,
                None => 10_000,
            };
            TransformersSchedule::InverseSqrt { num_warmup_steps, timescale }
        }
        "get_cosine_with_min_lr_schedule_with_warmup" => TransformersSchedule::CosineWithWarmup {
            num_warmup_steps: warmup(&mut k)?,
            num_training_steps: training(&mut k)?,
            num_cycles: k.float("num_cycles", 0.5)?,
            min_lr_rate: min_lr_rate(&mut k, lr_init)?,
            with_min_lr: true,
        },
        "get_cosine_with_min_lr_schedule_with_warmup_lr_rate" => {
            TransformersSchedule::CosineWithMinLrRate {
                num_warmup_steps: warmup(&mut k)?,
                num_training_steps: training(&mut k)?,
                num_cycles: k.float("num_cycles", 0.5)?,
                min_lr_rate: min_lr_rate(&mut k, lr_init)?,
                warmup_lr_rate: k.opt_float("warmup_lr_rate")?,
            }
        }
        "get_wsd_schedule" => {
            let num_warmup_steps = warmup(&mut k)?;
            let num_decay_steps = k.int("num_decay_steps", None)?;
            let training = k.opt_int("num_training_steps")?;
            let stable = k.opt_int("num_stable_steps")?;
            let warmup_type =
                k.choice("warmup_type", "linear", SHAPES, "linear, cosine, 1-sqrt")?;
            let decay_type = k.choice("decay_type", "cosine", SHAPES, "linear, cosine, 1-sqrt")?;
            let num_stable_steps = match (stable, training) {
                (Some(s), _) => s,
                (None, Some(t)) => {
                    t.saturating_sub(num_warmup_steps).saturating_sub(num_decay_steps)
                }
                (None, None) => {
                    return Err(SchedError::MissingParameter {
                        param: "num_training_steps (or num_stable_steps)",
                    });
                }
            };
            TransformersSchedule::Wsd {
                num_warmup_steps,
                num_stable_steps,
                num_decay_steps,
                warmup_type,
                decay_type,
                min_lr_ratio: k.float("min_lr_ratio", 0.0)?,
                num_cycles: k.float("num_cycles", 0.5)?,
            }
        }
        _ => {
            return Err(SchedError::UnknownChoice {
                param: "scheduler",
                expected: crate::registry::LEAF_NAMES,
            });
        }
    };
    let last_epoch = k.last_epoch()?;
    k.finish()?;
    Ok(TransformersScheduler::new(schedule, last_epoch, groups)?.into())
}

//! timm's `*LRScheduler` classes from keyword arguments.

use crate::spec::Value;
use crate::spec::kwargs::{Kwargs, as_int};
use crate::timm::{TimmCycles, TimmScheduler, TimmSchedulerConfig, TimmShape};
use crate::{MAX_MILESTONES, ParamGroup, SchedError, Scheduler};

/// The cycle arguments shared by the cosine, tanh and poly schedulers, with timm's defaults.
fn cycles(k: &mut Kwargs<'_, '_>) -> Result<TimmCycles, SchedError> {
    Ok(TimmCycles {
        t_initial: k.int("t_initial", None)?,
        lr_min: k.float("lr_min", 0.0)?,
        cycle_mul: k.float("cycle_mul", 1.0)?,
        cycle_decay: k.float("cycle_decay", 1.0)?,
        cycle_limit: k.int("cycle_limit", Some(1))?,
    })
}

/// The arguments timm accepts that sched-core does not model, accepted at their defaults:
/// `t_in_epochs=True`, no noise (`noise_range_t=None`, any `noise_pct`, `noise_std`,
/// `noise_seed`), `initialize=True`.
fn defaults_only(k: &mut Kwargs<'_, '_>) -> Result<(), SchedError> {
    if !k.boolean("t_in_epochs", true)? {
        return Err(SchedError::Unsupported { what: "t_in_epochs=False (per-update stepping)" });
    }
    if !matches!(k.get("noise_range_t"), None | Some(Value::None)) {
        return Err(SchedError::Unsupported { what: "noise_range_t (lr noise)" });
    }
    k.float("noise_pct", 0.67)?;
    k.float("noise_std", 1.0)?;
    k.opt_int("noise_seed")?;
    if !k.boolean("initialize", true)? {
        return Err(SchedError::Unsupported { what: "initialize=False" });
    }
    Ok(())
}

/// Builds timm's class `name` on `groups` (construction writes timm's row 0).
pub(crate) fn build<'a>(
    name: &str,
    kwargs: &[(&str, Value<'_>)],
    groups: &mut [ParamGroup],
) -> Result<Scheduler<'a>, SchedError> {
    let mut k = Kwargs::new(kwargs)?;
    let shape = match name {
        "CosineLRScheduler" => {
            TimmShape::Cosine { cycles: cycles(&mut k)?, k_decay: k.float("k_decay", 1.0)? }
        }
        "TanhLRScheduler" => TimmShape::Tanh {
            cycles: cycles(&mut k)?,
            lb: k.float("lb", -7.0)?,
            ub: k.float("ub", 3.0)?,
        },
        "PolyLRScheduler" => TimmShape::Poly {
            cycles: cycles(&mut k)?,
            power: k.float("power", 0.5)?,
            k_decay: k.float("k_decay", 1.0)?,
        },
        "StepLRScheduler" => TimmShape::Step {
            decay_t: k.float_required("decay_t")?,
            decay_rate: k.float("decay_rate", 1.0)?,
        },
        "MultiStepLRScheduler" => {
            let mut decay_t = [0i64; MAX_MILESTONES];
            let items = match k.get("decay_t") {
                Some(Value::List(items)) => items,
                None => return Err(SchedError::MissingParameter { param: "decay_t" }),
                Some(_) => {
                    return Err(SchedError::WrongType {
                        param: "decay_t",
                        expected: "a list of integers",
                    });
                }
            };
            if items.len() > MAX_MILESTONES {
                return Err(SchedError::TooManyItems {
                    param: "decay_t",
                    got: items.len(),
                    max: MAX_MILESTONES,
                });
            }
            for (o, v) in decay_t.iter_mut().zip(items) {
                *o = as_int("decay_t", *v)?;
            }
            TimmShape::MultiStep {
                decay_t,
                len: items.len(),
                decay_rate: k.float("decay_rate", 1.0)?,
            }
        }
        _ => {
            return Err(SchedError::UnknownChoice {
                param: "scheduler",
                expected: crate::registry::LEAF_NAMES,
            });
        }
    };
    let mut config = TimmSchedulerConfig::new(shape);
    config.warmup_t = k.int("warmup_t", Some(0))?;
    config.warmup_lr_init = k.float("warmup_lr_init", 0.0)?;
    config.warmup_prefix = k.boolean("warmup_prefix", config.warmup_prefix)?;
    defaults_only(&mut k)?;
    k.finish()?;
    Ok(TimmScheduler::new(config, groups)?.into())
}

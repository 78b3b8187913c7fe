//! optax's schedule functions from keyword arguments.

use crate::optax::{
    Interpolation, MAX_LEAVES, MAX_PIECES, OptaxLeaf, OptaxPower, OptaxSchedule, OptaxScheduler,
};
use crate::registry::{Library, find};
use crate::spec::Value;
use crate::spec::kwargs::{Kwargs, as_float, as_int, int_f64};
use crate::{ParamGroup, SchedError, Scheduler};

/// Builds optax's function `name` as an [`OptaxScheduler`] on `groups`.
pub(crate) fn build<'a>(
    name: &str,
    kwargs: &[(&str, Value<'_>)],
    groups: &mut [ParamGroup],
) -> Result<Scheduler<'a>, SchedError> {
    let (schedule, name) = schedule(name, kwargs, 0)?;
    Ok(OptaxScheduler::new(schedule, name, groups)?.into())
}

/// An exponent: a Python `int` is `integer_pow`, a `float` is `pow`.
fn power(
    name: &'static str,
    v: Option<Value<'_>>,
    default: OptaxPower,
) -> Result<OptaxPower, SchedError> {
    match v {
        None => Ok(default),
        Some(Value::Int(i)) => i32::try_from(i).map(OptaxPower::Int).map_err(|_| {
            SchedError::OutOfRange { param: name, value: int_f64(i), expected: "within int32" }
        }),
        Some(v) => Ok(OptaxPower::Float(super::leaf::to_f32(as_float(name, v)?))),
    }
}

/// A finite float argument.
fn float(
    k: &mut Kwargs<'_, '_>,
    name: &'static str,
    default: Option<f64>,
) -> Result<f64, SchedError> {
    let v = match default {
        Some(d) => k.float(name, d)?,
        None => k.float_required(name)?,
    };
    crate::protocol::base::finite(name, v)
}

/// `boundaries_and_scales`: a dict of int boundaries to float scales (or None), with a Python
/// dict's semantics: a repeated key is one key, holding its last value, so only distinct
/// boundaries count against the capacity.
fn pairs<'p>(
    v: Option<Value<'_>>,
    out: &'p mut [(i64, f64); MAX_PIECES],
) -> Result<&'p [(i64, f64)], SchedError> {
    const P: &str = "boundaries_and_scales";
    let items = match v {
        None | Some(Value::None) => return Ok(&out[..0]),
        Some(Value::Dict(items)) => items,
        Some(_) => {
            return Err(SchedError::WrongType { param: P, expected: "a dict of int to float" });
        }
    };
    let mut len = 0;
    for (key, scale) in items {
        let pair = (as_int(P, *key)?, crate::protocol::base::finite(P, as_float(P, *scale)?)?);
        if let Some(o) = out[..len].iter_mut().find(|o| o.0 == pair.0) {
            o.1 = pair.1;
        } else if len < MAX_PIECES {
            out[len] = pair;
            len += 1;
        } else {
            return Err(SchedError::TooManyItems { param: P, got: items.len(), max: MAX_PIECES });
        }
    }
    Ok(&out[..len])
}

/// The `warmup_cosine_decay_schedule` arguments from its kwargs.
fn warmup_cosine(k: &mut Kwargs<'_, '_>) -> Result<WarmupCosine, SchedError> {
    Ok((
        float(k, "init_value", None)?,
        float(k, "peak_value", None)?,
        k.int("warmup_steps", None)?,
        k.int("decay_steps", None)?,
        float(k, "end_value", Some(0.0))?,
        power("exponent", k.get("exponent"), OptaxPower::Float(1.0))?,
    ))
}

/// `warmup_cosine_decay_schedule`'s arguments in its order, as [`OptaxSchedule::sgdr`] takes
/// them.
type WarmupCosine = (f64, f64, i64, i64, f64, OptaxPower);

/// Builds optax's function `name` as a schedule (recursively for `join_schedules`, at most
/// two levels deep), with its canonical name.
fn schedule(
    name: &str,
    kwargs: &[(&str, Value<'_>)],
    depth: usize,
) -> Result<(OptaxSchedule, &'static str), SchedError> {
    let Some(kind) = find(name).filter(|k| k.library == Library::Optax) else {
        return Err(SchedError::UnknownChoice {
            param: "schedules",
            expected: "optax schedule functions",
        });
    };
    let mut k = Kwargs::new(kwargs)?;
    let s: OptaxSchedule = match kind.name {
        "constant_schedule" => OptaxLeaf::constant(float(&mut k, "value", None)?).into(),
        "linear_schedule" | "polynomial_schedule" => {
            let init = float(&mut k, "init_value", None)?;
            let end = float(&mut k, "end_value", None)?;
            let p = if kind.name == "linear_schedule" {
                OptaxPower::Int(1)
            } else {
                match k.get("power") {
                    None => return Err(SchedError::MissingParameter { param: "power" }),
                    v => power("power", v, OptaxPower::Int(1))?,
                }
            };
            let steps = k.int("transition_steps", None)?;
            let begin = k.int("transition_begin", Some(0))?;
            OptaxLeaf::polynomial(init, end, p, steps, begin)?.into()
        }
        "cosine_decay_schedule" => {
            let init = float(&mut k, "init_value", None)?;
            let steps = k.int("decay_steps", None)?;
            let alpha = float(&mut k, "alpha", Some(0.0))?;
            let exponent = power("exponent", k.get("exponent"), OptaxPower::Float(1.0))?;
            OptaxLeaf::cosine_decay(init, steps, alpha, exponent)?.into()
        }
        "exponential_decay" => {
            let init = float(&mut k, "init_value", None)?;
            let steps = k.int("transition_steps", None)?;
            let rate = float(&mut k, "decay_rate", None)?;
            let begin = k.int("transition_begin", Some(0))?;
            let staircase = k.boolean("staircase", false)?;
            let end = k.opt_float("end_value")?;
            OptaxLeaf::exponential(init, steps, rate, begin, staircase, end)?.into()
        }
        "piecewise_constant_schedule" => {
            let init = float(&mut k, "init_value", None)?;
            let mut store = [(0, 0.0); MAX_PIECES];
            let p = pairs(k.get("boundaries_and_scales"), &mut store)?;
            OptaxLeaf::piecewise_constant(init, p)?.into()
        }
        "piecewise_interpolate_schedule" => {
            let kind = k.choice(
                "interpolate_type",
                "",
                &[("linear", Interpolation::Linear), ("cosine", Interpolation::Cosine)],
                "linear, cosine",
            )?;
            let init = float(&mut k, "init_value", None)?;
            let mut store = [(0, 0.0); MAX_PIECES];
            let p = pairs(k.get("boundaries_and_scales"), &mut store)?;
            OptaxLeaf::piecewise_interpolate(kind, init, p)?.into()
        }
        "linear_onecycle_schedule" => OptaxLeaf::linear_onecycle(
            k.int("transition_steps", None)?,
            float(&mut k, "peak_value", None)?,
            float(&mut k, "pct_start", Some(0.3))?,
            float(&mut k, "pct_final", Some(0.85))?,
            float(&mut k, "div_factor", Some(25.0))?,
            float(&mut k, "final_div_factor", Some(1e4))?,
        )?
        .into(),
        "cosine_onecycle_schedule" => OptaxLeaf::cosine_onecycle(
            k.int("transition_steps", None)?,
            float(&mut k, "peak_value", None)?,
            float(&mut k, "pct_start", Some(0.3))?,
            float(&mut k, "div_factor", Some(25.0))?,
            float(&mut k, "final_div_factor", Some(1e4))?,
        )?
        .into(),
        "warmup_cosine_decay_schedule" => {
            let (init, peak, warmup, decay, end, exponent) = warmup_cosine(&mut k)?;
            OptaxSchedule::warmup_cosine_decay(init, peak, warmup, decay, end, exponent)?
        }
        "warmup_exponential_decay_schedule" => OptaxSchedule::warmup_exponential_decay(
            float(&mut k, "init_value", None)?,
            float(&mut k, "peak_value", None)?,
            k.int("warmup_steps", None)?,
            k.int("transition_steps", None)?,
            float(&mut k, "decay_rate", None)?,
            k.int("transition_begin", Some(0))?,
            k.boolean("staircase", false)?,
            k.opt_float("end_value")?,
        )?,
        "sgdr_schedule" => {
            let items = match k.get("cosine_kwargs") {
                Some(Value::List(items)) => items,
                None => return Err(SchedError::MissingParameter { param: "cosine_kwargs" }),
                Some(_) => {
                    return Err(SchedError::WrongType {
                        param: "cosine_kwargs",
                        expected: "a list of dicts of warmup_cosine_decay_schedule arguments",
                    });
                }
            };
            if items.len() > MAX_LEAVES / 2 {
                return Err(SchedError::TooManyItems {
                    param: "cosine_kwargs",
                    got: items.len(),
                    max: MAX_LEAVES / 2,
                });
            }
            let mut args = [(0.0, 0.0, 0, 0, 0.0, OptaxPower::Int(1)); MAX_LEAVES / 2];
            for (index, (a, item)) in args.iter_mut().zip(items.iter()).enumerate() {
                let mut kw = [("", Value::None); DICT_KWARGS];
                let mut first = [0; DICT_KWARGS];
                let n = dict_kwargs("cosine_kwargs", *item, &mut kw, &mut first)?;
                let mut inner = Kwargs::new(&kw[..n])?;
                *a = warmup_cosine(&mut inner)?;
                inner.finish().map_err(|e| match e {
                    SchedError::UnknownParameter { position } => SchedError::UnknownDictKey {
                        param: "cosine_kwargs",
                        item: index,
                        position: first[position],
                        function: "warmup_cosine_decay_schedule",
                    },
                    other => other,
                })?;
            }
            OptaxSchedule::sgdr(&args[..items.len()])?
        }
        "join_schedules" => {
            if depth >= 2 {
                return Err(SchedError::Unsupported {
                    what: "join_schedules nested more than two levels deep",
                });
            }
            let items = match k.get("schedules") {
                Some(Value::List(items)) => items,
                None => return Err(SchedError::MissingParameter { param: "schedules" }),
                Some(_) => {
                    return Err(SchedError::WrongType {
                        param: "schedules",
                        expected: "a list of optax schedules",
                    });
                }
            };
            if items.len() > MAX_LEAVES {
                return Err(SchedError::TooManyItems {
                    param: "schedules",
                    got: items.len(),
                    max: MAX_LEAVES,
                });
            }
            let mut parts = [OptaxSchedule::from(OptaxLeaf::constant(0.0)); MAX_LEAVES];
            for (o, item) in parts.iter_mut().zip(items.iter()) {
                let Value::Call { name, kwargs } = *item else {
                    return Err(SchedError::WrongType {
                        param: "schedules",
                        expected: "a list of optax schedules",
                    });
                };
                *o = schedule(name, kwargs, depth + 1)?.0;
            }
            let mut bounds = [0i64; MAX_LEAVES];
            let n = match k.get("boundaries") {
                Some(Value::List(b)) if b.len() <= MAX_LEAVES => {
                    for (o, v) in bounds.iter_mut().zip(b.iter()) {
                        *o = as_int("boundaries", *v)?;
                    }
                    b.len()
                }
                Some(Value::List(b)) => {
                    return Err(SchedError::TooManyItems {
                        param: "boundaries",
                        got: b.len(),
                        max: MAX_LEAVES,
                    });
                }
                None => return Err(SchedError::MissingParameter { param: "boundaries" }),
                Some(_) => {
                    return Err(SchedError::WrongType {
                        param: "boundaries",
                        expected: "a list of integers",
                    });
                }
            };
            OptaxSchedule::join(&parts[..items.len()], &bounds[..n])?
        }
        _ => {
            return Err(SchedError::UnknownChoice {
                param: "scheduler",
                expected: crate::registry::LEAF_NAMES,
            });
        }
    };
    k.finish()?;
    Ok((s, kind.name))
}

/// Most keys a dict of keyword arguments (a `cosine_kwargs` item) holds.
const DICT_KWARGS: usize = 8;

/// A dict with string keys as keyword arguments (`cosine_kwargs` items), with a Python
/// dict's semantics: a repeated key is one key, at its first position, holding its last
/// value. Returns how many distinct keys there are; `first[i]` is the position in the dict of
/// the key `out[i]`.
fn dict_kwargs<'v>(
    param: &'static str,
    v: Value<'v>,
    out: &mut [(&'v str, Value<'v>); DICT_KWARGS],
    first: &mut [usize; DICT_KWARGS],
) -> Result<usize, SchedError> {
    let Value::Dict(items) = v else {
        return Err(SchedError::WrongType { param, expected: "a dict of keyword arguments" });
    };
    let mut len = 0;
    for (position, (key, value)) in items.iter().enumerate() {
        let Value::Str(key) = *key else {
            return Err(SchedError::WrongType { param, expected: "string keys" });
        };
        if let Some(o) = out[..len].iter_mut().find(|o| o.0 == key) {
            o.1 = *value;
        } else if len < DICT_KWARGS {
            out[len] = (key, *value);
            first[len] = position;
            len += 1;
        } else {
            return Err(SchedError::TooManyItems { param, got: items.len(), max: DICT_KWARGS });
        }
    }
    Ok(len)
}

//! `torch.optim.lr_scheduler`'s classes from keyword arguments, with torch's names,
//! defaults and type rules.

use crate::protocol::group::check_groups;
use crate::registry::LEAF_NAMES;
use crate::spec::Value;
use crate::spec::kwargs::{Kwargs, as_float, int_f64, milestones};
use crate::torch::lambda_function::LambdaTable;
use crate::{
    AnnealStrategy, ConstantLr, ConstantLrConfig, CosineAnnealingLr, CosineAnnealingLrConfig,
    CosineAnnealingWarmRestarts, CosineAnnealingWarmRestartsConfig, CyclicLr, CyclicLrConfig,
    CyclicMode, ExponentialLr, ExponentialLrConfig, LambdaLr, Lambdas, LinearLr, LinearLrConfig,
    LrLambda, MAX_GROUPS, MAX_MILESTONES, MultiStepLr, MultiStepLrConfig, MultiplicativeLr,
    OneCycleLr, OneCycleLrConfig, ParamGroup, PlateauMode, PolynomialLr, PolynomialLrConfig,
    ReduceLrOnPlateau, ReduceLrOnPlateauConfig, SchedError, Scheduler, StepLr, StepLrConfig,
    ThresholdMode,
};

/// `lr_lambda` with its type checked: one function, or a list of them.
#[allow(clippy::large_enum_variant)] // an LrLambda by value: no heap
enum LambdaArg<'v> {
    One(LrLambda),
    List(&'v [Value<'v>]),
}

fn not_a_function() -> SchedError {
    SchedError::WrongType { param: "lr_lambda", expected: "a function" }
}

/// `lr_lambda`: one function, or a list of at most `MAX_GROUPS`.
fn lambda_arg<'v>(v: Option<Value<'v>>) -> Result<LambdaArg<'v>, SchedError> {
    match v {
        Some(Value::Lambda(l)) => Ok(LambdaArg::One(l)),
        Some(Value::List(items)) => {
            if items.len() > MAX_GROUPS {
                return Err(SchedError::TooManyGroups { groups: items.len(), max: MAX_GROUPS });
            }
            if !items.iter().all(|v| matches!(v, Value::Lambda(_))) {
                return Err(not_a_function());
            }
            Ok(LambdaArg::List(items))
        }
        None => Err(SchedError::MissingParameter { param: "lr_lambda" }),
        Some(_) => Err(not_a_function()),
    }
}

/// The schedulers' table of `lr_lambda` for `groups` (built in place: a list of Python
/// programs is not copied into a list of its own first).
fn lambda_table(arg: LambdaArg<'_>, groups: &[ParamGroup]) -> Result<LambdaTable, SchedError> {
    check_groups(groups)?;
    match arg {
        LambdaArg::One(l) => Lambdas::All(l).resolve(groups.len()),
        LambdaArg::List(items) => {
            LambdaTable::of_list(items.len(), groups.len(), |i| match items[i] {
                Value::Lambda(l) => Ok(l),
                _ => Err(not_a_function()),
            })
        }
    }
}

/// [`crate::spec::build`] for a PyTorch class name (`kind` as [`crate::registry::find`]
/// resolved it).
pub(crate) fn build<'a>(
    kind: &str,
    kwargs: &[(&str, Value<'_>)],
    groups: &mut [ParamGroup],
) -> Result<Scheduler<'a>, SchedError> {
    let mut k = Kwargs::new(kwargs)?;
    let s: Scheduler<'a> = match kind {
        "StepLR" => {
            let c = StepLrConfig {
                step_size: k.uint("step_size", None)?,
                gamma: k.float("gamma", 0.1)?,
                last_epoch: k.last_epoch()?,
            };
            k.finish()?;
            StepLr::new(c, groups)?.into()
        }
        "MultiStepLR" => {
            let mut ms = [0; MAX_MILESTONES];
            let n = milestones("milestones", k.get("milestones"), &mut ms)?;
            let c = MultiStepLrConfig {
                milestones: &ms[..n],
                gamma: k.float("gamma", 0.1)?,
                last_epoch: k.last_epoch()?,
            };
            k.finish()?;
            MultiStepLr::new(c, groups)?.into()
        }
        "ConstantLR" => {
            let c = ConstantLrConfig {
                factor: k.float("factor", 1.0 / 3.0)?,
                total_iters: k.uint("total_iters", Some(5))?,
                last_epoch: k.last_epoch()?,
            };
            k.finish()?;
            ConstantLr::new(c, groups)?.into()
        }
        "LinearLR" => {
            let c = LinearLrConfig {
                start_factor: k.float("start_factor", 1.0 / 3.0)?,
                end_factor: k.float("end_factor", 1.0)?,
                total_iters: k.uint("total_iters", Some(5))?,
                last_epoch: k.last_epoch()?,
            };
            k.finish()?;
            LinearLr::new(c, groups)?.into()
        }
        "ExponentialLR" => {
            let c = ExponentialLrConfig {
                gamma: k.float_required("gamma")?,
                last_epoch: k.last_epoch()?,
            };
            k.finish()?;
            ExponentialLr::new(c, groups)?.into()
        }
        "PolynomialLR" => {
            let c = PolynomialLrConfig {
                total_iters: k.uint("total_iters", Some(5))?,
                power: k.float("power", 1.0)?,
                last_epoch: k.last_epoch()?,
            };
            k.finish()?;
            PolynomialLr::new(c, groups)?.into()
        }
        "CosineAnnealingLR" => {
            let c = CosineAnnealingLrConfig {
                t_max: k.uint("T_max", None)?,
                eta_min: k.float("eta_min", 0.0)?,
                last_epoch: k.last_epoch()?,
            };
            k.finish()?;
            CosineAnnealingLr::new(c, groups)?.into()
        }
        "LambdaLR" | "MultiplicativeLR" => {
            let arg = lambda_arg(k.get("lr_lambda"))?;
            let last_epoch = k.last_epoch()?;
            k.finish()?;
            let l = lambda_table(arg, groups)?;
            if kind == "LambdaLR" {
                LambdaLr::with_table(l, last_epoch, groups)?.into()
            } else {
                MultiplicativeLr::with_table(l, last_epoch, groups)?.into()
            }
        }
        "CosineAnnealingWarmRestarts" => {
            let t_0 = k.int("T_0", None)?;
            let t_0 = u64::try_from(t_0).ok().filter(|&t| t > 0).ok_or(SchedError::OutOfRange {
                param: "T_0",
                value: int_f64(t_0),
                expected: "a positive integer",
            })?;
            let t_mult = k.int("T_mult", Some(1))?;
            let t_mult =
                u64::try_from(t_mult).ok().filter(|&t| t >= 1).ok_or(SchedError::OutOfRange {
                    param: "T_mult",
                    value: int_f64(t_mult),
                    expected: "an integer >= 1",
                })?;
            let c = CosineAnnealingWarmRestartsConfig {
                t_0,
                t_mult,
                eta_min: k.float("eta_min", 0.0)?,
                last_epoch: k.last_epoch()?,
            };
            k.finish()?;
            CosineAnnealingWarmRestarts::new(c, groups)?.into()
        }
        "CyclicLR" => {
            let base_lr = k.per_group("base_lr", None)?;
            let max_lr = k.per_group("max_lr", None)?;
            let step_size_up = k.float("step_size_up", 2000.0)?;
            let step_size_down = match k.get("step_size_down") {
                None | Some(Value::None) => None,
                Some(v) => Some(as_float("step_size_down", v)?),
            };
            let gamma = k.float("gamma", 1.0)?;
            let mode = k.choice(
                "mode",
                "triangular",
                &[
                    ("triangular", CyclicMode::Triangular),
                    ("triangular2", CyclicMode::Triangular2),
                    ("exp_range", CyclicMode::ExpRange { gamma }),
                ],
                "triangular, triangular2, exp_range",
            )?;
            // scale_mode only matters with a custom scale_fn, which data cannot carry.
            k.choice(
                "scale_mode",
                "cycle",
                &[("cycle", ()), ("iterations", ())],
                "cycle, iterations",
            )?;
            let c = CyclicLrConfig {
                base_lr,
                max_lr,
                step_size_up,
                step_size_down,
                mode,
                cycle_momentum: k.boolean("cycle_momentum", true)?,
                base_momentum: k.per_group("base_momentum", Some(0.8))?,
                max_momentum: k.per_group("max_momentum", Some(0.9))?,
                last_epoch: k.last_epoch()?,
            };
            k.finish()?;
            CyclicLr::new(c, groups)?.into()
        }
        "OneCycleLR" => {
            let max_lr = k.per_group("max_lr", None)?;
            let total_steps = match k.opt_int("total_steps")? {
                Some(t) => {
                    u64::try_from(t).ok().filter(|&t| t > 0).ok_or(SchedError::OutOfRange {
                        param: "total_steps",
                        value: int_f64(t),
                        expected: "a positive integer",
                    })?
                }
                None => {
                    let epochs = k.opt_int("epochs")?;
                    let spe = k.opt_int("steps_per_epoch")?;
                    match (epochs, spe) {
                        (Some(e), Some(s)) => {
                            let pos = |name, v: i64| {
                                u64::try_from(v).ok().filter(|&v| v > 0).ok_or(
                                    SchedError::OutOfRange {
                                        param: name,
                                        value: int_f64(v),
                                        expected: "a positive integer",
                                    },
                                )
                            };
                            let (e, s) = (pos("epochs", e)?, pos("steps_per_epoch", s)?);
                            OneCycleLrConfig::with_epochs(0.0, e, s)?.total_steps
                        }
                        _ => {
                            return Err(SchedError::MissingParameter {
                                param: "total_steps (or epochs and steps_per_epoch)",
                            });
                        }
                    }
                }
            };
            let pct_start = match k.get("pct_start") {
                None => 0.3,
                Some(Value::Float(p)) => p,
                Some(_) => {
                    return Err(SchedError::WrongType {
                        param: "pct_start",
                        expected: "a float between 0 and 1",
                    });
                }
            };
            let anneal_strategy = k.choice(
                "anneal_strategy",
                "cos",
                &[("cos", AnnealStrategy::Cos), ("linear", AnnealStrategy::Linear)],
                "cos, linear",
            )?;
            let c = OneCycleLrConfig {
                max_lr,
                total_steps,
                pct_start,
                anneal_strategy,
                cycle_momentum: k.boolean("cycle_momentum", true)?,
                base_momentum: k.per_group("base_momentum", Some(0.85))?,
                max_momentum: k.per_group("max_momentum", Some(0.95))?,
                div_factor: k.float("div_factor", 25.0)?,
                final_div_factor: k.float("final_div_factor", 1e4)?,
                three_phase: k.boolean("three_phase", false)?,
                last_epoch: k.last_epoch()?,
            };
            k.finish()?;
            OneCycleLr::new(c, groups)?.into()
        }
        "ReduceLROnPlateau" => {
            let factor = k.float("factor", 0.1)?;
            let mode = k.choice(
                "mode",
                "min",
                &[("min", PlateauMode::Min), ("max", PlateauMode::Max)],
                "min, max",
            )?;
            let threshold_mode = k.choice(
                "threshold_mode",
                "rel",
                &[("rel", ThresholdMode::Rel), ("abs", ThresholdMode::Abs)],
                "rel, abs",
            )?;
            let c = ReduceLrOnPlateauConfig {
                mode,
                factor,
                patience: k.uint("patience", Some(10))?,
                threshold: k.float("threshold", 1e-4)?,
                threshold_mode,
                cooldown: k.uint("cooldown", Some(0))?,
                min_lr: k.per_group("min_lr", Some(0.0))?,
                eps: k.float("eps", 1e-8)?,
            };
            k.finish()?;
            ReduceLrOnPlateau::new(c, groups)?.into()
        }
        _ => return Err(SchedError::UnknownChoice { param: "scheduler", expected: LEAF_NAMES }),
    };
    Ok(s)
}

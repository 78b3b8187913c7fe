//! Building schedulers from PyTorch-style keyword arguments.
//!
//! The bridge for anything that reads schedules as data: the golden-vector parity
//! test, spec files, the `lrkit` command line. `build("StepLR", &[("step_size",
//! Value::Int(3))], &mut groups)` does what `StepLR(optimizer, step_size=3)` does, with
//! PyTorch's keyword names, defaults and type rules (an `int` where PyTorch requires
//! one, `pct_start` a float), and returns typed errors otherwise.

mod optax;
mod timm;
mod transformers;

use crate::registry::Library;
use crate::{
    AnnealStrategy, ConstantLr, ConstantLrConfig, CosineAnnealingLr, CosineAnnealingLrConfig,
    CosineAnnealingWarmRestarts, CyclicLr, CyclicLrConfig, CyclicMode, ExponentialLr,
    ExponentialLrConfig, LambdaLr, Lambdas, LinearLr, LinearLrConfig, LrLambda, MAX_GROUPS,
    MAX_MILESTONES, MultiStepLr, MultiStepLrConfig, MultiplicativeLr, OneCycleLr, OneCycleLrConfig,
    ParamGroup, PerGroup, PlateauConfig, PlateauMode, PolynomialLr, PolynomialLrConfig,
    ReduceLrOnPlateau, SchedError, Scheduler, SequentialLr, StepLr, StepLrConfig, ThresholdMode,
    WarmRestartsConfig,
};

/// A keyword-argument value, as Python would pass it.
#[derive(Clone, Copy, Debug)]
pub enum Value<'a> {
    /// A Python `int`.
    Int(i64),
    /// A Python `float`.
    Float(f64),
    /// A Python `bool`.
    Bool(bool),
    /// A Python `str`.
    Str(&'a str),
    /// A Python `list`.
    List(&'a [Value<'a>]),
    /// A learning-rate function (`lr_lambda`).
    Lambda(LrLambda),
    /// A Python `dict` (`boundaries_and_scales={100: 0.1}`, optax's `cosine_kwargs`).
    Dict(&'a [(Value<'a>, Value<'a>)]),
    /// A call of a schedule function with keyword arguments (the `schedules` of
    /// `optax.join_schedules`).
    Call {
        /// The function name, as [`crate::registry::find`] resolves it.
        name: &'a str,
        /// Its keyword arguments.
        kwargs: &'a [(&'a str, Value<'a>)],
    },
    /// Python's `None`.
    None,
}

/// The PyTorch leaf scheduler names [`build`] accepts (it also accepts every name of
/// [`crate::registry::KINDS`] from transformers, timm and optax).
pub const LEAF_KINDS: &str = "StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR, \
CosineAnnealingLR, LambdaLR, MultiplicativeLR, CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR, ReduceLROnPlateau, \
or a transformers, timm or optax schedule";

/// Keyword arguments with a record of which were used, so that unknown ones are errors.
struct Kwargs<'k, 'v> {
    list: &'k [(&'k str, Value<'v>)],
    used: u64,
}

impl<'k, 'v> Kwargs<'k, 'v> {
    fn new(list: &'k [(&'k str, Value<'v>)]) -> Result<Self, SchedError> {
        if list.len() > 64 {
            return Err(SchedError::TooManyItems { param: "kwargs", got: list.len(), max: 64 });
        }
        Ok(Self { list, used: 0 })
    }

    fn get(&mut self, name: &str) -> Option<Value<'v>> {
        let i = self.list.iter().position(|(k, _)| *k == name)?;
        self.used |= 1 << i;
        Some(self.list[i].1)
    }

    fn finish(&self) -> Result<(), SchedError> {
        match (0..self.list.len()).find(|i| self.used & (1 << i) == 0) {
            Some(position) => Err(SchedError::UnknownParameter { position }),
            None => Ok(()),
        }
    }

    fn float(&mut self, name: &'static str, default: f64) -> Result<f64, SchedError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => as_float(name, v),
        }
    }

    fn float_required(&mut self, name: &'static str) -> Result<f64, SchedError> {
        match self.get(name) {
            None => Err(SchedError::MissingParameter { param: name }),
            Some(v) => as_float(name, v),
        }
    }

    fn int(&mut self, name: &'static str, default: Option<i64>) -> Result<i64, SchedError> {
        match self.get(name) {
            None | Some(Value::None) => default.ok_or(SchedError::MissingParameter { param: name }),
            Some(v) => as_int(name, v),
        }
    }

    fn uint(&mut self, name: &'static str, default: Option<u64>) -> Result<u64, SchedError> {
        let v = self.int(name, default.map(|d| i64::try_from(d).unwrap_or(i64::MAX)))?;
        u64::try_from(v).map_err(|_| SchedError::OutOfRange {
            param: name,
            value: int_f64(v),
            expected: ">= 0",
        })
    }

    fn opt_float(&mut self, name: &'static str) -> Result<Option<f64>, SchedError> {
        match self.get(name) {
            None | Some(Value::None) => Ok(None),
            Some(v) => as_float(name, v).map(Some),
        }
    }

    fn opt_int(&mut self, name: &'static str) -> Result<Option<i64>, SchedError> {
        match self.get(name) {
            None | Some(Value::None) => Ok(None),
            Some(v) => as_int(name, v).map(Some),
        }
    }

    fn boolean(&mut self, name: &'static str, default: bool) -> Result<bool, SchedError> {
        match self.get(name) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(b),
            Some(_) => Err(SchedError::WrongType { param: name, expected: "a bool" }),
        }
    }

    fn string(&mut self, name: &'static str, default: &'v str) -> Result<&'v str, SchedError> {
        match self.get(name) {
            None => Ok(default),
            Some(Value::Str(s)) => Ok(s),
            Some(_) => Err(SchedError::WrongType { param: name, expected: "a string" }),
        }
    }

    /// A string keyword that must be one of `options` (`expected` lists them for the error).
    fn choice<T: Copy>(
        &mut self,
        name: &'static str,
        default: &'v str,
        options: &[(&str, T)],
        expected: &'static str,
    ) -> Result<T, SchedError> {
        let given = self.string(name, default)?;
        options
            .iter()
            .find(|(key, _)| *key == given)
            .map(|&(_, value)| value)
            .ok_or(SchedError::UnknownChoice { param: name, expected })
    }

    fn per_group(
        &mut self,
        name: &'static str,
        default: Option<f64>,
    ) -> Result<PerGroup, SchedError> {
        match self.get(name) {
            None => default.map(PerGroup::all).ok_or(SchedError::MissingParameter { param: name }),
            Some(Value::List(items)) => {
                if items.len() > MAX_GROUPS {
                    return Err(SchedError::TooManyGroups { groups: items.len(), max: MAX_GROUPS });
                }
                let mut vals = [0.0; MAX_GROUPS];
                for (o, v) in vals.iter_mut().zip(items) {
                    *o = as_float(name, *v)?;
                }
                PerGroup::list(&vals[..items.len()])
            }
            Some(v) => as_float(name, v).map(PerGroup::all),
        }
    }

    fn last_epoch(&mut self) -> Result<i64, SchedError> {
        self.int("last_epoch", Some(-1))
    }
}

#[allow(clippy::cast_precision_loss)] // error reporting only
fn int_f64(v: i64) -> f64 {
    v as f64
}

fn as_float(name: &'static str, v: Value<'_>) -> Result<f64, SchedError> {
    match v {
        Value::Float(x) => Ok(x),
        Value::Int(i) => Ok(int_f64(i)),
        _ => Err(SchedError::WrongType { param: name, expected: "a number" }),
    }
}

fn as_int(name: &'static str, v: Value<'_>) -> Result<i64, SchedError> {
    match v {
        Value::Int(i) => Ok(i),
        Value::Float(x) => Err(SchedError::NotAnInteger { param: name, value: x }),
        _ => Err(SchedError::WrongType { param: name, expected: "an integer" }),
    }
}

/// Reads a list of non-negative integers (milestones).
fn milestones(
    name: &'static str,
    v: Option<Value<'_>>,
    out: &mut [u64; MAX_MILESTONES],
) -> Result<usize, SchedError> {
    let items = match v {
        Some(Value::List(items)) => items,
        None => return Err(SchedError::MissingParameter { param: name }),
        Some(_) => {
            return Err(SchedError::WrongType { param: name, expected: "a list of integers" });
        }
    };
    if items.len() > MAX_MILESTONES {
        return Err(SchedError::TooManyItems {
            param: name,
            got: items.len(),
            max: MAX_MILESTONES,
        });
    }
    for (o, v) in out.iter_mut().zip(items) {
        let i = as_int(name, *v)?;
        *o = u64::try_from(i).map_err(|_| SchedError::OutOfRange {
            param: name,
            value: int_f64(i),
            expected: ">= 0",
        })?;
    }
    Ok(items.len())
}

fn lambdas<'a>(
    v: Option<Value<'_>>,
    store: &'a mut [LrLambda; MAX_GROUPS],
) -> Result<Lambdas<'a>, SchedError> {
    match v {
        Some(Value::Lambda(l)) => Ok(Lambdas::All(l)),
        Some(Value::List(items)) => {
            if items.len() > MAX_GROUPS {
                return Err(SchedError::TooManyGroups { groups: items.len(), max: MAX_GROUPS });
            }
            for (o, v) in store.iter_mut().zip(items) {
                match v {
                    Value::Lambda(l) => *o = *l,
                    _ => {
                        return Err(SchedError::WrongType {
                            param: "lr_lambda",
                            expected: "a function",
                        });
                    }
                }
            }
            Ok(Lambdas::PerGroup(&store[..items.len()]))
        }
        None => Err(SchedError::MissingParameter { param: "lr_lambda" }),
        Some(_) => Err(SchedError::WrongType { param: "lr_lambda", expected: "a function" }),
    }
}

/// Builds the leaf schedule `kind` from keyword arguments, on `groups`, exactly as its
/// library's constructor would (construction step included). `kind` is any name
/// [`crate::registry::find`] resolves: a PyTorch class (`"StepLR"`,
/// `"torch.optim.lr_scheduler.StepLR"`), a transformers function
/// (`"transformers.get_cosine_schedule_with_warmup"`), a timm class
/// (`"timm.CosineLRScheduler"`) or an optax function (`"optax.sgdr_schedule"`).
pub fn build<'a>(
    kind: &str,
    kwargs: &[(&str, Value<'_>)],
    groups: &mut [ParamGroup],
) -> Result<Scheduler<'a>, SchedError> {
    let Some(found) = crate::registry::find(kind) else {
        return Err(SchedError::UnknownChoice { param: "scheduler", expected: LEAF_KINDS });
    };
    match found.library {
        Library::Transformers => transformers::build(found.name, kwargs, groups),
        Library::Timm => timm::build(found.name, kwargs, groups),
        Library::Optax => optax::build(found.name, kwargs, groups),
        _ => build_torch(found.name, kwargs, groups),
    }
}

/// [`build`] for a PyTorch class name.
fn build_torch<'a>(
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
            let mut store = [LrLambda::Constant(1.0); MAX_GROUPS];
            let l = lambdas(k.get("lr_lambda"), &mut store)?;
            let last_epoch = k.last_epoch()?;
            k.finish()?;
            if kind == "LambdaLR" {
                LambdaLr::new(l, last_epoch, groups)?.into()
            } else {
                MultiplicativeLr::new(l, last_epoch, groups)?.into()
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
            let c = WarmRestartsConfig {
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
            let c = PlateauConfig {
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
        _ => return Err(SchedError::UnknownChoice { param: "scheduler", expected: LEAF_KINDS }),
    };
    Ok(s)
}

/// `SequentialLR(optimizer, schedulers=children, milestones=..., last_epoch=-1)` from
/// keyword arguments; the children must already be built on `groups`, in order.
pub fn build_sequential<'a>(
    children: &'a mut [Scheduler<'a>],
    kwargs: &[(&str, Value<'_>)],
    groups: &mut [ParamGroup],
) -> Result<Scheduler<'a>, SchedError> {
    let mut k = Kwargs::new(kwargs)?;
    let mut ms = [0; MAX_MILESTONES];
    let n = milestones("milestones", k.get("milestones"), &mut ms)?;
    let last_epoch = k.last_epoch()?;
    k.finish()?;
    Ok(SequentialLr::new(children, &ms[..n], last_epoch, groups)?.into())
}

/// `ChainedScheduler(children)`; the children must already be built on `groups`.
pub fn build_chained<'a>(
    children: &'a mut [Scheduler<'a>],
    kwargs: &[(&str, Value<'_>)],
    groups: &[ParamGroup],
) -> Result<Scheduler<'a>, SchedError> {
    Kwargs::new(kwargs)?.finish()?;
    Ok(crate::ChainedScheduler::new(children, groups)?.into())
}

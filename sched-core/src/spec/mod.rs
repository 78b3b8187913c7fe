//! Building schedulers from PyTorch-style keyword arguments.
//!
//! The bridge for anything that reads schedules as data: the golden-vector parity
//! test, spec files, the `lrkit` command line. `build("StepLR", &[("step_size",
//! Value::Int(3))], &mut groups)` does what `StepLR(optimizer, step_size=3)` does, with
//! PyTorch's keyword names, defaults and type rules (an `int` where PyTorch requires
//! one, `pct_start` a float), and returns typed errors otherwise.

//!
//! This module holds what every family shares: the [`Value`]s, the dispatch by library
//! ([`build`]), the composites ([`build_sequential`], [`build_chained`]) and the keyword
//! reader (`kwargs`). Each family's builder lives in its folder: `torch/kwargs.rs`,
//! `transformers/kwargs.rs`, `timm/kwargs.rs`, `optax/kwargs.rs`.

pub(crate) mod kwargs;

use kwargs::{Kwargs, milestones};

use crate::registry::{LEAF_NAMES, Library};
use crate::{
    LrLambda, MAX_MILESTONES, ParamGroup, SchedError, Scheduler, SequentialLr, SequentialLrInit,
};

/// A keyword-argument value, as Python would pass it.
#[derive(Clone, Copy, Debug)]
#[allow(clippy::large_enum_variant)] // a compiled Python lambda by value (264 bytes): no heap
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
        return Err(SchedError::UnknownChoice { param: "scheduler", expected: LEAF_NAMES });
    };
    match found.library {
        Library::Torch => crate::torch::kwargs::build(found.name, kwargs, groups),
        Library::Transformers => crate::transformers::kwargs::build(found.name, kwargs, groups),
        Library::Timm => crate::timm::kwargs::build(found.name, kwargs, groups),
        Library::Optax => crate::optax::kwargs::build(found.name, kwargs, groups),
    }
}

/// `SequentialLR(optimizer, schedulers=children, milestones=..., last_epoch=-1)` from
/// keyword arguments, as the current PyTorch builds it; the children must already be built
/// on `groups`, in order.
pub fn build_sequential<'a>(
    children: &'a mut [Scheduler<'a>],
    kwargs: &[(&str, Value<'_>)],
    groups: &mut [ParamGroup],
) -> Result<Scheduler<'a>, SchedError> {
    build_sequential_with(children, kwargs, SequentialLrInit::default(), groups)
}

/// [`build_sequential`] with the construction of the PyTorch release `init` names
/// ([`SequentialLrInit::of_torch`]).
pub fn build_sequential_with<'a>(
    children: &'a mut [Scheduler<'a>],
    kwargs: &[(&str, Value<'_>)],
    init: SequentialLrInit,
    groups: &mut [ParamGroup],
) -> Result<Scheduler<'a>, SchedError> {
    let mut k = Kwargs::new(kwargs)?;
    let mut ms = [0; MAX_MILESTONES];
    let n = milestones("milestones", k.get("milestones"), &mut ms)?;
    let last_epoch = k.last_epoch()?;
    k.finish()?;
    Ok(SequentialLr::with_init(children, &ms[..n], last_epoch, init, groups)?.into())
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

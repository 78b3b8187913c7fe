//! Keyword arguments from Python (`dict[str, int | float | bool | str | None | list | dict]`)
//! as sched-core's [`Value`]s, for `sched_core::spec::build`. Lists and dicts hold scalars
//! (milestones, per-group `max_lr`, optax's `boundaries_and_scales`): what the constructors of
//! the schedules take.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use sched_core::spec::Value;

/// A scalar keyword argument, owned.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Scalar {
    /// `int`.
    Int(i64),
    /// `float`.
    Float(f64),
    /// `bool`.
    Bool(bool),
    /// `str`.
    Str(String),
    /// `None`.
    None,
}

/// A keyword argument, owned: a scalar or a list of scalars.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Arg {
    /// A scalar.
    Scalar(Scalar),
    /// A list (or tuple) of scalars.
    List(Vec<Scalar>),
    /// A dict of scalars.
    Dict(Vec<(Scalar, Scalar)>),
}

/// The keyword arguments of one constructor, owned and in order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Kwargs(Vec<(String, Arg)>);

impl Kwargs {
    /// Reads `dict`; a value of another type is a `TypeError` naming the keyword.
    pub(crate) fn from_dict(dict: &Bound<'_, PyDict>) -> PyResult<Self> {
        let mut out = Vec::with_capacity(dict.len());
        for (k, v) in dict.iter() {
            let key: String = k.extract()?;
            let arg = if let Ok(d) = v.cast::<PyDict>() {
                let mut items = Vec::with_capacity(d.len());
                for (k, x) in d.iter() {
                    items.push((scalar(&key, &k)?, scalar(&key, &x)?));
                }
                Arg::Dict(items)
            } else if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
                let items: Vec<Bound<'_, PyAny>> = v.try_iter()?.collect::<PyResult<_>>()?;
                Arg::List(items.iter().map(|i| scalar(&key, i)).collect::<PyResult<_>>()?)
            } else {
                Arg::Scalar(scalar(&key, &v)?)
            };
            out.push((key, arg));
        }
        Ok(Self(out))
    }

    /// Calls `f` with the arguments as sched-core [`Value`]s.
    pub(crate) fn with_values<T>(&self, f: impl FnOnce(&[(&str, Value<'_>)]) -> T) -> T {
        let lists: Vec<Vec<Value<'_>>> = self
            .0
            .iter()
            .map(|(_, a)| match a {
                Arg::List(items) => items.iter().map(value).collect(),
                Arg::Scalar(_) | Arg::Dict(_) => Vec::new(),
            })
            .collect();
        let dicts: Vec<Vec<(Value<'_>, Value<'_>)>> = self
            .0
            .iter()
            .map(|(_, a)| match a {
                Arg::Dict(items) => items.iter().map(|(k, v)| (value(k), value(v))).collect(),
                Arg::Scalar(_) | Arg::List(_) => Vec::new(),
            })
            .collect();
        let values: Vec<(&str, Value<'_>)> = self
            .0
            .iter()
            .zip(lists.iter().zip(&dicts))
            .map(|((k, a), (list, dict))| {
                let v = match a {
                    Arg::Scalar(s) => value(s),
                    Arg::List(_) => Value::List(list),
                    Arg::Dict(_) => Value::Dict(dict),
                };
                (k.as_str(), v)
            })
            .collect();
        f(&values)
    }
}

/// A scalar as sched-core's [`Value`].
fn value(s: &Scalar) -> Value<'_> {
    match s {
        Scalar::Int(i) => Value::Int(*i),
        Scalar::Float(x) => Value::Float(*x),
        Scalar::Bool(b) => Value::Bool(*b),
        Scalar::Str(s) => Value::Str(s),
        Scalar::None => Value::None,
    }
}

/// One scalar: `bool` before `int` (a Python bool is an int), ints beyond 64 bits refused.
fn scalar(key: &str, v: &Bound<'_, PyAny>) -> PyResult<Scalar> {
    Ok(if v.is_none() {
        Scalar::None
    } else if v.is_instance_of::<PyBool>() {
        Scalar::Bool(v.extract()?)
    } else if v.is_instance_of::<PyInt>() {
        Scalar::Int(v.extract().map_err(|_| {
            PyTypeError::new_err(format!("{key}: the integer {v} does not fit 64 bits"))
        })?)
    } else if v.is_instance_of::<PyFloat>() {
        Scalar::Float(v.extract()?)
    } else if v.is_instance_of::<PyString>() {
        Scalar::Str(v.extract()?)
    } else {
        let ty = v.get_type().name()?;
        return Err(PyTypeError::new_err(format!(
            "{key}: expected an int, float, bool, str, None, or a list or dict of them, got {ty}"
        )));
    })
}

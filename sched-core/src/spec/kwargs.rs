//! The keyword-argument reader every family's builder uses: Python's type rules for a
//! keyword (`int` where the library requires one, a number for a float, a list or one value
//! for a per-group argument), its default, and an error for a keyword nobody read.

use super::Value;
use crate::{MAX_GROUPS, MAX_MILESTONES, PerGroup, SchedError};

/// Keyword arguments with a record of which were used, so that unknown ones are errors.
pub(crate) struct Kwargs<'k, 'v> {
    list: &'k [(&'k str, Value<'v>)],
    used: u64,
}

impl<'k, 'v> Kwargs<'k, 'v> {
    pub(crate) fn new(list: &'k [(&'k str, Value<'v>)]) -> Result<Self, SchedError> {
        if list.len() > 64 {
            return Err(SchedError::TooManyItems { param: "kwargs", got: list.len(), max: 64 });
        }
        Ok(Self { list, used: 0 })
    }

    pub(crate) fn get(&mut self, name: &str) -> Option<Value<'v>> {
        let i = self.list.iter().position(|(k, _)| *k == name)?;
        self.used |= 1 << i;
        Some(self.list[i].1)
    }

    pub(crate) fn finish(&self) -> Result<(), SchedError> {
        match (0..self.list.len()).find(|i| self.used & (1 << i) == 0) {
            Some(position) => Err(SchedError::UnknownParameter { position }),
            None => Ok(()),
        }
    }

    pub(crate) fn float(&mut self, name: &'static str, default: f64) -> Result<f64, SchedError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => as_float(name, v),
        }
    }

    pub(crate) fn float_required(&mut self, name: &'static str) -> Result<f64, SchedError> {
        match self.get(name) {
            None => Err(SchedError::MissingParameter { param: name }),
            Some(v) => as_float(name, v),
        }
    }

    pub(crate) fn int(
        &mut self,
        name: &'static str,
        default: Option<i64>,
    ) -> Result<i64, SchedError> {
        match self.get(name) {
            None | Some(Value::None) => default.ok_or(SchedError::MissingParameter { param: name }),
            Some(v) => as_int(name, v),
        }
    }

    pub(crate) fn uint(
        &mut self,
        name: &'static str,
        default: Option<u64>,
    ) -> Result<u64, SchedError> {
        let v = self.int(name, default.map(|d| i64::try_from(d).unwrap_or(i64::MAX)))?;
        u64::try_from(v).map_err(|_| SchedError::OutOfRange {
            param: name,
            value: int_f64(v),
            expected: ">= 0",
        })
    }

    pub(crate) fn opt_float(&mut self, name: &'static str) -> Result<Option<f64>, SchedError> {
        match self.get(name) {
            None | Some(Value::None) => Ok(None),
            Some(v) => as_float(name, v).map(Some),
        }
    }

    pub(crate) fn opt_int(&mut self, name: &'static str) -> Result<Option<i64>, SchedError> {
        match self.get(name) {
            None | Some(Value::None) => Ok(None),
            Some(v) => as_int(name, v).map(Some),
        }
    }

    pub(crate) fn boolean(
        &mut self,
        name: &'static str,
        default: bool,
    ) -> Result<bool, SchedError> {
        match self.get(name) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(b),
            Some(_) => Err(SchedError::WrongType { param: name, expected: "a bool" }),
        }
    }

    pub(crate) fn string(
        &mut self,
        name: &'static str,
        default: &'v str,
    ) -> Result<&'v str, SchedError> {
        match self.get(name) {
            None => Ok(default),
            Some(Value::Str(s)) => Ok(s),
            Some(_) => Err(SchedError::WrongType { param: name, expected: "a string" }),
        }
    }

    /// A string keyword that must be one of `options` (`expected` lists them for the error).
    pub(crate) fn choice<T: Copy>(
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

    pub(crate) fn per_group(
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

    pub(crate) fn last_epoch(&mut self) -> Result<i64, SchedError> {
        self.int("last_epoch", Some(-1))
    }
}

#[allow(clippy::cast_precision_loss)] // error reporting only
pub(crate) fn int_f64(v: i64) -> f64 {
    v as f64
}

pub(crate) fn as_float(name: &'static str, v: Value<'_>) -> Result<f64, SchedError> {
    match v {
        Value::Float(x) => Ok(x),
        Value::Int(i) => Ok(int_f64(i)),
        _ => Err(SchedError::WrongType { param: name, expected: "a number" }),
    }
}

pub(crate) fn as_int(name: &'static str, v: Value<'_>) -> Result<i64, SchedError> {
    match v {
        Value::Int(i) => Ok(i),
        Value::Float(x) => Err(SchedError::NotAnInteger { param: name, value: x }),
        _ => Err(SchedError::WrongType { param: name, expected: "an integer" }),
    }
}

/// Reads a list of non-negative integers (milestones).
pub(crate) fn milestones(
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

//! `PlateauCore`: sched-core's ReduceLROnPlateau behind torch's class: torch's attributes
//! (`last_epoch`, `best`, `num_bad_epochs`, `cooldown_counter`) in, the step's new state and
//! lrs out.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sched_core::{ParamGroup, ReduceLrOnPlateau, Scheduler};

use crate::errors;
use crate::kwargs::Kwargs;

/// A sched-core ReduceLROnPlateau built from torch's keyword arguments.
#[pyclass(module = "lrkit._lrkit")]
pub(crate) struct PlateauCore {
    plateau: ReduceLrOnPlateau,
}

/// The state a step returns: `(lrs, last_epoch, best, num_bad_epochs, cooldown_counter)`.
type PlateauStep = (Vec<f64>, i64, f64, u64, u64);

#[pymethods]
impl PlateauCore {
    /// Builds it from `kwargs` for `groups` parameter groups.
    #[new]
    fn new(kwargs: &Bound<'_, PyDict>, groups: usize) -> PyResult<Self> {
        let kwargs = Kwargs::from_dict(kwargs)?;
        let mut g = vec![ParamGroup::new(0.1); groups];
        match kwargs.with_values(|kw| sched_core::spec::build("ReduceLROnPlateau", kw, &mut g)) {
            Ok(Scheduler::Plateau(plateau)) => Ok(Self { plateau }),
            Ok(other) => Err(PyValueError::new_err(format!("built {}", other.kind()))),
            Err(e) => Err(errors::sched(&e)),
        }
    }

    /// torch's `step(metrics)` from the given state: the new lrs and state.
    #[allow(clippy::too_many_arguments)] // the attributes torch's step reads, one each
    fn step(
        &mut self,
        metric: f64,
        last_epoch: i64,
        best: f64,
        num_bad_epochs: u64,
        cooldown_counter: u64,
        lrs: Vec<f64>,
        tensor: Vec<bool>,
    ) -> PyResult<PlateauStep> {
        if tensor.len() != lrs.len() {
            return Err(PyValueError::new_err("one tensor flag per group"));
        }
        let mut g: Vec<ParamGroup> = lrs
            .iter()
            .zip(&tensor)
            .map(|(&lr, &t)| ParamGroup { tensor_lr: t, ..ParamGroup::new(lr) })
            .collect();
        let p = &mut self.plateau;
        p.set_torch_state(last_epoch, best, num_bad_epochs, cooldown_counter)
            .map_err(|e| errors::sched(&e))?;
        p.step(metric, &mut g).map_err(|e| errors::sched(&e))?;
        Ok((
            g.iter().map(|g| g.lr).collect(),
            p.last_epoch(),
            p.best(),
            p.num_bad_epochs(),
            p.cooldown_counter(),
        ))
    }
}

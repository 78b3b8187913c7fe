//! `OptaxCore`: an optax schedule (`count -> float32`), built from the keyword arguments of
//! optax's function of the same name, or joined from others (`optax.join_schedules`).

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sched_core::{OptaxSchedule, ParamGroup, Scheduler};

use crate::errors;
use crate::kwargs::Kwargs;

/// One optax schedule.
#[pyclass(module = "lrkit._lrkit", frozen)]
pub(crate) struct OptaxCore {
    schedule: OptaxSchedule,
}

#[pymethods]
impl OptaxCore {
    /// `optax.<name>(**kwargs)`.
    #[new]
    fn new(name: &str, kwargs: &Bound<'_, PyDict>) -> PyResult<Self> {
        let kwargs = Kwargs::from_dict(kwargs)?;
        let mut groups = [ParamGroup::new(1.0)];
        let full = format!("optax.{name}");
        match kwargs.with_values(|kw| sched_core::spec::build(&full, kw, &mut groups)) {
            Ok(Scheduler::Optax(s)) => Ok(Self { schedule: *s.schedule() }),
            Ok(other) => Err(PyTypeError::new_err(format!("{name} built {}", other.kind()))),
            Err(e) => Err(errors::sched(&e)),
        }
    }

    /// `optax.join_schedules(schedules, boundaries)`.
    #[staticmethod]
    fn join(schedules: Vec<PyRef<'_, OptaxCore>>, boundaries: Vec<i64>) -> PyResult<Self> {
        let parts: Vec<OptaxSchedule> = schedules.iter().map(|s| s.schedule).collect();
        OptaxSchedule::join(&parts, &boundaries)
            .map(|schedule| Self { schedule })
            .map_err(|e| errors::sched(&e))
    }

    /// The schedule's float32 value at `count` (optax's int32 count).
    fn value(&self, count: i32) -> f32 {
        self.schedule.value(count)
    }
}

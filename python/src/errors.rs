//! sched-core's and sgd-cpu's typed errors as the Python exceptions the real libraries raise:
//! `OverflowError` where Python's float arithmetic overflows, `ZeroDivisionError`, the
//! exception a Python lambda raised, `ValueError` for a bad value, `TypeError` for a bad type.

use pyo3::PyErr;
use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError, PyZeroDivisionError};
use sched_core::{PyException, SchedError};

/// The Python exception of a sched-core error.
pub(crate) fn sched(e: &SchedError) -> PyErr {
    let message = e.to_string();
    match e {
        SchedError::Overflow { .. } => PyOverflowError::new_err(message),
        // Python's own exception, with Python's message: what the library's code raises.
        SchedError::LambdaRaised { exception, .. } | SchedError::PythonRaised { exception, .. } => {
            python(exception, exception.message().to_string())
        }
        // torch's OneCycleLR.get_lr message, word for word.
        SchedError::TotalStepsExceeded { step, total_steps } => PyValueError::new_err(format!(
            "Tried to step {step} times. The specified number of total steps is {total_steps}"
        )),
        _ => PyValueError::new_err(message),
    }
}

/// The Python exception named by a [`PyException`], with `message`.
fn python(exception: &PyException, message: String) -> PyErr {
    match exception {
        PyException::ZeroDivisionError(_) => PyZeroDivisionError::new_err(message),
        PyException::OverflowError(_) => PyOverflowError::new_err(message),
        PyException::TypeError(_) => PyTypeError::new_err(message),
        _ => PyValueError::new_err(message),
    }
}

/// The Python exception of an sgd-cpu error: every one is a bad value (`ValueError`).
pub(crate) fn sgd(e: &sgd_cpu::SgdError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

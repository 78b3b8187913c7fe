//! `lrkit._lrkit`, the extension module of the `lrkit` Python package: the Rust half of
//! `lrkit.torch.lr_scheduler` (sched-core computes every value of torch's scheduler classes
//! from the state torch's own code keeps) and of `lrkit.torch.FusedSGD` (sgd-cpu's fused step
//! on torch's CPU float32 tensors, validated here before anything is written, without the
//! GIL).

mod errors;
mod kwargs;
mod optax;
mod plateau;
mod scheduler;
mod sgd;
mod torch_tensors;

use pyo3::prelude::*;

/// The module: `SchedulerCore`, `PlateauCore`, `OptaxCore`, `TensorCache`, `fused_step`.
#[pymodule]
fn _lrkit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<scheduler::SchedulerCore>()?;
    m.add_class::<plateau::PlateauCore>()?;
    m.add_class::<optax::OptaxCore>()?;
    m.add_class::<torch_tensors::TensorCache>()?;
    m.add_function(wrap_pyfunction!(sgd::fused_step, m)?)?;
    m.add("MAX_GROUPS", sched_core::MAX_GROUPS)?;
    Ok(())
}

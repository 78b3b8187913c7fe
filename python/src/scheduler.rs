//! `SchedulerCore`: one epoch-indexed sched-core scheduler behind a torch scheduler object.
//! torch's code keeps the state (`last_epoch`, `base_lrs`, the groups' lrs); each `get_lr()`
//! hands it here ([`sched_core::Scheduler::torch_get_lr`]) and gets torch's values back.

use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyInt, PyList, PyTuple};
use sched_core::{MAX_GROUPS, ParamGroup, Scheduler, TorchState};

use crate::errors;
use crate::kwargs::Kwargs;

/// `float(x)`: a float, an int or a 0-dim Tensor (through its `__float__`).
fn float(x: &Bound<'_, PyAny>) -> PyResult<f64> {
    x.extract::<f64>()
}

/// A sched-core scheduler built from a torch constructor's keyword arguments.
#[pyclass(module = "lrkit._lrkit")]
pub(crate) struct SchedulerCore {
    sched: Scheduler<'static>,
    kind: &'static str,
}

/// The groups of one call: `lr`, `initial_lr = base_lr`, momentum, tensor flag.
fn groups(
    lrs: &[f64],
    base_lrs: &[f64],
    tensor: &[bool],
    momenta: &[Option<f64>],
) -> PyResult<Vec<ParamGroup>> {
    let n = lrs.len();
    if n == 0 || n > MAX_GROUPS {
        return Err(PyValueError::new_err(format!(
            "{n} parameter groups: sched-core takes 1 to {MAX_GROUPS}"
        )));
    }
    if base_lrs.len() != n || tensor.len() != n || momenta.len() != n {
        return Err(PyValueError::new_err(format!(
            "expected one base_lr, tensor flag and momentum per group ({n}), got {}, {} and {}",
            base_lrs.len(),
            tensor.len(),
            momenta.len()
        )));
    }
    Ok((0..n)
        .map(|i| ParamGroup {
            lr: lrs[i],
            initial_lr: Some(base_lrs[i]),
            momentum: momenta[i],
            tensor_lr: tensor[i],
        })
        .collect())
}

#[pymethods]
impl SchedulerCore {
    /// Builds `kind` (a torch class name, or `"transformers.<function>"`) from `kwargs` on
    /// groups whose lrs are `base_lrs`; `lr_init` is `optimizer.defaults["lr"]`, which some
    /// transformers schedules read (sched-core reads it as the first group's lr).
    #[new]
    #[pyo3(signature = (kind, kwargs, base_lrs, tensor, momenta, lr_init=None))]
    fn new(
        kind: &str,
        kwargs: &Bound<'_, PyDict>,
        base_lrs: Vec<f64>,
        tensor: Vec<bool>,
        momenta: Vec<Option<f64>>,
        lr_init: Option<f64>,
    ) -> PyResult<Self> {
        let kwargs = Kwargs::from_dict(kwargs)?;
        let mut g = groups(&base_lrs, &base_lrs, &tensor, &momenta)?;
        if let (Some(lr), Some(first)) = (lr_init, g.first_mut()) {
            first.lr = lr;
        }
        let sched = kwargs
            .with_values(|kw| sched_core::spec::build(kind, kw, &mut g))
            .map_err(|e| errors::sched(&e))?;
        Ok(Self { kind: sched.kind(), sched })
    }

    /// torch's `get_lr()`: the new lr of every group, from the object's `last_epoch` (already
    /// incremented), `base_lrs`, `_is_initial`, the optimizer's `param_groups` (each group's
    /// `lr`, a float or a 0-dim Tensor, and its `momentum` or `betas[0]`) and, for
    /// CosineAnnealingWarmRestarts, `(T_cur, T_i)`. Where the schedule cycles momentum
    /// (`momentum_key` is `"momentum"` or `"betas"`), the new momenta are written into the
    /// groups, as torch's `get_lr` does.
    #[allow(clippy::too_many_arguments)] // the attributes torch's get_lr reads, one each
    #[pyo3(signature = (last_epoch, base_lrs, initial, param_groups, cycle=None, momentum_key=None))]
    fn get_lr(
        &mut self,
        last_epoch: i64,
        base_lrs: &Bound<'_, PyList>,
        initial: bool,
        param_groups: &Bound<'_, PyList>,
        cycle: Option<(f64, i64)>,
        momentum_key: Option<&str>,
    ) -> PyResult<Vec<f64>> {
        let py = param_groups.py();
        let base: Vec<f64> = base_lrs.iter().map(|b| float(&b)).collect::<PyResult<_>>()?;
        let mut g = Vec::with_capacity(param_groups.len());
        for (group, &b) in param_groups.iter().zip(&base) {
            let group = group.cast_into::<PyDict>()?;
            let lr = group
                .get_item(intern!(py, "lr"))?
                .ok_or_else(|| PyValueError::new_err("a param group without lr"))?;
            // A 0-dim Tensor (torch's `lr=torch.tensor(0.1)`), not a Python number.
            let tensor_lr = !(lr.is_instance_of::<PyFloat>() || lr.is_instance_of::<PyInt>());
            let momentum = match group.get_item(intern!(py, "betas"))? {
                Some(betas) => Some(float(&betas.get_item(0)?)?),
                None => group.get_item(intern!(py, "momentum"))?.map(|m| float(&m)).transpose()?,
            };
            g.push(ParamGroup { lr: float(&lr)?, initial_lr: Some(b), momentum, tensor_lr });
        }
        if g.len() != base.len() {
            return Err(PyValueError::new_err(format!(
                "{} param groups and {} base_lrs",
                g.len(),
                base.len()
            )));
        }
        let state = TorchState { last_epoch, base_lrs: &base, initial, cycle };
        self.sched.torch_get_lr(&state, &mut g).map_err(|e| errors::sched(&e))?;
        if let Some(key) = momentum_key {
            for (group, new) in param_groups.iter().zip(&g) {
                let Some(m) = new.momentum else { continue };
                if key == "betas" {
                    let betas = group.get_item(intern!(py, "betas"))?;
                    let mut items: Vec<Bound<'_, PyAny>> =
                        betas.try_iter()?.collect::<PyResult<_>>()?;
                    if let Some(first) = items.first_mut() {
                        *first = PyFloat::new(py, m).into_any();
                    }
                    group.set_item(intern!(py, "betas"), PyTuple::new(py, items)?)?;
                } else {
                    group.set_item(intern!(py, "momentum"), m)?;
                }
            }
        }
        Ok(g.iter().map(|g| g.lr).collect())
    }

    /// sched-core's closed form: the lr of `group` at epoch `epoch`, O(1).
    fn lr_at(&self, group: usize, epoch: u64) -> PyResult<f64> {
        self.sched.lr_at(group, epoch).map_err(|e| errors::sched(&e))
    }

    /// A transformers schedule's `λ(step)` (its `lr_lambda`), where the lr is
    /// `base_lr * λ(step)`.
    fn transformers_lambda(&self, step: i64) -> PyResult<f64> {
        match &self.sched {
            Scheduler::Transformers(s) => s.schedule().eval(step).map_err(|e| errors::sched(&e)),
            other => Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "{} is not a transformers schedule",
                other.kind()
            ))),
        }
    }

    /// The class this core computes (`"StepLR"`, ...).
    #[getter]
    fn kind(&self) -> &'static str {
        self.kind
    }
}

//! Reading one `FusedSGD` step's arguments from the optimizer's `param_groups` and `state`,
//! checking every tensor as `torch.optim.SGD` users expect (dtype, device, layout, shape,
//! sparse), in Rust: the per-tensor work of a Python loop (a dozen attribute reads and method
//! calls per tensor) is what dominates a step over many small tensors.
//!
//! A parameter and its momentum buffer are checked in full the first time they are seen at
//! their place in `param_groups`, and then only for what can change between steps without
//! replacing the object: the data pointer (`p.data = ...`) and which buffer `state` holds
//! ([`TensorCache`]). Gradients change every step and are checked in full every step.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// What was checked about the tensor at one place of `param_groups`.
struct Checked {
    param: Py<PyAny>,
    dtype: Dtype,
    ptr: usize,
    numel: usize,
    /// `param.shape`, which its grad and buffer must have.
    shape: Py<PyAny>,
    /// The momentum buffer that `state[param]` held, and its data pointer.
    buffer: Option<(Py<PyAny>, usize)>,
}

/// The tensors checked by earlier steps, by place (`[group][index]`).
#[pyclass(module = "lrkit._lrkit")]
#[derive(Default)]
pub(crate) struct TensorCache {
    places: Vec<Vec<Option<Checked>>>,
}

#[pymethods]
impl TensorCache {
    /// An empty cache.
    #[new]
    fn new() -> Self {
        Self::default()
    }
}

impl TensorCache {
    fn slot(&mut self, group: usize, index: usize) -> &mut Option<Checked> {
        if self.places.len() <= group {
            self.places.resize_with(group + 1, Vec::new);
        }
        let g = &mut self.places[group];
        if g.len() <= index {
            g.resize_with(index + 1, || None);
        }
        &mut g[index]
    }
}

use sgd_cpu::{Dtype, SgdConfig};

use crate::sgd::{GroupArgs, TensorArgs};

/// What a step reads: the groups' arguments, the tensors (kept alive for the step), and the
/// momentum buffers to store in `state[p]` after a step that ran (first steps).
pub(crate) struct Collected<'py> {
    pub(crate) groups: Vec<GroupArgs>,
    pub(crate) keep: Vec<Bound<'py, PyAny>>,
    pub(crate) created: Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>,
}

/// `float(x)` of a hyperparameter (a float, an int or a 0-dim Tensor, through its
/// `__float__`).
fn float(x: &Bound<'_, PyAny>) -> PyResult<f64> {
    x.extract::<f64>()
}

/// The torch objects a check compares with or calls: the four dtypes FusedSGD steps,
/// `torch.empty_like` and `torch.contiguous_format`.
pub(crate) struct Torch<'py> {
    dtypes: [(Bound<'py, PyAny>, Dtype); 4],
    empty_like: Bound<'py, PyAny>,
    contiguous_format: Bound<'py, PyAny>,
}

impl<'py> Torch<'py> {
    /// Reads them from the `torch` module.
    pub(crate) fn new(torch: &Bound<'py, PyModule>) -> PyResult<Self> {
        let py = torch.py();
        let dtype = |name: &Bound<'py, pyo3::types::PyString>, d| -> PyResult<_> {
            Ok((torch.getattr(name)?, d))
        };
        Ok(Self {
            dtypes: [
                dtype(intern!(py, "float32"), Dtype::F32)?,
                dtype(intern!(py, "float64"), Dtype::F64)?,
                dtype(intern!(py, "bfloat16"), Dtype::Bf16)?,
                dtype(intern!(py, "float16"), Dtype::F16)?,
            ],
            empty_like: torch.getattr(intern!(py, "empty_like"))?,
            contiguous_format: torch.getattr(intern!(py, "contiguous_format"))?,
        })
    }

    /// The [`Dtype`] of a torch dtype, if FusedSGD steps it.
    fn dtype(&self, d: &Bound<'py, PyAny>) -> Option<Dtype> {
        self.dtypes.iter().find(|(t, _)| t.is(d)).map(|&(_, d)| d)
    }
}

/// What a grad or buffer must match: the param's shape and dtype.
struct Like<'a, 'py> {
    shape: &'a Bound<'py, PyAny>,
    dtype: Dtype,
}

/// The checks of one tensor role (`the param`, `its grad`, `its momentum_buffer`): a grad or
/// buffer must be `like` the param (its shape and dtype). Returns the dtype, the data pointer
/// and, for the param, its element count.
fn check<'py>(
    t: &Bound<'py, PyAny>,
    role: &str,
    name: &dyn Fn() -> String,
    torch: &Torch<'py>,
    like: Option<&Like<'_, 'py>>,
) -> PyResult<(Dtype, usize, usize)> {
    let py = t.py();
    if t.getattr(intern!(py, "is_sparse"))?.is_truthy()? {
        return Err(PyTypeError::new_err(format!(
            "{}: FusedSGD does not support sparse tensors",
            name()
        )));
    }
    let torch_dtype = t.getattr(intern!(py, "dtype"))?;
    let dtype = match (torch.dtype(&torch_dtype), like) {
        (Some(d), None) => d,
        (Some(d), Some(l)) if d == l.dtype => d,
        (_, Some(l)) => {
            return Err(PyTypeError::new_err(format!(
                "{}: {role} has dtype {torch_dtype}, the param {}",
                name(),
                torch_name(l.dtype)
            )));
        }
        (None, None) => {
            return Err(PyTypeError::new_err(format!(
                "{}: dtype {torch_dtype}: FusedSGD steps torch.float32, float64, bfloat16 and float16",
                name()
            )));
        }
    };
    if !t.getattr(intern!(py, "is_cpu"))?.is_truthy()? {
        let device = t.getattr(intern!(py, "device"))?;
        return Err(PyTypeError::new_err(format!(
            "{}: {role} is on {device}: this build of FusedSGD steps CPU tensors",
            name()
        )));
    }
    if let Some(l) = like {
        let a = t.getattr(intern!(py, "shape"))?;
        if !a.eq(l.shape)? {
            let (a, b): (Vec<i64>, Vec<i64>) = (a.extract()?, l.shape.extract()?);
            return Err(PyValueError::new_err(format!(
                "{}: {role} has shape {}, the param {}",
                name(),
                shape(&a),
                shape(&b)
            )));
        }
    }
    if !t.call_method0(intern!(py, "is_contiguous"))?.is_truthy()? {
        return Err(PyValueError::new_err(format!("{}: {role} is not contiguous", name())));
    }
    let ptr: usize = t.call_method0(intern!(py, "data_ptr"))?.extract()?;
    // A grad or buffer has the param's shape, hence its element count.
    let numel: usize = match like {
        None => t.call_method0(intern!(py, "numel"))?.extract()?,
        Some(_) => 0,
    };
    Ok((dtype, ptr, numel))
}

/// torch's name of a dtype.
fn torch_name(d: Dtype) -> &'static str {
    match d {
        Dtype::F64 => "torch.float64",
        Dtype::Bf16 => "torch.bfloat16",
        Dtype::F16 => "torch.float16",
        _ => "torch.float32",
    }
}

/// A shape as Python prints a tuple: `(3,)`, `(4, 4)`.
fn shape(dims: &[i64]) -> String {
    match dims {
        [d] => format!("({d},)"),
        _ => format!("({})", dims.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")),
    }
}

/// Reads and checks every group and tensor of `param_groups`, creating (not storing) the
/// momentum buffers of first steps.
pub(crate) fn collect<'py>(
    param_groups: &Bound<'py, PyList>,
    state: &Bound<'py, PyAny>,
    torch: &Torch<'py>,
    cache: &mut TensorCache,
) -> PyResult<Collected<'py>> {
    let py = param_groups.py();
    let mut out = Collected { groups: Vec::new(), keep: Vec::new(), created: Vec::new() };
    for (gi, group) in param_groups.iter().enumerate() {
        let group = group.cast_into::<PyDict>()?;
        let get = |k: &Bound<'py, pyo3::types::PyString>| {
            group
                .get_item(k)?
                .ok_or_else(|| PyValueError::new_err(format!("param_groups[{gi}] has no {k}")))
        };
        let lr = float(&get(intern!(py, "lr"))?)?;
        let momentum = float(&get(intern!(py, "momentum"))?)?;
        let dampening = float(&get(intern!(py, "dampening"))?)?;
        let weight_decay = float(&get(intern!(py, "weight_decay"))?)?;
        let nesterov = get(intern!(py, "nesterov"))?.is_truthy()?;
        let maximize = get(intern!(py, "maximize"))?.is_truthy()?;
        let params = get(intern!(py, "params"))?;
        let config = SgdConfig { lr, momentum, dampening, weight_decay, nesterov, maximize };
        let mut tensors: Vec<TensorArgs> = Vec::new();
        for (pi, p) in params.try_iter()?.enumerate() {
            let p = p?;
            let g = p.getattr(intern!(py, "grad"))?;
            if g.is_none() {
                continue;
            }
            let name = || format!("param_groups[{gi}]['params'][{pi}]");
            let slot = cache.slot(gi, pi);
            let ptr: usize = p.call_method0(intern!(py, "data_ptr"))?.extract()?;
            let known = slot.as_ref().filter(|c| c.param.is(&p) && c.ptr == ptr);
            let (dtype, param, numel, shape) = match known {
                Some(c) => (c.dtype, c.ptr, c.numel, c.shape.bind(py).clone()),
                None => {
                    *slot = None;
                    let (dtype, ptr, numel) = check(&p, "the param", &name, torch, None)?;
                    (dtype, ptr, numel, p.getattr(intern!(py, "shape"))?)
                }
            };
            let like = Like { shape: &shape, dtype };
            let (_, grad, _) = check(&g, "its grad", &name, torch, Some(&like))?;
            let (mut buf, mut initialized) = (0, false);
            let mut buffer = None;
            if momentum != 0.0 {
                let st = state.get_item(&p)?;
                match st.get_item(intern!(py, "momentum_buffer")).ok().filter(|b| !b.is_none()) {
                    Some(b) => {
                        let cached = slot.as_ref().and_then(|c| c.buffer.as_ref());
                        buf = match cached.filter(|(o, _)| o.is(&b)) {
                            Some(&(_, bptr))
                                if b.call_method0(intern!(py, "data_ptr"))?
                                    .extract::<usize>()?
                                    == bptr =>
                            {
                                bptr
                            }
                            _ => check(&b, "its momentum_buffer", &name, torch, Some(&like))?.1,
                        };
                        initialized = true;
                        buffer = Some((b.clone().unbind(), buf));
                        out.keep.push(b);
                    }
                    None => {
                        let kw = PyDict::new(py);
                        kw.set_item(intern!(py, "memory_format"), &torch.contiguous_format)?;
                        let b = torch.empty_like.call((&p,), Some(&kw))?;
                        buf = b.call_method0(intern!(py, "data_ptr"))?.extract()?;
                        out.created.push((p.clone(), b));
                    }
                }
            }
            *slot = Some(Checked {
                param: p.clone().unbind(),
                dtype,
                ptr: param,
                numel,
                shape: shape.unbind(),
                buffer,
            });
            tensors.push(TensorArgs {
                place: (gi, pi),
                dtype,
                param,
                grad,
                buffer: buf,
                initialized,
                numel,
            });
            out.keep.push(p);
            out.keep.push(g);
        }
        out.groups.push(GroupArgs { config, tensors });
    }
    Ok(out)
}

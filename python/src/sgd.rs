//! `fused_step`: one fused `torch.optim.SGD` step of sgd-cpu over torch's CPU tensors
//! (float32, float64, bfloat16, float16), which cross as addresses and element counts (read
//! and checked by `torch_tensors`). Everything is checked before anything is written: the
//! group options (torch's constructor rules), the addresses (non-null, aligned for the dtype)
//! and that no written range overlaps another tensor; then the step runs on sgd-cpu's thread
//! pool with the GIL released.

use std::sync::Mutex;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyList;
use sgd_cpu::{
    Bf16, Dtype, F16, SgdConfig, StepOptions, StepOutcome, TensorMut, TensorRef, ThreadPool,
    TypedGroup, TypedMomentum, TypedSlot, TypedStepOptions,
};

use crate::errors;
use crate::torch_tensors::{TensorCache, Torch, collect};

/// One tensor of a step: its place in `param_groups`, dtype, addresses (`grad` 0: skipped,
/// `buffer` 0: no momentum) and element count.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TensorArgs {
    /// `(group, index)` in `param_groups[group]['params'][index]`.
    pub(crate) place: (usize, usize),
    /// The dtype of the param, its grad and its buffer.
    pub(crate) dtype: Dtype,
    pub(crate) param: usize,
    pub(crate) grad: usize,
    pub(crate) buffer: usize,
    /// Whether the buffer holds a momentum value (false at the param's first step).
    pub(crate) initialized: bool,
    pub(crate) numel: usize,
}

/// One group: its options and tensors.
#[derive(Clone, Debug)]
pub(crate) struct GroupArgs {
    pub(crate) config: SgdConfig,
    pub(crate) tensors: Vec<TensorArgs>,
}

/// The process's thread pool, rebuilt when the thread count asked for changes.
static POOL: Mutex<Option<ThreadPool>> = Mutex::new(None);

/// Bytes of one element.
fn size_of_dtype(d: Dtype) -> usize {
    match d {
        Dtype::F64 => 8,
        Dtype::Bf16 | Dtype::F16 => 2,
        _ => 4,
    }
}

/// `param_groups[g]['params'][i]`.
fn name((g, i): (usize, usize)) -> String {
    format!("param_groups[{g}]['params'][{i}]")
}

/// A byte range of one tensor, and whether the step writes it.
#[derive(Clone, Copy, Debug)]
struct Range {
    start: usize,
    end: usize,
    written: bool,
    place: (usize, usize),
    role: &'static str,
}

/// Checks every address and that no written range overlaps another range.
fn check_memory(groups: &[GroupArgs]) -> PyResult<()> {
    let mut ranges = Vec::new();
    for t in groups.iter().flat_map(|g| &g.tensors) {
        let size = size_of_dtype(t.dtype);
        let bytes = t.numel.checked_mul(size).ok_or_else(|| {
            PyValueError::new_err(format!("{}: {} elements overflow", name(t.place), t.numel))
        })?;
        for (ptr, role, written) in
            [(t.param, "param", true), (t.grad, "grad", false), (t.buffer, "momentum_buffer", true)]
        {
            if ptr == 0 {
                if role == "param" {
                    return Err(PyValueError::new_err(format!("{}: null param", name(t.place))));
                }
                continue;
            }
            if ptr % size != 0 {
                return Err(PyValueError::new_err(format!(
                    "{}: its {role} at {ptr:#x} is not aligned for {:?}",
                    name(t.place),
                    t.dtype
                )));
            }
            let end = ptr.checked_add(bytes).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "{}: its {role} wraps the address space",
                    name(t.place)
                ))
            })?;
            if bytes > 0 {
                ranges.push(Range { start: ptr, end, written, place: t.place, role });
            }
        }
    }
    ranges.sort_by_key(|r| r.start);
    // Sorted by start: a range overlaps a later one iff that one starts before the largest
    // end seen so far; only overlaps involving a written range are refused (two grads may
    // alias: they are only read).
    let mut reach: Option<Range> = None;
    let mut written_reach: Option<Range> = None;
    for r in ranges {
        let hit = if r.written { reach } else { written_reach };
        if let Some(prev) = hit.filter(|p| r.start < p.end) {
            return Err(PyValueError::new_err(format!(
                "{}'s {} overlaps {}'s {}: a step would write memory it also reads",
                name(r.place),
                r.role,
                name(prev.place),
                prev.role
            )));
        }
        if reach.is_none_or(|p| r.end > p.end) {
            reach = Some(r);
        }
        if r.written && written_reach.is_none_or(|p| r.end > p.end) {
            written_reach = Some(r);
        }
    }
    Ok(())
}

/// One fused step of a `FusedSGD` over its `param_groups` and `state` (torch's objects):
/// every tensor checked (`cache` remembers the parameters and buffers already checked), then
/// the step; the momentum buffers of first steps are stored in
/// `state[p]["momentum_buffer"]` after a step that ran. Returns the number of tensors updated
/// (0 when `found_inf` skipped the step).
#[pyfunction]
#[allow(clippy::too_many_arguments)] // the optimizer's parts and the step's options, one each
#[pyo3(signature = (param_groups, state, cache, torch, threads, grad_scale=None, found_inf=false))]
pub(crate) fn fused_step<'py>(
    py: Python<'py>,
    param_groups: &Bound<'py, PyList>,
    state: &Bound<'py, PyAny>,
    cache: &mut TensorCache,
    torch: &Bound<'py, PyModule>,
    threads: usize,
    grad_scale: Option<f32>,
    found_inf: bool,
) -> PyResult<usize> {
    let objects = Torch::new(torch)?;
    let collected = collect(param_groups, state, &objects, cache)?;
    let updated = step(py, &collected.groups, threads, grad_scale, found_inf)?;
    if !found_inf {
        for (p, buf) in &collected.created {
            state.get_item(p)?.set_item(intern!(py, "momentum_buffer"), buf)?;
        }
    }
    drop(collected.keep);
    Ok(updated)
}

/// A `len`-element slice at `ptr` of the element type of `dtype`, as sgd-cpu's typed view.
///
/// # Safety
/// `ptr` is non-null, aligned for the element type, and `len` elements from it are valid,
/// initialised memory of that type, not accessed elsewhere while the view lives.
unsafe fn tensor_mut<'t>(dtype: Dtype, ptr: usize, len: usize) -> TensorMut<'t> {
    // SAFETY: the caller's contract, for each element type.
    unsafe {
        match dtype {
            Dtype::F64 => TensorMut::F64(core::slice::from_raw_parts_mut(ptr as *mut f64, len)),
            Dtype::Bf16 => TensorMut::Bf16(core::slice::from_raw_parts_mut(ptr as *mut Bf16, len)),
            Dtype::F16 => TensorMut::F16(core::slice::from_raw_parts_mut(ptr as *mut F16, len)),
            _ => TensorMut::F32(core::slice::from_raw_parts_mut(ptr as *mut f32, len)),
        }
    }
}

/// [`tensor_mut`], read-only.
///
/// # Safety
/// As [`tensor_mut`], except that the memory may also be read elsewhere.
unsafe fn tensor_ref<'t>(dtype: Dtype, ptr: usize, len: usize) -> TensorRef<'t> {
    // SAFETY: the caller's contract, for each element type.
    unsafe {
        match dtype {
            Dtype::F64 => TensorRef::F64(core::slice::from_raw_parts(ptr as *const f64, len)),
            Dtype::Bf16 => TensorRef::Bf16(core::slice::from_raw_parts(ptr as *const Bf16, len)),
            Dtype::F16 => TensorRef::F16(core::slice::from_raw_parts(ptr as *const F16, len)),
            _ => TensorRef::F32(core::slice::from_raw_parts(ptr as *const f32, len)),
        }
    }
}

/// The step over checked groups.
fn step(
    py: Python<'_>,
    groups: &[GroupArgs],
    threads: usize,
    grad_scale: Option<f32>,
    found_inf: bool,
) -> PyResult<usize> {
    for (i, g) in groups.iter().enumerate() {
        g.config.validate_values(i).map_err(|e| PyValueError::new_err(e.to_string()))?;
    }
    check_memory(groups)?;
    let threads = threads.clamp(1, ThreadPool::MAX_THREADS);
    py.detach(|| {
        let mut flags: Vec<Vec<bool>> =
            groups.iter().map(|g| g.tensors.iter().map(|t| t.initialized).collect()).collect();
        let mut slots: Vec<Vec<TypedSlot<'_>>> = Vec::with_capacity(groups.len());
        for (group, flags) in groups.iter().zip(flags.iter_mut()) {
            let mut g = Vec::with_capacity(group.tensors.len());
            for (t, init) in group.tensors.iter().zip(flags.iter_mut()) {
                // SAFETY: `check_memory` found every address non-null and aligned for the
                // dtype, each range inside the address space and no written range
                // overlapping any other; the caller (lrkit.torch.FusedSGD) passes
                // `data_ptr()` and `numel()` of contiguous CPU tensors of `t.dtype`
                // (`torch_tensors` checked them) that it holds references to for this call,
                // so the memory is valid, initialised data for the whole call.
                let param = unsafe { tensor_mut(t.dtype, t.param, t.numel) };
                // SAFETY: as above; the gradient is only read.
                let grad = (t.grad != 0).then(|| unsafe { tensor_ref(t.dtype, t.grad, t.numel) });
                let mut slot = TypedSlot::new(param, grad);
                if t.buffer != 0 {
                    // SAFETY: as above; the buffer is written and overlaps nothing.
                    let buffer = unsafe { tensor_mut(t.dtype, t.buffer, t.numel) };
                    slot.momentum = Some(TypedMomentum { buffer, initialized: init });
                }
                g.push(slot);
            }
            slots.push(g);
        }
        let mut typed: Vec<TypedGroup<'_, '_>> = groups
            .iter()
            .zip(slots.iter_mut())
            .map(|(g, t)| TypedGroup { config: g.config, tensors: t })
            .collect();
        let opts = TypedStepOptions {
            options: StepOptions { grad_scale, found_inf, ..StepOptions::default() },
            ..TypedStepOptions::default()
        };
        let mut pool = POOL.lock().map_err(|_| PyRuntimeError::new_err("thread pool poisoned"))?;
        if pool.as_ref().is_none_or(|p| p.threads() != threads) {
            *pool = Some(ThreadPool::new(threads).map_err(|e| errors::sgd(&e))?);
        }
        let pool = pool.as_ref().ok_or_else(|| PyRuntimeError::new_err("no thread pool"))?;
        match pool.typed_step(&mut typed, &opts).map_err(|e| errors::sgd(&e))? {
            StepOutcome::Applied { tensors, .. } => Ok(tensors),
            _ => Ok(0),
        }
    })
}

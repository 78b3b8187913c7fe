//! `fused_step`: one fused `torch.optim.SGD` step of sgd-cpu over torch's CPU float32 tensors,
//! which cross as addresses and element counts (read by `torch_tensors`). Everything is checked before anything is
//! written: the group options (torch's constructor rules), the addresses (non-null, aligned
//! for f32) and that no written range overlaps another tensor; then the step runs on
//! sgd-cpu's thread pool with the GIL released.

use std::sync::Mutex;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyList;
use sgd_cpu::{SgdConfig, StepOptions, StepOutcome, TensorGroup, TensorSlot, ThreadPool};

use crate::errors;
use crate::torch_tensors::{TensorCache, Torch, collect};

/// One tensor: `(param, grad, momentum_buffer, buffer_initialized, numel)`; `grad` is 0 for
/// `p.grad is None` (skipped), `momentum_buffer` 0 without momentum.
pub(crate) type TensorArgs = (usize, usize, usize, bool, usize);

/// One group: `(lr, momentum, dampening, weight_decay, nesterov, maximize, tensors)`.
pub(crate) type GroupArgs = (f64, f64, f64, f64, bool, bool, Vec<TensorArgs>);

/// The process's thread pool, rebuilt when the thread count asked for changes.
static POOL: Mutex<Option<ThreadPool>> = Mutex::new(None);

/// A byte range of one tensor, and whether the step writes it.
#[derive(Clone, Copy, Debug)]
struct Range {
    start: usize,
    end: usize,
    written: bool,
    /// Tensor index across groups, and which of its arrays.
    tensor: usize,
    role: &'static str,
}

/// Checks every address and that no written range overlaps another range.
fn check_memory(groups: &[GroupArgs]) -> PyResult<()> {
    let mut ranges = Vec::new();
    let mut index = 0;
    for (.., tensors) in groups {
        for &(param, grad, buf, _, numel) in tensors {
            let bytes = numel.checked_mul(4).ok_or_else(|| {
                PyValueError::new_err(format!("tensor {index}: {numel} elements overflow"))
            })?;
            for (ptr, role, written) in
                [(param, "param", true), (grad, "grad", false), (buf, "momentum_buffer", true)]
            {
                if ptr == 0 {
                    if role == "param" {
                        return Err(PyValueError::new_err(format!("tensor {index}: null param")));
                    }
                    continue;
                }
                if ptr % align_of::<f32>() != 0 {
                    return Err(PyValueError::new_err(format!(
                        "tensor {index}: {role} at {ptr:#x} is not aligned for float32"
                    )));
                }
                let end = ptr.checked_add(bytes).ok_or_else(|| {
                    PyValueError::new_err(format!("tensor {index}: {role} wraps the address space"))
                })?;
                if bytes > 0 {
                    ranges.push(Range { start: ptr, end, written, tensor: index, role });
                }
            }
            index += 1;
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
                "tensor {}'s {} overlaps tensor {}'s {}: a step would write memory it also reads",
                r.tensor, r.role, prev.tensor, prev.role
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
    let objects = Torch {
        float32: torch.getattr(intern!(py, "float32"))?,
        empty_like: torch.getattr(intern!(py, "empty_like"))?,
        contiguous_format: torch.getattr(intern!(py, "contiguous_format"))?,
    };
    let collected = collect(param_groups, state, &objects, cache)?;
    let updated = step(py, collected.groups, threads, grad_scale, found_inf)?;
    if !found_inf {
        for (p, buf) in &collected.created {
            state.get_item(p)?.set_item(intern!(py, "momentum_buffer"), buf)?;
        }
    }
    drop(collected.keep);
    Ok(updated)
}

/// The step over checked groups.
fn step(
    py: Python<'_>,
    groups: Vec<GroupArgs>,
    threads: usize,
    grad_scale: Option<f32>,
    found_inf: bool,
) -> PyResult<usize> {
    for (i, &(lr, momentum, dampening, weight_decay, nesterov, maximize, _)) in
        groups.iter().enumerate()
    {
        let c = SgdConfig { lr, momentum, dampening, weight_decay, nesterov, maximize };
        c.validate_values(i).map_err(|e| PyValueError::new_err(e.to_string()))?;
    }
    check_memory(&groups)?;
    let threads = threads.clamp(1, ThreadPool::MAX_THREADS);
    py.detach(|| {
        let mut flags: Vec<Vec<bool>> =
            groups.iter().map(|g| g.6.iter().map(|t| t.3).collect()).collect();
        let mut slots: Vec<Vec<TensorSlot<'_>>> = Vec::with_capacity(groups.len());
        for ((.., tensors), flags) in groups.iter().zip(flags.iter_mut()) {
            let mut g = Vec::with_capacity(tensors.len());
            for (&(param, grad, buf, _, numel), init) in tensors.iter().zip(flags.iter_mut()) {
                // SAFETY: `check_memory` found every address non-null and f32-aligned, each
                // range inside the address space and no written range overlapping any other;
                // the caller (lrkit.torch.FusedSGD) passes `data_ptr()` and `numel()` of
                // contiguous CPU float32 tensors it holds references to for this call, so the
                // memory is valid, initialised f32 data for the whole call.
                let param = unsafe { core::slice::from_raw_parts_mut(param as *mut f32, numel) };
                // SAFETY: as above; the gradient is only read.
                let grad = (grad != 0)
                    .then(|| unsafe { core::slice::from_raw_parts(grad as *const f32, numel) });
                g.push(if buf == 0 {
                    TensorSlot::new(param, grad)
                } else {
                    // SAFETY: as above; the buffer is written and overlaps nothing.
                    let b = unsafe { core::slice::from_raw_parts_mut(buf as *mut f32, numel) };
                    TensorSlot::with_momentum(param, grad, b, init)
                });
            }
            slots.push(g);
        }
        let mut tensor_groups: Vec<TensorGroup<'_, '_>> = groups
            .iter()
            .zip(slots.iter_mut())
            .map(|(&(lr, momentum, dampening, weight_decay, nesterov, maximize, _), t)| {
                let config =
                    SgdConfig { lr, momentum, dampening, weight_decay, nesterov, maximize };
                TensorGroup { config, tensors: t }
            })
            .collect();
        let opts = StepOptions { grad_scale, found_inf, ..StepOptions::default() };
        let mut pool = POOL.lock().map_err(|_| PyRuntimeError::new_err("thread pool poisoned"))?;
        if pool.as_ref().is_none_or(|p| p.threads() != threads) {
            *pool = Some(ThreadPool::new(threads).map_err(|e| errors::sgd(&e))?);
        }
        let pool = pool.as_ref().ok_or_else(|| PyRuntimeError::new_err("no thread pool"))?;
        match pool.fused_step(&mut tensor_groups, &opts).map_err(|e| errors::sgd(&e))? {
            StepOutcome::Applied { tensors, .. } => Ok(tensors),
            _ => Ok(0),
        }
    })
}

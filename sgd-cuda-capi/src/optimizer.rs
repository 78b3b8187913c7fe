//! `sgd_cuda_optimizer`: the handle, and every entry point that takes one.
use core::ffi::c_void;

use sgd_cuda::{CudaSgdOptions, FixedBorrowedSgd, SrKey, borrow_stream};

use crate::check::{self, WrittenRange};
use crate::error::{CapiError, Field, guarded};
use crate::types::{SgdCudaConfigC, SgdCudaTensorC, SgdCudaTypedTensorC};

/// `sgd_cuda_optimizer`: an opaque handle to a [`FixedBorrowedSgd`] on the caller's stream,
/// with the ranges its steps write (to check a gradient scaler against).
pub struct SgdCudaOptimizer {
    sgd: FixedBorrowedSgd,
    written: Vec<WrittenRange>,
}

/// `int32_t sgd_cuda_create(int32_t device, void *stream, const sgd_cuda_config *groups,
/// size_t n_groups, const sgd_cuda_tensor *tensors, size_t n_tensors, sgd_cuda_optimizer
/// **out)`: an optimizer for the tensors on `stream` of device `device` (see the header for
/// the order of the checks). On success `*out` is the optimizer (free it with
/// [`sgd_cuda_destroy`]); on failure `*out` is null and nothing was created. Returns a
/// [`crate::SgdCudaStatus`].
///
/// # Safety
/// `out` is null or valid for one pointer write; `groups` and `tensors` are null or point at
/// `n_groups` / `n_tensors` values; `stream` is a live stream of device `device` (or null /
/// `CU_STREAM_LEGACY`, refused) that outlives the optimizer; the tensors' device pointers stay
/// allocated while the optimizer steps. Nulls, misalignment, sizes and overlaps are detected
/// and reported.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sgd_cuda_create(
    device: i32,
    stream: *mut c_void,
    groups: *const SgdCudaConfigC,
    n_groups: usize,
    tensors: *const SgdCudaTensorC,
    n_tensors: usize,
    out: *mut *mut SgdCudaOptimizer,
) -> i32 {
    guarded(|| {
        // SAFETY: forwarded from this function's contract.
        unsafe {
            create_into(out, device, stream, groups, n_groups, || {
                check::check_array(tensors, n_tensors, Field::Tensors, false)?;
                // SAFETY: non-null, aligned, within isize::MAX bytes (checked above); the
                // caller guarantees `n_tensors` tensors there.
                let tensors = core::slice::from_raw_parts(tensors, n_tensors);
                Ok(tensors.iter().map(SgdCudaTypedTensorC::from_f32).collect())
            })
        }
    })
}

/// `int32_t sgd_cuda_create_typed(int32_t device, void *stream, const sgd_cuda_config *groups,
/// size_t n_groups, const sgd_cuda_typed_tensor *tensors, size_t n_tensors, sgd_cuda_optimizer
/// **out)`: [`sgd_cuda_create`] for tensors of any dtype (`sgd_cuda_typed_tensor`: float32,
/// float64, bfloat16, float16, bf16/f16 with an f32 master copy, rounded to nearest or
/// stochastically), checked besides: every dtype and rounding code is the header's
/// (`SGD_CUDA_ERR_UNKNOWN_CODE`), every tensor's dtypes fit together (`SGD_CUDA_ERR_DTYPE`), each
/// naming the tensor; pointers are aligned to their element. Stochastic rounding of element `i`
/// of tensor `t` (its index in `tensors`) uses the Philox words of `(seed, step, t, i)` of
/// [`sgd_cuda_set_rounding_key`].
///
/// # Safety
/// As [`sgd_cuda_create`], each device pointer at `numel` elements of its dtype (`master` at
/// `master_numel` floats).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sgd_cuda_create_typed(
    device: i32,
    stream: *mut c_void,
    groups: *const SgdCudaConfigC,
    n_groups: usize,
    tensors: *const SgdCudaTypedTensorC,
    n_tensors: usize,
    out: *mut *mut SgdCudaOptimizer,
) -> i32 {
    guarded(|| {
        // SAFETY: forwarded from this function's contract.
        unsafe {
            create_into(out, device, stream, groups, n_groups, || {
                check::check_array(tensors, n_tensors, Field::Tensors, false)?;
                // SAFETY: as in `sgd_cuda_create`.
                Ok(core::slice::from_raw_parts(tensors, n_tensors).to_vec())
            })
        }
    })
}

/// `*out = null`, then the optimizer made by [`create`] from the tensors `tensors` gives.
///
/// # Safety
/// As [`sgd_cuda_create_typed`]; `tensors` reads the caller's array.
unsafe fn create_into(
    out: *mut *mut SgdCudaOptimizer,
    device: i32,
    stream: *mut c_void,
    groups: *const SgdCudaConfigC,
    n_groups: usize,
    tensors: impl FnOnce() -> Result<Vec<SgdCudaTypedTensorC>, CapiError>,
) -> Result<(), CapiError> {
    if out.is_null() {
        return Err(CapiError::NullPointer { tensor: None, field: Field::Out });
    }
    // SAFETY: `out` is non-null and valid for a write (contract); unaligned is allowed.
    unsafe { out.write_unaligned(core::ptr::null_mut()) };
    // SAFETY: forwarded from this function's contract.
    let made = unsafe { create(device, stream, groups, n_groups, tensors) }?;
    // SAFETY: as above.
    unsafe { out.write_unaligned(Box::into_raw(Box::new(made))) };
    Ok(())
}

/// `int32_t sgd_cuda_set_rounding_key(sgd_cuda_optimizer *opt, uint64_t seed, uint32_t step)`:
/// the seed and step of stochastic rounding from the next step (or graph replay) on: set a new
/// step every step. Refused (`SGD_CUDA_ERR_CAPTURING`) when it changes while the stream is
/// being captured. Without a tensor that is not float32 nothing is stored.
///
/// # Safety
/// `opt` is null or a live optimizer used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sgd_cuda_set_rounding_key(
    opt: *mut SgdCudaOptimizer,
    seed: u64,
    step: u32,
) -> i32 {
    guarded(|| {
        // SAFETY: forwarded from this function's contract.
        unsafe { optimizer(opt) }?.sgd.set_rounding_key(SrKey::new(seed, step))?;
        Ok(())
    })
}

/// The checks and the construction behind [`sgd_cuda_create`].
///
/// # Safety
/// As [`sgd_cuda_create`].
unsafe fn create(
    device: i32,
    stream: *mut c_void,
    groups: *const SgdCudaConfigC,
    n_groups: usize,
    tensors: impl FnOnce() -> Result<Vec<SgdCudaTypedTensorC>, CapiError>,
) -> Result<SgdCudaOptimizer, CapiError> {
    let ordinal = check::check_device(device)?;
    check::check_stream(stream.addr())?;
    check::check_array(groups, n_groups, Field::Groups, false)?;
    let tensors = tensors()?;
    // SAFETY: non-null, aligned, within isize::MAX bytes (checked above); the caller
    // guarantees `n_groups` groups there.
    let groups = unsafe { core::slice::from_raw_parts(groups, n_groups) };
    let setup = check::check_setup(groups, &tensors)?;
    // Everything the host can check is checked: now the driver.
    // SAFETY: `stream` is a live stream of device `ordinal` that outlives the optimizer
    // (contract); not null or CU_STREAM_LEGACY (checked above).
    let stream = unsafe { borrow_stream(ordinal, stream.cast()) }?;
    let sgd =
        FixedBorrowedSgd::new(stream, setup.groups, &setup.tensors, CudaSgdOptions::default())?;
    Ok(SgdCudaOptimizer { sgd, written: setup.written })
}

/// The optimizer behind a handle, or [`CapiError::NullPointer`].
///
/// # Safety
/// `opt` is null or a live optimizer of [`sgd_cuda_create`], used by no other thread.
unsafe fn optimizer<'a>(opt: *mut SgdCudaOptimizer) -> Result<&'a mut SgdCudaOptimizer, CapiError> {
    // SAFETY: the caller's contract.
    unsafe { opt.as_mut() }.ok_or(CapiError::NullPointer { tensor: None, field: Field::Optimizer })
}

/// The learning rates of a call: `None` for null with `n_lrs == 0` (keep the current ones).
///
/// # Safety
/// `lrs` is null or points at `n_lrs` doubles that live for `'a`.
unsafe fn learning_rates<'a>(
    lrs: *const f64,
    n_lrs: usize,
) -> Result<Option<&'a [f64]>, CapiError> {
    if lrs.is_null() && n_lrs == 0 {
        return Ok(None);
    }
    check::check_array(lrs, n_lrs, Field::Lrs, true)?;
    if n_lrs == 0 {
        return Ok(Some(&[]));
    }
    // SAFETY: non-null, aligned, within isize::MAX bytes (checked above); `n_lrs` doubles
    // there (contract).
    Ok(Some(unsafe { core::slice::from_raw_parts(lrs, n_lrs) }))
}

/// Runs the body of an entry point that takes an optimizer and learning rates ([`guarded`]):
/// the optimizer behind `opt` and the learning rates of [`learning_rates`], checked in that
/// order, then `body`.
///
/// # Safety
/// `opt` is null or a live optimizer of [`sgd_cuda_create`], used by no other thread; `lrs` is
/// null or points at `n_lrs` doubles.
unsafe fn guarded_with_lrs(
    opt: *mut SgdCudaOptimizer,
    lrs: *const f64,
    n_lrs: usize,
    body: impl FnOnce(&mut SgdCudaOptimizer, Option<&[f64]>) -> Result<(), CapiError>,
) -> i32 {
    guarded(|| {
        // SAFETY: forwarded from this function's contract.
        let (opt, lrs) = unsafe { (optimizer(opt)?, learning_rates(lrs, n_lrs)?) };
        body(opt, lrs)
    })
}

/// `int32_t sgd_cuda_step(sgd_cuda_optimizer *opt, const double *lrs, size_t n_lrs)`: sets the
/// learning rates (one per group; null with `n_lrs == 0` keeps them), then enqueues one step of
/// every tensor (one launch or one graph replay). Refused learning rates change nothing and
/// launch nothing.
///
/// # Safety
/// `opt` is null or a live optimizer used by no other thread; `lrs` is null or points at
/// `n_lrs` doubles; the tensors' device memory is still allocated, and nothing else uses it
/// until the step has run in stream order.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sgd_cuda_step(
    opt: *mut SgdCudaOptimizer,
    lrs: *const f64,
    n_lrs: usize,
) -> i32 {
    let step = |opt: &mut SgdCudaOptimizer, lrs: Option<&[f64]>| {
        if let Some(lrs) = lrs {
            opt.sgd.set_lrs(lrs)?;
        }
        // SAFETY: the device pointers given at creation are live allocations of the stream's
        // context, checked for size, alignment and overlaps at creation, and so is the scaler
        // (checked by `sgd_cuda_set_grad_scaler`); nothing else uses them until the step ran
        // (this function's contract).
        Ok(unsafe { opt.sgd.step() }?)
    };
    // SAFETY: forwarded from this function's contract.
    unsafe { guarded_with_lrs(opt, lrs, n_lrs, step) }
}

/// `int32_t sgd_cuda_set_lrs(sgd_cuda_optimizer *opt, const double *lrs, size_t n_lrs)`: sets
/// the learning rates of the following steps and graph replays without stepping.
///
/// # Safety
/// `opt` is null or a live optimizer used by no other thread; `lrs` is null or points at
/// `n_lrs` doubles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sgd_cuda_set_lrs(
    opt: *mut SgdCudaOptimizer,
    lrs: *const f64,
    n_lrs: usize,
) -> i32 {
    let set = |opt: &mut SgdCudaOptimizer, lrs: Option<&[f64]>| {
        let lrs = lrs.ok_or(CapiError::NullPointer { tensor: None, field: Field::Lrs })?;
        Ok(opt.sgd.set_lrs(lrs)?)
    };
    // SAFETY: forwarded from this function's contract.
    unsafe { guarded_with_lrs(opt, lrs, n_lrs, set) }
}

/// `int32_t sgd_cuda_set_grad_scaler(sgd_cuda_optimizer *opt, const float *grad_scale, const
/// float *found_inf)`: the device floats every following step reads (null = none): gradients
/// are divided by `*grad_scale`, and a step with `*found_inf != 0` changes nothing. Both are
/// checked (alignment, not inside a written range) before either is used. Drops a captured
/// graph.
///
/// # Safety
/// `opt` is null or a live optimizer used by no other thread; the non-null pointers stay
/// allocated while the optimizer steps.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sgd_cuda_set_grad_scaler(
    opt: *mut SgdCudaOptimizer,
    grad_scale: *const f32,
    found_inf: *const f32,
) -> i32 {
    guarded(|| {
        // SAFETY: forwarded from this function's contract.
        let opt = unsafe { optimizer(opt) }?;
        let scale = check::check_scaler(&opt.written, grad_scale, Field::GradScale)?;
        let inf = check::check_scaler(&opt.written, found_inf, Field::FoundInf)?;
        opt.sgd.set_grad_scaler(scale, inf)?;
        Ok(())
    })
}

/// `int32_t sgd_cuda_capture_graph(sgd_cuda_optimizer *opt)`: captures one step (the launch)
/// into a CUDA graph; later steps replay it.
///
/// # Safety
/// `opt` is null or a live optimizer used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sgd_cuda_capture_graph(opt: *mut SgdCudaOptimizer) -> i32 {
    guarded(|| {
        // SAFETY: forwarded from this function's contract.
        unsafe { optimizer(opt) }?.sgd.capture_graph()?;
        Ok(())
    })
}

/// `int32_t sgd_cuda_release_graph(sgd_cuda_optimizer *opt)`: drops the captured graph.
///
/// # Safety
/// `opt` is null or a live optimizer used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sgd_cuda_release_graph(opt: *mut SgdCudaOptimizer) -> i32 {
    guarded(|| {
        // SAFETY: forwarded from this function's contract.
        unsafe { optimizer(opt) }?.sgd.release_graph();
        Ok(())
    })
}

/// `void sgd_cuda_destroy(sgd_cuda_optimizer *opt)`: frees the optimizer (its device tables in
/// stream order); null is ignored.
///
/// # Safety
/// `opt` is null or was returned by [`sgd_cuda_create`] and not freed yet, no other thread uses
/// it, and its stream is still alive.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sgd_cuda_destroy(opt: *mut SgdCudaOptimizer) {
    if !opt.is_null() {
        // SAFETY: the caller guarantees `opt` came from `Box::into_raw` in `sgd_cuda_create`
        // and is freed once.
        let opt = unsafe { Box::from_raw(opt) };
        // Freeing device memory cannot panic in practice; never unwind into C if it did.
        let free = || sgd_cuda::preserving_current_context(|| drop(opt));
        let _ = std::panic::catch_unwind(core::panic::AssertUnwindSafe(free));
    }
}

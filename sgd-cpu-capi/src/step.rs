//! `sgd_step`: one fused SGD step over C-described tensors.
use core::ffi::c_char;
use core::panic::AssertUnwindSafe;
use std::panic::catch_unwind;

use sgd_cpu::{Backend, StepOptions, StepOutcome, TensorGroup, TensorSlot};

use crate::error::record;
use crate::layout::{Layout, SpanError, span};
use crate::{CapiError, PointerField, SgdGroupC, SgdPool, SgdStatus, SgdTensorC};

/// `int32_t sgd_step(const sgd_pool *pool, const sgd_group *groups, size_t n_groups,
/// const float *grad_scale, uint32_t found_inf)`: one `torch.optim.SGD.step()` over every
/// group, fused into one pass, on `pool` (null = the calling thread only).
///
/// `grad_scale` (null = none) divides every gradient inside the pass; `found_inf != 0` skips
/// the step after validation (torch's fused `grad_scale` / `found_inf`). Returns an
/// [`SgdStatus`]: `0` applied, `1` skipped, negative = rejected and nothing written (message:
/// [`crate::sgd_last_error_message`]). Results are bitwise those of [`sgd_cpu::fused_step`].
///
/// # Safety
/// Every non-null pointer points at what its field documents (`include/sgd_cpu.h`): `groups`
/// at `n_groups` groups, each group's `tensors` at `n_tensors` tensors, each float pointer at
/// `numel` floats, `initialized` at one byte, `grad_scale` at one float, `pool` at a live pool;
/// and no other thread accesses that memory during the call. Nulls, misalignment and
/// overlaps are detected and reported.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sgd_step(
    pool: *const SgdPool,
    groups: *const SgdGroupC,
    n_groups: usize,
    grad_scale: *const f32,
    found_inf: u32,
) -> i32 {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: forwarded from this function's contract.
        unsafe { step(pool, groups, n_groups, grad_scale, found_inf != 0) }
    }));
    record(result.unwrap_or_else(|p| Err(CapiError::panic(p))))
}

/// `const char *sgd_backend_name(void)`: the SIMD backend steps use (`"avx512"`, `"avx2"`,
/// `"neon"` or `"scalar"`), a static NUL-terminated string.
#[unsafe(no_mangle)]
pub extern "C" fn sgd_backend_name() -> *const c_char {
    match Backend::active() {
        Backend::Avx512 => c"avx512",
        Backend::Avx2 => c"avx2",
        Backend::Neon => c"neon",
        Backend::Scalar => c"scalar",
        _ => c"unknown",
    }
    .as_ptr()
}

/// Checks an array argument of `count` values of `T` at `ptr` (null is checked by the
/// caller) with [`span`].
fn check_array<T>(
    ptr: *const T,
    count: usize,
    group: Option<usize>,
    field: PointerField,
) -> Result<(), CapiError> {
    if count == 0 {
        return Ok(());
    }
    span(ptr, count).map(drop).map_err(|e| match e {
        SpanError::Misaligned => CapiError::Misaligned {
            group,
            tensor: None,
            field,
            address: ptr as usize,
            align: align_of::<T>(),
        },
        SpanError::TooLarge => CapiError::CountTooLarge { field, count },
    })
}

/// A slice of `n` elements at `ptr`, empty when `n == 0` (where `ptr` may be null).
///
/// # Safety
/// With `n > 0`, `ptr` is non-null, aligned and valid for `n` elements for `'a`.
unsafe fn slice_or_empty<'a, T>(ptr: *const T, n: usize) -> &'a [T] {
    if n == 0 {
        &[]
    } else {
        // SAFETY: the caller's contract.
        unsafe { core::slice::from_raw_parts(ptr, n) }
    }
}

/// A mutable slice of `n` elements at `ptr`, empty when `n == 0` (where `ptr` may be null).
///
/// # Safety
/// With `n > 0`, `ptr` is non-null, aligned, valid for `n` elements for `'a`, and not
/// accessed through any other reference during `'a`.
unsafe fn slice_mut_or_empty<'a, T>(ptr: *mut T, n: usize) -> &'a mut [T] {
    if n == 0 {
        &mut []
    } else {
        // SAFETY: the caller's contract.
        unsafe { core::slice::from_raw_parts_mut(ptr, n) }
    }
}

/// The step behind [`sgd_step`].
///
/// # Safety
/// As [`sgd_step`].
unsafe fn step(
    pool: *const SgdPool,
    groups: *const SgdGroupC,
    n_groups: usize,
    grad_scale: *const f32,
    found_inf: bool,
) -> Result<SgdStatus, CapiError> {
    let null = |field| CapiError::NullPointer { group: None, tensor: None, field };
    if groups.is_null() && n_groups > 0 {
        return Err(null(PointerField::Groups));
    }
    check_array(groups, n_groups, None, PointerField::Groups)?;
    // SAFETY: non-null, aligned and within isize::MAX bytes (or empty), checked above; the
    // caller guarantees `n_groups` groups there.
    let groups = unsafe { slice_or_empty(groups, n_groups) };
    // Pass 1: every pointer is checked before any reference to tensor memory is formed.
    let mut layout = Layout::default();
    layout.add_read(groups.as_ptr() as usize, size_of_val(groups), PointerField::Groups);
    // Read unaligned (below), so only its extent is checked.
    span(grad_scale.cast::<[u8; 4]>(), 1)
        .map_err(|_| CapiError::CountTooLarge { field: PointerField::GradScale, count: 1 })?;
    layout.add_read(grad_scale as usize, size_of::<f32>(), PointerField::GradScale);
    let mut tensor_lists: Vec<&[SgdTensorC]> = Vec::with_capacity(groups.len());
    let mut index = 0;
    for (g, group) in groups.iter().enumerate() {
        if group.tensors.is_null() && group.n_tensors > 0 {
            return Err(CapiError::NullPointer {
                group: Some(g),
                tensor: None,
                field: PointerField::Tensors,
            });
        }
        check_array(group.tensors, group.n_tensors, Some(g), PointerField::Tensors)?;
        // SAFETY: non-null, aligned and within isize::MAX bytes (or empty), checked above; the
        // caller guarantees `n_tensors` tensors there.
        let tensors = unsafe { slice_or_empty(group.tensors, group.n_tensors) };
        layout.add_read(tensors.as_ptr() as usize, size_of_val(tensors), PointerField::Tensors);
        for t in tensors {
            layout.add(g, index, t)?;
            index += 1;
        }
        tensor_lists.push(tensors);
    }
    layout.check_overlaps()?;
    // SAFETY: `grad_scale` is null or points at one float (caller); read unaligned to be
    // lenient about its alignment.
    let grad_scale = (!grad_scale.is_null()).then(|| unsafe { grad_scale.read_unaligned() });
    // SAFETY: `pool` is null or live (caller).
    let pool = unsafe { pool.as_ref() };

    // Pass 2: references. Every region is aligned, sized within isize::MAX, and no written
    // region overlaps another, so the `&mut` and `&` slices below do not alias.
    let mut flags: Vec<bool> = tensor_lists
        .iter()
        .flat_map(|ts| ts.iter())
        .map(|t| {
            // SAFETY: checked non-null for a tensor with a gradient and a buffer; one byte.
            !t.grad.is_null() && !t.momentum_buffer.is_null() && unsafe { *t.initialized } != 0
        })
        .collect();
    let mut flag_refs = flags.iter_mut();
    let mut slots: Vec<Vec<TensorSlot<'_>>> = Vec::with_capacity(groups.len());
    for tensors in &tensor_lists {
        let mut list = Vec::with_capacity(tensors.len());
        for (t, flag) in tensors.iter().zip(flag_refs.by_ref()) {
            if t.grad.is_null() {
                // No gradient: skipped by the step; its pointers are not used.
                list.push(TensorSlot::new(&mut [], None));
                continue;
            }
            let n = t.numel;
            // SAFETY: (all three slices) non-null when `n > 0` and aligned (checked), valid
            // for `n` floats (caller), and written ones disjoint from every other (checked).
            let param = unsafe { slice_mut_or_empty(t.param, n) };
            // SAFETY: as above.
            let grad = unsafe { slice_or_empty(t.grad, n) };
            let slot = if t.momentum_buffer.is_null() {
                TensorSlot::new(param, Some(grad))
            } else {
                // SAFETY: as above.
                let buffer = unsafe { slice_mut_or_empty(t.momentum_buffer, n) };
                TensorSlot::with_momentum(param, Some(grad), buffer, flag)
            };
            list.push(slot);
        }
        slots.push(list);
    }
    let mut param_groups: Vec<TensorGroup<'_, '_>> = groups
        .iter()
        .zip(slots.iter_mut())
        .map(|(g, list)| TensorGroup { config: g.config.into(), tensors: list })
        .collect();
    let opts = StepOptions { grad_scale, found_inf, ..StepOptions::default() };
    let outcome = match pool {
        Some(pool) => pool.0.fused_step(&mut param_groups, &opts)?,
        None => sgd_cpu::fused_step(&mut param_groups, &opts)?,
    };
    drop(param_groups);
    drop(slots);
    // The flags the step set (false -> true) go back to C.
    for (t, flag) in tensor_lists.iter().flat_map(|ts| ts.iter()).zip(&flags) {
        // SAFETY: a set flag implies a buffer, hence a checked non-null flag pointer.
        if *flag && unsafe { *t.initialized } == 0 {
            // SAFETY: as above; a written region, disjoint from everything else.
            unsafe { *t.initialized = 1 };
        }
    }
    Ok(match outcome {
        StepOutcome::SkippedFoundInf => SgdStatus::SkippedFoundInf,
        _ => SgdStatus::Ok,
    })
}

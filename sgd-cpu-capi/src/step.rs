//! `sgd_step`: one fused SGD step over C-described tensors.
use core::ffi::c_char;
use core::panic::AssertUnwindSafe;
use std::panic::catch_unwind;

use sgd_cpu::{
    Backend, Bf16, Dtype, F16, StepOptions, StepOutcome, TensorMut, TensorRef, TypedGroup,
    TypedSlot, TypedStepOptions,
};

use crate::error::record;
use crate::layout::{Codes, Layout, SpanError, span};
use crate::{
    CapiError, PointerField, SgdConfigC, SgdGroupC, SgdPool, SgdStatus, SgdTensorC, SgdTypedGroupC,
    SgdTypedTensorC,
};

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
    // SAFETY: forwarded from this function's contract (the typed tensors are the same pointers).
    let result = catch_unwind(AssertUnwindSafe(|| unsafe {
        let views = |g: &SgdGroupC| (g.config, g.tensors, g.n_tensors);
        let typed = |t: &[SgdTensorC]| t.iter().map(SgdTypedTensorC::from_f32).collect();
        let call = call(groups, n_groups, views, typed, grad_scale, found_inf != 0, (0, 0))?;
        step(pool, call)
    }));
    record(result.unwrap_or_else(|p| Err(CapiError::panic(p))))
}

/// `int32_t sgd_step_typed(const sgd_pool *pool, const sgd_typed_group *groups, size_t n_groups,
/// const float *grad_scale, uint32_t found_inf, uint64_t seed, uint32_t step)`: [`sgd_step`] over
/// tensors of any dtype (`sgd_typed_tensor`: float32, float64, bfloat16, float16, bf16/f16 with
/// an f32 master copy, rounded to nearest or stochastically with the Philox stream of `(seed,
/// step, tensor, element)`, `tensor` the flat index over all groups). Results are bitwise those
/// of [`sgd_cpu::typed_step`]. Besides `sgd_step`'s checks: every dtype and rounding code is one
/// of the header's (`SGD_ERR_UNKNOWN_CODE`), and every tensor's dtypes fit together
/// (`SGD_ERR_DTYPE`: gradient or buffer dtype, master copy of a non-16-bit parameter or of
/// another length, stochastic rounding of float32/float64), each naming the tensor; pointers are
/// aligned to their element (2, 4 or 8 bytes).
///
/// # Safety
/// As [`sgd_step`], each pointer at `numel` elements of its dtype (`master` at `master_numel`
/// floats).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sgd_step_typed(
    pool: *const SgdPool,
    groups: *const SgdTypedGroupC,
    n_groups: usize,
    grad_scale: *const f32,
    found_inf: u32,
    seed: u64,
    step_number: u32,
) -> i32 {
    // SAFETY: forwarded from this function's contract.
    let result = catch_unwind(AssertUnwindSafe(|| unsafe {
        let views = |g: &SgdTypedGroupC| (g.config, g.tensors, g.n_tensors);
        let key = (seed, step_number);
        let call = call(groups, n_groups, views, <[_]>::to_vec, grad_scale, found_inf != 0, key)?;
        step(pool, call)
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

/// The arguments of a call: the caller's `groups` array and each group's `tensors` array
/// checked and viewed (`view` gives a group's options and tensors array), the tensors as typed C
/// tensors (`typed`).
///
/// # Safety
/// `groups` is null or points at `n_groups` values of `G`, each group's tensors pointer null or
/// at its count of `T`, all living for `'a`.
#[allow(clippy::too_many_arguments)]
unsafe fn call<'a, G, T>(
    groups: *const G,
    n_groups: usize,
    view: impl Fn(&G) -> (SgdConfigC, *const T, usize),
    typed: impl Fn(&'a [T]) -> Vec<SgdTypedTensorC>,
    grad_scale: *const f32,
    found_inf: bool,
    (seed, step): (u64, u32),
) -> Result<Call<'a, G, T>, CapiError> {
    // SAFETY: forwarded from this function's contract.
    let groups = unsafe { group_array(groups, n_groups) }?;
    let lists = groups
        .iter()
        .enumerate()
        .map(|(g, group)| {
            let (config, tensors, n) = view(group);
            // SAFETY: forwarded from this function's contract.
            let tensors = unsafe { tensor_array(tensors, n, g) }?;
            Ok((config, typed(tensors), tensors))
        })
        .collect::<Result<Vec<_>, CapiError>>()?;
    Ok(Call { groups, lists, grad_scale, found_inf, seed, step })
}

/// The caller's `groups` array, checked (null, alignment, size) and viewed.
///
/// # Safety
/// `groups` is null or points at `n_groups` values of `G`.
unsafe fn group_array<'a, G>(groups: *const G, n_groups: usize) -> Result<&'a [G], CapiError> {
    if groups.is_null() && n_groups > 0 {
        return Err(CapiError::NullPointer {
            group: None,
            tensor: None,
            field: PointerField::Groups,
        });
    }
    check_array(groups, n_groups, None, PointerField::Groups)?;
    // SAFETY: non-null, aligned and within isize::MAX bytes (or empty), checked above; the
    // caller guarantees `n_groups` groups there.
    Ok(unsafe { slice_or_empty(groups, n_groups) })
}

/// Group `g`'s `tensors` array, checked (null, alignment, size) and viewed.
///
/// # Safety
/// `tensors` is null or points at `n` values of `T`.
unsafe fn tensor_array<'a, T>(tensors: *const T, n: usize, g: usize) -> Result<&'a [T], CapiError> {
    if tensors.is_null() && n > 0 {
        let field = PointerField::Tensors;
        return Err(CapiError::NullPointer { group: Some(g), tensor: None, field });
    }
    check_array(tensors, n, Some(g), PointerField::Tensors)?;
    // SAFETY: non-null, aligned and within isize::MAX bytes (or empty), checked above; the
    // caller guarantees `n` tensors there.
    Ok(unsafe { slice_or_empty(tensors, n) })
}

/// The arguments of one call: the caller's `groups` array, each group's options, its tensors as
/// typed C tensors and the caller's `tensors` array they came from (for the overlap checks).
struct Call<'a, G, T> {
    groups: &'a [G],
    lists: Vec<(SgdConfigC, Vec<SgdTypedTensorC>, &'a [T])>,
    grad_scale: *const f32,
    found_inf: bool,
    seed: u64,
    step: u32,
}

/// The parameter view of a checked tensor.
///
/// # Safety
/// `ptr` is null only with `n == 0`, aligned, valid for `n` elements of `dtype` and written
/// through nothing else during `'a`.
unsafe fn tensor_mut<'a>(dtype: Dtype, ptr: *mut core::ffi::c_void, n: usize) -> TensorMut<'a> {
    // SAFETY: (every arm) the caller's contract.
    unsafe {
        match dtype {
            Dtype::F64 => TensorMut::F64(slice_mut_or_empty(ptr.cast::<f64>(), n)),
            Dtype::Bf16 => TensorMut::Bf16(slice_mut_or_empty(ptr.cast::<Bf16>(), n)),
            Dtype::F16 => TensorMut::F16(slice_mut_or_empty(ptr.cast::<F16>(), n)),
            _ => TensorMut::F32(slice_mut_or_empty(ptr.cast::<f32>(), n)),
        }
    }
}

/// The gradient view of a checked tensor.
///
/// # Safety
/// `ptr` is null only with `n == 0`, aligned, valid for `n` elements of `dtype`, not written
/// during `'a`.
unsafe fn tensor_ref<'a>(dtype: Dtype, ptr: *const core::ffi::c_void, n: usize) -> TensorRef<'a> {
    // SAFETY: (every arm) the caller's contract.
    unsafe {
        match dtype {
            Dtype::F64 => TensorRef::F64(slice_or_empty(ptr.cast::<f64>(), n)),
            Dtype::Bf16 => TensorRef::Bf16(slice_or_empty(ptr.cast::<Bf16>(), n)),
            Dtype::F16 => TensorRef::F16(slice_or_empty(ptr.cast::<F16>(), n)),
            _ => TensorRef::F32(slice_or_empty(ptr.cast::<f32>(), n)),
        }
    }
}

/// The step behind [`sgd_step`] and [`sgd_step_typed`].
///
/// # Safety
/// As [`sgd_step_typed`].
unsafe fn step<G, T>(pool: *const SgdPool, call: Call<'_, G, T>) -> Result<SgdStatus, CapiError> {
    let Call { groups, lists, grad_scale, found_inf, seed, step } = call;
    // Pass 1: every pointer is checked before any reference to tensor memory is formed.
    let mut layout = Layout::default();
    layout.add_read(groups.as_ptr() as usize, size_of_val(groups), PointerField::Groups);
    // Read unaligned (below), so only its extent is checked.
    span(grad_scale.cast::<[u8; 4]>(), 1)
        .map_err(|_| CapiError::CountTooLarge { field: PointerField::GradScale, count: 1 })?;
    layout.add_read(grad_scale as usize, size_of::<f32>(), PointerField::GradScale);
    let mut codes: Vec<Option<Codes>> = Vec::new();
    let mut index = 0;
    for (g, (_, tensors, array)) in lists.iter().enumerate() {
        layout.add_read(array.as_ptr() as usize, size_of_val(*array), PointerField::Tensors);
        for t in tensors {
            codes.push(layout.add(g, index, t)?);
            index += 1;
        }
    }
    layout.check_overlaps()?;
    // SAFETY: `grad_scale` is null or points at one float (caller); read unaligned to be
    // lenient about its alignment.
    let grad_scale = (!grad_scale.is_null()).then(|| unsafe { grad_scale.read_unaligned() });
    // SAFETY: `pool` is null or live (caller).
    let pool = unsafe { pool.as_ref() };

    // Pass 2: references. Every region is aligned, sized within isize::MAX, and no written
    // region overlaps another, so the `&mut` and `&` slices below do not alias.
    let all = || lists.iter().flat_map(|(_, ts, _)| ts.iter());
    let mut flags: Vec<bool> = all()
        .map(|t| {
            // SAFETY: checked non-null for a tensor with a gradient and a buffer; one byte.
            !t.grad.is_null() && !t.momentum_buffer.is_null() && unsafe { *t.initialized } != 0
        })
        .collect();
    let mut flag_refs = flags.iter_mut();
    let mut code_iter = codes.iter();
    let mut slots: Vec<Vec<TypedSlot<'_>>> = Vec::with_capacity(lists.len());
    for (_, tensors, _) in &lists {
        let mut list = Vec::with_capacity(tensors.len());
        for (t, flag) in tensors.iter().zip(flag_refs.by_ref()) {
            let Some(Some(c)) = code_iter.next() else {
                // No gradient: skipped by the step; its pointers are not used.
                list.push(TypedSlot::new(TensorMut::F32(&mut []), None));
                continue;
            };
            let n = t.numel;
            // SAFETY: (every view below) non-null when `n > 0` and aligned to its dtype
            // (checked), valid for `n` elements of it (caller), and written ones disjoint from
            // every other (checked).
            let param = unsafe { tensor_mut(c.param, t.param, n) };
            // SAFETY: as above.
            let grad = unsafe { tensor_ref(c.grad, t.grad, n) };
            let mut slot = TypedSlot::new(param, Some(grad)).with_rounding(c.rounding);
            if !t.momentum_buffer.is_null() {
                // SAFETY: as above.
                let buffer = unsafe { tensor_mut(c.buffer, t.momentum_buffer, n) };
                slot = slot.with_momentum(buffer, flag);
            }
            if !t.master.is_null() {
                // SAFETY: as above, `master_numel` floats.
                slot = slot.with_master(unsafe { slice_mut_or_empty(t.master, t.master_numel) });
            }
            list.push(slot);
        }
        slots.push(list);
    }
    let mut param_groups: Vec<TypedGroup<'_, '_>> = lists
        .iter()
        .zip(slots.iter_mut())
        .map(|((config, _, _), list)| TypedGroup { config: (*config).into(), tensors: list })
        .collect();
    let options = StepOptions { grad_scale, found_inf, ..StepOptions::default() };
    let opts = TypedStepOptions { options, seed, step, ..TypedStepOptions::default() };
    let outcome = match pool {
        Some(pool) => pool.0.typed_step(&mut param_groups, &opts)?,
        None => sgd_cpu::typed_step(&mut param_groups, &opts)?,
    };
    drop(param_groups);
    drop(slots);
    // The flags the step set (false -> true) go back to C.
    for (t, flag) in all().zip(&flags) {
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

//! The fused SGD step over caller arrays: `lrk_sgd_step` (f32) and `lrk_sgd_step_typed`
//! (f32, f64, bf16, f16, f32 master copies, stochastic rounding), sgd-cpu's `fused_step` and
//! `typed_step` on the calling core, and `lrk_inject_hyperparams`.

use core::mem::size_of;

use sched_core::{MAX_GROUPS, ParamGroup};
use sgd_cpu::{
    Bf16, F16, Rounding, SgdConfig, SgdError, StepOptions, StepOutcome, TensorGroup, TensorMut,
    TensorRef, TensorSlot, TypedGroup, TypedMomentum, TypedSlot, TypedStepOptions, fused_step,
    inject_hyperparams, typed_step,
};

use crate::error::{clear, fail, fail_at};
use crate::sched::{ParamGroupC, overlaps};
use crate::status::*;

/// `LRK_SGD_MAX_GROUPS`: groups of one step.
pub const LRK_SGD_MAX_GROUPS: usize = 16;
/// `LRK_SGD_MAX_TENSORS`: tensors of one step, over all groups.
pub const LRK_SGD_MAX_TENSORS: usize = 16;
/// Memory regions of one step that the overlap check compares.
/// (param, grad, buffer, flag, master per tensor; each group's tensor array; the groups.)
const MAX_REGIONS: usize = LRK_SGD_MAX_TENSORS * 5 + LRK_SGD_MAX_GROUPS + 1;

/// `lrk_sgd_config`: one group's options, as `torch.optim.SGD` takes them (`sgd_config` of
/// `sgd_cpu.h`, the same 40 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SgdConfigC {
    /// `lr`.
    pub lr: f64,
    /// `momentum` (0: no buffer).
    pub momentum: f64,
    /// `dampening`.
    pub dampening: f64,
    /// `weight_decay`.
    pub weight_decay: f64,
    /// Non-zero: `nesterov`.
    pub nesterov: u32,
    /// Non-zero: `maximize`.
    pub maximize: u32,
}

const _: () = assert!(size_of::<SgdConfigC>() == 40);

impl From<SgdConfigC> for SgdConfig {
    fn from(c: SgdConfigC) -> Self {
        SgdConfig {
            lr: c.lr,
            momentum: c.momentum,
            dampening: c.dampening,
            weight_decay: c.weight_decay,
            nesterov: c.nesterov != 0,
            maximize: c.maximize != 0,
        }
    }
}

/// `lrk_sgd_tensor`: one f32 tensor.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TensorC {
    /// `numel` floats, updated in place.
    pub param: *mut f32,
    /// `numel` floats, read only; NULL: no gradient, the tensor is skipped.
    pub grad: *const f32,
    /// `numel` floats; NULL: none (an error if the group has momentum).
    pub momentum_buffer: *mut f32,
    /// One byte, 0 or 1: whether the buffer holds momentum (set to 1 by the step).
    pub initialized: *mut u8,
    /// Elements.
    pub numel: usize,
}

/// `lrk_sgd_group`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct GroupC {
    /// This step's options.
    pub config: SgdConfigC,
    /// `n_tensors` tensors.
    pub tensors: *const TensorC,
    /// Tensors.
    pub n_tensors: usize,
}

/// `lrk_sgd_typed_tensor`: one tensor of any dtype (as `sgd_typed_tensor` of `sgd_cpu.h`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TypedTensorC {
    /// `numel` elements of `param_dtype`.
    pub param: *mut core::ffi::c_void,
    /// `numel` elements of `grad_dtype`; NULL skips the tensor.
    pub grad: *const core::ffi::c_void,
    /// `numel` elements of `buffer_dtype`, or NULL.
    pub momentum_buffer: *mut core::ffi::c_void,
    /// `master_numel` floats, or NULL.
    pub master: *mut f32,
    /// As in `lrk_sgd_tensor`.
    pub initialized: *mut u8,
    /// Elements.
    pub numel: usize,
    /// Elements of `master`.
    pub master_numel: usize,
    /// `LRK_DTYPE_*`.
    pub param_dtype: u32,
    /// `LRK_DTYPE_*`.
    pub grad_dtype: u32,
    /// `LRK_DTYPE_*`.
    pub buffer_dtype: u32,
    /// `LRK_ROUND_*`.
    pub rounding: u32,
}

/// `lrk_sgd_typed_group`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TypedGroupC {
    /// This step's options.
    pub config: SgdConfigC,
    /// `n_tensors` tensors.
    pub tensors: *const TypedTensorC,
    /// Tensors.
    pub n_tensors: usize,
}

/// A region of the call's memory; `written` ones may overlap nothing else.
#[derive(Clone, Copy, Default)]
struct Region {
    start: usize,
    len: usize,
    written: bool,
}

struct Regions {
    list: [Region; MAX_REGIONS],
    n: usize,
}

impl Regions {
    fn add(&mut self, p: usize, bytes: usize, written: bool) {
        if p != 0 && bytes > 0 && self.n < MAX_REGIONS {
            self.list[self.n] = Region { start: p, len: bytes, written };
            self.n += 1;
        }
    }

    fn any_overlap(&self) -> bool {
        let l = &self.list[..self.n];
        l.iter().enumerate().any(|(i, a)| {
            l[i + 1..]
                .iter()
                .any(|b| (a.written || b.written) && overlaps(a.start, a.len, b.start, b.len))
        })
    }
}

/// Checks one array pointer: non-null (if required), aligned to `align`, its byte length
/// representable.
fn check_array(
    func: &'static str,
    t: usize,
    p: usize,
    align: usize,
    numel: usize,
    elem: usize,
    what: &'static str,
) -> Result<usize, i32> {
    if p == 0 {
        return Err(fail_at(LRK_ERR_NULL_POINTER, func, t, ["tensor ", ": `", what, "` is NULL"]));
    }
    if !p.is_multiple_of(align) {
        return Err(fail_at(
            LRK_ERR_MISALIGNED,
            func,
            t,
            ["tensor ", ": `", what, "` is misaligned"],
        ));
    }
    match numel.checked_mul(elem) {
        Some(b) if b <= isize::MAX as usize && p.checked_add(b).is_some() => Ok(b),
        _ => Err(fail_at(LRK_ERR_TOO_LARGE, func, t, ["tensor ", ": `", what, "` is too large"])),
    }
}

/// The groups array and each group's tensor array: checked, counted.
fn check_groups<G>(
    func: &'static str,
    groups: *const G,
    n_groups: usize,
    count: impl Fn(&G) -> (usize, usize),
) -> Result<&'static [G], i32> {
    if n_groups > LRK_SGD_MAX_GROUPS {
        return Err(fail(
            LRK_ERR_TOO_LARGE,
            func,
            ["more than LRK_SGD_MAX_GROUPS (16) groups", "", "", ""],
        ));
    }
    if n_groups == 0 {
        return Ok(&[]);
    }
    if groups.is_null() {
        return Err(fail(LRK_ERR_NULL_POINTER, func, ["`groups` is NULL", "", "", ""]));
    }
    if !(groups as usize).is_multiple_of(align_of::<G>()) {
        return Err(fail(LRK_ERR_MISALIGNED, func, ["`groups` is misaligned", "", "", ""]));
    }
    // SAFETY: checked non-null and aligned; the caller guarantees `n_groups` readable groups
    // for the duration of the call (the `'static` does not escape it).
    let gs = unsafe { core::slice::from_raw_parts(groups, n_groups) };
    let mut total = 0usize;
    for (i, g) in gs.iter().enumerate() {
        let (ptr, n) = count(g);
        if n > 0 && ptr == 0 {
            return Err(fail_at(
                LRK_ERR_NULL_POINTER,
                func,
                i,
                ["group ", ": `tensors` is NULL", "", ""],
            ));
        }
        total = total.saturating_add(n);
    }
    if total > LRK_SGD_MAX_TENSORS {
        return Err(fail(
            LRK_ERR_TOO_LARGE,
            func,
            ["more than LRK_SGD_MAX_TENSORS (16) tensors", "", "", ""],
        ));
    }
    Ok(gs)
}

/// An sgd-cpu error as a status and a message.
fn sgd_fail(func: &'static str, e: SgdError) -> i32 {
    let (status, what) = match e {
        SgdError::Config(_) => (
            LRK_ERR_INVALID_CONFIG,
            "a group's options are invalid (lr >= 0, momentum, dampening, weight_decay finite and >= 0; nesterov needs momentum > 0 and dampening 0)",
        ),
        SgdError::MissingMomentumBuffer { .. } => (
            LRK_ERR_MISSING_MOMENTUM_BUFFER,
            "a tensor of a group with momentum has no momentum buffer",
        ),
        SgdError::InvalidGradScale { .. } => {
            (LRK_ERR_INVALID_GRAD_SCALE, "grad_scale must be finite and non-zero")
        }
        SgdError::Precision(_) => {
            (LRK_ERR_DTYPE, "a tensor's dtypes, master copy or rounding do not fit")
        }
        SgdError::LengthMismatch { .. } => {
            (LRK_ERR_SGD, "a gradient's length differs from its parameter's")
        }
        SgdError::MomentumBufferLength { .. } => {
            (LRK_ERR_SGD, "a momentum buffer's length differs from its parameter's")
        }
        _ => (LRK_ERR_SGD, "the step was refused by sgd-cpu"),
    };
    fail(status, func, [what, "", "", ""])
}

/// Reads the `initialized` byte of tensor `t` (must be 0 or 1).
fn read_flag(func: &'static str, t: usize, p: *mut u8) -> Result<bool, i32> {
    if p.is_null() {
        return Err(fail_at(
            LRK_ERR_NULL_POINTER,
            func,
            t,
            ["tensor ", ": `initialized` is NULL (required with a momentum buffer)", "", ""],
        ));
    }
    // SAFETY: non-null; a readable byte by the caller's contract.
    match unsafe { p.read() } {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(fail_at(
            LRK_ERR_INVALID_ARGUMENT,
            func,
            t,
            ["tensor ", ": `*initialized` is neither 0 nor 1", "", ""],
        )),
    }
}

/// Grad scale: NULL or an aligned float.
fn grad_scale(func: &'static str, p: *const f32) -> Result<Option<f32>, i32> {
    if p.is_null() {
        return Ok(None);
    }
    if !(p as usize).is_multiple_of(4) {
        return Err(fail(LRK_ERR_MISALIGNED, func, ["`grad_scale` is misaligned", "", "", ""]));
    }
    // SAFETY: non-null, aligned, readable by contract.
    Ok(Some(unsafe { p.read() }))
}

fn outcome(o: StepOutcome) -> i32 {
    clear();
    if o == StepOutcome::SkippedFoundInf { LRK_SKIPPED_FOUND_INF } else { LRK_OK }
}

/// One fused `torch.optim.SGD` step over every f32 tensor of every group, on this core:
/// sgd-cpu's `fused_step`, bit for bit as the Rust crate and torch. Everything is validated
/// first (pointers, alignment to 4 bytes, lengths, overlap of written regions with anything
/// else, options); a rejected step writes nothing.
///
/// # Safety
/// `groups` valid for `n_groups` reads, each group's `tensors` for `n_tensors`, each pointer
/// of a tensor for `numel` elements; no other code touches that memory during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_sgd_step(
    groups: *const GroupC,
    n_groups: usize,
    grad_scale_: *const f32,
    found_inf: u32,
) -> i32 {
    let func = "lrk_sgd_step";
    let run = || -> Result<i32, i32> {
        let gs = check_groups(func, groups, n_groups, |g| (g.tensors as usize, g.n_tensors))?;
        let scale = grad_scale(func, grad_scale_)?;
        let mut regions = Regions { list: [Region::default(); MAX_REGIONS], n: 0 };
        let mut flags = [false; LRK_SGD_MAX_TENSORS];
        let mut t = 0usize;
        for g in gs {
            if !(g.tensors as usize).is_multiple_of(align_of::<TensorC>()) {
                return Err(fail(
                    LRK_ERR_MISALIGNED,
                    func,
                    ["a group's `tensors` is misaligned", "", "", ""],
                ));
            }
            regions.add(g.tensors as usize, g.n_tensors * size_of::<TensorC>(), false);
            for k in 0..g.n_tensors {
                // SAFETY: checked non-null and aligned; `n_tensors` readable by contract.
                let x = unsafe { g.tensors.add(k).read() };
                if !x.grad.is_null() {
                    let b = check_array(func, t, x.param as usize, 4, x.numel, 4, "param")?;
                    regions.add(x.param as usize, b, true);
                    regions.add(
                        x.grad as usize,
                        check_array(func, t, x.grad as usize, 4, x.numel, 4, "grad")?,
                        false,
                    );
                    if !x.momentum_buffer.is_null() {
                        regions.add(
                            x.momentum_buffer as usize,
                            check_array(
                                func,
                                t,
                                x.momentum_buffer as usize,
                                4,
                                x.numel,
                                4,
                                "momentum_buffer",
                            )?,
                            true,
                        );
                        flags[t] = read_flag(func, t, x.initialized)?;
                        regions.add(x.initialized as usize, 1, true);
                    }
                }
                t += 1;
            }
        }
        regions.add(groups as usize, n_groups * size_of::<GroupC>(), false);
        if regions.any_overlap() {
            return Err(fail(
                LRK_ERR_OVERLAP,
                func,
                ["a written region overlaps another region of the call", "", "", ""],
            ));
        }
        let mut slots: [TensorSlot<'_>; LRK_SGD_MAX_TENSORS] =
            core::array::from_fn(|_| TensorSlot::new(&mut [], None));
        let mut t = 0usize;
        let mut flag_refs = flags.iter_mut();
        for g in gs {
            for k in 0..g.n_tensors {
                // SAFETY: read and checked above.
                let x = unsafe { g.tensors.add(k).read() };
                let flag = flag_refs.next();
                if !x.grad.is_null() {
                    // SAFETY: every region checked (non-null, aligned, size) and disjoint from
                    // every other written region; valid by the caller's contract.
                    let (param, grad) = unsafe {
                        (
                            core::slice::from_raw_parts_mut(x.param, x.numel),
                            core::slice::from_raw_parts(x.grad, x.numel),
                        )
                    };
                    slots[t] = match (x.momentum_buffer.is_null(), flag) {
                        (false, Some(f)) => {
                            // SAFETY: as above.
                            let buf = unsafe {
                                core::slice::from_raw_parts_mut(x.momentum_buffer, x.numel)
                            };
                            TensorSlot::with_momentum(param, Some(grad), buf, f)
                        }
                        _ => TensorSlot::new(param, Some(grad)),
                    };
                }
                t += 1;
            }
        }
        let mut tg: [TensorGroup<'_, '_>; LRK_SGD_MAX_GROUPS] = core::array::from_fn(|_| {
            TensorGroup { config: SgdConfig::default(), tensors: &mut [] }
        });
        let mut rest: &mut [TensorSlot<'_>] = &mut slots[..t];
        for (out, g) in tg.iter_mut().zip(gs) {
            let (head, tail) = core::mem::take(&mut rest).split_at_mut(g.n_tensors);
            *out = TensorGroup { config: g.config.into(), tensors: head };
            rest = tail;
        }
        let opts =
            StepOptions { grad_scale: scale, found_inf: found_inf != 0, ..StepOptions::default() };
        let o = fused_step(&mut tg[..gs.len()], &opts).map_err(|e| sgd_fail(func, e))?;
        write_flags(gs.iter().map(|g| (g.tensors, g.n_tensors)), &flags, |x: &TensorC| {
            (x.grad.is_null(), x.momentum_buffer.is_null(), x.initialized)
        });
        Ok(outcome(o))
    };
    run().unwrap_or_else(|s| s)
}

/// Writes the "initialized" flags back after a successful step.
fn write_flags<T: Copy>(
    groups: impl Iterator<Item = (*const T, usize)>,
    flags: &[bool],
    fields: impl Fn(&T) -> (bool, bool, *mut u8),
) {
    let mut t = 0;
    for (tensors, n) in groups {
        for k in 0..n {
            // SAFETY: read and checked by the step before.
            let x = unsafe { tensors.add(k).read() };
            let (no_grad, no_buffer, init) = fields(&x);
            if !no_grad && !no_buffer {
                // SAFETY: checked non-null by the step; writable by contract.
                unsafe { init.write(u8::from(flags[t])) };
            }
            t += 1;
        }
    }
}

/// `LRK_DTYPE_*` as (element size, and a constructor index).
fn dtype_size(code: u32) -> Option<usize> {
    match code {
        0 => Some(4),
        1 => Some(8),
        2 | 3 => Some(2),
        _ => None,
    }
}

/// A writable typed view.
///
/// # Safety
/// `p` checked for `numel` elements of `code`, disjoint from every other written region.
unsafe fn tensor_mut<'t>(code: u32, p: *mut core::ffi::c_void, numel: usize) -> TensorMut<'t> {
    // SAFETY: the function's contract; Bf16 and F16 are `repr(transparent)` over u16.
    unsafe {
        match code {
            1 => TensorMut::F64(core::slice::from_raw_parts_mut(p.cast(), numel)),
            2 => TensorMut::Bf16(core::slice::from_raw_parts_mut(p.cast::<Bf16>(), numel)),
            3 => TensorMut::F16(core::slice::from_raw_parts_mut(p.cast::<F16>(), numel)),
            _ => TensorMut::F32(core::slice::from_raw_parts_mut(p.cast(), numel)),
        }
    }
}

/// A read-only typed view.
///
/// # Safety
/// As [`tensor_mut`], read only.
unsafe fn tensor_ref<'t>(code: u32, p: *const core::ffi::c_void, numel: usize) -> TensorRef<'t> {
    // SAFETY: the function's contract.
    unsafe {
        match code {
            1 => TensorRef::F64(core::slice::from_raw_parts(p.cast(), numel)),
            2 => TensorRef::Bf16(core::slice::from_raw_parts(p.cast::<Bf16>(), numel)),
            3 => TensorRef::F16(core::slice::from_raw_parts(p.cast::<F16>(), numel)),
            _ => TensorRef::F32(core::slice::from_raw_parts(p.cast(), numel)),
        }
    }
}

/// `lrk_sgd_step` over typed tensors: float64 (the rule in f64), bfloat16 / float16 storage,
/// bf16 / f16 with f32 master weights, 16-bit results rounded to nearest even or
/// stochastically (Philox4x32-10 of `(seed, step, tensor, element)`, as `sgd_cpu.h`): sgd-cpu's
/// `typed_step`. Checked as `lrk_sgd_step`, plus the dtype codes (`LRK_ERR_INVALID_ARGUMENT`)
/// and their combination (`LRK_ERR_DTYPE`).
///
/// # Safety
/// As `lrk_sgd_step`, each pointer valid for its dtype's `numel` elements.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_sgd_step_typed(
    groups: *const TypedGroupC,
    n_groups: usize,
    grad_scale_: *const f32,
    found_inf: u32,
    seed: u64,
    step: u32,
) -> i32 {
    let func = "lrk_sgd_step_typed";
    let run = || -> Result<i32, i32> {
        let gs = check_groups(func, groups, n_groups, |g| (g.tensors as usize, g.n_tensors))?;
        let scale = grad_scale(func, grad_scale_)?;
        let mut regions = Regions { list: [Region::default(); MAX_REGIONS], n: 0 };
        let mut flags = [false; LRK_SGD_MAX_TENSORS];
        let mut t = 0usize;
        for g in gs {
            if !(g.tensors as usize).is_multiple_of(align_of::<TypedTensorC>()) {
                return Err(fail(
                    LRK_ERR_MISALIGNED,
                    func,
                    ["a group's `tensors` is misaligned", "", "", ""],
                ));
            }
            regions.add(g.tensors as usize, g.n_tensors * size_of::<TypedTensorC>(), false);
            for k in 0..g.n_tensors {
                // SAFETY: checked non-null and aligned; readable by contract.
                let x = unsafe { g.tensors.add(k).read() };
                if !x.grad.is_null() {
                    let size = |code| {
                        dtype_size(code).ok_or_else(|| {
                            fail_at(
                                LRK_ERR_INVALID_ARGUMENT,
                                func,
                                t,
                                ["tensor ", ": a dtype code that is not LRK_DTYPE_*", "", ""],
                            )
                        })
                    };
                    let (ps, gsz) = (size(x.param_dtype)?, size(x.grad_dtype)?);
                    if x.rounding > 1 {
                        return Err(fail_at(
                            LRK_ERR_INVALID_ARGUMENT,
                            func,
                            t,
                            ["tensor ", ": `rounding` is not LRK_ROUND_*", "", ""],
                        ));
                    }
                    regions.add(
                        x.param as usize,
                        check_array(func, t, x.param as usize, ps, x.numel, ps, "param")?,
                        true,
                    );
                    regions.add(
                        x.grad as usize,
                        check_array(func, t, x.grad as usize, gsz, x.numel, gsz, "grad")?,
                        false,
                    );
                    if !x.momentum_buffer.is_null() {
                        let bs = size(x.buffer_dtype)?;
                        regions.add(
                            x.momentum_buffer as usize,
                            check_array(
                                func,
                                t,
                                x.momentum_buffer as usize,
                                bs,
                                x.numel,
                                bs,
                                "momentum_buffer",
                            )?,
                            true,
                        );
                        flags[t] = read_flag(func, t, x.initialized)?;
                        regions.add(x.initialized as usize, 1, true);
                    }
                    if !x.master.is_null() {
                        regions.add(
                            x.master as usize,
                            check_array(
                                func,
                                t,
                                x.master as usize,
                                4,
                                x.master_numel,
                                4,
                                "master",
                            )?,
                            true,
                        );
                    }
                }
                t += 1;
            }
        }
        regions.add(groups as usize, n_groups * size_of::<TypedGroupC>(), false);
        if regions.any_overlap() {
            return Err(fail(
                LRK_ERR_OVERLAP,
                func,
                ["a written region overlaps another region of the call", "", "", ""],
            ));
        }
        let mut slots: [TypedSlot<'_>; LRK_SGD_MAX_TENSORS] =
            core::array::from_fn(|_| TypedSlot::new(TensorMut::F32(&mut []), None));
        let mut t = 0usize;
        let mut flag_refs = flags.iter_mut();
        for g in gs {
            for k in 0..g.n_tensors {
                // SAFETY: read and checked above.
                let x = unsafe { g.tensors.add(k).read() };
                let flag = flag_refs.next();
                if !x.grad.is_null() {
                    // SAFETY: every region checked and disjoint from every written one.
                    let (param, grad) = unsafe {
                        (
                            tensor_mut(x.param_dtype, x.param, x.numel),
                            tensor_ref(x.grad_dtype, x.grad, x.numel),
                        )
                    };
                    let mut slot = TypedSlot::new(param, Some(grad));
                    if let (false, Some(f)) = (x.momentum_buffer.is_null(), flag) {
                        // SAFETY: as above.
                        let buffer =
                            unsafe { tensor_mut(x.buffer_dtype, x.momentum_buffer, x.numel) };
                        slot.momentum = Some(TypedMomentum { buffer, initialized: f });
                    }
                    if !x.master.is_null() {
                        // SAFETY: as above.
                        slot = slot.with_master(unsafe {
                            core::slice::from_raw_parts_mut(x.master, x.master_numel)
                        });
                    }
                    slots[t] = slot.with_rounding(if x.rounding == 1 {
                        Rounding::Stochastic
                    } else {
                        Rounding::NearestEven
                    });
                }
                t += 1;
            }
        }
        let mut tg: [TypedGroup<'_, '_>; LRK_SGD_MAX_GROUPS] =
            core::array::from_fn(|_| TypedGroup { config: SgdConfig::default(), tensors: &mut [] });
        let mut rest: &mut [TypedSlot<'_>] = &mut slots[..t];
        for (out, g) in tg.iter_mut().zip(gs) {
            let (head, tail) = core::mem::take(&mut rest).split_at_mut(g.n_tensors);
            *out = TypedGroup { config: g.config.into(), tensors: head };
            rest = tail;
        }
        let opts = TypedStepOptions {
            options: StepOptions {
                grad_scale: scale,
                found_inf: found_inf != 0,
                ..StepOptions::default()
            },
            seed,
            step,
            ..TypedStepOptions::default()
        };
        let o = typed_step(&mut tg[..gs.len()], &opts).map_err(|e| sgd_fail(func, e))?;
        write_flags(gs.iter().map(|g| (g.tensors, g.n_tensors)), &flags, |x: &TypedTensorC| {
            (x.grad.is_null(), x.momentum_buffer.is_null(), x.initialized)
        });
        Ok(outcome(o))
    };
    run().unwrap_or_else(|s| s)
}

/// Copies each scheduler group's `lr` (and `momentum`, where it has one) into the SGD options
/// of the same index (sgd-core's `inject_hyperparams`, the bridge every optimizer of the
/// workspace uses): `n_groups` of each; checked (finite lr >= 0, ...), nothing written when
/// refused.
///
/// # Safety
/// `groups` valid for `n_groups` reads, `configs` for `n_groups` reads and writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_inject_hyperparams(
    groups: *const ParamGroupC,
    configs: *mut SgdConfigC,
    n_groups: u32,
) -> i32 {
    let func = "lrk_inject_hyperparams";
    let n = n_groups as usize;
    if n > MAX_GROUPS {
        return fail(LRK_ERR_TOO_LARGE, func, ["more than LRK_MAX_GROUPS (16) groups", "", "", ""]);
    }
    if n == 0 {
        clear();
        return LRK_OK;
    }
    for (p, align, what) in [(groups as usize, 8, "groups"), (configs as usize, 8, "configs")] {
        if p == 0 {
            return fail(LRK_ERR_NULL_POINTER, func, ["`", what, "` is NULL", ""]);
        }
        if !p.is_multiple_of(align) {
            return fail(LRK_ERR_MISALIGNED, func, ["`", what, "` is misaligned", ""]);
        }
    }
    if overlaps(
        groups as usize,
        n * size_of::<ParamGroupC>(),
        configs as usize,
        n * size_of::<SgdConfigC>(),
    ) {
        return fail(LRK_ERR_OVERLAP, func, ["`groups` overlaps `configs`", "", "", ""]);
    }
    let mut sched = [ParamGroup::new(0.0); MAX_GROUPS];
    let mut opts = [SgdConfig::default(); MAX_GROUPS];
    for i in 0..n {
        // SAFETY: checked non-null, aligned, disjoint; readable by contract.
        unsafe {
            sched[i] = groups.add(i).read().into();
            opts[i] = configs.add(i).read().into();
        }
    }
    if inject_hyperparams(&sched[..n], &mut opts[..n]).is_err() {
        return fail(
            LRK_ERR_INVALID_CONFIG,
            func,
            ["a group's scheduled lr or momentum is not a valid SGD option", "", "", ""],
        );
    }
    for (i, o) in opts[..n].iter().enumerate() {
        // SAFETY: as above, writable by contract.
        unsafe {
            let c = &mut *configs.add(i);
            c.lr = o.lr;
            c.momentum = o.momentum;
        }
    }
    clear();
    LRK_OK
}

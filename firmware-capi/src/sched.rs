//! Schedulers in caller storage, early stopping: the `lrk_scheduler_*`, `lrk_*_init` and
//! `lrk_early_stopping_*` functions of `lrkit_fw.h`.

use core::mem::{MaybeUninit, align_of, size_of};
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

use sched_core::spec::{self, Value};
use sched_core::{
    ChainedScheduler, ClosedForm, ConstantLr, ConstantLrConfig, CosineAnnealingLr,
    CosineAnnealingLrConfig, CosineAnnealingWarmRestarts, CosineAnnealingWarmRestartsConfig,
    EarlyStopping, ExponentialLr, ExponentialLrConfig, LinearLr, LinearLrConfig, MAX_GROUPS,
    MAX_MILESTONES, MultiStepLr, MultiStepLrConfig, ParamGroup, PlateauMode, PolynomialLr,
    PolynomialLrConfig, SchedError, Scheduler, SequentialLr, StepLr, StepLrConfig,
};

use crate::error::{clear, fail, fail_at};
use crate::status::*;

/// `LRK_SCHEDULER_SIZE`: bytes of one `lrk_scheduler`, exactly `size_of::<Scheduler>()` so
/// that a C array of them is a Rust slice of schedulers (the children of a composite).
#[cfg(target_pointer_width = "32")]
pub const LRK_SCHEDULER_SIZE: usize = 1104;
/// `LRK_SCHEDULER_SIZE` (64-bit hosts).
#[cfg(target_pointer_width = "64")]
pub const LRK_SCHEDULER_SIZE: usize = 1120;
/// `LRK_STORAGE_ALIGN`: the alignment of `lrk_scheduler` and `lrk_early_stopping`.
pub const LRK_STORAGE_ALIGN: usize = 8;
/// `LRK_EARLY_STOPPING_SIZE`.
pub const LRK_EARLY_STOPPING_SIZE: usize = 56;
/// `LRK_MAX_GROUPS`: parameter groups per scheduler (sched-core's `MAX_GROUPS`).
pub const LRK_MAX_GROUPS: usize = 16;
/// `LRK_MAX_MILESTONES`.
pub const LRK_MAX_MILESTONES: usize = 32;
/// `LRK_MAX_KWARGS`: keyword arguments of one `lrk_scheduler_build`.
pub const LRK_MAX_KWARGS: usize = 16;
/// `LRK_MAX_LIST_ITEMS`: list items over all keyword arguments of one `lrk_scheduler_build`.
pub const LRK_MAX_LIST_ITEMS: usize = 32;

/// `lrk_scheduler`: caller-allocated storage of one `sched_core::Scheduler<'static>`.
#[repr(C, align(8))]
pub struct SchedulerStorage {
    bytes: [MaybeUninit<u8>; LRK_SCHEDULER_SIZE],
}

/// `lrk_early_stopping`: caller-allocated storage of one `sched_core::EarlyStopping`.
#[repr(C, align(8))]
pub struct EarlyStoppingStorage {
    bytes: [MaybeUninit<u8>; LRK_EARLY_STOPPING_SIZE],
}

const _: () = assert!(size_of::<Scheduler<'static>>() == LRK_SCHEDULER_SIZE);
const _: () = assert!(align_of::<Scheduler<'static>>() <= LRK_STORAGE_ALIGN);
const _: () = assert!(size_of::<SchedulerStorage>() == LRK_SCHEDULER_SIZE);
const _: () = assert!(size_of::<EarlyStopping>() <= LRK_EARLY_STOPPING_SIZE);
const _: () = assert!(align_of::<EarlyStopping>() <= LRK_STORAGE_ALIGN);
const _: () = assert!(size_of::<EarlyStoppingStorage>() == LRK_EARLY_STOPPING_SIZE);
const _: () = assert!(LRK_MAX_GROUPS == MAX_GROUPS && LRK_MAX_MILESTONES == MAX_MILESTONES);

/// `lrk_param_group`: what a scheduler reads and writes of an optimizer's parameter group.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ParamGroupC {
    /// `lr`.
    pub lr: f64,
    /// `initial_lr` (when `has_initial_lr`).
    pub initial_lr: f64,
    /// `momentum` (when `has_momentum`).
    pub momentum: f64,
    /// Non-zero: `initial_lr` is set.
    pub has_initial_lr: u8,
    /// Non-zero: the optimizer has a momentum.
    pub has_momentum: u8,
    /// Non-zero: the lr is a 0-dim float32 tensor.
    pub tensor_lr: u8,
    /// Zero.
    pub reserved: [u8; 5],
}

const _: () = assert!(size_of::<ParamGroupC>() == 32);

impl From<ParamGroupC> for ParamGroup {
    fn from(g: ParamGroupC) -> Self {
        ParamGroup {
            lr: g.lr,
            initial_lr: (g.has_initial_lr != 0).then_some(g.initial_lr),
            momentum: (g.has_momentum != 0).then_some(g.momentum),
            tensor_lr: g.tensor_lr != 0,
        }
    }
}

impl From<ParamGroup> for ParamGroupC {
    fn from(g: ParamGroup) -> Self {
        ParamGroupC {
            lr: g.lr,
            initial_lr: g.initial_lr.unwrap_or(0.0),
            momentum: g.momentum.unwrap_or(0.0),
            has_initial_lr: u8::from(g.initial_lr.is_some()),
            has_momentum: u8::from(g.momentum.is_some()),
            tensor_lr: u8::from(g.tensor_lr),
            reserved: [0; 5],
        }
    }
}

/// The caller's groups, copied: a scheduler works on the copy, which is written back only on
/// success.
struct Groups {
    local: [ParamGroup; MAX_GROUPS],
    n: usize,
}

impl Groups {
    fn get(&mut self) -> &mut [ParamGroup] {
        &mut self.local[..self.n]
    }
}

/// Checks a pointer argument: non-null and aligned for `T`.
fn check_ptr<T>(func: &'static str, p: *const T, what: &'static str) -> Result<(), i32> {
    if p.is_null() {
        return Err(fail(LRK_ERR_NULL_POINTER, func, ["`", what, "` is NULL", ""]));
    }
    if !(p as usize).is_multiple_of(align_of::<T>()) {
        return Err(fail(LRK_ERR_MISALIGNED, func, ["`", what, "` is misaligned", ""]));
    }
    Ok(())
}

/// Whether `[a, a + a_len)` and `[b, b + b_len)` share a byte.
pub(crate) fn overlaps(a: usize, a_len: usize, b: usize, b_len: usize) -> bool {
    a_len > 0 && b_len > 0 && a < b.saturating_add(b_len) && b < a.saturating_add(a_len)
}

/// Reads `n` groups at `groups` (checked: pointer, alignment, count, no overlap with the
/// `written` region of the call).
///
/// # Safety
/// `groups` is null or valid for `n` reads.
unsafe fn read_groups(
    func: &'static str,
    groups: *const ParamGroupC,
    n: u32,
    written: (usize, usize),
) -> Result<Groups, i32> {
    let n = n as usize;
    if n > MAX_GROUPS {
        return Err(fail(
            LRK_ERR_TOO_LARGE,
            func,
            ["more than LRK_MAX_GROUPS (16) groups", "", "", ""],
        ));
    }
    let mut out = Groups { local: [ParamGroup::new(0.0); MAX_GROUPS], n };
    if n == 0 {
        return Ok(out); // sched-core names the error (no groups) where it is one
    }
    check_ptr(func, groups, "groups")?;
    if overlaps(groups as usize, n * size_of::<ParamGroupC>(), written.0, written.1) {
        return Err(fail(LRK_ERR_OVERLAP, func, ["`groups` overlaps the storage", "", "", ""]));
    }
    for (i, g) in out.local[..n].iter_mut().enumerate() {
        // SAFETY: checked non-null and aligned; the caller guarantees `n` readable groups.
        *g = unsafe { groups.add(i).read() }.into();
    }
    Ok(out)
}

/// Writes the groups back (after a success).
///
/// # Safety
/// `groups` is valid for `g.n` writes (checked by [`read_groups`] before).
unsafe fn write_groups(groups: *mut ParamGroupC, g: &Groups) {
    for (i, group) in g.local[..g.n].iter().enumerate() {
        // SAFETY: as the function's contract says.
        unsafe { groups.add(i).write((*group).into()) };
    }
}

/// A sched-core error as a status and a message.
pub(crate) fn sched_fail(func: &'static str, e: SchedError) -> i32 {
    let status = match e {
        SchedError::NoClosedForm => LRK_ERR_NO_CLOSED_FORM,
        SchedError::UnknownChoice { param: "scheduler", .. } => LRK_ERR_UNKNOWN_SCHEDULE,
        _ => LRK_ERR_SCHEDULE,
    };
    let (what, extra): (&'static str, &'static str) = match e {
        SchedError::NonFinite { .. } => (" must be finite", ""),
        SchedError::OutOfRange { expected, .. } => (" is out of range: expected ", expected),
        SchedError::ZeroPeriod { .. } => (" must be positive, got 0", ""),
        SchedError::NotAnInteger { .. } => (" must be an integer", ""),
        SchedError::WrongType { expected, .. } => (" must be ", expected),
        SchedError::UnknownChoice { expected, .. } => {
            (" has an unknown value: expected one of ", expected)
        }
        SchedError::UnknownParameter { .. } => {
            ("a keyword argument the schedule does not take", "")
        }
        SchedError::MissingParameter { .. } => (" is missing", ""),
        SchedError::GroupListLength { .. } => (" has a length other than the number of groups", ""),
        SchedError::NoGroups => ("no parameter groups", ""),
        SchedError::TooManyGroups { .. } => ("more than LRK_MAX_GROUPS groups", ""),
        SchedError::TooManyItems { .. } => (" has too many items", ""),
        SchedError::GroupCountChanged { .. } => {
            ("the number of groups differs from the scheduler's", "")
        }
        SchedError::GroupOutOfRange { .. } => ("no such group", ""),
        SchedError::MissingInitialLr { .. } => {
            (": a group has no initial_lr (last_epoch >= 0 needs one)", "")
        }
        SchedError::MissingMomentum { .. } => (": a group has no momentum to cycle", ""),
        SchedError::UnsortedMilestones { .. } => (" are not increasing", ""),
        SchedError::NegativeEpoch { .. } => ("a negative epoch", ""),
        SchedError::EmptyComposite => ("a composite without children", ""),
        SchedError::MilestoneCount { .. } => (": one fewer than the children are needed", ""),
        SchedError::PlateauInComposite => {
            ("ReduceLROnPlateau cannot be a child of a composite", "")
        }
        SchedError::NotATorchScheduler { .. } => ("a child is not a PyTorch scheduler", ""),
        SchedError::MetricRequired => {
            ("ReduceLROnPlateau steps with a metric (lrk_scheduler_step_metric)", "")
        }
        SchedError::EpochNotSupported => {
            ("only CosineAnnealingWarmRestarts steps to a given epoch", "")
        }
        SchedError::NoClosedForm => ("this schedule has no closed form", ""),
        SchedError::Unsupported { what } => ("unsupported: ", what),
        SchedError::Overflow { .. } => (" overflows", ""),
        SchedError::MathDomain { .. } => (": a math domain error", ""),
        SchedError::Conflict { other, .. } => (" conflicts with ", other),
        SchedError::TotalStepsExceeded { .. } => (": stepped past total_steps", ""),
        SchedError::ZeroLengthPhase { .. } => ("a phase of zero length", ""),
        _ => ("rejected by sched-core", ""),
    };
    match e.param() {
        Some(param) if what.starts_with(' ') || what.starts_with(':') => {
            with_extra(status, func, param, what, extra)
        }
        _ => fail(status, func, [what, extra, "", ""]),
    }
}

/// `func: `param` what extra`.
fn with_extra(
    status: i32,
    func: &'static str,
    param: &'static str,
    what: &'static str,
    extra: &'static str,
) -> i32 {
    crate::error::set(crate::error::Message::new([func, ": `", param, "`", what, extra]));
    status
}

/// The storage pointer, checked.
fn storage(func: &'static str, s: *mut SchedulerStorage) -> Result<*mut Scheduler<'static>, i32> {
    check_ptr(func, s.cast_const(), "scheduler")?;
    Ok(s.cast())
}

/// Builds a scheduler into `s` on the caller's `groups`: validated on copies; on success the
/// scheduler and the groups are written, otherwise nothing.
///
/// # Safety
/// `s` valid for a write of `LRK_SCHEDULER_SIZE` bytes; `groups` for `n` reads and writes.
unsafe fn init(
    func: &'static str,
    s: *mut SchedulerStorage,
    groups: *mut ParamGroupC,
    n: u32,
    build: impl FnOnce(&mut [ParamGroup]) -> Result<Scheduler<'static>, SchedError>,
) -> i32 {
    let run = || -> Result<i32, i32> {
        let target = storage(func, s)?;
        // SAFETY: the caller's contract.
        let mut g = unsafe { read_groups(func, groups, n, (s as usize, LRK_SCHEDULER_SIZE)) }?;
        let sched = build(g.get()).map_err(|e| sched_fail(func, e))?;
        // SAFETY: `target` is checked non-null and aligned, valid for the write by contract;
        // the old contents (if any) need no drop (schedulers own no resources).
        unsafe {
            ptr::write(target, sched);
            write_groups(groups, &g);
        }
        clear();
        Ok(LRK_OK)
    };
    run().unwrap_or_else(|status| status)
}

/// Runs `f` on the scheduler in `s` and the caller's groups, writing both only on success.
///
/// # Safety
/// `s` holds a scheduler built by an `lrk_*_init`; `groups` valid for `n` reads and writes.
unsafe fn with_scheduler(
    func: &'static str,
    s: *mut SchedulerStorage,
    groups: *mut ParamGroupC,
    n: u32,
    f: impl FnOnce(&mut Scheduler<'static>, &mut [ParamGroup]) -> Result<(), SchedError>,
) -> i32 {
    let run = || -> Result<i32, i32> {
        let target = storage(func, s)?;
        // SAFETY: the caller's contract.
        let mut g = unsafe { read_groups(func, groups, n, (s as usize, LRK_SCHEDULER_SIZE)) }?;
        // SAFETY: `target` holds a scheduler (contract), not otherwise borrowed during the call.
        let sched = unsafe { &mut *target };
        if g.n != sched.groups() {
            return Err(sched_fail(
                func,
                SchedError::GroupCountChanged { expected: sched.groups(), got: g.n },
            ));
        }
        let composite = matches!(sched.snapshot_code(), 14 | 15);
        if composite {
            // SequentialLR / ChainedScheduler step their children in place (they hold them by
            // reference); sched-core checks their input before stepping.
            f(sched, g.get()).map_err(|e| sched_fail(func, e))?;
        } else {
            // A leaf owns all its state and no references: step a bitwise copy and keep it
            // only on success, so that a rejected step leaves the scheduler as it was.
            // SAFETY: a leaf scheduler is plain data (no `Drop`, no references), so the copy
            // is a valid, independent value; the original is overwritten only on success.
            let mut copy = unsafe { ptr::read(target) };
            f(&mut copy, g.get()).map_err(|e| sched_fail(func, e))?;
            // SAFETY: as above.
            unsafe { ptr::write(target, copy) };
        }
        // SAFETY: checked by `read_groups`, valid by contract.
        unsafe { write_groups(groups, &g) };
        clear();
        Ok(LRK_OK)
    };
    run().unwrap_or_else(|status| status)
}

/// The closed forms of torch's leaf kinds, one slot (f64, f32) per kind, set by that kind's
/// constructor: a program links the closed forms of the kinds it constructs only.
static LEAF: [[AtomicPtr<()>; 2]; 8] =
    [const { [const { AtomicPtr::new(ptr::null_mut()) }; 2] }; 8];

/// The [`LEAF`] slot of a torch leaf with a closed form.
fn leaf_slot(s: &Scheduler<'static>) -> Option<usize> {
    Some(match s {
        Scheduler::Step(_) => 0,
        Scheduler::MultiStep(_) => 1,
        Scheduler::Constant(_) => 2,
        Scheduler::Linear(_) => 3,
        Scheduler::Exponential(_) => 4,
        Scheduler::Polynomial(_) => 5,
        Scheduler::CosineAnnealing(_) => 6,
        Scheduler::WarmRestarts(_) => 7,
        _ => return None,
    })
}

/// Sets the [`LEAF`] slot of `Scheduler::$variant`.
macro_rules! register_leaf {
    ($variant:ident, $slot:literal) => {{
        let f: Generic = |s, g, e| match s {
            Scheduler::$variant(x) => x.lr_at(g, e),
            _ => Err(SchedError::NoClosedForm),
        };
        let f32_: GenericF32 = |s, g, e| match s {
            Scheduler::$variant(x) => x.lr_at_f32(g, e),
            _ => Err(SchedError::NoClosedForm),
        };
        LEAF[$slot][0].store(f as *mut (), Ordering::Relaxed);
        LEAF[$slot][1].store(f32_ as *mut (), Ordering::Relaxed);
    }};
}

macro_rules! leaf_init {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) [$variant:ident, $slot:literal] => |$groups:ident| $build:expr) => {
        $(#[$doc])*
        ///
        /// # Safety
        /// `s` is valid for a write of `LRK_SCHEDULER_SIZE` bytes (not a child of a live
        /// composite); `groups` for `n_groups` reads and writes.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name(
            s: *mut SchedulerStorage,
            groups: *mut ParamGroupC,
            n_groups: u32,
            $($arg: $ty),*
        ) -> i32 {
            register_leaf!($variant, $slot);
            // SAFETY: the caller's contract, as documented above.
            unsafe { init(stringify!($name), s, groups, n_groups, |$groups| Ok($build.into())) }
        }
    };
}

leaf_init! {
    /// `StepLR(optimizer, step_size, gamma, last_epoch)`.
    lrk_step_lr_init(step_size: u64, gamma: f64, last_epoch: i64) [Step, 0] => |g|
        StepLr::new(StepLrConfig { step_size, gamma, last_epoch }, g)?
}
leaf_init! {
    /// `ConstantLR(optimizer, factor, total_iters, last_epoch)`.
    lrk_constant_lr_init(factor: f64, total_iters: u64, last_epoch: i64) [Constant, 2] => |g|
        ConstantLr::new(ConstantLrConfig { factor, total_iters, last_epoch }, g)?
}
leaf_init! {
    /// `LinearLR(optimizer, start_factor, end_factor, total_iters, last_epoch)`.
    lrk_linear_lr_init(start_factor: f64, end_factor: f64, total_iters: u64, last_epoch: i64) [Linear, 3] => |g|
        LinearLr::new(LinearLrConfig { start_factor, end_factor, total_iters, last_epoch }, g)?
}
leaf_init! {
    /// `ExponentialLR(optimizer, gamma, last_epoch)`.
    lrk_exponential_lr_init(gamma: f64, last_epoch: i64) [Exponential, 4] => |g|
        ExponentialLr::new(ExponentialLrConfig { gamma, last_epoch }, g)?
}
leaf_init! {
    /// `PolynomialLR(optimizer, total_iters, power, last_epoch)`.
    lrk_polynomial_lr_init(total_iters: u64, power: f64, last_epoch: i64) [Polynomial, 5] => |g|
        PolynomialLr::new(PolynomialLrConfig { total_iters, power, last_epoch }, g)?
}
leaf_init! {
    /// `CosineAnnealingLR(optimizer, T_max, eta_min, last_epoch)`.
    lrk_cosine_annealing_lr_init(t_max: u64, eta_min: f64, last_epoch: i64) [CosineAnnealing, 6] => |g|
        CosineAnnealingLr::new(CosineAnnealingLrConfig { t_max, eta_min, last_epoch }, g)?
}
leaf_init! {
    /// `CosineAnnealingWarmRestarts(optimizer, T_0, T_mult, eta_min, last_epoch)`.
    lrk_cosine_annealing_warm_restarts_init(t_0: u64, t_mult: u64, eta_min: f64, last_epoch: i64) [WarmRestarts, 7] => |g|
        CosineAnnealingWarmRestarts::new(CosineAnnealingWarmRestartsConfig { t_0, t_mult, eta_min, last_epoch }, g)?
}

/// Reads a caller array of `n` integers into a fixed buffer (checked).
///
/// # Safety
/// `p` is null or valid for `n` reads.
unsafe fn read_milestones(
    func: &'static str,
    p: *const u64,
    n: u32,
    out: &mut [u64; MAX_MILESTONES],
) -> Result<usize, i32> {
    let n = n as usize;
    if n > MAX_MILESTONES {
        return Err(fail(
            LRK_ERR_TOO_LARGE,
            func,
            ["more than LRK_MAX_MILESTONES (32) milestones", "", "", ""],
        ));
    }
    if n > 0 {
        check_ptr(func, p, "milestones")?;
        // SAFETY: checked non-null and aligned; `n` readable values by contract.
        out[..n].copy_from_slice(unsafe { core::slice::from_raw_parts(p, n) });
    }
    Ok(n)
}

/// `MultiStepLR(optimizer, milestones, gamma, last_epoch)`.
///
/// # Safety
/// As `lrk_step_lr_init`; `milestones` valid for `n_milestones` reads.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_multi_step_lr_init(
    s: *mut SchedulerStorage,
    groups: *mut ParamGroupC,
    n_groups: u32,
    milestones: *const u64,
    n_milestones: u32,
    gamma: f64,
    last_epoch: i64,
) -> i32 {
    let func = "lrk_multi_step_lr_init";
    let mut ms = [0u64; MAX_MILESTONES];
    register_leaf!(MultiStep, 1);
    // SAFETY: the caller's contract.
    let n = match unsafe { read_milestones(func, milestones, n_milestones, &mut ms) } {
        Ok(n) => n,
        Err(status) => return status,
    };
    // SAFETY: the caller's contract.
    unsafe {
        init(func, s, groups, n_groups, |g| {
            Ok(MultiStepLr::new(MultiStepLrConfig { milestones: &ms[..n], gamma, last_epoch }, g)?
                .into())
        })
    }
}

/// The children of a composite: the caller's array as a slice of schedulers.
///
/// # Safety
/// `children` holds `n` built schedulers that outlive the composite.
#[allow(clippy::mut_from_ref)] // the slice comes from the raw `children`, not from `func`
unsafe fn children(
    func: &'static str,
    children: *mut SchedulerStorage,
    n: u32,
) -> Result<&'static mut [Scheduler<'static>], i32> {
    check_ptr(func, children.cast_const(), "children")?;
    // SAFETY: `lrk_scheduler` has exactly the size of a `Scheduler` and at least its
    // alignment (asserted above), so `n` consecutive storages are `n` consecutive schedulers;
    // the caller keeps them alive and untouched while the composite lives.
    Ok(unsafe {
        core::slice::from_raw_parts_mut(children.cast::<Scheduler<'static>>(), n as usize)
    })
}

/// `SequentialLR(optimizer, schedulers=children, milestones, last_epoch)`, constructed as the
/// current PyTorch does. The children were built on the same `groups`, in order, in the
/// caller's array `children[0..n_children]`, which the composite borrows: keep it alive and
/// do not use, rebuild or move its elements while `s` is in use.
///
/// # Safety
/// As `lrk_step_lr_init`; `children` valid for `n_children` schedulers, disjoint from `s`;
/// `milestones` for `n_milestones` reads.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_sequential_lr_init(
    s: *mut SchedulerStorage,
    groups: *mut ParamGroupC,
    n_groups: u32,
    children_: *mut SchedulerStorage,
    n_children: u32,
    milestones: *const u64,
    n_milestones: u32,
    last_epoch: i64,
) -> i32 {
    let func = "lrk_sequential_lr_init";
    let mut ms = [0u64; MAX_MILESTONES];
    let prepared = (|| {
        // SAFETY: the caller's contract.
        let n = unsafe { read_milestones(func, milestones, n_milestones, &mut ms) }?;
        if overlaps(
            s as usize,
            LRK_SCHEDULER_SIZE,
            children_ as usize,
            n_children as usize * LRK_SCHEDULER_SIZE,
        ) {
            return Err(fail(
                LRK_ERR_OVERLAP,
                func,
                ["`scheduler` is one of its children", "", "", ""],
            ));
        }
        // SAFETY: the caller's contract.
        let kids = unsafe { children(func, children_, n_children) }?;
        Ok((n, kids))
    })();
    let (n, kids) = match prepared {
        Ok(p) => p,
        Err(status) => return status,
    };
    register_generic();
    // SAFETY: the caller's contract.
    unsafe {
        init(func, s, groups, n_groups, |g| {
            Ok(SequentialLr::new(kids, &ms[..n], last_epoch, g)?.into())
        })
    }
}

/// `ChainedScheduler(children)`: the children were built on the same groups; borrowed as for
/// `lrk_sequential_lr_init`.
///
/// # Safety
/// As `lrk_sequential_lr_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_chained_scheduler_init(
    s: *mut SchedulerStorage,
    groups: *mut ParamGroupC,
    n_groups: u32,
    children_: *mut SchedulerStorage,
    n_children: u32,
) -> i32 {
    let func = "lrk_chained_scheduler_init";
    if overlaps(
        s as usize,
        LRK_SCHEDULER_SIZE,
        children_ as usize,
        n_children as usize * LRK_SCHEDULER_SIZE,
    ) {
        return fail(LRK_ERR_OVERLAP, func, ["`scheduler` is one of its children", "", "", ""]);
    }
    // SAFETY: the caller's contract.
    let kids = match unsafe { children(func, children_, n_children) } {
        Ok(k) => k,
        Err(status) => return status,
    };
    register_generic();
    // SAFETY: the caller's contract.
    unsafe { init(func, s, groups, n_groups, |g| Ok(ChainedScheduler::new(kids, g)?.into())) }
}

/// `lrk_kwarg`: one keyword argument of [`lrk_scheduler_build`].
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct KwargC {
    /// The keyword, NUL-terminated UTF-8.
    pub name: *const core::ffi::c_char,
    /// `LRK_KW_*`.
    pub kind: u32,
    /// Items of a list kind.
    pub len: u32,
    /// `LRK_KW_INT`'s value; `LRK_KW_BOOL`'s (0 or 1).
    pub i: i64,
    /// `LRK_KW_FLOAT`'s value.
    pub f: f64,
    /// `LRK_KW_STR`'s value, NUL-terminated UTF-8.
    pub s: *const core::ffi::c_char,
    /// `LRK_KW_INT_LIST`'s items.
    pub ints: *const i64,
    /// `LRK_KW_FLOAT_LIST`'s items.
    pub floats: *const f64,
}

/// `LRK_KW_INT`.
pub const LRK_KW_INT: u32 = 0;
/// `LRK_KW_FLOAT`.
pub const LRK_KW_FLOAT: u32 = 1;
/// `LRK_KW_BOOL`.
pub const LRK_KW_BOOL: u32 = 2;
/// `LRK_KW_STR`.
pub const LRK_KW_STR: u32 = 3;
/// `LRK_KW_NONE`.
pub const LRK_KW_NONE: u32 = 4;
/// `LRK_KW_INT_LIST`.
pub const LRK_KW_INT_LIST: u32 = 5;
/// `LRK_KW_FLOAT_LIST`.
pub const LRK_KW_FLOAT_LIST: u32 = 6;

/// A C string as `&str` (UTF-8 checked).
///
/// # Safety
/// `p` is null or a NUL-terminated string that outlives `'a`.
unsafe fn c_str<'a>(
    func: &'static str,
    p: *const core::ffi::c_char,
    what: &'static str,
) -> Result<&'a str, i32> {
    if p.is_null() {
        return Err(fail(LRK_ERR_NULL_POINTER, func, ["`", what, "` is NULL", ""]));
    }
    // SAFETY: non-null and NUL-terminated by contract.
    unsafe { core::ffi::CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| fail(LRK_ERR_INVALID_ARGUMENT, func, ["`", what, "` is not UTF-8", ""]))
}

/// Any leaf schedule by name with keyword arguments, as Python would call it: a PyTorch
/// class (`"StepLR"`, `"OneCycleLR"`, `"ReduceLROnPlateau"`, ...), a transformers function
/// (`"transformers.get_cosine_schedule_with_warmup"`), a timm class
/// (`"timm.CosineLRScheduler"`) or an optax function (`"optax.warmup_cosine_decay_schedule"`):
/// sched-core's `spec::build`, with the library's keyword names, defaults and type rules.
/// Lambdas and dicts are not expressible (LambdaLR, MultiplicativeLR, optax's piecewise and
/// join schedules are refused by their builders as a missing or mistyped argument).
///
/// # Safety
/// As `lrk_step_lr_init`; `name` and every string of `kwargs` NUL-terminated; `kwargs` valid
/// for `n_kwargs` reads and each list for its `len` items.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_scheduler_build(
    s: *mut SchedulerStorage,
    groups: *mut ParamGroupC,
    n_groups: u32,
    name: *const core::ffi::c_char,
    kwargs: *const KwargC,
    n_kwargs: u32,
) -> i32 {
    let func = "lrk_scheduler_build";
    let n = n_kwargs as usize;
    let run = || -> Result<i32, i32> {
        // SAFETY: the caller's contract.
        let kind = unsafe { c_str(func, name, "name") }?;
        if n > LRK_MAX_KWARGS {
            return Err(fail(
                LRK_ERR_TOO_LARGE,
                func,
                ["more than LRK_MAX_KWARGS (16) keyword arguments", "", "", ""],
            ));
        }
        if n > 0 {
            check_ptr(func, kwargs, "kwargs")?;
        }
        let list: &[KwargC] = if n == 0 {
            &[]
        } else {
            // SAFETY: checked; `n` readable kwargs by contract.
            unsafe { core::slice::from_raw_parts(kwargs, n) }
        };
        // Pass 1: every list's items into one pool.
        let mut pool = [Value::None; LRK_MAX_LIST_ITEMS];
        let mut used = 0usize;
        for (i, k) in list.iter().enumerate() {
            if matches!(k.kind, LRK_KW_INT_LIST | LRK_KW_FLOAT_LIST) {
                let len = k.len as usize;
                if used + len > LRK_MAX_LIST_ITEMS {
                    return Err(fail_at(
                        LRK_ERR_TOO_LARGE,
                        func,
                        i,
                        ["kwarg ", ": more than LRK_MAX_LIST_ITEMS (32) list items in all", "", ""],
                    ));
                }
                for j in 0..len {
                    pool[used + j] = if k.kind == LRK_KW_INT_LIST {
                        check_ptr(func, k.ints, "kwargs[].ints")?;
                        // SAFETY: checked; `len` readable items by contract.
                        Value::Int(unsafe { k.ints.add(j).read() })
                    } else {
                        check_ptr(func, k.floats, "kwargs[].floats")?;
                        // SAFETY: as above.
                        Value::Float(unsafe { k.floats.add(j).read() })
                    };
                }
                used += len;
            }
        }
        // Pass 2: the keyword list over the pool.
        let mut pairs: [(&str, Value<'_>); LRK_MAX_KWARGS] = [("", Value::None); LRK_MAX_KWARGS];
        let mut at = 0usize;
        for (i, k) in list.iter().enumerate() {
            // SAFETY: the caller's contract.
            let key = unsafe { c_str(func, k.name, "kwargs[].name") }?;
            let value = match k.kind {
                LRK_KW_INT => Value::Int(k.i),
                LRK_KW_FLOAT => Value::Float(k.f),
                LRK_KW_BOOL => Value::Bool(k.i != 0),
                // SAFETY: the caller's contract.
                LRK_KW_STR => Value::Str(unsafe { c_str(func, k.s, "kwargs[].s") }?),
                LRK_KW_NONE => Value::None,
                LRK_KW_INT_LIST | LRK_KW_FLOAT_LIST => {
                    let len = k.len as usize;
                    let v = Value::List(&pool[at..at + len]);
                    at += len;
                    v
                }
                _ => {
                    return Err(fail_at(
                        LRK_ERR_INVALID_ARGUMENT,
                        func,
                        i,
                        ["kwarg ", ": unknown kind (not an LRK_KW_* code)", "", ""],
                    ));
                }
            };
            pairs[i] = (key, value);
        }
        register_generic();
        // SAFETY: the caller's contract.
        Ok(unsafe { init(func, s, groups, n_groups, |g| spec::build(kind, &pairs[..n], g)) })
    };
    run().unwrap_or_else(|status| status)
}

/// One `scheduler.step()` on the caller's groups (which it updates).
///
/// # Safety
/// `s` holds a built scheduler; `groups` valid for `n_groups` reads and writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_scheduler_step(
    s: *mut SchedulerStorage,
    groups: *mut ParamGroupC,
    n_groups: u32,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { with_scheduler("lrk_scheduler_step", s, groups, n_groups, |s, g| s.step(g)) }
}

/// `ReduceLROnPlateau.step(metric)`.
///
/// # Safety
/// As `lrk_scheduler_step`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_scheduler_step_metric(
    s: *mut SchedulerStorage,
    groups: *mut ParamGroupC,
    n_groups: u32,
    metric: f64,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe {
        with_scheduler("lrk_scheduler_step_metric", s, groups, n_groups, |s, g| {
            s.step_with_metric(metric, g)
        })
    }
}

/// `CosineAnnealingWarmRestarts.step(epoch)` (fractional epochs).
///
/// # Safety
/// As `lrk_scheduler_step`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_scheduler_step_epoch(
    s: *mut SchedulerStorage,
    groups: *mut ParamGroupC,
    n_groups: u32,
    epoch: f64,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe {
        with_scheduler("lrk_scheduler_step_epoch", s, groups, n_groups, |s, g| {
            s.step_epoch(epoch, g)
        })
    }
}

/// The built scheduler in `s`, read only.
///
/// # Safety
/// `s` holds a built scheduler.
unsafe fn scheduler_ref<'a>(
    func: &'static str,
    s: *const SchedulerStorage,
) -> Result<&'a Scheduler<'static>, i32> {
    check_ptr(func, s, "scheduler")?;
    // SAFETY: holds a scheduler by contract.
    Ok(unsafe { &*s.cast::<Scheduler<'static>>() })
}

/// Writes `value` to `out` after the checks.
fn put<T>(func: &'static str, out: *mut T, value: Result<T, SchedError>) -> i32 {
    if let Err(status) = check_ptr(func, out.cast_const(), "out") {
        return status;
    }
    match value {
        Ok(v) => {
            // SAFETY: checked non-null and aligned; writable by the caller's contract.
            unsafe { out.write(v) };
            clear();
            LRK_OK
        }
        Err(e) => sched_fail(func, e),
    }
}

/// sched-core's closed form over every kind (its `Scheduler::lr_at` / `lr_at_f32`), reached
/// through [`GENERIC`] only, so that a program that builds torch leaves only links their
/// closed forms and not every family's (transformers, timm, optax, Python lambdas).
type Generic = fn(&Scheduler<'static>, usize, u64) -> Result<f64, SchedError>;
/// As [`Generic`], in f32.
type GenericF32 = fn(&Scheduler<'static>, usize, u64) -> Result<f32, SchedError>;

/// The generic closed forms, set by every constructor that can build a kind other than a
/// torch leaf with a closed form (`lrk_scheduler_build`, the composites).
static GENERIC: [AtomicPtr<()>; 2] = [const { AtomicPtr::new(ptr::null_mut()) }; 2];

/// Makes the generic closed forms reachable (see [`GENERIC`]).
fn register_generic() {
    let f: Generic = |s, g, e| s.lr_at(g, e);
    let f32_: GenericF32 = |s, g, e| s.lr_at_f32(g, e);
    GENERIC[0].store(f as *mut (), Ordering::Relaxed);
    GENERIC[1].store(f32_ as *mut (), Ordering::Relaxed);
}

/// The closed form of one scheduler in `R` (f64 or f32): a torch leaf through its [`LEAF`]
/// slot, the other kinds (and leaves built by name) through [`GENERIC`].
trait Closed: Sized {
    fn leaf(s: &Scheduler<'static>, group: usize, epoch: u64) -> Option<Result<Self, SchedError>>;
    fn generic(s: &Scheduler<'static>, group: usize, epoch: u64) -> Result<Self, SchedError>;
}

macro_rules! closed_impl {
    ($t:ty, $method:ident, $slot:expr, $fn_ty:ty) => {
        impl Closed for $t {
            fn leaf(s: &Scheduler<'static>, g: usize, e: u64) -> Option<Result<Self, SchedError>> {
                // `black_box`: keeps the call indirect (see `generic`).
                let p = core::hint::black_box(LEAF[leaf_slot(s)?][$slot].load(Ordering::Relaxed));
                if p.is_null() {
                    return None;
                }
                // SAFETY: the only non-null values of this slot are `$fn_ty`s (register_leaf!).
                let f = unsafe { core::mem::transmute::<*mut (), $fn_ty>(p) };
                Some(f(s, g, e))
            }

            fn generic(s: &Scheduler<'static>, g: usize, e: u64) -> Result<Self, SchedError> {
                // `black_box`: keeps the call indirect. LLVM sees every value the slot can hold
                // and would otherwise call the generic closed form directly, linking every
                // family into programs that never register it.
                let p = core::hint::black_box(GENERIC[$slot].load(Ordering::Relaxed));
                if p.is_null() {
                    return Err(SchedError::Unsupported {
                        what: "a scheduler this library did not build",
                    });
                }
                // SAFETY: the only non-null value of this slot is a `$fn_ty` (register_generic).
                let f = unsafe { core::mem::transmute::<*mut (), $fn_ty>(p) };
                f(s, g, e)
            }
        }
    };
}
closed_impl!(f64, lr_at, 0, Generic);
closed_impl!(f32, lr_at_f32, 1, GenericF32);

fn closed<R: Closed>(s: &Scheduler<'static>, group: usize, epoch: u64) -> Result<R, SchedError> {
    R::leaf(s, group, epoch).unwrap_or_else(|| R::generic(s, group, epoch))
}

/// The closed form `lr(epoch)` of group `group` in f64 (O(1), no state change).
///
/// # Safety
/// `s` holds a built scheduler; `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_scheduler_lr_at(
    s: *const SchedulerStorage,
    group: u32,
    epoch: u64,
    out: *mut f64,
) -> i32 {
    let func = "lrk_scheduler_lr_at";
    // SAFETY: the caller's contract.
    match unsafe { scheduler_ref(func, s) } {
        Ok(sched) => put(func, out, closed::<f64>(sched, group as usize, epoch)),
        Err(status) => status,
    }
}

/// The closed form in f32 (for cores with a single-precision FPU).
///
/// # Safety
/// As `lrk_scheduler_lr_at`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_scheduler_lr_at_f32(
    s: *const SchedulerStorage,
    group: u32,
    epoch: u64,
    out: *mut f32,
) -> i32 {
    let func = "lrk_scheduler_lr_at_f32";
    // SAFETY: the caller's contract.
    match unsafe { scheduler_ref(func, s) } {
        Ok(sched) => put(func, out, closed::<f32>(sched, group as usize, epoch)),
        Err(status) => status,
    }
}

/// SequentialLR's closed form over `children` and `milestones` without building the
/// composite (sched-core's `Join`, generalised): child `i` from milestone `i - 1` on, at
/// `epoch - milestone`, as PyTorch >= 2.13 constructs SequentialLR.
///
/// # Safety
/// `children` holds `n_children` built schedulers, `milestones` `n_children - 1` values,
/// `out` is valid for a write.
unsafe fn sequential_at<R: Closed>(
    func: &'static str,
    children: *const SchedulerStorage,
    n_children: u32,
    milestones: *const u64,
    group: u32,
    epoch: u64,
    out: *mut R,
) -> i32 {
    let run = || -> Result<i32, i32> {
        if n_children == 0 {
            return Err(sched_fail(func, SchedError::EmptyComposite));
        }
        let mut ms = [0u64; MAX_MILESTONES];
        // SAFETY: the caller's contract.
        let n = unsafe { read_milestones(func, milestones, n_children - 1, &mut ms) }?;
        if let Some(i) = (1..n).find(|&i| ms[i] < ms[i - 1]) {
            return Err(sched_fail(func, SchedError::UnsortedMilestones { index: i }));
        }
        check_ptr(func, children, "children")?;
        let idx = ms[..n].partition_point(|&m| m <= epoch);
        let local = if idx == 0 { epoch } else { epoch - ms[idx - 1] };
        // SAFETY: `idx <= n = n_children - 1`; child `idx` is a built scheduler by contract.
        let child = unsafe { &*children.add(idx).cast::<Scheduler<'static>>() };
        Ok(put(func, out, closed::<R>(child, group as usize, local)))
    };
    run().unwrap_or_else(|status| status)
}

/// SequentialLR's closed form in f64 (see `sequential_at`).
///
/// # Safety
/// `children` holds `n_children` built schedulers, `milestones` `n_children - 1` values.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_sequential_lr_at(
    children: *const SchedulerStorage,
    n_children: u32,
    milestones: *const u64,
    group: u32,
    epoch: u64,
    out: *mut f64,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe {
        sequential_at("lrk_sequential_lr_at", children, n_children, milestones, group, epoch, out)
    }
}

/// SequentialLR's closed form in f32.
///
/// # Safety
/// As `lrk_sequential_lr_at`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_sequential_lr_at_f32(
    children: *const SchedulerStorage,
    n_children: u32,
    milestones: *const u64,
    group: u32,
    epoch: u64,
    out: *mut f32,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe {
        sequential_at(
            "lrk_sequential_lr_at_f32",
            children,
            n_children,
            milestones,
            group,
            epoch,
            out,
        )
    }
}

/// PyTorch's `last_epoch`.
///
/// # Safety
/// As `lrk_scheduler_lr_at`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_scheduler_last_epoch(
    s: *const SchedulerStorage,
    out: *mut i64,
) -> i32 {
    let func = "lrk_scheduler_last_epoch";
    // SAFETY: the caller's contract.
    match unsafe { scheduler_ref(func, s) } {
        Ok(sched) => put(func, out, Ok(sched.last_epoch())),
        Err(status) => status,
    }
}

/// `LRK_MODE_MIN` / `LRK_MODE_MAX`.
fn mode(code: u32) -> Option<PlateauMode> {
    match code {
        0 => Some(PlateauMode::Min),
        1 => Some(PlateauMode::Max),
        _ => None,
    }
}

/// Early stopping after `patience` epochs without an improvement of more than `min_delta`
/// (`mode`: `LRK_MODE_MIN` for a loss, `LRK_MODE_MAX` for an accuracy).
///
/// # Safety
/// `e` is valid for a write of `LRK_EARLY_STOPPING_SIZE` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_early_stopping_init(
    e: *mut EarlyStoppingStorage,
    mode_code: u32,
    patience: u64,
    min_delta: f64,
) -> i32 {
    let func = "lrk_early_stopping_init";
    if let Err(status) = check_ptr(func, e.cast_const(), "early_stopping") {
        return status;
    }
    let Some(m) = mode(mode_code) else {
        return fail(
            LRK_ERR_INVALID_ARGUMENT,
            func,
            ["`mode` is not LRK_MODE_MIN or LRK_MODE_MAX", "", "", ""],
        );
    };
    match EarlyStopping::new(m, patience, min_delta) {
        Ok(stop) => {
            // SAFETY: checked non-null and aligned; writable by contract.
            unsafe { e.cast::<EarlyStopping>().write(stop) };
            clear();
            LRK_OK
        }
        Err(err) => sched_fail(func, err),
    }
}

/// Records one epoch's metric; `*stop` = 1 when training should stop, else 0.
///
/// # Safety
/// `e` holds an initialised early stopping; `stop` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_early_stopping_update(
    e: *mut EarlyStoppingStorage,
    metric: f64,
    stop: *mut u8,
) -> i32 {
    let func = "lrk_early_stopping_update";
    if let Err(status) = check_ptr(func, e.cast_const(), "early_stopping")
        .and_then(|()| check_ptr(func, stop.cast_const(), "stop"))
    {
        return status;
    }
    // SAFETY: checked, initialised by contract, not otherwise borrowed.
    let state = unsafe { &mut *e.cast::<EarlyStopping>() };
    let s = state.update(metric);
    // SAFETY: checked non-null; writable by contract.
    unsafe { stop.write(u8::from(s)) };
    clear();
    LRK_OK
}

/// The 1-based epoch of the best metric so far (0 before any), and whether training should
/// stop (either pointer may be NULL).
///
/// # Safety
/// `e` holds an initialised early stopping; the outputs are NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_early_stopping_state(
    e: *const EarlyStoppingStorage,
    best_epoch: *mut u64,
    should_stop: *mut u8,
) -> i32 {
    let func = "lrk_early_stopping_state";
    if let Err(status) = check_ptr(func, e, "early_stopping") {
        return status;
    }
    for (p, align, what) in
        [(best_epoch as usize, 8, "best_epoch"), (should_stop as usize, 1, "should_stop")]
    {
        if !p.is_multiple_of(align) {
            return fail(LRK_ERR_MISALIGNED, func, ["`", what, "` is misaligned", ""]);
        }
    }
    // SAFETY: checked, initialised by contract.
    let state = unsafe { &*e.cast::<EarlyStopping>() };
    // SAFETY: each output is NULL (skipped) or aligned (checked) and writable by contract.
    unsafe {
        if !best_epoch.is_null() {
            best_epoch.write(state.best_epoch());
        }
        if !should_stop.is_null() {
            should_stop.write(u8::from(state.should_stop()));
        }
    }
    clear();
    LRK_OK
}

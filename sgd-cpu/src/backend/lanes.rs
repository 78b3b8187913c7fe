//! The one vector loop every SIMD backend runs, generic over the lane type.
//!
//! Each ISA module (`avx2`, `avx512`, `neon`) implements [`Lanes`] for its register type and
//! instantiates [`update`] inside a `#[target_feature]` function, where the `#[inline(always)]`
//! trait methods become single instructions. The per-element operations are exactly those of
//! the scalar reference (`crate::scalar`), in the same order: one division for the gradient
//! scale, a sign flip for `maximize`, FMA where the reference uses `fma` and a separately
//! rounded multiply for `buf * m`. The ragged end of a tensor (fewer than `LANES` elements) is
//! copied into a zero-padded register-sized array, run through the same vector code and copied
//! back, so no scalar code is involved and every element sees identical instructions; the same
//! is done for the head up to the first vector-aligned parameter address.
use crate::StepScalars;

/// A SIMD register of `LANES` f32 values with the operations the SGD rule needs.
///
/// Values of an implementing type only come from the `unsafe` constructors ([`Lanes::load`],
/// [`Lanes::splat`]), whose contract is that the running CPU supports the ISA; the arithmetic
/// methods are therefore safe.
pub(crate) trait Lanes: Copy {
    /// Number of f32 lanes.
    const LANES: usize;
    /// Loads `LANES` values from `ptr` (no alignment needed).
    ///
    /// # Safety
    /// The CPU supports the ISA and `ptr` is valid for `LANES` reads.
    unsafe fn load(ptr: *const f32) -> Self;
    /// Stores `LANES` values to `ptr` (no alignment needed).
    ///
    /// # Safety
    /// `ptr` is valid for `LANES` writes.
    unsafe fn store(self, ptr: *mut f32);
    /// All lanes `x`.
    ///
    /// # Safety
    /// The CPU supports the ISA.
    unsafe fn splat(x: f32) -> Self;
    /// `self * b`, rounded.
    fn mul(self, b: Self) -> Self;
    /// `self / b`, a correctly rounded IEEE division.
    fn div(self, b: Self) -> Self;
    /// `self * b + c` with one rounding.
    fn mul_add(self, b: Self, c: Self) -> Self;
    /// Sign flip of every lane.
    fn neg(self) -> Self;
}

/// Which optional parts of the rule run; each combination is its own monomorphised loop.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Flags {
    /// Divide the gradient by the gradient scale.
    pub scale: bool,
    /// Negate the gradient.
    pub maximize: bool,
    /// Add weight decay.
    pub weight_decay: bool,
    /// Update a momentum buffer.
    pub momentum: bool,
    /// The buffer is initialised with the gradient (first step of this parameter).
    pub first: bool,
    /// Nesterov momentum.
    pub nesterov: bool,
}

impl Flags {
    /// The flags of one tensor update; `first` and `nesterov` only count with momentum.
    pub(crate) fn new(s: &StepScalars, momentum: Option<bool>, scale: bool) -> Self {
        let momentum_first = if s.has_momentum { momentum } else { None };
        Self {
            scale,
            maximize: s.maximize,
            weight_decay: s.has_weight_decay,
            momentum: momentum_first.is_some(),
            first: momentum_first.unwrap_or(false),
            nesterov: momentum_first.is_some() && s.nesterov,
        }
    }
}

/// Calls `$f::<$v, SCALE, MAXIMIZE, WD, MOMENTUM, FIRST, NESTEROV>($args)` with the const
/// flags taken from a [`Flags`] value.
macro_rules! dispatch_flags {
    ($f:ident::<$v:ty> $args:tt, $flags:expr) => {{
        let f: $crate::backend::lanes::Flags = $flags;
        dispatch_flags!(@ $f, $v, $args,
            [(f.scale) (f.maximize) (f.weight_decay) (f.momentum) (f.first) (f.nesterov)], [])
    }};
    (@ $f:ident, $v:ty, $args:tt, [], [$($done:tt)*]) => {
        $f::<$v $(, $done)*> $args
    };
    (@ $f:ident, $v:ty, $args:tt, [$head:tt $($rest:tt)*], [$($done:tt)*]) => {
        if $head {
            dispatch_flags!(@ $f, $v, $args, [$($rest)*], [$($done)* true])
        } else {
            dispatch_flags!(@ $f, $v, $args, [$($rest)*], [$($done)* false])
        }
    };
}
pub(crate) use dispatch_flags;

/// Defines an ISA module's `update` entry point: a `#[target_feature]` function that
/// instantiates [`update`] for the lane type with the flags of the call.
macro_rules! simd_entry {
    ($lanes:ty, $features:literal, $isa:literal) => {
        /// Updates one tensor (see [`crate::scalar::sgd_update`] for the contract).
        ///
        /// # Safety
        #[doc = concat!("The CPU supports ", $isa, ".")]
        #[target_feature(enable = $features)]
        pub(crate) unsafe fn update(
            s: &$crate::StepScalars,
            params: &mut [f32],
            grads: &[f32],
            momentum_buffer: Option<(&mut [f32], bool)>,
            grad_scale: Option<f32>,
        ) {
            use $crate::backend::lanes::{Flags, dispatch_flags, update as run};
            let first = momentum_buffer.as_ref().map(|(_, first)| *first);
            let flags = Flags::new(s, first, grad_scale.is_some());
            let buf = momentum_buffer.map_or(&mut [][..], |(b, _)| b);
            let scale = grad_scale.unwrap_or(1.0);
            // SAFETY: this function's target features are the ISA of the lane type.
            unsafe { dispatch_flags!(run::<$lanes>(s, params, grads, buf, scale), flags) }
        }
    };
}
pub(crate) use simd_entry;

/// The broadcast scalars of one step.
#[derive(Clone, Copy)]
struct Consts<V> {
    neg_lr: V,
    weight_decay: V,
    momentum: V,
    one_minus_dampening: V,
    scale: V,
}

/// The rule for `LANES` elements at `p`, `g`, `b` (see the scalar reference).
///
/// # Safety
/// `p` and `g` are valid for `LANES` reads (and `p` for writes); with `MOM`, `b` too.
#[inline(always)]
#[allow(clippy::fn_params_excessive_bools)] // The flags are const generics, one per option.
unsafe fn lanes_step<
    V: Lanes,
    const SCALE: bool,
    const MAX: bool,
    const WD: bool,
    const MOM: bool,
    const FIRST: bool,
    const NEST: bool,
>(
    c: &Consts<V>,
    p: *mut f32,
    g: *const f32,
    b: *mut f32,
) {
    // SAFETY: the caller guarantees `p`, `g` (and `b` with `MOM`) cover `LANES` elements.
    unsafe {
        let param = V::load(p);
        let mut grad = V::load(g);
        if SCALE {
            grad = grad.div(c.scale);
        }
        if MAX {
            grad = grad.neg();
        }
        if WD {
            grad = param.mul_add(c.weight_decay, grad);
        }
        if MOM {
            let buf = if FIRST {
                grad
            } else {
                grad.mul_add(c.one_minus_dampening, V::load(b).mul(c.momentum))
            };
            buf.store(b);
            grad = if NEST { buf.mul_add(c.momentum, grad) } else { buf };
        }
        grad.mul_add(c.neg_lr, param).store(p);
    }
}

/// Largest lane count of any backend: the size of the padded tail arrays.
const MAX_LANES: usize = 16;

/// Updates `params[..n]` (and `buf[..n]` with `MOM`), `n` = the shortest slice length
/// (with `MOM`, `buf` counts; without, it is ignored).
///
/// # Safety
/// The CPU supports `V`'s ISA.
#[inline(always)]
pub(crate) unsafe fn update<
    V: Lanes,
    const SCALE: bool,
    const MAX: bool,
    const WD: bool,
    const MOM: bool,
    const FIRST: bool,
    const NEST: bool,
>(
    s: &StepScalars,
    params: &mut [f32],
    grads: &[f32],
    buf: &mut [f32],
    scale: f32,
) {
    let lanes = V::LANES;
    let mut n = params.len().min(grads.len());
    if MOM {
        n = n.min(buf.len());
    }
    // SAFETY: the caller guarantees the ISA.
    let c = unsafe {
        Consts {
            neg_lr: V::splat(s.neg_lr),
            weight_decay: V::splat(s.weight_decay),
            momentum: V::splat(s.momentum),
            one_minus_dampening: V::splat(s.one_minus_dampening),
            scale: V::splat(scale),
        }
    };
    let step = lanes_step::<V, SCALE, MAX, WD, MOM, FIRST, NEST>;
    // Head: up to the first vector-aligned parameter address, so the main loop's loads and
    // stores of `params` (and of `grads`/`buf` when they share its alignment, as allocations
    // usually do) never straddle cache lines.
    let misalign = (params.as_ptr() as usize / size_of::<f32>()) % lanes;
    let head = if misalign == 0 { 0 } else { (lanes - misalign).min(n) };
    if head > 0 {
        padded::<V, SCALE, MAX, WD, MOM, FIRST, NEST>(&c, params, grads, buf, 0..head);
    }
    let pp = params.as_mut_ptr();
    let gp = grads.as_ptr();
    let bp = buf.as_mut_ptr();
    // Without momentum `bp` is never dereferenced; `wrapping_add` keeps the arithmetic defined.
    let at = |i: usize| (pp.wrapping_add(i), gp.wrapping_add(i), bp.wrapping_add(i));
    let mut i = head;
    while i + 4 * lanes <= n {
        for k in 0..4 {
            let (p, g, b) = at(i + k * lanes);
            // SAFETY: `i + 4 * lanes <= n` and every slice has at least `n` elements.
            unsafe { step(&c, p, g, b) };
        }
        i += 4 * lanes;
    }
    while i + lanes <= n {
        let (p, g, b) = at(i);
        // SAFETY: `i + lanes <= n` and every slice has at least `n` elements.
        unsafe { step(&c, p, g, b) };
        i += lanes;
    }
    if i < n {
        padded::<V, SCALE, MAX, WD, MOM, FIRST, NEST>(&c, params, grads, buf, i..n);
    }
}

/// Runs the elements `range` (fewer than `LANES`) through the vector code on zero-padded
/// copies: the padding lanes compute on zeros and are discarded.
#[inline(always)]
fn padded<
    V: Lanes,
    const SCALE: bool,
    const MAX: bool,
    const WD: bool,
    const MOM: bool,
    const FIRST: bool,
    const NEST: bool,
>(
    c: &Consts<V>,
    params: &mut [f32],
    grads: &[f32],
    buf: &mut [f32],
    range: core::ops::Range<usize>,
) {
    const { assert!(V::LANES <= MAX_LANES) };
    let rest = range.len();
    let mut tp = [0.0f32; MAX_LANES];
    let mut tg = [0.0f32; MAX_LANES];
    let mut tb = [0.0f32; MAX_LANES];
    tp[..rest].copy_from_slice(&params[range.clone()]);
    tg[..rest].copy_from_slice(&grads[range.clone()]);
    if MOM && !FIRST {
        tb[..rest].copy_from_slice(&buf[range.clone()]);
    }
    // SAFETY: the arrays hold `MAX_LANES >= LANES` elements each (checked at compile time
    // below); a `V` value exists (`c`), so the CPU supports its ISA.
    unsafe {
        lanes_step::<V, SCALE, MAX, WD, MOM, FIRST, NEST>(
            c,
            tp.as_mut_ptr(),
            tg.as_ptr(),
            tb.as_mut_ptr(),
        );
    }
    params[range.clone()].copy_from_slice(&tp[..rest]);
    if MOM {
        buf[range].copy_from_slice(&tb[..rest]);
    }
}

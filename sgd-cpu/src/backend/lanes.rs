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
//! is done for the head up to the first vector-aligned parameter address. The main loop is
//! software-pipelined (loads run [`AHEAD`] vectors ahead of stores, see [`pipelined`]), which
//! only reorders memory operations on disjoint slices.
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
    /// Asks for the cache line holding `ptr` to be brought into L2: a hint without
    /// architectural effect, for any address. The default emits nothing.
    #[inline(always)]
    fn prefetch_l2(ptr: *const f32) {
        let _ = ptr;
    }
}

/// Option bits: which optional parts of the rule run. Each combination is its own
/// monomorphised loop (`const F: u8`).
pub(crate) mod bit {
    /// Divide the gradient by the gradient scale.
    pub(crate) const SCALE: u8 = 1;
    /// Negate the gradient.
    pub(crate) const MAXIMIZE: u8 = 2;
    /// Add weight decay.
    pub(crate) const WEIGHT_DECAY: u8 = 4;
    /// Update a momentum buffer.
    pub(crate) const MOMENTUM: u8 = 8;
    /// The buffer is initialised with the gradient (first step of this parameter).
    pub(crate) const FIRST: u8 = 16;
    /// Nesterov momentum.
    pub(crate) const NESTEROV: u8 = 32;

    /// Whether the loop with bits `f` reads the old momentum buffer (momentum, not the first
    /// step).
    pub(crate) const fn reads_buffer(f: u8) -> bool {
        f & (MOMENTUM | FIRST) == MOMENTUM
    }
}

/// The option bits of one tensor update; `FIRST` and `NESTEROV` only count with momentum.
pub(crate) fn flags(s: &StepScalars, momentum: Option<bool>, scale: bool) -> u8 {
    option_bits(s.maximize, s.has_weight_decay, s.has_momentum, s.nesterov, momentum, scale)
}

/// The option bits from the step's flags (f32 or f64 scalars): `first` is `Some` when there is
/// a momentum buffer, `true` on its first step.
pub(crate) fn option_bits(
    maximize: bool,
    weight_decay: bool,
    momentum: bool,
    nesterov: bool,
    first: Option<bool>,
    scale: bool,
) -> u8 {
    let on = |cond: bool, b: u8| if cond { b } else { 0 };
    let mut f =
        on(scale, bit::SCALE) | on(maximize, bit::MAXIMIZE) | on(weight_decay, bit::WEIGHT_DECAY);
    if let (true, Some(first)) = (momentum, first) {
        f |= bit::MOMENTUM | on(first, bit::FIRST) | on(nesterov, bit::NESTEROV);
    }
    f
}

/// Calls `$f::<$v, F>($args)` with the const option bits `F` equal to the run-time `$bits`
/// (one branch per bit, 64 instantiations).
macro_rules! dispatch_flags {
    ($f:ident::<$v:ty> $args:tt, $bits:expr) => {{
        let bits: u8 = $bits;
        // The values of the `bit` constants.
        dispatch_flags!(@ $f, $v, $args, bits, [1 2 4 8 16 32], [0])
    }};
    (@ $f:ident, $v:ty, $args:tt, $bits:ident, [], [$($acc:tt)*]) => {
        $f::<$v, { $($acc)* }> $args
    };
    (@ $f:ident, $v:ty, $args:tt, $bits:ident, [$b:literal $($rest:literal)*], [$($acc:tt)*]) => {
        if $bits & $b != 0 {
            dispatch_flags!(@ $f, $v, $args, $bits, [$($rest)*], [$($acc)* + $b])
        } else {
            dispatch_flags!(@ $f, $v, $args, $bits, [$($rest)*], [$($acc)*])
        }
    };
}
pub(crate) use dispatch_flags;

/// Defines an ISA module's `update` entry point: a `#[target_feature]` function that
/// instantiates [`update`] for the lane type with the flags of the call.
macro_rules! simd_entry {
    ($lanes:ty, $features:literal, $isa:literal) => {
        /// Updates one tensor (see [`crate::scalar::sgd_update`] for the contract); `prefetch`
        /// selects the main loop that prefetches (see [`crate::Prefetch`]).
        ///
        /// # Safety
        #[doc = concat!("The CPU supports ", $isa, ".")]
        #[target_feature(enable = $features)]
        pub(crate) unsafe fn update(
            piece: $crate::step::Piece<'_>,
            grad_scale: Option<f32>,
            prefetch: bool,
        ) {
            use $crate::backend::lanes::{dispatch_flags, flags};
            /// One instantiation of the rule per option set, each its own function with its own
            /// stack frame (inlined into one function, the 64 bodies' locals would share a frame
            /// of megabytes in a debug build).
            ///
            /// # Safety
            /// As `update`.
            #[target_feature(enable = $features)]
            #[inline(never)]
            unsafe fn run<V: $crate::backend::lanes::Lanes, const F: u8>(
                s: &$crate::StepScalars,
                params: &mut [f32],
                grads: &[f32],
                buf: &mut [f32],
                scale: f32,
                prefetch: bool,
            ) {
                // SAFETY: this function's target features are the ISA of the lane type.
                unsafe {
                    $crate::backend::lanes::update::<V, F>(s, params, grads, buf, scale, prefetch)
                }
            }
            let $crate::step::Piece { s, param: params, grad: grads, buf: momentum_buffer } = piece;
            let first = momentum_buffer.as_ref().map(|m| m.first_step);
            let flags = flags(&s, first, grad_scale.is_some());
            let buf = momentum_buffer.map_or(&mut [][..], |m| m.values);
            let scale = grad_scale.unwrap_or(1.0);
            // SAFETY: this function's target features are the ISA of the lane type.
            unsafe {
                dispatch_flags!(run::<$lanes>(&s, params, grads, buf, scale, prefetch), flags)
            }
        }
    };
}
pub(crate) use simd_entry;

/// The broadcast scalars of one step.
#[derive(Clone, Copy)]
pub(crate) struct Consts<V> {
    neg_lr: V,
    weight_decay: V,
    momentum: V,
    one_minus_dampening: V,
    /// The gradient scale (also the filler of unused [`Loaded::buf`] lanes).
    pub(crate) scale: V,
}

impl<V: Lanes> Consts<V> {
    /// The scalars of `s` and the gradient scale, broadcast.
    ///
    /// # Safety
    /// The CPU supports `V`'s ISA.
    #[inline(always)]
    pub(crate) unsafe fn new(s: &StepScalars, scale: f32) -> Self {
        // SAFETY: the caller guarantees the ISA.
        unsafe {
            Consts {
                neg_lr: V::splat(s.neg_lr),
                weight_decay: V::splat(s.weight_decay),
                momentum: V::splat(s.momentum),
                one_minus_dampening: V::splat(s.one_minus_dampening),
                scale: V::splat(scale),
            }
        }
    }
}

/// The inputs of `LANES` elements: parameters, gradients and (with momentum, after the first
/// step) the old momentum buffer. `buf` is unused otherwise.
#[derive(Clone, Copy)]
pub(crate) struct Loaded<V> {
    pub(crate) param: V,
    pub(crate) grad: V,
    pub(crate) buf: V,
}

/// Loads the inputs of `LANES` elements at `p`, `g`, `b`.
///
/// # Safety
/// `p` and `g` are valid for `LANES` reads; with momentum and not `FIRST`, `b` too. The CPU
/// supports `V`'s ISA (a [`Consts`] value exists).
#[inline(always)]
unsafe fn load<V: Lanes, const F: u8>(
    c: &Consts<V>,
    p: *const f32,
    g: *const f32,
    b: *const f32,
) -> Loaded<V> {
    // SAFETY: the caller guarantees the pointers cover `LANES` elements.
    unsafe {
        Loaded {
            param: V::load(p),
            grad: V::load(g),
            buf: if bit::reads_buffer(F) { V::load(b) } else { c.scale },
        }
    }
}

/// The rule (see the scalar reference) on loaded inputs: the new parameters and (with
/// momentum) the new buffer, in f32 whatever the storage (the 16-bit kernels round them).
#[inline(always)]
pub(crate) fn compute<V: Lanes, const F: u8>(c: &Consts<V>, x: Loaded<V>) -> (V, V) {
    let mut grad = x.grad;
    if F & bit::SCALE != 0 {
        grad = grad.div(c.scale);
    }
    if F & bit::MAXIMIZE != 0 {
        grad = grad.neg();
    }
    if F & bit::WEIGHT_DECAY != 0 {
        grad = x.param.mul_add(c.weight_decay, grad);
    }
    let mut buf = x.buf;
    if F & bit::MOMENTUM != 0 {
        buf = if F & bit::FIRST != 0 {
            grad
        } else {
            grad.mul_add(c.one_minus_dampening, x.buf.mul(c.momentum))
        };
        grad = if F & bit::NESTEROV != 0 { buf.mul_add(c.momentum, grad) } else { buf };
    }
    (grad.mul_add(c.neg_lr, x.param), buf)
}

/// [`compute`], storing the new parameters at `p` and, with momentum, the new buffer at `b`.
///
/// # Safety
/// `p` is valid for `LANES` writes; with momentum, `b` too.
#[inline(always)]
unsafe fn finish<V: Lanes, const F: u8>(c: &Consts<V>, x: Loaded<V>, p: *mut f32, b: *mut f32) {
    let (param, buf) = compute::<V, F>(c, x);
    // SAFETY: the caller guarantees `p` (and `b` with momentum) cover `LANES` elements.
    unsafe {
        if F & bit::MOMENTUM != 0 {
            buf.store(b);
        }
        param.store(p);
    }
}

/// The rule for `LANES` elements at `p`, `g`, `b`: [`load`] then [`finish`].
///
/// # Safety
/// `p` and `g` are valid for `LANES` reads (and `p` for writes); with momentum, `b` too.
#[inline(always)]
unsafe fn lanes_step<V: Lanes, const F: u8>(
    c: &Consts<V>,
    p: *mut f32,
    g: *const f32,
    b: *mut f32,
) {
    // SAFETY: forwarded from the caller.
    unsafe { finish::<V, F>(c, load::<V, F>(c, p, g, b), p, b) }
}

/// Largest lane count of any backend: the size of the padded tail arrays.
pub(crate) const MAX_LANES: usize = 16;

/// f32 elements per 64-byte cache line: the prefetching loop issues one prefetch per line.
const LINE: usize = 16;

/// Updates `params[..n]` (and `buf[..n]` with momentum), `n` = the shortest slice length
/// (with momentum, `buf` counts; without, it is ignored); the main loop prefetches when
/// `prefetch` (see [`pipelined`]).
///
/// # Safety
/// The CPU supports `V`'s ISA.
#[inline(always)]
pub(crate) unsafe fn update<V: Lanes, const F: u8>(
    s: &StepScalars,
    params: &mut [f32],
    grads: &[f32],
    buf: &mut [f32],
    scale: f32,
    prefetch: bool,
) {
    let lanes = V::LANES;
    let mut n = params.len().min(grads.len());
    if F & bit::MOMENTUM != 0 {
        n = n.min(buf.len());
    }
    // SAFETY: the caller guarantees the ISA.
    let c = unsafe { Consts::<V>::new(s, scale) };
    let step = lanes_step::<V, F>;
    // Head: up to the first vector-aligned parameter address, so the main loop's loads and
    // stores of `params` (and of `grads`/`buf` when they share its alignment, as allocations
    // usually do) never straddle cache lines.
    let misalign = (params.as_ptr() as usize / size_of::<f32>()) % lanes;
    let head = if misalign == 0 { 0 } else { (lanes - misalign).min(n) };
    if head > 0 {
        padded::<V, F>(&c, params, grads, buf, 0..head);
    }
    let pp = params.as_mut_ptr();
    let gp = grads.as_ptr();
    let bp = buf.as_mut_ptr();
    // Without momentum `bp` is never dereferenced; `wrapping_add` keeps the arithmetic defined.
    let at = |i: usize| (pp.wrapping_add(i), gp.wrapping_add(i), bp.wrapping_add(i));
    // Main loop, software-pipelined (see [`pipelined`]).
    let mut i = head;
    let (p, g, b) = at(i);
    // SAFETY: `head <= n` and every slice has at least `n` elements (with momentum; without,
    // `buf` is never dereferenced), so the pointers at `i` are valid for `n - i` elements.
    i += unsafe {
        if prefetch {
            pipelined::<V, F, true>(&c, p, g, b, n - i)
        } else {
            pipelined::<V, F, false>(&c, p, g, b, n - i)
        }
    };
    while i + lanes <= n {
        let (p, g, b) = at(i);
        // SAFETY: `i + lanes <= n` and every slice has at least `n` elements.
        unsafe { step(&c, p, g, b) };
        i += lanes;
    }
    if i < n {
        padded::<V, F>(&c, params, grads, buf, i..n);
    }
}

/// How many vectors the loads of [`pipelined`] run ahead of the stores.
const AHEAD: usize = 4;

/// How far ahead of the loads [`pipelined`] prefetches, in bytes: the middle of the range that
/// measured best (768 bytes to 1.5 KiB; `benches/README.md`, "Prefetching").
const PREFETCH_AHEAD: usize = 1024;

/// The main loop over whole vectors from `p`, `g`, `b`, at most `n` elements; returns the
/// number of elements done (a multiple of `AHEAD * LANES`, or 0 below two such spans).
///
/// With `PREFETCH`, the load of every vector that starts a 64-byte line of the parameters
/// (each line once: 16 elements) also prefetches the line [`PREFETCH_AHEAD`] bytes further of
/// each stream it reads into L2 ([`Lanes::prefetch_l2`]), while that stays inside the slices.
///
/// Software-pipelined through a ring of [`AHEAD`] loaded vectors: the inputs of vector
/// `j + AHEAD` are loaded just before vector `j` is computed and stored. A load therefore
/// never follows, closely in program order, a store to an address equal to it modulo 4096:
/// on x86 such "4K aliasing" makes the load wait for the unrelated store, which the plain loop
/// (load, compute, store one vector at a time) suffers when the parameters are a vector or two
/// ahead of the gradients modulo 4096. The ring stays short (256 bytes ahead with AVX-512)
/// because loads running further ahead slowed the pass at DRAM bandwidth (measurements:
/// `benches/README.md`, "The pipelined loop"). Only independent memory operations are
/// reordered (the slices are disjoint), so results are unchanged.
///
/// # Safety
/// `p` and `g` are valid for `n` reads (`p` for writes); with momentum, `b` for `n` reads and
/// writes. The CPU supports `V`'s ISA (a [`Consts`] value exists).
#[inline(always)]
unsafe fn pipelined<V: Lanes, const F: u8, const PREFETCH: bool>(
    c: &Consts<V>,
    p: *mut f32,
    g: *const f32,
    b: *mut f32,
    n: usize,
) -> usize {
    let lanes = V::LANES;
    let span = AHEAD * lanes;
    if n < 2 * span {
        return 0;
    }
    // SAFETY (every load and store below): vector `j` covers `j .. j + lanes` with
    // `j + lanes <= n`, inside every slice (the caller's contract). Without momentum `b` is
    // never dereferenced; `wrapping_add` keeps its pointer arithmetic defined.
    let distance = PREFETCH_AHEAD / size_of::<f32>();
    let load_at = |j: usize| {
        if PREFETCH && j.is_multiple_of(LINE) && j + distance < n {
            V::prefetch_l2(p.wrapping_add(j + distance));
            V::prefetch_l2(g.wrapping_add(j + distance));
            if bit::reads_buffer(F) {
                V::prefetch_l2(b.wrapping_add(j + distance));
            }
        }
        // SAFETY: see above.
        unsafe { load::<V, F>(c, p.add(j), g.add(j), b.wrapping_add(j)) }
    };
    let mut ring = [Loaded { param: c.scale, grad: c.scale, buf: c.scale }; AHEAD];
    for (k, x) in ring.iter_mut().enumerate() {
        *x = load_at(k * lanes);
    }
    let mut i = 0;
    // Invariant: `ring[k]` holds the inputs of vector `i + k * lanes`.
    while i + 2 * span <= n {
        for (k, x) in ring.iter_mut().enumerate() {
            let j = i + k * lanes;
            let ahead = load_at(j + span);
            // SAFETY: see above.
            unsafe { finish::<V, F>(c, *x, p.add(j), b.wrapping_add(j)) };
            *x = ahead;
        }
        i += span;
    }
    for (k, x) in ring.iter().enumerate() {
        let j = i + k * lanes;
        // SAFETY: see above.
        unsafe { finish::<V, F>(c, *x, p.add(j), b.wrapping_add(j)) };
    }
    i + span
}

/// Runs the elements `range` (fewer than `LANES`) through the vector code on zero-padded
/// copies: the padding lanes compute on zeros and are discarded.
#[inline(always)]
fn padded<V: Lanes, const F: u8>(
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
    if bit::reads_buffer(F) {
        tb[..rest].copy_from_slice(&buf[range.clone()]);
    }
    // SAFETY: the arrays hold `MAX_LANES >= LANES` elements each (checked at compile time
    // below); a `V` value exists (`c`), so the CPU supports its ISA.
    unsafe {
        lanes_step::<V, F>(c, tp.as_mut_ptr(), tg.as_ptr(), tb.as_mut_ptr());
    }
    params[range.clone()].copy_from_slice(&tp[..rest]);
    if F & bit::MOMENTUM != 0 {
        buf[range].copy_from_slice(&tb[..rest]);
    }
}

//! The vector loops of the bf16/f16 kernels (see [`super::half`]): one generic loop per mode,
//! instantiated per ISA and [`Conv`] by [`half_entry`], and per rounding ([`Rounder`]: to
//! nearest by the ISA's conversion, or stochastically by [`super::sr_lanes`]).
use sgd_core::{HalfFloat, SrStream};

use super::lanes::{Consts, Lanes, Loaded, MAX_LANES, bit, compute};
use super::sr_lanes::{Bits, SrHalf, store_sr, words};
use crate::StepScalars;

/// Loads and stores of one ISA's vectors from and to one 16-bit type.
///
/// Implementations are zero-sized; their functions are only called from `#[target_feature]`
/// entry points of their ISA ([`half_entry`]).
pub(crate) trait Conv {
    /// The f32 vector.
    type V: Lanes;
    /// The u32 vector of the same lanes (stochastic rounding).
    type U: Bits<F = Self::V>;
    /// The storage type.
    type H: HalfFloat + SrHalf;
    /// Widens `LANES` values at `ptr` exactly.
    ///
    /// # Safety
    /// The CPU supports the ISA; `ptr` is valid for `LANES` reads.
    unsafe fn load(ptr: *const Self::H) -> Self::V;
    /// Rounds to nearest even and stores `LANES` values at `ptr`.
    ///
    /// # Safety
    /// `ptr` is valid for `LANES` writes (the ISA holds since a `V` exists).
    unsafe fn store(v: Self::V, ptr: *mut Self::H);
}

/// How a loop rounds its f32 results to the storage type: the random words of a vector (none to
/// round to nearest) and the two stores.
pub(crate) trait Rounder<C: Conv>: Copy {
    /// The random words of one vector.
    type W: Copy;
    /// The words of the vector at element `i` of the piece.
    ///
    /// # Safety
    /// The CPU supports `C`'s ISA.
    unsafe fn words(&self, i: usize) -> Self::W;
    /// Rounds and stores `LANES` parameters (word 0).
    ///
    /// # Safety
    /// `ptr` is valid for `LANES` writes (the ISA holds since `v` exists).
    unsafe fn store_param(v: C::V, w: Self::W, ptr: *mut C::H);
    /// Rounds and stores `LANES` buffer values (word 1).
    ///
    /// # Safety
    /// As [`Rounder::store_param`].
    unsafe fn store_buf(v: C::V, w: Self::W, ptr: *mut C::H);
}

/// Round to nearest even: `C`'s own store.
#[derive(Clone, Copy)]
pub(crate) struct Nearest;

impl<C: Conv> Rounder<C> for Nearest {
    type W = ();
    #[inline(always)]
    unsafe fn words(&self, _: usize) {}
    #[inline(always)]
    unsafe fn store_param(v: C::V, (): (), ptr: *mut C::H) {
        // SAFETY: forwarded from the caller.
        unsafe { C::store(v, ptr) }
    }
    #[inline(always)]
    unsafe fn store_buf(v: C::V, (): (), ptr: *mut C::H) {
        // SAFETY: forwarded from the caller.
        unsafe { C::store(v, ptr) }
    }
}

/// Stochastic rounding with the Philox words of the piece's stream.
#[derive(Clone, Copy)]
pub(crate) struct Stochastic(pub(crate) SrStream);

impl<C: Conv> Rounder<C> for Stochastic {
    type W = (C::U, C::U);
    #[inline(always)]
    unsafe fn words(&self, i: usize) -> Self::W {
        // SAFETY: forwarded from the caller.
        unsafe { words::<C::U>(&self.0, i) }
    }
    #[inline(always)]
    unsafe fn store_param(v: C::V, w: Self::W, ptr: *mut C::H) {
        // SAFETY: forwarded from the caller.
        unsafe { store_sr::<C::U, C::H>(v, w.0, ptr) }
    }
    #[inline(always)]
    unsafe fn store_buf(v: C::V, w: Self::W, ptr: *mut C::H) {
        // SAFETY: forwarded from the caller.
        unsafe { store_sr::<C::U, C::H>(v, w.1, ptr) }
    }
}

/// The rule for `LANES` elements of 16-bit storage at `p`, `g`, `b`.
///
/// # Safety
/// The pointers are valid for `LANES` elements (`b` only with momentum); the ISA holds.
#[inline(always)]
unsafe fn native_lanes<C: Conv, R: Rounder<C>, const F: u8>(
    c: &Consts<C::V>,
    r: &R,
    i: usize,
    p: *mut C::H,
    g: *const C::H,
    b: *mut C::H,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        let x = Loaded {
            param: C::load(p),
            grad: C::load(g),
            buf: if bit::reads_buffer(F) { C::load(b) } else { c.scale },
        };
        let (param, buf) = compute::<C::V, F>(c, x);
        let w = r.words(i);
        if F & bit::MOMENTUM != 0 {
            R::store_buf(buf, w, b);
        }
        R::store_param(param, w, p);
    }
}

/// The rule for `LANES` elements with a master copy: master `m` and buffer `b` in f32.
///
/// # Safety
/// The pointers are valid for `LANES` elements (`b` only with momentum); the ISA holds.
#[inline(always)]
unsafe fn master_lanes<C: Conv, R: Rounder<C>, const F: u8>(
    c: &Consts<C::V>,
    r: &R,
    i: usize,
    p: *mut C::H,
    g: *const C::H,
    m: *mut f32,
    b: *mut f32,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        let x = Loaded {
            param: <C::V as Lanes>::load(m),
            grad: C::load(g),
            buf: if bit::reads_buffer(F) { <C::V as Lanes>::load(b) } else { c.scale },
        };
        let (master, buf) = compute::<C::V, F>(c, x);
        if F & bit::MOMENTUM != 0 {
            buf.store(b);
        }
        master.store(m);
        R::store_param(master, r.words(i), p);
    }
}

/// Runs `whole(i)` for every full vector from 0 and `tail(range)` for the rest: the loop
/// shared by both modes.
#[inline(always)]
fn vectors(n: usize, lanes: usize, mut whole: impl FnMut(usize), tail: impl FnOnce(usize)) {
    let mut i = 0;
    while i + lanes <= n {
        whole(i);
        i += lanes;
    }
    if i < n {
        tail(i);
    }
}

/// 16-bit storage: updates `params[..n]` and, with momentum, `buf[..n]`; rounds stochastically
/// with `sr` (positioned at `params[0]`), else to nearest.
///
/// # Safety
/// The CPU supports `C`'s ISA.
#[inline(always)]
pub(crate) unsafe fn native<C: Conv, const F: u8>(
    s: &StepScalars,
    params: &mut [C::H],
    grads: &[C::H],
    buf: &mut [C::H],
    scale: f32,
    sr: Option<SrStream>,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        match sr {
            None => native_with::<C, Nearest, F>(s, params, grads, buf, scale, Nearest),
            Some(st) => {
                native_with::<C, Stochastic, F>(s, params, grads, buf, scale, Stochastic(st))
            }
        }
    }
}

/// [`native`] with the rounding `r`.
///
/// # Safety
/// The CPU supports `C`'s ISA.
#[inline(always)]
unsafe fn native_with<C: Conv, R: Rounder<C>, const F: u8>(
    s: &StepScalars,
    params: &mut [C::H],
    grads: &[C::H],
    buf: &mut [C::H],
    scale: f32,
    r: R,
) {
    let lanes = <C::V as Lanes>::LANES;
    const { assert!(<C::V as Lanes>::LANES <= MAX_LANES) };
    let mut n = params.len().min(grads.len());
    if F & bit::MOMENTUM != 0 {
        n = n.min(buf.len());
    }
    // SAFETY: the caller guarantees the ISA.
    let c = unsafe { Consts::<C::V>::new(s, scale) };
    let (pp, gp, bp) = (params.as_mut_ptr(), grads.as_ptr(), buf.as_mut_ptr());
    let whole = |i: usize| {
        // SAFETY: `i + lanes <= n`, inside every slice (without momentum `bp` is never
        // dereferenced; `wrapping_add` keeps its arithmetic defined).
        unsafe { native_lanes::<C, R, F>(&c, &r, i, pp.add(i), gp.add(i), bp.wrapping_add(i)) }
    };
    vectors(n, lanes, whole, |i| {
        let rest = n - i;
        let mut tp = [C::H::default(); MAX_LANES];
        let mut tg = [C::H::default(); MAX_LANES];
        let mut tb = [C::H::default(); MAX_LANES];
        tp[..rest].copy_from_slice(&params[i..n]);
        tg[..rest].copy_from_slice(&grads[i..n]);
        if bit::reads_buffer(F) {
            tb[..rest].copy_from_slice(&buf[i..n]);
        }
        // SAFETY: the arrays hold `MAX_LANES >= LANES` elements; the ISA holds (`c` exists).
        unsafe {
            native_lanes::<C, R, F>(&c, &r, i, tp.as_mut_ptr(), tg.as_ptr(), tb.as_mut_ptr());
        }
        params[i..n].copy_from_slice(&tp[..rest]);
        if F & bit::MOMENTUM != 0 {
            buf[i..n].copy_from_slice(&tb[..rest]);
        }
    });
}

/// f32 master weights: updates `master[..n]`, `buf[..n]` (with momentum) and `params[..n]`;
/// rounds the parameters stochastically with `sr`, else to nearest.
///
/// # Safety
/// The CPU supports `C`'s ISA.
#[inline(always)]
pub(crate) unsafe fn master<C: Conv, const F: u8>(
    s: &StepScalars,
    params: &mut [C::H],
    grads: &[C::H],
    master: &mut [f32],
    buf: &mut [f32],
    scale: f32,
    sr: Option<SrStream>,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        match sr {
            None => master_with::<C, Nearest, F>(s, params, grads, master, buf, scale, Nearest),
            Some(st) => {
                master_with::<C, Stochastic, F>(
                    s,
                    params,
                    grads,
                    master,
                    buf,
                    scale,
                    Stochastic(st),
                );
            }
        }
    }
}

/// [`master`] with the rounding `r`.
///
/// # Safety
/// The CPU supports `C`'s ISA.
#[inline(always)]
unsafe fn master_with<C: Conv, R: Rounder<C>, const F: u8>(
    s: &StepScalars,
    params: &mut [C::H],
    grads: &[C::H],
    master: &mut [f32],
    buf: &mut [f32],
    scale: f32,
    r: R,
) {
    let lanes = <C::V as Lanes>::LANES;
    const { assert!(<C::V as Lanes>::LANES <= MAX_LANES) };
    let mut n = params.len().min(grads.len()).min(master.len());
    if F & bit::MOMENTUM != 0 {
        n = n.min(buf.len());
    }
    // SAFETY: the caller guarantees the ISA.
    let c = unsafe { Consts::<C::V>::new(s, scale) };
    let (pp, gp, mp, bp) =
        (params.as_mut_ptr(), grads.as_ptr(), master.as_mut_ptr(), buf.as_mut_ptr());
    let whole = |i: usize| {
        // SAFETY: `i + lanes <= n`, inside every slice (`bp` as in `native`).
        unsafe {
            let (p, g, m, b) = (pp.add(i), gp.add(i), mp.add(i), bp.wrapping_add(i));
            master_lanes::<C, R, F>(&c, &r, i, p, g, m, b);
        }
    };
    vectors(n, lanes, whole, |i| {
        let rest = n - i;
        let mut tp = [C::H::default(); MAX_LANES];
        let mut tg = [C::H::default(); MAX_LANES];
        let mut tm = [0.0f32; MAX_LANES];
        let mut tb = [0.0f32; MAX_LANES];
        tg[..rest].copy_from_slice(&grads[i..n]);
        tm[..rest].copy_from_slice(&master[i..n]);
        if bit::reads_buffer(F) {
            tb[..rest].copy_from_slice(&buf[i..n]);
        }
        // SAFETY: the arrays hold `MAX_LANES >= LANES` elements; the ISA holds (`c` exists).
        unsafe {
            master_lanes::<C, R, F>(
                &c,
                &r,
                i,
                tp.as_mut_ptr(),
                tg.as_ptr(),
                tm.as_mut_ptr(),
                tb.as_mut_ptr(),
            );
        }
        params[i..n].copy_from_slice(&tp[..rest]);
        master[i..n].copy_from_slice(&tm[..rest]);
        if F & bit::MOMENTUM != 0 {
            buf[i..n].copy_from_slice(&tb[..rest]);
        }
    });
}

/// Defines an ISA module's entry point for one [`Conv`]: a `#[target_feature]` function that
/// instantiates [`native`] or [`master`] with the flags of the call (torch's scalar tail of
/// 16-bit storage, fewer than 32 elements, runs the reference).
macro_rules! half_entry {
    ($name:ident, $conv:ty, $features:literal, $isa:literal) => {
        /// Updates one bf16/f16 piece (see `backend::half`).
        ///
        /// # Safety
        #[doc = concat!("The CPU supports ", $isa, ".")]
        #[target_feature(enable = $features)]
        pub(crate) unsafe fn $name(
            piece: $crate::backend::half::HalfPiece<
                '_,
                <$conv as $crate::backend::half_lanes::Conv>::H,
            >,
            grad_scale: Option<f32>,
        ) {
            use $crate::backend::half::{HalfPiece, HalfStore, reference};
            use $crate::backend::half_lanes::{master, native};
            use $crate::backend::lanes::{dispatch_flags, flags};
            let HalfPiece { s, param, grad, store, sr, tail } = piece;
            let scale = grad_scale.unwrap_or(1.0);
            match store {
                HalfStore::Native(buf) => {
                    let tail = tail.min(param.len());
                    let (param, param_tail) = param.split_at_mut(tail);
                    let (grad, grad_tail) = grad.split_at(tail.min(grad.len()));
                    let (buf, buf_tail) = $crate::step::split_buffer(buf, tail);
                    let f = flags(&s, buf.as_ref().map(|m| m.first_step), grad_scale.is_some());
                    let buf = buf.map_or(&mut [][..], |m| m.values);
                    // SAFETY: this function's target features are the ISA of `$conv`.
                    unsafe { dispatch_flags!(native::<$conv>(&s, param, grad, buf, scale, sr), f) }
                    // torch's scalar tail, by the reference (fewer than 32 elements).
                    let tail = HalfPiece {
                        s,
                        param: param_tail,
                        grad: grad_tail,
                        store: HalfStore::Native(buf_tail),
                        sr: sr.map(|st| st.advanced(tail)),
                        tail: 0,
                    };
                    reference(tail, grad_scale);
                }
                HalfStore::Master { master: m, buf } => {
                    let f = flags(&s, buf.as_ref().map(|b| b.first_step), grad_scale.is_some());
                    let buf = buf.map_or(&mut [][..], |b| b.values);
                    // SAFETY: this function's target features are the ISA of `$conv`.
                    unsafe {
                        dispatch_flags!(master::<$conv>(&s, param, grad, m, buf, scale, sr), f)
                    }
                }
            }
        }
    };
}
pub(crate) use half_entry;

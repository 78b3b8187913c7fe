//! The vector loops of the bf16/f16 kernels (see [`super::half`]): one generic loop per mode,
//! instantiated per ISA and [`Conv`] by [`half_entry`].
use sgd_core::HalfFloat;

use super::lanes::{Consts, Lanes, Loaded, MAX_LANES, bit, compute};
use crate::StepScalars;

/// Loads and stores of one ISA's vectors from and to one 16-bit type.
///
/// Implementations are zero-sized; their functions are only called from `#[target_feature]`
/// entry points of their ISA ([`half_entry`]).
pub(crate) trait Conv {
    /// The f32 vector.
    type V: Lanes;
    /// The storage type.
    type H: HalfFloat;
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

/// The rule for `LANES` elements of 16-bit storage at `p`, `g`, `b`.
///
/// # Safety
/// The pointers are valid for `LANES` elements (`b` only with momentum); the ISA holds.
#[inline(always)]
unsafe fn native_lanes<C: Conv, const F: u8>(
    c: &Consts<C::V>,
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
        if F & bit::MOMENTUM != 0 {
            C::store(buf, b);
        }
        C::store(param, p);
    }
}

/// The rule for `LANES` elements with a master copy: master `m` and buffer `b` in f32.
///
/// # Safety
/// The pointers are valid for `LANES` elements (`b` only with momentum); the ISA holds.
#[inline(always)]
unsafe fn master_lanes<C: Conv, const F: u8>(
    c: &Consts<C::V>,
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
        C::store(master, p);
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

/// 16-bit storage: updates `params[..n]` and, with momentum, `buf[..n]`.
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
        unsafe { native_lanes::<C, F>(&c, pp.add(i), gp.add(i), bp.wrapping_add(i)) }
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
        unsafe { native_lanes::<C, F>(&c, tp.as_mut_ptr(), tg.as_ptr(), tb.as_mut_ptr()) };
        params[i..n].copy_from_slice(&tp[..rest]);
        if F & bit::MOMENTUM != 0 {
            buf[i..n].copy_from_slice(&tb[..rest]);
        }
    });
}

/// f32 master weights: updates `master[..n]`, `buf[..n]` (with momentum) and `params[..n]`.
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
        unsafe { master_lanes::<C, F>(&c, pp.add(i), gp.add(i), mp.add(i), bp.wrapping_add(i)) }
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
            master_lanes::<C, F>(
                &c,
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
/// instantiates [`native`] or [`master`] with the flags of the call. Pieces with stochastic
/// rounding go to [`reference`].
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
            if piece.sr.is_some() {
                reference(piece, grad_scale);
                return;
            }
            let HalfPiece { s, param, grad, store, sr: _, tail } = piece;
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
                    unsafe { dispatch_flags!(native::<$conv>(&s, param, grad, buf, scale), f) }
                    // torch's scalar tail, by the reference (fewer than 32 elements).
                    let tail = HalfPiece {
                        s,
                        param: param_tail,
                        grad: grad_tail,
                        store: HalfStore::Native(buf_tail),
                        sr: None,
                        tail: 0,
                    };
                    reference(tail, grad_scale);
                }
                HalfStore::Master { master: m, buf } => {
                    let f = flags(&s, buf.as_ref().map(|b| b.first_step), grad_scale.is_some());
                    let buf = buf.map_or(&mut [][..], |b| b.values);
                    // SAFETY: this function's target features are the ISA of `$conv`.
                    unsafe { dispatch_flags!(master::<$conv>(&s, param, grad, m, buf, scale), f) }
                }
            }
        }
    };
}
pub(crate) use half_entry;

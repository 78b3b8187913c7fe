//! The scalar reference: the specification every other backend matches bit for bit.
//!
//! Per element, in this order (`fma(a, b, c)` = `a * b + c` with one rounding, see
//! [`crate::fma`]; every other operation rounds to f32; `SPEC.md` §4.2 plus torch's fused
//! gradient unscaling):
//!
//! ```text
//! g = grad
//! if grad_scale:  g = g / scale                 true IEEE division (torch's fused kernels)
//! if maximize:    g = -g                        sign flip (also of ±0 and NaN)
//! if has_wd:      g = fma(p, wd, g)             grad.add(p, alpha=wd)
//! if has_m:
//!     if first:   buf = g                       first step of this parameter: a copy
//!     else:       buf = fma(g, 1-d, buf * m)    buf.mul_(m) [rounded], .add_(g, alpha=1-d) [fma]
//!     g = nesterov ? fma(buf, m, g) : buf       grad.add(buf, alpha=m)
//! p = fma(g, -lr, p)                            p.add_(g, alpha=-lr)
//! ```
//!
//! NaN results: Rust (like IEEE 754) does not specify which NaN payload or sign an operation
//! with NaN inputs returns, so backends agree on *NaN-ness* of every result and on the exact bits
//! of every non-NaN result.
use crate::StepScalars;
use crate::fma::fma;

/// A tensor's momentum buffer for one step: its values, and whether this is the parameter's
/// first step with momentum (the buffer holds no value yet: torch's `momentum_buffer is None`,
/// so the step copies the gradient into it).
///
/// `T` is the buffer's element type: `f32` (the default, the float32 rule and the f32 master
/// mode), `f64`, or a 16-bit type ([`crate::Bf16`], [`crate::F16`]) for 16-bit storage.
#[derive(Debug)]
pub struct MomentumBuffer<'a, T = f32> {
    /// The buffer, as many elements as the parameter.
    pub values: &'a mut [T],
    /// The first step: `values` is written, not read.
    pub first_step: bool,
}

impl<'a, T> MomentumBuffer<'a, T> {
    /// `values`, first step or not.
    pub fn new(values: &'a mut [T], first_step: bool) -> Self {
        Self { values, first_step }
    }

    /// The buffers of elements `..mid` and `mid..` (`mid <= len`), same flag (for splitting a
    /// tensor across threads).
    ///
    /// # Panics
    /// If `mid > values.len()`.
    pub fn split_at(self, mid: usize) -> (Self, Self) {
        let (a, b) = self.values.split_at_mut(mid);
        (Self::new(a, self.first_step), Self::new(b, self.first_step))
    }
}

/// Gradient after unscaling, maximize and weight decay: the part of the update shared by
/// every backend (`grad_scale` is the divisor, torch's `grad / grad_scale`).
#[inline(always)]
pub fn effective_grad(s: &StepScalars, p: f32, g: f32, grad_scale: Option<f32>) -> f32 {
    let mut g = match grad_scale {
        Some(scale) => g / scale,
        None => g,
    };
    if s.maximize {
        g = -g;
    }
    if s.has_weight_decay {
        g = fma(p, s.weight_decay, g);
    }
    g
}

/// The momentum part of the rule for one element: the new buffer (`buf` is the old one, unread
/// on the first step) and the direction the parameter moves along (torch: `buf.mul_(m)
/// .add_(g, alpha=1-d)`, then `g.add(buf, alpha=m)` with nesterov, else `buf`).
#[inline(always)]
pub fn momentum_step(s: &StepScalars, g: f32, buf: f32, first: bool) -> (f32, f32) {
    let b = if first { g } else { fma(g, s.one_minus_dampening, buf * s.momentum) };
    (b, if s.nesterov { fma(b, s.momentum, g) } else { b })
}

/// Updates one tensor in place with the scalar reference rule (see the module docs).
///
/// `momentum_buffer` is `Some` when the group has momentum
/// (`s.has_momentum`); with `first_step` the buffer is initialised to the effective gradient.
/// Without a buffer (or without momentum) the plain update runs. `grad_scale` divides every
/// gradient element first. Lengths must be equal (the public step functions check this);
/// this function updates the first `min` of the lengths elements.
#[inline(always)]
pub fn sgd_update(
    s: &StepScalars,
    params: &mut [f32],
    grads: &[f32],
    momentum_buffer: Option<MomentumBuffer<'_>>,
    grad_scale: Option<f32>,
) {
    match momentum_buffer {
        Some(MomentumBuffer { values: buf, first_step: first }) if s.has_momentum => {
            for ((p, &g), b) in params.iter_mut().zip(grads).zip(buf.iter_mut()) {
                let g = effective_grad(s, *p, g, grad_scale);
                let d;
                (*b, d) = momentum_step(s, g, *b, first);
                *p = fma(d, s.neg_lr, *p);
            }
        }
        _ => {
            for (p, &g) in params.iter_mut().zip(grads) {
                let g = effective_grad(s, *p, g, grad_scale);
                *p = fma(g, s.neg_lr, *p);
            }
        }
    }
}

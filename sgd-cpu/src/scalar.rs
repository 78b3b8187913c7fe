//! The scalar reference: the specification every other backend matches bit for bit.
//!
//! Per element, in this order (`fma(a, b, c)` = `a * b + c` with one rounding,
//! `f32::mul_add`; every other operation rounds to f32):
//!
//! ```text
//! g = grad
//! if grad_scale:  g = g / scale                 (division, as torch's fused kernels)
//! if maximize:    g = -g                        (sign flip)
//! if has_wd:      g = fma(p, wd, g)             grad.add(p, alpha=wd)
//! if has_m:
//!     if first:   buf = g                       first step of this parameter
//!     else:       buf = fma(g, 1-d, buf * m)    buf.mul_(m) [rounded] .add_(g, alpha=1-d) [fma]
//!     g = nesterov ? fma(buf, m, g) : buf
//! p = fma(g, -lr, p)                            p.add_(g, alpha=-lr)
//! ```
use crate::StepScalars;

/// Gradient after scaling, maximize and weight decay: the part of the update shared by
/// every backend.
#[inline(always)]
pub fn effective_grad(s: &StepScalars, p: f32, g: f32, inv_scale: Option<f32>) -> f32 {
    let mut g = match inv_scale {
        Some(scale) => g / scale,
        None => g,
    };
    if s.maximize {
        g = -g;
    }
    if s.has_weight_decay {
        g = p.mul_add(s.weight_decay, g);
    }
    g
}

/// Updates one tensor in place with the scalar reference rule (see the module docs).
///
/// `momentum_buffer` is `Some((buf, first_step))` when the group has momentum; with
/// `first_step` the buffer is initialised to the (effective) gradient. `grad_scale`
/// divides every gradient element first. Lengths must be equal (checked by the caller;
/// this function only reads `min` of the lengths).
pub fn sgd_update(
    s: &StepScalars,
    params: &mut [f32],
    grads: &[f32],
    momentum_buffer: Option<(&mut [f32], bool)>,
    grad_scale: Option<f32>,
) {
    match momentum_buffer {
        Some((buf, first)) if s.has_momentum => {
            for ((p, &g), b) in params.iter_mut().zip(grads).zip(buf.iter_mut()) {
                let g = effective_grad(s, *p, g, grad_scale);
                *b = if first { g } else { g.mul_add(s.one_minus_dampening, *b * s.momentum) };
                let d = if s.nesterov { b.mul_add(s.momentum, g) } else { *b };
                *p = d.mul_add(s.neg_lr, *p);
            }
        }
        _ => {
            for (p, &g) in params.iter_mut().zip(grads) {
                let g = effective_grad(s, *p, g, grad_scale);
                *p = g.mul_add(s.neg_lr, *p);
            }
        }
    }
}

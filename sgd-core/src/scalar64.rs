//! The float64 rule: `SPEC.md` §4.2 in f64 with f64 scalars (torch: `torch.optim.SGD
//! (foreach=False)` on float64 tensors, which `foreach=True` matches).
//!
//! Per element, in this order (`fma64` = one rounding in f64, every other operation rounds to
//! f64; the scalars are the options themselves, [`StepScalars64`]):
//!
//! ```text
//! g = grad
//! if grad_scale:  g = g / scale                 (f64 division)
//! if maximize:    g = -g
//! if has_wd:      g = fma64(p, wd, g)                grad.add(p, alpha=wd)
//! if has_m:
//!     if first:   buf = g
//!     else:       buf = fma64(g, 1-d, buf * m)       buf.mul_(m).add_(g, alpha=1-d)
//!     g = nesterov ? fma64(buf, m, g) : buf          grad.add(buf, alpha=m)
//! p = fma64(g, -lr, p)                               p.add_(g, alpha=-lr)
//! ```
use crate::fma::fma64;
use crate::{MomentumBuffer, StepScalars64};

/// Gradient after unscaling, maximize and weight decay (f64).
#[inline(always)]
pub fn effective_grad_f64(s: &StepScalars64, p: f64, g: f64, grad_scale: Option<f64>) -> f64 {
    let mut g = match grad_scale {
        Some(scale) => g / scale,
        None => g,
    };
    if s.maximize {
        g = -g;
    }
    if s.has_weight_decay {
        g = fma64(p, s.weight_decay, g);
    }
    g
}

/// Updates one float64 tensor in place (see the module docs); same contract as
/// [`crate::scalar::sgd_update`]: the first `min` of the lengths elements.
#[inline(always)]
pub fn sgd_update_f64(
    s: &StepScalars64,
    params: &mut [f64],
    grads: &[f64],
    momentum_buffer: Option<MomentumBuffer<'_, f64>>,
    grad_scale: Option<f64>,
) {
    match momentum_buffer {
        Some(MomentumBuffer { values: buf, first_step: first }) if s.has_momentum => {
            for ((p, &g), b) in params.iter_mut().zip(grads).zip(buf.iter_mut()) {
                let g = effective_grad_f64(s, *p, g, grad_scale);
                *b = if first { g } else { fma64(g, s.one_minus_dampening, *b * s.momentum) };
                let d = if s.nesterov { fma64(*b, s.momentum, g) } else { *b };
                *p = fma64(d, s.neg_lr, *p);
            }
        }
        _ => {
            for (p, &g) in params.iter_mut().zip(grads) {
                let g = effective_grad_f64(s, *p, g, grad_scale);
                *p = fma64(g, s.neg_lr, *p);
            }
        }
    }
}

//! The float64 kernels: sgd-core's reference loop ([`sgd_core::scalar64::sgd_update_f64`])
//! with the step's options as constants, compiled inside a `#[target_feature]` function per
//! ISA (`wide_lanes`), where `f64::mul_add` is one `vfmadd…pd` / `fmla` and LLVM vectorises the loop. The
//! operations and their order are the reference's, so the bits are too (the compiler neither
//! contracts nor reassociates floating-point operations).
use sgd_core::scalar64::sgd_update_f64;

use crate::StepScalars64;
use crate::scalar::MomentumBuffer;

/// The work of one float64 tensor (or a part of one).
#[derive(Debug)]
pub(crate) struct WidePiece<'a> {
    pub(crate) s: StepScalars64,
    pub(crate) param: &'a mut [f64],
    pub(crate) grad: &'a [f64],
    pub(crate) buf: Option<MomentumBuffer<'a, f64>>,
}

impl WidePiece<'_> {
    /// Elements of this piece.
    #[cfg(feature = "std")]
    pub(crate) fn len(&self) -> usize {
        self.param.len()
    }

    /// Splits at element `mid` (`mid <= len`).
    #[cfg(feature = "std")]
    pub(crate) fn split_at(self, mid: usize) -> (Self, Self) {
        let (p0, p1) = self.param.split_at_mut(mid);
        let (g0, g1) = self.grad.split_at(mid);
        let (b0, b1) = crate::step::split_buffer(self.buf, mid);
        (
            WidePiece { s: self.s, param: p0, grad: g0, buf: b0 },
            WidePiece { s: self.s, param: p1, grad: g1, buf: b1 },
        )
    }
}

/// The scalar backend: the reference loop as it is.
pub(crate) fn reference(piece: WidePiece<'_>, grad_scale: Option<f32>) {
    let WidePiece { s, param, grad, buf } = piece;
    sgd_update_f64(&s, param, grad, buf, grad_scale.map(f64::from));
}

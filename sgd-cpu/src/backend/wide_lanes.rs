//! The per-ISA float64 entry points (see [`super::wide`]).
use sgd_core::scalar64::sgd_update_f64;

use super::lanes::bit;
use crate::StepScalars64;
use crate::scalar::MomentumBuffer;

/// The reference loop with the options of bits `F` as constants (`V` only names the ISA the
/// caller compiles for, for [`super::lanes::dispatch_flags`]).
#[inline(always)]
#[allow(clippy::extra_unused_type_parameters)] // `V`: the lane type `dispatch_flags!` passes
pub(crate) fn fixed<V, const F: u8>(
    s: &StepScalars64,
    params: &mut [f64],
    grads: &[f64],
    buf: &mut [f64],
    scale: f64,
) {
    let on = |b: u8| F & b != 0;
    let s = StepScalars64 {
        maximize: on(bit::MAXIMIZE),
        has_weight_decay: on(bit::WEIGHT_DECAY),
        has_momentum: on(bit::MOMENTUM),
        nesterov: on(bit::NESTEROV),
        ..*s
    };
    let buf = on(bit::MOMENTUM).then(|| MomentumBuffer::new(buf, on(bit::FIRST)));
    sgd_update_f64(&s, params, grads, buf, on(bit::SCALE).then_some(scale));
}

/// The option bits of a float64 piece (as [`super::lanes::flags`]).
pub(crate) fn flags(s: &StepScalars64, first: Option<bool>, scale: bool) -> u8 {
    super::lanes::option_bits(
        s.maximize,
        s.has_weight_decay,
        s.has_momentum,
        s.nesterov,
        first,
        scale,
    )
}

/// Defines an ISA module's float64 entry point `update_f64`.
macro_rules! wide_entry {
    ($features:literal, $isa:literal) => {
        /// Updates one float64 piece (see `backend::wide`).
        ///
        /// # Safety
        #[doc = concat!("The CPU supports ", $isa, ".")]
        #[target_feature(enable = $features)]
        pub(crate) unsafe fn update_f64(
            piece: $crate::backend::wide::WidePiece<'_>,
            grad_scale: Option<f32>,
        ) {
            use $crate::backend::lanes::dispatch_flags;
            use $crate::backend::wide::WidePiece;
            use $crate::backend::wide_lanes::{fixed, flags};
            let WidePiece { s, param, grad, buf } = piece;
            let f = flags(&s, buf.as_ref().map(|b| b.first_step), grad_scale.is_some());
            let buf = buf.map_or(&mut [][..], |b| b.values);
            let scale = grad_scale.map_or(1.0, f64::from);
            dispatch_flags!(fixed::<()>(&s, param, grad, buf, scale), f)
        }
    };
}
pub(crate) use wide_entry;

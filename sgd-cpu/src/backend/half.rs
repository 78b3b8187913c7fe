//! The bf16/f16 kernels: 16-bit storage (params, grads, buffers in the dtype) and f32 master
//! weights, the rule of [`sgd_core::precision`] with the f32 vector arithmetic of
//! [`super::lanes`] between a widening load and a rounding store.
//!
//! The vector loops are in `half_lanes`; each ISA module supplies `Conv` implementations, the loads and stores that convert: bf16
//! by integer operations everywhere (widening is a 16-bit shift, narrowing the bit recipe of
//! [`sgd_core::convert::f32_to_bf16`]), or AVX512_BF16's `vcvtneps2bf16` where the CPU has it
//! (its subnormal inputs are patched with the integer result, since the instruction flushes
//! them); f16 by `vcvtph2ps`/`vcvtps2ph` (AVX-512F, F16C) or `fcvtl`/`fcvtn` (NEON). Every
//! conversion is tested bit for bit against sgd-core's integer reference.
//!
//! Stochastic rounding rounds the same float32 results with the Philox words of each element,
//! computed in vectors (`sr_lanes`: the ISA's 32-bit integer lanes run Philox4x32-10 on `LANES`
//! counters at once, and sgd-core's integer recipes round), so every backend gives the scalar
//! reference's bits.
use sgd_core::precision::{sgd_update_half, sgd_update_master};
use sgd_core::{HalfFloat, SrStream};

use crate::StepScalars;
use crate::scalar::MomentumBuffer;

/// Where a 16-bit tensor's state lives: in its own dtype, or in an f32 master copy.
#[derive(Debug)]
pub(crate) enum HalfStore<'a, H> {
    /// 16-bit storage: the buffer (if the group has momentum) in the parameter's dtype.
    Native(Option<MomentumBuffer<'a, H>>),
    /// f32 master weights and f32 buffer.
    Master {
        /// The f32 master copy of the parameter.
        master: &'a mut [f32],
        /// The f32 momentum buffer of the master.
        buf: Option<MomentumBuffer<'a, f32>>,
    },
}

/// The work of one bf16/f16 tensor (or a part of one).
#[derive(Debug)]
pub(crate) struct HalfPiece<'a, H> {
    pub(crate) s: StepScalars,
    pub(crate) param: &'a mut [H],
    pub(crate) grad: &'a [H],
    pub(crate) store: HalfStore<'a, H>,
    /// Stochastic rounding, positioned at this piece's first element.
    pub(crate) sr: Option<SrStream>,
    /// Index in this piece from which torch's scalar-tail grouping applies (16-bit storage;
    /// see [`sgd_core::precision::fused_tail_start`]); the piece's length if none of it does.
    pub(crate) tail: usize,
}

impl<'a, H> HalfPiece<'a, H> {
    /// Elements of this piece.
    #[cfg(feature = "std")]
    pub(crate) fn len(&self) -> usize {
        self.param.len()
    }

    /// Splits at element `mid` (`mid <= len`).
    #[cfg(feature = "std")]
    pub(crate) fn split_at(self, mid: usize) -> (Self, Self) {
        use crate::step::split_buffer as split_buf;
        let (s0, s1) = match self.store {
            HalfStore::Native(b) => {
                let (b0, b1) = split_buf(b, mid);
                (HalfStore::Native(b0), HalfStore::Native(b1))
            }
            HalfStore::Master { master, buf } => {
                let (m0, m1) = master.split_at_mut(mid);
                let (b0, b1) = split_buf(buf, mid);
                (
                    HalfStore::Master { master: m0, buf: b0 },
                    HalfStore::Master { master: m1, buf: b1 },
                )
            }
        };
        let (p0, p1) = self.param.split_at_mut(mid);
        let (g0, g1) = self.grad.split_at(mid);
        let sr1 = self.sr.map(|st| st.advanced(mid));
        let (t0, t1) = (self.tail.min(mid), self.tail.saturating_sub(mid));
        (
            HalfPiece { s: self.s, param: p0, grad: g0, store: s0, sr: self.sr, tail: t0 },
            HalfPiece { s: self.s, param: p1, grad: g1, store: s1, sr: sr1, tail: t1 },
        )
    }
}

/// sgd-core's reference loops: the scalar backend, and torch's scalar tail of 16-bit storage.
pub(crate) fn reference<H: HalfFloat>(piece: HalfPiece<'_, H>, grad_scale: Option<f32>) {
    let HalfPiece { s, param, grad, store, sr, tail } = piece;
    match store {
        HalfStore::Native(buf) => sgd_update_half(&s, param, grad, buf, grad_scale, sr, tail),
        HalfStore::Master { master, buf } => {
            sgd_update_master(&s, param, grad, master, buf, grad_scale, sr);
        }
    }
}

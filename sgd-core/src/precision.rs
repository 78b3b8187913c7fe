//! The rule on 16-bit storage and with f32 master weights, and which combination of dtypes a
//! tensor may have ([`check_tensor`]).
//!
//! **16-bit storage** ([`sgd_update_half`]; params, grads and momentum buffers all bf16 or all
//! f16; torch: `torch.optim.SGD(fused=True)` on CPU, torch >= 2.14, bitwise on every golden
//! case): each element is widened to f32 (exactly), the float32 rule of [`crate::scalar`] runs
//! with the f32 scalars of [`crate::StepScalars`], then the parameter and the buffer are each
//! rounded once to the storage type; nesterov uses the f32 buffer, before its rounding:
//!
//! ```text
//! p, g, b = f32(param), f32(grad), f32(buf)
//! g = effective_grad(p, g)                      scale, maximize, weight decay (f32)
//! b, d = momentum_step(g, b, first)             or d = g without momentum
//! param = round(fma(d, -lr, p), w0)             buf = round(b, w1)
//! ```
//!
//! **torch's scalar tail** (16-bit storage only): torch's fused CPU kernel runs each tensor
//! through vectors of [`FUSED_TAIL`] 16-bit elements (`Vectorized<BFloat16/Half>` with its
//! AVX-512 capability) and the last `numel % FUSED_TAIL` elements through a scalar loop that
//! groups the momentum update differently (as its float32 kernel does, `SPEC.md` §4.3):
//! `b = fma(b, m, f32(g * (1-d)))` instead of `fma(g, 1-d, f32(b * m))`
//! ([`momentum_step_tail`]; everything else is the same). The golden vectors show it
//! (`pub-float16-native-001`, a 15-element tensor, step 3, element 6, where the two groupings
//! round to neighbouring f16 values), so this rule follows torch there: the elements from
//! [`fused_tail_start`] of each tensor take the tail's grouping.
//!
//! **f32 master weights** ([`sgd_update_master`]; bf16/f16 params and grads, an f32 master
//! copy and an f32 buffer; torch: `SGD(foreach=False)` on the f32 masters with `grad.float()`,
//! then `param.copy_(master)`): the grad is widened, the float32 rule updates the master and its
//! buffer, and the parameter becomes the master rounded to the storage type:
//! `param = round(master, w0)`.
//!
//! `round(x, w)` is round to nearest even ([`crate::convert::f32_to_bf16`],
//! [`crate::convert::f32_to_f16`]) or, with an [`SrStream`], stochastic rounding with the
//! random word `w0` (parameter) or `w1` (buffer) of the element ([`crate::philox`],
//! [`crate::convert::f32_to_bf16_sr`], [`crate::convert::f32_to_f16_sr`]).
use crate::fma::fma;
use crate::scalar::{effective_grad, momentum_step};
use crate::{Dtype, HalfFloat, MomentumBuffer, PrecisionError, Rounding, SrStream, StepScalars};

/// The width of torch's vectors of 16-bit elements in its fused CPU kernel (64 bytes: its
/// AVX-512 capability, on which the golden vectors were recorded).
pub const FUSED_TAIL: usize = 32;

/// The index from which a tensor of `numel` elements is in torch's scalar tail:
/// `numel - numel % FUSED_TAIL`.
#[inline(always)]
pub fn fused_tail_start(numel: usize) -> usize {
    numel - numel % FUSED_TAIL
}

/// The momentum part of the rule in torch's scalar tail (16-bit storage): as
/// [`momentum_step`], but `buf = fma(buf, m, g * (1-d))` (the product `g * (1-d)` rounded)
/// instead of `fma(g, 1-d, buf * m)`.
#[inline(always)]
pub fn momentum_step_tail(s: &StepScalars, g: f32, buf: f32, first: bool) -> (f32, f32) {
    let b = if first { g } else { fma(buf, s.momentum, g * s.one_minus_dampening) };
    (b, if s.nesterov { fma(b, s.momentum, g) } else { b })
}

/// `x` rounded to `H`: to nearest even without a random word, stochastically with one.
#[inline(always)]
pub fn round_to<H: HalfFloat>(x: f32, r: Option<u32>) -> H {
    match r {
        Some(r) => H::from_f32_sr(x, r),
        None => H::from_f32(x),
    }
}

/// Updates one tensor stored in bf16/f16 in place (see the module docs). `sr`: stochastic
/// rounding of the parameter and the buffer, positioned at this slice; `None`: round to
/// nearest even. `tail`: the index in this slice from which torch's scalar tail grouping
/// applies ([`fused_tail_start`] of the length for a whole tensor). Lengths: the first `min`
/// of the lengths elements, as [`crate::scalar::sgd_update`].
#[inline(always)]
pub fn sgd_update_half<H: HalfFloat>(
    s: &StepScalars,
    params: &mut [H],
    grads: &[H],
    momentum_buffer: Option<MomentumBuffer<'_, H>>,
    grad_scale: Option<f32>,
    sr: Option<SrStream>,
    tail: usize,
) {
    let words = |j: usize| sr.map(|st| st.words(j));
    match momentum_buffer {
        Some(MomentumBuffer { values: buf, first_step: first }) if s.has_momentum => {
            let elements = params.iter_mut().zip(grads).zip(buf.iter_mut()).enumerate();
            for (j, ((p, g), b)) in elements {
                let w = words(j);
                let pf = p.to_f32();
                let g = effective_grad(s, pf, g.to_f32(), grad_scale);
                let step = if j < tail { momentum_step } else { momentum_step_tail };
                let (bf, d) = step(s, g, b.to_f32(), first);
                *b = round_to(bf, w.map(|w| w[1]));
                *p = round_to(fma(d, s.neg_lr, pf), w.map(|w| w[0]));
            }
        }
        _ => {
            for (j, (p, g)) in params.iter_mut().zip(grads).enumerate() {
                let pf = p.to_f32();
                let g = effective_grad(s, pf, g.to_f32(), grad_scale);
                *p = round_to(fma(g, s.neg_lr, pf), words(j).map(|w| w[0]));
            }
        }
    }
}

/// Updates one bf16/f16 tensor through its f32 master copy (see the module docs): `master`
/// (and the f32 `momentum_buffer`) are updated with the float32 rule on the widened gradient,
/// then `params` become the master rounded (stochastically with `sr`). Lengths: the first `min`
/// of the lengths elements.
#[inline(always)]
pub fn sgd_update_master<H: HalfFloat>(
    s: &StepScalars,
    params: &mut [H],
    grads: &[H],
    master: &mut [f32],
    momentum_buffer: Option<MomentumBuffer<'_, f32>>,
    grad_scale: Option<f32>,
    sr: Option<SrStream>,
) {
    let words = |j: usize| sr.map(|st| st.words(j)[0]);
    match momentum_buffer {
        Some(MomentumBuffer { values: buf, first_step: first }) if s.has_momentum => {
            let elements = params.iter_mut().zip(grads).zip(master.iter_mut()).zip(buf.iter_mut());
            for (j, (((p, g), m), b)) in elements.enumerate() {
                let g = effective_grad(s, *m, g.to_f32(), grad_scale);
                let d;
                (*b, d) = momentum_step(s, g, *b, first);
                *m = fma(d, s.neg_lr, *m);
                *p = round_to(*m, words(j));
            }
        }
        _ => {
            for (j, ((p, g), m)) in params.iter_mut().zip(grads).zip(master.iter_mut()).enumerate()
            {
                let g = effective_grad(s, *m, g.to_f32(), grad_scale);
                *m = fma(g, s.neg_lr, *m);
                *p = round_to(*m, words(j));
            }
        }
    }
}

/// Which rule updates a tensor, as [`check_tensor`] decides from its dtypes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UpdateMode {
    /// float32 storage: [`crate::scalar::sgd_update`].
    F32,
    /// float64 storage: [`crate::scalar64::sgd_update_f64`].
    F64,
    /// bf16/f16 storage, buffer in the same dtype: [`sgd_update_half`].
    Half(Dtype),
    /// bf16/f16 params and grads with an f32 master copy and f32 buffer: [`sgd_update_master`].
    Master(Dtype),
}

/// What a tensor of one step is made of: the dtypes of its parameter, gradient and momentum
/// buffer, the length of its f32 master copy, and how its 16-bit values are rounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TensorDtypes {
    /// The parameter's dtype.
    pub param: Dtype,
    /// The gradient's dtype.
    pub grad: Dtype,
    /// The momentum buffer's dtype, if there is one.
    pub buffer: Option<Dtype>,
    /// The length of the f32 master copy, if there is one.
    pub master: Option<usize>,
    /// How 16-bit results are rounded.
    pub rounding: Rounding,
}

/// Checks that tensor `tensor` (flat index) of `params` elements may be updated as described,
/// and says by which rule. In order: the gradient has the parameter's dtype; a master copy is
/// only for bf16/f16 parameters and has their length; the buffer is f32 with a master copy,
/// else of the parameter's dtype; stochastic rounding only where a bf16/f16 value is written.
///
/// # Errors
/// The first rule broken, as a [`PrecisionError`] naming the tensor and the bad dtype or length.
pub fn check_tensor(
    tensor: usize,
    params: usize,
    d: &TensorDtypes,
) -> Result<UpdateMode, PrecisionError> {
    if d.grad != d.param {
        return Err(PrecisionError::GradDtype { tensor, param: d.param, grad: d.grad });
    }
    if let Some(master) = d.master {
        if !d.param.is_half() {
            return Err(PrecisionError::MasterForDtype { tensor, dtype: d.param });
        }
        if master != params {
            return Err(PrecisionError::MasterLength { tensor, params, master });
        }
    }
    let expected = if d.master.is_some() { Dtype::F32 } else { d.param };
    if let Some(buffer) = d.buffer
        && buffer != expected
    {
        return Err(PrecisionError::BufferDtype { tensor, param: d.param, buffer, expected });
    }
    if d.rounding == Rounding::Stochastic && !d.param.is_half() {
        return Err(PrecisionError::StochasticRoundingUnsupported { tensor, dtype: d.param });
    }
    Ok(match (d.param, d.master) {
        (Dtype::F32, _) => UpdateMode::F32,
        (Dtype::F64, _) => UpdateMode::F64,
        (half, Some(_)) => UpdateMode::Master(half),
        (half, None) => UpdateMode::Half(half),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dtypes(param: Dtype) -> TensorDtypes {
        TensorDtypes {
            param,
            grad: param,
            buffer: None,
            master: None,
            rounding: Rounding::NearestEven,
        }
    }

    #[test]
    fn every_rule_names_the_tensor() {
        let ok = dtypes(Dtype::Bf16);
        assert_eq!(check_tensor(1, 4, &ok), Ok(UpdateMode::Half(Dtype::Bf16)));
        let master = TensorDtypes { master: Some(4), buffer: Some(Dtype::F32), ..ok };
        assert_eq!(check_tensor(1, 4, &master), Ok(UpdateMode::Master(Dtype::Bf16)));
        assert_eq!(check_tensor(0, 4, &dtypes(Dtype::F64)), Ok(UpdateMode::F64));
        let cases = [
            (
                TensorDtypes { grad: Dtype::F16, ..ok },
                PrecisionError::GradDtype { tensor: 3, param: Dtype::Bf16, grad: Dtype::F16 },
            ),
            (
                TensorDtypes { master: Some(5), ..ok },
                PrecisionError::MasterLength { tensor: 3, params: 4, master: 5 },
            ),
            (
                TensorDtypes { master: Some(4), ..dtypes(Dtype::F32) },
                PrecisionError::MasterForDtype { tensor: 3, dtype: Dtype::F32 },
            ),
            (
                TensorDtypes { buffer: Some(Dtype::F32), ..ok },
                PrecisionError::BufferDtype {
                    tensor: 3,
                    param: Dtype::Bf16,
                    buffer: Dtype::F32,
                    expected: Dtype::Bf16,
                },
            ),
            (
                TensorDtypes { buffer: Some(Dtype::Bf16), ..master },
                PrecisionError::BufferDtype {
                    tensor: 3,
                    param: Dtype::Bf16,
                    buffer: Dtype::Bf16,
                    expected: Dtype::F32,
                },
            ),
            (
                TensorDtypes { rounding: Rounding::Stochastic, ..dtypes(Dtype::F64) },
                PrecisionError::StochasticRoundingUnsupported { tensor: 3, dtype: Dtype::F64 },
            ),
        ];
        for (d, want) in cases {
            assert_eq!(check_tensor(3, 4, &d), Err(want), "{d:?}");
            assert!(want.to_string().contains("tensor 3"), "{want}");
        }
    }
}

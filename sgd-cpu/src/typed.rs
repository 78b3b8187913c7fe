//! Tensors of any dtype: float32, float64, bfloat16/float16 storage, bf16/f16 with f32 master
//! weights, each rounded to nearest or stochastically ([`typed_step`]).
//!
//! The rules are sgd-core's ([`sgd_core::scalar`], [`sgd_core::scalar64`],
//! [`sgd_core::precision`]); which one a tensor takes follows from its slices' types
//! ([`sgd_core::check_tensor`]):
//!
//! | param | grad | momentum buffer | master | rule |
//! |---|---|---|---|---|
//! | `F32` | `F32` | `F32` | — | float32 (`SPEC.md` §4.2) |
//! | `F64` | `F64` | `F64` | — | the same in f64 with f64 scalars |
//! | `Bf16` / `F16` | same | same | — | widened to f32, rule, param and buffer rounded once |
//! | `Bf16` / `F16` | same | `F32` | `&mut [f32]` | rule on the master, param = master rounded |
use sgd_core::{Dtype, Rounding, SrStream, StepScalars64, TensorDtypes, check_tensor};

use crate::backend::half::{HalfPiece, HalfStore};
use crate::backend::wide::WidePiece;
use crate::scalar::MomentumBuffer;
use crate::step::{Piece, Plan, validate_options};
use crate::{Bf16, F16, Prefetch, SgdConfig, SgdError, StepOptions, StepOutcome, StepScalars};

/// A writable tensor of one of the [`Dtype`]s, flattened.
#[derive(Debug)]
#[non_exhaustive]
pub enum TensorMut<'t> {
    /// float32.
    F32(&'t mut [f32]),
    /// float64.
    F64(&'t mut [f64]),
    /// bfloat16.
    Bf16(&'t mut [Bf16]),
    /// float16.
    F16(&'t mut [F16]),
}

/// A read-only tensor of one of the [`Dtype`]s, flattened (gradients).
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum TensorRef<'t> {
    /// float32.
    F32(&'t [f32]),
    /// float64.
    F64(&'t [f64]),
    /// bfloat16.
    Bf16(&'t [Bf16]),
    /// float16.
    F16(&'t [F16]),
}

impl TensorMut<'_> {
    /// The element type.
    pub fn dtype(&self) -> Dtype {
        match self {
            TensorMut::F32(_) => Dtype::F32,
            TensorMut::F64(_) => Dtype::F64,
            TensorMut::Bf16(_) => Dtype::Bf16,
            TensorMut::F16(_) => Dtype::F16,
        }
    }

    /// Elements.
    pub fn len(&self) -> usize {
        match self {
            TensorMut::F32(t) => t.len(),
            TensorMut::F64(t) => t.len(),
            TensorMut::Bf16(t) => t.len(),
            TensorMut::F16(t) => t.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl TensorRef<'_> {
    /// The element type.
    pub fn dtype(&self) -> Dtype {
        match self {
            TensorRef::F32(_) => Dtype::F32,
            TensorRef::F64(_) => Dtype::F64,
            TensorRef::Bf16(_) => Dtype::Bf16,
            TensorRef::F16(_) => Dtype::F16,
        }
    }

    /// Elements.
    pub fn len(&self) -> usize {
        match self {
            TensorRef::F32(t) => t.len(),
            TensorRef::F64(t) => t.len(),
            TensorRef::Bf16(t) => t.len(),
            TensorRef::F16(t) => t.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `From` a slice of each element type, for both tensor kinds.
macro_rules! tensor_from {
    ($($t:ty => $v:ident),*) => {$(
        impl<'t> From<&'t mut [$t]> for TensorMut<'t> {
            fn from(t: &'t mut [$t]) -> Self {
                TensorMut::$v(t)
            }
        }
        impl<'t> From<&'t [$t]> for TensorRef<'t> {
            fn from(t: &'t [$t]) -> Self {
                TensorRef::$v(t)
            }
        }
    )*};
}
tensor_from!(f32 => F32, f64 => F64, Bf16 => Bf16, F16 => F16);

/// A caller-owned momentum buffer of any dtype and its "initialised" flag (as
/// [`crate::MomentumSlot`]).
#[derive(Debug)]
pub struct TypedMomentum<'t> {
    /// The buffer: the parameter's dtype, or f32 with a master copy.
    pub buffer: TensorMut<'t>,
    /// Whether `buffer` holds a momentum value (false before the parameter's first step).
    pub initialized: &'t mut bool,
}

/// One tensor of any dtype with its gradient, momentum state, optional f32 master copy and
/// rounding (the typed counterpart of [`crate::TensorSlot`]).
#[derive(Debug)]
pub struct TypedSlot<'t> {
    /// The parameter, updated in place.
    pub param: TensorMut<'t>,
    /// The gradient, the parameter's dtype (`None`: skipped entirely). Never written.
    pub grad: Option<TensorRef<'t>>,
    /// The momentum buffer; required when the group has momentum and a gradient is given.
    pub momentum: Option<TypedMomentum<'t>>,
    /// The f32 master copy of a bf16/f16 parameter: the rule updates it, and the parameter
    /// becomes it rounded.
    pub master: Option<&'t mut [f32]>,
    /// How the 16-bit results are rounded (stochastically only for bf16/f16 parameters).
    pub rounding: Rounding,
}

impl<'t> TypedSlot<'t> {
    /// A tensor without momentum state or master copy, rounded to nearest.
    pub fn new(param: impl Into<TensorMut<'t>>, grad: Option<TensorRef<'t>>) -> Self {
        Self {
            param: param.into(),
            grad,
            momentum: None,
            master: None,
            rounding: Rounding::default(),
        }
    }

    /// With a caller-owned momentum buffer.
    pub fn with_momentum(
        mut self,
        buffer: impl Into<TensorMut<'t>>,
        initialized: &'t mut bool,
    ) -> Self {
        self.momentum = Some(TypedMomentum { buffer: buffer.into(), initialized });
        self
    }

    /// With an f32 master copy.
    pub fn with_master(mut self, master: &'t mut [f32]) -> Self {
        self.master = Some(master);
        self
    }

    /// With this rounding.
    pub fn with_rounding(mut self, rounding: Rounding) -> Self {
        self.rounding = rounding;
        self
    }
}

/// One parameter group of typed tensors and its options (as [`crate::TensorGroup`]).
#[derive(Debug)]
pub struct TypedGroup<'g, 't> {
    /// The group's options for this step.
    pub config: SgdConfig,
    /// The group's tensors, in torch's `params` order.
    pub tensors: &'g mut [TypedSlot<'t>],
}

/// Whether the 16-bit kernels use conversion instructions beyond their backend's base ISA.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Conversions {
    /// Where the CPU has them: AVX512_BF16's `vcvtneps2bf16` for bf16 with
    /// [`crate::Backend::Avx512`], F16C for f16 with [`crate::Backend::Avx2`].
    #[default]
    Detected,
    /// Only the backend's base ISA: bf16 narrowing by integer operations (tests and benches
    /// compare both this way; the bits are the same).
    BaseIsa,
}

/// The options of a [`typed_step`]: those of every step, the stochastic rounding key and the
/// conversion instructions.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TypedStepOptions {
    /// Gradient scale, `found_inf`, backend, prefetch (as for [`crate::fused_step`]; the
    /// gradient scale divides 16-bit gradients in f32 and float64 gradients in f64).
    pub options: StepOptions,
    /// The seed of stochastic rounding (the Philox key, [`sgd_core::philox`]).
    pub seed: u64,
    /// The step number of stochastic rounding (counter word 3): a new value every step.
    pub step: u32,
    /// Which conversion instructions the 16-bit kernels use.
    pub conversions: Conversions,
}

/// The work of one tensor of any dtype (or a 64-element-aligned part of one).
#[derive(Debug)]
pub(crate) enum TypedPiece<'a> {
    F32(Piece<'a>),
    F64(WidePiece<'a>),
    Bf16(HalfPiece<'a, Bf16>),
    F16(HalfPiece<'a, F16>),
}

impl TypedPiece<'_> {
    /// Elements of this piece.
    #[cfg(feature = "std")]
    pub(crate) fn len(&self) -> usize {
        match self {
            TypedPiece::F32(p) => p.param.len(),
            TypedPiece::F64(p) => p.len(),
            TypedPiece::Bf16(p) => p.len(),
            TypedPiece::F16(p) => p.len(),
        }
    }

    /// Splits at element `mid` (`mid <= len`); the stochastic rounding stream of the second
    /// part starts at its first element.
    #[cfg(feature = "std")]
    pub(crate) fn split_at(self, mid: usize) -> (Self, Self) {
        match self {
            TypedPiece::F32(p) => {
                let (a, b) = p.split_at(mid);
                (TypedPiece::F32(a), TypedPiece::F32(b))
            }
            TypedPiece::F64(p) => {
                let (a, b) = p.split_at(mid);
                (TypedPiece::F64(a), TypedPiece::F64(b))
            }
            TypedPiece::Bf16(p) => {
                let (a, b) = p.split_at(mid);
                (TypedPiece::Bf16(a), TypedPiece::Bf16(b))
            }
            TypedPiece::F16(p) => {
                let (a, b) = p.split_at(mid);
                (TypedPiece::F16(a), TypedPiece::F16(b))
            }
        }
    }
}

/// Validates everything a typed step reads before anything is written.
pub(crate) fn validate_typed(
    groups: &[TypedGroup<'_, '_>],
    opts: &TypedStepOptions,
) -> Result<Plan, SgdError> {
    let kernel =
        validate_options(&opts.options)?.with_extensions(opts.conversions == Conversions::Detected);
    let mut plan = Plan { kernel, tensors: 0, elements: 0 };
    let mut working_set = 0usize;
    let mut tensor = 0;
    for (gi, group) in groups.iter().enumerate() {
        group.config.validate_values(gi)?;
        let has_momentum = group.config.momentum != 0.0;
        for slot in group.tensors.iter() {
            if let Some(grad) = slot.grad {
                let params = slot.param.len();
                let dtypes = TensorDtypes {
                    param: slot.param.dtype(),
                    grad: grad.dtype(),
                    buffer: slot.momentum.as_ref().map(|m| m.buffer.dtype()),
                    master: slot.master.as_ref().map(|m| m.len()),
                    rounding: slot.rounding,
                };
                check_tensor(tensor, params, &dtypes)?;
                if grad.len() != params {
                    return Err(SgdError::LengthMismatch { tensor, params, grads: grad.len() });
                }
                let mut bytes = dtypes.param.size() * 2 + if slot.master.is_some() { 4 } else { 0 };
                if has_momentum {
                    let Some(m) = &slot.momentum else {
                        return Err(SgdError::MissingMomentumBuffer { tensor });
                    };
                    if m.buffer.len() != params {
                        return Err(SgdError::MomentumBufferLength {
                            tensor,
                            params,
                            buffer: m.buffer.len(),
                        });
                    }
                    bytes += m.buffer.dtype().size();
                }
                plan.tensors += 1;
                plan.elements += params;
                working_set = working_set.saturating_add(params.saturating_mul(bytes));
            }
            tensor += 1;
        }
    }
    plan.kernel = plan.kernel.with_prefetch(opts.options.prefetch.applies(working_set));
    let _: fn(usize, bool) -> usize = Prefetch::working_set; // the f32 rule of the same count
    Ok(plan)
}

/// The piece of one validated slot (`None` for a slot without gradient).
fn piece<'a>(
    s: StepScalars,
    s64: &StepScalars64,
    slot: &'a mut TypedSlot<'_>,
    sr: SrStream,
) -> Option<TypedPiece<'a>> {
    let grad = slot.grad?;
    let first = slot.momentum.as_ref().map(|m| !*m.initialized);
    let buffer = match &mut slot.momentum {
        Some(m) if s.has_momentum => Some(&mut m.buffer),
        _ => None,
    };
    let sr = (slot.rounding == Rounding::Stochastic).then_some(sr);
    let first = first.unwrap_or(true);
    Some(match (&mut slot.param, grad, buffer, slot.master.as_deref_mut()) {
        (TensorMut::F32(param), TensorRef::F32(grad), buf, None) => {
            let buf = match buf {
                Some(TensorMut::F32(b)) => Some(MomentumBuffer::new(b, first)),
                _ => None,
            };
            TypedPiece::F32(Piece { s, param, grad, buf })
        }
        (TensorMut::F64(param), TensorRef::F64(grad), buf, None) => {
            let buf = match buf {
                Some(TensorMut::F64(b)) => Some(MomentumBuffer::new(b, first)),
                _ => None,
            };
            TypedPiece::F64(WidePiece { s: *s64, param, grad, buf })
        }
        (TensorMut::Bf16(param), TensorRef::Bf16(grad), buf, master) => {
            let tail = tail_start(param.len(), master.is_some());
            let store = half_store(buf, master, first)?;
            TypedPiece::Bf16(HalfPiece { s, param, grad, store, sr, tail })
        }
        (TensorMut::F16(param), TensorRef::F16(grad), buf, master) => {
            let tail = tail_start(param.len(), master.is_some());
            let store = half_store(buf, master, first)?;
            TypedPiece::F16(HalfPiece { s, param, grad, store, sr, tail })
        }
        // `validate_typed` rejected every other combination.
        _ => return None,
    })
}

/// Where torch's scalar tail starts in a 16-bit tensor: 16-bit storage only (the master mode's
/// reference is torch's single-tensor path).
fn tail_start(numel: usize, master: bool) -> usize {
    if master { numel } else { sgd_core::precision::fused_tail_start(numel) }
}

/// Where a validated 16-bit tensor keeps its state (`None`: a combination validation rejects).
fn half_store<'a, H: HalfSlice>(
    buf: Option<&'a mut TensorMut<'_>>,
    master: Option<&'a mut [f32]>,
    first: bool,
) -> Option<HalfStore<'a, H>> {
    Some(match (master, buf) {
        (Some(master), Some(TensorMut::F32(b))) => {
            HalfStore::Master { master, buf: Some(MomentumBuffer::new(b, first)) }
        }
        (Some(master), None) => HalfStore::Master { master, buf: None },
        (None, Some(b)) => HalfStore::Native(Some(MomentumBuffer::new(H::slice(b)?, first))),
        (None, None) => HalfStore::Native(None),
        (Some(_), Some(_)) => return None,
    })
}

/// The 16-bit slice of a [`TensorMut`] of this element type.
trait HalfSlice: Sized {
    fn slice<'a>(t: &'a mut TensorMut<'_>) -> Option<&'a mut [Self]>;
}

impl HalfSlice for Bf16 {
    fn slice<'a>(t: &'a mut TensorMut<'_>) -> Option<&'a mut [Self]> {
        match t {
            TensorMut::Bf16(b) => Some(&mut **b),
            _ => None,
        }
    }
}

impl HalfSlice for F16 {
    fn slice<'a>(t: &'a mut TensorMut<'_>) -> Option<&'a mut [Self]> {
        match t {
            TensorMut::F16(b) => Some(&mut **b),
            _ => None,
        }
    }
}

/// Calls `f` with the piece of every tensor that has a gradient, in order.
pub(crate) fn for_each_typed_piece<'a>(
    groups: &'a mut [TypedGroup<'_, '_>],
    opts: &TypedStepOptions,
    mut f: impl FnMut(TypedPiece<'a>),
) {
    let mut tensor = 0usize;
    for group in groups.iter_mut() {
        let s = StepScalars::from_config(&group.config);
        let s64 = StepScalars64::from_config(&group.config);
        for slot in group.tensors.iter_mut() {
            // The counter word of the tensor: its flat index (modulo 2^32).
            #[allow(clippy::cast_possible_truncation)]
            let sr =
                SrStream { seed: opts.seed, step: opts.step, tensor: tensor as u32, offset: 0 };
            if let Some(p) = piece(s, &s64, slot, sr) {
                f(p);
            }
            tensor += 1;
        }
    }
}

/// After a step that ran: every updated tensor of a group with momentum has its buffer now.
pub(crate) fn mark_typed_initialized(groups: &mut [TypedGroup<'_, '_>]) {
    for group in groups.iter_mut() {
        if group.config.momentum == 0.0 {
            continue;
        }
        for slot in group.tensors.iter_mut() {
            if let (Some(_), Some(m)) = (slot.grad, &mut slot.momentum) {
                *m.initialized = true;
            }
        }
    }
}

/// One fused SGD step over caller-owned tensors of any dtype ([`TypedSlot`]), on the calling
/// thread (no allocation; works without `std`; multi-threaded: [`crate::ThreadPool::typed_step`]).
/// float32 tensors take exactly the path of [`crate::fused_step`]; the others the rules in the
/// module table, on the same backend.
///
/// Everything is validated first, nothing is written on error: the options of every group,
/// then per tensor with a gradient its dtypes ([`sgd_core::check_tensor`]: gradient dtype,
/// master copy dtype and length, buffer dtype, stochastic rounding only for bf16/f16), the
/// gradient length, the momentum buffer's presence and length; the gradient scale and backend.
///
/// Stochastic rounding uses the Philox stream of `(opts.seed, opts.step, tensor, element)`,
/// `tensor` the flat index over all groups: the same bits on every backend and thread count.
///
/// # Errors
/// The first problem found: [`SgdError::Precision`] for dtypes and master copies, else as
/// [`crate::fused_step`].
pub fn typed_step(
    groups: &mut [TypedGroup<'_, '_>],
    opts: &TypedStepOptions,
) -> Result<StepOutcome, SgdError> {
    let plan = validate_typed(groups, opts)?;
    if opts.options.found_inf {
        return Ok(StepOutcome::SkippedFoundInf);
    }
    let grad_scale = opts.options.grad_scale;
    for_each_typed_piece(groups, opts, |p| plan.kernel.run_typed(p, grad_scale));
    mark_typed_initialized(groups);
    Ok(plan.outcome())
}

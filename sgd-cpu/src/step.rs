//! The fused step over caller-owned tensors: validation first, then one pass over memory.
use crate::backend::Kernel;
use crate::scalar::MomentumBuffer;
use crate::{Backend, Prefetch, SgdError, StepScalars, TensorGroup};

/// Per-step options besides the group hyper-parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepOptions {
    /// Mixed precision (torch's fused `grad_scale`): every gradient element is divided by this
    /// value inside the pass (a true IEEE division) before anything else. The gradients
    /// themselves are not modified (torch's fused kernels also write the unscaled gradient
    /// back into `p.grad`; this crate's gradients are read-only).
    pub grad_scale: Option<f32>,
    /// torch's fused `found_inf == 1.0`: the step is skipped entirely, every parameter, momentum
    /// buffer and "initialised" flag is left as it was (input is still validated first).
    pub found_inf: bool,
    /// Backend to use instead of [`Backend::active`] (tests and benches force one this way).
    pub backend: Option<Backend>,
    /// Whether the SIMD main loop prefetches; [`Prefetch::Auto`] decides by the working set of
    /// the whole step (all tensors with a gradient), whatever the thread count.
    pub prefetch: Prefetch,
}

/// What a successful step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepOutcome {
    /// The update ran.
    Applied {
        /// Tensors updated (those with a gradient).
        tensors: usize,
        /// Elements updated.
        elements: usize,
        /// Backend that ran.
        backend: Backend,
    },
    /// `found_inf` was set: nothing was written.
    SkippedFoundInf,
}

/// The work of one tensor (or a 64-element-aligned part of one): disjoint borrows, so pieces
/// can be handed to different threads.
#[derive(Debug)]
pub(crate) struct Piece<'a> {
    pub(crate) s: StepScalars,
    pub(crate) param: &'a mut [f32],
    pub(crate) grad: &'a [f32],
    pub(crate) buf: Option<MomentumBuffer<'a>>,
}

impl Piece<'_> {
    /// Elements of this piece.
    #[cfg(feature = "std")]
    pub(crate) fn len(&self) -> usize {
        self.param.len()
    }

    /// Runs the kernel on this piece.
    #[inline]
    pub(crate) fn run(self, kernel: Kernel, grad_scale: Option<f32>) {
        kernel.run(self, grad_scale);
    }
}

/// [`MomentumBuffer::split_at`] of an optional buffer.
#[cfg(any(feature = "std", target_arch = "x86_64", target_arch = "aarch64"))]
pub(crate) fn split_buffer<T>(
    buf: Option<MomentumBuffer<'_, T>>,
    mid: usize,
) -> (Option<MomentumBuffer<'_, T>>, Option<MomentumBuffer<'_, T>>) {
    match buf {
        Some(b) => {
            let (b0, b1) = b.split_at(mid);
            (Some(b0), Some(b1))
        }
        None => (None, None),
    }
}

/// Totals of a validated step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    pub(crate) kernel: Kernel,
    pub(crate) tensors: usize,
    pub(crate) elements: usize,
}

impl Plan {
    pub(crate) fn outcome(&self) -> StepOutcome {
        StepOutcome::Applied {
            tensors: self.tensors,
            elements: self.elements,
            backend: self.kernel.backend(),
        }
    }
}

/// Checks the step options: gradient scale and backend.
pub(crate) fn validate_options(opts: &StepOptions) -> Result<Kernel, SgdError> {
    if let Some(scale) = opts.grad_scale
        && !(scale.is_finite() && scale != 0.0)
    {
        return Err(SgdError::InvalidGradScale { scale });
    }
    Kernel::new(opts.backend.unwrap_or_else(Backend::active))
}

/// Validates everything a step reads before anything is written.
pub(crate) fn validate_groups(
    groups: &[TensorGroup<'_, '_>],
    opts: &StepOptions,
) -> Result<Plan, SgdError> {
    let kernel = validate_options(opts)?;
    let mut plan = Plan { kernel, tensors: 0, elements: 0 };
    let mut working_set = 0usize;
    let mut tensor = 0;
    for (gi, group) in groups.iter().enumerate() {
        group.config.validate_values(gi)?;
        let has_momentum = group.config.momentum != 0.0;
        for slot in group.tensors.iter() {
            if let Some(grad) = slot.grad {
                let params = slot.param.len();
                if grad.len() != params {
                    return Err(SgdError::LengthMismatch { tensor, params, grads: grad.len() });
                }
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
                }
                plan.tensors += 1;
                plan.elements += params;
                working_set =
                    working_set.saturating_add(Prefetch::working_set(params, has_momentum));
            }
            tensor += 1;
        }
    }
    plan.kernel = kernel.with_prefetch(opts.prefetch.applies(working_set));
    Ok(plan)
}

/// Calls `f` with the piece of every tensor that has a gradient, in order.
pub(crate) fn for_each_piece<'a>(
    groups: &'a mut [TensorGroup<'_, '_>],
    mut f: impl FnMut(Piece<'a>),
) {
    for group in groups.iter_mut() {
        let s = StepScalars::from_config(&group.config);
        for slot in group.tensors.iter_mut() {
            let Some(grad) = slot.grad else { continue };
            let buf = match &mut slot.momentum {
                Some(m) if s.has_momentum => {
                    Some(MomentumBuffer::new(&mut *m.buffer, !*m.initialized))
                }
                _ => None,
            };
            f(Piece { s, param: &mut *slot.param, grad, buf });
        }
    }
}

/// After a step that ran: every updated tensor of a group with momentum has its buffer now.
pub(crate) fn mark_initialized(groups: &mut [TensorGroup<'_, '_>]) {
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

/// One fused SGD step over caller-owned tensors, on the calling thread (no allocation; works
/// without `std`). Semantics: `torch.optim.SGD.step()` (`SPEC.md` §4.2) for every group in
/// order, with the group's `config` read now (set `config.lr` from a scheduler each step).
///
/// Everything is validated first ([`SgdConfig::validate_values`](crate::SgdConfig::validate_values)
/// per group, gradient and buffer lengths, the gradient scale, the backend); on error nothing
/// has been written. With `opts.found_inf` the step is then skipped.
///
/// # Errors
/// The first problem found, naming the group or tensor (tensor indices count across groups).
pub fn fused_step(
    groups: &mut [TensorGroup<'_, '_>],
    opts: &StepOptions,
) -> Result<StepOutcome, SgdError> {
    let plan = validate_groups(groups, opts)?;
    if opts.found_inf {
        return Ok(StepOutcome::SkippedFoundInf);
    }
    for_each_piece(groups, |piece| piece.run(plan.kernel, opts.grad_scale));
    mark_initialized(groups);
    Ok(plan.outcome())
}

//! Caller-owned tensors of one parameter group: the zero-copy description of a step.
use crate::SgdConfig;

/// One parameter group's tensors and its options for this step (with this step's lr), like a
/// dict in torch's `param_groups`. (`sched_core::ParamGroup` is the other half of such a dict:
/// the lr state a scheduler reads and writes.)
#[derive(Debug)]
pub struct TensorGroup<'g, 't> {
    /// The group's options for this step.
    pub config: SgdConfig,
    /// The group's tensors, in torch's `params` order.
    pub tensors: &'g mut [TensorSlot<'t>],
}

/// One parameter tensor (flattened to f32) with its gradient and momentum state.
#[derive(Debug)]
pub struct TensorSlot<'t> {
    /// The parameter, updated in place.
    pub param: &'t mut [f32],
    /// The gradient (`None` = torch's `p.grad is None`: the tensor is skipped entirely).
    /// Never written.
    pub grad: Option<&'t [f32]>,
    /// The momentum buffer; required when the group has `momentum != 0` and a gradient is given.
    pub momentum: Option<MomentumSlot<'t>>,
}

/// A caller-owned momentum buffer and its "initialised" flag (torch: the buffer exists).
///
/// While `initialized` is false the next step copies the gradient into `buffer` (first step of
/// this parameter, no momentum and no dampening) and sets the flag.
#[derive(Debug)]
pub struct MomentumSlot<'t> {
    /// The buffer, as many elements as the parameter.
    pub buffer: &'t mut [f32],
    /// Whether `buffer` holds a momentum value (false before the parameter's first step).
    pub initialized: &'t mut bool,
}

impl<'t> TensorSlot<'t> {
    /// A tensor without momentum state.
    pub fn new(param: &'t mut [f32], grad: Option<&'t [f32]>) -> Self {
        Self { param, grad, momentum: None }
    }

    /// A tensor with a caller-owned momentum buffer.
    pub fn with_momentum(
        param: &'t mut [f32],
        grad: Option<&'t [f32]>,
        buffer: &'t mut [f32],
        initialized: &'t mut bool,
    ) -> Self {
        Self { param, grad, momentum: Some(MomentumSlot { buffer, initialized }) }
    }
}

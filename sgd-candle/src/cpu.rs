//! The fused pass over candle CPU tensors: every variable's storage borrowed mutably at once,
//! then one `sgd_cpu` step over all of them.
//!
//! candle hands out a mutable storage only inside an in-place op (`Tensor::inplace_op2`), one
//! tensor at a time. So the pass nests: the op of variable `i` records its parameter and
//! gradient slices and runs the op of variable `i + 1` from inside; the innermost level holds
//! every slice and runs the step. Each level costs a few KiB of stack (more in debug builds), so
//! the depth is bounded by [`MAX_NESTED`]: larger models are stepped in several fused passes of
//! at most that many tensors (same bits: the update is elementwise).

use std::sync::Mutex;

use candle_core::{CpuStorage, InplaceOp2, Layout, Tensor};

/// Tensors per fused pass (each is one level of nested in-place ops on the stack: 32 levels fit
/// a 2 MiB thread stack in a debug build with room to spare).
pub const MAX_NESTED: usize = 32;

/// A parameter and its gradient as the innermost level sees them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawTensor {
    pub(crate) param: *mut f32,
    pub(crate) grad: *const f32,
    pub(crate) len: usize,
}

/// The step to run with all slices: gets them in the order of the pairs given to [`nested`].
pub(crate) type Leaf<'l> = dyn FnMut(&[RawTensor]) -> Result<(), candle_core::Error> + 'l;

/// Borrows `pairs[i] = (param, grad)` mutably (parameters) and shared (gradients), all at once,
/// and calls `leaf` with their slices. Every tensor must be an f32 CPU tensor with a
/// contiguous layout (checked again here; the caller checked before).
pub(crate) fn nested(pairs: &[(Tensor, Tensor)], leaf: &mut Leaf<'_>) -> candle_core::Result<()> {
    let mut held = Vec::with_capacity(pairs.len());
    descend(pairs, &mut held, leaf)
}

fn descend(
    pairs: &[(Tensor, Tensor)],
    held: &mut Vec<RawTensor>,
    leaf: &mut Leaf<'_>,
) -> candle_core::Result<()> {
    let Some(((param, grad), rest)) = pairs.split_first() else {
        return leaf(held);
    };
    let op = Level { rest, state: Mutex::new((held, leaf)) };
    param.inplace_op2(grad, &op)
}

/// One level of the nesting: the in-place op of one parameter.
struct Level<'a, 'l> {
    rest: &'a [(Tensor, Tensor)],
    state: Mutex<(&'a mut Vec<RawTensor>, &'a mut Leaf<'l>)>,
}

/// `(offset, len)` of a contiguous layout.
fn span(l: &Layout) -> candle_core::Result<(usize, usize)> {
    l.contiguous_offsets()
        .map(|(start, end)| (start, end - start))
        .ok_or_else(|| candle_core::Error::Msg("sgd-candle: non-contiguous tensor".into()))
}

impl InplaceOp2 for Level<'_, '_> {
    fn name(&self) -> &'static str {
        "sgd-candle-fused-step"
    }

    fn cpu_fwd(
        &self,
        param: &mut CpuStorage,
        param_layout: &Layout,
        grad: &CpuStorage,
        grad_layout: &Layout,
    ) -> candle_core::Result<()> {
        let (CpuStorage::F32(p), CpuStorage::F32(g)) = (param, grad) else {
            candle_core::bail!("sgd-candle: parameters and gradients must be f32");
        };
        let ((p_at, p_len), (g_at, g_len)) = (span(param_layout)?, span(grad_layout)?);
        let (Some(p), Some(g)) = (p.get_mut(p_at..p_at + p_len), g.get(g_at..g_at + g_len)) else {
            candle_core::bail!("sgd-candle: layout outside its storage");
        };
        if p.len() != g.len() {
            candle_core::bail!(
                "sgd-candle: gradient length {} for {} parameters",
                g.len(),
                p.len()
            );
        }
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (held, leaf) = &mut *state;
        held.push(RawTensor { param: p.as_mut_ptr(), grad: g.as_ptr(), len: p.len() });
        let result = descend(self.rest, held, &mut **leaf);
        held.pop();
        result
    }
}

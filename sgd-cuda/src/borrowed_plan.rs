//! [`BorrowedPlan`]: the checked tables of one step over [`BorrowedTensor`]s (pure, host only).

use std::vec::Vec;

use sgd_core::{Rounding, SgdConfig, check_tensor};

use crate::TensorKind;
use crate::borrowed_tensor::BorrowedTensor;
use crate::error::{CudaSgdError, GroupError, TensorError};
use crate::kernel_tables::{DeviceTensorTable, TensorSpec};

/// The tables of one step, ready to upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BorrowedPlan {
    /// Tensor table and chunk list.
    pub table: DeviceTensorTable,
    /// One word per chunk: 1 where the chunk's tensor takes its first momentum step.
    pub chunk_first: Vec<u32>,
    /// Whether a tensor is not float32: the step needs `sgd_multi_tensor_typed`.
    pub typed: bool,
}

impl BorrowedPlan {
    /// Checks a step's tensors against the groups and builds its tables (pure, host only):
    /// every group index exists, every tensor's dtypes fit together ([`sgd_core::check_tensor`]:
    /// gradient and buffer dtypes, master copy only for bf16/f16 and of the tensor's length,
    /// stochastic rounding only for bf16/f16), every tensor of a group with momentum has a
    /// buffer, no written range (parameters, momentum buffers, master copies) overlaps another
    /// range of the step, addresses are aligned to their elements (by
    /// [`DeviceTensorTable::build`]).
    ///
    /// # Errors
    /// [`GroupError::Unknown`], [`CudaSgdError::Precision`], [`TensorError::MissingMomentumBuffer`],
    /// [`TensorError::Overlap`], and the errors of [`DeviceTensorTable::build`].
    pub fn new(
        groups: &[SgdConfig],
        tensors: &[BorrowedTensor],
        chunk_elems: usize,
    ) -> Result<Self, CudaSgdError> {
        let mut kinds = Vec::with_capacity(tensors.len());
        for (i, t) in tensors.iter().enumerate() {
            let Some(g) = groups.get(t.group) else {
                let (group, groups) = (t.group, groups.len());
                return Err(GroupError::Unknown { tensor: Some(i), group, groups }.into());
            };
            let mode = check_tensor(i, t.len, &t.precision.dtypes(t.momentum.is_some()))?;
            if g.momentum != 0.0 && t.momentum.is_none() {
                return Err(TensorError::MissingMomentumBuffer { tensor: i }.into());
            }
            kinds.push(TensorKind::of(mode));
        }
        check_overlaps(tensors, &kinds)?;
        let specs: Vec<TensorSpec> = tensors
            .iter()
            .zip(&kinds)
            .enumerate()
            .map(|(i, (t, &kind))| TensorSpec {
                group: t.group,
                len: t.len,
                param: t.param,
                grad: t.grad,
                momentum: t.momentum,
                has_grad: true,
                kind,
                master: t.precision.master.map(|m| m.address),
                stochastic: t.precision.rounding == Rounding::Stochastic,
                // The counter word of the tensor: its position (modulo 2^32), as sgd-cpu counts.
                #[allow(clippy::cast_possible_truncation)]
                sr_tensor: t.precision.sr_tensor.unwrap_or(i as u32),
            })
            .collect();
        let table = DeviceTensorTable::build(&specs, groups.len(), chunk_elems)?;
        let mut chunk_first = std::vec![0u32; table.num_chunks()];
        for (i, t) in tensors.iter().enumerate() {
            if t.first_step {
                chunk_first[table.chunk_start[i]..table.chunk_start[i + 1]].fill(1);
            }
        }
        let typed = kinds.iter().any(|&k| k != TensorKind::F32);
        Ok(Self { table, chunk_first, typed })
    }
}

/// No written byte range (parameters, momentum buffers, master copies) may overlap any other
/// range of the step; gradients may share memory (they are only read).
fn check_overlaps(tensors: &[BorrowedTensor], kinds: &[TensorKind]) -> Result<(), TensorError> {
    // Byte ranges: (start, end, tensor, written).
    let bytes = |addr: u64, len: usize, size: usize| {
        (addr, addr.saturating_add((len as u64).saturating_mul(size as u64)))
    };
    let mut ranges: Vec<(u64, u64, usize, bool)> = Vec::with_capacity(4 * tensors.len());
    for (i, (t, kind)) in tensors.iter().zip(kinds).enumerate().filter(|(_, (t, _))| t.len > 0) {
        let size = kind.element_size();
        let (a, b) = bytes(t.param, t.len, size);
        ranges.push((a, b, i, true));
        let (a, b) = bytes(t.grad, t.len, size);
        ranges.push((a, b, i, false));
        if let Some(m) = t.momentum {
            let (a, b) = bytes(m, t.len, kind.buffer_element_size());
            ranges.push((a, b, i, true));
        }
        if let Some(m) = t.precision.master {
            let (a, b) = bytes(m.address, t.len, 4);
            ranges.push((a, b, i, true));
        }
    }
    ranges.sort_unstable();
    // After sorting by start, a written range overlapping anything overlaps a neighbour in
    // the sweep: keep the range reaching furthest so far.
    let mut reach: Option<(u64, usize, bool)> = None;
    for &(start, end, tensor, written) in &ranges {
        if let Some((far, other, other_written)) = reach
            && start < far
            && (written || other_written)
        {
            return Err(TensorError::Overlap {
                tensor: tensor.max(other),
                other: tensor.min(other),
            });
        }
        if reach.is_none_or(|(far, _, _)| end > far) {
            reach = Some((end, tensor, written));
        }
    }
    Ok(())
}

//! [`BorrowedPlan`]: the checked tables of one step over [`BorrowedTensor`]s (pure, host only).

use std::vec::Vec;

use sgd_core::SgdConfig;

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
}

impl BorrowedPlan {
    /// Checks a step's tensors against the groups and builds its tables (pure, host only):
    /// every group index exists, every tensor of a group with momentum has a buffer, no written
    /// range (parameters, momentum buffers) overlaps another range of the step, addresses are
    /// f32-aligned (by [`DeviceTensorTable::build`]).
    ///
    /// # Errors
    /// [`GroupError::Unknown`], [`TensorError::MissingMomentumBuffer`],
    /// [`TensorError::Overlap`], and the errors of [`DeviceTensorTable::build`].
    pub fn new(
        groups: &[SgdConfig],
        tensors: &[BorrowedTensor],
        chunk_elems: usize,
    ) -> Result<Self, CudaSgdError> {
        for (i, t) in tensors.iter().enumerate() {
            let Some(g) = groups.get(t.group) else {
                let (group, groups) = (t.group, groups.len());
                return Err(GroupError::Unknown { tensor: Some(i), group, groups }.into());
            };
            if g.momentum != 0.0 && t.momentum.is_none() {
                return Err(TensorError::MissingMomentumBuffer { tensor: i }.into());
            }
        }
        check_overlaps(tensors)?;
        let specs: Vec<TensorSpec> = tensors
            .iter()
            .map(|t| TensorSpec {
                group: t.group,
                len: t.len,
                param: t.param,
                grad: t.grad,
                momentum: t.momentum,
                has_grad: true,
            })
            .collect();
        let table = DeviceTensorTable::build(&specs, groups.len(), chunk_elems)?;
        let mut chunk_first = std::vec![0u32; table.num_chunks()];
        for (i, t) in tensors.iter().enumerate() {
            if t.first_step {
                chunk_first[table.chunk_start[i]..table.chunk_start[i + 1]].fill(1);
            }
        }
        Ok(Self { table, chunk_first })
    }
}

/// No written byte range (parameters, momentum buffers) may overlap any other range of the
/// step; gradients may share memory (they are only read).
fn check_overlaps(tensors: &[BorrowedTensor]) -> Result<(), TensorError> {
    // Byte ranges: (start, end, tensor, written).
    let bytes = |addr: u64, len: usize| (addr, addr.saturating_add(4 * len as u64));
    let mut ranges: Vec<(u64, u64, usize, bool)> = Vec::with_capacity(3 * tensors.len());
    for (i, t) in tensors.iter().enumerate().filter(|(_, t)| t.len > 0) {
        let (a, b) = bytes(t.param, t.len);
        ranges.push((a, b, i, true));
        let (a, b) = bytes(t.grad, t.len);
        ranges.push((a, b, i, false));
        if let Some(m) = t.momentum {
            let (a, b) = bytes(m, t.len);
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

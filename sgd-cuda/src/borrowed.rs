//! [`BorrowedSgd`]: the fused step over device tensors that belong to the caller (a
//! framework's storage such as candle's or PyTorch's, a C program's allocations). Their
//! addresses come with every step, the tables are rebuilt and uploaded per step (a few bytes
//! per tensor), and the caller keeps each momentum buffer's "initialised" flag, as with
//! sgd-cpu's caller-owned step.
//!
//! The host side ([`plan`]) is pure Rust and tested without a GPU; the launch is the same
//! kernel and launch path as [`crate::CudaSgd`].

use std::sync::Arc;
use std::vec::Vec;

use cudarc::driver::{CudaFunction, CudaSlice, CudaStream};
use sgd_core::SgdConfig;

use crate::sgd::{self, KernelArgs, address, upload, upload_table};
use crate::table::{self, DeviceTensorTable, TensorSpec};
use crate::{CudaSgdError, CudaSgdOptions};

/// One tensor of a step: device addresses of `len` f32 each (parameters and momentum are
/// written, the gradient only read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BorrowedTensor {
    /// Parameter group index.
    pub group: usize,
    /// Elements.
    pub len: usize,
    /// Address of the first parameter.
    pub param: u64,
    /// Address of the first gradient element.
    pub grad: u64,
    /// Address of the first momentum-buffer element: required in a group with momentum.
    pub momentum: Option<u64>,
    /// The buffer holds no value yet (the first step of this parameter copies the gradient
    /// into it, torch's `momentum_buffer is None`). The caller sets its flag to initialised
    /// after a step that ran.
    pub first_step: bool,
}

/// The tables of one step, ready to upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BorrowedPlan {
    /// Tensor table and chunk list.
    pub table: DeviceTensorTable,
    /// One word per chunk: 1 where the chunk's tensor takes its first momentum step.
    pub chunk_first: Vec<u32>,
}

/// Checks a step's tensors against the groups and builds its tables (pure, host only):
/// every group index exists, every tensor of a group with momentum has a buffer, no written
/// range (parameters, momentum buffers) overlaps another range of the step, addresses are
/// f32-aligned (by [`DeviceTensorTable::build`]).
///
/// # Errors
/// [`CudaSgdError::UnknownGroup`], [`CudaSgdError::MissingMomentumBuffer`],
/// [`CudaSgdError::Overlap`], and the errors of [`DeviceTensorTable::build`].
pub fn plan(
    groups: &[SgdConfig],
    tensors: &[BorrowedTensor],
    chunk_elems: usize,
) -> Result<BorrowedPlan, CudaSgdError> {
    for (i, t) in tensors.iter().enumerate() {
        let Some(g) = groups.get(t.group) else {
            return Err(CudaSgdError::UnknownGroup {
                tensor: i,
                group: t.group,
                groups: groups.len(),
            });
        };
        if g.momentum != 0.0 && t.momentum.is_none() {
            return Err(CudaSgdError::MissingMomentumBuffer { tensor: i });
        }
    }
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
            return Err(CudaSgdError::Overlap {
                tensor: tensor.max(other),
                other: tensor.min(other),
            });
        }
        if reach.is_none_or(|(far, _, _)| end > far) {
            reach = Some((end, tensor, written));
        }
    }
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
    let mut chunk_first = vec![0u32; table.num_chunks()];
    for (i, t) in tensors.iter().enumerate() {
        if t.first_step {
            chunk_first[table.chunk_start[i]..table.chunk_start[i + 1]].fill(1);
        }
    }
    Ok(BorrowedPlan { table, chunk_first })
}

/// A fused multi-tensor SGD step over borrowed device tensors on one stream (see the module
/// docs). Owns only its small tables and the compiled kernel.
pub struct BorrowedSgd {
    stream: Arc<CudaStream>,
    func: CudaFunction,
    options: CudaSgdOptions,
    groups: Vec<SgdConfig>,
    /// The [`table::GroupEntry`] table, as bytes.
    d_groups: CudaSlice<u8>,
    d_neg_lrs: CudaSlice<f32>,
    neg_lrs: Vec<f32>,
    /// `[grad_scale, found_inf = 0]` on the device while gradient scaling is on.
    d_scaler: Option<CudaSlice<f32>>,
}

impl BorrowedSgd {
    /// The optimizer for `groups` on `stream`: validates every group's options as
    /// `torch.optim.SGD` does ([`crate::validate_groups`]) and the launch shape, compiles (or
    /// finds) the kernel for the stream's device, uploads the group table.
    ///
    /// # Errors
    /// [`CudaSgdError::Config`], [`CudaSgdError::BadLaunchShape`], compile and driver errors.
    pub fn new(
        stream: Arc<CudaStream>,
        groups: Vec<SgdConfig>,
        options: CudaSgdOptions,
    ) -> Result<Self, CudaSgdError> {
        sgd::validate_groups(&groups)?;
        sgd::validate_launch_shape(&options)?;
        let func = sgd::sgd_function(&stream, &options)?;
        let d_groups = upload_table(&stream, &table::group_entries(&groups), "upload group table")?;
        let d_neg_lrs = upload(&stream, &vec![0.0f32; groups.len()], "upload learning rates")?;
        Ok(Self {
            stream,
            func,
            options,
            groups,
            d_groups,
            d_neg_lrs,
            neg_lrs: Vec::new(),
            d_scaler: None,
        })
    }

    /// The stream every step is enqueued on.
    pub fn stream(&self) -> &Arc<CudaStream> {
        &self.stream
    }

    /// Sets group `group`'s learning rate (the next step uses it).
    ///
    /// # Errors
    /// [`CudaSgdError::NoSuchGroup`], [`CudaSgdError::Config`] for an invalid lr.
    pub fn set_lr(&mut self, group: usize, lr: f64) -> Result<(), CudaSgdError> {
        let groups = self.groups.len();
        let g = self.groups.get_mut(group).ok_or(CudaSgdError::NoSuchGroup { group, groups })?;
        SgdConfig { lr, ..*g }.validate(group)?;
        g.lr = lr;
        Ok(())
    }

    /// Replaces every group's options (learning rates included), validated first as in
    /// [`BorrowedSgd::new`]; the group table is uploaded again (in stream order) only when an
    /// option it holds changed, compared bit for bit (`-0.0` is not `0.0`). For schedules that
    /// move momentum every step (OneCycleLR, CyclicLR).
    ///
    /// # Errors
    /// [`CudaSgdError::LrCount`] for another number of groups than at construction (nothing
    /// changes then), [`CudaSgdError::Config`], driver errors.
    pub fn set_groups(&mut self, groups: &[SgdConfig]) -> Result<(), CudaSgdError> {
        if groups.len() != self.groups.len() {
            return Err(CudaSgdError::LrCount { expected: self.groups.len(), got: groups.len() });
        }
        sgd::validate_groups(groups)?;
        let entries = table::group_entries(groups);
        let bytes: &[u8] = bytemuck::cast_slice(&entries);
        let current = table::group_entries(&self.groups);
        if bytes != bytemuck::cast_slice::<_, u8>(&current) {
            self.stream
                .memcpy_htod(bytes, &mut self.d_groups)
                .map_err(CudaSgdError::driver("upload group table"))?;
        }
        self.groups.copy_from_slice(groups);
        Ok(())
    }

    /// Divides every gradient by `scale` in the next steps (`__fdiv_rn`, torch's fused
    /// `grad_scale`); `None` turns it off. Uploads `[scale, 0.0]` in stream order: a host
    /// caller that knows of an inf or NaN simply does not step (torch's `found_inf`). The
    /// scale is not checked here (as `CudaSgd`'s device scaler, whose value comes from the
    /// device): a zero, infinite or NaN scale gives what IEEE division gives.
    ///
    /// # Errors
    /// Driver errors (the previous setting stays then).
    pub fn set_grad_scale(&mut self, scale: Option<f32>) -> Result<(), CudaSgdError> {
        self.d_scaler = match scale {
            None => None,
            Some(s) => Some(upload(&self.stream, &[s, 0.0], "upload grad scale")?),
        };
        Ok(())
    }

    /// One fused step over `tensors` (one launch): [`plan`]s and uploads the tables and the
    /// groups' `f32(-lr)`, then launches `sgd_multi_tensor_f32` on the stream. Returns when the
    /// work is enqueued.
    ///
    /// # Safety
    /// Every address in `tensors` must point into a live allocation of the stream's context
    /// holding `len` f32 from there, and nothing else may read or write the parameters and
    /// momentum buffers, or write the gradients, until the step has run in stream order
    /// (work enqueued on the same stream afterwards may).
    ///
    /// # Errors
    /// [`plan`]'s errors (nothing is enqueued then), driver errors.
    pub unsafe fn step(&mut self, tensors: &[BorrowedTensor]) -> Result<(), CudaSgdError> {
        let plan = plan(&self.groups, tensors, self.options.chunk())?;
        if plan.table.num_chunks() == 0 {
            return Ok(());
        }
        let lrs: Vec<f64> = self.groups.iter().map(|g| g.lr).collect();
        table::neg_lrs_into(&lrs, &mut self.neg_lrs);
        self.stream
            .memcpy_htod(self.neg_lrs.as_slice(), &mut self.d_neg_lrs)
            .map_err(CudaSgdError::driver("upload learning rates"))?;
        let d_tensors = upload_table(&self.stream, &plan.table.tensors, "upload tensor table")?;
        let d_chunks = upload_table(&self.stream, &plan.table.chunks, "upload chunk list")?;
        let d_chunk_first = upload(&self.stream, &plan.chunk_first, "upload chunk state")?;
        let s = &self.stream;
        let chunks = plan.table.num_chunks();
        let args = KernelArgs {
            tensors: address(&d_tensors, s),
            chunks: address(&d_chunks, s),
            // Fits: DeviceTensorTable::build rejects more than u32::MAX chunks.
            num_chunks: u32::try_from(chunks).unwrap_or(u32::MAX),
            chunk_elems: plan.table.chunk_elems as u64,
            groups: address(&self.d_groups, s),
            neg_lrs: address(&self.d_neg_lrs, s),
            chunk_first: address(&d_chunk_first, s),
            grad_scale: self.d_scaler.as_ref().map_or(0, |d| address(d, s)),
            found_inf: self.d_scaler.as_ref().map_or(0, |d| address(d, s) + 4),
            schedule: 0,
            grid: u32::try_from(chunks).unwrap_or(u32::MAX).min(i32::MAX as u32),
            block: self.options.block_threads,
        };
        // The tables are freed after the launch in stream order (cudarc frees on the stream).
        sgd::launch(&self.stream, &self.func, &args)
    }
}

//! [`FixedBorrowedSgd`]: the fused step over a fixed set of device tensors that belong to the
//! caller (PyTorch's CUDA tensors, a C program's allocations), on the caller's stream.
//!
//! Unlike [`crate::BorrowedSgd`], which takes the addresses with every step, the tensors are
//! given once: their tables are [`plan`]ned, checked and uploaded when the optimizer is made
//! and stay in device memory, so a step is one kernel launch (or one CUDA graph replay) and
//! may itself be captured into the caller's graph. The momentum buffers' "initialised" state
//! lives on the device from then on (the kernel clears it), and the gradient scaler
//! (`grad_scale`, `found_inf`) is read from the caller's device memory, as
//! `torch._fused_sgd_` reads it.

use std::sync::Arc;
use std::vec::Vec;

use cudarc::driver::sys::{CUgraphInstantiate_flags, CUstreamCaptureMode, CUstreamCaptureStatus};
use cudarc::driver::{CudaFunction, CudaGraph, CudaSlice, CudaStream};
use sgd_core::SgdConfig;

use crate::sgd::{self, KernelArgs, address, upload, upload_table};
use crate::table;
use crate::{BorrowedTensor, CudaSgdError, CudaSgdOptions, plan};

/// A fused multi-tensor SGD step over a fixed set of borrowed device tensors on one stream
/// (see the module docs). Owns its device tables, the per-group `f32(-lr)` and the compiled
/// kernel; borrows the tensors and the gradient scaler.
pub struct FixedBorrowedSgd {
    /// First field: dropped before the tables its kernel node points to.
    graph: Option<CudaGraph>,
    stream: Arc<CudaStream>,
    func: CudaFunction,
    groups: Vec<SgdConfig>,
    num_tensors: usize,
    num_chunks: usize,
    chunk_elems: usize,
    /// The [`table::TensorEntry`] table, as bytes (the tables are only kept alive here: the
    /// kernel arguments point to them).
    _d_tensors: CudaSlice<u8>,
    /// The [`table::ChunkEntry`] list, as bytes.
    _d_chunks: CudaSlice<u8>,
    /// The [`table::GroupEntry`] table, as bytes.
    _d_groups: CudaSlice<u8>,
    /// `f32(-lr)` per group, as last uploaded.
    d_neg_lrs: CudaSlice<f32>,
    /// One word per chunk: 1 until the chunk's tensor took its first momentum step.
    _d_chunk_first: CudaSlice<u32>,
    /// What `d_neg_lrs` holds.
    neg_lrs: Vec<f32>,
    /// New `f32(-lr)` values, before they are compared and uploaded.
    staging: Vec<f32>,
    /// Kernel arguments: the tables never move, only the grad-scaler addresses change.
    args: KernelArgs,
}

impl FixedBorrowedSgd {
    /// The optimizer for `tensors` in `groups` on `stream`. Checks everything before any
    /// device work: every group's options as `torch.optim.SGD` does
    /// ([`crate::validate_groups`], with each group's `lr` the first learning rate), the launch
    /// shape, and the tensors as [`plan`] checks them (group indices, momentum buffers, no
    /// written range overlapping another range, `f32` alignment); then compiles (or finds) the
    /// kernel for the stream's device and uploads the tables, with each tensor's
    /// [`BorrowedTensor::first_step`] as its initial state.
    ///
    /// The addresses are only stored here; [`FixedBorrowedSgd::step`] uses them.
    ///
    /// # Errors
    /// [`CudaSgdError::Config`], [`CudaSgdError::BadLaunchShape`], the errors of [`plan`],
    /// compile and driver errors.
    pub fn new(
        stream: Arc<CudaStream>,
        groups: Vec<SgdConfig>,
        tensors: &[BorrowedTensor],
        options: CudaSgdOptions,
    ) -> Result<Self, CudaSgdError> {
        sgd::validate_groups(&groups)?;
        sgd::validate_launch_shape(&options)?;
        let chunk_elems = options.chunk();
        let plan = plan(&groups, tensors, chunk_elems)?;
        // The uploads below are stream work: inside the caller's capture they would become
        // nodes of the caller's graph.
        let status =
            stream.capture_status().map_err(CudaSgdError::driver("cuStreamIsCapturing"))?;
        if status != CUstreamCaptureStatus::CU_STREAM_CAPTURE_STATUS_NONE {
            return Err(CudaSgdError::StreamCapturing { what: "creating the optimizer" });
        }
        let func = sgd::sgd_function(&stream, &options)?;
        let lrs: Vec<f64> = groups.iter().map(|g| g.lr).collect();
        let mut neg_lrs = Vec::with_capacity(groups.len());
        table::neg_lrs_into(&lrs, &mut neg_lrs);
        let d_groups = upload_table(&stream, &table::group_entries(&groups), "upload group table")?;
        let d_neg_lrs = upload(&stream, &neg_lrs, "upload learning rates")?;
        let d_tensors = upload_table(&stream, &plan.table.tensors, "upload tensor table")?;
        let d_chunks = upload_table(&stream, &plan.table.chunks, "upload chunk list")?;
        let d_chunk_first = upload(&stream, &plan.chunk_first, "upload chunk state")?;
        let chunks = plan.table.num_chunks();
        let args = KernelArgs {
            tensors: address(&d_tensors, &stream),
            chunks: address(&d_chunks, &stream),
            // Fits: DeviceTensorTable::build rejects more than u32::MAX chunks.
            num_chunks: u32::try_from(chunks).unwrap_or(u32::MAX),
            chunk_elems: u64::try_from(chunk_elems).unwrap_or(u64::MAX),
            groups: address(&d_groups, &stream),
            neg_lrs: address(&d_neg_lrs, &stream),
            chunk_first: address(&d_chunk_first, &stream),
            grad_scale: 0,
            found_inf: 0,
            // No device schedule: the learning rates are the uploaded `neg_lrs`.
            schedule: 0,
            grid: u32::try_from(chunks).unwrap_or(u32::MAX).min(i32::MAX.unsigned_abs()),
            block: options.block_threads,
        };
        Ok(Self {
            graph: None,
            stream,
            func,
            groups,
            num_tensors: tensors.len(),
            num_chunks: chunks,
            chunk_elems,
            _d_tensors: d_tensors,
            _d_chunks: d_chunks,
            _d_groups: d_groups,
            d_neg_lrs,
            _d_chunk_first: d_chunk_first,
            staging: Vec::with_capacity(neg_lrs.len()),
            neg_lrs,
            args,
        })
    }

    /// The stream every step is enqueued on.
    pub fn stream(&self) -> &Arc<CudaStream> {
        &self.stream
    }

    /// Number of parameter groups.
    pub fn num_groups(&self) -> usize {
        self.groups.len()
    }

    /// Number of tensors.
    pub fn num_tensors(&self) -> usize {
        self.num_tensors
    }

    /// Elements per chunk in use (given, or chosen automatically).
    pub fn chunk_elems(&self) -> usize {
        self.chunk_elems
    }

    /// Number of chunks (blocks of work) per step.
    pub fn num_chunks(&self) -> usize {
        self.num_chunks
    }

    /// The options of group `group`, with the learning rate the next step uses.
    pub fn group_config(&self, group: usize) -> Option<&SgdConfig> {
        self.groups.get(group)
    }

    /// Sets every group's learning rate for the next steps, each checked as `torch.optim.SGD`
    /// checks a group's `lr` (nothing changes when one is refused). Copies the groups'
    /// `f32(-lr)` to the device (on the stream) only when one of them changed, so unchanged
    /// learning rates may be set while the stream is being captured.
    ///
    /// # Errors
    /// [`CudaSgdError::LrCount`], [`CudaSgdError::Config`],
    /// [`CudaSgdError::LrUploadDuringCapture`], driver errors.
    pub fn set_lrs(&mut self, lrs: &[f64]) -> Result<(), CudaSgdError> {
        validate_lrs(&self.groups, lrs)?;
        table::neg_lrs_into(lrs, &mut self.staging);
        let unchanged =
            self.staging.iter().zip(&self.neg_lrs).all(|(a, b)| a.to_bits() == b.to_bits());
        if !unchanged {
            if self.capturing()? {
                return Err(CudaSgdError::LrUploadDuringCapture);
            }
            // A pageable copy: the driver has taken the values when the call returns.
            self.stream
                .memcpy_htod(self.staging.as_slice(), &mut self.d_neg_lrs)
                .map_err(CudaSgdError::driver("upload learning rates"))?;
            std::mem::swap(&mut self.staging, &mut self.neg_lrs);
        }
        for (config, &lr) in self.groups.iter_mut().zip(lrs) {
            config.lr = lr;
        }
        Ok(())
    }

    /// Reads the gradient scaler from these device addresses from the next step on, as
    /// `torch._fused_sgd_` does: every gradient is divided by `*grad_scale` (`__fdiv_rn`), and
    /// a step where `*found_inf != 0` changes nothing (not even the momentum buffers' first-step
    /// state). `None` = no scaling / never skip. Drops a captured graph (its arguments change):
    /// capture again afterwards.
    ///
    /// # Errors
    /// [`CudaSgdError::MisalignedGradScaler`] (nothing changes then).
    pub fn set_grad_scaler(
        &mut self,
        grad_scale: Option<u64>,
        found_inf: Option<u64>,
    ) -> Result<(), CudaSgdError> {
        for (name, address) in [("grad_scale", grad_scale), ("found_inf", found_inf)] {
            if let Some(address) = address.filter(|a| !a.is_multiple_of(4)) {
                return Err(CudaSgdError::MisalignedGradScaler { name, address });
            }
        }
        self.args.grad_scale = grad_scale.unwrap_or(0);
        self.args.found_inf = found_inf.unwrap_or(0);
        self.graph = None;
        Ok(())
    }

    /// One fused step over every tensor (one launch, or one replay of the graph of
    /// [`FixedBorrowedSgd::capture_graph`]; while the stream is being captured by the caller,
    /// the launch itself, so that it becomes part of the caller's graph). Returns when the
    /// work is enqueued.
    ///
    /// # Safety
    /// Every address given to [`FixedBorrowedSgd::new`] points into a live allocation of the
    /// stream's context holding the tensor's `len` f32 from there, and so do the gradient
    /// scaler's addresses (one f32 each, neither inside a parameter or momentum buffer); nothing
    /// else reads or writes the parameters and momentum buffers, or writes the gradients and the
    /// scaler, until the step has run in stream order (work enqueued on the same stream
    /// afterwards may).
    ///
    /// # Errors
    /// Driver errors.
    pub unsafe fn step(&mut self) -> Result<(), CudaSgdError> {
        if self.num_chunks == 0 {
            return Ok(());
        }
        match &self.graph {
            Some(graph) if !self.capturing()? => {
                graph.launch().map_err(CudaSgdError::driver("cuGraphLaunch"))
            }
            _ => sgd::launch(&self.stream, &self.func, &self.args),
        }
    }

    /// Captures one step into a CUDA graph (only the kernel launch: the learning rates, tables
    /// and scaler are read from device memory, so replays with new learning rates are exact);
    /// later [`FixedBorrowedSgd::step`] calls replay it. Needs a stream that can be captured
    /// (not the legacy default stream) and that nothing else uses during the call.
    ///
    /// # Errors
    /// Driver errors (the stream is then not capturing any more).
    pub fn capture_graph(&mut self) -> Result<(), CudaSgdError> {
        // Checked first, and the old graph kept until the new one exists: a refused or failed
        // capture changes nothing (and never begins a capture inside the caller's).
        if self.capturing()? {
            return Err(CudaSgdError::StreamCapturing { what: "capturing the step" });
        }
        if self.num_chunks == 0 {
            self.graph = None;
            return Ok(());
        }
        self.stream
            .begin_capture(CUstreamCaptureMode::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL)
            .map_err(CudaSgdError::driver("cuStreamBeginCapture"))?;
        let launched = sgd::launch(&self.stream, &self.func, &self.args);
        let ended = self.stream.end_capture(CUgraphInstantiate_flags(0));
        launched?;
        self.graph =
            ended.map_err(CudaSgdError::driver("cuStreamEndCapture / cuGraphInstantiate"))?;
        Ok(())
    }

    /// Whether steps replay a captured graph.
    pub fn has_graph(&self) -> bool {
        self.graph.is_some()
    }

    /// Drops the captured graph; steps launch the kernel directly again.
    pub fn release_graph(&mut self) {
        self.graph = None;
    }

    /// Whether the stream is being captured into a graph right now.
    fn capturing(&self) -> Result<bool, CudaSgdError> {
        let status =
            self.stream.capture_status().map_err(CudaSgdError::driver("cuStreamIsCapturing"))?;
        Ok(status != CUstreamCaptureStatus::CU_STREAM_CAPTURE_STATUS_NONE)
    }
}

/// Checks a step's learning rates against the groups (pure, host only): one per group, each
/// valid as that group's `lr` ([`SgdConfig::validate`]: finite and `>= 0`).
///
/// # Errors
/// [`CudaSgdError::LrCount`], [`CudaSgdError::Config`] for the first refused one.
pub fn validate_lrs(groups: &[SgdConfig], lrs: &[f64]) -> Result<(), CudaSgdError> {
    if lrs.len() != groups.len() {
        return Err(CudaSgdError::LrCount { expected: groups.len(), got: lrs.len() });
    }
    for (group, (&lr, config)) in lrs.iter().zip(groups).enumerate() {
        SgdConfig { lr, ..*config }.validate(group)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_rates_are_counted_and_checked_per_group() {
        let groups = [SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() }; 2];
        assert!(validate_lrs(&groups, &[0.5, 0.0]).is_ok());
        let e = validate_lrs(&groups, &[0.5]).err();
        assert!(matches!(e, Some(CudaSgdError::LrCount { expected: 2, got: 1 })), "{e:?}");
        for bad in [-0.5, f64::NAN, f64::INFINITY] {
            let e = validate_lrs(&groups, &[0.5, bad]).err();
            let expected = SgdConfig { lr: bad, ..groups[1] }.validate(1).err();
            // Debug: NaN != NaN.
            assert_eq!(
                std::format!("{e:?}"),
                std::format!("{:?}", expected.map(CudaSgdError::Config))
            );
        }
    }
}

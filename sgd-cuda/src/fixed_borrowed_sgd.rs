//! [`FixedBorrowedSgd`]: the fused step over a fixed set of device tensors that belong to the
//! caller (PyTorch's CUDA tensors, a C program's allocations), on the caller's stream.
//!
//! Unlike [`crate::BorrowedSgd`], which takes the addresses with every step, the tensors are
//! given once: their tables are planned ([`crate::BorrowedPlan::new`]), checked and uploaded
//! when the optimizer is made
//! and stay in device memory, so a step is one kernel launch (or one CUDA graph replay) and
//! may itself be captured into the caller's graph. The momentum buffers' "initialised" state
//! lives on the device from then on (the kernel clears it), and the gradient scaler
//! (`grad_scale`, `found_inf`) is read from the caller's device memory, as
//! `torch._fused_sgd_` reads it.

use std::sync::Arc;
use std::vec::Vec;

use cudarc::driver::sys::CUstreamCaptureStatus;
use cudarc::driver::{CudaFunction, CudaGraph, CudaSlice, CudaStream};
use sgd_core::SgdConfig;

use crate::SrKey;
use crate::borrowed_plan::BorrowedPlan;
use crate::borrowed_tensor::BorrowedTensor;
use crate::error::{CudaSgdError, GradScalerError, StreamError};
use crate::kernel_tables::{group_entries, neg_lrs_into, neg_lrs64_into};
use crate::launch::{
    KernelArgs, TensorTables, TypedArgs, capture, launch, sgd_function, upload, upload_table,
};
use crate::launch_options::CudaSgdOptions;
use crate::validation::{validate_groups, validate_launch_shape, validate_lrs};

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
    /// The tensor table, chunk list and first-step words (only kept alive here: the kernel
    /// arguments point to them; the kernel clears a chunk's first-step word).
    _tables: TensorTables,
    /// The `GroupEntry` table, as bytes (kept alive for the kernel arguments).
    _d_groups: CudaSlice<u8>,
    /// `f32(-lr)` per group, as last uploaded.
    d_neg_lrs: CudaSlice<f32>,
    /// What `d_neg_lrs` holds.
    neg_lrs: Vec<f32>,
    /// New `f32(-lr)` values, before they are compared and uploaded.
    staging: Vec<f32>,
    /// With a tensor that is not float32: the f64 `-lr` and rounding key on the device (kept
    /// alive for the kernel arguments), and the key they hold.
    typed: Option<(TypedArgs, SrKey)>,
    /// The f64 `-lr` of the groups, as uploaded.
    neg_lrs64: Vec<f64>,
    /// Kernel arguments: the tables never move, only the grad-scaler addresses change.
    args: KernelArgs,
}

impl FixedBorrowedSgd {
    /// The optimizer for `tensors` in `groups` on `stream`. Checks everything before any
    /// device work: every group's options as `torch.optim.SGD` does
    /// ([`crate::validate_groups`], with each group's `lr` the first learning rate), the launch
    /// shape, and the tensors as [`BorrowedPlan::new`] checks them (group indices, momentum buffers, no
    /// written range overlapping another range, `f32` alignment); then compiles (or finds) the
    /// kernel for the stream's device and uploads the tables, with each tensor's
    /// [`BorrowedTensor::first_step`] as its initial state.
    ///
    /// The addresses are only stored here; [`FixedBorrowedSgd::step`] uses them.
    ///
    /// # Errors
    /// [`CudaSgdError::Config`], [`crate::LaunchError::Shape`], the errors of
    /// [`BorrowedPlan::new`], [`StreamError::Capturing`], compile and driver errors.
    pub fn new(
        stream: Arc<CudaStream>,
        groups: Vec<SgdConfig>,
        tensors: &[BorrowedTensor],
        options: CudaSgdOptions,
    ) -> Result<Self, CudaSgdError> {
        validate_groups(&groups)?;
        validate_launch_shape(&options)?;
        let chunk_elems = options.chunk();
        let plan = BorrowedPlan::new(&groups, tensors, chunk_elems)?;
        // The uploads below are stream work: inside the caller's capture they would become
        // nodes of the caller's graph.
        let status =
            stream.capture_status().map_err(CudaSgdError::driver("cuStreamIsCapturing"))?;
        if status != CUstreamCaptureStatus::CU_STREAM_CAPTURE_STATUS_NONE {
            return Err(StreamError::Capturing { what: "creating the optimizer" }.into());
        }
        let func = sgd_function(&stream, &options, plan.typed)?;
        let lrs: Vec<f64> = groups.iter().map(|g| g.lr).collect();
        let mut neg_lrs = Vec::with_capacity(groups.len());
        neg_lrs_into(&lrs, &mut neg_lrs);
        let mut neg_lrs64 = Vec::with_capacity(groups.len());
        neg_lrs64_into(&lrs, &mut neg_lrs64);
        let typed = match plan.typed {
            true => {
                Some((TypedArgs::upload(&stream, &neg_lrs64, SrKey::default())?, SrKey::default()))
            }
            false => None,
        };
        let d_groups = upload_table(&stream, &group_entries(&groups), "upload group table")?;
        let d_neg_lrs = upload(&stream, &neg_lrs, "upload learning rates")?;
        let tables = TensorTables::upload(&stream, &plan.table, &plan.chunk_first)?;
        // No grad scaler until `set_grad_scaler`, no device schedule: the learning rates are
        // the uploaded `neg_lrs`.
        let block = options.block_threads;
        let args = KernelArgs::new(&stream, &plan.table, &tables, &d_groups, &d_neg_lrs, block)
            .with_typed(typed.as_ref().map(|(t, _)| t), &stream);
        Ok(Self {
            graph: None,
            stream,
            func,
            groups,
            num_tensors: tensors.len(),
            num_chunks: plan.table.num_chunks(),
            chunk_elems,
            _tables: tables,
            _d_groups: d_groups,
            d_neg_lrs,
            staging: Vec::with_capacity(neg_lrs.len()),
            neg_lrs,
            typed,
            neg_lrs64,
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
    /// [`crate::GroupError::LrCount`], [`CudaSgdError::Config`], [`StreamError::Capturing`],
    /// driver errors.
    pub fn set_lrs(&mut self, lrs: &[f64]) -> Result<(), CudaSgdError> {
        validate_lrs(&self.groups, lrs)?;
        neg_lrs_into(lrs, &mut self.staging);
        let unchanged =
            self.staging.iter().zip(&self.neg_lrs).all(|(a, b)| a.to_bits() == b.to_bits());
        if !unchanged {
            if self.capturing()? {
                return Err(StreamError::Capturing { what: "new learning rates" }.into());
            }
            // A pageable copy: the driver has taken the values when the call returns.
            self.stream
                .memcpy_htod(self.staging.as_slice(), &mut self.d_neg_lrs)
                .map_err(CudaSgdError::driver("upload learning rates"))?;
            core::mem::swap(&mut self.staging, &mut self.neg_lrs);
        }
        if self.typed.is_some() {
            let mut new = Vec::with_capacity(lrs.len());
            neg_lrs64_into(lrs, &mut new);
            let same = new.iter().zip(&self.neg_lrs64).all(|(a, b)| a.to_bits() == b.to_bits());
            if !same {
                if self.capturing()? {
                    return Err(StreamError::Capturing { what: "new learning rates" }.into());
                }
                if let Some((typed, _)) = &mut self.typed {
                    typed.set_lrs(&self.stream, &new)?;
                }
                self.neg_lrs64 = new;
            }
        }
        for (config, &lr) in self.groups.iter_mut().zip(lrs) {
            config.lr = lr;
        }
        Ok(())
    }

    /// The seed and step of stochastic rounding from the next step on (tensors with
    /// `Rounding::Stochastic`; default seed 0, step 0). Copied to the device (on the stream)
    /// only when it changed, so a captured graph replays with the new key: set a new step every
    /// step, outside a capture. Without a tensor that is not float32 nothing is stored.
    ///
    /// # Errors
    /// [`StreamError::Capturing`] for a new key while the stream is being captured, driver
    /// errors (the previous key stays then).
    pub fn set_rounding_key(&mut self, key: SrKey) -> Result<(), CudaSgdError> {
        let capturing = self.capturing()?;
        if let Some((typed, current)) = &mut self.typed
            && *current != key
        {
            if capturing {
                return Err(StreamError::Capturing { what: "a new rounding key" }.into());
            }
            typed.set_key(&self.stream, key)?;
            *current = key;
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
    /// [`GradScalerError::Misaligned`] (nothing changes then).
    pub fn set_grad_scaler(
        &mut self,
        grad_scale: Option<u64>,
        found_inf: Option<u64>,
    ) -> Result<(), CudaSgdError> {
        for (name, address) in [("grad_scale", grad_scale), ("found_inf", found_inf)] {
            if let Some(address) = address.filter(|a| !a.is_multiple_of(4)) {
                return Err(GradScalerError::Misaligned { name, address }.into());
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
    /// stream's context holding the tensor's `len` elements of its dtype from there (the master
    /// copy `len` f32), and so do the gradient
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
            _ => launch(&self.stream, &self.func, &self.args),
        }
    }

    /// Captures one step into a CUDA graph (only the kernel launch: the learning rates, tables
    /// and scaler are read from device memory, so replays with new learning rates are exact);
    /// later [`FixedBorrowedSgd::step`] calls replay it. Needs a stream that can be captured
    /// (not the legacy default stream) and that nothing else uses during the call.
    ///
    /// # Errors
    /// [`StreamError::Capturing`] while the caller captures the stream; driver errors (the
    /// stream is then not capturing any more).
    pub fn capture_graph(&mut self) -> Result<(), CudaSgdError> {
        // Checked first, and the old graph kept until the new one exists: a refused or failed
        // capture changes nothing (and never begins a capture inside the caller's).
        if self.capturing()? {
            return Err(StreamError::Capturing { what: "capturing the step" }.into());
        }
        if self.num_chunks == 0 {
            self.graph = None;
            return Ok(());
        }
        let (stream, func, args) = (&self.stream, &self.func, &self.args);
        self.graph = capture(stream, || launch(stream, func, args))?;
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

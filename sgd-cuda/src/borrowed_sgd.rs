//! [`BorrowedSgd`]: the fused step over device tensors that belong to the caller (a
//! framework's storage such as candle's or PyTorch's, a C program's allocations). Their
//! addresses come with every step, the tables are rebuilt and uploaded per step (a few bytes
//! per tensor), and the caller keeps each momentum buffer's "initialised" flag, as with
//! sgd-cpu's caller-owned step.
//!
//! The host side ([`BorrowedPlan::new`]) is pure Rust and tested without a GPU; the launch is
//! the same kernel and launch path as [`crate::CudaSgd`].

use std::sync::Arc;
use std::vec::Vec;

use cudarc::driver::{CudaFunction, CudaSlice, CudaStream};
use sgd_core::SgdConfig;

use crate::SrKey;
use crate::borrowed_plan::BorrowedPlan;
use crate::borrowed_tensor::BorrowedTensor;
use crate::error::{CudaSgdError, GroupError};
use crate::kernel_tables::{group_entries, neg_lrs_into, neg_lrs64_into};
use crate::launch::{
    KernelArgs, TensorTables, TypedArgs, launch, sgd_function, upload, upload_table,
};
use crate::launch_options::CudaSgdOptions;
use crate::validation::{check_lr_count, validate_groups, validate_launch_shape};

/// A fused multi-tensor SGD step over borrowed device tensors on one stream (see the module
/// docs). Owns only its small tables and the compiled kernel.
pub struct BorrowedSgd {
    stream: Arc<CudaStream>,
    func: CudaFunction,
    /// `sgd_multi_tensor_typed`, for steps with a tensor that is not float32.
    typed_func: CudaFunction,
    /// Its f64 learning rates and rounding key on the device.
    typed: TypedArgs,
    /// The rounding key of the next steps.
    sr_key: SrKey,
    neg_lrs64: Vec<f64>,
    options: CudaSgdOptions,
    groups: Vec<SgdConfig>,
    /// The `GroupEntry` table, as bytes.
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
    /// [`CudaSgdError::Config`], [`crate::LaunchError::Shape`], compile and driver errors.
    pub fn new(
        stream: Arc<CudaStream>,
        groups: Vec<SgdConfig>,
        options: CudaSgdOptions,
    ) -> Result<Self, CudaSgdError> {
        validate_groups(&groups)?;
        validate_launch_shape(&options)?;
        let func = sgd_function(&stream, &options, false)?;
        let typed_func = sgd_function(&stream, &options, true)?;
        let d_groups = upload_table(&stream, &group_entries(&groups), "upload group table")?;
        let d_neg_lrs = upload(&stream, &std::vec![0.0f32; groups.len()], "upload learning rates")?;
        let typed = TypedArgs::upload(&stream, &std::vec![0.0f64; groups.len()], SrKey::default())?;
        Ok(Self {
            stream,
            func,
            typed_func,
            typed,
            sr_key: SrKey::default(),
            neg_lrs64: Vec::new(),
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
    /// [`GroupError::Unknown`], [`CudaSgdError::Config`] for an invalid lr.
    pub fn set_lr(&mut self, group: usize, lr: f64) -> Result<(), CudaSgdError> {
        let groups = self.groups.len();
        let unknown = GroupError::Unknown { tensor: None, group, groups };
        let g = self.groups.get_mut(group).ok_or(unknown)?;
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
    /// [`GroupError::LrCount`] for another number of groups than at construction (nothing
    /// changes then), [`CudaSgdError::Config`], driver errors.
    pub fn set_groups(&mut self, groups: &[SgdConfig]) -> Result<(), CudaSgdError> {
        check_lr_count(self.groups.len(), groups.len())?;
        validate_groups(groups)?;
        let entries = group_entries(groups);
        let bytes: &[u8] = bytemuck::cast_slice(&entries);
        let current = group_entries(&self.groups);
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

    /// The seed and step of stochastic rounding for the next steps (tensors with
    /// `Rounding::Stochastic`): set a new step number every step. Default: seed 0, step 0.
    pub fn set_rounding_key(&mut self, key: SrKey) {
        self.sr_key = key;
    }

    /// One fused step over `tensors` (one launch): plans ([`BorrowedPlan::new`]) and uploads the tables and the
    /// groups' `f32(-lr)`, then launches `sgd_multi_tensor_f32` on the stream (or, when a
    /// tensor is not float32, `sgd_multi_tensor_typed`, after uploading the groups' f64 `-lr`
    /// and the rounding key). Returns when the work is enqueued.
    ///
    /// # Safety
    /// Every address in `tensors` must point into a live allocation of the stream's context
    /// holding `len` elements of its dtype from there (the master copy `len` f32), and nothing
    /// else may read or write the parameters, momentum buffers and master copies, or write the
    /// gradients, until the step has run in stream order (work enqueued on the same stream
    /// afterwards may).
    ///
    /// # Errors
    /// [`BorrowedPlan::new`]'s errors (nothing is enqueued then), driver errors.
    pub unsafe fn step(&mut self, tensors: &[BorrowedTensor]) -> Result<(), CudaSgdError> {
        let plan = BorrowedPlan::new(&self.groups, tensors, self.options.chunk())?;
        if plan.table.num_chunks() == 0 {
            return Ok(());
        }
        let lrs: Vec<f64> = self.groups.iter().map(|g| g.lr).collect();
        neg_lrs_into(&lrs, &mut self.neg_lrs);
        self.stream
            .memcpy_htod(self.neg_lrs.as_slice(), &mut self.d_neg_lrs)
            .map_err(CudaSgdError::driver("upload learning rates"))?;
        if plan.typed {
            neg_lrs64_into(&lrs, &mut self.neg_lrs64);
            self.typed.set_lrs(&self.stream, &self.neg_lrs64)?;
            self.typed.set_key(&self.stream, self.sr_key)?;
        }
        let tables = TensorTables::upload(&self.stream, &plan.table, &plan.chunk_first)?;
        let (stream, block) = (&self.stream, self.options.block_threads);
        let args =
            KernelArgs::new(stream, &plan.table, &tables, &self.d_groups, &self.d_neg_lrs, block)
                .with_scaler(self.d_scaler.as_ref(), stream)
                .with_typed(plan.typed.then_some(&self.typed), stream);
        let func = if plan.typed { &self.typed_func } else { &self.func };
        // The tables are freed after the launch in stream order (cudarc frees on the stream).
        launch(stream, func, &args)
    }
}

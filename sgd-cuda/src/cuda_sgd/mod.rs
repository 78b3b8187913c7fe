//! [`CudaSgd`]: the optimizer that owns the device buffers, the tables and the launch.
//!
//! Its device schedule (the learning rates of the next K steps on the device) is the child
//! module `scheduled_steps`, with the schedule's device buffers in `device_schedule`; its
//! [`sgd_core::ScheduledGroups`] bridge is `scheduled_groups`.

mod device_schedule;
mod scheduled_groups;
mod scheduled_steps;

use std::sync::Arc;
use std::vec::Vec;

use cudarc::driver::{
    CudaFunction, CudaGraph, CudaSlice, CudaStream, CudaView, CudaViewMut, DevicePtrMut,
    PinnedHostSlice,
};
use sgd_core::SgdConfig;

use self::device_schedule::DeviceSchedule;
use crate::error::{CudaSgdError, GradScalerError, GroupError, TensorError};
use crate::kernel_tables::{
    DeviceTensorTable, TensorSpec, group_entries, neg_lrs_into, packed_offsets,
};
use crate::launch::{
    KernelArgs, TensorTables, address, capture, launch, schedule_advance_function, sgd_function,
    upload, upload_table,
};
use crate::launch_options::CudaSgdOptions;
use crate::tensor_ref::{BufferId, TensorRef};
use crate::validation::{check_lr_count, validate_groups, validate_launch_shape, validate_tensors};

/// Number of pinned learning-rate staging buffers.
const LR_RING: usize = 4;

/// Momentum storage of one group: one allocation, tensors packed at 16-byte offsets.
struct GroupMomentum {
    storage: CudaSlice<f32>,
}

/// Fused multi-tensor SGD on one CUDA stream.
///
/// Owns the parameter/gradient buffers (so the raw addresses in its device tables stay
/// valid), the momentum buffers, the device tables and the per-group learning-rate buffer.
/// Everything is enqueued on its stream; buffers used from other streams of the same
/// context are synchronised through `cudarc`'s per-buffer events at every step.
pub struct CudaSgd {
    /// First field: dropped before the buffers its kernel node points to.
    graph: Option<CudaGraph>,
    /// The scheduled step's graph (both kernels), when a device schedule is set and graphs
    /// are in use; dropped before the buffers too.
    scheduled_graph: Option<CudaGraph>,
    stream: Arc<CudaStream>,
    func: CudaFunction,
    /// `sgd_schedule_advance`.
    advance_func: CudaFunction,
    options: CudaSgdOptions,
    chunk_elems: usize,
    buffers: Vec<CudaSlice<f32>>,
    tensors: Vec<TensorRef>,
    groups: Vec<SgdConfig>,
    momentum: Vec<Option<GroupMomentum>>,
    /// Per tensor: element offset inside its group's momentum storage.
    momentum_offset: Vec<usize>,
    has_grad: Vec<bool>,
    table: DeviceTensorTable,
    /// The tensor table, chunk list and first-step words of `table` on the device.
    tables: TensorTables,
    /// The `GroupEntry` table, as bytes.
    d_groups: CudaSlice<u8>,
    d_neg_lrs: CudaSlice<f32>,
    /// `[grad_scale, found_inf]` when gradient scaling is enabled.
    d_scaler: Option<CudaSlice<f32>>,
    table_dirty: bool,
    groups_dirty: bool,
    host_neg_lrs: Vec<f32>,
    /// Pinned staging buffers for the per-step learning-rate upload, used round-robin so the
    /// host can run up to [`LR_RING`] steps ahead of the device (a pageable copy may make
    /// the driver synchronise the stream).
    lr_ring: Vec<PinnedHostSlice<f32>>,
    lr_ring_pos: usize,
    /// `f32(-lr)` per group last uploaded (the device buffer holds them): an unchanged
    /// learning rate is not uploaded again.
    uploaded_neg_lrs: Option<Vec<f32>>,
    /// Kernel arguments (device addresses of the tables), computed once: the tables are
    /// rewritten in place, never reallocated.
    args: KernelArgs,
    /// The device schedule, when one is set.
    schedule: Option<DeviceSchedule>,
}

impl CudaSgd {
    /// Creates the optimizer: validates every group's options as `sgd_cpu::Sgd::new` does
    /// ([`crate::validate_groups`]) and every tensor (nothing is uploaded before that),
    /// compiles the kernel for the stream's device (cached), allocates momentum buffers for the
    /// groups whose `momentum != 0`, builds and uploads the tables.
    ///
    /// `buffers` must belong to the stream's context. `groups[i].lr` is only the initial
    /// learning rate; every [`CudaSgd::step`] passes the learning rates.
    ///
    /// # Errors
    /// [`CudaSgdError::Config`] for the first invalid group, then the launch shape, buffer and
    /// tensor errors of the validation, then compile and driver errors.
    pub fn new(
        stream: Arc<CudaStream>,
        groups: Vec<SgdConfig>,
        buffers: Vec<CudaSlice<f32>>,
        tensors: Vec<TensorRef>,
        options: CudaSgdOptions,
    ) -> Result<Self, CudaSgdError> {
        validate(&stream, &groups, &buffers, &tensors, &options)?;
        let func = sgd_function(&stream, &options, false)?;
        let advance_func = schedule_advance_function(&stream)?;
        let n_groups = groups.len();
        let chunk_elems = options.chunk();
        // Placeholders until the momentum buffers exist: the tensor table holds their addresses.
        let empty = DeviceTensorTable::build(&[], n_groups, chunk_elems)?;
        let mut this = Self {
            func,
            advance_func,
            scheduled_graph: None,
            schedule: None,
            options,
            chunk_elems,
            has_grad: std::vec![true; tensors.len()],
            momentum: (0..n_groups).map(|_| None).collect(),
            momentum_offset: std::vec![0; tensors.len()],
            tables: TensorTables::upload(&stream, &empty, &[])?,
            table: empty,
            d_groups: upload_table(&stream, &group_entries(&groups), "upload group table")?,
            d_neg_lrs: upload(&stream, &std::vec![0.0f32; n_groups], "upload learning rates")?,
            d_scaler: None,
            table_dirty: false,
            groups_dirty: false,
            host_neg_lrs: Vec::with_capacity(n_groups),
            lr_ring: Vec::new(),
            lr_ring_pos: 0,
            uploaded_neg_lrs: None,
            graph: None,
            args: KernelArgs::default(),
            stream,
            buffers,
            tensors,
            groups,
        };
        for g in 0..n_groups {
            if this.groups[g].momentum != 0.0 {
                this.allocate_momentum(g)?;
            }
        }
        this.table = this.build_table()?;
        let first = std::vec![1u32; this.table.num_chunks()];
        this.tables = TensorTables::upload(&this.stream, &this.table, &first)?;
        this.args = this.kernel_args();
        for _ in 0..LR_RING {
            // SAFETY: the pinned memory starts uninitialised; `step` overwrites all of it
            // (`n_groups.max(1)` f32) through `as_mut_slice` before any copy reads it.
            let ring = unsafe { this.stream.context().alloc_pinned::<f32>(n_groups.max(1)) };
            this.lr_ring
                .push(ring.map_err(CudaSgdError::driver("cuMemHostAlloc (learning rates)"))?);
        }
        Ok(this)
    }

    /// The optimizer's stream.
    pub fn stream(&self) -> &Arc<CudaStream> {
        &self.stream
    }

    /// Number of tensors.
    pub fn num_tensors(&self) -> usize {
        self.tensors.len()
    }

    /// Number of parameter groups.
    pub fn num_groups(&self) -> usize {
        self.groups.len()
    }

    /// Elements per chunk in use (given, or chosen automatically).
    pub fn chunk_elems(&self) -> usize {
        self.chunk_elems
    }

    /// Number of chunks (blocks of work) per step.
    pub fn num_chunks(&self) -> usize {
        self.table.num_chunks()
    }

    /// The options of group `group` (its `lr` is the one given at construction or by
    /// [`CudaSgd::set_group_config`]; steps use the learning rates passed to them).
    pub fn group_config(&self, group: usize) -> Option<&SgdConfig> {
        self.groups.get(group)
    }

    /// A buffer, for reading (for example `stream.clone_dtoh(opt.buffer(id)?)`).
    pub fn buffer(&self, id: BufferId) -> Result<&CudaSlice<f32>, CudaSgdError> {
        let unknown = self.unknown_buffer(id);
        Ok(self.buffers.get(id.0).ok_or(unknown)?)
    }

    /// A buffer, for writing (gradients, new parameters). A view, not the slice itself, so
    /// the allocation (whose address is in the device table) cannot be replaced.
    pub fn buffer_mut(&mut self, id: BufferId) -> Result<CudaViewMut<'_, f32>, CudaSgdError> {
        let unknown = self.unknown_buffer(id);
        Ok(self.buffers.get_mut(id.0).ok_or(unknown)?.as_view_mut())
    }

    /// Gives the buffers back (in the order passed to [`CudaSgd::new`]).
    pub fn into_buffers(self) -> Vec<CudaSlice<f32>> {
        self.buffers
    }

    /// Copies tensor `tensor`'s parameters to the host (synchronises the stream).
    pub fn params_to_host(&self, tensor: usize) -> Result<Vec<f32>, CudaSgdError> {
        let t = self.tensor(tensor)?;
        let view: CudaView<'_, f32> = self.buffers[t.param_buffer.0].slice(t.params.clone());
        self.stream.clone_dtoh(&view).map_err(CudaSgdError::driver("copy parameters to host"))
    }

    /// Copies tensor `tensor`'s momentum buffer to the host, or `None` when it has none yet
    /// (torch's `state[p]["momentum_buffer"]` absent: group without momentum, or no step
    /// with a gradient and momentum was taken). Synchronises the stream.
    pub fn momentum_to_host(&self, tensor: usize) -> Result<Option<Vec<f32>>, CudaSgdError> {
        let t = self.tensor(tensor)?;
        let Some(m) = &self.momentum[t.group] else { return Ok(None) };
        let chunks = self.table.chunk_start[tensor]..self.table.chunk_start[tensor + 1];
        if !chunks.is_empty() {
            let flag = self
                .stream
                .clone_dtoh(&self.tables.chunk_first.slice(chunks.start..chunks.start + 1))
                .map_err(CudaSgdError::driver("copy chunk state to host"))?;
            if flag[0] != 0 {
                return Ok(None);
            }
        }
        let off = self.momentum_offset[tensor];
        let view = m.storage.slice(off..off + t.params.len());
        self.stream
            .clone_dtoh(&view)
            .map(Some)
            .map_err(CudaSgdError::driver("copy momentum to host"))
    }

    /// Marks whether tensor `tensor` has a gradient this step (`p.grad is None` → `false`:
    /// the tensor and its momentum buffer are left untouched, as torch skips it). Re-uploads
    /// the tensor table at the next step.
    pub fn set_has_grad(&mut self, tensor: usize, has_grad: bool) -> Result<(), CudaSgdError> {
        self.tensor(tensor)?;
        if self.has_grad[tensor] != has_grad {
            self.has_grad[tensor] = has_grad;
            self.table.set_has_grad(tensor, has_grad);
            self.table_dirty = true;
        }
        Ok(())
    }

    /// Replaces group `group`'s options (momentum, dampening, weight decay, nesterov,
    /// maximize; `lr` is ignored by steps), validated as `sgd_cpu::Sgd::set_config` validates
    /// them. Re-uploads the group table at the next step; allocates the group's momentum
    /// buffers if it gets momentum for the first time.
    ///
    /// # Errors
    /// [`GroupError::Unknown`], [`CudaSgdError::Config`] (nothing changes then), driver errors
    /// of the momentum allocation.
    pub fn set_group_config(
        &mut self,
        group: usize,
        config: SgdConfig,
    ) -> Result<(), CudaSgdError> {
        let groups = self.groups.len();
        if group >= groups {
            return Err(GroupError::Unknown { tensor: None, group, groups }.into());
        }
        config.validate(group)?;
        if self.groups[group] == config {
            return Ok(());
        }
        self.groups[group] = config;
        self.groups_dirty = true;
        if config.momentum != 0.0 && self.momentum[group].is_none() {
            self.allocate_momentum(group)?;
            let rebuilt = self.build_table()?;
            // Same tensors and chunks, so the device buffers keep their size (and a captured
            // graph, which holds their addresses, stays valid).
            self.table.tensors = rebuilt.tensors;
            self.table_dirty = true;
        }
        Ok(())
    }

    /// Enables gradient scaling: allocates the device pair `[grad_scale, found_inf]`
    /// (initially `[1.0, 0.0]`). Each step then divides every gradient by `grad_scale`
    /// (`__fdiv_rn`) and does nothing at all when `found_inf != 0`. Drops a captured graph
    /// (the kernel arguments change); capture again afterwards.
    pub fn enable_grad_scaling(&mut self) -> Result<(), CudaSgdError> {
        if self.d_scaler.is_none() {
            self.d_scaler = Some(upload(&self.stream, &[1.0f32, 0.0], "upload grad scaler")?);
            self.args = self.kernel_args();
            self.graph = None;
            self.scheduled_graph = None;
        }
        Ok(())
    }

    /// The device pair `[grad_scale, found_inf]`, for kernels (an unscale / inf check)
    /// that write them on the device.
    ///
    /// # Errors
    /// [`GradScalerError::Disabled`] before [`CudaSgd::enable_grad_scaling`].
    pub fn grad_scaler_mut(&mut self) -> Result<CudaViewMut<'_, f32>, CudaSgdError> {
        let scaler = self.d_scaler.as_mut().ok_or(GradScalerError::Disabled)?;
        Ok(scaler.as_view_mut())
    }

    /// Writes `[grad_scale, found_inf]` from the host (one small copy on the stream).
    ///
    /// # Errors
    /// [`GradScalerError::Disabled`] before [`CudaSgd::enable_grad_scaling`], driver errors.
    pub fn set_grad_scaler(&mut self, grad_scale: f32, found_inf: f32) -> Result<(), CudaSgdError> {
        let scaler = self.d_scaler.as_mut().ok_or(GradScalerError::Disabled)?;
        self.stream
            .memcpy_htod(&[grad_scale, found_inf], scaler)
            .map_err(CudaSgdError::driver("upload grad scaler"))
    }

    /// One optimizer step for every tensor of every group: one kernel launch (or one graph
    /// replay after [`CudaSgd::capture_graph`]). `lrs[g]` is group `g`'s learning rate,
    /// rounded on the host to `f32(-lr)` exactly as `sgd_core::StepScalars` does and uploaded
    /// when any of them changed (the only per-step copy: 4 bytes per group). Not validated,
    /// like torch's per-step `lr`. Does not move a device schedule's counter.
    ///
    /// # Errors
    /// [`GroupError::LrCount`], [`crate::ScheduleError::Exhausted`] when an earlier
    /// [`CudaSgd::step_scheduled`] ran past the device schedule (until a new one is set or it is
    /// cleared), driver errors.
    pub fn step(&mut self, lrs: &[f64]) -> Result<(), CudaSgdError> {
        check_lr_count(self.groups.len(), lrs.len())?;
        self.check_schedule()?;
        self.upload_dirty()?;
        neg_lrs_into(lrs, &mut self.host_neg_lrs);
        let unchanged = self.uploaded_neg_lrs.as_ref().is_some_and(|u| {
            u.iter().zip(&self.host_neg_lrs).all(|(a, b)| a.to_bits() == b.to_bits())
        });
        if !self.host_neg_lrs.is_empty() && !unchanged {
            let staging = &mut self.lr_ring[self.lr_ring_pos];
            self.lr_ring_pos = (self.lr_ring_pos + 1) % LR_RING;
            // Waits until the copy that last read this staging buffer (LR_RING steps ago) is done.
            let host =
                staging.as_mut_slice().map_err(CudaSgdError::driver("cuEventSynchronize"))?;
            host.copy_from_slice(&self.host_neg_lrs);
            self.stream
                .memcpy_htod(&*staging, &mut self.d_neg_lrs)
                .map_err(CudaSgdError::driver("upload learning rates"))?;
            self.uploaded_neg_lrs.get_or_insert_with(Vec::new).clone_from(&self.host_neg_lrs);
        }
        if self.table.num_chunks() == 0 {
            return Ok(());
        }
        // Order this step after earlier uses of the buffers on other streams, and later uses
        // after it (cudarc's per-buffer events; the guards record when dropped).
        let stream = &self.stream;
        let _guards: Vec<_> = self.buffers.iter_mut().map(|b| b.device_ptr_mut(stream).1).collect();
        match &self.graph {
            Some(graph) => graph.launch().map_err(CudaSgdError::driver("cuGraphLaunch")),
            None => launch(&self.stream, &self.func, &self.args),
        }
    }

    /// Captures one step into a CUDA graph; later [`CudaSgd::step`] calls replay it. The
    /// graph reads the learning rates, tables and grad scaler from device memory, so a
    /// replay with new learning rates (and new table contents) is exact. Needs a
    /// non-default stream (as [`crate::device::open_stream`] creates). With a device schedule
    /// set, the scheduled step ([`CudaSgd::step_scheduled`]) is captured as a second graph.
    pub fn capture_graph(&mut self) -> Result<(), CudaSgdError> {
        self.graph = None;
        self.scheduled_graph = None;
        if self.table.num_chunks() == 0 {
            return Ok(());
        }
        self.upload_dirty()?;
        // Only the kernel is captured: no event record/wait (the arguments are raw addresses
        // computed before), so the capture never depends on work outside it.
        let args = self.args;
        self.graph = capture(&self.stream, || launch(&self.stream, &self.func, &args))?;
        if self.schedule.is_some() {
            self.capture_scheduled_graph()?;
        }
        Ok(())
    }

    /// Whether steps replay a captured graph.
    pub fn has_graph(&self) -> bool {
        self.graph.is_some()
    }

    /// Drops the captured graphs; steps launch the kernels directly again.
    pub fn release_graph(&mut self) {
        self.graph = None;
        self.scheduled_graph = None;
    }

    /// Waits for every enqueued step. With a device schedule set, then reads its counter
    /// (16 bytes) and reports a scheduled step that ran past the table.
    ///
    /// # Errors
    /// [`crate::ScheduleError::Exhausted`], driver errors.
    pub fn synchronize(&self) -> Result<(), CudaSgdError> {
        self.stream.synchronize().map_err(CudaSgdError::driver("cuStreamSynchronize"))?;
        if self.schedule.is_some() {
            self.schedule_steps_left()?;
        }
        Ok(())
    }

    fn tensor(&self, tensor: usize) -> Result<&TensorRef, CudaSgdError> {
        let tensors = self.tensors.len();
        Ok(self.tensors.get(tensor).ok_or(TensorError::UnknownTensor { tensor, tensors })?)
    }

    fn unknown_buffer(&self, id: BufferId) -> TensorError {
        TensorError::UnknownBuffer { buffer: id.0, buffers: self.buffers.len() }
    }

    fn allocate_momentum(&mut self, group: usize) -> Result<(), CudaSgdError> {
        let members: Vec<usize> =
            (0..self.tensors.len()).filter(|&t| self.tensors[t].group == group).collect();
        let lens: Vec<usize> = members.iter().map(|&t| self.tensors[t].params.len()).collect();
        let (offsets, total) = packed_offsets(&lens);
        let storage = self
            .stream
            .alloc_zeros::<f32>(total.max(4))
            .map_err(CudaSgdError::driver("allocate momentum buffers"))?;
        for (&t, off) in members.iter().zip(offsets) {
            self.momentum_offset[t] = off;
        }
        self.momentum[group] = Some(GroupMomentum { storage });
        Ok(())
    }

    fn build_table(&self) -> Result<DeviceTensorTable, CudaSgdError> {
        let s = &self.stream;
        let specs: Vec<TensorSpec> = self
            .tensors
            .iter()
            .enumerate()
            .map(|(i, t)| {
                TensorSpec::f32(
                    t.group,
                    t.params.len(),
                    address(&self.buffers[t.param_buffer.0], s) + 4 * t.params.start as u64,
                    address(&self.buffers[t.grad_buffer.0], s) + 4 * t.grads.start as u64,
                    self.momentum[t.group]
                        .as_ref()
                        .map(|m| address(&m.storage, s) + 4 * self.momentum_offset[i] as u64),
                    self.has_grad[i],
                )
            })
            .collect();
        DeviceTensorTable::build(&specs, self.groups.len(), self.chunk_elems)
    }

    /// Uploads the tensor table and the group table where they changed since the last step
    /// (in place: the kernel arguments and a captured graph keep their addresses).
    fn upload_dirty(&mut self) -> Result<(), CudaSgdError> {
        if self.table_dirty && !self.table.tensors.is_empty() {
            let bytes: &[u8] = bytemuck::cast_slice(&self.table.tensors);
            self.stream
                .memcpy_htod(bytes, &mut self.tables.tensors)
                .map_err(CudaSgdError::driver("upload tensor table"))?;
        }
        self.table_dirty = false;
        if self.groups_dirty && !self.groups.is_empty() {
            let entries = group_entries(&self.groups);
            let bytes: &[u8] = bytemuck::cast_slice(&entries);
            self.stream
                .memcpy_htod(bytes, &mut self.d_groups)
                .map_err(CudaSgdError::driver("upload group table"))?;
        }
        self.groups_dirty = false;
        Ok(())
    }

    fn kernel_args(&self) -> KernelArgs {
        let s = &self.stream;
        let block = self.options.block_threads;
        KernelArgs::new(s, &self.table, &self.tables, &self.d_groups, &self.d_neg_lrs, block)
            .with_scaler(self.d_scaler.as_ref(), s)
    }
}

/// Checks everything before any device work.
fn validate(
    stream: &Arc<CudaStream>,
    groups: &[SgdConfig],
    buffers: &[CudaSlice<f32>],
    tensors: &[TensorRef],
    options: &CudaSgdOptions,
) -> Result<(), CudaSgdError> {
    validate_groups(groups)?;
    validate_launch_shape(options)?;
    for (i, b) in buffers.iter().enumerate() {
        if b.context() != stream.context() {
            return Err(TensorError::BufferOfAnotherContext { buffer: i }.into());
        }
    }
    validate_tensors(groups.len(), &buffers.iter().map(CudaSlice::len).collect::<Vec<_>>(), tensors)
}

//! [`CudaSgd`]: the optimizer that owns the device buffers, the tables and the launch.

use std::ops::Range;
use std::sync::Arc;
use std::vec::Vec;

use cudarc::driver::sys::{CUgraphInstantiate_flags, CUstreamCaptureMode};
use cudarc::driver::{
    CudaFunction, CudaGraph, CudaSlice, CudaStream, CudaView, CudaViewMut, DevicePtr, DevicePtrMut,
    LaunchConfig, PinnedHostSlice, PushKernelArg,
};
use sgd_core::SgdConfig;

use crate::CudaSgdError;
use crate::device;
use crate::kernels::{SCHEDULE_ADVANCE_KERNEL, SGD_KERNEL, SGD_MULTI_TENSOR};
use crate::sgd_device_schedule::DeviceSchedule;
use crate::table::{self, DeviceTensorTable, TensorSpec};

/// Index of a device buffer owned by a [`CudaSgd`] (position in the `buffers` passed to
/// [`CudaSgd::new`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BufferId(pub usize);

/// One tensor: a parameter range and a gradient range (element ranges of owned buffers),
/// and its parameter group. Ranges may start at any element (unaligned sub-slices work; the
/// kernel falls back to scalar loads where `float4` is impossible).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorRef {
    /// Parameter group index.
    pub group: usize,
    /// Buffer holding the parameters.
    pub param_buffer: BufferId,
    /// Element range of the parameters.
    pub params: Range<usize>,
    /// Buffer holding the gradients.
    pub grad_buffer: BufferId,
    /// Element range of the gradients (same length as `params`).
    pub grads: Range<usize>,
}

/// Launch shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CudaSgdOptions {
    /// Elements per chunk; one block handles one chunk. `None` (the default):
    /// [`table::DEFAULT_CHUNK_ELEMS`] (4096, measured).
    pub chunk_elems: Option<usize>,
    /// Threads per block, a multiple of 32 in `32..=1024` (default 256).
    pub block_threads: u32,
}

impl CudaSgdOptions {
    /// The chunk size a step uses: `chunk_elems`, or [`table::DEFAULT_CHUNK_ELEMS`].
    pub fn chunk(&self) -> usize {
        self.chunk_elems.unwrap_or(table::DEFAULT_CHUNK_ELEMS)
    }
}

impl Default for CudaSgdOptions {
    fn default() -> Self {
        Self { chunk_elems: None, block_threads: 256 }
    }
}

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
    pub(crate) graph: Option<CudaGraph>,
    /// The scheduled step's graph (both kernels), when a device schedule is set and graphs
    /// are in use; dropped before the buffers too.
    pub(crate) scheduled_graph: Option<CudaGraph>,
    pub(crate) stream: Arc<CudaStream>,
    pub(crate) func: CudaFunction,
    /// `sgd_schedule_advance`.
    pub(crate) advance_func: CudaFunction,
    options: CudaSgdOptions,
    chunk_elems: usize,
    pub(crate) buffers: Vec<CudaSlice<f32>>,
    tensors: Vec<TensorRef>,
    pub(crate) groups: Vec<SgdConfig>,
    momentum: Vec<Option<GroupMomentum>>,
    /// Per tensor: element offset inside its group's momentum storage.
    momentum_offset: Vec<usize>,
    has_grad: Vec<bool>,
    pub(crate) table: DeviceTensorTable,
    /// The [`table::TensorEntry`] table, as bytes.
    d_tensors: CudaSlice<u8>,
    /// The [`table::ChunkEntry`] list, as bytes.
    d_chunks: CudaSlice<u8>,
    /// The [`table::GroupEntry`] table, as bytes.
    d_groups: CudaSlice<u8>,
    d_neg_lrs: CudaSlice<f32>,
    d_chunk_first: CudaSlice<u32>,
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
    pub(crate) args: KernelArgs,
    /// The device schedule, when one is set.
    pub(crate) schedule: Option<DeviceSchedule>,
}

/// Device address of a buffer (no event bookkeeping needed: only read to build tables).
pub(crate) fn address<T>(slice: &CudaSlice<T>, stream: &CudaStream) -> u64 {
    let (ptr, _record) = slice.device_ptr(stream);
    ptr
}

/// Uploads a table of `#[repr(C)]` entries ([`table::TensorEntry`], ...) into a fresh device
/// buffer, as its bytes (at least one byte long).
pub(crate) fn upload_table<T: bytemuck::Pod>(
    stream: &Arc<CudaStream>,
    entries: &[T],
    context: &'static str,
) -> Result<CudaSlice<u8>, CudaSgdError> {
    upload(stream, bytemuck::cast_slice(entries), context)
}

/// Uploads `words` into a fresh device buffer (at least one element long).
pub(crate) fn upload<T: cudarc::driver::DeviceRepr + Copy + Default>(
    stream: &Arc<CudaStream>,
    words: &[T],
    context: &'static str,
) -> Result<CudaSlice<T>, CudaSgdError> {
    if words.is_empty() {
        return stream.clone_htod(&[T::default()]).map_err(CudaSgdError::driver(context));
    }
    stream.clone_htod(words).map_err(CudaSgdError::driver(context))
}

impl CudaSgd {
    /// Creates the optimizer: validates every group's options as `sgd_cpu::Sgd::new` does
    /// ([`validate_groups`]) and every tensor (nothing is uploaded before that), compiles the
    /// kernel for the stream's device (cached), allocates momentum buffers for the groups whose
    /// `momentum != 0`, builds and uploads the tables.
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
        let func = sgd_function(&stream, &options)?;
        let advance_func =
            device::function_for(stream.context(), &SGD_MULTI_TENSOR, SCHEDULE_ADVANCE_KERNEL)?;
        let n_groups = groups.len();
        let chunk_elems = options.chunk();
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
            table: DeviceTensorTable::build(&[], n_groups, chunk_elems)?,
            d_tensors: upload::<u8>(&stream, &[], "upload tensor table")?,
            d_chunks: upload::<u8>(&stream, &[], "upload chunk list")?,
            d_groups: upload_table(&stream, &table::group_entries(&groups), "upload group table")?,
            d_neg_lrs: upload(&stream, &std::vec![0.0f32; n_groups], "upload learning rates")?,
            d_chunk_first: upload::<u32>(&stream, &[], "upload chunk state")?,
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
        this.d_tensors = upload_table(&this.stream, &this.table.tensors, "upload tensor table")?;
        this.d_chunks = upload_table(&this.stream, &this.table.chunks, "upload chunk list")?;
        let first = std::vec![1u32; this.table.num_chunks()];
        this.d_chunk_first = upload(&this.stream, &first, "upload chunk state")?;
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
        let buffers = self.buffers.len();
        self.buffers.get(id.0).ok_or(CudaSgdError::UnknownBuffer { buffer: id.0, buffers })
    }

    /// A buffer, for writing (gradients, new parameters). A view, not the slice itself, so
    /// the allocation (whose address is in the device table) cannot be replaced.
    pub fn buffer_mut(&mut self, id: BufferId) -> Result<CudaViewMut<'_, f32>, CudaSgdError> {
        let buffers = self.buffers.len();
        let b = self
            .buffers
            .get_mut(id.0)
            .ok_or(CudaSgdError::UnknownBuffer { buffer: id.0, buffers })?;
        Ok(b.as_view_mut())
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
                .clone_dtoh(&self.d_chunk_first.slice(chunks.start..chunks.start + 1))
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
    /// [`CudaSgdError::NoSuchGroup`], [`CudaSgdError::Config`] (nothing changes then), driver
    /// errors of the momentum allocation.
    pub fn set_group_config(
        &mut self,
        group: usize,
        config: SgdConfig,
    ) -> Result<(), CudaSgdError> {
        let groups = self.groups.len();
        if group >= groups {
            return Err(CudaSgdError::NoSuchGroup { group, groups });
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
    pub fn grad_scaler_mut(&mut self) -> Result<CudaViewMut<'_, f32>, CudaSgdError> {
        self.d_scaler.as_mut().map(|s| s.as_view_mut()).ok_or(CudaSgdError::GradScalingDisabled)
    }

    /// Writes `[grad_scale, found_inf]` from the host (one small copy on the stream).
    pub fn set_grad_scaler(&mut self, grad_scale: f32, found_inf: f32) -> Result<(), CudaSgdError> {
        let scaler = self.d_scaler.as_mut().ok_or(CudaSgdError::GradScalingDisabled)?;
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
    /// [`CudaSgdError::LrCount`], [`CudaSgdError::ScheduleExhausted`] when an earlier
    /// [`CudaSgd::step_scheduled`] ran past the device schedule (until a new one is set or it is
    /// cleared), driver errors.
    pub fn step(&mut self, lrs: &[f64]) -> Result<(), CudaSgdError> {
        if lrs.len() != self.groups.len() {
            return Err(CudaSgdError::LrCount { expected: self.groups.len(), got: lrs.len() });
        }
        self.check_schedule()?;
        self.upload_dirty()?;
        table::neg_lrs_into(lrs, &mut self.host_neg_lrs);
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
    /// non-default stream (as [`device::open_stream`] creates). With a device schedule set,
    /// the scheduled step ([`CudaSgd::step_scheduled`]) is captured as a second graph.
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
    /// [`CudaSgdError::ScheduleExhausted`], driver errors.
    pub fn synchronize(&self) -> Result<(), CudaSgdError> {
        self.stream.synchronize().map_err(CudaSgdError::driver("cuStreamSynchronize"))?;
        if self.schedule.is_some() {
            self.schedule_steps_left()?;
        }
        Ok(())
    }

    fn tensor(&self, tensor: usize) -> Result<&TensorRef, CudaSgdError> {
        let tensors = self.tensors.len();
        self.tensors.get(tensor).ok_or(CudaSgdError::UnknownTensor { tensor, tensors })
    }

    fn allocate_momentum(&mut self, group: usize) -> Result<(), CudaSgdError> {
        let members: Vec<usize> =
            (0..self.tensors.len()).filter(|&t| self.tensors[t].group == group).collect();
        let lens: Vec<usize> = members.iter().map(|&t| self.tensors[t].params.len()).collect();
        let (offsets, total) = table::packed_offsets(&lens);
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
        let specs: Vec<TensorSpec> = self
            .tensors
            .iter()
            .enumerate()
            .map(|(i, t)| TensorSpec {
                group: t.group,
                len: t.params.len(),
                param: address(&self.buffers[t.param_buffer.0], &self.stream)
                    + 4 * t.params.start as u64,
                grad: address(&self.buffers[t.grad_buffer.0], &self.stream)
                    + 4 * t.grads.start as u64,
                momentum: self.momentum[t.group].as_ref().map(|m| {
                    address(&m.storage, &self.stream) + 4 * self.momentum_offset[i] as u64
                }),
                has_grad: self.has_grad[i],
            })
            .collect();
        DeviceTensorTable::build(&specs, self.groups.len(), self.chunk_elems)
    }

    pub(crate) fn upload_dirty(&mut self) -> Result<(), CudaSgdError> {
        if self.table_dirty && !self.table.tensors.is_empty() {
            let bytes: &[u8] = bytemuck::cast_slice(&self.table.tensors);
            self.stream
                .memcpy_htod(bytes, &mut self.d_tensors)
                .map_err(CudaSgdError::driver("upload tensor table"))?;
        }
        self.table_dirty = false;
        if self.groups_dirty && !self.groups.is_empty() {
            let entries = table::group_entries(&self.groups);
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
        let (scale, found_inf) = match &self.d_scaler {
            Some(d) => {
                let a = address(d, s);
                (a, a + 4)
            }
            None => (0, 0),
        };
        let chunks = self.table.num_chunks();
        KernelArgs {
            tensors: address(&self.d_tensors, s),
            chunks: address(&self.d_chunks, s),
            // Fits: DeviceTensorTable::build rejects more than u32::MAX chunks.
            num_chunks: u32::try_from(chunks).unwrap_or(u32::MAX),
            chunk_elems: self.table.chunk_elems as u64,
            groups: address(&self.d_groups, s),
            neg_lrs: address(&self.d_neg_lrs, s),
            chunk_first: address(&self.d_chunk_first, s),
            grad_scale: scale,
            found_inf,
            schedule: 0,
            grid: u32::try_from(chunks).unwrap_or(u32::MAX).min(i32::MAX as u32),
            block: self.options.block_threads,
        }
    }
}

/// Captures what `enqueue` enqueues on `stream` into a CUDA graph, instantiated.
pub(crate) fn capture(
    stream: &Arc<CudaStream>,
    enqueue: impl FnOnce() -> Result<(), CudaSgdError>,
) -> Result<Option<CudaGraph>, CudaSgdError> {
    stream
        .begin_capture(CUstreamCaptureMode::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL)
        .map_err(CudaSgdError::driver("cuStreamBeginCapture"))?;
    let enqueued = enqueue();
    let ended = stream.end_capture(CUgraphInstantiate_flags(0));
    enqueued?;
    ended.map_err(CudaSgdError::driver("cuStreamEndCapture / cuGraphInstantiate"))
}

/// Arguments of `sgd_multi_tensor_f32`, in order (device addresses as `u64`; 0 = null).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct KernelArgs {
    pub(crate) tensors: u64,
    pub(crate) chunks: u64,
    pub(crate) num_chunks: u32,
    pub(crate) chunk_elems: u64,
    pub(crate) groups: u64,
    pub(crate) neg_lrs: u64,
    pub(crate) chunk_first: u64,
    pub(crate) grad_scale: u64,
    pub(crate) found_inf: u64,
    /// The device schedule's [`crate::schedule::ScheduleState`] (0: `neg_lrs` is one row of
    /// host lrs).
    pub(crate) schedule: u64,
    pub(crate) grid: u32,
    pub(crate) block: u32,
}

/// Enqueues one launch of `sgd_multi_tensor_f32`.
pub(crate) fn launch(
    stream: &CudaStream,
    func: &CudaFunction,
    a: &KernelArgs,
) -> Result<(), CudaSgdError> {
    let cfg =
        LaunchConfig { grid_dim: (a.grid, 1, 1), block_dim: (a.block, 1, 1), shared_mem_bytes: 0 };
    let mut builder = stream.launch_builder(func);
    builder
        .arg(&a.tensors)
        .arg(&a.chunks)
        .arg(&a.num_chunks)
        .arg(&a.chunk_elems)
        .arg(&a.groups)
        .arg(&a.neg_lrs)
        .arg(&a.chunk_first)
        .arg(&a.grad_scale)
        .arg(&a.found_inf)
        .arg(&a.schedule);
    // SAFETY: the arguments match `sgd_multi_tensor_f32(const TensorEntry*, const ChunkEntry*,
    // unsigned int, unsigned long long, const GroupEntry*, const float*, unsigned int*,
    // const float*, const float*, const ScheduleState*)` in order and size: pointers are passed as u64 device
    // addresses, `num_chunks` as u32, `chunk_elems` as u64. The tables behind them are owned
    // by the caller (a `CudaSgd` or a `BorrowedSgd` step) and were built by
    // `DeviceTensorTable::build` over validated ranges: `d_tensors` holds one `TensorEntry` per
    // tensor, `d_chunks` `num_chunks` `ChunkEntry`s whose tensor index and chunk index are in
    // range, `d_groups` one `GroupEntry` per group (the structs of the kernel, layouts asserted
    // on both sides) and `d_neg_lrs` one f32 per group (every tensor's group is < the group count),
    // `d_chunk_first` one u32 per chunk; `schedule` is 0 (null: `d_neg_lrs` is one f32 per group)
    // or the 16-byte `ScheduleState` of a `DeviceSchedule` whose `rows * groups` f32 table is
    // what `neg_lrs` points to (the kernel reads row `row < rows` only, `groups` = the group
    // count); every param/grad/momentum range lies inside a live
    // allocation of the same context (checked in `validate`), so each chunk's accesses
    // `[chunk * chunk_elems, min(numel, (chunk + 1) * chunk_elems))` stay in bounds. The
    // grad-scaler addresses are 0 (null, checked by the kernel) or the two f32 of `d_scaler`.
    unsafe { builder.launch(cfg) }
        .map(|_| ())
        .map_err(CudaSgdError::driver("cuLaunchKernel sgd_multi_tensor_f32"))
}

/// The SGD kernel for `stream`'s device (compiled on first use), checked to launch with
/// `options.block_threads`: the kernel's registers per thread cap the block size below 1024.
///
/// # Errors
/// [`CudaSgdError::BlockTooLarge`], compile and driver errors.
pub(crate) fn sgd_function(
    stream: &CudaStream,
    options: &CudaSgdOptions,
) -> Result<CudaFunction, CudaSgdError> {
    let func = device::function_for(stream.context(), &SGD_MULTI_TENSOR, SGD_KERNEL)?;
    let max = func
        .max_threads_per_block()
        .map_err(CudaSgdError::driver("cuFuncGetAttribute(MAX_THREADS_PER_BLOCK)"))?;
    let max = u32::try_from(max).unwrap_or(0);
    if options.block_threads > max {
        return Err(CudaSgdError::BlockTooLarge { block_threads: options.block_threads, max });
    }
    Ok(func)
}

/// Checks the launch shape: `chunk_elems` in `1..=u32::MAX`, `block_threads` a multiple of 32 in
/// `32..=1024`.
pub(crate) fn validate_launch_shape(options: &CudaSgdOptions) -> Result<(), CudaSgdError> {
    let bt = options.block_threads;
    let chunk_elems = options.chunk();
    if chunk_elems == 0
        || u32::try_from(chunk_elems).is_err()
        || !(32..=1024).contains(&bt)
        || !bt.is_multiple_of(32)
    {
        return Err(CudaSgdError::BadLaunchShape { chunk_elems, block_threads: bt });
    }
    Ok(())
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
            return Err(CudaSgdError::WrongContext { buffer: i });
        }
    }
    validate_tensors(groups.len(), &buffers.iter().map(CudaSlice::len).collect::<Vec<_>>(), tensors)
}

/// Checks every group's options in order, as `sgd_cpu::Sgd::new` does (pure, host only):
/// [`SgdConfig::validate`], torch's constructor rules applied to every group (not only the
/// defaults) plus finiteness.
///
/// # Errors
/// [`CudaSgdError::Config`] with the first group's [`sgd_core::ConfigError`].
pub fn validate_groups(groups: &[SgdConfig]) -> Result<(), CudaSgdError> {
    for (group, config) in groups.iter().enumerate() {
        config.validate(group)?;
    }
    Ok(())
}

/// Checks tensor ranges against buffer lengths and the group count (pure, host only).
pub fn validate_tensors(
    groups: usize,
    buffer_lens: &[usize],
    tensors: &[TensorRef],
) -> Result<(), CudaSgdError> {
    for (i, t) in tensors.iter().enumerate() {
        if t.group >= groups {
            return Err(CudaSgdError::UnknownGroup { tensor: i, group: t.group, groups });
        }
        if t.params.len() != t.grads.len()
            || t.params.start > t.params.end
            || t.grads.start > t.grads.end
        {
            return Err(CudaSgdError::LengthMismatch {
                tensor: i,
                params: t.params.len(),
                grads: t.grads.len(),
            });
        }
        for (id, r) in [(t.param_buffer, &t.params), (t.grad_buffer, &t.grads)] {
            let Some(&buffer_len) = buffer_lens.get(id.0) else {
                return Err(CudaSgdError::UnknownBuffer {
                    buffer: id.0,
                    buffers: buffer_lens.len(),
                });
            };
            if r.end > buffer_len {
                return Err(CudaSgdError::OutOfBounds {
                    tensor: i,
                    buffer: id.0,
                    offset: r.start,
                    len: r.len(),
                    buffer_len,
                });
            }
        }
    }
    check_overlaps(tensors)
}

/// Parameter ranges are written by the kernel: each must be disjoint from every other
/// tensor's parameters and from every gradient range (gradients may share memory, they are
/// only read).
fn check_overlaps(tensors: &[TensorRef]) -> Result<(), CudaSgdError> {
    // (buffer, start, end, tensor, is_param), empty ranges dropped, sorted by buffer and start.
    let mut spans: Vec<(usize, usize, usize, usize, bool)> = Vec::with_capacity(2 * tensors.len());
    for (i, t) in tensors.iter().enumerate() {
        if !t.params.is_empty() {
            spans.push((t.param_buffer.0, t.params.start, t.params.end, i, true));
            spans.push((t.grad_buffer.0, t.grads.start, t.grads.end, i, false));
        }
    }
    spans.sort_unstable();
    // Furthest end seen so far in the current buffer: of any range, and of parameter ranges.
    let mut any: Option<(usize, usize, usize)> = None; // (buffer, end, tensor)
    let mut param: Option<(usize, usize, usize)> = None;
    for &(buffer, start, end, tensor, is_param) in &spans {
        let clash = if is_param { any } else { param };
        if let Some((b, e, other)) = clash
            && b == buffer
            && start < e
        {
            return Err(CudaSgdError::Overlap {
                tensor: tensor.max(other),
                other: tensor.min(other),
            });
        }
        if any.is_none_or(|(b, e, _)| b != buffer || end > e) {
            any = Some((buffer, end, tensor));
        }
        if is_param && param.is_none_or(|(b, e, _)| b != buffer || end > e) {
            param = Some((buffer, end, tensor));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test.
    use super::*;

    #[test]
    fn group_options_are_checked_in_order_as_sgd_new_checks_them() {
        let ok = SgdConfig { lr: 0.1, momentum: 0.9, nesterov: true, ..SgdConfig::default() };
        assert!(validate_groups(&[]).is_ok());
        assert!(validate_groups(&[ok, SgdConfig::default()]).is_ok());
        let later = SgdConfig { lr: -1.0, ..ok };
        for bad in [
            SgdConfig { dampening: 0.1, ..ok },
            SgdConfig { lr: -0.1, ..ok },
            SgdConfig { momentum: f64::NAN, ..ok },
        ] {
            // The first bad group is reported, with sgd-core's error for it (Debug: NaN != NaN).
            let expected = std::format!("{:?}", bad.validate(1).unwrap_err());
            match validate_groups(&[ok, bad, later]) {
                Err(CudaSgdError::Config(e)) => assert_eq!(std::format!("{e:?}"), expected),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    fn t(group: usize, pb: usize, p: Range<usize>, gb: usize, g: Range<usize>) -> TensorRef {
        TensorRef {
            group,
            param_buffer: BufferId(pb),
            params: p,
            grad_buffer: BufferId(gb),
            grads: g,
        }
    }

    #[test]
    fn validation_rejects_bad_tensors_with_the_bad_values() {
        let lens = [10, 10];
        assert!(
            validate_tensors(1, &lens, &[t(0, 0, 0..5, 1, 0..5), t(0, 0, 6..9, 1, 5..8)]).is_ok()
        );
        assert!(matches!(
            validate_tensors(1, &lens, &[t(0, 0, 0..10, 1, 0..10), t(0, 0, 0..3, 1, 0..2)]),
            Err(CudaSgdError::LengthMismatch { tensor: 1, params: 3, grads: 2 })
        ));
        assert!(matches!(
            validate_tensors(1, &lens, &[t(0, 0, 5..11, 1, 0..6)]),
            Err(CudaSgdError::OutOfBounds {
                tensor: 0,
                buffer: 0,
                offset: 5,
                len: 6,
                buffer_len: 10
            })
        ));
        assert!(matches!(
            validate_tensors(1, &lens, &[t(0, 0, 0..1, 2, 0..1)]),
            Err(CudaSgdError::UnknownBuffer { buffer: 2, buffers: 2 })
        ));
        assert!(matches!(
            validate_tensors(2, &lens, &[t(2, 0, 0..1, 1, 0..1)]),
            Err(CudaSgdError::UnknownGroup { tensor: 0, group: 2, groups: 2 })
        ));
        #[allow(clippy::reversed_empty_ranges)]
        // the point of the test: a reversed range is rejected.
        let reversed = t(0, 0, 4..2, 1, 4..2);
        assert!(matches!(
            validate_tensors(1, &lens, &[reversed]),
            Err(CudaSgdError::LengthMismatch { .. })
        ));
    }

    #[test]
    fn overlapping_written_ranges_are_rejected() {
        let lens = [20, 20];
        // Shared gradients are fine (read only); params in the grad buffer are fine if disjoint.
        let ok = [t(0, 0, 0..5, 1, 0..5), t(0, 0, 5..10, 1, 0..5), t(0, 1, 10..12, 1, 5..7)];
        assert!(validate_tensors(1, &lens, &ok).is_ok());
        let params_overlap = [t(0, 0, 0..5, 1, 0..5), t(0, 0, 4..9, 1, 5..10)];
        assert!(matches!(
            validate_tensors(1, &lens, &params_overlap),
            Err(CudaSgdError::Overlap { tensor: 1, other: 0 })
        ));
        let param_over_grad = [t(0, 0, 0..5, 1, 0..5), t(0, 1, 3..5, 1, 10..12)];
        assert!(matches!(
            validate_tensors(1, &lens, &param_over_grad),
            Err(CudaSgdError::Overlap { tensor: 1, other: 0 })
        ));
        let own_grad = [t(0, 0, 0..5, 0, 2..7)];
        assert!(matches!(
            validate_tensors(1, &lens, &own_grad),
            Err(CudaSgdError::Overlap { tensor: 0, other: 0 })
        ));
        // A long earlier range still counts after a short one inside it.
        let nested = [t(0, 1, 0..10, 0, 0..10), t(0, 1, 10..11, 0, 2..3), t(0, 0, 5..6, 1, 12..13)];
        assert!(matches!(
            validate_tensors(1, &lens, &nested),
            Err(CudaSgdError::Overlap { tensor: 2, other: 0 })
        ));
    }
}

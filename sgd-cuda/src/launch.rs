//! The launch plumbing every optimizer of the crate shares: uploads, the kernel arguments and
//! their launch, graph capture, and the SGD kernel checked against the launch shape.

use std::sync::Arc;

use cudarc::driver::sys::{CUgraphInstantiate_flags, CUstreamCaptureMode};
use cudarc::driver::{
    CudaFunction, CudaGraph, CudaSlice, CudaStream, DevicePtr, DeviceRepr, LaunchConfig,
    PushKernelArg,
};

use crate::SrKey;
use crate::error::{CudaSgdError, LaunchError};
use crate::kernel_tables::DeviceTensorTable;
use crate::kernels::{SCHEDULE_ADVANCE_KERNEL, SGD_KERNEL, SGD_MULTI_TENSOR, SGD_TYPED_KERNEL};
use crate::launch_options::CudaSgdOptions;
use crate::module_cache::function_for;

/// Device address of a buffer (no event bookkeeping needed: only read to build tables).
pub(crate) fn address<T>(slice: &CudaSlice<T>, stream: &CudaStream) -> u64 {
    let (ptr, _record) = slice.device_ptr(stream);
    ptr
}

/// Uploads a table of `#[repr(C)]` entries (`TensorEntry`, ...) into a fresh device buffer, as
/// its bytes (at least one byte long).
pub(crate) fn upload_table<T: bytemuck::Pod>(
    stream: &Arc<CudaStream>,
    entries: &[T],
    context: &'static str,
) -> Result<CudaSlice<u8>, CudaSgdError> {
    upload(stream, bytemuck::cast_slice(entries), context)
}

/// Uploads `words` into a fresh device buffer (at least one element long).
pub(crate) fn upload<T: DeviceRepr + Copy + Default>(
    stream: &Arc<CudaStream>,
    words: &[T],
    context: &'static str,
) -> Result<CudaSlice<T>, CudaSgdError> {
    if words.is_empty() {
        return stream.clone_htod(&[T::default()]).map_err(CudaSgdError::driver(context));
    }
    stream.clone_htod(words).map_err(CudaSgdError::driver(context))
}

/// The per-tensor tables of a launch in device memory: the tensor table and chunk list of a
/// [`DeviceTensorTable`], and one first-step word per chunk.
pub(crate) struct TensorTables {
    /// The `TensorEntry` table, as bytes.
    pub(crate) tensors: CudaSlice<u8>,
    /// The `ChunkEntry` list, as bytes.
    pub(crate) chunks: CudaSlice<u8>,
    /// One word per chunk: 1 while the chunk's tensor has not taken its first momentum step.
    pub(crate) chunk_first: CudaSlice<u32>,
}

impl TensorTables {
    /// Uploads `table` and `chunk_first` (one word per chunk) into fresh device buffers.
    pub(crate) fn upload(
        stream: &Arc<CudaStream>,
        table: &DeviceTensorTable,
        chunk_first: &[u32],
    ) -> Result<Self, CudaSgdError> {
        Ok(Self {
            tensors: upload_table(stream, &table.tensors, "upload tensor table")?,
            chunks: upload_table(stream, &table.chunks, "upload chunk list")?,
            chunk_first: upload(stream, chunk_first, "upload chunk state")?,
        })
    }
}

/// Arguments of `sgd_multi_tensor_f32` (and, with `typed`, of `sgd_multi_tensor_typed`), in
/// order (device addresses as `u64`; 0 = null).
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
    /// The device schedule's `ScheduleState` (0: `neg_lrs` is one row of host lrs).
    pub(crate) schedule: u64,
    /// `sgd_multi_tensor_typed` with the two arguments below.
    pub(crate) typed: bool,
    /// `-lr` per group in f64 (float64 tensors).
    pub(crate) neg_lrs64: u64,
    /// The `SrKey` of stochastic rounding.
    pub(crate) sr_key: u64,
    pub(crate) grid: u32,
    pub(crate) block: u32,
}

impl KernelArgs {
    /// The arguments of a step over `table` (uploaded as `tables`) with the group table
    /// `groups` and one `f32(-lr)` per group in `neg_lrs`: no grad scaler, no device schedule,
    /// one block of `block_threads` per chunk.
    pub(crate) fn new(
        stream: &CudaStream,
        table: &DeviceTensorTable,
        tables: &TensorTables,
        groups: &CudaSlice<u8>,
        neg_lrs: &CudaSlice<f32>,
        block_threads: u32,
    ) -> Self {
        // Fits: DeviceTensorTable::build rejects more than u32::MAX chunks.
        let num_chunks = u32::try_from(table.num_chunks()).unwrap_or(u32::MAX);
        Self {
            tensors: address(&tables.tensors, stream),
            chunks: address(&tables.chunks, stream),
            num_chunks,
            chunk_elems: u64::try_from(table.chunk_elems).unwrap_or(u64::MAX),
            groups: address(groups, stream),
            neg_lrs: address(neg_lrs, stream),
            chunk_first: address(&tables.chunk_first, stream),
            grad_scale: 0,
            found_inf: 0,
            schedule: 0,
            typed: false,
            neg_lrs64: 0,
            sr_key: 0,
            grid: num_chunks.min(i32::MAX.unsigned_abs()),
            block: block_threads,
        }
    }

    /// These arguments with the grad scaler `[grad_scale, found_inf]` of `scaler` (none: 0).
    pub(crate) fn with_scaler(self, scaler: Option<&CudaSlice<f32>>, stream: &CudaStream) -> Self {
        let (grad_scale, found_inf) = match scaler {
            Some(d) => {
                let a = address(d, stream);
                (a, a + 4)
            }
            None => (0, 0),
        };
        Self { grad_scale, found_inf, ..self }
    }

    /// These arguments for `sgd_multi_tensor_typed`, with the f64 learning rates and the
    /// stochastic rounding key of `typed` (`None`: the float32 kernel).
    pub(crate) fn with_typed(self, typed: Option<&TypedArgs>, stream: &CudaStream) -> Self {
        match typed {
            Some(t) => Self {
                typed: true,
                neg_lrs64: address(&t.neg_lrs64, stream),
                sr_key: address(&t.sr_key, stream),
                ..self
            },
            None => self,
        }
    }
}

/// The device buffers only `sgd_multi_tensor_typed` reads: `-lr` per group in f64 and the
/// stochastic rounding key (`SrKey`, as 4 words).
pub(crate) struct TypedArgs {
    pub(crate) neg_lrs64: CudaSlice<f64>,
    pub(crate) sr_key: CudaSlice<u32>,
}

impl TypedArgs {
    /// Uploads `neg_lrs64` and `key` into fresh device buffers.
    pub(crate) fn upload(
        stream: &Arc<CudaStream>,
        neg_lrs64: &[f64],
        key: SrKey,
    ) -> Result<Self, CudaSgdError> {
        Ok(Self {
            neg_lrs64: upload(stream, neg_lrs64, "upload float64 learning rates")?,
            sr_key: upload(stream, &bytemuck::cast::<SrKey, [u32; 4]>(key), "upload rounding key")?,
        })
    }

    /// Copies `key` into the device key (in stream order).
    pub(crate) fn set_key(
        &mut self,
        stream: &Arc<CudaStream>,
        key: SrKey,
    ) -> Result<(), CudaSgdError> {
        let words = bytemuck::cast::<SrKey, [u32; 4]>(key);
        stream
            .memcpy_htod(&words, &mut self.sr_key)
            .map_err(CudaSgdError::driver("upload rounding key"))
    }

    /// Copies `neg_lrs64` into the device learning rates (in stream order).
    pub(crate) fn set_lrs(
        &mut self,
        stream: &Arc<CudaStream>,
        neg_lrs64: &[f64],
    ) -> Result<(), CudaSgdError> {
        stream
            .memcpy_htod(neg_lrs64, &mut self.neg_lrs64)
            .map_err(CudaSgdError::driver("upload float64 learning rates"))
    }
}

/// Enqueues one launch of `sgd_multi_tensor_f32` (or, with `a.typed`, of
/// `sgd_multi_tensor_typed`: `func` is then that kernel).
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
    if a.typed {
        builder.arg(&a.neg_lrs64).arg(&a.sr_key);
    }
    // SAFETY: the arguments match `sgd_multi_tensor_f32(const TensorEntry*, const ChunkEntry*,
    // unsigned int, unsigned long long, const GroupEntry*, const float*, unsigned int*,
    // const float*, const float*, const ScheduleState*)` in order and size: pointers are passed
    // as u64 device addresses, `num_chunks` as u32, `chunk_elems` as u64. The tables behind them
    // are owned by the caller (a `CudaSgd`, a `BorrowedSgd` step or a `FixedBorrowedSgd`) and
    // were built by `DeviceTensorTable::build` over validated ranges: `tensors` holds one
    // `TensorEntry` per tensor, `chunks` `num_chunks` `ChunkEntry`s whose tensor index and chunk
    // index are in range, `groups` one `GroupEntry` per group (the structs of the kernel,
    // layouts asserted on both sides) and `neg_lrs` one f32 per group (every tensor's group is
    // < the group count), `chunk_first` one u32 per chunk; `schedule` is 0 (null: `neg_lrs` is
    // one f32 per group) or the 16-byte `ScheduleState` of a `DeviceSchedule` whose
    // `rows * groups` f32 table is what `neg_lrs` points to (the kernel reads row `row < rows`
    // only, `groups` = the group count); every param/grad/momentum range lies inside a live
    // allocation of the same context (checked by the caller's validation), so each chunk's
    // accesses `[chunk * chunk_elems, min(numel, (chunk + 1) * chunk_elems))` stay in bounds.
    // The grad-scaler addresses are 0 (null, checked by the kernel) or two f32 the caller
    // owns or borrows. With `typed`, `func` is `sgd_multi_tensor_typed`, whose two further
    // arguments are `neg_lrs64`, one f64 per group, and `sr_key`, one 16-byte `SrKey`, both
    // device buffers of a `TypedArgs` the caller owns; each tensor's addresses then cover its
    // `numel` elements of its kind's size (and its master copy `numel` f32), checked by
    // `BorrowedPlan::new` and promised live by the caller.
    unsafe { builder.launch(cfg) }
        .map(|_| ())
        .map_err(CudaSgdError::driver("cuLaunchKernel sgd_multi_tensor"))
}

/// Enqueues `sgd_schedule_advance(state)`: one block of one thread.
pub(crate) fn launch_schedule_advance(
    stream: &CudaStream,
    func: &CudaFunction,
    state: u64,
) -> Result<(), CudaSgdError> {
    let cfg = LaunchConfig { grid_dim: (1, 1, 1), block_dim: (1, 1, 1), shared_mem_bytes: 0 };
    let mut builder = stream.launch_builder(func);
    builder.arg(&state);
    // SAFETY: `sgd_schedule_advance(ScheduleState*)` takes one pointer, passed as the u64 device
    // address of a `DeviceSchedule`'s counter: 4 u32 (the 16-byte `ScheduleState`, layout
    // asserted on both sides) owned by the `CudaSgd` that enqueues this launch on its stream.
    // The kernel's one thread reads and writes those 16 bytes only.
    unsafe { builder.launch(cfg) }
        .map(|_| ())
        .map_err(CudaSgdError::driver("cuLaunchKernel sgd_schedule_advance"))
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

/// The SGD kernel for `stream`'s device (compiled on first use; `typed`: the kernel for every
/// dtype, else the float32 one), checked to launch with `options.block_threads`: the kernel's
/// registers per thread cap the block size below 1024.
///
/// # Errors
/// [`LaunchError::BlockTooLarge`], compile and driver errors.
pub(crate) fn sgd_function(
    stream: &CudaStream,
    options: &CudaSgdOptions,
    typed: bool,
) -> Result<CudaFunction, CudaSgdError> {
    let name = if typed { SGD_TYPED_KERNEL } else { SGD_KERNEL };
    let func = function_for(stream.context(), &SGD_MULTI_TENSOR, name)?;
    let max = func
        .max_threads_per_block()
        .map_err(CudaSgdError::driver("cuFuncGetAttribute(MAX_THREADS_PER_BLOCK)"))?;
    let max = u32::try_from(max).unwrap_or(0);
    if options.block_threads > max {
        let block_threads = options.block_threads;
        return Err(LaunchError::BlockTooLarge { block_threads, max }.into());
    }
    Ok(func)
}

/// The device schedule's counter kernel `sgd_schedule_advance` for `stream`'s device.
pub(crate) fn schedule_advance_function(stream: &CudaStream) -> Result<CudaFunction, CudaSgdError> {
    function_for(stream.context(), &SGD_MULTI_TENSOR, SCHEDULE_ADVANCE_KERNEL)
}

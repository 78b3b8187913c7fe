//! The fused pass over candle CUDA tensors: one sgd-cuda launch for every variable with a
//! gradient, on candle's stream for the device (feature `cuda`).
//!
//! candle hands out a CUDA storage mutably only inside an in-place op, one tensor at a time, and
//! the nesting the CPU path uses for that ([`crate::cpu`]) would cut a step into launches of at
//! most [`crate::MAX_NESTED`] tensors. The kernel does not need Rust references, only device
//! addresses: each variable's and gradient's address is read under its storage's read lock
//! (`Tensor::storage_and_layout`, one lock at a time, so a storage shared by two tensors is
//! never locked twice by this thread), and the kernel writes the parameters through those
//! addresses in stream order. The optimizer holds a clone of every tensor of the step until the
//! launch is enqueued, so no storage is freed before that; candle frees device memory in stream
//! order, after the step.
//!
//! Streams: candle's `Device::new_cuda` uses CUDA's per-thread default stream, so candle's ops
//! and this step are ordered with each other when they are issued from the same host thread
//! (as candle's own ops are): step on the thread that runs the model. In cudarc's multi-stream
//! mode (`Device::new_cuda_with_stream` and other streams in use), the step records its reads of
//! every tensor after the launch, but it cannot record the writes to the parameters (candle
//! lends no mutable slice outside an in-place op): make other streams wait on candle's stream
//! before reading the parameters there.

use core::fmt;
use std::sync::Arc;

use candle_core::cuda_backend::cudarc::driver::{CudaSlice, CudaStream, DevicePtr};
use candle_core::{Device, Layout, Storage, Tensor};
use sgd_core::SgdConfig;
use sgd_cuda::{
    BorrowedPlan, BorrowedSgd, BorrowedTensor, CudaSgdError, CudaSgdOptions, LibraryError,
    TensorError,
};

use crate::CandleSgdError;

/// One variable's momentum buffer on the device, and whether it holds a value.
#[derive(Debug, Default)]
pub(crate) struct DeviceMomentum {
    pub(crate) buffer: Option<CudaSlice<f32>>,
    pub(crate) initialized: bool,
}

/// The CUDA side of an optimizer: the device's stream, the momentum buffers of its variables
/// and the fused step, kept across steps.
pub(crate) struct CudaState {
    pub(crate) stream: Arc<CudaStream>,
    /// `momentum[group][var]` (unused for CPU variables).
    pub(crate) momentum: Vec<Vec<DeviceMomentum>>,
    /// The step (created at the first step with CUDA work).
    sgd: Option<BorrowedSgd>,
    /// The gradient scale uploaded to the step.
    grad_scale: Option<f32>,
}

impl fmt::Debug for CudaState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CudaState")
            .field("ordinal", &self.stream.context().ordinal())
            .field("grad_scale", &self.grad_scale)
            .finish_non_exhaustive()
    }
}

/// One variable to step: group and variable index, the parameter and its gradient.
pub(crate) type Work = (usize, usize, Tensor, Tensor);

/// A step whose every address is taken and checked, and whose options and gradient scale are
/// uploaded: launching it is all that is left.
pub(crate) struct Prepared {
    tensors: Vec<BorrowedTensor>,
    /// (group, variable) of each entry of `tensors`.
    index: Vec<(usize, usize)>,
}

impl Prepared {
    /// Elements the step updates.
    pub(crate) fn elements(&self) -> usize {
        self.tensors.iter().map(|t| t.len).sum()
    }

    /// Tensors the step updates.
    pub(crate) fn tensors(&self) -> usize {
        self.tensors.len()
    }
}

/// Runs `f` on `t`'s f32 CUDA slice and layout, under the storage's read lock (held only for
/// the call).
fn with_slice<R>(
    t: &Tensor,
    f: impl FnOnce(&CudaSlice<f32>, &Layout) -> Result<R, CandleSgdError>,
) -> Result<R, CandleSgdError> {
    let (storage, layout) = t.storage_and_layout();
    let Storage::Cuda(cs) = &*storage else {
        return Err(candle_core::Error::Msg("sgd-candle: not a CUDA tensor".into()).into());
    };
    f(cs.as_cuda_slice::<f32>()?, layout)
}

/// Device address range `[start, end)` of `t`'s elements: an f32 CUDA tensor with a contiguous
/// layout. The read lock is held only while the address is read.
pub(crate) fn device_range(t: &Tensor, stream: &CudaStream) -> Result<(u64, u64), CandleSgdError> {
    with_slice(t, |slice, layout| {
        let (start, end) = layout
            .contiguous_offsets()
            .ok_or_else(|| candle_core::Error::Msg("sgd-candle: non-contiguous tensor".into()))?;
        if end > slice.len() {
            return Err(
                candle_core::Error::Msg("sgd-candle: layout outside its storage".into()).into()
            );
        }
        // cudarc's use-tracking guard records a read on this stream when dropped (multi-stream
        // mode only); `launch` records the reads again after the kernel.
        let (base, _guard) = slice.device_ptr(stream);
        Ok((base + 4 * start as u64, base + 4 * end as u64))
    })
}

/// A failed driver call of candle's CUDA backend (the same cudarc as sgd-cuda's), as sgd-cuda
/// reports its own.
fn driver_error(
    context: &'static str,
    source: candle_core::cuda_backend::cudarc::driver::DriverError,
) -> CandleSgdError {
    CandleSgdError::Cuda(LibraryError::Driver { context, source }.into())
}

/// Maps sgd-cuda's tensor indices in an error back to (group, variable).
fn named(e: CudaSgdError, index: &[(usize, usize)]) -> CandleSgdError {
    match e {
        CudaSgdError::Tensor(TensorError::Overlap { tensor, other })
            if tensor < index.len() && other < index.len() =>
        {
            CandleSgdError::SharedStorage { first: index[other], second: index[tensor] }
        }
        e => CandleSgdError::Cuda(e),
    }
}

impl CudaState {
    /// The state for candle's CUDA `device` (`None` for any other device), with room for the
    /// momentum buffers of groups of `sizes` variables.
    pub(crate) fn for_device(device: &Device, sizes: &[usize]) -> Option<Self> {
        match device {
            Device::Cuda(d) => Some(Self {
                stream: d.cuda_stream(),
                momentum: sizes
                    .iter()
                    .map(|&n| (0..n).map(|_| DeviceMomentum::default()).collect())
                    .collect(),
                sgd: None,
                grad_scale: None,
            }),
            _ => None,
        }
    }

    /// Whether `device` is this state's device.
    pub(crate) fn is_device(&self, device: &Device) -> bool {
        matches!(device, Device::Cuda(d) if d.cuda_stream().context().ordinal() == self.stream.context().ordinal())
    }

    /// Variable `var` of group `group`'s momentum buffer, copied to the host (`None` before its
    /// first step with momentum).
    pub(crate) fn momentum_to_vec(
        &self,
        group: usize,
        var: usize,
    ) -> Result<Option<Vec<f32>>, CandleSgdError> {
        let Some(m) = self.momentum.get(group).and_then(|g| g.get(var)) else { return Ok(None) };
        match (&m.buffer, m.initialized) {
            (Some(b), true) => {
                let copied = self.stream.clone_dtoh(b);
                Ok(Some(copied.map_err(|source| driver_error("copy a momentum buffer", source))?))
            }
            _ => Ok(None),
        }
    }

    /// Everything of a step that can fail, before any variable is written: allocates the
    /// momentum buffers `work` needs (zeros, on this stream; torch creates them at a parameter's
    /// first step), takes every address, checks the step as sgd-cuda will (no written range
    /// overlapping another: [`CandleSgdError::SharedStorage`]), creates the step on first use
    /// (compiling the kernel) and uploads the groups' options and `grad_scale`.
    pub(crate) fn prepare(
        &mut self,
        configs: &[SgdConfig],
        grad_scale: Option<f32>,
        work: &[Work],
    ) -> Result<Prepared, CandleSgdError> {
        let mut tensors = Vec::with_capacity(work.len());
        let mut index = Vec::with_capacity(work.len());
        for (gi, vi, param, grad) in work {
            let (gi, vi) = (*gi, *vi);
            let len = param.elem_count();
            let m = &mut self.momentum[gi][vi];
            let with_momentum = configs[gi].momentum != 0.0;
            if with_momentum && m.buffer.as_ref().is_none_or(|b| b.len() != len) {
                let buffer = self
                    .stream
                    .alloc_zeros::<f32>(len)
                    .map_err(|source| driver_error("allocate a momentum buffer", source))?;
                m.buffer = Some(buffer);
                m.initialized = false;
            }
            let momentum = match (&m.buffer, with_momentum) {
                (Some(b), true) => Some(b.device_ptr(&self.stream).0),
                _ => None,
            };
            let (param, grad) =
                (device_range(param, &self.stream)?.0, device_range(grad, &self.stream)?.0);
            tensors.push(BorrowedTensor::new(gi, len, param, grad, momentum, !m.initialized));
            index.push((gi, vi));
        }
        BorrowedPlan::new(configs, &tensors, CudaSgdOptions::default().chunk())
            .map_err(|e| named(e, &index))?;
        let sgd = match &mut self.sgd {
            Some(sgd) => {
                sgd.set_groups(configs).map_err(CandleSgdError::Cuda)?;
                sgd
            }
            slot => {
                let sgd = BorrowedSgd::new(
                    self.stream.clone(),
                    configs.to_vec(),
                    CudaSgdOptions::default(),
                )
                .map_err(CandleSgdError::Cuda)?;
                self.grad_scale = None;
                slot.insert(sgd)
            }
        };
        if self.grad_scale.map(f32::to_bits) != grad_scale.map(f32::to_bits) {
            sgd.set_grad_scale(grad_scale).map_err(CandleSgdError::Cuda)?;
            self.grad_scale = grad_scale;
        }
        Ok(Prepared { tensors, index })
    }

    /// Enqueues the prepared step (one launch), records its reads for cudarc, and marks the
    /// momentum buffers it initialised. `work` is the slice `prepared` was made from.
    pub(crate) fn launch(
        &mut self,
        prepared: &Prepared,
        work: &[Work],
    ) -> Result<(), CandleSgdError> {
        let Some(sgd) = self.sgd.as_mut() else { return Ok(()) };
        if prepared.tensors.is_empty() {
            return Ok(());
        }
        // SAFETY: every address was taken in `prepare` from a candle CUDA storage of this
        // stream's device (`as_cuda_slice`, offset by a contiguous layout checked to lie inside
        // it) or from a momentum buffer this optimizer owns, `len` f32 each; `BorrowedPlan::new` checked that
        // no written range (parameters, momentum buffers) overlaps any other range. `work` holds
        // a clone of every parameter and gradient tensor, so no storage is freed before the
        // launch is enqueued, and candle frees device memory in stream order. candle issues its
        // ops on this device's stream (per host thread: see the module docs), so anything that
        // reads or writes these tensors afterwards runs after the step.
        unsafe { sgd.step(&prepared.tensors) }.map_err(|e| named(e, &prepared.index))?;
        if self.stream.context().is_in_multi_stream_mode() {
            // The step's reads, recorded after the kernel (cudarc's use tracking). These
            // tensors gave their slices in `prepare`; a failure here would only skip a record,
            // and the step is enqueued already, so it is not an error of the step.
            for t in work.iter().flat_map(|(_, _, param, grad)| [param, grad]) {
                let _recorded = with_slice(t, |slice, _| {
                    drop(slice.device_ptr(&self.stream));
                    Ok(())
                });
            }
        }
        for (t, &(gi, vi)) in prepared.tensors.iter().zip(&prepared.index) {
            if t.momentum.is_some() {
                self.momentum[gi][vi].initialized = true;
            }
        }
        Ok(())
    }
}

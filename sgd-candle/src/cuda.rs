//! The fused pass over candle CUDA tensors: one sgd-cuda launch for every variable with a
//! gradient, on candle's own stream for the device (feature `cuda`).
//!
//! candle hands out a CUDA storage mutably only inside an in-place op, one tensor at a time, and
//! the nesting the CPU path uses for that ([`crate::cpu`]) would cut a step into launches of at
//! most [`crate::MAX_NESTED`] tensors. The kernel does not need Rust references, only device
//! addresses: each variable's and gradient's storage is read-locked
//! (`Tensor::storage_and_layout`) while its address is taken and the launch is enqueued, and the
//! kernel writes the parameters through those addresses, in candle's stream order. Holding the
//! read locks keeps candle from handing out the storages mutably (or dropping them) while the
//! step is enqueued; every later candle op on these tensors is enqueued on the same stream,
//! after the step, so it sees the updated values.

use std::sync::Arc;

use candle_core::cuda_backend::cudarc::driver::{CudaSlice, CudaStream, DevicePtr};
use candle_core::{Device, Storage, StorageRef, Tensor};
use sgd_core::SgdConfig;
use sgd_cuda::{BorrowedSgd, BorrowedTensor, CudaSgdError, CudaSgdOptions};

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
    /// The step, and the group options it was built with (the learning rates aside).
    sgd: Option<(Vec<SgdConfig>, BorrowedSgd)>,
    /// The gradient scale uploaded to the step.
    grad_scale: Option<f32>,
}

impl std::fmt::Debug for CudaState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CudaState")
            .field("ordinal", &self.stream.context().ordinal())
            .field("grad_scale", &self.grad_scale)
            .finish_non_exhaustive()
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
            (Some(b), true) => Ok(Some(self.stream.clone_dtoh(b).map_err(|source| {
                CandleSgdError::Cuda(CudaSgdError::Driver {
                    context: "copy a momentum buffer",
                    source,
                })
            })?)),
            _ => Ok(None),
        }
    }
}

/// One variable to step: group and variable index, the parameter and its gradient.
pub(crate) type Work = (usize, usize, Tensor, Tensor);

/// A step whose every address is taken and checked, ready to launch: holds the read locks.
pub(crate) struct Prepared<'w> {
    _locks: Vec<StorageRef<'w>>,
    tensors: Vec<BorrowedTensor>,
    /// (group, variable) of each entry of `tensors`.
    index: Vec<(usize, usize)>,
}

/// Device address of `t`'s first element: an f32 CUDA tensor with a contiguous layout.
fn address<'t>(
    t: &'t Tensor,
    stream: &CudaStream,
    locks: &mut Vec<StorageRef<'t>>,
) -> Result<u64, CandleSgdError> {
    let (storage, layout) = t.storage_and_layout();
    let at = {
        let Storage::Cuda(cs) = &*storage else {
            return Err(candle_core::Error::Msg("sgd-candle: not a CUDA tensor".into()).into());
        };
        let slice = cs.as_cuda_slice::<f32>()?;
        let (start, end) = layout
            .contiguous_offsets()
            .ok_or_else(|| candle_core::Error::Msg("sgd-candle: non-contiguous tensor".into()))?;
        if end > slice.len() {
            return Err(
                candle_core::Error::Msg("sgd-candle: layout outside its storage".into()).into()
            );
        }
        // Only the address is kept: cudarc's use-tracking guard records a read on drop, and
        // every access here is on this one stream.
        let (base, _guard) = slice.device_ptr(stream);
        base + 4 * start as u64
    };
    locks.push(storage);
    Ok(at)
}

/// Maps sgd-cuda's tensor indices in an error back to (group, variable).
fn named(e: CudaSgdError, index: &[(usize, usize)]) -> CandleSgdError {
    match e {
        CudaSgdError::Overlap { tensor, other } if tensor < index.len() && other < index.len() => {
            CandleSgdError::SharedStorage { first: index[other], second: index[tensor] }
        }
        e => CandleSgdError::Cuda(e),
    }
}

impl CudaState {
    /// Allocates the momentum buffers `work` needs (zeros, on this stream; torch creates them at
    /// a parameter's first step), takes every address and checks the step as sgd-cuda will
    /// (no written range overlapping another): nothing is written.
    pub(crate) fn prepare<'w>(
        &mut self,
        configs: &[SgdConfig],
        work: &'w [Work],
    ) -> Result<Prepared<'w>, CandleSgdError> {
        let mut locks = Vec::with_capacity(2 * work.len());
        let mut tensors = Vec::with_capacity(work.len());
        let mut index = Vec::with_capacity(work.len());
        for (gi, vi, param, grad) in work {
            let (gi, vi) = (*gi, *vi);
            let len = param.elem_count();
            let m = &mut self.momentum[gi][vi];
            let with_momentum = configs[gi].momentum != 0.0;
            if with_momentum && m.buffer.as_ref().is_none_or(|b| b.len() != len) {
                let buffer = self.stream.alloc_zeros::<f32>(len).map_err(|source| {
                    CandleSgdError::Cuda(CudaSgdError::Driver {
                        context: "allocate a momentum buffer",
                        source,
                    })
                })?;
                m.buffer = Some(buffer);
                m.initialized = false;
            }
            let momentum = match (&m.buffer, with_momentum) {
                (Some(b), true) => Some(b.device_ptr(&self.stream).0),
                _ => None,
            };
            tensors.push(BorrowedTensor {
                group: gi,
                len,
                param: address(param, &self.stream, &mut locks)?,
                grad: address(grad, &self.stream, &mut locks)?,
                momentum,
                first_step: !m.initialized,
            });
            index.push((gi, vi));
        }
        sgd_cuda::plan(configs, &tensors, CudaSgdOptions::default().chunk())
            .map_err(|e| named(e, &index))?;
        Ok(Prepared { _locks: locks, tensors, index })
    }

    /// Enqueues the prepared step (one launch) with the groups' current options and
    /// `grad_scale`, then marks the momentum buffers it initialised.
    pub(crate) fn launch(
        &mut self,
        configs: &[SgdConfig],
        grad_scale: Option<f32>,
        prepared: Prepared<'_>,
    ) -> Result<(), CandleSgdError> {
        if prepared.tensors.is_empty() {
            return Ok(());
        }
        let without_lr = |c: &SgdConfig| SgdConfig { lr: 0.0, ..*c };
        let built: Vec<SgdConfig> = configs.iter().map(without_lr).collect();
        let sgd = match &mut self.sgd {
            Some((b, sgd)) if *b == built => sgd,
            slot => {
                // First step, or new options (e.g. a schedule cycling momentum): a new group
                // table.
                let sgd = BorrowedSgd::new(
                    self.stream.clone(),
                    configs.to_vec(),
                    CudaSgdOptions::default(),
                )
                .map_err(CandleSgdError::Cuda)?;
                self.grad_scale = None;
                &mut slot.insert((built, sgd)).1
            }
        };
        for (g, c) in configs.iter().enumerate() {
            sgd.set_lr(g, c.lr).map_err(CandleSgdError::Cuda)?;
        }
        if self.grad_scale != grad_scale {
            sgd.set_grad_scale(grad_scale).map_err(CandleSgdError::Cuda)?;
            self.grad_scale = grad_scale;
        }
        // SAFETY: every address was taken in `prepare` from a live candle CUDA storage of this
        // stream's device (`as_cuda_slice`, offset by a contiguous layout checked to lie inside
        // it) or from a momentum buffer this optimizer owns, `len` f32 each; `plan` checked that
        // no written range (parameters, momentum buffers) overlaps any other range. The read
        // locks in `prepared` are held until the launch is enqueued, so candle cannot hand the
        // storages out mutably or free them meanwhile; candle enqueues all work of this device on
        // this same stream, so anything that reads or writes these tensors afterwards runs after
        // the step, and a storage candle drops later is freed in stream order.
        unsafe { sgd.step(&prepared.tensors) }.map_err(|e| named(e, &prepared.index))?;
        for (t, &(gi, vi)) in prepared.tensors.iter().zip(&prepared.index) {
            if t.momentum.is_some() {
                self.momentum[gi][vi].initialized = true;
            }
        }
        Ok(())
    }
}

//! The host-side checks of every call, before anything reaches the driver: functions of the
//! C arguments only, tested without CUDA.
use sgd_capi_support::dtype_code::{dtype_from_code, rounding_from_code};
use sgd_cuda::{
    BorrowedPlan, BorrowedPrecision, BorrowedTensor, CudaSgdError, CudaSgdOptions, Dtype,
    GroupError, SgdConfig, TensorError, validate_groups,
};

use crate::error::{CapiError, Field};
use crate::types::{SgdCudaConfigC, SgdCudaTypedTensorC};

/// `CU_STREAM_LEGACY`: the legacy default stream's special handle (null is the other one).
const CU_STREAM_LEGACY: usize = 0x1;

/// A device byte range the step writes: a parameter or a momentum buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WrittenRange {
    /// First byte.
    pub(crate) start: u64,
    /// One past the last byte.
    pub(crate) end: u64,
    /// The tensor's index in the caller's array.
    pub(crate) tensor: usize,
    /// `param`, `momentum_buffer` or `master`.
    pub(crate) field: Field,
}

/// The arguments of a create call, checked: what `FixedBorrowedSgd::new` takes.
#[derive(Clone, Debug)]
pub(crate) struct CheckedSetup {
    /// Every group's options.
    pub(crate) groups: Vec<SgdConfig>,
    /// The tensors with a gradient, in the caller's order.
    pub(crate) tensors: Vec<BorrowedTensor>,
    /// Every range the step writes, to check the gradient scaler against.
    pub(crate) written: Vec<WrittenRange>,
}

/// Checks an array argument of `count` values of `T` at `ptr`: not null when `count > 0`, at
/// least one value unless `may_be_empty`, aligned for `T`, at most `isize::MAX` bytes and not
/// wrapping the address space. Then `ptr` may be viewed as a slice of `count` values.
pub(crate) fn check_array<T>(
    ptr: *const T,
    count: usize,
    field: Field,
    may_be_empty: bool,
) -> Result<(), CapiError> {
    if count == 0 {
        return if may_be_empty { Ok(()) } else { Err(CapiError::Empty { field }) };
    }
    if ptr.is_null() {
        return Err(CapiError::NullPointer { tensor: None, field });
    }
    if !ptr.is_aligned() {
        let (address, align) = (ptr.addr(), align_of::<T>());
        return Err(CapiError::Misaligned { tensor: None, field, address, align });
    }
    let fits = count
        .checked_mul(size_of::<T>())
        .filter(|&bytes| isize::try_from(bytes).is_ok())
        .and_then(|bytes| ptr.addr().checked_add(bytes));
    match fits {
        Some(_) => Ok(()),
        None => Err(CapiError::TooLarge { tensor: None, field, count }),
    }
}

/// Checks the device ordinal: `>= 0` (whether the device exists, the driver says later).
pub(crate) fn check_device(device: i32) -> Result<usize, CapiError> {
    usize::try_from(device).map_err(|_| CapiError::InvalidDevice { device })
}

/// Checks the stream handle: not null and not `CU_STREAM_LEGACY` (the legacy default stream,
/// which cannot be captured and synchronises with every other blocking stream).
pub(crate) fn check_stream(stream: usize) -> Result<(), CapiError> {
    if stream == 0 || stream == CU_STREAM_LEGACY {
        return Err(CapiError::DefaultStream { stream });
    }
    Ok(())
}

/// The device byte range of `numel` elements of `size` bytes at `ptr`, checked: aligned to
/// `size`, at most `isize::MAX` bytes, not wrapping the address space.
fn device_range<T>(
    ptr: *const T,
    numel: usize,
    size: usize,
    tensor: usize,
    field: Field,
) -> Result<(u64, u64), CapiError> {
    let too_large = CapiError::TooLarge { tensor: Some(tensor), field, count: numel };
    let bytes = numel
        .checked_mul(size)
        .filter(|&b| isize::try_from(b).is_ok())
        .and_then(|b| u64::try_from(b).ok())
        .ok_or_else(|| too_large.clone())?;
    if !ptr.addr().is_multiple_of(size) {
        let (address, align) = (ptr.addr(), size);
        return Err(CapiError::Misaligned { tensor: Some(tensor), field, address, align });
    }
    let start = u64::try_from(ptr.addr()).map_err(|_| too_large.clone())?;
    let end = start.checked_add(bytes).ok_or(too_large)?;
    Ok((start, end))
}

/// The dtypes, master copy and rounding of tensor `i`, its codes checked to be the header's
/// and their combination sgd-core's ([`sgd_core::check_tensor`], naming the tensor).
fn precision(
    i: usize,
    t: &SgdCudaTypedTensorC,
    has_buffer: bool,
) -> Result<BorrowedPrecision, CapiError> {
    let dtype = |code: u32, field| {
        dtype_from_code(code).ok_or(CapiError::UnknownCode { tensor: i, field, code })
    };
    let (param, grad) =
        (dtype(t.param_dtype, Field::ParamDtype)?, dtype(t.grad_dtype, Field::GradDtype)?);
    let buffer = dtype(t.buffer_dtype, Field::BufferDtype)?;
    let rounding = rounding_from_code(t.rounding).ok_or(CapiError::UnknownCode {
        tensor: i,
        field: Field::Rounding,
        code: t.rounding,
    })?;
    let master = (!t.master.is_null()).then_some(sgd_cuda::BorrowedMaster {
        address: u64::try_from(t.master.addr()).unwrap_or(u64::MAX),
        len: t.master_numel,
    });
    let sr_tensor = u32::try_from(i).ok();
    let p = BorrowedPrecision { param, grad, buffer, master, rounding, sr_tensor };
    sgd_core::check_tensor(i, t.numel, &p.dtypes(has_buffer)).map_err(CudaSgdError::from)?;
    Ok(p)
}

/// Checks the groups and tensors of a create call: every group's options (sgd-core's rules,
/// in group order), then every tensor with a gradient in order (group index, dtype and rounding
/// codes, their combination, null `param`, sizes, alignment to the element, momentum buffer,
/// master copy), then the overlaps of written ranges with any other range
/// ([`BorrowedPlan::new`]). Tensors without a gradient are left out, unchecked.
pub(crate) fn check_setup(
    groups: &[SgdCudaConfigC],
    tensors: &[SgdCudaTypedTensorC],
) -> Result<CheckedSetup, CapiError> {
    let configs: Vec<SgdConfig> = groups.iter().map(|&g| g.into()).collect();
    validate_groups(&configs)?;
    let mut planned = Vec::with_capacity(tensors.len());
    let mut index = Vec::with_capacity(tensors.len());
    let mut written = Vec::with_capacity(2 * tensors.len());
    for (i, t) in tensors.iter().enumerate().filter(|(_, t)| !t.grad.is_null()) {
        let group = usize::try_from(t.group).unwrap_or(usize::MAX);
        let Some(config) = configs.get(group) else {
            let groups = configs.len();
            return Err(
                CudaSgdError::from(GroupError::Unknown { tensor: Some(i), group, groups }).into()
            );
        };
        let has_momentum = config.momentum != 0.0;
        let precision = precision(i, t, has_momentum)?;
        if t.param.is_null() && t.numel > 0 {
            return Err(CapiError::NullPointer { tensor: Some(i), field: Field::Param });
        }
        if has_momentum && t.momentum_buffer.is_null() {
            return Err(CudaSgdError::from(TensorError::MissingMomentumBuffer { tensor: i }).into());
        }
        let size = precision.param.size();
        let param = device_range(t.param, t.numel, size, i, Field::Param)?;
        let grad = device_range(t.grad, t.numel, size, i, Field::Grad)?;
        written.push(WrittenRange { start: param.0, end: param.1, tensor: i, field: Field::Param });
        let momentum = if has_momentum {
            let size = precision.buffer.size();
            let m = device_range(t.momentum_buffer, t.numel, size, i, Field::MomentumBuffer)?;
            let field = Field::MomentumBuffer;
            written.push(WrittenRange { start: m.0, end: m.1, tensor: i, field });
            Some(m.0)
        } else {
            None
        };
        if let Some(m) = precision.master {
            let r = device_range(t.master, m.len, Dtype::F32.size(), i, Field::Master)?;
            written.push(WrittenRange { start: r.0, end: r.1, tensor: i, field: Field::Master });
        }
        planned.push(
            BorrowedTensor::new(group, t.numel, param.0, grad.0, momentum, t.initialized == 0)
                .with_precision(precision),
        );
        index.push(i);
    }
    // The chunk size only changes how the work is cut: the checks are those of the step.
    let chunk_elems = CudaSgdOptions::default().chunk();
    BorrowedPlan::new(&configs, &planned, chunk_elems).map_err(|e| match e {
        CudaSgdError::Tensor(TensorError::Overlap { tensor, other }) => {
            let (tensor, other) = (index[tensor], index[other]);
            CudaSgdError::from(TensorError::Overlap { tensor, other }).into()
        }
        e => CapiError::from(e),
    })?;
    Ok(CheckedSetup { groups: configs, tensors: planned, written })
}

/// Checks a gradient-scaler device pointer (`grad_scale` or `found_inf`): null (none), or one
/// 4-byte aligned float outside every range the step writes.
pub(crate) fn check_scaler(
    written: &[WrittenRange],
    ptr: *const f32,
    field: Field,
) -> Result<Option<u64>, CapiError> {
    if ptr.is_null() {
        return Ok(None);
    }
    // Index 0 is not a tensor's: the message names the scaler itself.
    let (start, end) = device_range(ptr, 1, 4, 0, field).map_err(|e| match e {
        CapiError::Misaligned { field, address, align, .. } => {
            CapiError::Misaligned { tensor: None, field, address, align }
        }
        _ => CapiError::TooLarge { tensor: None, field, count: 1 },
    })?;
    match written.iter().find(|r| start < r.end && r.start < end) {
        Some(r) => Err(CapiError::ScalerOverlap { field, tensor: r.tensor, range: r.field }),
        None => Ok(Some(start)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test.
    use core::ptr;

    use super::*;
    use crate::SgdCudaStatus;

    /// A fake device address (never dereferenced on the host).
    fn at(address: usize) -> *mut f32 {
        ptr::without_provenance_mut(address)
    }

    fn written() -> Vec<WrittenRange> {
        let groups = [SgdCudaConfigC {
            lr: 0.1,
            momentum: 0.9,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: 0,
            maximize: 0,
        }];
        let t = crate::SgdCudaTensorC {
            param: at(0x1000),
            grad: at(0x2000),
            momentum_buffer: at(0x3000),
            numel: 16,
            group: 0,
            initialized: 0,
        };
        check_setup(&groups, &[SgdCudaTypedTensorC::from_f32(&t)]).unwrap().written
    }

    #[test]
    fn the_scaler_is_null_or_an_aligned_float_outside_written_ranges() {
        let w = written();
        assert_eq!(w.len(), 2);
        assert_eq!(check_scaler(&w, ptr::null(), Field::GradScale).unwrap(), None);
        assert_eq!(check_scaler(&w, at(0x2004), Field::GradScale).unwrap(), Some(0x2004));
        assert_eq!(check_scaler(&w, at(0x1040), Field::FoundInf).unwrap(), Some(0x1040));
        let e = check_scaler(&w, at(0x2002), Field::FoundInf).unwrap_err();
        assert_eq!(e.status(), SgdCudaStatus::Misaligned);
        assert_eq!(e.to_string(), "found_inf at 0x2002 is not aligned to 4 bytes");
        let e = check_scaler(&w, at(0x303c), Field::GradScale).unwrap_err();
        assert_eq!(e.status(), SgdCudaStatus::Overlap);
        assert_eq!(
            e.to_string(),
            "grad_scale lies inside the momentum_buffer of tensor 0, which the step writes"
        );
        let e = check_scaler(&w, at(usize::MAX - 3 - 4), Field::GradScale);
        assert!(e.is_ok(), "{e:?}");
        let e = check_scaler(&w, at(usize::MAX - 3), Field::GradScale).unwrap_err();
        assert_eq!(e.status(), SgdCudaStatus::TooLarge);
    }

    #[test]
    fn device_and_stream() {
        assert_eq!(check_device(3).unwrap(), 3);
        let e = check_device(-1).unwrap_err();
        assert_eq!(
            (e.status(), e.to_string().as_str()),
            (SgdCudaStatus::InvalidDevice, "device -1: a device ordinal is >= 0")
        );
        for bad in [0, 1] {
            assert_eq!(check_stream(bad).unwrap_err().status(), SgdCudaStatus::DefaultStream);
        }
        assert!(check_stream(2).is_ok(), "CU_STREAM_PER_THREAD can be captured");
    }
}

//! The `#[repr(C)]` structs of the header (`include/sgd_cuda.h`).

/// `sgd_cuda_config`: the options of one parameter group, as `torch.optim.SGD` takes them (the
/// fields of `sgd_cpu.h`'s `sgd_config`: the struct both C ABIs share).
pub type SgdCudaConfigC = sgd_capi_support::ConfigC;

/// `sgd_cuda_tensor`: one parameter tensor, as device pointers to `f32`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SgdCudaTensorC {
    /// `numel` floats, updated in place (may be null when `numel == 0`).
    pub param: *mut f32,
    /// `numel` floats, read only; null = the tensor is never updated (its other fields are not
    /// used).
    pub grad: *const f32,
    /// `numel` floats; required (and only used) when the group has momentum.
    pub momentum_buffer: *mut f32,
    /// Elements of the tensor.
    pub numel: usize,
    /// Index of the tensor's group.
    pub group: u32,
    /// Non-zero: the momentum buffer already holds a momentum value; `0`: the first step copies
    /// the gradient into it.
    pub initialized: u32,
}

/// `sgd_cuda_typed_tensor`: one parameter tensor of any dtype, as device pointers, with its
/// f32 master copy and rounding.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SgdCudaTypedTensorC {
    /// `numel` elements of `param_dtype`, updated in place (may be null when `numel == 0`).
    pub param: *mut core::ffi::c_void,
    /// `numel` elements of `grad_dtype`, read only; null = never updated.
    pub grad: *const core::ffi::c_void,
    /// `numel` elements of `buffer_dtype`; required (and only used) when the group has momentum.
    pub momentum_buffer: *mut core::ffi::c_void,
    /// `master_numel` floats: the f32 master copy of a bf16/f16 parameter; null = none.
    pub master: *mut f32,
    /// Elements of the tensor.
    pub numel: usize,
    /// Elements of `master` (checked to be `numel`).
    pub master_numel: usize,
    /// Index of the tensor's group.
    pub group: u32,
    /// As in [`SgdCudaTensorC::initialized`].
    pub initialized: u32,
    /// `SGD_CUDA_DTYPE_*` of the parameter.
    pub param_dtype: u32,
    /// `SGD_CUDA_DTYPE_*` of the gradient.
    pub grad_dtype: u32,
    /// `SGD_CUDA_DTYPE_*` of the buffer.
    pub buffer_dtype: u32,
    /// `SGD_CUDA_ROUND_*`.
    pub rounding: u32,
}

impl SgdCudaTypedTensorC {
    /// The float32 tensor `t`, rounded to nearest.
    pub fn from_f32(t: &SgdCudaTensorC) -> Self {
        let f32_code = sgd_capi_support::dtype_code::DTYPE_FLOAT32;
        Self {
            param: t.param.cast(),
            grad: t.grad.cast(),
            momentum_buffer: t.momentum_buffer.cast(),
            master: core::ptr::null_mut(),
            numel: t.numel,
            master_numel: 0,
            group: t.group,
            initialized: t.initialized,
            param_dtype: f32_code,
            grad_dtype: f32_code,
            buffer_dtype: f32_code,
            rounding: sgd_capi_support::dtype_code::ROUND_NEAREST_EVEN,
        }
    }
}

// The header's layout on 64-bit targets (the C test compares it with a compiled program too).
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(size_of::<SgdCudaConfigC>() == 40);
    assert!(size_of::<SgdCudaTensorC>() == 40);
    assert!(core::mem::offset_of!(SgdCudaTensorC, numel) == 24);
    assert!(core::mem::offset_of!(SgdCudaTensorC, group) == 32);
    assert!(core::mem::offset_of!(SgdCudaTensorC, initialized) == 36);
    assert!(size_of::<SgdCudaTypedTensorC>() == 72);
    assert!(core::mem::offset_of!(SgdCudaTypedTensorC, group) == 48);
    assert!(core::mem::offset_of!(SgdCudaTypedTensorC, rounding) == 68);
};

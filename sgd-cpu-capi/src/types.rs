//! The `#[repr(C)]` structs of the header (`include/sgd_cpu.h`).

/// `sgd_config`: the options of one parameter group, as `torch.optim.SGD` takes them (the
/// struct both C ABIs share).
pub type SgdConfigC = sgd_capi_support::ConfigC;

/// `sgd_tensor`: one parameter tensor (flattened f32) and its state.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SgdTensorC {
    /// `numel` floats, updated in place (may be null when `numel == 0`).
    pub param: *mut f32,
    /// `numel` floats, read only; null = no gradient this step (the tensor is skipped).
    pub grad: *const f32,
    /// `numel` floats; null = no buffer (required when the group has momentum and the tensor a
    /// gradient).
    pub momentum_buffer: *mut f32,
    /// One byte: non-zero once the buffer holds a momentum value; set to 1 by a step that
    /// updated the tensor with momentum. Required with a buffer.
    pub initialized: *mut u8,
    /// Elements of the tensor.
    pub numel: usize,
}

/// `sgd_group`: one parameter group, its options for this step and its tensors.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SgdGroupC {
    /// The group's options (set `lr` from a scheduler every step).
    pub config: SgdConfigC,
    /// `n_tensors` tensors (may be null when `n_tensors == 0`).
    pub tensors: *const SgdTensorC,
    /// Number of tensors.
    pub n_tensors: usize,
}

/// `sgd_typed_tensor`: one parameter tensor of any dtype, its state, its f32 master copy and its
/// rounding.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SgdTypedTensorC {
    /// `numel` elements of `param_dtype`, updated in place (may be null when `numel == 0`).
    pub param: *mut core::ffi::c_void,
    /// `numel` elements of `grad_dtype`, read only; null = no gradient this step (the tensor is
    /// skipped, its other fields are not used).
    pub grad: *const core::ffi::c_void,
    /// `numel` elements of `buffer_dtype`; null = no buffer.
    pub momentum_buffer: *mut core::ffi::c_void,
    /// `master_numel` floats: the f32 master copy of a bf16/f16 parameter; null = none.
    pub master: *mut f32,
    /// One byte, as in [`SgdTensorC::initialized`].
    pub initialized: *mut u8,
    /// Elements of the tensor.
    pub numel: usize,
    /// Elements of `master` (checked to be `numel`; unused without a master copy).
    pub master_numel: usize,
    /// `SGD_DTYPE_*` of the parameter.
    pub param_dtype: u32,
    /// `SGD_DTYPE_*` of the gradient (must be the parameter's).
    pub grad_dtype: u32,
    /// `SGD_DTYPE_*` of the buffer (the parameter's; `SGD_DTYPE_FLOAT32` with a master copy).
    pub buffer_dtype: u32,
    /// `SGD_ROUND_*` of the 16-bit results.
    pub rounding: u32,
}

/// `sgd_typed_group`: one parameter group of typed tensors.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SgdTypedGroupC {
    /// The group's options.
    pub config: SgdConfigC,
    /// `n_tensors` tensors (may be null when `n_tensors == 0`).
    pub tensors: *const SgdTypedTensorC,
    /// Number of tensors.
    pub n_tensors: usize,
}

impl SgdTypedTensorC {
    /// The float32 tensor `t`, rounded to nearest.
    pub fn from_f32(t: &SgdTensorC) -> Self {
        let f32_code = sgd_capi_support::dtype_code::DTYPE_FLOAT32;
        Self {
            param: t.param.cast(),
            grad: t.grad.cast(),
            momentum_buffer: t.momentum_buffer.cast(),
            master: core::ptr::null_mut(),
            initialized: t.initialized,
            numel: t.numel,
            master_numel: 0,
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
    assert!(size_of::<SgdConfigC>() == 40);
    assert!(size_of::<SgdTensorC>() == 40 && core::mem::offset_of!(SgdTensorC, numel) == 32);
    assert!(size_of::<SgdGroupC>() == 56 && core::mem::offset_of!(SgdGroupC, n_tensors) == 48);
    assert!(size_of::<SgdTypedTensorC>() == 72);
    assert!(core::mem::offset_of!(SgdTypedTensorC, master_numel) == 48);
    assert!(core::mem::offset_of!(SgdTypedTensorC, param_dtype) == 56);
    assert!(core::mem::offset_of!(SgdTypedTensorC, rounding) == 68);
    assert!(size_of::<SgdTypedGroupC>() == 56);
};

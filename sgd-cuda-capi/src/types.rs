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

// The header's layout on 64-bit targets (the C test compares it with a compiled program too).
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(size_of::<SgdCudaConfigC>() == 40);
    assert!(size_of::<SgdCudaTensorC>() == 40);
    assert!(core::mem::offset_of!(SgdCudaTensorC, numel) == 24);
    assert!(core::mem::offset_of!(SgdCudaTensorC, group) == 32);
    assert!(core::mem::offset_of!(SgdCudaTensorC, initialized) == 36);
};

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

// The header's layout on 64-bit targets (the C test compares it with a compiled program too).
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(size_of::<SgdConfigC>() == 40);
    assert!(size_of::<SgdTensorC>() == 40 && core::mem::offset_of!(SgdTensorC, numel) == 32);
    assert!(size_of::<SgdGroupC>() == 56 && core::mem::offset_of!(SgdGroupC, n_tensors) == 48);
};

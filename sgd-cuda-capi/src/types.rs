//! The `#[repr(C)]` structs of the header (`include/sgd_cuda.h`).
use sgd_core::SgdConfig;

/// `sgd_cuda_config`: the options of one parameter group, as `torch.optim.SGD` takes them (the
/// fields of `sgd_cpu.h`'s `sgd_config`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdCudaConfigC {
    /// `lr`: the first learning rate (steps set new ones).
    pub lr: f64,
    /// `momentum` (`0` = no momentum buffer).
    pub momentum: f64,
    /// `dampening`.
    pub dampening: f64,
    /// `weight_decay`.
    pub weight_decay: f64,
    /// `nesterov` (non-zero = true).
    pub nesterov: u32,
    /// `maximize` (non-zero = true).
    pub maximize: u32,
}

impl From<SgdCudaConfigC> for SgdConfig {
    fn from(c: SgdCudaConfigC) -> Self {
        SgdConfig {
            lr: c.lr,
            momentum: c.momentum,
            dampening: c.dampening,
            weight_decay: c.weight_decay,
            nesterov: c.nesterov != 0,
            maximize: c.maximize != 0,
        }
    }
}

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

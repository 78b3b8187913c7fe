//! [`BorrowedTensor`]: a tensor that belongs to the caller, as device addresses.

/// One tensor of a step: device addresses of `len` f32 each (parameters and momentum are
/// written, the gradient only read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BorrowedTensor {
    /// Parameter group index.
    pub group: usize,
    /// Elements.
    pub len: usize,
    /// Address of the first parameter.
    pub param: u64,
    /// Address of the first gradient element.
    pub grad: u64,
    /// Address of the first momentum-buffer element: required in a group with momentum.
    pub momentum: Option<u64>,
    /// The buffer holds no value yet (the first step of this parameter copies the gradient
    /// into it, torch's `momentum_buffer is None`). The caller sets its flag to initialised
    /// after a step that ran.
    pub first_step: bool,
}

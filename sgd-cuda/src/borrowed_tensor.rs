//! [`BorrowedTensor`]: a tensor that belongs to the caller, as device addresses.

use crate::BorrowedPrecision;

/// One tensor of a step: device addresses of `len` elements each (parameters, momentum and
/// master copy are written, the gradient only read), of the dtypes in `precision` (f32 by
/// default).
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
    /// The dtypes, master copy and rounding.
    pub precision: BorrowedPrecision,
}

impl BorrowedTensor {
    /// A float32 tensor.
    pub fn new(
        group: usize,
        len: usize,
        param: u64,
        grad: u64,
        momentum: Option<u64>,
        first_step: bool,
    ) -> Self {
        let precision = BorrowedPrecision::F32;
        Self { group, len, param, grad, momentum, first_step, precision }
    }

    /// This tensor with other dtypes, master copy or rounding.
    pub fn with_precision(self, precision: BorrowedPrecision) -> Self {
        Self { precision, ..self }
    }
}

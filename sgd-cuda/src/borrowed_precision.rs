//! [`BorrowedPrecision`]: the dtypes, master copy and rounding of a [`crate::BorrowedTensor`].

use sgd_core::{Dtype, Rounding, TensorDtypes};

/// The f32 master copy of a bf16/f16 borrowed tensor: a device address and its length in f32
/// elements (checked to be the tensor's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BorrowedMaster {
    /// Address of the first f32 element (4-byte aligned).
    pub address: u64,
    /// Elements.
    pub len: usize,
}

/// What a borrowed tensor's memory holds: the dtypes of its parameter, gradient and momentum
/// buffer, its f32 master copy, and how 16-bit results are rounded. The combinations are
/// sgd-core's ([`sgd_core::check_tensor`], checked by [`crate::BorrowedPlan::new`]):
///
/// | param = grad | buffer | master | rule |
/// |---|---|---|---|
/// | `F32` | `F32` | — | `sgd_core::scalar::sgd_update` |
/// | `F64` | `F64` | — | `sgd_core::scalar64::sgd_update_f64` |
/// | `Bf16` / `F16` | same | — | `sgd_core::precision::sgd_update_half` |
/// | `Bf16` / `F16` | `F32` | f32, `len` elements | `sgd_core::precision::sgd_update_master` |
///
/// Stochastic rounding (bf16/f16 only) uses the words of `(seed, step, sr_tensor, element)`
/// (`sgd_core::philox`), the seed and step of the optimizer's [`crate::SrKey`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BorrowedPrecision {
    /// The parameter's dtype.
    pub param: Dtype,
    /// The gradient's dtype (must be the parameter's).
    pub grad: Dtype,
    /// The momentum buffer's dtype (checked where a buffer is given).
    pub buffer: Dtype,
    /// The f32 master copy, if any.
    pub master: Option<BorrowedMaster>,
    /// How 16-bit results are rounded.
    pub rounding: Rounding,
    /// Counter word 2 of stochastic rounding; `None`: the tensor's position in the step's list
    /// (set it to the tensor's flat index in `sgd_cpu::typed_step` for the same bits as there).
    pub sr_tensor: Option<u32>,
}

impl BorrowedPrecision {
    /// float32 everywhere, rounded to nearest.
    pub const F32: BorrowedPrecision = BorrowedPrecision::storage(Dtype::F32);

    /// Parameter, gradient and buffer in `dtype`, rounded to nearest.
    pub const fn storage(dtype: Dtype) -> Self {
        Self {
            param: dtype,
            grad: dtype,
            buffer: dtype,
            master: None,
            rounding: Rounding::NearestEven,
            sr_tensor: None,
        }
    }

    /// bf16/f16 parameter and gradient with an f32 master copy at `address` and an f32 buffer.
    pub const fn with_master(dtype: Dtype, address: u64, len: usize) -> Self {
        let master = Some(BorrowedMaster { address, len });
        Self { buffer: Dtype::F32, master, ..Self::storage(dtype) }
    }

    /// These dtypes with `rounding`.
    pub const fn rounded(self, rounding: Rounding) -> Self {
        Self { rounding, ..self }
    }

    /// What sgd-core's [`sgd_core::check_tensor`] checks, for a tensor with a buffer or not.
    pub fn dtypes(&self, has_buffer: bool) -> TensorDtypes {
        TensorDtypes {
            param: self.param,
            grad: self.grad,
            buffer: has_buffer.then_some(self.buffer),
            master: self.master.map(|m| m.len),
            rounding: self.rounding,
        }
    }
}

impl Default for BorrowedPrecision {
    fn default() -> Self {
        Self::F32
    }
}

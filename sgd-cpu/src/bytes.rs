//! Zero-copy views of byte buffers as f32 tensors (through `bytemuck`).
use crate::SgdError;

/// Views `bytes` as f32 values (native endianness), e.g. a tensor's storage from a file or an
/// FFI buffer. `tensor` is only used to name the tensor in the error.
///
/// # Errors
/// [`SgdError::ByteLayout`] if the length is not a multiple of 4 or the address is not
/// 4-byte aligned.
pub fn f32s_mut(bytes: &mut [u8], tensor: usize) -> Result<&mut [f32], SgdError> {
    let len = bytes.len();
    bytemuck::try_cast_slice_mut(bytes).map_err(|_| SgdError::ByteLayout { tensor, bytes: len })
}

/// Read-only version of [`f32s_mut`] (for gradients).
///
/// # Errors
/// As [`f32s_mut`].
pub fn f32s(bytes: &[u8], tensor: usize) -> Result<&[f32], SgdError> {
    bytemuck::try_cast_slice(bytes).map_err(|_| SgdError::ByteLayout { tensor, bytes: bytes.len() })
}

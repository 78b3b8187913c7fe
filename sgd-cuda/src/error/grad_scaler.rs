//! [`GradScalerError`]: the gradient scaler (`grad_scale`, `found_inf`) cannot be used.

use core::fmt;

/// Gradient scaling is off, or its device addresses are invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GradScalerError {
    /// A grad-scaler call while gradient scaling is not enabled.
    Disabled,
    /// A device address of the gradient scaler that is not 4-byte aligned (not an `f32`
    /// address).
    Misaligned {
        /// Which one: `"grad_scale"` or `"found_inf"`.
        name: &'static str,
        /// The byte address.
        address: u64,
    },
}

impl fmt::Display for GradScalerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Disabled => {
                f.write_str("gradient scaling is not enabled (call enable_grad_scaling first)")
            }
            Self::Misaligned { name, address } => {
                write!(f, "{name}: device address {address:#x} is not 4-byte aligned")
            }
        }
    }
}

impl core::error::Error for GradScalerError {}

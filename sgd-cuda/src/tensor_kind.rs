//! [`TensorKind`]: a tensor's storage type and mode as the kernel dispatches on them.

use sgd_core::{Dtype, UpdateMode};

/// The storage type and update rule of one tensor (`TensorEntry.kind`, the `KIND_*` values of
/// `kernels/sgd_multi_tensor.cu`), from sgd-core's [`UpdateMode`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TensorKind {
    /// float32: `sgd_core::scalar::sgd_update`.
    #[default]
    F32,
    /// float64: `sgd_core::scalar64::sgd_update_f64`.
    F64,
    /// bfloat16 storage, buffer in bfloat16: `sgd_core::precision::sgd_update_half`.
    Bf16,
    /// float16 storage, buffer in float16.
    F16,
    /// bfloat16 params and grads with an f32 master and f32 buffer:
    /// `sgd_core::precision::sgd_update_master`.
    Bf16Master,
    /// float16 params and grads with an f32 master and f32 buffer.
    F16Master,
}

impl TensorKind {
    /// The kind of a tensor that [`sgd_core::check_tensor`] accepted with `mode`.
    pub fn of(mode: UpdateMode) -> TensorKind {
        match mode {
            UpdateMode::F64 => TensorKind::F64,
            UpdateMode::Half(Dtype::Bf16) => TensorKind::Bf16,
            UpdateMode::Half(_) => TensorKind::F16,
            UpdateMode::Master(Dtype::Bf16) => TensorKind::Bf16Master,
            UpdateMode::Master(_) => TensorKind::F16Master,
            _ => TensorKind::F32,
        }
    }

    /// The `KIND_*` code the kernel reads.
    pub fn code(self) -> u32 {
        match self {
            TensorKind::F32 => 0,
            TensorKind::F64 => 1,
            TensorKind::Bf16 => 2,
            TensorKind::F16 => 3,
            TensorKind::Bf16Master => 4,
            TensorKind::F16Master => 5,
        }
    }

    /// Bytes per parameter (and gradient) element.
    pub fn element_size(self) -> usize {
        match self {
            TensorKind::F32 => 4,
            TensorKind::F64 => 8,
            _ => 2,
        }
    }

    /// Bytes per momentum-buffer element (f32 with a master copy).
    pub fn buffer_element_size(self) -> usize {
        match self {
            TensorKind::Bf16Master | TensorKind::F16Master => 4,
            other => other.element_size(),
        }
    }

    /// Whether the tensor keeps an f32 master copy.
    pub fn has_master(self) -> bool {
        matches!(self, TensorKind::Bf16Master | TensorKind::F16Master)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_sgd_cores_modes() {
        let cases = [
            (UpdateMode::F32, TensorKind::F32, 0, 4, 4),
            (UpdateMode::F64, TensorKind::F64, 1, 8, 8),
            (UpdateMode::Half(Dtype::Bf16), TensorKind::Bf16, 2, 2, 2),
            (UpdateMode::Half(Dtype::F16), TensorKind::F16, 3, 2, 2),
            (UpdateMode::Master(Dtype::Bf16), TensorKind::Bf16Master, 4, 2, 4),
            (UpdateMode::Master(Dtype::F16), TensorKind::F16Master, 5, 2, 4),
        ];
        for (mode, kind, code, size, buffer) in cases {
            assert_eq!(TensorKind::of(mode), kind);
            assert_eq!(
                (kind.code(), kind.element_size(), kind.buffer_element_size()),
                (code, size, buffer)
            );
            assert_eq!(kind.has_master(), code >= 4);
        }
    }
}

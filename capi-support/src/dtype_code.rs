//! The dtype and rounding codes of the C headers (`SGD_DTYPE_*`, `SGD_ROUND_*` in `sgd_cpu.h`,
//! `SGD_CUDA_DTYPE_*`, `SGD_CUDA_ROUND_*` in `sgd_cuda.h`: the same values).
use sgd_core::{Dtype, Rounding};

/// `SGD_DTYPE_FLOAT32`.
pub const DTYPE_FLOAT32: u32 = 0;
/// `SGD_DTYPE_FLOAT64`.
pub const DTYPE_FLOAT64: u32 = 1;
/// `SGD_DTYPE_BFLOAT16`.
pub const DTYPE_BFLOAT16: u32 = 2;
/// `SGD_DTYPE_FLOAT16`.
pub const DTYPE_FLOAT16: u32 = 3;
/// `SGD_ROUND_NEAREST_EVEN`.
pub const ROUND_NEAREST_EVEN: u32 = 0;
/// `SGD_ROUND_STOCHASTIC`.
pub const ROUND_STOCHASTIC: u32 = 1;

/// The dtype of a header code, `None` for a code the header does not define.
pub fn dtype_from_code(code: u32) -> Option<Dtype> {
    match code {
        DTYPE_FLOAT32 => Some(Dtype::F32),
        DTYPE_FLOAT64 => Some(Dtype::F64),
        DTYPE_BFLOAT16 => Some(Dtype::Bf16),
        DTYPE_FLOAT16 => Some(Dtype::F16),
        _ => None,
    }
}

/// The header code of a dtype.
pub fn dtype_code(dtype: Dtype) -> u32 {
    match dtype {
        Dtype::F64 => DTYPE_FLOAT64,
        Dtype::Bf16 => DTYPE_BFLOAT16,
        Dtype::F16 => DTYPE_FLOAT16,
        _ => DTYPE_FLOAT32,
    }
}

/// The rounding of a header code, `None` for a code the header does not define.
pub fn rounding_from_code(code: u32) -> Option<Rounding> {
    match code {
        ROUND_NEAREST_EVEN => Some(Rounding::NearestEven),
        ROUND_STOCHASTIC => Some(Rounding::Stochastic),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_are_none() {
        for d in [Dtype::F32, Dtype::F64, Dtype::Bf16, Dtype::F16] {
            assert_eq!(dtype_from_code(dtype_code(d)), Some(d));
        }
        assert_eq!(dtype_from_code(4), None);
        assert_eq!(rounding_from_code(ROUND_STOCHASTIC), Some(Rounding::Stochastic));
        assert_eq!(rounding_from_code(2), None);
    }
}

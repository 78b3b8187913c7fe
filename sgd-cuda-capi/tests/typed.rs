//! `sgd_cuda_create_typed`'s host-side checks, without CUDA: unknown dtype and rounding codes,
//! dtypes that do not fit together (sgd-core's rules), a master copy of the wrong length or
//! misaligned, elements misaligned for their dtype and overlapping master copies are refused
//! with a status and a message naming the tensor, and no optimizer is made; valid typed input
//! gets as far as the driver ("no CUDA driver" here).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test.
use core::ffi::{CStr, c_void};
use core::ptr;

use sgd_capi_support::dtype_code::{
    DTYPE_BFLOAT16, DTYPE_FLOAT16, DTYPE_FLOAT32, DTYPE_FLOAT64, ROUND_NEAREST_EVEN,
    ROUND_STOCHASTIC,
};
use sgd_cuda::device::driver_available;
use sgd_cuda_capi::{
    SgdCudaConfigC, SgdCudaOptimizer, SgdCudaStatus, SgdCudaTypedTensorC, sgd_cuda_create_typed,
    sgd_cuda_last_error_message, sgd_cuda_set_rounding_key,
};

fn last_message() -> String {
    let mut buf = [0u8; 512];
    // SAFETY: `buf` is valid for its length.
    unsafe { sgd_cuda_last_error_message(buf.as_mut_ptr(), buf.len()) };
    CStr::from_bytes_until_nul(&buf).unwrap().to_str().unwrap().to_owned()
}

fn at<T>(address: usize) -> *mut T {
    ptr::without_provenance_mut(address)
}

/// One group with momentum; tensors 1 MiB apart: f32, f64, bf16 storage (stochastic), f16 with
/// an f32 master (stochastic).
fn tensors() -> Vec<SgdCudaTypedTensorC> {
    let mib = 1usize << 20;
    let t = |i: usize, dtype: u32, rounding: u32| SgdCudaTypedTensorC {
        param: at(0x1000_0000 + 4 * i * mib),
        grad: at(0x1000_0000 + (4 * i + 1) * mib),
        momentum_buffer: at(0x1000_0000 + (4 * i + 2) * mib),
        master: ptr::null_mut(),
        numel: 1000 + i,
        master_numel: 0,
        group: 0,
        initialized: 0,
        param_dtype: dtype,
        grad_dtype: dtype,
        buffer_dtype: dtype,
        rounding,
    };
    let master = SgdCudaTypedTensorC {
        master: at(0x1000_0000 + 15 * mib),
        master_numel: 1003,
        buffer_dtype: DTYPE_FLOAT32,
        ..t(3, DTYPE_FLOAT16, ROUND_STOCHASTIC)
    };
    vec![
        t(0, DTYPE_FLOAT32, ROUND_NEAREST_EVEN),
        t(1, DTYPE_FLOAT64, ROUND_NEAREST_EVEN),
        t(2, DTYPE_BFLOAT16, ROUND_STOCHASTIC),
        master,
    ]
}

fn create(t: &[SgdCudaTypedTensorC]) -> (i32, *mut SgdCudaOptimizer) {
    let groups = [SgdCudaConfigC {
        lr: 0.1,
        momentum: 0.9,
        dampening: 0.0,
        weight_decay: 0.0,
        nesterov: 0,
        maximize: 0,
    }];
    let mut out: *mut SgdCudaOptimizer = at(0xdead_bee0);
    let stream: *mut c_void = at(0x5000);
    // SAFETY: host arrays; the device pointers are never used before the driver.
    let status = unsafe {
        sgd_cuda_create_typed(0, stream, groups.as_ptr(), 1, t.as_ptr(), t.len(), &raw mut out)
    };
    if status != 0 {
        assert!(out.is_null(), "a failed create left *out = {out:?}");
    }
    (status, out)
}

fn rejects(
    status: SgdCudaStatus,
    needle: &str,
    break_it: impl FnOnce(&mut Vec<SgdCudaTypedTensorC>),
) {
    let mut t = tensors();
    break_it(&mut t);
    let (got, out) = create(&t);
    let message = last_message();
    assert_eq!(got, status as i32, "{message}");
    assert!(out.is_null());
    assert!(message.contains(needle), "message {message:?} lacks {needle:?}");
}

#[test]
fn bad_typed_tensors_get_a_status_and_a_message_naming_them() {
    rejects(
        SgdCudaStatus::UnknownCode,
        "tensor 1: grad_dtype 9 is not a code of sgd_cuda.h",
        |t| {
            t[1].grad_dtype = 9;
        },
    );
    rejects(SgdCudaStatus::UnknownCode, "tensor 2: rounding 5", |t| t[2].rounding = 5);
    rejects(SgdCudaStatus::Dtype, "tensor 1: gradient is float32, parameter is float64", |t| {
        t[1].grad_dtype = DTYPE_FLOAT32;
    });
    rejects(SgdCudaStatus::Dtype, "tensor 2: momentum buffer is float32", |t| {
        t[2].buffer_dtype = DTYPE_FLOAT32;
    });
    rejects(
        SgdCudaStatus::Dtype,
        "tensor 3: master copy has 1002 elements, parameter has 1003",
        |t| {
            t[3].master_numel = 1002;
        },
    );
    rejects(SgdCudaStatus::Dtype, "tensor 0: a master copy is for bfloat16/float16", |t| {
        t[0].master = t[3].master;
        t[0].master_numel = 1000;
    });
    rejects(
        SgdCudaStatus::Dtype,
        "tensor 1: stochastic rounding needs bfloat16/float16 storage, not float64",
        |t| {
            t[1].rounding = ROUND_STOCHASTIC;
        },
    );
    rejects(
        SgdCudaStatus::Misaligned,
        "param of tensor 1 at 0x10400004 is not aligned to 8",
        |t| {
            t[1].param = at(0x1040_0004);
        },
    );
    rejects(SgdCudaStatus::Misaligned, "master of tensor 3 at 0x", |t| {
        t[3].master = t[3].master.cast::<u8>().wrapping_add(2).cast();
    });
    rejects(SgdCudaStatus::Overlap, "tensor 3: parameter range overlaps tensor 0's", |t| {
        t[3].master = t[0].param.cast();
    });
}

#[test]
fn valid_typed_input_without_a_driver_is_a_clean_no_driver_status() {
    if driver_available() {
        println!("skipped: a CUDA driver is installed here (the fake stream would reach it)");
        return;
    }
    let (status, out) = create(&tensors());
    assert_eq!(status, SgdCudaStatus::NoDriver as i32, "{}", last_message());
    assert!(out.is_null());
    // SAFETY: a null optimizer is refused.
    let status = unsafe { sgd_cuda_set_rounding_key(ptr::null_mut(), 1, 2) };
    assert_eq!(status, SgdCudaStatus::NullPointer as i32);
}

//! The C ABI's host-side checks, without CUDA: every refused input gets its status, a message
//! naming the bad value, and no optimizer; valid input gets as far as the driver ("no CUDA
//! driver" here, never a panic). On a machine with a GPU, steps through the C ABI are checked
//! bit for bit against the scalar reference (skipped with a printed reason elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test.
use core::ffi::{CStr, c_void};
use core::ptr;

use sgd_core::SgdConfig;
use sgd_cuda::device::driver_available;
use sgd_cuda_capi::{
    SgdCudaConfigC, SgdCudaOptimizer, SgdCudaStatus, SgdCudaTensorC, sgd_cuda_capture_graph,
    sgd_cuda_create, sgd_cuda_destroy, sgd_cuda_last_error_message, sgd_cuda_release_graph,
    sgd_cuda_set_grad_scaler, sgd_cuda_set_lrs, sgd_cuda_step,
};

/// The message of the last error on this thread.
fn last_message() -> String {
    let mut buf = [0u8; 512];
    // SAFETY: `buf` is valid for its length.
    let n = unsafe { sgd_cuda_last_error_message(buf.as_mut_ptr(), buf.len()) };
    assert!(n < buf.len());
    CStr::from_bytes_until_nul(&buf).unwrap().to_str().unwrap().to_owned()
}

/// A fake device address (never dereferenced: these tests stop before the driver).
fn at(address: usize) -> *mut f32 {
    ptr::without_provenance_mut(address)
}

/// A fake stream handle.
fn stream() -> *mut c_void {
    ptr::without_provenance_mut(0x5000)
}

fn config(lr: f64, momentum: f64) -> SgdCudaConfigC {
    SgdCudaConfigC { lr, momentum, dampening: 0.0, weight_decay: 0.0, nesterov: 0, maximize: 0 }
}

/// Two groups (the first with momentum), four tensors 1 MiB apart (tensor 2 without gradient).
struct Setup {
    groups: Vec<SgdCudaConfigC>,
    tensors: Vec<SgdCudaTensorC>,
}

impl Setup {
    fn new() -> Self {
        let mib = 1 << 20;
        let t = |i: usize, group: u32, momentum: bool| SgdCudaTensorC {
            param: at(0x1000_0000 + 3 * i * mib),
            grad: at(0x1000_0000 + (3 * i + 1) * mib),
            momentum_buffer: if momentum { at(0x1000_0000 + (3 * i + 2) * mib) } else { at(0) },
            numel: 1000 + i,
            group,
            initialized: 0,
        };
        let mut tensors = vec![t(0, 0, true), t(1, 1, false), t(2, 0, true), t(3, 0, true)];
        tensors[2].grad = ptr::null();
        Setup { groups: vec![config(0.1, 0.9), config(0.05, 0.0)], tensors }
    }

    /// `sgd_cuda_create` on this setup; returns the status and `*out`, which must be null
    /// unless the status is OK.
    fn create(&self, device: i32, stream: *mut c_void) -> (i32, *mut SgdCudaOptimizer) {
        let mut out: *mut SgdCudaOptimizer = ptr::without_provenance_mut(0xdead_bee0);
        // SAFETY: host arrays of this setup; device pointers are never used before the driver.
        let status = unsafe {
            sgd_cuda_create(
                device,
                stream,
                self.groups.as_ptr(),
                self.groups.len(),
                self.tensors.as_ptr(),
                self.tensors.len(),
                &raw mut out,
            )
        };
        if status != 0 {
            assert!(out.is_null(), "a failed create left *out = {out:?}");
        }
        (status, out)
    }
}

/// Breaks a fresh setup, creates, and checks the status, that the message contains `needle`,
/// and that no optimizer was made.
fn rejects(status: SgdCudaStatus, needle: &str, break_it: impl FnOnce(&mut Setup)) {
    let mut s = Setup::new();
    break_it(&mut s);
    let (got, out) = s.create(0, stream());
    let message = last_message();
    assert_eq!(got, status as i32, "{message}");
    assert!(out.is_null());
    assert!(message.contains(needle), "message {message:?} lacks {needle:?}");
}

#[test]
fn bad_groups_get_a_status_and_sgd_cores_message() {
    rejects(SgdCudaStatus::InvalidConfig, "Invalid learning rate: -0.5 (group 1", |s| {
        s.groups[1].lr = -0.5
    });
    rejects(SgdCudaStatus::InvalidConfig, "Invalid momentum value: NaN (group 0", |s| {
        s.groups[0].momentum = f64::NAN
    });
    // The messages are sgd-core's, as sgd-cpu (and its C ABI) report them.
    let nesterov = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        dampening: 0.5,
        nesterov: true,
        ..SgdConfig::default()
    };
    let expected = nesterov.validate(0).unwrap_err().to_string();
    rejects(SgdCudaStatus::InvalidConfig, &expected, |s| {
        s.groups[0].dampening = 0.5;
        s.groups[0].nesterov = 1;
    });
    rejects(SgdCudaStatus::InvalidConfig, "(group 1", |s| s.groups[1].weight_decay = -1.0);
}

#[test]
fn bad_tensors_get_a_status_and_a_message_naming_them() {
    rejects(SgdCudaStatus::UnknownGroup, "tensor 3: group 2 does not exist (2 groups)", |s| {
        s.tensors[3].group = 2
    });
    rejects(SgdCudaStatus::NullPointer, "null pointer: param of tensor 1", |s| {
        s.tensors[1].param = ptr::null_mut()
    });
    rejects(SgdCudaStatus::MissingMomentumBuffer, "tensor 3: its group has momentum", |s| {
        s.tensors[3].momentum_buffer = ptr::null_mut()
    });
    rejects(SgdCudaStatus::Misaligned, "grad of tensor 1 at 0x10400002 is not aligned to 4", |s| {
        s.tensors[1].grad = at(0x1040_0002)
    });
    rejects(SgdCudaStatus::Misaligned, "momentum_buffer of tensor 0 at 0x", |s| {
        s.tensors[0].momentum_buffer = at(0x1020_0001)
    });
    rejects(SgdCudaStatus::TooLarge, "param of tensor 0: 2305843009213693952 elements", |s| {
        s.tensors[0].numel = 1 << 61
    });
    rejects(SgdCudaStatus::TooLarge, "param of tensor 1: 8 elements", |s| {
        // A range that would wrap around the address space.
        s.tensors[1].param = at(usize::MAX - 15);
        s.tensors[1].numel = 8;
    });
    rejects(SgdCudaStatus::Overlap, "tensor 3: parameter range overlaps tensor 0's", |s| {
        s.tensors[3].param = at(0x1000_0000 + 64);
    });
    rejects(SgdCudaStatus::Overlap, "tensor 1: parameter range overlaps tensor 1's", |s| {
        // A parameter over its own gradient.
        s.tensors[1].grad = s.tensors[1].param.wrapping_add(10);
    });
    rejects(SgdCudaStatus::Overlap, "tensor 3: parameter range overlaps tensor 1's", |s| {
        // A momentum buffer over another tensor's parameters.
        s.tensors[3].momentum_buffer = s.tensors[1].param.wrapping_add(4);
    });
}

#[test]
fn bad_arguments_get_a_status_and_a_message_naming_them() {
    let s = Setup::new();
    let (groups, tensors) = (s.groups.as_ptr(), s.tensors.as_ptr());
    let (ng, nt) = (s.groups.len(), s.tensors.len());
    let mut out: *mut SgdCudaOptimizer = ptr::null_mut();
    let o = &raw mut out;
    let misaligned_groups: *const SgdCudaConfigC = groups.cast::<u8>().wrapping_add(4).cast();
    let cases: [(SgdCudaStatus, &str, i32, *mut c_void, _, usize, _, usize, _); 11] = [
        (
            SgdCudaStatus::NullPointer,
            "null pointer: out",
            0,
            stream(),
            groups,
            ng,
            tensors,
            nt,
            ptr::null_mut(),
        ),
        (
            SgdCudaStatus::InvalidDevice,
            "device -1: a device ordinal is >= 0",
            -1,
            stream(),
            groups,
            ng,
            tensors,
            nt,
            o,
        ),
        (
            SgdCudaStatus::DefaultStream,
            "stream 0x0: the legacy default stream",
            0,
            ptr::null_mut(),
            groups,
            ng,
            tensors,
            nt,
            o,
        ),
        (
            SgdCudaStatus::DefaultStream,
            "stream 0x1: the legacy default stream",
            0,
            ptr::without_provenance_mut(1),
            groups,
            ng,
            tensors,
            nt,
            o,
        ),
        (
            SgdCudaStatus::NullPointer,
            "null pointer: groups",
            0,
            stream(),
            ptr::null(),
            ng,
            tensors,
            nt,
            o,
        ),
        (
            SgdCudaStatus::Empty,
            "groups: at least one is needed, got 0",
            0,
            stream(),
            groups,
            0,
            tensors,
            nt,
            o,
        ),
        (
            SgdCudaStatus::Misaligned,
            "groups at 0x",
            0,
            stream(),
            misaligned_groups,
            ng,
            tensors,
            nt,
            o,
        ),
        (
            SgdCudaStatus::TooLarge,
            "groups: 1152921504606846976 elements are too many",
            0,
            stream(),
            groups,
            1 << 60,
            tensors,
            nt,
            o,
        ),
        (
            SgdCudaStatus::NullPointer,
            "null pointer: tensors",
            0,
            stream(),
            groups,
            ng,
            ptr::null(),
            nt,
            o,
        ),
        (
            SgdCudaStatus::Empty,
            "tensors: at least one is needed, got 0",
            0,
            stream(),
            groups,
            ng,
            tensors,
            0,
            o,
        ),
        (
            SgdCudaStatus::TooLarge,
            "tensors: 1152921504606846976 elements",
            0,
            stream(),
            groups,
            ng,
            tensors,
            1 << 60,
            o,
        ),
    ];
    for (status, needle, device, stream, groups, ng, tensors, nt, out_ptr) in cases {
        out = ptr::without_provenance_mut(0xdead_bee0);
        // SAFETY: host arrays of `s` or deliberately broken in ways create must detect.
        let got = unsafe { sgd_cuda_create(device, stream, groups, ng, tensors, nt, out_ptr) };
        let message = last_message();
        assert_eq!(got, status as i32, "{needle}: {message}");
        assert!(
            message.starts_with(needle) || message.contains(needle),
            "{message:?} lacks {needle:?}"
        );
        if !out_ptr.is_null() {
            assert!(out.is_null(), "{needle}: *out not reset");
        }
    }
}

#[test]
fn every_call_on_a_null_optimizer_is_refused_and_destroy_ignores_it() {
    let lr = [0.1f64];
    let scale = at(0x100);
    // SAFETY: a null optimizer must be detected before anything else is read.
    let statuses = unsafe {
        [
            sgd_cuda_step(ptr::null_mut(), lr.as_ptr(), 1),
            sgd_cuda_step(ptr::null_mut(), ptr::null(), 0),
            sgd_cuda_set_lrs(ptr::null_mut(), lr.as_ptr(), 1),
            sgd_cuda_set_grad_scaler(ptr::null_mut(), scale, ptr::null()),
            sgd_cuda_capture_graph(ptr::null_mut()),
            sgd_cuda_release_graph(ptr::null_mut()),
        ]
    };
    for status in statuses {
        assert_eq!(status, SgdCudaStatus::NullPointer as i32);
        assert_eq!(last_message(), "null pointer: optimizer");
    }
    // SAFETY: null is ignored.
    unsafe { sgd_cuda_destroy(ptr::null_mut()) };
}

#[test]
fn valid_input_without_a_driver_is_a_clean_no_driver_status() {
    if driver_available() {
        println!("skipped: a CUDA driver is installed here (the fake stream would reach it)");
        return;
    }
    // Tensor 2 has no gradient: its other fields are not checked, even when they are nonsense.
    let mut s = Setup::new();
    s.tensors[2].param = at(3);
    s.tensors[2].group = 99;
    // Two tensors reading the same gradient memory: allowed.
    s.tensors[3].grad = s.tensors[0].grad;
    let (status, out) = s.create(0, stream());
    assert_eq!(status, SgdCudaStatus::NoDriver as i32, "{}", last_message());
    assert!(out.is_null());
    assert_eq!(last_message(), "no CUDA driver: libcuda could not be loaded");
}

#[test]
fn messages_truncate_like_snprintf() {
    let s = Setup::new();
    s.create(-7, stream());
    let full = last_message();
    assert_eq!(full, "device -7: a device ordinal is >= 0");
    let mut small = [0xffu8; 8];
    // SAFETY: `small` is valid for 8 bytes; a null buffer is allowed.
    let (n, n_null) = unsafe {
        (
            sgd_cuda_last_error_message(small.as_mut_ptr(), small.len()),
            sgd_cuda_last_error_message(ptr::null_mut(), 0),
        )
    };
    assert_eq!((n, n_null), (full.len(), full.len()));
    assert_eq!(&small[..7], &full.as_bytes()[..7]);
    assert_eq!(small[7], 0);
}

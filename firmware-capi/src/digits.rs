//! Feature `digits`: the digits MLP of `on-device` for the C training firmware
//! (`on-device/c/firmware`), which trains that model with this library's schedule, early
//! stopping and SGD and prints the Rust firmware's lines, bit for bit. The forward and
//! backward passes stay in Rust so that `expf` and `logf` are the same code (the `libm`
//! crate) in both firmwares.

use core::mem::size_of;

use on_device::digits::{TRAIN_SAMPLES, VALIDATION_SAMPLES};
use on_device::mlp::{self, PARAMETERS, Tensors};

use crate::error::{clear, fail};
use crate::sched::overlaps;
use crate::status::*;

const _: () = assert!(size_of::<Tensors>() == PARAMETERS * 4);

/// Checks a `lrk_digits_tensors` pointer.
fn check(func: &'static str, p: *const Tensors, what: &'static str) -> Result<(), i32> {
    if p.is_null() {
        return Err(fail(LRK_ERR_NULL_POINTER, func, ["`", what, "` is NULL", ""]));
    }
    if !(p as usize).is_multiple_of(4) {
        return Err(fail(LRK_ERR_MISALIGNED, func, ["`", what, "` is misaligned", ""]));
    }
    Ok(())
}

/// The gradient of the mean loss of the training samples `indices[0..n]` (each below
/// `LRK_DIGITS_TRAIN_SAMPLES`) under `params`, written to `grads`; each sample's loss is
/// added to `*loss_sum` in order.
///
/// # Safety
/// `params` and `grads` point to `lrk_digits_tensors`, `indices` to `n` values, `loss_sum` to a
/// float; `grads` and `loss_sum` overlap nothing else.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_digits_gradient(
    params: *const Tensors,
    grads: *mut Tensors,
    indices: *const u16,
    n: u32,
    loss_sum: *mut f32,
) -> i32 {
    let func = "lrk_digits_gradient";
    let checks =
        check(func, params, "params").and_then(|()| check(func, grads.cast_const(), "grads"));
    if let Err(status) = checks {
        return status;
    }
    if indices.is_null() || loss_sum.is_null() {
        return fail(LRK_ERR_NULL_POINTER, func, ["`indices` or `loss_sum` is NULL", "", "", ""]);
    }
    if !(indices as usize).is_multiple_of(2) || !(loss_sum as usize).is_multiple_of(4) {
        return fail(
            LRK_ERR_MISALIGNED,
            func,
            ["`indices` or `loss_sum` is misaligned", "", "", ""],
        );
    }
    let bytes = size_of::<Tensors>();
    let g = grads as usize;
    if overlaps(g, bytes, params as usize, bytes)
        || overlaps(g, bytes, indices as usize, n as usize * 2)
        || overlaps(g, bytes, loss_sum as usize, 4)
    {
        return fail(LRK_ERR_OVERLAP, func, ["`grads` overlaps another argument", "", "", ""]);
    }
    // SAFETY: checked non-null and aligned; valid by contract.
    let idx = unsafe { core::slice::from_raw_parts(indices, n as usize) };
    if idx.iter().any(|&k| usize::from(k) >= TRAIN_SAMPLES) {
        return fail(
            LRK_ERR_INVALID_ARGUMENT,
            func,
            ["an index is not below LRK_DIGITS_TRAIN_SAMPLES", "", "", ""],
        );
    }
    // SAFETY: checked; `grads` is disjoint from every other argument.
    unsafe { mlp::minibatch_gradient(&*params, &mut *grads, idx, &mut *loss_sum) };
    clear();
    LRK_OK
}

/// The sum of the validation losses under `params` and the number of correct predictions
/// (of `LRK_DIGITS_VALIDATION_SAMPLES`).
///
/// # Safety
/// `params` points to an `lrk_digits_tensors`, the outputs to a float and a `uint32_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_digits_validate(
    params: *const Tensors,
    loss_sum: *mut f32,
    correct: *mut u32,
) -> i32 {
    let func = "lrk_digits_validate";
    if let Err(status) = check(func, params, "params") {
        return status;
    }
    if loss_sum.is_null() || correct.is_null() {
        return fail(LRK_ERR_NULL_POINTER, func, ["`loss_sum` or `correct` is NULL", "", "", ""]);
    }
    if !(loss_sum as usize).is_multiple_of(4) || !(correct as usize).is_multiple_of(4) {
        return fail(
            LRK_ERR_MISALIGNED,
            func,
            ["`loss_sum` or `correct` is misaligned", "", "", ""],
        );
    }
    // SAFETY: checked; valid by contract.
    let (loss, right) = mlp::validate(unsafe { &*params });
    // SAFETY: as above.
    unsafe {
        loss_sum.write(loss);
        correct.write(right);
    }
    clear();
    LRK_OK
}

/// `LRK_DIGITS_TRAIN_SAMPLES` and `LRK_DIGITS_VALIDATION_SAMPLES` as the library was built
/// (the header's constants, checked by the C firmware at start).
///
/// # Safety
/// `train` and `validation` are NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lrk_digits_samples(train: *mut u32, validation: *mut u32) -> i32 {
    if train.is_null() || validation.is_null() {
        return fail(
            LRK_ERR_NULL_POINTER,
            "lrk_digits_samples",
            ["`train` or `validation` is NULL", "", "", ""],
        );
    }
    // SAFETY: non-null; the caller passes writable `uint32_t`s (alignment is the C type's).
    unsafe {
        train.write_unaligned(u32::try_from(TRAIN_SAMPLES).unwrap_or(u32::MAX));
        validation.write_unaligned(u32::try_from(VALIDATION_SAMPLES).unwrap_or(u32::MAX));
    }
    clear();
    LRK_OK
}

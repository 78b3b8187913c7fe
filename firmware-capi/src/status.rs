//! The status codes of `lrkit_fw.h` (`int32_t`): 0 or positive = success, negative = rejected
//! and nothing written.

/// `LRK_OK`.
pub const LRK_OK: i32 = 0;
/// `LRK_SKIPPED_FOUND_INF`: the SGD step was validated and skipped (`found_inf`).
pub const LRK_SKIPPED_FOUND_INF: i32 = 1;
/// `LRK_ERR_NULL_POINTER`.
pub const LRK_ERR_NULL_POINTER: i32 = -1;
/// `LRK_ERR_MISALIGNED`.
pub const LRK_ERR_MISALIGNED: i32 = -2;
/// `LRK_ERR_TOO_LARGE`: more groups, tensors, kwargs or list items than the fixed capacity.
pub const LRK_ERR_TOO_LARGE: i32 = -3;
/// `LRK_ERR_OVERLAP`: a written region overlaps another region of the call.
pub const LRK_ERR_OVERLAP: i32 = -4;
/// `LRK_ERR_INVALID_ARGUMENT`: a bad code, a string that is not UTF-8, a bad kwarg.
pub const LRK_ERR_INVALID_ARGUMENT: i32 = -5;
/// `LRK_ERR_INVALID_CONFIG`: an SGD group's options.
pub const LRK_ERR_INVALID_CONFIG: i32 = -10;
/// `LRK_ERR_MISSING_MOMENTUM_BUFFER`.
pub const LRK_ERR_MISSING_MOMENTUM_BUFFER: i32 = -11;
/// `LRK_ERR_INVALID_GRAD_SCALE`.
pub const LRK_ERR_INVALID_GRAD_SCALE: i32 = -12;
/// `LRK_ERR_DTYPE`: a typed tensor's dtypes, master copy or rounding do not fit.
pub const LRK_ERR_DTYPE: i32 = -14;
/// `LRK_ERR_SGD`: any other refusal of the SGD step (lengths, ...).
pub const LRK_ERR_SGD: i32 = -15;
/// `LRK_ERR_SCHEDULE`: a schedule's options or a step it refuses (sched-core).
pub const LRK_ERR_SCHEDULE: i32 = -20;
/// `LRK_ERR_NO_CLOSED_FORM`: `lr_at` of a schedule without one.
pub const LRK_ERR_NO_CLOSED_FORM: i32 = -21;
/// `LRK_ERR_UNKNOWN_SCHEDULE`: `lrk_scheduler_build` with a name sched-core does not know.
pub const LRK_ERR_UNKNOWN_SCHEDULE: i32 = -22;

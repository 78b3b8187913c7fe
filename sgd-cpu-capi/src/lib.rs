//! C ABI for [`sgd_cpu`]: one fused SGD step over caller-owned tensors, on the calling thread
//! or on a persistent thread pool: float32 tensors ([`sgd_step`]) or tensors of any dtype
//! ([`sgd_step_typed`]: float64, bfloat16/float16, f32 master weights, stochastic rounding).
//! The header is `include/sgd_cpu.h`.
//!
//! Every entry point validates everything before writing anything and reports bad input as a
//! status code ([`SgdStatus`]) with a message that names the bad value
//! ([`sgd_last_error_message`]); none of them unwinds into C (a panic, which would be a bug, is
//! caught and reported as [`SgdStatus::Panic`]).
//!
//! Beyond what [`sgd_cpu::fused_step`] checks, the C side's pointers are checked: null
//! pointers where data is needed, float pointers not 4-byte aligned, sizes past `isize::MAX`
//! bytes, and any overlap between a written region (parameter, momentum buffer, flag) and any
//! other region of the step (the `groups` and `tensors` arrays and `grad_scale` included),
//! which the Rust API rules out by borrowing.
//!
//! ```c
//! sgd_tensor t = { w, g, buf, &initialized, n };
//! sgd_group group = { { .lr = 0.1, .momentum = 0.9 }, &t, 1 };
//! int32_t status = sgd_step(NULL, &group, 1, NULL, 0);
//! if (status < 0) { char msg[256]; sgd_last_error_message(msg, sizeof msg); }
//! ```

mod error;
mod layout;
mod pool;
mod step;
mod types;

pub use error::{CapiError, PointerField, SgdStatus, sgd_last_error_message};
pub use pool::{SgdPool, sgd_pool_free, sgd_pool_new, sgd_pool_threads};
pub use step::{sgd_backend_name, sgd_step, sgd_step_typed};
pub use types::{SgdConfigC, SgdGroupC, SgdTensorC, SgdTypedGroupC, SgdTypedTensorC};

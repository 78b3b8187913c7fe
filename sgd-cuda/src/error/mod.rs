//! The crate's error type, [`CudaSgdError`]: one variant per category, each category an enum of
//! its own.

use core::fmt;

use cudarc::driver::DriverError;
use sgd_core::{ConfigError, GroupCountMismatch, PrecisionError};

mod compile;
mod grad_scaler;
mod group;
mod launch;
mod library;
mod schedule;
mod stream;
mod tensor;

pub use compile::CompileError;
pub use grad_scaler::GradScalerError;
pub use group::GroupError;
pub use launch::LaunchError;
pub use library::LibraryError;
pub use schedule::ScheduleError;
pub use stream::StreamError;
pub use tensor::TensorError;

/// Everything that can go wrong in `sgd-cuda`, by category.
///
/// Validation errors (every category but [`CudaSgdError::Library`] and
/// [`CudaSgdError::Compile`]) are reported before anything is written to the device. Each
/// category converts into this type with `From` (so `?` works on it), and its message is this
/// error's message. [`core::error::Error::source`] is the category's cause: the driver's error,
/// sched-core's, sgd-core's [`ConfigError`] of [`CudaSgdError::Config`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum CudaSgdError {
    /// The CUDA driver, NVRTC or a device could not be used.
    Library(LibraryError),
    /// A kernel could not be compiled or loaded.
    Compile(CompileError),
    /// A group's options (or a learning rate) break `torch.optim.SGD`'s rules, as
    /// [`sgd_core::SgdConfig::validate`] checks them (the same rules and the same error as
    /// `sgd_cpu::Sgd::new`, whose `SgdError` converts from it).
    Config(ConfigError),
    /// The launch shape (chunk size, block size, chunk count) is out of range.
    Launch(LaunchError),
    /// A tensor's dtypes, master copy or rounding do not fit together, as
    /// [`sgd_core::check_tensor`] checks them (sgd-core's error, as `sgd_cpu::typed_step`
    /// reports it), naming the tensor.
    Precision(PrecisionError),
    /// A tensor or buffer is invalid (ranges, overlaps, alignment, momentum buffers, indices).
    Tensor(TensorError),
    /// A group index that does not exist, or not one learning rate per group.
    Group(GroupError),
    /// The stream belongs elsewhere or is being captured into a graph.
    Stream(StreamError),
    /// The gradient scaler is off or its addresses are invalid.
    GradScaler(GradScalerError),
    /// A learning-rate schedule cannot drive the optimizer (device schedule, scheduler bridge).
    Schedule(ScheduleError),
}

impl fmt::Display for CudaSgdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Library(e) => e.fmt(f),
            Self::Compile(e) => e.fmt(f),
            Self::Config(e) => e.fmt(f),
            Self::Launch(e) => e.fmt(f),
            Self::Precision(e) => e.fmt(f),
            Self::Tensor(e) => e.fmt(f),
            Self::Group(e) => e.fmt(f),
            Self::Stream(e) => e.fmt(f),
            Self::GradScaler(e) => e.fmt(f),
            Self::Schedule(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for CudaSgdError {
    /// The category's cause ([`LibraryError::Driver`]'s and [`CompileError::ModuleLoad`]'s driver
    /// error, [`ScheduleError::Step`]'s sched-core error, ...), and the [`ConfigError`] of
    /// [`CudaSgdError::Config`]; `None` where there is none.
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Library(e) => e.source(),
            Self::Compile(e) => e.source(),
            Self::Config(e) => Some(e),
            Self::Launch(e) => e.source(),
            Self::Precision(e) => Some(e),
            Self::Tensor(e) => e.source(),
            Self::Group(e) => e.source(),
            Self::Stream(e) => e.source(),
            Self::GradScaler(e) => e.source(),
            Self::Schedule(e) => e.source(),
        }
    }
}

/// `From<$category> for CudaSgdError`, one impl per category.
macro_rules! from_category {
    ($($category:ident => $variant:ident),* $(,)?) => {$(
        impl From<$category> for CudaSgdError {
            fn from(e: $category) -> Self {
                Self::$variant(e)
            }
        }
    )*};
}

from_category! {
    LibraryError => Library,
    CompileError => Compile,
    ConfigError => Config,
    LaunchError => Launch,
    PrecisionError => Precision,
    TensorError => Tensor,
    GroupError => Group,
    StreamError => Stream,
    GradScalerError => GradScaler,
    ScheduleError => Schedule,
}

/// A scheduler over another number of groups than the optimizer's
/// ([`sgd_core::inject_hyperparams`] on a [`crate::CudaSgd`]).
impl From<GroupCountMismatch> for CudaSgdError {
    fn from(e: GroupCountMismatch) -> Self {
        Self::Schedule(ScheduleError::OptimizerGroupCount(e))
    }
}

impl CudaSgdError {
    /// Wraps a driver error with what was being done ([`LibraryError::Driver`]).
    pub(crate) fn driver(context: &'static str) -> impl FnOnce(DriverError) -> Self {
        move |source| Self::Library(LibraryError::Driver { context, source })
    }
}

#[cfg(test)]
mod tests {
    use core::error::Error;

    use super::*;

    #[test]
    fn source_is_the_wrapped_error() {
        let rule = ConfigError::NegativeLearningRate { group: 1, lr: -0.5 };
        let e = CudaSgdError::from(rule);
        let source = e.source().and_then(|s| s.downcast_ref::<ConfigError>());
        assert_eq!(source, Some(&rule));
        assert_eq!(e.to_string(), rule.to_string());
        let no_inner: [CudaSgdError; 3] = [
            GroupError::Unknown { tensor: None, group: 3, groups: 2 }.into(),
            LibraryError::Panic { context: "NVRTC compile", message: "boom".into() }.into(),
            LibraryError::DriverNotFound.into(),
        ];
        for e in no_inner {
            assert!(e.source().is_none(), "{e}");
        }
        let sched = sched_core::SchedError::MetricRequired;
        let e = CudaSgdError::from(ScheduleError::Step { step: 4, source: sched });
        let source = e.source().and_then(|s| s.downcast_ref::<sched_core::SchedError>());
        assert_eq!(source, Some(&sched));
        assert!(e.to_string().contains("step 4"), "{e}");
        let e = CudaSgdError::from(ScheduleError::Exhausted { rows: 9, skipped_steps: 2 });
        assert!(e.source().is_none());
        assert!(e.to_string().contains("9 rows") && e.to_string().contains("2 scheduled"), "{e}");
        assert_eq!(
            CudaSgdError::from(GroupError::Unknown { tensor: None, group: 3, groups: 2 })
                .to_string(),
            "group 3 does not exist (2 groups)"
        );
        assert_eq!(
            CudaSgdError::from(GroupError::Unknown { tensor: Some(1), group: 3, groups: 2 })
                .to_string(),
            "tensor 1: group 3 does not exist (2 groups)"
        );
    }

    #[test]
    fn a_scheduler_group_count_mismatch_is_a_schedule_error_with_sgd_cores_message() {
        let mismatch = GroupCountMismatch { scheduler: 1, optimizer: 2 };
        let e = CudaSgdError::from(mismatch);
        assert!(
            matches!(e, CudaSgdError::Schedule(ScheduleError::OptimizerGroupCount(m)) if m == mismatch)
        );
        assert_eq!(e.to_string(), mismatch.to_string());
        assert_eq!(
            e.source().and_then(|s| s.downcast_ref::<GroupCountMismatch>()),
            Some(&mismatch)
        );
    }
}

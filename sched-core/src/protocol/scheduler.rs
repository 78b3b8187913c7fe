//! [`Scheduler`]: any scheduler, so that composites can hold them without a heap.

use crate::protocol::base::{Base, StepMode};
use crate::{
    ChainedScheduler, ConstantLr, CosineAnnealingLr, CosineAnnealingWarmRestarts, CyclicLr,
    ExponentialLr, LambdaLr, LinearLr, MultiStepLr, MultiplicativeLr, OneCycleLr, OptaxScheduler,
    ParamGroup, PolynomialLr, ReduceLrOnPlateau, SchedError, SequentialLr, StepLr, TimmScheduler,
    TransformersScheduler,
};

/// The one list of scheduler kinds: each variant with its type, its snapshot code and its
/// name in its library. The enum, its `From` conversions, [`Scheduler::kind`] and
/// [`Scheduler::snapshot_code`] are generated from it (names by schedule for the peer
/// families: `sched_core::registry` lists them with their parameters).
macro_rules! scheduler_kinds {
    ($($(#[$doc:meta])* $v:ident($t:ty) = $code:literal, $name:expr;)*) => {
        /// Any scheduler: PyTorch's, and the schedule families of transformers, timm and optax.
        /// Composites ([`SequentialLr`], [`ChainedScheduler`]) borrow their children as
        /// `&'a mut [Scheduler<'a>]`, so the whole tree lives wherever the caller puts it
        /// (stack, static, arena): no allocation.
        #[derive(Debug)]
        #[non_exhaustive]
        pub enum Scheduler<'a> {
            $($(#[$doc])* $v($t),)*
        }

        $(
            impl<'a> From<$t> for Scheduler<'a> {
                fn from(s: $t) -> Self {
                    Self::$v(s)
                }
            }
        )*

        impl<'a> Scheduler<'a> {
            /// The class or function name in its library (`"StepLR"`, `"CosineLRScheduler"`,
            /// `"get_wsd_schedule"`, `"warmup_cosine_decay_schedule"`, ...).
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Self::$v(s) => {
                        let name: fn(&$t) -> &'static str = $name;
                        name(s)
                    })*
                }
            }

            /// The kind's code in a [`Snapshot`](crate::Snapshot) (`kind` field).
            pub fn snapshot_code(&self) -> u32 {
                match self {
                    $(Self::$v(_) => $code,)*
                }
            }
        }
    };
}

scheduler_kinds! {
    /// `StepLR`.
    Step(StepLr) = 1, |_| "StepLR";
    /// `MultiStepLR`.
    MultiStep(MultiStepLr) = 2, |_| "MultiStepLR";
    /// `ConstantLR`.
    Constant(ConstantLr) = 3, |_| "ConstantLR";
    /// `LinearLR`.
    Linear(LinearLr) = 4, |_| "LinearLR";
    /// `ExponentialLR`.
    Exponential(ExponentialLr) = 5, |_| "ExponentialLR";
    /// `PolynomialLR`.
    Polynomial(PolynomialLr) = 6, |_| "PolynomialLR";
    /// `CosineAnnealingLR`.
    CosineAnnealing(CosineAnnealingLr) = 7, |_| "CosineAnnealingLR";
    /// `LambdaLR`.
    Lambda(LambdaLr) = 8, |_| "LambdaLR";
    /// `MultiplicativeLR`.
    Multiplicative(MultiplicativeLr) = 9, |_| "MultiplicativeLR";
    /// `CosineAnnealingWarmRestarts`.
    WarmRestarts(CosineAnnealingWarmRestarts) = 10, |_| "CosineAnnealingWarmRestarts";
    /// `CyclicLR`.
    Cyclic(CyclicLr) = 11, |_| "CyclicLR";
    /// `OneCycleLR`.
    OneCycle(OneCycleLr) = 12, |_| "OneCycleLR";
    /// `ReduceLROnPlateau`.
    Plateau(ReduceLrOnPlateau) = 13, |_| "ReduceLROnPlateau";
    /// `SequentialLR`.
    Sequential(SequentialLr<'a>) = 14, |_| "SequentialLR";
    /// `ChainedScheduler`.
    Chained(ChainedScheduler<'a>) = 15, |_| "ChainedScheduler";
    /// A Hugging Face transformers schedule (a `LambdaLR`).
    Transformers(TransformersScheduler) = 16, |s| s.schedule().name();
    /// A timm scheduler.
    Timm(TimmScheduler) = 17, |s| s.config().class_name();
    /// An optax schedule.
    Optax(OptaxScheduler) = 18, |s| s.name();
}

macro_rules! leaf {
    ($self:expr, $s:ident => $e:expr, plateau $p:ident => $pe:expr, composite $c:ident => $ce:expr) => {
        match $self {
            Scheduler::Step($s) => $e,
            Scheduler::MultiStep($s) => $e,
            Scheduler::Constant($s) => $e,
            Scheduler::Linear($s) => $e,
            Scheduler::Exponential($s) => $e,
            Scheduler::Polynomial($s) => $e,
            Scheduler::CosineAnnealing($s) => $e,
            Scheduler::Lambda($s) => $e,
            Scheduler::Multiplicative($s) => $e,
            Scheduler::Cyclic($s) => $e,
            Scheduler::OneCycle($s) => $e,
            Scheduler::WarmRestarts($s) => $e,
            Scheduler::Transformers($s) => $e,
            Scheduler::Timm($s) => $e,
            Scheduler::Optax($s) => $e,
            Scheduler::Plateau($p) => $pe,
            Scheduler::Sequential($c) => $ce,
            Scheduler::Chained($c) => $ce,
        }
    };
}

impl Scheduler<'_> {
    /// One `scheduler.step()`. ReduceLROnPlateau needs
    /// [`Scheduler::step_with_metric`] instead.
    pub fn step(&mut self, groups: &mut [ParamGroup]) -> Result<(), SchedError> {
        self.step_mode(groups, StepMode::Normal)
    }

    /// `ReduceLROnPlateau.step(metric)`; any other scheduler returns
    /// [`SchedError::Unsupported`].
    pub fn step_with_metric(
        &mut self,
        metric: f64,
        groups: &mut [ParamGroup],
    ) -> Result<(), SchedError> {
        match self {
            Self::Plateau(p) => p.step(metric, groups),
            _ => Err(SchedError::Unsupported {
                what: "a metric for a scheduler other than ReduceLROnPlateau",
            }),
        }
    }

    /// `CosineAnnealingWarmRestarts.step(epoch)` (fractional epochs); any other scheduler
    /// returns [`SchedError::EpochNotSupported`].
    pub fn step_epoch(&mut self, epoch: f64, groups: &mut [ParamGroup]) -> Result<(), SchedError> {
        match self {
            Self::WarmRestarts(s) => s.step_epoch(epoch, groups),
            _ => Err(SchedError::EpochNotSupported),
        }
    }

    /// PyTorch's `last_epoch`.
    pub fn last_epoch(&self) -> i64 {
        leaf!(self, s => s.base.last_epoch, plateau p => p.last_epoch, composite c => c.last_epoch())
    }

    /// The learning rate of `group` at epoch `epoch` in O(1) (see [`ClosedForm`](crate::ClosedForm)).
    /// Epochs above [`MAX_EPOCH`](crate::MAX_EPOCH) are an error.
    pub fn lr_at(&self, group: usize, epoch: u64) -> Result<f64, SchedError> {
        crate::protocol::base::check_closed_epoch(epoch)?;
        self.closed::<f64>(group, epoch)
    }

    /// [`Scheduler::lr_at`] evaluated in `f32`.
    pub fn lr_at_f32(&self, group: usize, epoch: u64) -> Result<f32, SchedError> {
        crate::protocol::base::check_closed_epoch(epoch)?;
        self.closed::<f32>(group, epoch)
    }

    pub(crate) fn closed<R: crate::math::Real>(
        &self,
        group: usize,
        epoch: u64,
    ) -> Result<R, SchedError> {
        match self {
            Self::Step(s) => s.closed(group, epoch),
            Self::MultiStep(s) => s.closed(group, epoch),
            Self::Constant(s) => s.closed(group, epoch),
            Self::Linear(s) => s.closed(group, epoch),
            Self::Exponential(s) => s.closed(group, epoch),
            Self::Polynomial(s) => s.closed(group, epoch),
            Self::CosineAnnealing(s) => s.closed(group, epoch),
            Self::Lambda(s) => s.closed(group, epoch),
            Self::WarmRestarts(s) => s.closed(group, epoch),
            Self::Cyclic(s) => s.closed(group, epoch),
            Self::OneCycle(s) => s.closed(group, epoch),
            Self::Sequential(s) => s.closed(group, epoch),
            Self::Transformers(s) => s.closed(group, epoch),
            Self::Timm(s) => s.closed(group, epoch),
            Self::Optax(s) => s.closed(group, epoch),
            Self::Multiplicative(_) | Self::Plateau(_) | Self::Chained(_) => {
                Err(SchedError::NoClosedForm)
            }
        }
    }

    pub(crate) fn step_mode(
        &mut self,
        groups: &mut [ParamGroup],
        mode: StepMode,
    ) -> Result<(), SchedError> {
        match self {
            Self::WarmRestarts(s) => s.step_mode(groups, mode, None),
            Self::Plateau(_) => Err(SchedError::MetricRequired),
            Self::Sequential(s) => match mode {
                StepMode::RestartAtZero => Err(SchedError::Unsupported {
                    what: "SequentialLR restarted by a parent SequentialLR",
                }),
                StepMode::Initial | StepMode::Normal => s.step(groups),
            },
            Self::Chained(s) => match mode {
                StepMode::RestartAtZero => Err(SchedError::Unsupported {
                    what: "ChainedScheduler restarted by a SequentialLR",
                }),
                StepMode::Initial | StepMode::Normal => s.step(groups),
            },
            Self::Step(s) => s.step_mode(groups, mode),
            Self::MultiStep(s) => s.step_mode(groups, mode),
            Self::Constant(s) => s.step_mode(groups, mode),
            Self::Linear(s) => s.step_mode(groups, mode),
            Self::Exponential(s) => s.step_mode(groups, mode),
            Self::Polynomial(s) => s.step_mode(groups, mode),
            Self::CosineAnnealing(s) => s.step_mode(groups, mode),
            Self::Lambda(s) => s.step_mode(groups, mode),
            Self::Multiplicative(s) => s.step_mode(groups, mode),
            Self::Cyclic(s) => s.step_mode(groups, mode),
            Self::OneCycle(s) => s.step_mode(groups, mode),
            Self::Transformers(s) => s.step_mode(groups, mode),
            Self::Timm(s) => s.step_mode(groups, mode),
            Self::Optax(s) => s.step_mode(groups, mode),
        }
    }

    /// SequentialLR's `recursive_undo`: every leaf's `last_epoch -= 1`.
    pub(crate) fn undo(&mut self) {
        leaf!(self, s => s.base.last_epoch -= 1, plateau p => p.last_epoch -= 1, composite c => c.undo())
    }

    /// The `LRScheduler` base state of an epoch-indexed scheduler (`None` for
    /// ReduceLROnPlateau and the composites).
    pub(crate) fn base_state(&self) -> Option<&Base> {
        leaf!(self, s => Some(&s.base), plateau _p => None, composite _c => None)
    }

    /// Mutable [`Scheduler::base_state`].
    pub(crate) fn base_state_mut(&mut self) -> Option<&mut Base> {
        leaf!(self, s => Some(&mut s.base), plateau _p => None, composite _c => None)
    }

    /// Number of parameter groups the scheduler was built for.
    pub fn groups(&self) -> usize {
        leaf!(self, s => s.base.groups, plateau p => p.groups(), composite c => c.groups())
    }
}

//! [`Scheduler`]: any scheduler, so that composites can hold them without a heap.

use crate::base::{Base, StepMode};
use crate::{
    ChainedScheduler, ConstantLr, CosineAnnealingLr, CosineAnnealingWarmRestarts, CyclicLr,
    ExponentialLr, LambdaLr, LinearLr, MultiStepLr, MultiplicativeLr, OneCycleLr, OptaxLr,
    ParamGroup, PolynomialLr, ReduceLrOnPlateau, SchedError, SequentialLr, StepLr, TimmScheduler,
    TransformersLr,
};

/// Any of PyTorch's learning-rate schedulers. Composites ([`SequentialLr`],
/// [`ChainedScheduler`]) borrow their children as `&'a mut [Scheduler<'a>]`, so the whole
/// tree lives wherever the caller puts it (stack, static, arena): no allocation.
#[derive(Debug)]
#[non_exhaustive]
pub enum Scheduler<'a> {
    /// `StepLR`.
    Step(StepLr),
    /// `MultiStepLR`.
    MultiStep(MultiStepLr),
    /// `ConstantLR`.
    Constant(ConstantLr),
    /// `LinearLR`.
    Linear(LinearLr),
    /// `ExponentialLR`.
    Exponential(ExponentialLr),
    /// `PolynomialLR`.
    Polynomial(PolynomialLr),
    /// `CosineAnnealingLR`.
    CosineAnnealing(CosineAnnealingLr),
    /// `LambdaLR`.
    Lambda(LambdaLr),
    /// `MultiplicativeLR`.
    Multiplicative(MultiplicativeLr),
    /// `CosineAnnealingWarmRestarts`.
    WarmRestarts(CosineAnnealingWarmRestarts),
    /// `CyclicLR`.
    Cyclic(CyclicLr),
    /// `OneCycleLR`.
    OneCycle(OneCycleLr),
    /// `ReduceLROnPlateau`.
    Plateau(ReduceLrOnPlateau),
    /// `SequentialLR`.
    Sequential(SequentialLr<'a>),
    /// `ChainedScheduler`.
    Chained(ChainedScheduler<'a>),
    /// A Hugging Face transformers schedule (a `LambdaLR`).
    Transformers(TransformersLr),
    /// A timm scheduler.
    Timm(TimmScheduler),
    /// An optax schedule.
    Optax(OptaxLr),
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
    /// The class or function name in its library (`"StepLR"`, `"CosineLRScheduler"`,
    /// `"get_wsd_schedule"`, `"warmup_cosine_decay_schedule"`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Step(_) => "StepLR",
            Self::MultiStep(_) => "MultiStepLR",
            Self::Constant(_) => "ConstantLR",
            Self::Linear(_) => "LinearLR",
            Self::Exponential(_) => "ExponentialLR",
            Self::Polynomial(_) => "PolynomialLR",
            Self::CosineAnnealing(_) => "CosineAnnealingLR",
            Self::Lambda(_) => "LambdaLR",
            Self::Multiplicative(_) => "MultiplicativeLR",
            Self::WarmRestarts(_) => "CosineAnnealingWarmRestarts",
            Self::Cyclic(_) => "CyclicLR",
            Self::OneCycle(_) => "OneCycleLR",
            Self::Plateau(_) => "ReduceLROnPlateau",
            Self::Sequential(_) => "SequentialLR",
            Self::Chained(_) => "ChainedScheduler",
            Self::Transformers(s) => s.schedule().name(),
            Self::Timm(s) => s.config().class_name(),
            Self::Optax(s) => s.name(),
        }
    }

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
        crate::base::check_closed_epoch(epoch)?;
        self.closed::<f64>(group, epoch)
    }

    /// [`Scheduler::lr_at`] evaluated in `f32`.
    pub fn lr_at_f32(&self, group: usize, epoch: u64) -> Result<f32, SchedError> {
        crate::base::check_closed_epoch(epoch)?;
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

macro_rules! from_leaf {
    ($($v:ident($t:ty)),*) => {$(
        impl From<$t> for Scheduler<'_> {
            fn from(s: $t) -> Self {
                Self::$v(s)
            }
        }
    )*};
}

from_leaf!(
    Step(StepLr),
    MultiStep(MultiStepLr),
    Constant(ConstantLr),
    Linear(LinearLr),
    Exponential(ExponentialLr),
    Polynomial(PolynomialLr),
    CosineAnnealing(CosineAnnealingLr),
    Lambda(LambdaLr),
    Multiplicative(MultiplicativeLr),
    WarmRestarts(CosineAnnealingWarmRestarts),
    Cyclic(CyclicLr),
    OneCycle(OneCycleLr),
    Plateau(ReduceLrOnPlateau),
    Transformers(TransformersLr),
    Timm(TimmScheduler),
    Optax(OptaxLr)
);

impl<'a> From<SequentialLr<'a>> for Scheduler<'a> {
    fn from(s: SequentialLr<'a>) -> Self {
        Self::Sequential(s)
    }
}

impl<'a> From<ChainedScheduler<'a>> for Scheduler<'a> {
    fn from(s: ChainedScheduler<'a>) -> Self {
        Self::Chained(s)
    }
}

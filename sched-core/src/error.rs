//! The crate's one error type.

use core::fmt;

/// Why a scheduler could not be built or stepped. Every variant names the offending
/// parameter and, where there is one, its value. Construction validates everything up
/// front, so configurations PyTorch accepts but fails on later (for example
/// `StepLR(step_size=0)`, which raises `ZeroDivisionError` at its first step) are
/// rejected here when they are built.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum SchedError {
    /// A floating-point parameter is NaN or infinite.
    NonFinite {
        /// Parameter name (PyTorch's keyword).
        param: &'static str,
        /// The value given.
        value: f64,
    },
    /// A parameter is outside its valid range.
    OutOfRange {
        /// Parameter name (PyTorch's keyword).
        param: &'static str,
        /// The value given.
        value: f64,
        /// The valid range, in words.
        expected: &'static str,
    },
    /// A period or count that must be positive is zero (PyTorch would divide by it).
    ZeroPeriod {
        /// Parameter name.
        param: &'static str,
    },
    /// A parameter that PyTorch requires to be an `int` was given another value.
    NotAnInteger {
        /// Parameter name.
        param: &'static str,
        /// The value given.
        value: f64,
    },
    /// A parameter has the wrong type (e.g. a string where a number is expected).
    WrongType {
        /// Parameter name.
        param: &'static str,
        /// What was expected, in words.
        expected: &'static str,
    },
    /// A string parameter has an unknown value (e.g. `mode='cats'`).
    UnknownChoice {
        /// Parameter name.
        param: &'static str,
        /// The accepted values.
        expected: &'static str,
    },
    /// A keyword argument that the scheduler does not take (position in the list given).
    UnknownParameter {
        /// Zero-based position of the keyword in the argument list.
        position: usize,
    },
    /// A required keyword argument is missing.
    MissingParameter {
        /// Parameter name.
        param: &'static str,
    },
    /// A per-group list has the wrong length.
    GroupListLength {
        /// Parameter name.
        param: &'static str,
        /// Number of parameter groups.
        expected: usize,
        /// Length of the list given.
        got: usize,
    },
    /// No parameter groups were given.
    NoGroups,
    /// More parameter groups than [`MAX_GROUPS`](crate::MAX_GROUPS).
    TooManyGroups {
        /// Number of groups given.
        groups: usize,
        /// The capacity.
        max: usize,
    },
    /// A list parameter is longer than the fixed capacity of the crate.
    TooManyItems {
        /// Parameter name.
        param: &'static str,
        /// Length given.
        got: usize,
        /// The capacity.
        max: usize,
    },
    /// `step` was called with a different number of groups than at construction.
    GroupCountChanged {
        /// Groups at construction.
        expected: usize,
        /// Groups now.
        got: usize,
    },
    /// A group index out of range in a closed-form query.
    GroupOutOfRange {
        /// The index asked for.
        group: usize,
        /// Number of groups.
        groups: usize,
    },
    /// Resuming (`last_epoch >= 0`) needs `initial_lr` in every group (PyTorch's `KeyError`).
    MissingInitialLr {
        /// The group without `initial_lr`.
        group: usize,
    },
    /// `cycle_momentum` needs groups with a momentum value.
    MissingMomentum {
        /// The group without momentum.
        group: usize,
    },
    /// Milestones must be in non-decreasing order.
    UnsortedMilestones {
        /// Index of the first milestone smaller than its predecessor.
        index: usize,
    },
    /// A OneCycleLR phase (or CyclicLR half cycle) of zero length: PyTorch divides by it.
    ZeroLengthPhase {
        /// Zero-based phase index.
        phase: usize,
    },
    /// OneCycleLR stepped past `total_steps` (PyTorch's `ValueError: Tried to step ...`).
    TotalStepsExceeded {
        /// The step that was attempted (`last_epoch` it would reach).
        step: i64,
        /// `total_steps`.
        total_steps: u64,
    },
    /// A negative epoch passed to `CosineAnnealingWarmRestarts.step(epoch)`.
    NegativeEpoch {
        /// The epoch given.
        epoch: f64,
    },
    /// A composite (SequentialLR / ChainedScheduler) was given no schedulers.
    EmptyComposite,
    /// SequentialLR needs one milestone fewer than schedulers.
    MilestoneCount {
        /// Number of schedulers.
        schedulers: usize,
        /// Number of milestones.
        milestones: usize,
    },
    /// ReduceLROnPlateau cannot be part of a composite (PyTorch's rule).
    PlateauInComposite,
    /// A timm or optax schedule as a child of SequentialLR or ChainedScheduler: they are not
    /// torch `LRScheduler`s, so torch fails on them (at construction, or at the step that
    /// reaches them: no `_initial_step`, `_update_lr`, or a `step()` without an epoch).
    NotATorchScheduler {
        /// The child's position in `schedulers`.
        index: usize,
        /// Its library's name for it.
        kind: &'static str,
        /// Its library (`timm`, `optax`).
        library: &'static str,
    },
    /// ReduceLROnPlateau needs a metric: call `step_with_metric`.
    MetricRequired,
    /// A fractional / explicit epoch was passed to a scheduler other than
    /// CosineAnnealingWarmRestarts.
    EpochNotSupported,
    /// No closed form exists for this schedule (ReduceLROnPlateau, user functions,
    /// MultiplicativeLR, ChainedScheduler).
    NoClosedForm,
    /// This combination is not supported (names what).
    Unsupported {
        /// What is unsupported.
        what: &'static str,
    },
    /// An operation that Python raises `OverflowError` (or `ZeroDivisionError`) for at this
    /// epoch, such as `base ** epoch` past the largest float; names the parameter behind it.
    Overflow {
        /// The parameter whose value makes the computation overflow.
        param: &'static str,
        /// The epoch (`last_epoch`) at which it happens.
        epoch: i64,
    },
    /// A computation Python raises `ValueError: math domain error` for at this epoch (the
    /// logarithm or square root of a negative number); names the parameter behind it.
    MathDomain {
        /// The parameter whose value leads outside the function's domain.
        param: &'static str,
        /// The epoch (step) at which it happens.
        epoch: i64,
    },
    /// A Python `lr_lambda` raised at this epoch (or stopped where Python would go on: a
    /// complex value, an int past [`INT_BITS`](crate::python::INT_BITS)); nothing was written
    /// to the groups. At construction (LambdaLR evaluates `λ(0)` there) it is a construction
    /// error.
    LambdaRaised {
        /// The parameter group whose `lr_lambda` raised.
        group: usize,
        /// The epoch it was called with.
        epoch: i64,
        /// What Python raised, with its message.
        exception: crate::python::PyException,
    },
    /// A transformers, timm or optax formula raises where its Python source raises: a float
    /// `**` past the largest float (`OverflowError`), `x / 0.0` or `0.0 ** negative`
    /// (`ZeroDivisionError`), `math.cos(inf)` or `math.sqrt(-1)` (`ValueError: math domain
    /// error`), `int(inf)`; or its `**` of a negative float to a fractional power gives a
    /// complex number (Python returns one, the optimizer then fails on it). Names the
    /// parameter behind it; nothing was written to the groups.
    PythonRaised {
        /// The parameter whose value leads there.
        param: &'static str,
        /// The step at which the formula raises, or `None` when the library's own
        /// construction code raises (optax's `peak_value / div_factor`).
        epoch: Option<i64>,
        /// What Python raises, with its message.
        exception: crate::python::PyException,
    },
    /// A key of a dict of keyword arguments (an item of optax's `cosine_kwargs`) that the
    /// function it is passed to does not take.
    UnknownDictKey {
        /// The parameter holding the dicts (`cosine_kwargs`).
        param: &'static str,
        /// Zero-based position of the dict in that list.
        item: usize,
        /// Zero-based position of the key in the dict.
        position: usize,
        /// The function the dict's items are passed to.
        function: &'static str,
    },
    /// The distinct Python `lr_lambda`s of one scheduler need more room than its shared pool
    /// ([`LAMBDA_POOL_OPS`](crate::torch::LAMBDA_POOL_OPS) instructions,
    /// [`LAMBDA_POOL_CONSTS`](crate::torch::LAMBDA_POOL_CONSTS) constants).
    LambdaPoolFull {
        /// `"instructions"` or `"constants"`.
        what: &'static str,
        /// How many the λs need together.
        needed: usize,
        /// The capacity.
        max: usize,
    },
    /// Two parameters that may not be given together (transformers' `min_lr` and
    /// `min_lr_rate`).
    Conflict {
        /// The parameter named first.
        param: &'static str,
        /// The parameter it conflicts with.
        other: &'static str,
    },
    /// A state snapshot does not belong to this scheduler (or has another version).
    SnapshotMismatch {
        /// What did not match.
        what: &'static str,
    },
}

impl SchedError {
    /// The parameter the error is about, where it names one (`"T_max"`, `"min_lr"`, ...).
    /// A missing choice between several names them all (`"min_lr (or min_lr_rate)"`).
    pub fn param(&self) -> Option<&'static str> {
        match *self {
            Self::NonFinite { param, .. }
            | Self::OutOfRange { param, .. }
            | Self::ZeroPeriod { param }
            | Self::NotAnInteger { param, .. }
            | Self::WrongType { param, .. }
            | Self::UnknownChoice { param, .. }
            | Self::MissingParameter { param }
            | Self::GroupListLength { param, .. }
            | Self::TooManyItems { param, .. }
            | Self::Overflow { param, .. }
            | Self::MathDomain { param, .. }
            | Self::Conflict { param, .. }
            | Self::PythonRaised { param, .. }
            | Self::UnknownDictKey { param, .. } => Some(param),
            Self::LambdaRaised { .. } | Self::LambdaPoolFull { .. } => Some("lr_lambda"),
            Self::TotalStepsExceeded { .. } => Some("total_steps"),
            Self::MilestoneCount { .. } => Some("milestones"),
            Self::MissingInitialLr { .. } => Some("initial_lr"),
            Self::MissingMomentum { .. } => Some("momentum"),
            Self::UnsortedMilestones { .. } => Some("milestones"),
            _ => None,
        }
    }
}

impl fmt::Display for SchedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NonFinite { param, value } => {
                write!(f, "`{param}` must be finite, got {value:?}")
            }
            Self::OutOfRange { param, value, expected } => {
                write!(f, "`{param}` = {value:?} is out of range: expected {expected}")
            }
            Self::ZeroPeriod { param } => write!(f, "`{param}` must be positive, got 0"),
            Self::NotAnInteger { param, value } => {
                write!(f, "`{param}` must be an integer, got {value:?}")
            }
            Self::WrongType { param, expected } => write!(f, "`{param}` must be {expected}"),
            Self::UnknownChoice { param, expected } => {
                write!(f, "`{param}` has an unknown value: expected one of {expected}")
            }
            Self::UnknownParameter { position } => {
                write!(f, "keyword argument #{} is not a parameter of this scheduler", position + 1)
            }
            Self::MissingParameter { param } => write!(f, "missing required argument `{param}`"),
            Self::GroupListLength { param, expected, got } => write!(
                f,
                "`{param}` must have one value per parameter group: {expected} groups, got {got} values"
            ),
            Self::NoGroups => write!(f, "at least one parameter group is required"),
            Self::TooManyGroups { groups, max } => {
                write!(f, "{groups} parameter groups exceed the capacity of {max}")
            }
            Self::TooManyItems { param, got, max } => {
                write!(f, "`{param}` has {got} items, more than the capacity of {max}")
            }
            Self::GroupCountChanged { expected, got } => write!(
                f,
                "the scheduler was built for {expected} parameter groups but stepped with {got}"
            ),
            Self::GroupOutOfRange { group, groups } => {
                write!(f, "group {group} does not exist ({groups} groups)")
            }
            Self::MissingInitialLr { group } => write!(
                f,
                "param 'initial_lr' is not specified in param_groups[{group}] when resuming (last_epoch >= 0)"
            ),
            Self::MissingMomentum { group } => write!(
                f,
                "cycle_momentum needs a momentum value in every group; param_groups[{group}] has none"
            ),
            Self::UnsortedMilestones { index } => {
                write!(
                    f,
                    "milestones must be non-decreasing; milestone #{index} is smaller than the one before"
                )
            }
            Self::ZeroLengthPhase { phase } => write!(f, "phase {phase} has zero length"),
            Self::TotalStepsExceeded { step, total_steps } => write!(
                f,
                "tried to step {step} times; the specified number of total steps is {total_steps}"
            ),
            Self::NegativeEpoch { epoch } => {
                write!(f, "expected a non-negative epoch, got {epoch:?}")
            }
            Self::EmptyComposite => write!(f, "a composite scheduler needs at least one scheduler"),
            Self::MilestoneCount { schedulers, milestones } => write!(
                f,
                "SequentialLR needs one milestone fewer than schedulers: {schedulers} schedulers, {milestones} milestones"
            ),
            Self::Overflow { param, epoch } => write!(
                f,
                "`{param}` makes the learning rate overflow at epoch {epoch} (Python raises OverflowError)"
            ),
            Self::MathDomain { param, epoch } => write!(
                f,
                "`{param}` leads outside the domain of a math function at step {epoch} (Python raises ValueError: math domain error)"
            ),
            Self::LambdaRaised { group, epoch, exception } => write!(
                f,
                "lr_lambda of parameter group {group} raised {exception} at epoch {epoch}"
            ),
            Self::PythonRaised { param, epoch, exception: crate::python::PyException::Complex } => {
                write!(f, "`{param}` makes the learning rate a complex number")?;
                if let Some(epoch) = epoch {
                    write!(f, " at step {epoch}")?;
                }
                f.write_str(
                    " (Python's `**` of a negative float to a fractional power; the optimizer then fails on it)",
                )
            }
            Self::PythonRaised { param, epoch: Some(epoch), exception } => {
                write!(f, "`{param}` makes Python raise {exception} at step {epoch}")
            }
            Self::PythonRaised { param, epoch: None, exception } => {
                write!(f, "`{param}` makes Python raise {exception} when the schedule is built")
            }
            Self::UnknownDictKey { param, item, position, function } => write!(
                f,
                "key #{} of `{param}[{item}]` is not a parameter of {function}",
                position + 1
            ),
            Self::LambdaPoolFull { what, needed, max } => write!(
                f,
                "the Python lr_lambdas need {needed} {what} together, more than the scheduler's pool of {max}"
            ),
            Self::Conflict { param, other } => {
                write!(f, "only one of `{param}` and `{other}` may be set")
            }
            Self::PlateauInComposite => {
                write!(f, "ReduceLROnPlateau cannot be part of SequentialLR or ChainedScheduler")
            }
            Self::NotATorchScheduler { index, kind, library } => write!(
                f,
                "schedulers[{index}] is {library}'s {kind}, not a torch LRScheduler: \
                 SequentialLR and ChainedScheduler cannot step it"
            ),
            Self::MetricRequired => {
                write!(f, "ReduceLROnPlateau needs a metric: use step_with_metric")
            }
            Self::EpochNotSupported => {
                write!(f, "an explicit epoch can only be passed to CosineAnnealingWarmRestarts")
            }
            Self::NoClosedForm => write!(f, "this schedule has no closed form"),
            Self::Unsupported { what } => write!(f, "unsupported: {what}"),
            Self::SnapshotMismatch { what } => write!(f, "snapshot does not match: {what}"),
        }
    }
}

impl core::error::Error for SchedError {}

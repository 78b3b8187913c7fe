//! The arguments of timm's five schedulers and timm's checks of them.

use crate::protocol::base::{finite, float_of};
use crate::{MAX_MILESTONES, SchedError};

/// The cycle structure of `CosineLRScheduler`, `TanhLRScheduler` and `PolyLRScheduler`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimmCycles {
    /// `t_initial`: length of the first cycle (`> 0`).
    pub t_initial: i64,
    /// `lr_min` (`>= 0`).
    pub lr_min: f64,
    /// `cycle_mul`: growth of the cycle length.
    pub cycle_mul: f64,
    /// `cycle_decay`: factor of the peak per cycle.
    pub cycle_decay: f64,
    /// `cycle_limit`: number of cycles before `lr_min` for ever.
    pub cycle_limit: i64,
}

impl TimmCycles {
    /// timm's defaults for `t_initial`: `lr_min = 0`, `cycle_mul = 1`, `cycle_decay = 1`,
    /// `cycle_limit = 1`.
    pub const fn new(t_initial: i64) -> Self {
        Self { t_initial, lr_min: 0.0, cycle_mul: 1.0, cycle_decay: 1.0, cycle_limit: 1 }
    }
}

/// What a timm scheduler does after its warmup.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
// No heap: MultiStep's milestones are stored inline, like MultiStepLr's.
#[allow(clippy::large_enum_variant)]
pub enum TimmShape {
    /// `CosineLRScheduler`: `lr_min + 0.5 * (lr_max - lr_min) * (1 + cos(pi * t_curr ** k / t_i ** k))`.
    Cosine {
        /// The cycles.
        cycles: TimmCycles,
        /// `k_decay`.
        k_decay: f64,
    },
    /// `TanhLRScheduler`: with `tr = t_curr / t_i`,
    /// `lr_min + 0.5 * (lr_max - lr_min) * (1 - tanh(lb * (1. - tr) + ub * tr))`.
    Tanh {
        /// The cycles.
        cycles: TimmCycles,
        /// `lb` (`< ub`).
        lb: f64,
        /// `ub`.
        ub: f64,
    },
    /// `PolyLRScheduler`: `lr_min + (lr_max - lr_min) * (1 - t_curr ** k / t_i ** k) ** power`.
    Poly {
        /// The cycles.
        cycles: TimmCycles,
        /// `power`.
        power: f64,
        /// `k_decay`.
        k_decay: f64,
    },
    /// `StepLRScheduler`: `v * decay_rate ** (t // decay_t)` (Python floor division, float
    /// `decay_t` allowed).
    Step {
        /// `decay_t` (`!= 0`).
        decay_t: f64,
        /// `decay_rate`.
        decay_rate: f64,
    },
    /// `MultiStepLRScheduler`: `v * decay_rate ** bisect_right(decay_t, t + 1)` (timm's
    /// milestone `m` applies from `t == m - 1`).
    MultiStep {
        /// `decay_t`, as given (timm assumes it sorted; `bisect_right` runs on it as is).
        decay_t: [i64; MAX_MILESTONES],
        /// How many of `decay_t` are used.
        len: usize,
        /// `decay_rate`.
        decay_rate: f64,
    },
}

impl TimmShape {
    /// The cycle structure of the cosine, tanh and poly shapes (`None` for the step shapes).
    pub const fn cycles(&self) -> Option<&TimmCycles> {
        match self {
            Self::Cosine { cycles, .. } | Self::Tanh { cycles, .. } | Self::Poly { cycles, .. } => {
                Some(cycles)
            }
            Self::Step { .. } | Self::MultiStep { .. } => None,
        }
    }
}

/// Arguments of [`TimmScheduler`](super::TimmScheduler): the shape and the warmup (`t_in_epochs`, noise and
/// `lr_scale` are not modelled).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimmSchedulerConfig {
    /// What follows the warmup.
    pub shape: TimmShape,
    /// `warmup_t`: warmup length (0: none).
    pub warmup_t: i64,
    /// `warmup_lr_init`: the lr at `t = 0` of the warmup.
    pub warmup_lr_init: f64,
    /// `warmup_prefix`: count the schedule's `t` from the end of the warmup. timm's
    /// default is `False` for the cycle schedulers and `True` for the step schedulers.
    pub warmup_prefix: bool,
}

impl TimmSchedulerConfig {
    /// No warmup, with timm's default `warmup_prefix` for the shape.
    pub const fn new(shape: TimmShape) -> Self {
        let warmup_prefix = matches!(shape, TimmShape::Step { .. } | TimmShape::MultiStep { .. });
        Self { shape, warmup_t: 0, warmup_lr_init: 0.0, warmup_prefix }
    }

    /// timm's class name.
    pub const fn class_name(&self) -> &'static str {
        match self.shape {
            TimmShape::Cosine { .. } => "CosineLRScheduler",
            TimmShape::Tanh { .. } => "TanhLRScheduler",
            TimmShape::Poly { .. } => "PolyLRScheduler",
            TimmShape::Step { .. } => "StepLRScheduler",
            TimmShape::MultiStep { .. } => "MultiStepLRScheduler",
        }
    }
}

/// timm's constructor `assert`s and the later Python errors, as typed errors.
pub(crate) fn validate(c: &TimmSchedulerConfig) -> Result<(), SchedError> {
    let limit = |param, v| crate::protocol::base::step_count(param, v).map(drop);
    limit("warmup_t", c.warmup_t)?;
    finite("warmup_lr_init", c.warmup_lr_init)?;
    if let Some(cy) = c.shape.cycles() {
        limit("t_initial", cy.t_initial)?;
        limit("cycle_limit", cy.cycle_limit)?;
        if cy.t_initial <= 0 {
            return Err(SchedError::OutOfRange {
                param: "t_initial",
                value: float_of(cy.t_initial),
                expected: "> 0",
            });
        }
        if finite("lr_min", cy.lr_min)? < 0.0 {
            return Err(SchedError::OutOfRange {
                param: "lr_min",
                value: cy.lr_min,
                expected: ">= 0",
            });
        }
        let mul = finite("cycle_mul", cy.cycle_mul)?;
        if mul != 1.0 && mul <= 0.0 {
            // math.log(x, cycle_mul) needs a positive base (and base 1 divides by zero,
            // which timm avoids by its `cycle_mul != 1` branch).
            return Err(SchedError::OutOfRange { param: "cycle_mul", value: mul, expected: "> 0" });
        }
        finite("cycle_decay", cy.cycle_decay)?;
    }
    match c.shape {
        TimmShape::Cosine { k_decay, .. } => finite("k_decay", k_decay).map(drop),
        TimmShape::Tanh { cycles: cy, lb, ub } => {
            if finite("lb", lb)? >= finite("ub", ub)? {
                return Err(SchedError::OutOfRange { param: "lb", value: lb, expected: "< ub" });
            }
            if cy.cycle_limit < 0 {
                return Err(SchedError::OutOfRange {
                    param: "cycle_limit",
                    value: float_of(cy.cycle_limit),
                    expected: ">= 0",
                });
            }
            if c.warmup_t < 0 {
                return Err(SchedError::OutOfRange {
                    param: "warmup_t",
                    value: float_of(c.warmup_t),
                    expected: ">= 0",
                });
            }
            if c.warmup_lr_init < 0.0 {
                return Err(SchedError::OutOfRange {
                    param: "warmup_lr_init",
                    value: c.warmup_lr_init,
                    expected: ">= 0",
                });
            }
            Ok(())
        }
        TimmShape::Poly { power, k_decay, .. } => {
            finite("power", power)?;
            finite("k_decay", k_decay).map(drop)
        }
        TimmShape::Step { decay_t, decay_rate } => {
            if finite("decay_t", decay_t)? == 0.0 {
                return Err(SchedError::ZeroPeriod { param: "decay_t" });
            }
            finite("decay_rate", decay_rate).map(drop)
        }
        TimmShape::MultiStep { len, decay_rate, .. } => {
            if len > MAX_MILESTONES {
                return Err(SchedError::TooManyItems {
                    param: "decay_t",
                    got: len,
                    max: MAX_MILESTONES,
                });
            }
            finite("decay_rate", decay_rate).map(drop)
        }
    }
}

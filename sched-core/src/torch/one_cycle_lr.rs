//! `OneCycleLR`: the 1cycle policy (warm up to `max_lr`, anneal far below the start).

use crate::math::Real;
use crate::protocol::base::{
    Base, StepMode, epoch_i64, finite, float_of, float_of_u64, round_to_f32,
};
use crate::protocol::group::{PerGroup, check_groups};
use crate::{MAX_GROUPS, ParamGroup, SchedError};

/// How OneCycleLR interpolates inside a phase (PyTorch's `anneal_strategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnnealStrategy {
    /// `'cos'`: `end + (start - end) / 2.0 * (cos(pi * pct) + 1)`.
    Cos,
    /// `'linear'`: `(end - start) * pct + start`.
    Linear,
}

/// Arguments of [`OneCycleLr`] (PyTorch `OneCycleLR(optimizer, max_lr, total_steps=None,
/// epochs=None, steps_per_epoch=None, pct_start=0.3, anneal_strategy='cos',
/// cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
/// final_div_factor=1e4, three_phase=False, last_epoch=-1)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OneCycleLrConfig {
    /// Peak learning rate, one for all groups or one per group.
    pub max_lr: PerGroup,
    /// Number of `step()` calls in the cycle (> 0). Use
    /// [`OneCycleLrConfig::with_epochs`] for PyTorch's `epochs * steps_per_epoch`.
    pub total_steps: u64,
    /// Fraction of the cycle spent rising, in `[0, 1]`.
    pub pct_start: f64,
    /// Interpolation inside a phase.
    pub anneal_strategy: AnnealStrategy,
    /// Cycle momentum inversely to the lr (needs a momentum in every group).
    pub cycle_momentum: bool,
    /// Lower momentum bound.
    pub base_momentum: PerGroup,
    /// Upper momentum bound.
    pub max_momentum: PerGroup,
    /// `initial_lr = max_lr / div_factor` (non-zero, finite).
    pub div_factor: f64,
    /// `min_lr = initial_lr / final_div_factor` (non-zero, finite).
    pub final_div_factor: f64,
    /// Use three phases (rise, fall back to `initial_lr`, anneal to `min_lr`).
    pub three_phase: bool,
    /// `-1` to start fresh; `k >= 0` to resume.
    pub last_epoch: i64,
}

impl OneCycleLrConfig {
    /// PyTorch's defaults for the given peak and length.
    pub const fn new(max_lr: f64, total_steps: u64) -> Self {
        Self {
            max_lr: PerGroup::all(max_lr),
            total_steps,
            pct_start: 0.3,
            anneal_strategy: AnnealStrategy::Cos,
            cycle_momentum: true,
            base_momentum: PerGroup::all(0.85),
            max_momentum: PerGroup::all(0.95),
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
            last_epoch: -1,
        }
    }

    /// PyTorch's `epochs` / `steps_per_epoch` form: `total_steps = epochs * steps_per_epoch`.
    pub fn with_epochs(max_lr: f64, epochs: u64, steps_per_epoch: u64) -> Result<Self, SchedError> {
        if epochs == 0 {
            return Err(SchedError::ZeroPeriod { param: "epochs" });
        }
        if steps_per_epoch == 0 {
            return Err(SchedError::ZeroPeriod { param: "steps_per_epoch" });
        }
        let total = epochs.checked_mul(steps_per_epoch).ok_or(SchedError::OutOfRange {
            param: "steps_per_epoch",
            value: float_of_u64(steps_per_epoch),
            expected: "epochs * steps_per_epoch < 2^64",
        })?;
        Ok(Self::new(max_lr, total))
    }
}

/// Which per-group value a phase starts or ends at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Initial,
    Max,
    Min,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Phase {
    end: f64,
    lr: (Level, Level),
    /// `true`: momentum goes max -> base, `false`: base -> max; `None`: stays at max.
    momentum: Option<bool>,
}

/// PyTorch `torch.optim.lr_scheduler.OneCycleLR`.
///
/// Phases (`p = pct_start`, `T = total_steps`; ends are `f64`, and each phase starts
/// at the previous end):
/// ```text
/// two-phase:   end p*T - 1      : initial -> max      end T - 1 : max -> min
/// three-phase: end p*T - 1      : initial -> max      end 2*p*T - 2 : max -> initial
///              end T - 1        : initial -> min
/// ```
/// At step `e`, the first phase with `e <= end` (or the last) gives
/// `pct = (e - start) / (end - start)` and `lr = anneal(start_lr, end_lr, pct)`.
/// Valid steps are `e = 0..=T` (`T` calls of `step()` after construction; the value at
/// `T` extrapolates the last phase), the next step is an error. Absolute: stepping is
/// the closed form, bitwise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OneCycleLr {
    pub(crate) base: Base,
    levels: [[f64; 3]; MAX_GROUPS],
    momenta: [(f64, f64); MAX_GROUPS],
    phases: [Phase; 3],
    n_phases: usize,
    total_steps: u64,
    anneal: AnnealStrategy,
    cycle_momentum: bool,
}

impl OneCycleLr {
    /// Builds the scheduler: writes `initial_lr = max_lr / div_factor` (overwriting any
    /// earlier value, as PyTorch) and the starting momentum into the groups, then
    /// performs the construction step.
    pub fn new(config: OneCycleLrConfig, groups: &mut [ParamGroup]) -> Result<Self, SchedError> {
        check_groups(groups)?;
        let n = groups.len();
        if config.total_steps == 0 {
            return Err(SchedError::ZeroPeriod { param: "total_steps" });
        }
        let t = float_of_u64(config.total_steps);
        let p = config.pct_start;
        if !p.is_finite() {
            return Err(SchedError::NonFinite { param: "pct_start", value: p });
        }
        if !(0.0..=1.0).contains(&p) {
            return Err(SchedError::OutOfRange {
                param: "pct_start",
                value: p,
                expected: "between 0 and 1",
            });
        }
        let max_lrs = config.max_lr.resolve("max_lr", n)?;
        let div = finite("div_factor", config.div_factor)?;
        let final_div = finite("final_div_factor", config.final_div_factor)?;
        if div == 0.0 {
            return Err(SchedError::OutOfRange {
                param: "div_factor",
                value: div,
                expected: "non-zero",
            });
        }
        if final_div == 0.0 {
            return Err(SchedError::OutOfRange {
                param: "final_div_factor",
                value: final_div,
                expected: "non-zero",
            });
        }
        let (ph, n_phases) = if config.three_phase {
            (
                [
                    Phase {
                        end: p * t - 1.0,
                        lr: (Level::Initial, Level::Max),
                        momentum: Some(true),
                    },
                    Phase {
                        end: 2.0 * p * t - 2.0,
                        lr: (Level::Max, Level::Initial),
                        momentum: Some(false),
                    },
                    Phase { end: t - 1.0, lr: (Level::Initial, Level::Min), momentum: None },
                ],
                3,
            )
        } else {
            let last = Phase { end: t - 1.0, lr: (Level::Max, Level::Min), momentum: Some(false) };
            (
                [
                    Phase {
                        end: p * t - 1.0,
                        lr: (Level::Initial, Level::Max),
                        momentum: Some(true),
                    },
                    last,
                    last,
                ],
                2,
            )
        };
        // A phase that can be entered with zero length divides by zero in PyTorch: the
        // first (at step 0 when p*T == 1) and the last (at step T).
        if ph[0].end == 0.0 {
            return Err(SchedError::ZeroLengthPhase { phase: 0 });
        }
        if ph[n_phases - 1].end == ph[n_phases - 2].end {
            return Err(SchedError::ZeroLengthPhase { phase: n_phases - 1 });
        }
        let mut momenta = [(0.0, 0.0); MAX_GROUPS];
        if config.cycle_momentum {
            if let Some(i) = groups.iter().position(|g| g.momentum.is_none()) {
                return Err(SchedError::MissingMomentum { group: i });
            }
            let lo = config.base_momentum.resolve("base_momentum", n)?;
            let hi = config.max_momentum.resolve("max_momentum", n)?;
            for (m, (l, h)) in momenta.iter_mut().zip(lo.into_iter().zip(hi)) {
                *m = (l, h);
            }
        }
        Base::check_new(groups, config.last_epoch)?;
        let mut levels = [[0.0; 3]; MAX_GROUPS];
        for (lv, &max) in levels.iter_mut().zip(&max_lrs).take(n) {
            let initial = max / div;
            *lv = [initial, max, initial / final_div];
        }
        if config.last_epoch == -1 {
            for (g, lv) in groups.iter_mut().zip(&levels) {
                g.initial_lr = Some(lv[0]);
            }
            if config.cycle_momentum {
                for (g, m) in groups.iter_mut().zip(&momenta) {
                    g.momentum = Some(m.1);
                }
            }
        }
        let base = Base::init(groups, config.last_epoch);
        Self {
            base,
            levels,
            momenta,
            phases: ph,
            n_phases,
            total_steps: config.total_steps,
            anneal: config.anneal_strategy,
            cycle_momentum: config.cycle_momentum,
        }
        .constructed(groups)
    }

    /// Total number of steps `T` (valid epochs are `0..=T`).
    pub fn total_steps(&self) -> u64 {
        self.total_steps
    }

    #[inline(always)]
    fn anneal<R: Real>(&self, start: R, end: R, pct: R) -> R {
        match self.anneal {
            AnnealStrategy::Cos => end + (start - end) / R::TWO * ((R::PI * pct).cos() + R::ONE),
            AnnealStrategy::Linear => (end - start) * pct + start,
        }
    }

    /// `(phase index, pct)` at step `e`, or the PyTorch error past `T`.
    #[inline(always)]
    fn locate<R: Real>(&self, e: i64) -> Result<(usize, R), SchedError> {
        if e < 0 || u64::try_from(e).is_ok_and(|e| e > self.total_steps) {
            return Err(SchedError::TotalStepsExceeded { step: e, total_steps: self.total_steps });
        }
        let step = float_of(e);
        let mut start = 0.0;
        for (i, ph) in self.phases[..self.n_phases].iter().enumerate() {
            if step <= ph.end || i == self.n_phases - 1 {
                let pct = (R::from_f64(step) - R::from_f64(start))
                    / (R::from_f64(ph.end) - R::from_f64(start));
                return Ok((i, pct));
            }
            start = ph.end;
        }
        Err(SchedError::Unsupported { what: "OneCycleLR without phases" })
    }

    #[inline(always)]
    fn level(&self, group: usize, l: Level) -> f64 {
        self.levels[group][l as usize]
    }

    #[inline(always)]
    fn lr_in<R: Real>(&self, group: usize, phase: usize, pct: R) -> R {
        let (a, b) = self.phases[phase].lr;
        self.anneal(R::from_f64(self.level(group, a)), R::from_f64(self.level(group, b)), pct)
    }

    #[inline(always)]
    fn momentum_in(&self, group: usize, phase: usize, pct: f64) -> f64 {
        let (lo, hi) = self.momenta[group];
        match self.phases[phase].momentum {
            Some(true) => self.anneal(hi, lo, pct),
            Some(false) => self.anneal(lo, hi, pct),
            None => self.anneal(hi, hi, pct),
        }
    }

    pub(crate) fn step_mode(
        &mut self,
        groups: &mut [ParamGroup],
        mode: StepMode,
    ) -> Result<(), SchedError> {
        self.base.check_count(groups)?;
        let e = self.base.next_epoch(mode)?;
        let (phase, pct) = self.locate::<f64>(e)?;
        for (i, g) in groups.iter_mut().enumerate() {
            g.lr = self.lr_in(i, phase, pct);
            if g.tensor_lr {
                g.lr = round_to_f32(g.lr); // `Tensor.fill_`
            }
            if self.cycle_momentum {
                g.momentum = Some(self.momentum_in(i, phase, pct));
            }
        }
        self.base.commit(mode, e);
        Ok(())
    }

    /// The momentum of `group` at step `epoch` (when momentum is cycled).
    pub fn momentum_at(&self, group: usize, epoch: u64) -> Result<f64, SchedError> {
        self.base.check_group(group)?;
        let (phase, pct) = self.locate::<f64>(epoch_i64(epoch))?;
        Ok(self.momentum_in(group, phase, pct))
    }

    #[inline]
    pub(crate) fn closed<R: Real>(&self, group: usize, epoch: u64) -> Result<R, SchedError> {
        self.base.check_group(group)?;
        let (phase, pct) = self.locate::<R>(epoch_i64(epoch))?;
        Ok(self.lr_in(group, phase, pct))
    }
}

crate::protocol::macros::epoch_scheduler_api!(OneCycleLr);
crate::protocol::macros::closed_form_via_inherent!(OneCycleLr);

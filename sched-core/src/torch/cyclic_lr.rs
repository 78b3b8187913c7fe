//! `CyclicLR`: triangular cycles between `base_lr` and `max_lr`.

use crate::math::Real;
use crate::protocol::base::{Base, StepMode, epoch_i64, finite, float_of, require, round_to_f32};
use crate::protocol::group::{PerGroup, check_groups};
use crate::{MAX_GROUPS, ParamGroup, SchedError};

/// The amplitude policy of [`CyclicLr`] (PyTorch's `mode` / `scale_fn` / `scale_mode`).
#[derive(Clone, Copy, Debug)]
pub enum CyclicMode {
    /// `triangular`: constant amplitude, `float_of(cycle) = 1.0`.
    Triangular,
    /// `triangular2`: amplitude halves each cycle, `float_of(cycle) = 1 / 2.0 ** (cycle - 1)`.
    Triangular2,
    /// `exp_range`: `float_of(iteration) = gamma ** iteration`.
    ExpRange {
        /// Decay per iteration.
        gamma: f64,
    },
    /// A custom `scale_fn`, evaluated per cycle or per iteration.
    Custom {
        /// PyTorch's `scale_fn`.
        scale_fn: fn(f64) -> f64,
        /// PyTorch's `scale_mode`.
        scale_mode: ScaleMode,
    },
}

/// What a custom scale function receives (PyTorch's `scale_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScaleMode {
    /// The cycle number (1-based).
    Cycle,
    /// The iteration (`last_epoch`).
    Iterations,
}

/// Arguments of [`CyclicLr`] (PyTorch `CyclicLR(optimizer, base_lr, max_lr, step_size_up=2000,
/// step_size_down=None, mode='triangular', gamma=1.0, scale_fn=None, scale_mode='cycle',
/// cycle_momentum=True, base_momentum=0.8, max_momentum=0.9, last_epoch=-1)`).
#[derive(Clone, Copy, Debug)]
pub struct CyclicLrConfig {
    /// Lower bound of the cycle, one for all groups or one per group.
    pub base_lr: PerGroup,
    /// Upper bound of the cycle.
    pub max_lr: PerGroup,
    /// Iterations in the rising half (> 0).
    pub step_size_up: f64,
    /// Iterations in the falling half (`None`: same as `step_size_up`).
    pub step_size_down: Option<f64>,
    /// Amplitude policy.
    pub mode: CyclicMode,
    /// Cycle momentum inversely to the lr (needs a momentum in every group).
    pub cycle_momentum: bool,
    /// Lower momentum bound.
    pub base_momentum: PerGroup,
    /// Upper momentum bound.
    pub max_momentum: PerGroup,
    /// `-1` to start fresh; `k >= 0` to resume.
    pub last_epoch: i64,
}

impl CyclicLrConfig {
    /// PyTorch's defaults between the given bounds.
    pub const fn new(base_lr: f64, max_lr: f64) -> Self {
        Self {
            base_lr: PerGroup::all(base_lr),
            max_lr: PerGroup::all(max_lr),
            step_size_up: 2000.0,
            step_size_down: None,
            mode: CyclicMode::Triangular,
            cycle_momentum: true,
            base_momentum: PerGroup::all(0.8),
            max_momentum: PerGroup::all(0.9),
            last_epoch: -1,
        }
    }
}

/// PyTorch `torch.optim.lr_scheduler.CyclicLR`.
///
/// With `total = up + down`, `ratio = up / total` and `e = last_epoch`:
/// ```text
/// cycle = floor(1 + e / total)
/// x     = 1.0 + e / total - cycle
/// scale = x / ratio                 if x <= ratio
///         (x - 1) / (ratio - 1)     otherwise
/// lr    = base + ((max - base) * scale) * float_of(cycle or e)
/// mom   = max_m - ((max_m - base_m) * scale) * float_of(cycle or e)
/// ```
/// Absolute (stepping is the closed form, bitwise), periodic for ever.
#[derive(Clone, Copy, Debug)]
pub struct CyclicLr {
    pub(crate) base: Base,
    max_lrs: [f64; MAX_GROUPS],
    base_momentums: [f64; MAX_GROUPS],
    max_momentums: [f64; MAX_GROUPS],
    total_size: f64,
    step_ratio: f64,
    mode: CyclicMode,
    cycle_momentum: bool,
}

impl CyclicLr {
    /// Builds the scheduler: writes `base_lr` (and `max_momentum`) into the groups when
    /// starting fresh, then performs PyTorch's construction step.
    pub fn new(config: CyclicLrConfig, groups: &mut [ParamGroup]) -> Result<Self, SchedError> {
        check_groups(groups)?;
        let n = groups.len();
        let base_lrs = config.base_lr.resolve("base_lr", n)?;
        let max_lrs = config.max_lr.resolve("max_lr", n)?;
        let up = finite("step_size_up", config.step_size_up)?;
        let down = finite("step_size_down", config.step_size_down.unwrap_or(up))?;
        require(up >= 0.0, "step_size_up", up, "> 0")?;
        require(down >= 0.0, "step_size_down", down, ">= 0")?;
        if up == 0.0 {
            // PyTorch: 0/0 (or x/0) at the construction step: ZeroDivisionError.
            return Err(SchedError::ZeroLengthPhase { phase: 0 });
        }
        if !(up + down).is_finite() || up / (up + down) == 0.0 {
            // An infinite cycle: step_ratio = 0 and `x / step_ratio` at the construction
            // step is PyTorch's ZeroDivisionError.
            return Err(SchedError::OutOfRange {
                param: "step_size_up",
                value: up,
                expected: "a finite cycle (step_size_up + step_size_down below 1.8e308)",
            });
        }
        if let CyclicMode::ExpRange { gamma } = config.mode {
            finite("gamma", gamma)?;
        }
        let (mut base_momentums, mut max_momentums) = ([0.0; MAX_GROUPS], [0.0; MAX_GROUPS]);
        if config.cycle_momentum {
            if let Some(i) = groups.iter().position(|g| g.momentum.is_none()) {
                return Err(SchedError::MissingMomentum { group: i });
            }
            base_momentums = config.base_momentum.resolve("base_momentum", n)?;
            max_momentums = config.max_momentum.resolve("max_momentum", n)?;
        }
        Base::check_new(groups, config.last_epoch)?;
        // Validation done; from here on PyTorch's construction order.
        if config.last_epoch == -1 {
            for (g, &b) in groups.iter_mut().zip(&base_lrs) {
                g.lr = b;
            }
        }
        if config.cycle_momentum && config.last_epoch == -1 {
            for (g, &m) in groups.iter_mut().zip(&max_momentums) {
                g.momentum = Some(m);
            }
        }
        let total_size = up + down;
        let base = Base::init(groups, config.last_epoch);
        let mut s = Self {
            base,
            max_lrs,
            base_momentums,
            max_momentums,
            total_size,
            step_ratio: up / total_size,
            mode: config.mode,
            cycle_momentum: config.cycle_momentum,
        }
        // The construction step runs with base_lrs = initial_lr (which an earlier
        // scheduler may have set), then PyTorch replaces base_lrs with base_lr.
        .constructed(groups)?;
        s.base.base_lrs = base_lrs;
        Ok(s)
    }

    /// `(scale, float_of(..))` at iteration `e`; an iteration count over the cycle length that
    /// overflows (`floor(inf)`) or an amplitude that does is Python's `OverflowError`.
    #[inline(always)]
    fn phase<R: Real>(&self, e: i64) -> Result<(R, R), SchedError> {
        if !(float_of(e) / self.total_size).is_finite() {
            return Err(SchedError::Overflow { param: "step_size_up", epoch: e });
        }
        let total = R::from_f64(self.total_size);
        let ratio = R::from_f64(self.step_ratio);
        let cycle = (R::ONE + R::from_i64(e) / total).floor();
        let x = R::ONE + R::from_i64(e) / total - cycle;
        let scale = if x <= ratio { x / ratio } else { (x - R::ONE) / (ratio - R::ONE) };
        let amp = match self.mode {
            CyclicMode::Triangular => R::ONE,
            // `1 / 2.0 ** (cycle - 1)`: the power of two is exact (pow returns it exactly),
            // so build it from its bits instead of calling pow.
            CyclicMode::Triangular2 => R::ONE / exp2_exact::<R>(cycle - R::ONE),
            CyclicMode::ExpRange { gamma } => R::from_f64(gamma).pow(R::from_i64(e)),
            CyclicMode::Custom { scale_fn, scale_mode } => {
                R::from_f64(scale_fn(match scale_mode {
                    ScaleMode::Cycle => cycle.to_f64(),
                    ScaleMode::Iterations => float_of(e),
                }))
            }
        };
        match self.mode {
            CyclicMode::Triangular2 | CyclicMode::ExpRange { .. } if !amp.to_f64().is_finite() => {
                let param =
                    if matches!(self.mode, CyclicMode::ExpRange { .. }) { "gamma" } else { "mode" };
                Err(SchedError::Overflow { param, epoch: e })
            }
            _ => Ok((scale, amp)),
        }
    }

    pub(crate) fn step_mode(
        &mut self,
        groups: &mut [ParamGroup],
        mode: StepMode,
    ) -> Result<(), SchedError> {
        self.base.check_count(groups)?;
        let e = self.base.next_epoch(mode)?;
        let (scale, amp) = self.phase::<f64>(e)?;
        for (i, g) in groups.iter_mut().enumerate() {
            let b = self.base.base_lrs[i];
            g.lr = b + ((self.max_lrs[i] - b) * scale) * amp;
            if g.tensor_lr {
                g.lr = round_to_f32(g.lr); // `Tensor.fill_`
            }
            if self.cycle_momentum {
                let (lo, hi) = (self.base_momentums[i], self.max_momentums[i]);
                g.momentum = Some(hi - ((hi - lo) * scale) * amp);
            }
        }
        self.base.commit(mode, e);
        Ok(())
    }

    /// The momentum of `group` at iteration `epoch` (when momentum is cycled).
    pub fn momentum_at(&self, group: usize, epoch: u64) -> Result<f64, SchedError> {
        self.base.check_group(group)?;
        let (scale, amp) = self.phase::<f64>(epoch_i64(epoch))?;
        let (lo, hi) = (self.base_momentums[group], self.max_momentums[group]);
        Ok(hi - ((hi - lo) * scale) * amp)
    }

    #[inline]
    pub(crate) fn closed<R: Real>(&self, group: usize, epoch: u64) -> Result<R, SchedError> {
        self.base.check_group(group)?;
        let (scale, amp) = self.phase::<R>(epoch_i64(epoch))?;
        let b = R::from_f64(self.base.base_lrs[group]);
        Ok(b + ((R::from_f64(self.max_lrs[group]) - b) * scale) * amp)
    }
}

/// `2 ** k` for an integral `k >= 0`, exactly as `pow(2.0, k)` returns it (`inf` past the
/// largest exponent of `R`).
#[inline(always)]
fn exp2_exact<R: Real>(k: R) -> R {
    let k64 = k.to_f64();
    if (0.0..=1023.0).contains(&k64) {
        // k64 is an integer in 0..=1023: the biased exponent field of 2^k.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let biased = (k64 as u64) + 1023;
        R::from_f64(f64::from_bits(biased << 52))
    } else {
        R::TWO.pow(k)
    }
}

crate::protocol::macros::epoch_scheduler_api!(CyclicLr);
crate::protocol::macros::closed_form_via_inherent!(CyclicLr);

//! `ReduceLROnPlateau`: cut the lr when a metric stops improving.

use crate::protocol::base::{finite, require};
use crate::protocol::group::{PerGroup, check_groups};
use crate::{MAX_GROUPS, ParamGroup, SchedError};

/// Whether the metric should go down (`'min'`) or up (`'max'`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlateauMode {
    /// Lower is better (loss).
    Min,
    /// Higher is better (accuracy).
    Max,
}

/// How `threshold` defines a significant improvement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThresholdMode {
    /// `'rel'`: better than `best * (1 -/+ threshold)`.
    Rel,
    /// `'abs'`: better than `best -/+ threshold`.
    Abs,
}

/// Arguments of [`ReduceLrOnPlateau`] (PyTorch `ReduceLROnPlateau(optimizer, mode='min',
/// factor=0.1, patience=10, threshold=1e-4, threshold_mode='rel', cooldown=0, min_lr=0,
/// eps=1e-8)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReduceLrOnPlateauConfig {
    /// Direction of improvement.
    pub mode: PlateauMode,
    /// Reduction factor, in `[0, 1)`.
    pub factor: f64,
    /// Bad epochs tolerated before a reduction.
    pub patience: u64,
    /// Size of a significant improvement (finite).
    pub threshold: f64,
    /// Relative or absolute threshold.
    pub threshold_mode: ThresholdMode,
    /// Epochs to wait after a reduction before counting bad epochs again.
    pub cooldown: u64,
    /// Lower bound for the lr, one for all groups or one per group.
    pub min_lr: PerGroup,
    /// Reductions smaller than this are skipped.
    pub eps: f64,
}

impl Default for ReduceLrOnPlateauConfig {
    fn default() -> Self {
        Self {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: PerGroup::all(0.0),
            eps: 1e-8,
        }
    }
}

/// PyTorch `torch.optim.lr_scheduler.ReduceLROnPlateau`.
///
/// ```text
/// step(metric):  if better(metric, best): best = metric; bad = 0  else: bad += 1
///                if cooldown_counter > 0: cooldown_counter -= 1; bad = 0
///                if bad > patience: for each group:
///                    new = max(lr * factor, min_lr); if lr - new > eps: lr = new
///                  cooldown_counter = cooldown; bad = 0
/// better (min, rel): a < best * (1.0 - threshold)     (min, abs): a < best - threshold
/// better (max, rel): a > best * (threshold + 1.0)     (max, abs): a > best + threshold
/// ```
/// A NaN metric is never better. No closed form: it depends on the metrics.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReduceLrOnPlateau {
    config: ReduceLrOnPlateauConfig,
    min_lrs: [f64; MAX_GROUPS],
    groups: usize,
    pub(crate) last_epoch: i64,
    pub(crate) best: f64,
    pub(crate) num_bad_epochs: u64,
    pub(crate) cooldown_counter: u64,
}

impl ReduceLrOnPlateau {
    /// `cooldown`, for checking a restored `cooldown_counter` (which never exceeds it).
    pub(crate) fn cooldown(&self) -> u64 {
        self.config.cooldown
    }

    /// Builds the scheduler. Unlike the others it does not touch the groups.
    pub fn new(config: ReduceLrOnPlateauConfig, groups: &[ParamGroup]) -> Result<Self, SchedError> {
        let factor = finite("factor", config.factor)?;
        require(factor < 1.0, "factor", factor, "< 1.0")?;
        require(factor >= 0.0, "factor", factor, ">= 0")?;
        check_groups(groups)?;
        let min_lrs = config.min_lr.resolve("min_lr", groups.len())?;
        finite("threshold", config.threshold)?;
        let eps = finite("eps", config.eps)?;
        if eps < 0.0 {
            return Err(SchedError::OutOfRange { param: "eps", value: eps, expected: ">= 0" });
        }
        let best = match config.mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        };
        Ok(Self {
            config,
            min_lrs,
            groups: groups.len(),
            last_epoch: 0,
            best,
            num_bad_epochs: 0,
            cooldown_counter: 0,
        })
    }

    fn is_better(&self, a: f64) -> bool {
        let (best, t) = (self.best, self.config.threshold);
        match (self.config.mode, self.config.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => a < best * (1.0 - t),
            (PlateauMode::Min, ThresholdMode::Abs) => a < best - t,
            (PlateauMode::Max, ThresholdMode::Rel) => a > best * (t + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => a > best + t,
        }
    }

    /// One `scheduler.step(metric)`.
    pub fn step(&mut self, metric: f64, groups: &mut [ParamGroup]) -> Result<(), SchedError> {
        if groups.len() != self.groups {
            return Err(SchedError::GroupCountChanged { expected: self.groups, got: groups.len() });
        }
        self.last_epoch = crate::protocol::base::next(self.last_epoch)?;
        if self.is_better(metric) {
            self.best = metric;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs = self.num_bad_epochs.saturating_add(1);
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        if self.num_bad_epochs > self.config.patience {
            for (g, &min_lr) in groups.iter_mut().zip(&self.min_lrs) {
                let old = g.lr;
                let scaled = old * self.config.factor;
                // Python's max(x, y) returns x unless y > x.
                let new = if min_lr > scaled { min_lr } else { scaled };
                if old - new > self.config.eps {
                    g.lr = if g.tensor_lr { crate::protocol::base::round_to_f32(new) } else { new };
                }
            }
            self.cooldown_counter = self.config.cooldown;
            self.num_bad_epochs = 0;
        }
        Ok(())
    }

    /// PyTorch's `last_epoch` (number of steps).
    pub fn last_epoch(&self) -> i64 {
        self.last_epoch
    }

    /// Number of parameter groups.
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// Best metric so far (`inf` / `-inf` before the first step).
    pub fn best(&self) -> f64 {
        self.best
    }

    /// Consecutive bad epochs so far.
    pub fn num_bad_epochs(&self) -> u64 {
        self.num_bad_epochs
    }

    /// Epochs of cooldown left.
    pub fn cooldown_counter(&self) -> u64 {
        self.cooldown_counter
    }
}

//! Early stopping: stop training when a metric stops improving.

use crate::SchedError;
use crate::torch::reduce_lr_on_plateau::PlateauMode;

/// Stops a training loop after `patience` epochs without an improvement of more than
/// `min_delta`, the rule of the classic PyTorch training-loop `EarlyStopping` helper
/// (and of Keras / Lightning):
///
/// ```text
/// improved = metric < best - min_delta      (mode Min)
///            metric > best + min_delta      (mode Max)
/// improved: best = metric, wait = 0         else: wait += 1; stop when wait >= patience
/// ```
/// A NaN metric never improves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStopping {
    mode: PlateauMode,
    patience: u64,
    min_delta: f64,
    best: f64,
    best_epoch: u64,
    wait: u64,
    epoch: u64,
}

impl EarlyStopping {
    /// Stops after `patience` epochs without improving by more than `min_delta` (>= 0).
    pub fn new(mode: PlateauMode, patience: u64, min_delta: f64) -> Result<Self, SchedError> {
        if !min_delta.is_finite() {
            return Err(SchedError::NonFinite { param: "min_delta", value: min_delta });
        }
        if min_delta < 0.0 {
            return Err(SchedError::OutOfRange {
                param: "min_delta",
                value: min_delta,
                expected: ">= 0",
            });
        }
        if patience == 0 {
            return Err(SchedError::ZeroPeriod { param: "patience" });
        }
        let best = match mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        };
        Ok(Self { mode, patience, min_delta, best, best_epoch: 0, wait: 0, epoch: 0 })
    }

    /// Records one epoch's metric; returns `true` when training should stop.
    pub fn update(&mut self, metric: f64) -> bool {
        self.epoch += 1;
        let improved = match self.mode {
            PlateauMode::Min => metric < self.best - self.min_delta,
            PlateauMode::Max => metric > self.best + self.min_delta,
        };
        if improved {
            self.best = metric;
            self.best_epoch = self.epoch;
            self.wait = 0;
        } else {
            self.wait += 1;
        }
        self.should_stop()
    }

    /// Whether `patience` epochs without improvement have passed.
    pub fn should_stop(&self) -> bool {
        self.wait >= self.patience
    }

    /// Best metric seen.
    pub fn best(&self) -> f64 {
        self.best
    }

    /// Epoch (1-based count of `update` calls) of the best metric; 0 before any.
    pub fn best_epoch(&self) -> u64 {
        self.best_epoch
    }

    /// Epochs since the last improvement.
    pub fn wait(&self) -> u64 {
        self.wait
    }
}

//! What one epoch reports, and the line the firmware prints for it.

use core::fmt;

use crate::decimal::{Fixed, Percent};

/// The numbers of one epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochReport {
    /// 1-based epoch.
    pub epoch: u32,
    /// The learning rate of the weights' group in this epoch.
    pub lr: f32,
    /// Mean training loss over the epoch's minibatches (as they were trained).
    pub train_loss: f32,
    /// Mean validation loss after the epoch.
    pub val_loss: f32,
    /// Validation samples classified correctly after the epoch.
    pub val_correct: u32,
    /// Validation samples.
    pub val_total: u32,
}

impl EpochReport {
    /// Validation accuracy.
    pub fn val_accuracy(&self) -> Percent {
        Percent { part: self.val_correct, whole: self.val_total }
    }
}

/// One line, six decimals, and the exact bits of the three floats so that two runs compare
/// bit for bit:
///
/// ```text
/// epoch 3, lr 0.070000, train loss 0.262149, val loss 0.203716, val acc 94.44% (bits 3d8f5c29 3e8638a7 3e509a7c)
/// ```
impl fmt::Display for EpochReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "epoch {}, lr {}, train loss {}, val loss {}, val acc {}% (bits {:08x} {:08x} {:08x})",
            self.epoch,
            Fixed { value: self.lr, places: 6 },
            Fixed { value: self.train_loss, places: 6 },
            Fixed { value: self.val_loss, places: 6 },
            self.val_accuracy(),
            self.lr.to_bits(),
            self.train_loss.to_bits(),
            self.val_loss.to_bits(),
        )
    }
}

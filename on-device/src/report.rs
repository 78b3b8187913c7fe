//! What one epoch reports, and the line the firmware prints for it.

use core::fmt::{self, Write};

use crate::decimal::{Fixed, Percent};
use crate::text::{write_hex8, write_u32};

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
        self.write_to(f)
    }
}

impl EpochReport {
    /// Writes the line of [`Display`](fmt::Display) (without a newline) to any writer, piece by
    /// piece: the firmware links no `core::fmt::write`.
    pub fn write_to(&self, f: &mut (impl Write + ?Sized)) -> fmt::Result {
        f.write_str("epoch ")?;
        write_u32(f, self.epoch, 1)?;
        for (label, value) in
            [(", lr ", self.lr), (", train loss ", self.train_loss), (", val loss ", self.val_loss)]
        {
            f.write_str(label)?;
            Fixed { value, places: 6 }.write_to(f)?;
        }
        f.write_str(", val acc ")?;
        self.val_accuracy().write_to(f)?;
        f.write_str("% (bits")?;
        for value in [self.lr, self.train_loss, self.val_loss] {
            f.write_char(' ')?;
            write_hex8(f, value.to_bits())?;
        }
        f.write_char(')')
    }
}

//! The program both builds run: train with the default configuration, print every epoch and a
//! result line.

use core::fmt::{self, Write};

use crate::text::write_u32;

/// Trains with [`TrainConfig::default`](crate::TrainConfig), writing one line per epoch
/// ([`EpochReport`](crate::EpochReport)'s format) and then
/// `result: validation accuracy <A>% after <E> epochs (best epoch <B>, stopped early: <yes|no>)`
/// to `out`. The firmware and the host program both call this, so their output compares line
/// for line.
///
/// # Errors
/// The training's error, or [`RunError::Output`] when `out` fails (training continues to the
/// end; the first write error is reported).
pub fn run(out: &mut impl Write) -> Result<crate::Summary, RunError> {
    let mut write_error = Ok(());
    let summary = crate::train(&crate::TrainConfig::default(), |report| {
        if write_error.is_ok() {
            write_error = report.write_to(out).and_then(|()| out.write_char('\n'));
        }
    })?;
    write_error?;
    // Piece by piece, like the epoch lines: no `core::fmt::write` on the firmware.
    out.write_str("result: validation accuracy ")?;
    summary.last.val_accuracy().write_to(out)?;
    out.write_str("% after ")?;
    write_u32(out, summary.epochs, 1)?;
    out.write_str(" epochs (best epoch ")?;
    write_u32(out, summary.best_epoch, 1)?;
    out.write_str(", stopped early: ")?;
    out.write_str(if summary.stopped_early { "yes)\n" } else { "no)\n" })?;
    Ok(summary)
}

/// Why [`run`] failed.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum RunError {
    /// The training was refused or stopped.
    Train(crate::TrainError),
    /// Writing to the output failed.
    Output,
}

impl From<crate::TrainError> for RunError {
    fn from(e: crate::TrainError) -> Self {
        Self::Train(e)
    }
}

impl From<fmt::Error> for RunError {
    fn from(_: fmt::Error) -> Self {
        Self::Output
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Train(e) => write!(f, "training failed: {e}"),
            Self::Output => f.write_str("could not write the output"),
        }
    }
}

impl core::error::Error for RunError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Train(e) => Some(e),
            Self::Output => None,
        }
    }
}

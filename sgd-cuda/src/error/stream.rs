//! [`StreamError`]: a stream that cannot take the work asked of it.

use core::fmt;

/// The stream belongs elsewhere, or is being captured into a graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamError {
    /// A stream handed over by its owner ([`crate::borrow_stream`]) belongs to another CUDA
    /// context than the primary context of the device it was given for.
    OfAnotherContext {
        /// The device ordinal given with the stream.
        ordinal: usize,
    },
    /// An operation that would enqueue work on the stream while the caller is capturing it
    /// into a graph (the work would become part of the caller's graph).
    Capturing {
        /// The operation refused (e.g. `"new learning rates"`).
        what: &'static str,
    },
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OfAnotherContext { ordinal } => write!(
                f,
                "the stream does not belong to the primary context of CUDA device {ordinal}"
            ),
            Self::Capturing { what } => write!(
                f,
                "{what} while the stream is being captured into a graph: do it before or after the capture"
            ),
        }
    }
}

impl core::error::Error for StreamError {}

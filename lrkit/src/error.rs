//! Errors of a command and their exit codes.

use core::fmt;

/// Why a command failed.
#[derive(Debug)]
#[non_exhaustive]
pub(crate) enum CliError {
    /// Bad command line (unknown option, malformed value): exit code 2.
    Usage(String),
    /// A malformed or invalid schedule spec (the message points at it): exit code 2.
    Spec(String),
    /// Anything that failed while running (I/O, device, optimizer): exit code 1.
    Runtime(String),
    /// The reader of stdout went away (`lrkit ... | head`): exit code 0, no message, as the
    /// reader asked for no more.
    BrokenPipe,
}

impl CliError {
    /// The process exit code: 2 for bad input, 1 for failures while running, 0 for a closed
    /// pipe.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) | Self::Spec(_) => 2,
            Self::Runtime(_) => 1,
            Self::BrokenPipe => 0,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(m) => write!(f, "{m}\n(run `lrkit --help` for usage)"),
            Self::Spec(m) | Self::Runtime(m) => f.write_str(m),
            Self::BrokenPipe => f.write_str("the reader of stdout closed the pipe"),
        }
    }
}

impl core::error::Error for CliError {}

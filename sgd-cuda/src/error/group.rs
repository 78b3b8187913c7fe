//! [`GroupError`]: a parameter group index or a per-group count that does not match the
//! optimizer's groups.

use core::fmt;

/// A group that does not exist, or not one value per group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GroupError {
    /// A group index that does not exist: a tensor's group, or the group of a per-group call
    /// (`CudaSgd::set_group_config`, `BorrowedSgd::set_lr`).
    Unknown {
        /// The tensor naming the group, when a tensor does.
        tensor: Option<usize>,
        /// The bad group index.
        group: usize,
        /// Number of groups.
        groups: usize,
    },
    /// A call got a different number of learning rates (or of groups, or of table columns)
    /// than the optimizer has groups.
    LrCount {
        /// Number of groups.
        expected: usize,
        /// Number given.
        got: usize,
    },
}

impl fmt::Display for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown { tensor: Some(tensor), group, groups } => {
                write!(f, "tensor {tensor}: group {group} does not exist ({groups} groups)")
            }
            Self::Unknown { tensor: None, group, groups } => {
                write!(f, "group {group} does not exist ({groups} groups)")
            }
            Self::LrCount { expected, got } => {
                write!(f, "expected {expected} learning rates (one per group), got {got}")
            }
        }
    }
}

impl core::error::Error for GroupError {}

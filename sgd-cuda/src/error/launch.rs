//! [`LaunchError`]: a launch shape the kernel cannot run with.

use core::fmt;

/// The chunk size, the block size or the number of chunks is out of range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LaunchError {
    /// Chunk size or block size out of range.
    Shape {
        /// Requested elements per chunk.
        chunk_elems: usize,
        /// Requested threads per block.
        block_threads: u32,
    },
    /// More threads per block than the compiled kernel can launch with on this device (its
    /// registers per thread limit the block: `cuFuncGetAttribute(MAX_THREADS_PER_BLOCK)`).
    BlockTooLarge {
        /// Requested threads per block.
        block_threads: u32,
        /// The most the kernel launches with on this device.
        max: u32,
    },
    /// More chunks (or chunks of one tensor) than a `u32` can index.
    TooManyChunks {
        /// Number of chunks that would be needed.
        chunks: u64,
    },
}

impl fmt::Display for LaunchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Shape { chunk_elems, block_threads } => write!(
                f,
                "bad launch shape: {chunk_elems} elements per chunk (must be > 0), {block_threads} threads per block (must be a multiple of 32 in 32..=1024)"
            ),
            Self::BlockTooLarge { block_threads, max } => write!(
                f,
                "{block_threads} threads per block: the kernel launches with at most {max} on this device (registers per thread)"
            ),
            Self::TooManyChunks { chunks } => {
                write!(f, "{chunks} chunks do not fit in a u32 index; use a larger chunk size")
            }
        }
    }
}

impl core::error::Error for LaunchError {}

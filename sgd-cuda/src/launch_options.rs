//! [`CudaSgdOptions`]: the launch shape every optimizer of the crate takes.

use crate::kernel_tables::DEFAULT_CHUNK_ELEMS;

/// Launch shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CudaSgdOptions {
    /// Elements per chunk; one block handles one chunk. `None` (the default): 4096, the
    /// fastest chunk size measured (`benches/README.md`).
    pub chunk_elems: Option<usize>,
    /// Threads per block, a multiple of 32 in `32..=1024` (default 256). The compiled kernel's
    /// registers per thread may cap a device below 1024: more than it launches with is
    /// [`crate::LaunchError::BlockTooLarge`].
    pub block_threads: u32,
}

impl CudaSgdOptions {
    /// The chunk size a step uses: `chunk_elems`, or the default of 4096.
    pub fn chunk(&self) -> usize {
        self.chunk_elems.unwrap_or(DEFAULT_CHUNK_ELEMS)
    }
}

impl Default for CudaSgdOptions {
    fn default() -> Self {
        Self { chunk_elems: None, block_threads: 256 }
    }
}

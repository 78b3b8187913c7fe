//! [`SrKey`]: the key of stochastic rounding as the kernel reads it.

use bytemuck::{Pod, Zeroable};

/// The Philox key and step of stochastic rounding (`struct SrKey` of the `.cu`, 16 bytes): the
/// words of element `i` of tensor `t` are `philox4x32_10([i, i >> 32, t, step], [seed_lo,
/// seed_hi])`, as `sgd_core::philox::SrStream` computes them.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct SrKey {
    /// Low half of the seed.
    pub seed_lo: u32,
    /// High half of the seed.
    pub seed_hi: u32,
    /// The step number (counter word 3).
    pub step: u32,
    /// Zero.
    pub reserved: u32,
}

impl SrKey {
    /// The key of `seed` at `step`.
    #[allow(clippy::cast_possible_truncation)] // the two halves of the seed
    pub fn new(seed: u64, step: u32) -> Self {
        Self { seed_lo: seed as u32, seed_hi: (seed >> 32) as u32, step, reserved: 0 }
    }
}

const _: () = {
    assert!(size_of::<SrKey>() == 16 && align_of::<SrKey>() == 4);
    assert!(core::mem::offset_of!(SrKey, seed_hi) == 4);
    assert!(core::mem::offset_of!(SrKey, step) == 8);
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_of_the_seed() {
        let k = SrKey::new(0x1234_5678_9abc_def0, 7);
        assert_eq!(bytemuck::cast::<SrKey, [u32; 4]>(k), [0x9abc_def0, 0x1234_5678, 7, 0]);
        let stream =
            sgd_core::SrStream { seed: 0x1234_5678_9abc_def0, step: 7, tensor: 0, offset: 0 };
        assert_eq!(stream.key(), [k.seed_lo, k.seed_hi]);
    }
}

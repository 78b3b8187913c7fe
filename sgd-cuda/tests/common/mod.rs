//! Shared by the integration tests: deterministic test data without dependencies, and the GPU
//! tests' device ([`gpu`]).

// Not every test binary that includes this module opens a device.
#[allow(dead_code)]
pub(crate) mod gpu;

/// splitmix64.
pub(crate) struct Rng(pub u64);

impl Rng {
    /// Next 64 random bits.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Mostly ordinary values in [-2, 2), some ±0, subnormals and huge values (~1e38).
    // Bits of a random u64 as u32 (truncation intended); a 24-bit integer and 2^24 as f32 (exact).
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    pub(crate) fn value(&mut self) -> f32 {
        let r = self.next();
        match r % 64 {
            0 => 0.0,
            1 => -0.0,
            2 => f32::from_bits((r >> 8) as u32 & 0x007f_ffff), // subnormal
            3 => f32::from_bits(0x7e80_0000 | ((r >> 8) as u32 & 0x007f_ffff)), // ~1e38
            _ => ((r >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0,
        }
    }

    /// `n` values.
    #[allow(dead_code)] // not every test binary that includes this module uses it.
    pub(crate) fn vec(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.value()).collect()
    }
}

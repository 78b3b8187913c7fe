//! The counter-based generator behind stochastic rounding: Philox4x32-10 (Salmon, Moraes,
//! Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC'11; the generator of cuRAND's
//! `curand_Philox4x32_10` and of JAX/TensorFlow's `philox`), checked against Random123's
//! known-answer vectors.
//!
//! The random words of element `i` of a tensor (counted from the tensor's first element, in
//! row-major order) in one step:
//!
//! ```text
//! counter = [i as u32, (i >> 32) as u32, tensor, step]     (tensor: flat index in the step)
//! key     = [seed as u32, (seed >> 32) as u32]
//! [w0, w1, w2, w3] = philox4x32_10(counter, key)
//! w0 rounds the parameter (or the master-to-model copy), w1 the momentum buffer
//! ```
//!
//! The words depend on nothing else, so every backend, thread count, split of the tensor and
//! launch shape gets the same bits for the same `(seed, step, tensor, i)`.

/// Philox's first multiplier (`PHILOX_M4x32_0`).
pub const M0: u32 = 0xD251_1F53;
/// Philox's second multiplier (`PHILOX_M4x32_1`).
pub const M1: u32 = 0xCD9E_8D57;
/// Key increment of the first key word (`PHILOX_W32_0`, the golden ratio).
pub const W0: u32 = 0x9E37_79B9;
/// Key increment of the second key word (`PHILOX_W32_1`, sqrt(3) - 1).
pub const W1: u32 = 0xBB67_AE85;

/// `(hi, lo)` of the 64-bit product `a * b`.
#[inline(always)]
#[allow(clippy::cast_possible_truncation)] // the two halves of the product
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = u64::from(a) * u64::from(b);
    ((p >> 32) as u32, p as u32)
}

/// Philox4x32 with 10 rounds: `counter` under `key` (Random123's `philox4x32_R(10, ...)`).
#[inline(always)]
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (mut c, mut k) = (counter, key);
    for round in 0..10 {
        if round > 0 {
            k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
        }
        let (hi0, lo0) = mulhilo(M0, c[0]);
        let (hi1, lo1) = mulhilo(M1, c[2]);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
    }
    c
}

/// The random stream of one tensor in one step, positioned at a slice of it: element `j` of
/// the slice is element `offset + j` of the tensor (see the module docs for the recipe).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SrStream {
    /// The run's seed (Philox key).
    pub seed: u64,
    /// The step number (counter word 3).
    pub step: u32,
    /// The tensor's flat index in the step (counter word 2).
    pub tensor: u32,
    /// Index in the tensor of the slice's first element.
    pub offset: u64,
}

impl SrStream {
    /// The Philox key: the seed's two halves.
    #[inline(always)]
    #[allow(clippy::cast_possible_truncation)] // the two halves of the seed
    pub fn key(&self) -> [u32; 2] {
        [self.seed as u32, (self.seed >> 32) as u32]
    }

    /// The four random words of element `j` of the slice.
    #[inline(always)]
    #[allow(clippy::cast_possible_truncation)] // the two halves of the index
    pub fn words(&self, j: usize) -> [u32; 4] {
        let i = self.offset.wrapping_add(j as u64);
        philox4x32_10([i as u32, (i >> 32) as u32, self.tensor, self.step], self.key())
    }

    /// The stream from element `mid` of this slice on (for splitting a slice).
    pub fn advanced(self, mid: usize) -> Self {
        Self { offset: self.offset.wrapping_add(mid as u64), ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random123_known_answers() {
        assert_eq!(philox4x32_10([0; 4], [0; 2]), [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
        assert_eq!(
            philox4x32_10([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]
        );
        assert_eq!(
            philox4x32_10(
                [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
                [0xa4093822, 0x299f31d0]
            ),
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
        );
    }

    #[test]
    fn a_stream_is_positioned_by_its_offset() {
        let s = SrStream { seed: 0x1234_5678_9abc_def0, step: 7, tensor: 3, offset: 0 };
        let far = s.advanced(5);
        assert_eq!(far.words(2), s.words(7));
        let wrap = SrStream { offset: u64::from(u32::MAX), ..s };
        let w = wrap.words(1);
        assert_eq!(w, philox4x32_10([0, 1, 3, 7], s.key()));
    }
}

//! PCG32 (O'Neill 2014, `pcg32` XSH-RR 64/32): the weight initialisation and the epoch
//! shuffles. 32-bit outputs suit a 32-bit core; the state update is one 64-bit multiply-add.

/// PCG32's multiplier.
const MULTIPLIER: u64 = 6_364_136_223_846_793_005;

/// A PCG32 generator (`pcg32_random_r` of the reference C implementation).
#[derive(Clone, Debug)]
pub struct Pcg32 {
    state: u64,
    increment: u64,
}

impl Pcg32 {
    /// `pcg32_srandom_r(seed, stream)`.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut rng = Self { state: 0, increment: (stream << 1) | 1 };
        rng.next_u32();
        rng.state = rng.state.wrapping_add(seed);
        rng.next_u32();
        rng
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        let old = self.state;
        self.state = old.wrapping_mul(MULTIPLIER).wrapping_add(self.increment);
        // The truncations are the algorithm: 32 bits of the xorshifted state, rotated by the
        // top 5 bits of the old state.
        #[allow(clippy::cast_possible_truncation)] // PCG's XSH-RR output: truncation intended
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        let rot = (old >> 59) as u32;
        xorshifted.rotate_right(rot)
    }

    /// Uniform in `[-bound, bound)`: 24 random bits, every value exact in f32 before scaling.
    pub fn uniform(&mut self, bound: f32) -> f32 {
        #[allow(clippy::cast_precision_loss)] // a 24-bit integer: exact in f32
        let unit = (self.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0);
        (unit * 2.0 - 1.0) * bound
    }

    /// Uniform integer in `0..n` by Lemire's multiply-shift (`n > 0`; bias below `n / 2^32`).
    pub fn below(&mut self, n: u32) -> u32 {
        // The product's top half is below n.
        ((u64::from(self.next_u32()) * u64::from(n)) >> 32) as u32
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = u32::try_from(i + 1).map_or(i, |n| self.below(n) as usize);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_implementation() {
        // pcg32-demo.c (pcg-c-basic): pcg32_srandom_r(&rng, 42u, 54u), first six outputs.
        let mut rng = Pcg32::new(42, 54);
        let got: [u32; 6] = core::array::from_fn(|_| rng.next_u32());
        assert_eq!(got, [0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e]);
    }

    #[test]
    fn ranges_and_permutations() {
        let mut rng = Pcg32::new(7, 1);
        for _ in 0..1000 {
            let u = rng.uniform(0.25);
            assert!((-0.25..0.25).contains(&u));
            assert!(rng.below(3) < 3);
        }
        let mut items: [u16; 50] = core::array::from_fn(|i| u16::try_from(i).unwrap());
        rng.shuffle(&mut items);
        let mut sorted = items;
        sorted.sort_unstable();
        assert!(sorted.iter().enumerate().all(|(i, &v)| usize::from(v) == i));
        assert_ne!(items, sorted);
    }
}

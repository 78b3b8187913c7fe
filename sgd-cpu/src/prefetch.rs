//! When the SIMD kernels prefetch: steps whose working set streams from memory.

/// Whether the SIMD main loop issues software prefetches: with AVX-512, `prefetcht1` of every
/// cache line of the parameters, gradients and (with momentum) buffers, 1 KiB ahead of the
/// loads. A prefetch is only a hint, so results are the same bits either way. It pays when a
/// step streams from memory and costs load slots when the data is already in cache, hence the
/// working-set threshold of [`Prefetch::Auto`]. The other backends ignore it: AVX2 gained
/// nothing from it, the scalar reference stays plain, and NEON has not been measured on ARM
/// hardware. The measurements behind these choices are in `benches/README.md`
/// ("Prefetching").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Prefetch {
    /// Prefetch when the step's working set (bytes of parameters, gradients and momentum
    /// buffers it touches) is at least 24 MiB, three quarters of the 32 MiB last-level cache
    /// of the machine it was tuned on.
    #[default]
    Auto,
    /// Always prefetch (e.g. a last-level cache smaller than the threshold assumes).
    Always,
    /// Never prefetch (e.g. a last-level cache larger than the threshold assumes).
    Never,
}

/// Working set from which [`Prefetch::Auto`] prefetches, in bytes: 24 MiB, i.e. 2 Mi elements
/// with momentum (12 bytes each) or 3 Mi without (8 bytes each), where the measured crossover
/// lies.
const PREFETCH_THRESHOLD: usize = 24 << 20;

impl Prefetch {
    /// Whether a step whose working set is `bytes` bytes prefetches.
    pub fn applies(self, bytes: usize) -> bool {
        match self {
            Prefetch::Auto => bytes >= PREFETCH_THRESHOLD,
            Prefetch::Always => true,
            Prefetch::Never => false,
        }
    }

    /// Working set of one tensor of `elements` elements: parameters and gradients, plus the
    /// momentum buffer when `momentum` (4 bytes each; saturating).
    pub(crate) fn working_set(elements: usize, momentum: bool) -> usize {
        elements.saturating_mul(if momentum { 12 } else { 8 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_prefetches_from_the_threshold_and_overrides_do_not_look() {
        let at = PREFETCH_THRESHOLD;
        assert!(!Prefetch::Auto.applies(at - 1));
        assert!(Prefetch::Auto.applies(at));
        assert!(Prefetch::Always.applies(0));
        assert!(!Prefetch::Never.applies(usize::MAX));
        assert_eq!(Prefetch::default(), Prefetch::Auto);
    }

    #[test]
    fn working_set_counts_four_bytes_per_stream() {
        assert_eq!(Prefetch::working_set(2 << 20, true), PREFETCH_THRESHOLD);
        assert_eq!(Prefetch::working_set(3 << 20, false), PREFETCH_THRESHOLD);
        assert_eq!(Prefetch::working_set(usize::MAX, true), usize::MAX);
    }
}

//! `PlacedBuffer`: a momentum buffer whose in-page offset is chosen away from its parameter's.
use alloc::vec::Vec;

/// Tensors with at least this many elements get a placed buffer (4 KiB of padding is then
/// under 1.6% of the buffer); smaller ones are plain allocations.
pub(crate) const PLACE_MIN: usize = 64 * 1024;

/// Bytes in a page; placement works on addresses modulo this.
const PAGE: usize = 4096;

/// A momentum buffer of `len` elements inside a slightly larger allocation, starting at an
/// address chosen modulo 4096 (see [`PlacedBuffer::allocate`]).
#[derive(Default)]
pub(crate) struct PlacedBuffer {
    storage: Vec<f32>,
    start: usize,
    len: usize,
}

impl PlacedBuffer {
    /// Elements of the buffer (0 before allocation).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The buffer.
    pub(crate) fn as_slice(&self) -> &[f32] {
        &self.storage[self.start..self.start + self.len]
    }

    /// The buffer, writable.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [f32] {
        &mut self.storage[self.start..self.start + self.len]
    }

    /// Allocates `len` zeros. For large tensors ([`PLACE_MIN`]) the buffer starts 1, 2 or 3
    /// KiB (modulo 4096) after the parameter, whichever is farthest from the gradient: streams
    /// that start at the same offset in their pages slow the fused pass down once the data
    /// leaves L2, and the parameter, gradient and buffer of a large tensor are usually separate
    /// page-aligned allocations with identical offsets (measurements: `benches/README.md`,
    /// "Buffer placement"). The buffer keeps the parameter's offset modulo 64, so the SIMD loop
    /// sees the same cache-line alignment.
    ///
    /// # Errors
    /// The allocation failed.
    pub(crate) fn allocate(
        &mut self,
        len: usize,
        param: *const f32,
        grad: *const f32,
    ) -> Result<(), alloc::collections::TryReserveError> {
        let floats_per_page = PAGE / size_of::<f32>();
        let pad = if len >= PLACE_MIN { floats_per_page } else { 0 };
        let mut storage = Vec::new();
        storage.try_reserve_exact(len + pad)?;
        storage.resize(len + pad, 0.0);
        let start = if pad == 0 {
            0
        } else {
            let offset = |ptr: *const f32| ptr as usize % PAGE;
            let (p, g, base) = (offset(param), offset(grad), offset(storage.as_ptr()));
            // Circular distance between two offsets in a page.
            let distance = |a: usize, b: usize| {
                let d = (a + PAGE - b) % PAGE;
                d.min(PAGE - d)
            };
            let target = [1024, 2048, 3072]
                .map(|k| (p + k) % PAGE)
                .into_iter()
                .max_by_key(|&t| distance(t, g))
                .unwrap_or(p);
            // Offsets are multiples of 4 (f32 alignment), so this is an element count.
            ((target + PAGE - base) % PAGE) / size_of::<f32>()
        };
        *self = PlacedBuffer { storage, start, len };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_offset(p: *const f32) -> usize {
        p as usize % PAGE
    }

    #[test]
    fn large_buffers_start_away_from_parameter_and_gradient() {
        let n = PLACE_MIN + 37;
        let param = alloc::vec![1.0f32; n + 2048];
        let grad = alloc::vec![2.0f32; n + 2048];
        for (dp, dg) in [(0usize, 0usize), (0, 256), (16, 512), (100, 700), (1000, 3)] {
            let (p, g) = (param[dp..].as_ptr(), grad[dg..].as_ptr());
            let mut buf = PlacedBuffer::default();
            buf.allocate(n, p, g).unwrap();
            assert_eq!(buf.len(), n);
            assert!(buf.as_slice().iter().all(|&x| x == 0.0));
            let b = buf.as_slice().as_ptr();
            let from_p = (page_offset(b) + PAGE - page_offset(p)) % PAGE;
            assert!([1024, 2048, 3072].contains(&from_p), "{dp} {dg}: {from_p}");
            // The chosen candidate is the farthest from the gradient's offset.
            let dist = |a: usize, c: usize| {
                let d = (a + PAGE - c) % PAGE;
                d.min(PAGE - d)
            };
            let best = [1024, 2048, 3072]
                .map(|k| dist((page_offset(p) + k) % PAGE, page_offset(g)))
                .into_iter()
                .max()
                .unwrap();
            assert_eq!(dist(page_offset(b), page_offset(g)), best, "{dp} {dg}");
            assert_eq!(buf.as_mut_slice().len(), n);
        }
    }

    #[test]
    fn small_buffers_are_plain_allocations() {
        let param = [0.0f32; 100];
        let mut buf = PlacedBuffer::default();
        buf.allocate(100, param.as_ptr(), param.as_ptr()).unwrap();
        assert_eq!((buf.start, buf.storage.len(), buf.len()), (0, 100, 100));
    }
}

//! The bundled handwritten digits (UCI "Optical Recognition of Handwritten Digits", Alpaydin &
//! Kaynak 1998, CC BY 4.0; see `lrkit/data/README.md`) as flash-resident bytes, and the
//! deterministic train/validation split.
//!
//! 1797 records of 65 bytes: 64 pixel counts `0..=16` (8x8, row-major), then the label `0..=9`.
//! The build script writes them from lrkit's gzip CSV, checking every value, so the ranges above
//! hold for every record (the model still never indexes with a pixel, and clamps labels).

/// Pixels per image.
pub const FEATURES: usize = 64;
/// Number of classes.
pub const CLASSES: usize = 10;
/// Bytes per record: the pixels, then the label.
pub const RECORD: usize = FEATURES + 1;
/// Number of records.
pub const SAMPLES: usize = 1797;

/// Every `VALIDATION_STRIDE`-th record (0, 5, 10, ...) is held out for validation.
pub const VALIDATION_STRIDE: usize = 5;
/// Records held out: `ceil(SAMPLES / VALIDATION_STRIDE)`.
pub const VALIDATION_SAMPLES: usize = SAMPLES.div_ceil(VALIDATION_STRIDE);
/// Records trained on.
pub const TRAIN_SAMPLES: usize = SAMPLES - VALIDATION_SAMPLES;

/// All records, in the order of the CSV: 116,805 bytes of flash, under this symbol's name (the
/// footprint script reports the data set's share by it).
pub static RECORDS: [u8; SAMPLES * RECORD] =
    *include_bytes!(concat!(env!("OUT_DIR"), "/digits.bin"));

/// One image and its label, borrowed from flash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample<'a> {
    /// Pixel counts `0..=16`.
    pub pixels: &'a [u8; FEATURES],
    /// Class `0..=9`.
    pub label: u8,
}

/// Record `i` (`i < SAMPLES`; later indices wrap around, so no index can panic).
pub fn sample(i: usize) -> Sample<'static> {
    let at = (i % SAMPLES) * RECORD;
    let (pixels, rest) =
        RECORDS[at..].split_first_chunk::<FEATURES>().unwrap_or((&[0; FEATURES], &[]));
    Sample { pixels, label: rest.first().copied().unwrap_or(0) }
}

/// Training record `k` (`k < TRAIN_SAMPLES`): the `k`-th record not held out.
pub fn train_sample(k: usize) -> Sample<'static> {
    // Of every VALIDATION_STRIDE records the first validates, the next STRIDE - 1 train.
    let per = VALIDATION_STRIDE - 1;
    sample(k / per * VALIDATION_STRIDE + 1 + k % per)
}

/// Validation record `k` (`k < VALIDATION_SAMPLES`).
pub fn validation_sample(k: usize) -> Sample<'static> {
    sample(k * VALIDATION_STRIDE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_in_range_and_classes_balanced() {
        let mut counts = [0usize; CLASSES];
        for i in 0..SAMPLES {
            let s = sample(i);
            assert!(s.pixels.iter().all(|&p| p <= 16), "record {i}");
            counts[usize::from(s.label)] += 1;
        }
        assert!(counts.iter().all(|&c| (170..=190).contains(&c)), "{counts:?}");
        // The first record of the CSV is a zero (sklearn's digits.images[0]).
        assert_eq!(sample(0).label, 0);
        assert_eq!(&sample(0).pixels[..8], &[0, 0, 5, 13, 9, 1, 0, 0]);
    }

    #[test]
    fn split_covers_every_record_once() {
        assert_eq!((TRAIN_SAMPLES, VALIDATION_SAMPLES), (1437, 360));
        let mut seen = [0u8; SAMPLES];
        let index =
            |s: Sample<'static>| (s.pixels.as_ptr() as usize - RECORDS.as_ptr() as usize) / RECORD;
        (0..TRAIN_SAMPLES).for_each(|k| seen[index(train_sample(k))] += 1);
        (0..VALIDATION_SAMPLES).for_each(|k| seen[index(validation_sample(k))] += 1);
        assert!(seen.iter().all(|&n| n == 1));
        assert_eq!(index(validation_sample(3)), 15);
        assert_eq!(index(train_sample(4)), 6);
    }
}

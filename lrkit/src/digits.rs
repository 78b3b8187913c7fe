//! The bundled handwritten-digits data set (UCI "Optical Recognition of Handwritten Digits",
//! Alpaydin & Kaynak 1998, CC BY 4.0; see `data/README.md`): 1797 8x8 images, 10 classes.

use std::io::Read;

use crate::error::CliError;
use crate::num::usize_f64;
use crate::rng::SplitMix64;

/// The gzip-compressed CSV: 64 pixel counts 0..16, then the label 0..9, per row.
const GZ: &[u8] = include_bytes!("../data/digits.csv.gz");

/// Pixels per image.
pub(crate) const FEATURES: usize = 64;
/// Number of classes.
pub(crate) const CLASSES: usize = 10;
/// Samples in the bundled data set.
pub(crate) const SAMPLES: usize = 1797;

/// The credit of the data set, shown by `lrkit --help` and `lrkit train --help`.
pub(crate) const DATA_CREDIT: &str =
    "Bundled data (lrkit train): Alpaydin, E. & Kaynak, C. (1998). Optical Recognition of
Handwritten Digits. UCI Machine Learning Repository. https://doi.org/10.24432/C50P49 (CC BY 4.0)";

/// Images (pixels scaled to `[0, 1]`, row-major, `FEATURES` per sample) and labels.
#[derive(Clone, Debug, Default)]
pub(crate) struct Dataset {
    /// `x[i * FEATURES..(i + 1) * FEATURES]` is sample `i`.
    pub x: Vec<f32>,
    /// Class of each sample.
    pub y: Vec<u8>,
}

impl Dataset {
    /// Number of samples.
    pub(crate) fn len(&self) -> usize {
        self.y.len()
    }

    /// The samples at `idx`, in that order.
    pub(crate) fn subset(&self, idx: &[usize]) -> Dataset {
        let mut out = Dataset::default();
        self.gather(idx, &mut out.x, &mut out.y);
        out
    }

    /// Replaces `x` and `y` with the samples at `idx` (a minibatch).
    pub(crate) fn gather(&self, idx: &[usize], x: &mut Vec<f32>, y: &mut Vec<u8>) {
        x.clear();
        y.clear();
        for &i in idx {
            x.extend_from_slice(&self.x[i * FEATURES..(i + 1) * FEATURES]);
            y.push(self.y[i]);
        }
    }
}

/// Decodes the bundled file.
pub(crate) fn load() -> Result<Dataset, CliError> {
    let bad = |m: String| CliError::Runtime(format!("bundled digits data: {m}"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(GZ).read_to_string(&mut text).map_err(|e| bad(e.to_string()))?;
    let mut data = Dataset::default();
    for (row, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.trim().split(',').collect();
        if fields.len() != FEATURES + 1 {
            return Err(bad(format!(
                "row {row} has {} fields, expected {}",
                fields.len(),
                FEATURES + 1
            )));
        }
        for f in &fields[..FEATURES] {
            let v: f32 =
                f.trim().parse().map_err(|_| bad(format!("row {row}: bad pixel {f:?}")))?;
            data.x.push(v / 16.0);
        }
        let label: u8 =
            fields[FEATURES].trim().parse().map_err(|_| bad(format!("row {row}: bad label")))?;
        if usize::from(label) >= CLASSES {
            return Err(bad(format!("row {row}: label {label} out of range")));
        }
        data.y.push(label);
    }
    Ok(data)
}

/// Samples of `len` that `val_fraction` holds out for validation: `round(len * fraction)`,
/// clamped to `0..=len` (a NaN fraction holds out none).
pub(crate) fn validation_count(len: usize, val_fraction: f64) -> usize {
    let n = (usize_f64(len) * val_fraction).round();
    // Clamped into 0..=len first: the conversion is exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = n.clamp(0.0, usize_f64(len)) as usize;
    if val_fraction.is_nan() { 0 } else { n }
}

/// A deterministic train/validation split: shuffle by `seed`, the first `val_fraction` of
/// the samples (rounded) validate.
pub(crate) fn split(data: &Dataset, val_fraction: f64, seed: u64) -> (Dataset, Dataset) {
    let mut idx: Vec<usize> = (0..data.len()).collect();
    SplitMix64::new(seed ^ 0x5EED_DA7A).shuffle(&mut idx);
    let (val, train) = idx.split_at(validation_count(data.len(), val_fraction));
    (data.subset(train), data.subset(val))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failure is the assertion
    use super::*;

    #[test]
    fn loads_and_splits_deterministically() {
        let d = load().unwrap();
        assert_eq!(d.len(), 1797);
        assert_eq!(d.x.len(), 1797 * FEATURES);
        assert!(d.x.iter().all(|&v| (0.0..=1.0).contains(&v)));
        let mut counts = [0usize; CLASSES];
        for &y in &d.y {
            counts[usize::from(y)] += 1;
        }
        assert!(counts.iter().all(|&c| c > 150), "{counts:?}");
        let (t1, v1) = split(&d, 0.2, 3);
        let (t2, v2) = split(&d, 0.2, 3);
        assert_eq!((t1.len(), v1.len()), (1438, 359));
        assert_eq!((&t1.y, &v1.x), (&t2.y, &v2.x));
        let (_, v3) = split(&d, 0.2, 4);
        assert_ne!(v1.y, v3.y);
    }
}

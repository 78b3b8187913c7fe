//! Counts as floats, in one place: the only lossy integer-to-float conversions of the tool.
//!
//! The counts lrkit meets (samples, epochs, layer widths, batch sizes, elements, bytes) are far
//! below 2^53 (2^24 for f32 layer widths and batch sizes), where the conversion is exact; beyond
//! that, the nearest float is what a ratio, a chart or a GiB figure wants anyway.

/// A count as `f64`: exact below 2^53, the nearest `f64` above.
#[allow(clippy::cast_precision_loss)] // exact for every count the tool meets (module docs)
pub(crate) fn usize_f64(n: usize) -> f64 {
    n as f64
}

/// A byte count as `f64`: exact below 2^53, the nearest `f64` above.
#[allow(clippy::cast_precision_loss)] // exact for every count the tool meets (module docs)
pub(crate) fn u64_f64(n: u64) -> f64 {
    n as f64
}

/// A layer width or batch size as `f32` (as torch's `1 / batch` and `1 / sqrt(fan_in)`):
/// exact below 2^24, the nearest `f32` above (one rounding, not two via `f64`).
#[allow(clippy::cast_precision_loss)] // exact for every width and batch the tool meets
pub(crate) fn usize_f32(n: usize) -> f32 {
    n as f32
}

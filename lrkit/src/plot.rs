//! SVG charts with `plotters` (SVG backend), drawn into a string: schedules, and a training
//! run. The caller writes the string ([`crate::out_file::OutFile`]).

use plotters::prelude::*;

use crate::error::CliError;
use crate::num::usize_f64;

/// Line colours, one per series (cycled).
const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Most epochs a schedule's line holds one by one; longer runs are drawn as the range of
/// each of this many buckets of consecutive epochs (a chart is 960 pixels wide), so that a
/// chart needs O(schedules) memory whatever the epochs.
pub(crate) const MAX_PLOT_EPOCHS: usize = 4096;

fn plot_err(e: impl core::fmt::Display) -> CliError {
    CliError::Runtime(format!("cannot draw the chart: {e}"))
}

/// Y range covering `values` with a small margin (a flat line gets a visible band).
fn y_range(values: impl Iterator<Item = f64>) -> core::ops::Range<f64> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() {
        return 0.0..1.0;
    }
    let pad = if hi > lo { (hi - lo) * 0.05 } else { hi.abs().max(1e-3) * 0.1 };
    let lo = if lo >= 0.0 && lo - pad < 0.0 { 0.0 } else { lo - pad };
    lo..hi + pad
}

/// A labelled series of per-epoch values.
struct Series {
    label: String,
    /// `(x, y)` points as drawn.
    points: Vec<(f64, f64)>,
}

impl Series {
    /// A value measured at the end of each epoch: a line through `(epoch, value)`, epochs
    /// counted from 1.
    fn line(label: impl Into<String>, values: impl Iterator<Item = f64>) -> Self {
        let points = values.enumerate().map(|(e, y)| (usize_f64(e + 1), y)).collect();
        Self { label: label.into(), points }
    }
}

/// The learning rates of a run as a [`StepSeries`].
fn lr_steps(lrs: &[f64]) -> Series {
    let mut steps = StepSeries::new("learning rate", lrs.len());
    for &y in lrs {
        steps.push(y);
    }
    steps.finish()
}

/// A vertical marker at an epoch, with its legend text.
struct Mark {
    epoch: f64,
    label: String,
}

/// Draws `series` against the epoch into `area`: axes, mesh, one coloured line each, the
/// dashed vertical `marks`, legend.
fn draw_lines(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    caption: Option<&str>,
    ydesc: &str,
    series: &[Series],
    marks: &[Mark],
) -> Result<(), String> {
    let y = y_range(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)));
    let entries = series.len() + marks.len();
    // Headroom above the data for the legend box (one line per entry).
    let y = y.start..y.end + (y.end - y.start) * (0.08 + 0.07 * usize_f64(entries));
    let x_end = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).fold(2.0, f64::max);
    let mut builder = ChartBuilder::on(area);
    if let Some(c) = caption {
        builder.caption(c, ("sans-serif", 22));
    }
    let mut chart = builder
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(80)
        .build_cartesian_2d(1f64..x_end, y.clone())
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(ydesc)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, s) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(s.points.iter().copied(), color.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(&s.label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    for (i, m) in marks.iter().enumerate() {
        let color = COLORS[(series.len() + i) % COLORS.len()];
        // Dashes: short segments along the height of the data.
        let steps = 40;
        let dash = (y.end - y.start) / f64::from(steps);
        chart
            .draw_series((0..steps).step_by(2).map(|k| {
                let y0 = y.start + dash * f64::from(k);
                PathElement::new(vec![(m.epoch, y0), (m.epoch, y0 + dash)], color.stroke_width(2))
            }))
            .map_err(|e| e.to_string())?
            .label(&m.label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 8, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(("sans-serif", 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())
}

/// A bucket of [`StepSeries`] being filled: (first epoch, (epoch, lowest), (epoch, highest),
/// last value).
type Bucket = (usize, (usize, f64), (usize, f64), f64);

/// A learning rate drawn as steps (it holds for a whole epoch), built one epoch at a time:
/// every epoch while there are at most [`MAX_PLOT_EPOCHS`], else, per bucket of consecutive
/// epochs, its lowest and highest value (in the order they came) at the bucket's start and
/// its last value at its end.
#[derive(Debug)]
pub(crate) struct StepSeries {
    label: String,
    /// Epochs per bucket.
    bucket: usize,
    /// Epochs pushed so far.
    seen: usize,
    /// The open bucket, if any.
    open: Option<Bucket>,
    points: Vec<(f64, f64)>,
}

impl StepSeries {
    /// A series labelled `label` (shortened to 90 characters) for a run of `epochs` epochs.
    pub(crate) fn new(label: &str, epochs: usize) -> Self {
        let label = if label.chars().count() > 90 {
            format!("{}...", label.chars().take(87).collect::<String>())
        } else {
            label.to_string()
        };
        let bucket = epochs.div_ceil(MAX_PLOT_EPOCHS).max(1);
        Self { label, bucket, seen: 0, open: None, points: Vec::new() }
    }

    /// The lr of the next epoch.
    pub(crate) fn push(&mut self, y: f64) {
        let e = self.seen;
        self.seen += 1;
        if self.bucket == 1 {
            let x = usize_f64(e + 1);
            self.points.extend([(x, y), (x + 1.0, y)]);
            return;
        }
        let (start, lo, hi, last) = self.open.get_or_insert((e, (e, y), (e, y), y));
        if y < lo.1 {
            *lo = (e, y);
        }
        if y > hi.1 {
            *hi = (e, y);
        }
        *last = y;
        let full = e + 1 - *start == self.bucket;
        if full {
            self.close();
        }
    }

    /// Ends the open bucket, if any.
    fn close(&mut self) {
        if let Some((start, lo, hi, last)) = self.open.take() {
            let x0 = usize_f64(start + 1);
            let (a, b) = if lo.0 <= hi.0 { (lo.1, hi.1) } else { (hi.1, lo.1) };
            self.points.extend([(x0, a), (x0, b), (usize_f64(start + self.bucket + 1), last)]);
        }
    }

    fn finish(mut self) -> Series {
        self.close();
        Series { label: self.label, points: self.points }
    }
}

/// Draws every schedule against the epoch (1-based) into one chart, as steps.
pub(crate) fn schedules(series: Vec<StepSeries>) -> Result<String, CliError> {
    let series: Vec<Series> = series.into_iter().map(StepSeries::finish).collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 540)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        draw_lines(&root, Some("Learning rate per epoch"), "learning rate", &series, &[])
            .map_err(plot_err)?;
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
}

/// One training run: per-epoch series to draw.
#[derive(Clone, Debug, Default)]
pub(crate) struct RunSeries {
    /// Mean training loss per epoch.
    pub train_loss: Vec<f64>,
    /// Validation loss per epoch.
    pub val_loss: Vec<f64>,
    /// Validation accuracy per epoch (0..=1; drawn in percent).
    pub val_acc: Vec<f64>,
    /// Learning rate used in each epoch.
    pub lr: Vec<f64>,
    /// 1-based epoch of the lowest validation loss.
    pub best_epoch: Option<usize>,
    /// 1-based epoch after which early stopping ended the run.
    pub stopped_after: Option<usize>,
}

/// Draws loss (train and validation), validation accuracy in percent and the learning rate
/// (as steps) against the epoch, one panel each, with the best epoch and the early stop
/// marked in every panel.
pub(crate) fn training(title: &str, s: &RunSeries) -> Result<String, CliError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 900)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let root = root.titled(title, ("sans-serif", 20)).map_err(plot_err)?;
        draw_training(&root, s)?;
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
}

/// The three panels of [`training`].
fn draw_training(
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    s: &RunSeries,
) -> Result<(), CliError> {
    let mut marks = Vec::new();
    if let Some(b) = s.best_epoch {
        marks.push(Mark {
            epoch: usize_f64(b),
            label: format!("lowest validation loss (epoch {b})"),
        });
    }
    if let Some(e) = s.stopped_after {
        marks.push(Mark { epoch: usize_f64(e), label: format!("early stop (after epoch {e})") });
    }
    let panels: [(&str, Vec<Series>); 3] = [
        (
            "loss",
            vec![
                Series::line("train loss", s.train_loss.iter().copied()),
                Series::line("validation loss", s.val_loss.iter().copied()),
            ],
        ),
        (
            "validation accuracy (%)",
            vec![Series::line("validation accuracy", s.val_acc.iter().map(|a| 100.0 * a))],
        ),
        ("learning rate", vec![lr_steps(&s.lr)]),
    ];
    for (area, (ydesc, series)) in root.split_evenly((3, 1)).iter().zip(panels) {
        draw_lines(area, None, ydesc, &series, &marks).map_err(plot_err)?;
    }
    Ok(())
}

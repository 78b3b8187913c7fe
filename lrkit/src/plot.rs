//! SVG charts with `plotters` (SVG backend): schedules, and a training run.

use plotters::prelude::*;

use crate::error::CliError;
use crate::schedule::Trace;

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

fn plot_err(path: &str) -> impl Fn(String) -> CliError + '_ {
    move |e| CliError::Runtime(format!("cannot draw {path}: {e}"))
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

/// A labelled line: `(x, y)` points.
type Series = (String, Vec<(f64, f64)>);

/// Draws `series` against the epoch into `area`: axes, mesh, one coloured line each, legend.
fn draw_lines(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    caption: Option<&str>,
    ydesc: &str,
    epochs: usize,
    series: &[Series],
) -> Result<(), String> {
    let y = y_range(series.iter().flat_map(|(_, v)| v.iter().map(|p| p.1)));
    // Headroom above the data for the legend box (one line per series).
    let y = y.start..y.end + (y.end - y.start) * (0.08 + 0.07 * series.len() as f64);
    let mut builder = ChartBuilder::on(area);
    if let Some(c) = caption {
        builder.caption(c, ("sans-serif", 22));
    }
    let mut chart = builder
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(80)
        .build_cartesian_2d(1f64..(epochs.max(2) as f64), y)
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
    for (i, (label, points)) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
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

/// Points `(epoch, value)` with epochs counted from 1.
fn by_epoch(values: impl Iterator<Item = f64>) -> Vec<(f64, f64)> {
    values.enumerate().map(|(e, y)| ((e + 1) as f64, y)).collect()
}

/// Draws group 0 of every schedule against the epoch (1-based) into one chart at `path`.
pub fn schedules(path: &str, traces: &[Trace]) -> Result<(), CliError> {
    let err = plot_err(path);
    let epochs = traces.iter().map(|t| t.lrs.len()).max().unwrap_or(1);
    let series: Vec<Series> = traces
        .iter()
        .map(|t| {
            let label = if t.spec.chars().count() > 90 {
                format!("{}...", t.spec.chars().take(87).collect::<String>())
            } else {
                t.spec.clone()
            };
            (label, by_epoch(t.lrs.iter().filter_map(|r| r.first().copied())))
        })
        .collect();
    let root = SVGBackend::new(path, (960, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    draw_lines(&root, Some("Learning rate per epoch"), "learning rate", epochs, &series)
        .map_err(&err)?;
    root.present().map_err(|e| err(e.to_string()))
}

/// One training run: per-epoch series to draw.
#[derive(Clone, Debug, Default)]
pub struct RunSeries {
    /// Mean training loss per epoch.
    pub train_loss: Vec<f64>,
    /// Validation loss per epoch.
    pub val_loss: Vec<f64>,
    /// Validation accuracy per epoch (0..=1).
    pub val_acc: Vec<f64>,
    /// Learning rate used in each epoch.
    pub lr: Vec<f64>,
}

/// Draws loss, validation accuracy and learning rate against the epoch, stacked.
pub fn training(path: &str, title: &str, s: &RunSeries) -> Result<(), CliError> {
    let err = plot_err(path);
    let root = SVGBackend::new(path, (900, 900)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let root = root.titled(title, ("sans-serif", 20)).map_err(|e| err(e.to_string()))?;
    let line = |name: &str, v: &[f64]| (name.to_string(), by_epoch(v.iter().copied()));
    let panels: [(&str, Vec<Series>); 3] = [
        ("loss", vec![line("train loss", &s.train_loss), line("validation loss", &s.val_loss)]),
        ("validation accuracy", vec![line("validation accuracy", &s.val_acc)]),
        ("learning rate", vec![line("learning rate", &s.lr)]),
    ];
    for (area, (ydesc, series)) in root.split_evenly((3, 1)).iter().zip(panels) {
        draw_lines(area, None, ydesc, s.lr.len(), &series).map_err(&err)?;
    }
    root.present().map_err(|e| err(e.to_string()))
}

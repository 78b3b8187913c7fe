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

/// Draws group 0 of every schedule against the epoch (1-based) into one chart at `path`.
pub fn schedules(path: &str, traces: &[Trace]) -> Result<(), CliError> {
    let err = plot_err(path);
    let epochs = traces.iter().map(|t| t.lrs.len()).max().unwrap_or(1);
    let root = SVGBackend::new(path, (960, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let y = y_range(traces.iter().flat_map(|t| t.lrs.iter().filter_map(|r| r.first().copied())));
    let mut chart = ChartBuilder::on(&root)
        .caption("Learning rate per epoch", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(1f64..(epochs.max(2) as f64), y)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("learning rate")
        .draw()
        .map_err(|e| err(e.to_string()))?;
    for (i, t) in traces.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let points =
            t.lrs.iter().enumerate().filter_map(|(e, r)| r.first().map(|&lr| ((e + 1) as f64, lr)));
        let label = if t.spec.chars().count() > 90 {
            format!("{}...", t.spec.chars().take(87).collect::<String>())
        } else {
            t.spec.clone()
        };
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(|e| err(e.to_string()))?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(e.to_string()))?;
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

/// One panel: its y-axis name and its (label, values) series.
type Panel<'a> = (&'a str, Vec<(&'a str, &'a [f64])>);

/// Draws loss, validation accuracy and learning rate against the epoch, stacked.
pub fn training(path: &str, title: &str, s: &RunSeries) -> Result<(), CliError> {
    let err = plot_err(path);
    let root = SVGBackend::new(path, (900, 900)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let root = root.titled(title, ("sans-serif", 20)).map_err(|e| err(e.to_string()))?;
    let panels = root.split_evenly((3, 1));
    let n = s.lr.len().max(2) as f64;
    let xs =
        |v: &[f64]| v.iter().enumerate().map(|(e, &y)| ((e + 1) as f64, y)).collect::<Vec<_>>();
    let charts: [Panel<'_>; 3] = [
        ("loss", vec![("train loss", &s.train_loss), ("validation loss", &s.val_loss)]),
        ("validation accuracy", vec![("validation accuracy", &s.val_acc)]),
        ("learning rate", vec![("learning rate", &s.lr)]),
    ];
    for (panel, (ydesc, series)) in panels.iter().zip(charts) {
        let y = y_range(series.iter().flat_map(|(_, v)| v.iter().copied()));
        let mut chart = ChartBuilder::on(panel)
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(70)
            .build_cartesian_2d(1f64..n, y)
            .map_err(|e| err(e.to_string()))?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(ydesc)
            .draw()
            .map_err(|e| err(e.to_string()))?;
        for (i, (label, values)) in series.into_iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            chart
                .draw_series(LineSeries::new(xs(values), color.stroke_width(2)))
                .map_err(|e| err(e.to_string()))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(e.to_string()))?;
    }
    root.present().map_err(|e| err(e.to_string()))
}

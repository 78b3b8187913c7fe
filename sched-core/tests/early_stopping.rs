//! Early stopping: patience, min_delta, min/max mode, NaN metrics, bad input.
#![allow(clippy::unwrap_used)] // test code: a panic is a failure
#![allow(missing_docs)]

use sched_core::{EarlyStopping, PlateauMode, SchedError};

/// Feeds metrics; returns the 1-based epoch at which `update` first said stop.
fn stop_epoch(mut es: EarlyStopping, metrics: &[f64]) -> Option<usize> {
    metrics.iter().position(|&m| es.update(m)).map(|i| i + 1)
}

#[test]
fn stops_after_patience_epochs_without_improvement() {
    let es = EarlyStopping::new(PlateauMode::Min, 2, 0.0).unwrap();
    // improves at 1, 2, 3; then 3 epochs without: stops at the 2nd of them (epoch 5).
    assert_eq!(stop_epoch(es, &[1.0, 0.9, 0.8, 0.8, 0.85, 0.7]), Some(5));
}

#[test]
fn improvements_smaller_than_min_delta_do_not_count() {
    let es = EarlyStopping::new(PlateauMode::Min, 2, 0.05).unwrap();
    // 0.97 and 0.95 are within 0.05 of the best 1.0: not improvements.
    assert_eq!(stop_epoch(es, &[1.0, 0.97, 0.951, 0.5]), Some(3));
    let mut es = EarlyStopping::new(PlateauMode::Min, 2, 0.05).unwrap();
    for m in [1.0, 0.94, 0.88] {
        assert!(!es.update(m));
    }
    assert_eq!(es.best(), 0.88);
    assert_eq!(es.best_epoch(), 3);
}

#[test]
fn max_mode_and_nan() {
    let mut es = EarlyStopping::new(PlateauMode::Max, 1, 0.0).unwrap();
    assert!(!es.update(0.5));
    assert!(!es.update(0.6));
    assert_eq!(es.best(), 0.6);
    assert!(es.update(f64::NAN), "a NaN metric never improves");
    assert_eq!(es.wait(), 1);
}

#[test]
fn invalid_arguments_are_typed_errors() {
    assert_eq!(
        EarlyStopping::new(PlateauMode::Min, 0, 0.0),
        Err(SchedError::ZeroPeriod { param: "patience" })
    );
    assert!(matches!(
        EarlyStopping::new(PlateauMode::Min, 3, -0.1),
        Err(SchedError::OutOfRange { param: "min_delta", .. })
    ));
    assert!(matches!(
        EarlyStopping::new(PlateauMode::Min, 3, f64::NAN),
        Err(SchedError::NonFinite { param: "min_delta", .. })
    ));
}

//! Counters and restored state that a user or a snapshot can set: bounded, validated like the
//! constructor, never overflowing (issue "Hostile input", items 6 and 7).
#![allow(clippy::unwrap_used)] // test code: a panic is a failure
#![allow(missing_docs)]

use sched_core::spec::{Value, build};
use sched_core::*;

/// One scheduler of each kind with a plain configuration (every kind restores).
fn kinds() -> Vec<(&'static str, Vec<(&'static str, Value<'static>)>)> {
    vec![
        ("StepLR", vec![("step_size", Value::Int(3))]),
        ("MultiStepLR", vec![("milestones", Value::List(&[Value::Int(2)]))]),
        ("ConstantLR", vec![]),
        ("LinearLR", vec![]),
        ("ExponentialLR", vec![("gamma", Value::Float(0.9))]),
        ("PolynomialLR", vec![]),
        ("CosineAnnealingLR", vec![("T_max", Value::Int(10))]),
        ("LambdaLR", vec![("lr_lambda", Value::Lambda(LrLambda::Pow(0.9)))]),
        ("MultiplicativeLR", vec![("lr_lambda", Value::Lambda(LrLambda::Constant(0.9)))]),
        ("CosineAnnealingWarmRestarts", vec![("T_0", Value::Int(3))]),
        ("CyclicLR", vec![("base_lr", Value::Float(0.01)), ("max_lr", Value::Float(0.1))]),
        ("OneCycleLR", vec![("max_lr", Value::Float(0.1)), ("total_steps", Value::Int(100))]),
        ("ReduceLROnPlateau", vec![]),
    ]
}

fn snapshot_of(s: &Scheduler<'_>) -> Snapshot {
    let mut out = [Snapshot::default()];
    s.snapshot(&mut out).unwrap();
    out[0]
}

/// The parameter a range or finiteness error names.
fn named_param(e: SchedError) -> &'static str {
    match e {
        SchedError::OutOfRange { param, .. } | SchedError::NonFinite { param, .. } => param,
        other => panic!("{other:?}"),
    }
}

#[test]
fn restore_rejects_counters_past_the_limit_for_every_kind() {
    for (kind, kwargs) in kinds() {
        let mut groups = [ParamGroup::new(0.1).with_momentum(0.9)];
        let mut s = build(kind, &kwargs, &mut groups).unwrap();
        let good = snapshot_of(&s);
        for last_epoch in [i64::MAX, MAX_EPOCH + 1, -2, i64::MIN] {
            let bad = Snapshot { last_epoch, ..good };
            let e = s.restore(&[bad]).unwrap_err();
            assert!(
                matches!(e, SchedError::OutOfRange { param: "last_epoch", .. }),
                "{kind} last_epoch {last_epoch}: {e:?}"
            );
        }
        let bad = Snapshot { step_count: u64::MAX, ..good };
        assert!(
            matches!(s.restore(&[bad]), Err(SchedError::OutOfRange { param: "step_count", .. })),
            "{kind}"
        );
        // A snapshot at the limit restores; the next step is a typed error, not a wrap.
        let at_limit = Snapshot { last_epoch: MAX_EPOCH, ..good };
        if s.restore(&[at_limit]).is_ok() {
            let r = if kind == "ReduceLROnPlateau" {
                s.step_with_metric(1.0, &mut groups)
            } else {
                s.step(&mut groups)
            };
            assert!(
                matches!(r, Err(SchedError::OutOfRange { param: "last_epoch", .. })),
                "{kind}: {r:?}"
            );
        }
        assert_eq!(s.restore(&[good]), Ok(1), "{kind}");
    }
}

#[test]
fn restore_validates_warm_restarts_and_plateau_state() {
    let mut groups = [ParamGroup::new(0.1)];
    let mut s =
        build("CosineAnnealingWarmRestarts", &[("T_0", Value::Int(3))], &mut groups).unwrap();
    s.step(&mut groups).unwrap();
    let good = snapshot_of(&s);
    let before = format!("{s:?}");
    for (bad, param) in [
        (Snapshot { int0: 0, ..good }, "T_i"),
        (Snapshot { int0: -5, ..good }, "T_i"),
        (Snapshot { real: f64::NAN, ..good }, "T_cur"),
        (Snapshot { real: f64::INFINITY, ..good }, "T_cur"),
        (Snapshot { real: 3.0, ..good }, "T_cur"), // T_cur < T_i = 3
        (Snapshot { real: -2.0, ..good }, "T_cur"),
    ] {
        assert_eq!(named_param(s.restore(&[bad]).unwrap_err()), param, "{bad:?}");
        assert_eq!(format!("{s:?}"), before, "nothing written on error");
    }
    let mut s = build("ReduceLROnPlateau", &[("cooldown", Value::Int(2))], &mut groups).unwrap();
    let good = snapshot_of(&s);
    for (bad, param) in [
        (Snapshot { real: f64::NAN, ..good }, "best"),
        (Snapshot { int0: -1, ..good }, "num_bad_epochs"),
        (Snapshot { int1: 3, ..good }, "cooldown_counter"),
        (Snapshot { int1: -1, ..good }, "cooldown_counter"),
    ] {
        assert_eq!(named_param(s.restore(&[bad]).unwrap_err()), param, "{bad:?}");
    }
    // An infinite best is the initial state of mode min: valid.
    assert_eq!(s.restore(&[Snapshot { real: f64::INFINITY, ..good }]), Ok(1));
}

#[test]
fn constructors_and_closed_forms_bound_the_epoch() {
    let mut groups = [ParamGroup::new(0.1)];
    let e = LambdaLr::new(LrLambda::LinearWarmup(5).into(), i64::MAX - 1, &mut groups).unwrap_err();
    assert!(matches!(e, SchedError::OutOfRange { param: "last_epoch", .. }), "{e:?}");
    let s = LambdaLr::new(LrLambda::LinearWarmup(5).into(), -1, &mut groups).unwrap();
    assert!(matches!(s.lr_at(0, u64::MAX), Err(SchedError::OutOfRange { param: "epoch", .. })));
    assert!(matches!(s.lr_at_f32(0, u64::MAX), Err(SchedError::OutOfRange { param: "epoch", .. })));
    // The largest epoch still works and is Python's value: min(1.0, (e + 1) / 5) = 1.
    assert_eq!(s.lr_at(0, MAX_EPOCH as u64), Ok(0.1));
}

#[test]
fn powers_that_overflow_are_pythons_overflow_error() {
    let mut groups = [ParamGroup::new(0.1)];
    let mut s = LambdaLr::new(LrLambda::Pow(1000.0).into(), -1, &mut groups).unwrap();
    for _ in 0..102 {
        s.step(&mut groups).unwrap();
    }
    assert_eq!(s.step(&mut groups), Err(SchedError::Overflow { param: "lr_lambda", epoch: 103 }));
    assert_eq!(s.lr_at(0, 103), Err(SchedError::Overflow { param: "lr_lambda", epoch: 103 }));
    assert!(s.lr_at(0, 102).unwrap().is_finite());
}

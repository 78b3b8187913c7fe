//! LambdaLR and MultiplicativeLR with Python bodies: torch's construction and steps, the
//! exception of a step (typed, naming group, epoch and Python's exception, nothing written),
//! the closed form, the built-in forms as the Python bodies they stand for, and the program
//! pool's capacity.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure
#![allow(missing_docs)]
// Test code: small epochs as f64 are exact; rounding to f32 with `as` is the oracle.
#![allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]

use sched_core::python::PyException;
use sched_core::spec::{Value, build};
use sched_core::torch::{LAMBDA_POOL_CONSTS, LAMBDA_POOL_OPS};
use sched_core::{
    ClosedForm, LambdaLr, Lambdas, LrLambda, MultiplicativeLr, ParamGroup, SchedError, Scheduler,
    Snapshot,
};

fn py(body: &str) -> LrLambda {
    LrLambda::python("e", body).unwrap_or_else(|e| panic!("{body}: {e}"))
}

#[test]
fn lambda_lr_is_base_lr_times_float_of_the_body() {
    // torch: LambdaLR(opt, [lambda e: 2 ** e, lambda e: e > 2 and 0.5 or True]) on lrs 0.1, 0.2.
    let mut groups = [ParamGroup::new(0.1), ParamGroup::new(0.2)];
    let list = [py("2 ** e"), py("e > 2 and 0.5 or True")];
    let mut s = LambdaLr::new(Lambdas::PerGroup(&list), -1, &mut groups).unwrap();
    for e in 0..80u16 {
        if e > 0 {
            s.step(&mut groups).unwrap();
        }
        // float * int converts the int correctly rounded; a bool is 0 or 1.
        let want0 = 0.1 * 2f64.powi(i32::from(e));
        let want1: f64 = if e > 2 { 0.2 * 0.5 } else { 0.2 };
        assert_eq!(groups[0].lr.to_bits(), want0.to_bits(), "epoch {e}");
        assert_eq!(groups[1].lr.to_bits(), want1.to_bits(), "epoch {e}");
        for (g, group) in groups.iter().enumerate() {
            assert_eq!(s.lr_at(g, u64::from(e)).unwrap().to_bits(), group.lr.to_bits());
        }
    }
}

#[test]
fn an_exception_fails_the_step_and_writes_nothing() {
    let mut groups = [ParamGroup::new(0.1), ParamGroup::new(0.2)];
    let list = [py("0.5 ** e"), py("1 / (e - 3)")];
    let mut s = LambdaLr::new(Lambdas::PerGroup(&list), -1, &mut groups).unwrap();
    s.step(&mut groups).unwrap();
    s.step(&mut groups).unwrap();
    let before = groups;
    let err = s.step(&mut groups).unwrap_err();
    let want = SchedError::LambdaRaised {
        group: 1,
        epoch: 3,
        exception: PyException::ZeroDivisionError("division by zero"),
    };
    assert_eq!(err, want);
    assert_eq!(err.param(), Some("lr_lambda"));
    assert_eq!(
        err.to_string(),
        "lr_lambda of parameter group 1 raised ZeroDivisionError: division by zero at epoch 3"
    );
    assert_eq!(groups, before);
    assert_eq!(s.last_epoch(), 2);
    assert_eq!(s.lr_at(1, 3), Err(want));
    assert_eq!(s.lr_at(0, 3).unwrap(), 0.1 * 0.125);
}

#[test]
fn construction_evaluates_lambda_of_zero_for_lambda_lr_only() {
    // torch: LambdaLR(opt, lambda e: math.log(e)) raises ValueError at construction.
    let mut groups = [ParamGroup::new(0.1)];
    let err = LambdaLr::new(py("math.log(e)").into(), -1, &mut groups).unwrap_err();
    assert_eq!(
        err,
        SchedError::LambdaRaised {
            group: 0,
            epoch: 0,
            exception: PyException::ValueError("math domain error")
        }
    );
    assert_eq!(groups[0].lr, 0.1);
    // MultiplicativeLR's construction keeps the lr: lambda e: 1 / (e - 2) first raises at 2.
    let mut groups = [ParamGroup::new(0.1)];
    let mut s = MultiplicativeLr::new(py("1 / (e - 2)").into(), -1, &mut groups).unwrap();
    assert_eq!(groups[0].lr, 0.1);
    s.step(&mut groups).unwrap();
    assert_eq!(groups[0].lr, -0.1); // 0.1 * (1 / (1 - 2))
    assert!(matches!(s.step(&mut groups), Err(SchedError::LambdaRaised { epoch: 2, .. })));
}

#[test]
fn multiplicative_lr_multiplies_by_the_float_of_each_result() {
    // torch: MultiplicativeLR(opt, lambda e: 0 if e > 2 else 1) on lr 0.5: 0.5, 0.5, 0.5, 0.0.
    let mut groups = [ParamGroup::new(0.5)];
    let mut s = MultiplicativeLr::new(py("0 if e > 2 else 1").into(), -1, &mut groups).unwrap();
    let mut lrs = vec![groups[0].lr];
    for _ in 0..4 {
        s.step(&mut groups).unwrap();
        lrs.push(groups[0].lr);
    }
    assert_eq!(lrs, [0.5, 0.5, 0.5, 0.0, 0.0]);
    let sched: Scheduler<'_> = s.into();
    assert_eq!(sched.lr_at(0, 1), Err(SchedError::NoClosedForm));
}

/// Each built-in form and the Python body it stands for (floats in a repr that Python reads
/// back to the same bits).
fn builtin_forms() -> Vec<(LrLambda, String)> {
    vec![
        (LrLambda::Constant(0.999), "0.999".into()),
        (LrLambda::Pow(0.95), "0.95 ** e".into()),
        (LrLambda::FloorDiv(3), "e // 3".into()),
        (LrLambda::LinearWarmup(7), "min(1.0, (e + 1) / 7)".into()),
        (LrLambda::StepPow { gamma: 0.5, every: 10 }, "0.5 ** (e // 10)".into()),
        (LrLambda::Pow(1.0 / 3.0), format!("{:?} ** e", 1.0 / 3.0)),
    ]
}

#[test]
fn built_in_forms_equal_their_python_bodies() {
    for (builtin, body) in builtin_forms() {
        for tensor in [false, true] {
            let group = |lr| if tensor { ParamGroup::tensor(lr) } else { ParamGroup::new(lr) };
            let mut a = [group(0.3), group(0.07)];
            let mut b = a;
            let mut sa = LambdaLr::new(builtin.into(), -1, &mut a).unwrap();
            let mut sb = LambdaLr::new(py(&body).into(), -1, &mut b).unwrap();
            for e in 0..120u64 {
                if e > 0 {
                    sa.step(&mut a).unwrap();
                    sb.step(&mut b).unwrap();
                }
                for g in 0..2 {
                    assert_eq!(a[g].lr.to_bits(), b[g].lr.to_bits(), "{body} epoch {e}");
                    let (ca, cb) = (sa.lr_at(g, e).unwrap(), sb.lr_at(g, e).unwrap());
                    assert_eq!(ca.to_bits(), cb.to_bits(), "{body} closed form at {e}");
                    // In f32 a built-in form is evaluated in f32; a Python body in Python's
                    // f64, then multiplied in f32 (a tensor lr: already f32 in f64).
                    let fb = sb.lr_at_f32(g, e).unwrap();
                    let factor = py(&body).eval(e.cast_signed());
                    let want =
                        if tensor { cb as f32 } else { sb.base_lrs()[g] as f32 * factor as f32 };
                    assert_eq!(fb.to_bits(), want.to_bits(), "{body} f32 closed form at {e}");
                    let fa = sa.lr_at_f32(g, e).unwrap();
                    let (fa, fb) = (f64::from(fa), f64::from(fb));
                    assert!((fa - fb).abs() <= 1e-5 * fb.abs(), "{body} at {e}: {fa} {fb}");
                }
            }
            assert_eq!(builtin.eval(57).to_bits(), py(&body).eval(57).to_bits(), "{body}");
        }
    }
}

#[test]
fn the_closed_form_is_python_at_any_epoch() {
    let mut groups = [ParamGroup::new(0.01)];
    let s = LambdaLr::new(py("0.5 ** (e // 1000) * (1 + (e % 7 == 0))").into(), -1, &mut groups)
        .unwrap();
    // Python: 0.01 * (0.5 ** (7_000_000 // 1000) * (1 + (7_000_000 % 7 == 0))) == 0.0
    assert_eq!(s.lr_at(0, 7_000_000).unwrap(), 0.0);
    // Python: 0.01 * (0.5 ** (7000 // 1000) * (1 + (7000 % 7 == 0))) == 0.00015625
    assert_eq!(s.lr_at(0, 7000).unwrap(), 0.000_156_25);
    assert_eq!(s.lr_at_f32(0, 7000).unwrap(), 0.01f32 * 0.015_625f32);
    assert!(matches!(s.lr_at(0, u64::MAX), Err(SchedError::OutOfRange { param: "epoch", .. })));
}

#[test]
fn rust_functions_still_work_without_a_closed_form() {
    fn half(e: i64) -> f64 {
        if e < 3 { 1.0 } else { 0.5 }
    }
    let mut groups = [ParamGroup::new(0.2), ParamGroup::new(0.4)];
    let list = [LrLambda::Custom(half), py("0.5")];
    let mut s = LambdaLr::new(Lambdas::PerGroup(&list), -1, &mut groups).unwrap();
    for _ in 0..3 {
        s.step(&mut groups).unwrap();
    }
    assert_eq!([groups[0].lr, groups[1].lr], [0.1, 0.2]);
    assert_eq!(s.lr_at(0, 3), Err(SchedError::NoClosedForm));
    assert_eq!(s.lr_at(1, 3), Ok(0.2));
}

/// A body of exactly `2 * terms + 1` instructions, different for each `k`.
fn long_body(terms: usize, k: usize) -> String {
    format!("{} + {k}", vec!["e"; terms].join(" + "))
}

#[test]
fn programs_share_a_pool_of_fixed_capacity() {
    let body = long_body(30, 0); // 61 instructions
    // One body for sixteen groups is stored once.
    let mut groups = [ParamGroup::new(0.1); 16];
    let s = LambdaLr::new(py(&body).into(), -1, &mut groups).unwrap();
    // Python: 0.1 * (sum of 30 times 5, + 0) == 15.0
    assert_eq!(s.lr_at(15, 5).unwrap(), 0.1 * 150.0);
    let same = [py(&body), py(&body), py(&long_body(30, 1)), py(&long_body(30, 1))];
    let mut groups = [ParamGroup::new(0.1); 4];
    assert!(LambdaLr::new(Lambdas::PerGroup(&same), -1, &mut groups).is_ok());
    // Three different ones do not fit 128 instructions.
    let three = [py(&body), py(&long_body(30, 1)), py(&long_body(30, 2))];
    let mut groups = [ParamGroup::new(0.1); 3];
    let err = LambdaLr::new(Lambdas::PerGroup(&three), -1, &mut groups).unwrap_err();
    assert_eq!(
        err,
        SchedError::LambdaPoolFull { what: "instructions", needed: 183, max: LAMBDA_POOL_OPS }
    );
    // Constants: three bodies of eleven distinct floats each.
    let floats =
        |k: usize| (0..11).map(|i| format!("{}.25", 11 * k + i)).collect::<Vec<_>>().join(" + ");
    let three = [py(&floats(0)), py(&floats(1)), py(&floats(2))];
    let err = MultiplicativeLr::new(Lambdas::PerGroup(&three), -1, &mut groups).unwrap_err();
    assert_eq!(
        err,
        SchedError::LambdaPoolFull { what: "constants", needed: 33, max: LAMBDA_POOL_CONSTS }
    );
}

#[test]
fn spec_values_and_snapshots() {
    let list = [Value::Lambda(py("e // 2")), Value::Lambda(py("1.0 if e < 5 else 0.1"))];
    let kwargs = [("lr_lambda", Value::List(&list))];
    let mut groups = [ParamGroup::new(0.5), ParamGroup::new(0.25)];
    let mut s = build("LambdaLR", &kwargs, &mut groups).unwrap();
    for _ in 0..6 {
        s.step(&mut groups).unwrap();
    }
    assert_eq!([groups[0].lr, groups[1].lr], [0.5 * 3.0, 0.25 * 0.1]);
    let mut snaps = [Snapshot::default(); 1];
    s.snapshot(&mut snaps).unwrap();
    let mut fresh_groups = [ParamGroup::new(0.5), ParamGroup::new(0.25)];
    let mut fresh = build("LambdaLR", &kwargs, &mut fresh_groups).unwrap();
    fresh.restore(&snaps).unwrap();
    fresh.step(&mut groups).unwrap();
    assert_eq!([groups[0].lr, groups[1].lr], [0.5 * 3.0, 0.25 * 0.1]);
    // A list of the wrong length is PyTorch's ValueError, a non-function its TypeError.
    let one = [Value::Lambda(py("e"))];
    let err = build("LambdaLR", &[("lr_lambda", Value::List(&one))], &mut groups).unwrap_err();
    assert!(matches!(err, SchedError::GroupListLength { expected: 2, got: 1, .. }));
    let bad = [Value::Lambda(py("e")), Value::Int(1)];
    let err = build("LambdaLR", &[("lr_lambda", Value::List(&bad))], &mut groups).unwrap_err();
    assert!(matches!(err, SchedError::WrongType { param: "lr_lambda", .. }));
}

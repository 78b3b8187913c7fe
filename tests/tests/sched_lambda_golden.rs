//! Golden-vector parity for LambdaLR and MultiplicativeLR with Python lambda bodies
//! (format in `tests/golden/LAMBDA.md`: torch 2.15, CPython 3.11).
//!
//! Reads `tests/golden/sched_lambda_public.json` and every `sched_lambda_*.json` in
//! `$GOLDEN_DIR`, and prints one line per file:
//! `golden <file>: <N> cases, <R> reproduced (<T> traces bitwise, <E> errors at the same step)`:
//! a case is reproduced when every recorded row (every group's lr after construction and
//! after each step, through `step()` and, for LambdaLR, the closed form) is bitwise equal and
//! Python's error, if it raised, is the same exception (and message) at the same row; `T` of
//! them ran to the end, `E` raised.
//!
//! With the `std-math` feature (default) every case must be reproduced; without it (the
//! crate's `no_std` math) every row must be within `NO_STD_ULP_BUDGET` ulp and every error at
//! the same row.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure
#![allow(missing_docs)]

use sched_core::math::ulp_distance;
use sched_core::spec::{Value, build};
use sched_core::{LrLambda, ParamGroup, SchedError, Scheduler};
use serde_json::Value as J;

const NO_STD_ULP_BUDGET: u64 = 2;
const STD_MATH: bool = cfg!(feature = "std-math");

fn f64_hex(v: &J) -> f64 {
    f64::from_bits(u64::from_str_radix(v.as_str().unwrap(), 16).unwrap())
}

/// What one case gave.
#[derive(Default)]
struct Outcome {
    /// Largest ulp distance of any row from the recording.
    max_ulp: u64,
    /// Python raised, and so did sched-core, with the same exception at the same row.
    same_error: bool,
}

/// The exception name and message of a lambda error.
fn raised(e: &SchedError) -> (&'static str, &'static str) {
    match e {
        SchedError::LambdaRaised { exception, .. } => (exception.name(), exception.message()),
        other => panic!("not a lambda exception: {other:?}"),
    }
}

/// Whether `got` is the recorded `error` (`{row, exception, message}`) at `row`.
fn is_recorded(got: &SchedError, error: Option<&J>, row: usize, id: &str) -> bool {
    let Some(error) = error.filter(|e| e["row"].as_u64() == Some(row as u64)) else {
        panic!("{id}: row {row}: sched-core raised {got}, Python did not");
    };
    let (name, message) = raised(got);
    assert_eq!(name, error["exception"].as_str().unwrap(), "{id}: row {row}: {got}");
    if name != "complex" {
        assert_eq!(message, error["message"].as_str().unwrap(), "{id}: row {row}: {got}");
    }
    true
}

fn check_case(case: &J) -> Outcome {
    let id = case["id"].as_str().unwrap();
    let kind = case["type"].as_str().unwrap();
    for key in case.as_object().unwrap().keys() {
        assert!(
            ["id", "type", "base_lrs", "base_lrs_bits", "lambdas", "steps", "lrs", "error"]
                .contains(&key.as_str()),
            "{id}: unknown field {key}"
        );
    }
    let lambdas: Vec<Value<'static>> = case["lambdas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let (param, body) = (l["param"].as_str().unwrap(), l["body"].as_str().unwrap());
            let f = LrLambda::python(param, body)
                .unwrap_or_else(|e| panic!("{id}: `{body}` does not compile: {e}"));
            Value::Lambda(f)
        })
        .collect();
    let mut groups: Vec<ParamGroup> = case["base_lrs_bits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| ParamGroup::new(f64_hex(b)))
        .collect();
    let rows = case["lrs"].as_array().unwrap();
    let error = case.get("error");
    let steps = usize::try_from(case["steps"].as_u64().unwrap()).unwrap();
    let kwargs = [("lr_lambda", Value::List(Vec::leak(lambdas)))];
    let mut out = Outcome::default();
    let mut compare = |groups: &[ParamGroup], row: usize, sched: &Scheduler<'_>| {
        let want = rows[row].as_array().unwrap();
        assert_eq!(want.len(), groups.len(), "{id}: row {row}");
        for (g, (got, want)) in groups.iter().zip(want).enumerate() {
            let want = f64_hex(want);
            out.max_ulp = out.max_ulp.max(ulp_distance(got.lr, want));
            if kind == "LambdaLR" {
                // The closed form is the same expression as stepping: the same bits.
                let closed = sched.lr_at(g, row as u64).unwrap();
                assert_eq!(closed.to_bits(), got.lr.to_bits(), "{id}: closed form, row {row}");
            }
        }
    };
    let mut sched = match build(kind, &kwargs, &mut groups) {
        Ok(s) => s,
        Err(e) => {
            assert!(is_recorded(&e, error, 0, id));
            assert!(rows.is_empty(), "{id}: rows before a construction error");
            return Outcome { same_error: true, ..out };
        }
    };
    compare(&groups, 0, &sched);
    for row in 1..=steps {
        let before: Vec<f64> = groups.iter().map(|g| g.lr).collect();
        match sched.step(&mut groups) {
            Ok(()) => compare(&groups, row, &sched),
            Err(e) => {
                assert!(is_recorded(&e, error, row, id));
                assert_eq!(rows.len(), row, "{id}: the rows before the error");
                let after: Vec<f64> = groups.iter().map(|g| g.lr).collect();
                assert_eq!(before, after, "{id}: a failed step wrote to the groups");
                if kind == "LambdaLR" {
                    let closed = (0..groups.len()).find_map(|g| sched.lr_at(g, row as u64).err());
                    assert_eq!(closed, Some(e), "{id}: the closed form at the error row");
                }
                out.same_error = true;
                return out;
            }
        }
    }
    assert!(error.is_none(), "{id}: Python raised {error:?}, sched-core did not");
    assert_eq!(rows.len(), steps + 1, "{id}: rows");
    out
}

#[test]
fn golden_lambda_vectors() {
    for file in lrkit_tests::golden_files("sched_lambda") {
        let data: J = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let cases = data["cases"].as_array().unwrap();
        let (mut reproduced, mut traces, mut errors, mut max_ulp) = (0, 0, 0, 0);
        let mut not_bitwise = Vec::new();
        for case in cases {
            let o = check_case(case);
            max_ulp = max_ulp.max(o.max_ulp);
            if o.max_ulp == 0 {
                reproduced += 1;
                if o.same_error { errors += 1 } else { traces += 1 }
            } else {
                not_bitwise.push(format!("{} ({} ulp)", case["id"].as_str().unwrap(), o.max_ulp));
            }
        }
        let name = file.file_name().unwrap().to_string_lossy();
        println!(
            "golden {name}: {} cases, {reproduced} reproduced ({traces} traces bitwise, {errors} errors at the same step)",
            cases.len()
        );
        if STD_MATH {
            assert!(not_bitwise.is_empty(), "not bitwise: {not_bitwise:?}");
        } else {
            println!("  no_std math: max {max_ulp} ulp; not bitwise: {not_bitwise:?}");
            assert!(max_ulp <= NO_STD_ULP_BUDGET, "{max_ulp} ulp: {not_bitwise:?}");
        }
    }
}

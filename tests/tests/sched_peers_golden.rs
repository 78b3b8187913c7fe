//! Golden-vector parity for the peer schedule families: transformers 5.24, timm 1.0.31 and
//! optax 0.2.8 (format and protocol in `tests/golden/PEERS.md`).
//!
//! Reads `tests/golden/sched_peers_public.json` and every `sched_peers_*.json` in
//! `$GOLDEN_DIR`, and prints one line per file:
//! `golden <file>: <N> cases, <B> bitwise, max ulp <U> (f64 <n64>/<b64>, f32 <n32>/<b32> max ulp <u32>)`.
//!
//! - transformers and timm (float64): every row through the stepping interface and the
//!   closed form, every group. Bitwise with the `std-math` feature (glibc, as Python);
//!   at most `NO_STD_ULP_BUDGET` ulp with the pure `no_std` math.
//! - optax (float32): `schedule(count)` for every recorded count, through the closed form
//!   in f32 and the stepping interface. Bitwise where no transcendental is involved; at
//!   most `OPTAX_F32_ULP_BUDGET` ulp of f32 elsewhere (XLA's own float32 `cos`/`pow`).
//! - every error case: a typed error naming a parameter the library's message names.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure
#![allow(missing_docs)]

use lrkit_tests::error_params::{named_parameters, names_one_of};
use sched_core::math::ulp_distance;
use sched_core::registry::{Library, find};
use sched_core::spec::{Value, build};
use sched_core::{ParamGroup, Scheduler};
use serde_json::Value as J;

const NO_STD_ULP_BUDGET: u64 = 2;
const OPTAX_F32_ULP_BUDGET: u64 = 2;
const STD_MATH: bool = cfg!(feature = "std-math");

fn leak<T>(v: Vec<T>) -> &'static [T] {
    Vec::leak(v)
}

fn leak_str(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

fn f64_hex(v: &J) -> f64 {
    f64::from_bits(u64::from_str_radix(v.as_str().unwrap(), 16).unwrap())
}

fn f32_hex(v: &J) -> f32 {
    f32::from_bits(u32::from_str_radix(v.as_str().unwrap(), 16).unwrap())
}

/// Distance in f32 ulps (0 for equal bits or both zero).
fn ulp32(a: f32, b: f32) -> u64 {
    if a.to_bits() == b.to_bits() || (a == 0.0 && b == 0.0) {
        return 0;
    }
    let key = |x: f32| -> i64 {
        let m = i64::from(x.to_bits() & 0x7fff_ffff);
        if x.is_sign_negative() { -m } else { m }
    };
    (key(a) - key(b)).unsigned_abs()
}

/// A JSON kwarg as a `Value`: floats from their exact bits where recorded, dicts keyed by
/// numbers (`boundaries_and_scales`) with int keys, `[name, kwargs]` pairs (the
/// `schedules` of `join_schedules`) as calls.
fn to_value(key: &str, v: &J, bits: Option<&J>) -> Value<'static> {
    match v {
        J::Null => Value::None,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64().filter(|_| !n.is_f64()) {
            Some(i) => Value::Int(i),
            None => Value::Float(
                bits.filter(|b| b.is_string()).map_or_else(|| n.as_f64().unwrap(), f64_hex),
            ),
        },
        J::String(s) => Value::Str(leak_str(s)),
        J::Array(items) if key == "schedules" => Value::List(leak(
            items
                .iter()
                .map(|pair| Value::Call {
                    name: leak_str(pair[0].as_str().unwrap()),
                    kwargs: leak(kwargs(&pair[1], None)),
                })
                .collect(),
        )),
        J::Array(items) => Value::List(leak(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| to_value(key, x, bits.and_then(|b| b.get(i))))
                .collect(),
        )),
        J::Object(o) => Value::Dict(leak(
            o.iter()
                .map(|(k, x)| {
                    let key_value = match k.parse::<i64>() {
                        Ok(i) => Value::Int(i),
                        Err(_) => Value::Str(leak_str(k)),
                    };
                    (key_value, to_value(k, x, bits.and_then(|b| b.get(k))))
                })
                .collect(),
        )),
    }
}

fn kwargs(kw: &J, bits: Option<&J>) -> Vec<(&'static str, Value<'static>)> {
    kw.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (leak_str(k), to_value(k, v, bits.and_then(|b| b.get(k)))))
        .collect()
}

fn groups(case: &J) -> Vec<ParamGroup> {
    match case.get("groups").and_then(J::as_array) {
        Some(gs) => gs
            .iter()
            .map(|g| {
                ParamGroup::new(g.get("lr_bits").map_or_else(|| g["lr"].as_f64().unwrap(), f64_hex))
            })
            .collect(),
        // optax has no parameter groups: its value is the lr of every group.
        None => vec![ParamGroup::new(1.0)],
    }
}

fn qualified(case: &J) -> String {
    format!("{}.{}", case["library"].as_str().unwrap(), case["name"].as_str().unwrap())
}

/// Whether an optax case's value involves `cos` or a float `pow` (XLA's own float32
/// approximations).
fn transcendental(name: &str, kw: &J) -> bool {
    match name {
        "cosine_decay_schedule"
        | "warmup_cosine_decay_schedule"
        | "sgdr_schedule"
        | "cosine_onecycle_schedule"
        | "exponential_decay"
        | "warmup_exponential_decay_schedule" => true,
        "piecewise_interpolate_schedule" => kw["interpolate_type"] == "cosine",
        "polynomial_schedule" => kw["power"].is_f64() && kw["power"].as_f64() != Some(1.0),
        "join_schedules" => kw["schedules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| transcendental(p[0].as_str().unwrap(), &p[1])),
        _ => false,
    }
}

#[derive(Default)]
struct Tally {
    cases: usize,
    bitwise: usize,
    max_ulp: u64,
    n64: usize,
    b64: usize,
    n32: usize,
    b32: usize,
    u32: u64,
}

/// transformers / timm: rows 0..=steps of every group through stepping and the closed
/// form. Returns the largest ulp distance.
fn check_f64(case: &J) -> u64 {
    let id = case["id"].as_str().unwrap();
    let mut gs = groups(case);
    let kw = kwargs(&case["kwargs"], case.get("kwargs_bits"));
    let mut s: Scheduler<'static> =
        build(&qualified(case), &kw, &mut gs).unwrap_or_else(|e| panic!("{id}: {e}"));
    let rows = case["lrs_bits"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        usize::try_from(case["steps"].as_u64().unwrap()).unwrap() + 1,
        "{id}: rows"
    );
    let mut worst = 0;
    for (t, row) in rows.iter().enumerate() {
        if t > 0 {
            s.step(&mut gs).unwrap_or_else(|e| panic!("{id} step {t}: {e}"));
        }
        for (g, want) in row.as_array().unwrap().iter().enumerate() {
            let want = f64_hex(want);
            let stepped = gs[g].lr;
            let closed = s.lr_at(g, t as u64).unwrap();
            // The f32 evaluation (microcontrollers) within the README's bound of the f64 one:
            // |lr32 - lr64| <= (8 + t) * 2^-23 * (|lr| + base_lr).
            let lr32 = f64::from(s.lr_at_f32(g, t as u64).unwrap());
            let base = case["groups"][g]["lr"].as_f64().unwrap().abs();
            let rows = f64::from(u32::try_from(t).unwrap());
            let bound = (8.0 + rows) * f64::from(f32::EPSILON) * (closed.abs() + base);
            assert!(
                (lr32 - closed).abs() <= bound,
                "{id} row {t} group {g}: f32 {lr32:e} vs f64 {closed:e} (bound {bound:e})"
            );
            assert_eq!(
                stepped.to_bits(),
                closed.to_bits(),
                "{id} row {t} group {g}: closed form vs stepping"
            );
            worst = worst.max(ulp_distance(stepped, want));
        }
    }
    let budget = if STD_MATH { 0 } else { NO_STD_ULP_BUDGET };
    assert!(worst <= budget, "{id}: {worst} ulp (budget {budget})");
    worst
}

/// optax: `schedule(count)` for every recorded count, closed form (f32) and stepping.
fn check_f32(case: &J) -> u64 {
    let id = case["id"].as_str().unwrap();
    let mut gs = groups(case);
    let kw = kwargs(&case["kwargs"], case.get("kwargs_bits"));
    let mut s = build(&qualified(case), &kw, &mut gs).unwrap_or_else(|e| panic!("{id}: {e}"));
    let mut worst = 0;
    for (c, want) in case["values_bits"].as_array().unwrap().iter().enumerate() {
        if c > 0 {
            s.step(&mut gs).unwrap();
        }
        let want = f32_hex(want);
        let closed = s.lr_at_f32(0, c as u64).unwrap();
        assert_eq!(
            f64::from(closed).to_bits(),
            gs[0].lr.to_bits(),
            "{id} count {c}: closed vs stepping"
        );
        let d = ulp32(closed, want);
        assert!(d <= OPTAX_F32_ULP_BUDGET, "{id} count {c}: {closed:e} vs {want:e}, {d} ulp");
        worst = worst.max(d);
    }
    if !transcendental(case["name"].as_str().unwrap(), &case["kwargs"]) {
        assert_eq!(worst, 0, "{id}: no transcendental, so it must be bitwise");
    }
    worst
}

fn check_error_case(ec: &J) {
    let id = ec["id"].as_str().unwrap();
    let message = ec["message"].as_str().unwrap();
    let mut gs = groups(ec);
    let kw = kwargs(&ec["kwargs"], ec.get("kwargs_bits"));
    let err = match build(&qualified(ec), &kw, &mut gs) {
        Ok(_) => panic!("{id}: the library raised {message:?} but sched-core built it"),
        Err(e) => e,
    };
    let params = named_parameters(&qualified(ec), message);
    assert!(!params.is_empty(), "{id}: {message:?} names no parameter of {}", qualified(ec));
    assert!(
        names_one_of(&err, &params),
        "{id}: {message:?} names {params:?}, sched-core said {err:?}"
    );
}

#[test]
fn golden_peer_schedule_vectors() {
    for file in lrkit_tests::golden_files("sched_peers") {
        let data: J = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let mut t = Tally::default();
        for case in data["cases"].as_array().unwrap() {
            let library = find(&qualified(case))
                .unwrap_or_else(|| panic!("{}: unknown schedule", qualified(case)))
                .library;
            let f32_case = case["precision"] == "f32";
            assert_eq!(f32_case, library == Library::Optax, "{}: precision", case["id"]);
            let ulp = if f32_case { check_f32(case) } else { check_f64(case) };
            t.cases += 1;
            t.bitwise += usize::from(ulp == 0);
            t.max_ulp = t.max_ulp.max(ulp);
            if f32_case {
                t.n32 += 1;
                t.b32 += usize::from(ulp == 0);
                t.u32 = t.u32.max(ulp);
            } else {
                t.n64 += 1;
                t.b64 += usize::from(ulp == 0);
            }
        }
        for ec in data["error_cases"].as_array().map_or(&[][..], Vec::as_slice) {
            check_error_case(ec);
        }
        let name = file.file_name().unwrap().to_string_lossy();
        println!(
            "golden {name}: {} cases, {} bitwise, max ulp {} (f64 {}/{}, f32 {}/{} max ulp {})",
            t.cases, t.bitwise, t.max_ulp, t.n64, t.b64, t.n32, t.b32, t.u32
        );
        if STD_MATH {
            assert_eq!(t.b64, t.n64, "with std math every float64 case must be bitwise");
        }
    }
}

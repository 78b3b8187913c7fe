//! Golden-vector parity for `sched-core`: every case recorded from PyTorch 2.11.
//!
//! Reads `tests/golden/sched_public.json` and every `sched_*.json` in `$GOLDEN_DIR`.
//! For each case: every `records.lrs` / `momentum` row after every step, the
//! closed-form rows, the resume round trip, the error cases (mapped to typed errors,
//! see `expected_error`), and the `libm_probe`. Unknown kinds or fields fail.
//!
//! With the `std-math` feature (default) every value must be bitwise equal; without it
//! (pure `libm`) at most `NO_STD_ULP_BUDGET` ulp.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure
#![allow(missing_docs)]

use std::collections::BTreeMap;

use lrkit_tests::error_params::{named_parameters, names_one_of};
use sched_core::math::{Real, ulp_distance};
use sched_core::spec::{Value, build, build_chained, build_sequential_with};
use sched_core::{LrLambda, ParamGroup, SchedError, Scheduler, SequentialLrInit, Snapshot};
use serde_json::Value as J;

const NO_STD_ULP_BUDGET: u64 = 2;
const STD_MATH: bool = cfg!(feature = "std-math");

fn f64_bits(v: &J) -> f64 {
    f64::from_bits(u64::from_str_radix(v.as_str().expect("bits string"), 16).expect("hex"))
}

fn leak<T>(v: Vec<T>) -> &'static mut [T] {
    Vec::leak(v)
}

/// JSON kwargs value -> `Value`, preferring the exact bits sibling for floats.
fn to_value(v: &J, bits: Option<&J>) -> Value<'static> {
    match v {
        J::Null => Value::None,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => {
            if let Some(i) = n.as_i64().filter(|_| !n.is_f64()) {
                Value::Int(i)
            } else {
                Value::Float(bits.map_or_else(|| n.as_f64().unwrap(), f64_bits))
            }
        }
        J::String(s) => Value::Str(Box::leak(s.clone().into_boxed_str())),
        J::Array(items) => {
            let list: Vec<Value<'static>> = items
                .iter()
                .enumerate()
                .map(|(i, x)| to_value(x, bits.and_then(|b| b.as_array()).and_then(|b| b.get(i))))
                .collect();
            Value::List(leak(list))
        }
        J::Object(o) => Value::Lambda(to_lambda(o)),
    }
}

fn to_lambda(o: &serde_json::Map<String, J>) -> LrLambda {
    let fl = |name: &str| {
        o.get(&format!("{name}_bits")).map_or_else(|| o[name].as_f64().unwrap(), f64_bits)
    };
    let int = |name: &str| o[name].as_i64().unwrap();
    match o["kind"].as_str().unwrap() {
        "constant" => LrLambda::Constant(fl("value")),
        "pow" => LrLambda::Pow(fl("base")),
        "floordiv" => LrLambda::FloorDiv(int("divisor")),
        "linear_warmup" => LrLambda::LinearWarmup(int("warmup")),
        "step_pow" => LrLambda::StepPow { gamma: fl("gamma"), every: int("every") },
        other => panic!("unknown lr_lambda kind {other}"),
    }
}

fn kwargs(spec: &J) -> Vec<(&'static str, Value<'static>)> {
    let bits = spec.get("kwargs_bits");
    let mut out = Vec::new();
    if let Some(o) = spec.get("kwargs").and_then(J::as_object) {
        for (k, v) in o {
            let name: &'static str = if k == "lr_lambda_raw" {
                "lr_lambda"
            } else {
                Box::leak(k.clone().into_boxed_str())
            };
            out.push((name, to_value(v, bits.and_then(|b| b.get(k)))));
        }
    }
    out
}

std::thread_local! {
    /// The SequentialLR construction of the PyTorch release the file being checked was
    /// recorded with (its `meta.torch_version`).
    static RECORDED_WITH: core::cell::Cell<SequentialLrInit> =
        const { core::cell::Cell::new(SequentialLrInit::ActiveAtZero) };
}

/// `SequentialLrInit::of_torch` of a `meta.torch_version` such as `"2.11.0+cu130"`.
fn init_of(torch_version: &str) -> SequentialLrInit {
    let mut parts = torch_version.split(['.', '+']).map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    SequentialLrInit::of_torch(major, minor)
}

/// Builds a spec tree (children first, in order, on the same groups), as PyTorch does.
fn build_spec(spec: &J, groups: &mut [ParamGroup]) -> Result<Scheduler<'static>, SchedError> {
    let ty = spec["type"].as_str().unwrap();
    for key in spec.as_object().unwrap().keys() {
        assert!(
            ["type", "kwargs", "kwargs_bits", "kwargs_full", "schedulers", "step_plan"]
                .contains(&key.as_str()),
            "unknown spec field {key}"
        );
    }
    match ty {
        "SequentialLR" | "ChainedScheduler" => {
            let mut children = Vec::new();
            for c in spec["schedulers"].as_array().unwrap() {
                children.push(build_spec(c, groups)?);
            }
            let children = leak(children);
            let kw = kwargs(spec);
            if ty == "SequentialLR" {
                build_sequential_with(children, &kw, RECORDED_WITH.get(), groups)
            } else {
                build_chained(children, &kw, groups)
            }
        }
        _ => build(ty, &kwargs(spec), groups),
    }
}

fn case_groups(case: &J) -> Vec<ParamGroup> {
    let default_m =
        case.get("optimizer").and_then(|o| o.get("momentum")).and_then(J::as_f64).unwrap_or(0.0);
    // 0-dim float32 Tensor lrs (SPEC §3.3): f32 scheduler arithmetic.
    let tensor = case.get("lr_is_tensor").and_then(J::as_bool).unwrap_or(false);
    case["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            // Error cases carry plain numbers only; traces carry the exact bits.
            let num = |name: &str| -> Option<f64> {
                g.get(format!("{name}_bits"))
                    .map(f64_bits)
                    .or_else(|| g.get(name).and_then(J::as_f64))
            };
            let lr = num("lr").unwrap();
            let mut group = if tensor { ParamGroup::tensor(lr) } else { ParamGroup::new(lr) };
            group.initial_lr = num("initial_lr");
            group.momentum = Some(num("momentum").unwrap_or(default_m));
            group
        })
        .collect()
}

/// The system under test for one case: a single scheduler or a "Compound" list.
struct Run {
    scheds: Vec<Scheduler<'static>>,
}

impl Run {
    fn new(case: &J, groups: &mut [ParamGroup]) -> Result<Self, SchedError> {
        let spec = &case["spec"];
        if spec["type"] == "Compound" {
            let mut scheds = Vec::new();
            for s in spec["schedulers"].as_array().unwrap() {
                scheds.push(build_spec(s, groups)?);
            }
            Ok(Self { scheds })
        } else {
            Ok(Self { scheds: vec![build_spec(spec, groups)?] })
        }
    }

    fn step(&mut self, case: &J, t: usize, groups: &mut [ParamGroup]) -> Result<(), SchedError> {
        let metric = case.get("metrics_bits").map(|m| f64_bits(&m[t]));
        let epoch = match (case.get("step_epochs_bits"), case.get("step_epochs")) {
            (Some(bits), _) => Some(&bits[t]).filter(|e| !e.is_null()).map(f64_bits),
            (None, Some(plain)) => plain[t].as_f64(),
            (None, None) => None,
        };
        let plan: Vec<usize> = match case["spec"].get("step_plan") {
            Some(p) => p[t]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| usize::try_from(i.as_u64().unwrap()).unwrap())
                .collect(),
            None => (0..self.scheds.len()).collect(),
        };
        for i in plan {
            let s = &mut self.scheds[i];
            match (s, epoch) {
                (s @ Scheduler::Plateau(_), _) => {
                    s.step_with_metric(metric.expect("metric"), groups)?
                }
                (s, Some(e)) => s.step_epoch(e, groups)?,
                (s, None) => s.step(groups)?,
            }
        }
        Ok(())
    }

    fn last_epoch(&self) -> i64 {
        self.scheds[0].last_epoch()
    }
}

#[derive(Default)]
struct Tally {
    cases: usize,
    bitwise: usize,
    max_ulp: u64,
    values: usize,
    closed_vs_chain: BTreeMap<String, u64>,
    tensor_lr_cases: usize,
}

/// Compares one value; returns its ulp distance.
fn cmp(
    tally_ulp: &mut u64,
    got: f64,
    want: f64,
    what: &dyn Fn() -> String,
    lr_is_tensor: bool,
) -> u64 {
    if lr_is_tensor {
        // PyTorch stores tensor lrs in f32: so must we (bitwise, no rounding here).
        #[allow(clippy::cast_possible_truncation)] // the check: rounding to f32 changes nothing
        let rounded = got as f32;
        assert_eq!(f64::from(rounded).to_bits(), got.to_bits(), "{}: not an f32 value", what());
    }
    let d = ulp_distance(got, want);
    *tally_ulp = (*tally_ulp).max(d);
    let budget = if STD_MATH { 0 } else { NO_STD_ULP_BUDGET };
    if !STD_MATH && d > budget && std::env::var_os("SCHED_GOLDEN_SURVEY").is_some() {
        println!("over budget: {}: {d} ulp", what());
        return d;
    }
    assert!(
        d <= budget,
        "{}: got {got:e} ({:016x}) want {want:e} ({:016x}), {d} ulp",
        what(),
        got.to_bits(),
        want.to_bits()
    );
    d
}

const CASE_FIELDS: &[&str] = &[
    "id",
    "kind",
    "source",
    "spec",
    "groups",
    "optimizer",
    "lr_is_tensor",
    "steps",
    "metrics",
    "metrics_bits",
    "step_epochs",
    "step_epochs_bits",
    "resume_at",
    "probe_extra_step",
    "record_momentum",
    "records",
    "error",
    "extra_step",
    "closed_form_error",
    "closed_form_vs_chainable",
    "warnings",
    "resume",
];

fn check_case(case: &J, tally: &mut Tally) {
    let id = case["id"].as_str().unwrap().to_owned();
    for key in case.as_object().unwrap().keys() {
        assert!(CASE_FIELDS.contains(&key.as_str()), "{id}: unknown case field {key}");
    }
    let tensor = case.get("lr_is_tensor").and_then(J::as_bool).unwrap_or(false);
    tally.tensor_lr_cases += usize::from(tensor);
    let mut case_ulp = 0u64;
    let mut groups = case_groups(case);
    let mut run =
        Run::new(case, &mut groups).unwrap_or_else(|e| panic!("{id}: construction failed: {e}"));
    let rec = &case["records"];
    let steps = usize::try_from(case["steps"].as_u64().unwrap()).unwrap();
    let lrs = rec["lrs_bits"].as_array().unwrap();
    let moms = rec.get("momentum_bits").and_then(J::as_array);
    let closed = rec.get("closed_form_bits").and_then(J::as_array);
    let error_at =
        case["error"].get("at_step").and_then(J::as_u64).map(|s| usize::try_from(s).unwrap());
    for r in 0..=steps {
        if r > 0 {
            let res = run.step(case, r - 1, &mut groups);
            if error_at == Some(r) {
                assert!(res.is_err(), "{id}: step {r} must fail as in PyTorch");
                break;
            }
            res.unwrap_or_else(|e| panic!("{id}: step {r}: {e}"));
        }
        for (g, grp) in groups.iter().enumerate() {
            let what = || format!("{id} row {r} group {g} lr");
            case_ulp =
                case_ulp.max(cmp(&mut tally.max_ulp, grp.lr, f64_bits(&lrs[r][g]), &what, tensor));
            tally.values += 1;
            if let Some(m) = moms {
                let what = || format!("{id} row {r} group {g} momentum");
                case_ulp = case_ulp.max(cmp(
                    &mut tally.max_ulp,
                    grp.momentum.unwrap(),
                    f64_bits(&m[r][g]),
                    &what,
                    false,
                ));
                tally.values += 1;
            }
            let e = u64::try_from(run.last_epoch()).unwrap();
            if let Some(row) = closed.map(|c| &c[r][g]).filter(|v| !v.is_null()) {
                let ours = run.scheds[0]
                    .lr_at(g, e)
                    .unwrap_or_else(|err| panic!("{id}: closed form: {err}"));
                let what = || format!("{id} row {r} group {g} closed form");
                case_ulp =
                    case_ulp.max(cmp(&mut tally.max_ulp, ours, f64_bits(row), &what, tensor));
                tally.values += 1;
            }
            // Closed form vs. what stepping produced (documentation of the ulp bounds).
            if clean_for_ulp_stats(case) {
                // A closed form of exactly 0 (LinearLR end_factor = 0) is approached but
                // never reached by the chain: ulps are meaningless there.
                if let Some(c) = run.scheds[0].lr_at(g, e).ok().filter(|c| *c != 0.0) {
                    let d = ulp_distance(c, grp.lr);
                    let entry =
                        tally.closed_vs_chain.entry(run.scheds[0].kind().to_owned()).or_default();
                    *entry = (*entry).max(d);
                }
            }
        }
    }
    if let Some(extra) = case.get("extra_step") {
        let res = run.step(case, steps, &mut groups);
        if extra["raised"].as_bool() == Some(true) {
            let err = res.expect_err("extra step must fail");
            assert!(
                matches!(err, SchedError::TotalStepsExceeded { .. }),
                "{id}: extra step: {err:?}"
            );
        } else {
            res.unwrap();
        }
    }
    if let Some(resume) = case.get("resume") {
        case_ulp = case_ulp.max(check_resume(case, resume, tally, tensor));
    }
    tally.cases += 1;
    if case_ulp == 0 {
        tally.bitwise += 1;
    }
}

/// Cases where stepping and the closed form describe the same schedule (fresh groups,
/// no resume offset, no explicit epochs, no compound use, no `total_iters = 0` quirk,
/// Python-float lrs),
/// so their distance measures rounding only.
fn clean_for_ulp_stats(case: &J) -> bool {
    let spec = &case["spec"];
    let fresh = case["groups"].as_array().unwrap().iter().all(|g| g.get("initial_lr").is_none());
    let kw = spec.get("kwargs");
    let resumed = kw.and_then(|k| k.get("last_epoch")).is_some();
    let quirk = spec["type"] == "ConstantLR"
        && kw.and_then(|k| k.get("total_iters")).and_then(J::as_i64) == Some(0);
    let tensor = case.get("lr_is_tensor").and_then(J::as_bool).unwrap_or(false);
    fresh
        && !resumed
        && !quirk
        && !tensor
        && spec["type"] != "Compound"
        && case.get("step_epochs").is_none()
}

/// Runs `at` steps, snapshots, rebuilds afresh, restores groups + snapshot, continues.
fn check_resume(case: &J, resume: &J, tally: &mut Tally, tensor: bool) -> u64 {
    let id = case["id"].as_str().unwrap();
    let at = usize::try_from(resume["at"].as_u64().unwrap()).unwrap();
    let mut groups = case_groups(case);
    let mut run = Run::new(case, &mut groups).unwrap();
    for t in 0..at {
        run.step(case, t, &mut groups).unwrap();
    }
    let saved_groups = groups.clone();
    let mut snaps = Vec::new();
    for s in &run.scheds {
        let mut buf = vec![Snapshot::default(); s.snapshot_len()];
        s.snapshot(&mut buf).unwrap();
        // Through bytes, as a device would keep it in flash.
        let bytes: Vec<u8> = buf.iter().flat_map(|b| b.as_bytes().to_vec()).collect();
        snaps.push(bytes.chunks(48).map(|c| Snapshot::from_bytes(c).unwrap()).collect::<Vec<_>>());
    }
    drop(run);
    let mut groups = case_groups(case);
    let mut fresh = Run::new(case, &mut groups).unwrap();
    groups = saved_groups;
    for (s, snap) in fresh.scheds.iter_mut().zip(&snaps) {
        s.restore(snap).unwrap();
    }
    let rows = resume["lrs_bits"].as_array().unwrap();
    let mut worst = 0;
    for (j, row) in rows.iter().enumerate() {
        if j > 0 {
            fresh.step(case, at + j - 1, &mut groups).unwrap();
        }
        for (g, grp) in groups.iter().enumerate() {
            let what = || format!("{id} resume row {j} group {g}");
            worst = worst.max(cmp(&mut tally.max_ulp, grp.lr, f64_bits(&row[g]), &what, tensor));
        }
    }
    worst
}

/// PyTorch exception messages that name no parameter of the scheduler (or name it in
/// other words) -> the typed error we return (see the crate docs: we reject at
/// construction what PyTorch fails on later). Messages that do name a parameter are
/// matched by it instead (`error_params`), so a new PyTorch wording needs no entry here.
fn expected_error(message: &str, kind: &str) -> Option<fn(&SchedError) -> bool> {
    use SchedError as E;
    macro_rules! m {
        ($p:pat) => {
            |e: &SchedError| matches!(e, $p)
        };
    }
    type Matcher = fn(&SchedError) -> bool;
    let table: &[(&str, &str, Matcher)] = &[
        ("Constant multiplicative factor", "", m!(E::OutOfRange { param: "factor", .. })),
        ("float division by zero", "ConstantLR", m!(E::OutOfRange { param: "factor", .. })),
        ("Starting multiplicative factor", "", m!(E::OutOfRange { param: "start_factor", .. })),
        ("Ending multiplicative factor", "", m!(E::OutOfRange { param: "end_factor", .. })),
        ("integer modulo by zero", "StepLR", m!(E::ZeroPeriod { param: "step_size" })),
        ("integer modulo by zero", "CosineAnnealingLR", m!(E::ZeroPeriod { param: "T_max" })),
        (
            "Expected positive integer T_0",
            "",
            m!(E::OutOfRange { param: "T_0", .. } | E::NotAnInteger { param: "T_0", .. }),
        ),
        (
            "Expected integer T_mult",
            "",
            m!(E::OutOfRange { param: "T_mult", .. } | E::NotAnInteger { param: "T_mult", .. }),
        ),
        ("Expected float or int eta_min", "", m!(E::WrongType { param: "eta_min", .. })),
        ("Expected non-negative epoch", "", m!(E::NegativeEpoch { .. })),
        ("mode is invalid", "", m!(E::UnknownChoice { param: "mode", .. })),
        ("base_lr must have the same length", "", m!(E::GroupListLength { param: "base_lr", .. })),
        ("float division by zero", "CyclicLR", m!(E::ZeroLengthPhase { .. })),
        ("float division by zero", "OneCycleLR", m!(E::ZeroLengthPhase { .. })),
        ("You must define either total_steps", "", m!(E::MissingParameter { .. })),
        (
            "Expected positive integer total_steps",
            "",
            m!(E::OutOfRange { param: "total_steps", .. }),
        ),
        ("Expected positive integer epochs", "", m!(E::OutOfRange { param: "epochs", .. })),
        (
            "Expected float between 0 and 1 pct_start",
            "",
            m!(E::OutOfRange { param: "pct_start", .. } | E::WrongType { param: "pct_start", .. }),
        ),
        (
            "anneal_strategy must be one of",
            "",
            m!(E::UnknownChoice { param: "anneal_strategy", .. }),
        ),
        ("max_lr must have the same length", "", m!(E::GroupListLength { param: "max_lr", .. })),
        ("Tried to step", "", m!(E::TotalStepsExceeded { .. })),
        ("cannot be raised to a negative power", "", m!(E::OutOfRange { param: "power", .. })),
        ("Factor should be < 1.0", "", m!(E::OutOfRange { param: "factor", .. })),
        ("threshold mode", "", m!(E::UnknownChoice { param: "threshold_mode", .. })),
        ("is unknown!", "", m!(E::UnknownChoice { param: "mode", .. })),
        ("min_lrs, got", "", m!(E::GroupListLength { param: "min_lr", .. })),
        ("lr_lambdas, but got", "", m!(E::GroupListLength { param: "lr_lambda", .. })),
        ("expects number of schedulers provided", "", m!(E::MilestoneCount { .. })),
        ("expects at least one scheduler", "", m!(E::EmptyComposite)),
        ("does not support `ReduceLROnPlateau`", "", m!(E::PlateauInComposite)),
        ("'initial_lr' is not specified", "", m!(E::MissingInitialLr { .. })),
        ("lr_lambda should be a function", "", m!(E::WrongType { param: "lr_lambda", .. })),
    ];
    table
        .iter()
        .find(|(msg, k, _)| message.contains(msg) && (k.is_empty() || *k == kind))
        .map(|(_, _, f)| *f)
}

fn check_error_case(ec: &J) -> SchedError {
    let id = ec["id"].as_str().unwrap();
    let message = ec["message"].as_str().unwrap();
    let kind = ec["spec"]["type"].as_str().unwrap();
    let params = named_parameters(kind, message);
    let table = expected_error(message, kind);
    assert!(
        !params.is_empty() || table.is_some(),
        "{}: PyTorch error {message:?} ({kind}) names no parameter and has no mapping",
        ec["id"]
    );
    let want = |e: &SchedError| names_one_of(e, &params) || table.is_some_and(|f| f(e));
    let mut groups = case_groups(ec);
    let err = match Run::new(ec, &mut groups) {
        Err(e) => e,
        Ok(mut run) => {
            let at = ec.get("raises_at_step").and_then(J::as_u64).unwrap_or_else(|| {
                panic!("{id}: PyTorch raised at construction ({message}) but we built it")
            });
            let at = usize::try_from(at).unwrap();
            let mut err = None;
            for t in 0..at {
                if let Err(e) = run.step(ec, t, &mut groups) {
                    err = Some(e);
                    break;
                }
            }
            err.unwrap_or_else(|| panic!("{id}: expected an error by step {at}: {message}"))
        }
    };
    assert!(
        want(&err),
        "{id}: PyTorch {message:?} mapped to {err:?}, which is not the expected typed error"
    );
    err
}

fn check_probe(probe: &J) -> (usize, usize, u64) {
    let (mut n, mut bitwise, mut worst) = (0, 0, 0);
    for (name, f) in [("cos", Real::cos as fn(f64) -> f64), ("log", Real::ln as fn(f64) -> f64)] {
        for pair in probe[name].as_array().unwrap() {
            let (x, want) = (f64_bits(&pair[0]), f64_bits(&pair[1]));
            let d = ulp_distance(f(x), want);
            n += 1;
            bitwise += usize::from(d == 0);
            worst = worst.max(d);
            let budget = if STD_MATH { 0 } else { NO_STD_ULP_BUDGET };
            assert!(d <= budget, "libm_probe {name}({x:e}): {d} ulp");
        }
    }
    (n, bitwise, worst)
}

#[test]
fn golden_scheduler_vectors() {
    for file in lrkit_tests::golden_files("sched") {
        let data: J = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for key in data.as_object().unwrap().keys() {
            assert!(
                ["meta", "cases", "error_cases", "libm_probe"].contains(&key.as_str()),
                "unknown top-level field {key}"
            );
        }
        RECORDED_WITH.set(init_of(data["meta"]["torch_version"].as_str().unwrap()));
        let mut tally = Tally::default();
        for case in data["cases"].as_array().unwrap() {
            check_case(case, &mut tally);
        }
        let errors = data["error_cases"].as_array().map_or(0, |e| {
            e.iter().for_each(|ec| {
                check_error_case(ec);
            });
            e.len()
        });
        let (probes, probe_bitwise, probe_ulp) =
            data.get("libm_probe").map_or((0, 0, 0), check_probe);
        let name = file.file_name().unwrap().to_string_lossy();
        println!(
            "golden {name}: {} cases, {} bitwise, max ulp {} ({} values; {} error cases; libm probe {}/{} bitwise, max ulp {}; math: {})",
            tally.cases,
            tally.bitwise,
            tally.max_ulp,
            tally.values,
            errors,
            probe_bitwise,
            probes,
            probe_ulp,
            if STD_MATH { "std" } else { "libm" }
        );
        println!(
            "  of which {} with 0-dim float32 Tensor lrs (f32 scheduler arithmetic)",
            tally.tensor_lr_cases
        );
        for (kind, ulp) in &tally.closed_vs_chain {
            println!("  closed form vs stepping, {kind}: max {ulp} ulp");
        }
        if STD_MATH {
            assert_eq!(tally.bitwise, tally.cases, "with std math every case must be bitwise");
        }
    }
}

/// A PyTorch message this file has no table entry for still checks the typed error, by
/// the parameter it names (here a wording of OneCycleLR's `steps_per_epoch` check).
#[test]
fn unseen_pytorch_messages_map_by_parameter() {
    let message = "Expected positive integer steps_per_epoch, but got -1";
    assert!(expected_error(message, "OneCycleLR").is_none());
    let params = named_parameters("OneCycleLR", message);
    assert_eq!(params, ["steps_per_epoch"]);
    let kw = [
        ("max_lr", Value::Float(0.1)),
        ("epochs", Value::Int(3)),
        ("steps_per_epoch", Value::Int(-1)),
    ];
    let err = build("OneCycleLR", &kw, &mut [ParamGroup::new(0.1)]).unwrap_err();
    assert!(names_one_of(&err, &params), "{err:?}");
    // The wrong parameter does not pass.
    assert!(!names_one_of(&err, &["epochs"]));
}

/// The recorded release picks SequentialLR's construction: 2.11 and 2.12 the first child,
/// 2.13 on the child active at step 0.
#[test]
fn the_recorded_torch_version_picks_the_sequential_construction() {
    assert_eq!(init_of("2.11.0+cu130"), SequentialLrInit::First);
    assert_eq!(init_of("2.12.1"), SequentialLrInit::First);
    assert_eq!(init_of("2.13.0"), SequentialLrInit::ActiveAtZero);
    assert_eq!(init_of("2.15.0+cu132"), SequentialLrInit::ActiveAtZero);
}

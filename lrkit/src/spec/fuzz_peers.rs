//! Fuzzing the peer families' arithmetic against Python (`cargo test`, `FUZZ_SECONDS=N` in
//! CI): random transformers and timm schedules and optax onecycle schedules with extreme
//! arguments (0, -0.0, subnormals, 1e308, huge exponents), each checked against its library's
//! Python formula written as a Python lambda body and run by sched-core's evaluator of Python
//! (`LambdaProgram`, CPython's float semantics and exceptions). For every epoch, the learning
//! rate lrkit computes is bitwise Python's (non-finite where Python's is, and only there), or,
//! where Python raises, the step (or the construction) fails with the same exception, naming
//! a parameter. optax's values are float32 `jnp` arithmetic, which never raises: there only the
//! Python-level arithmetic of construction is checked (`peak_value / div_factor`, `int(...)`),
//! and every step must give a value.

use sched_core::{LambdaProgram, ParamGroup, PyException, SchedError};

use super::SpecSource;
use super::fuzz::{Rng, Tally, run};
use super::schedule::StepError;
use crate::py_float::repr;
use crate::torch_release::TorchRelease;

/// Epochs each schedule runs.
const EPOCHS: usize = 24;

/// Floats that stress Python's raising operations.
const FLOATS: &[f64] = &[
    0.0, -0.0, 0.5, 1.0, 2.0, -1.5, 0.1, 3.0, 1e-10, 1e-300, 5e-324, 1e300, 1e308, -1e308, 400.0,
    -400.0, 40.0, -7.0, 1e154, 0.999,
];

/// Step counts.
const INTS: &[i64] = &[0, 1, 2, 3, 5, 10, 1000, 1 << 40];

fn float(rng: &mut Rng) -> String {
    repr(FLOATS[rng.below(FLOATS.len())])
}

fn int(rng: &mut Rng) -> i64 {
    INTS[rng.below(INTS.len())]
}

/// A random schedule: its spec, and its lr at epoch `t` (the parameter) as a Python body.
fn transformers(rng: &mut Rng) -> (String, String) {
    let (w, n, c, r) = (int(rng), int(rng), float(rng), float(rng));
    let warm = format!("float(t) / float(max(1, {w})) if t < {w} else ");
    let progress = format!("(float(t - {w}) / float(max(1, {n} - {w})))");
    let cosine =
        |c: &str, p: &str| format!("0.5 * (1.0 + math.cos(math.pi * float(({c})) * 2.0 * {p}))");
    let name = "transformers.get_";
    match rng.below(8) {
        0 => (
            format!(
                "{name}linear_schedule_with_warmup(num_warmup_steps={w}, num_training_steps={n})"
            ),
            format!("{warm}max(0.0, float({n} - t) / float(max(1, {n} - {w})))"),
        ),
        1 => (
            format!(
                "{name}cosine_schedule_with_warmup(num_warmup_steps={w}, num_training_steps={n}, num_cycles={c})"
            ),
            format!("{warm}max(0, {} * (1 - 0.0) + 0.0)", cosine(&c, &progress)),
        ),
        2 => (
            format!(
                "{name}cosine_with_min_lr_schedule_with_warmup(num_warmup_steps={w}, num_training_steps={n}, num_cycles={c}, min_lr_rate={r})"
            ),
            format!("{warm}max(0, {} * (1 - ({r})) + ({r}))", cosine(&c, &progress)),
        ),
        3 => (
            format!(
                "{name}cosine_with_hard_restarts_schedule_with_warmup(num_warmup_steps={w}, num_training_steps={n}, num_cycles={c})"
            ),
            format!(
                "{warm}(0.0 if {progress} >= 1.0 else max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((float(({c})) * {progress}) % 1.0)))))"
            ),
        ),
        4 => {
            let (end, power) = (float(rng), float(rng));
            (
                format!(
                    "{name}polynomial_decay_schedule_with_warmup(num_warmup_steps={w}, num_training_steps={n}, lr_end={end}, power={power})"
                ),
                format!(
                    "{warm}(({end}) / 0.1 if t > {n} else ((0.1 - ({end})) * (1 - (t - {w}) / ({n} - {w})) ** ({power}) + ({end})) / 0.1)"
                ),
            )
        }
        5 => {
            let s = int(rng);
            (
                format!("{name}inverse_sqrt_schedule(num_warmup_steps={w}, timescale={s})"),
                format!("{warm}1.0 / math.sqrt((t + ({s} - {w})) / {s})"),
            )
        }
        6 => (
            format!(
                "{name}cosine_with_min_lr_schedule_with_warmup_lr_rate(num_warmup_steps={w}, num_training_steps={n}, num_cycles={c}, min_lr_rate={r})"
            ),
            format!(
                "(float(t) + 1.) / max(1., float({w})) if t < {w} else max(0, 0.5 * (1.0 + math.cos(math.pi * ({c}) * 2.0 * ((float(t) - float({w}) + 1.) / max(1., float({n}) - float({w}))))) * (1 - ({r})) + ({r}))"
            ),
        ),
        _ => {
            let (s, d, kind) = (int(rng), int(rng), rng.pick(&["linear", "cosine", "1-sqrt"]));
            // Sums of ints and `1.0 - r` are the same in Rust (exact, IEEE): written as
            // literals, to keep the body within the evaluator's 64 instructions.
            let (ws, wsd, md) = (w + s, w + s + d, d.max(1));
            let one_r = repr(1.0 - r.parse::<f64>().unwrap_or(0.0));
            let p = format!("(float(t - {ws}) / float({md}))");
            let f = match kind {
                "linear" => format!("1.0 - {p}"),
                "cosine" => cosine(&c, &p),
                _ => format!("1.0 - math.sqrt({p})"),
            };
            (
                format!(
                    "{name}wsd_schedule(num_warmup_steps={w}, num_stable_steps={s}, num_decay_steps={d}, decay_type='{kind}', min_lr_ratio={r}, num_cycles={c})"
                ),
                format!(
                    "max(0.0, float(t) / float({}) * ({one_r}) + ({r})) if t < {w} else (1.0 if t < {ws} else (max(0.0, ({f}) * ({one_r}) + ({r})) if t < {wsd} else ({r})))",
                    w.max(1)
                ),
            )
        }
    }
}

/// A random timm schedule (`cycle_mul = 1`, no warmup, base lr 0.1): its spec and its lr.
fn timm(rng: &mut Rng) -> (String, String) {
    let t_initial = [1, 2, 3, 10, 1000][rng.below(5)];
    let (m, g, k) = (rng.pick(&["0.0", "0.01", "1e-300"]), float(rng), float(rng));
    let limit = [1, 2, 1000][rng.below(3)];
    let i = format!("(t // {t_initial})");
    let cur = format!("(t - {t_initial} * {i})");
    // timm computes `gamma` before the `cycle_limit` test in the cosine and the poly:
    // `... if (gamma != 0 or True) else 0` evaluates it first, and always takes the value.
    let gamma_first = |body: String| format!("({body}) if (({g}) ** {i} != 0 or True) else 0");
    let cycles = format!("t_initial={t_initial}, lr_min={m}, cycle_decay={g}, cycle_limit={limit}");
    match rng.below(5) {
        0 => (
            format!("timm.CosineLRScheduler({cycles}, k_decay={k})"),
            gamma_first(format!(
                "({m}) + 0.5 * (0.1 * ({g}) ** {i} - ({m})) * (1 + math.cos(math.pi * {cur} ** ({k}) / {t_initial} ** ({k}))) if {i} < {limit} else ({m})"
            )),
        ),
        1 => {
            let (lb, ub) =
                (rng.pick(&["-7.0", "-1e308", "0.5"]), rng.pick(&["3.0", "1e308", "400.0"]));
            (
                format!("timm.TanhLRScheduler({cycles}, lb={lb}, ub={ub})"),
                format!(
                    "({m}) + 0.5 * (0.1 * ({g}) ** {i} - ({m})) * (1 - math.tanh(({lb}) * (1. - {cur} / {t_initial}) + ({ub}) * ({cur} / {t_initial}))) if {i} < {limit} else ({m})"
                ),
            )
        }
        2 => {
            let power = float(rng);
            (
                format!("timm.PolyLRScheduler({cycles}, power={power}, k_decay={k})"),
                gamma_first(format!(
                    "({m}) + (0.1 * ({g}) ** {i} - ({m})) * (1 - {cur} ** ({k}) / {t_initial} ** ({k})) ** ({power}) if {i} < {limit} else ({m})"
                )),
            )
        }
        3 => {
            let decay_t = rng.pick(&["1.0", "2.5", "-2.0", "1e-300", "3"]);
            (
                format!("timm.StepLRScheduler(decay_t={decay_t}, decay_rate={g})"),
                format!("0.1 * (({g}) ** (t // ({decay_t})))"),
            )
        }
        _ => (
            format!("timm.MultiStepLRScheduler(decay_t=[2, 5], decay_rate={g})"),
            format!("0.1 * (({g}) ** ((2 <= t + 1) + (5 <= t + 1)))"),
        ),
    }
}

/// Runs `spec` for [`EPOCHS`] epochs against `oracle`, the lr at `t` as a Python body.
fn check(spec: &str, oracle: &str, timm: bool, tally: &mut Tally) {
    tally.inputs += 1;
    let program = LambdaProgram::compile("t", oracle)
        .unwrap_or_else(|e| panic!("oracle of {spec} does not compile: {e}: {oracle}"));
    let source = SpecSource { text: spec.to_string(), file: None, torch: TorchRelease::CURRENT };
    let expected = |t: usize| -> Result<f64, PyException> {
        if timm && t == 0 {
            // timm's row 0 is the base value: its constructor computes no formula.
            return Ok(0.1);
        }
        let t = i64::try_from(t).unwrap_or(i64::MAX);
        // transformers' lr is `base_lr * λ(t)` (LambdaLR); timm's is the formula itself.
        program.factor(t).map(|v| if timm { v } else { 0.1 * v })
    };
    let mut groups = [ParamGroup::new(0.1)];
    let mut sched = match source.build(&mut groups) {
        Ok(s) => s,
        Err(e) => {
            tally.errors += 1;
            // A construction error is Python's raise at step 0, or a check of arguments
            // that Python makes (or that fail at some later step): never a raise Python
            // does not make at step 0.
            if let super::SpecErrorKind::Invalid {
                error: SchedError::PythonRaised { exception, .. },
                ..
            } = e.kind
            {
                assert_eq!(expected(0), Err(exception), "{spec}: construction");
            }
            return;
        }
    };
    tally.schedules += 1;
    for t in 0..EPOCHS {
        if t > 0 {
            match sched.step(t - 1, None, &mut groups) {
                Ok(()) => {}
                Err(StepError::Sched(SchedError::PythonRaised { exception, .. })) => {
                    assert_eq!(expected(t), Err(exception), "{spec}: step {t}");
                    return;
                }
                Err(e) => panic!("{spec}: step {t}: {e} (Python: {:?})", expected(t)),
            }
        }
        match expected(t) {
            Ok(v) => assert!(
                groups[0].lr.to_bits() == v.to_bits() || (v.is_nan() && groups[0].lr.is_nan()),
                "{spec}: epoch {t}: {} where Python has {}",
                repr(groups[0].lr),
                repr(v)
            ),
            Err(e) if t == 0 => panic!("{spec}: built where Python raises {e} at step 0"),
            Err(e) => panic!("{spec}: stepped to {t} where Python raises {e}"),
        }
    }
}

/// optax's onecycle schedules: the Python-level arithmetic of construction, in Python's
/// order, as one Python expression each; then every step gives a value.
fn onecycle(rng: &mut Rng, tally: &mut Tally) {
    tally.inputs += 1;
    let (steps, peak, pct, div, fin) =
        (1 + rng.below(20), float(rng), float(rng), float(rng), float(rng));
    let linear = rng.below(2) == 0;
    let (spec, exprs) = if linear {
        (
            format!(
                "optax.linear_onecycle_schedule({steps}, {peak}, pct_start={pct}, div_factor={div}, final_div_factor={fin})"
            ),
            vec![
                format!("({peak}) / ({div})"),
                format!("int(({pct}) * {steps})"),
                format!("1.0 / ({div})"),
                format!("int(0.85 * {steps})"),
                format!("1.0 / ({fin})"),
            ],
        )
    } else {
        (
            format!(
                "optax.cosine_onecycle_schedule({steps}, {peak}, pct_start={pct}, div_factor={div}, final_div_factor={fin})"
            ),
            vec![
                format!("({peak}) / ({div})"),
                format!("int(({pct}) * {steps})"),
                format!("1.0 / (({div}) * ({fin}))"),
            ],
        )
    };
    let python = exprs.iter().find_map(|x| {
        let p = LambdaProgram::compile("t", x).unwrap_or_else(|e| panic!("{x}: {e}"));
        p.call(0).err()
    });
    let source = SpecSource { text: spec.clone(), file: None, torch: TorchRelease::CURRENT };
    let mut groups = [ParamGroup::new(0.1)];
    match (source.build(&mut groups), python) {
        (Err(e), Some(exception)) => {
            tally.errors += 1;
            let ok = matches!(e.kind, super::SpecErrorKind::Invalid { error: SchedError::PythonRaised { exception: x, .. }, .. } if x == exception);
            assert!(ok, "{spec}: Python raises {exception}, lrkit: {e}");
        }
        (Ok(_), Some(exception)) => panic!("{spec}: built where Python raises {exception}"),
        (Err(e), None) => {
            tally.errors += 1;
            // optax's own checks (negative scales) and jax's int32 boundaries.
            assert!(
                !matches!(
                    e.kind,
                    super::SpecErrorKind::Invalid { error: SchedError::PythonRaised { .. }, .. }
                ),
                "{spec}: raised where Python does not: {e}"
            );
        }
        (Ok(mut sched), None) => {
            tally.schedules += 1;
            for t in 0..EPOCHS {
                let r = sched.step(t, None, &mut groups);
                assert!(r.is_ok(), "{spec}: step {t}: {r:?}");
            }
        }
    }
}

#[test]
fn fuzz_peer_arithmetic() {
    run("peer arithmetic", 7, |rng, tally| match rng.below(5) {
        0 | 1 => {
            let (spec, oracle) = transformers(rng);
            check(&spec, &oracle, false, tally);
        }
        2 | 3 => {
            let (spec, oracle) = timm(rng);
            check(&spec, &oracle, true, tally);
        }
        _ => onecycle(rng, tally),
    });
}

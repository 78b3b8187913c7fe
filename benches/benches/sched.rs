//! sched-core: ns per closed-form `lr(t)`, per `step()`, and the time to produce a
//! 1,000,000-step trace, for every scheduler.
//!
//! Run: `cargo bench -p lrkit-benches --bench sched`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is a failure
#![allow(missing_docs)]

use core::hint::black_box;
use core::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use sched_core::spec::{Value, build};
use sched_core::{LrLambda, ParamGroup, Scheduler};

/// Every leaf scheduler with a representative configuration.
fn configs() -> Vec<(&'static str, Vec<(&'static str, Value<'static>)>)> {
    vec![
        // 10 decays over the 1M-step range (past 64 decays `lr_at` calls `pow`, about +15 ns).
        ("StepLR", vec![("step_size", Value::Int(100_000)), ("gamma", Value::Float(0.5))]),
        (
            "MultiStepLR",
            vec![("milestones", Value::List(&[Value::Int(30), Value::Int(60), Value::Int(90)]))],
        ),
        ("ConstantLR", vec![("factor", Value::Float(0.5)), ("total_iters", Value::Int(10))]),
        ("LinearLR", vec![("start_factor", Value::Float(0.1)), ("total_iters", Value::Int(100))]),
        ("ExponentialLR", vec![("gamma", Value::Float(0.999_99))]),
        // PyTorch's default power 1.0; any other power adds one `pow` call (about 15 ns).
        ("PolynomialLR", vec![("total_iters", Value::Int(2_000_000))]),
        (
            "CosineAnnealingLR",
            vec![("T_max", Value::Int(1_000_000)), ("eta_min", Value::Float(1e-5))],
        ),
        (
            "LambdaLR",
            vec![("lr_lambda", Value::Lambda(LrLambda::StepPow { gamma: 0.5, every: 1000 }))],
        ),
        ("MultiplicativeLR", vec![("lr_lambda", Value::Lambda(LrLambda::Constant(0.999_999)))]),
        ("CosineAnnealingWarmRestarts", vec![("T_0", Value::Int(1000)), ("T_mult", Value::Int(2))]),
        (
            "CyclicLR",
            vec![
                ("base_lr", Value::Float(1e-3)),
                ("max_lr", Value::Float(0.1)),
                ("mode", Value::Str("triangular2")),
            ],
        ),
        ("OneCycleLR", vec![("max_lr", Value::Float(0.1)), ("total_steps", Value::Int(1_000_001))]),
        ("ReduceLROnPlateau", vec![("patience", Value::Int(5))]),
        // The peer families (transformers, timm, optax), over the same 1M-step range.
        (
            "transformers.get_cosine_schedule_with_warmup",
            vec![
                ("num_warmup_steps", Value::Int(1000)),
                ("num_training_steps", Value::Int(1_000_000)),
            ],
        ),
        (
            "transformers.get_wsd_schedule",
            vec![
                ("num_warmup_steps", Value::Int(1000)),
                ("num_decay_steps", Value::Int(200_000)),
                ("num_training_steps", Value::Int(1_000_000)),
            ],
        ),
        ("transformers.get_inverse_sqrt_schedule", vec![("num_warmup_steps", Value::Int(1000))]),
        (
            "timm.CosineLRScheduler",
            vec![
                ("t_initial", Value::Int(100_000)),
                ("cycle_limit", Value::Int(20)),
                ("warmup_t", Value::Int(1000)),
                ("warmup_lr_init", Value::Float(1e-4)),
            ],
        ),
        (
            "timm.TanhLRScheduler",
            vec![("t_initial", Value::Int(100_000)), ("cycle_limit", Value::Int(20))],
        ),
        (
            "timm.StepLRScheduler",
            vec![("decay_t", Value::Int(100_000)), ("decay_rate", Value::Float(0.5))],
        ),
        (
            "optax.warmup_cosine_decay_schedule",
            vec![
                ("init_value", Value::Float(0.0)),
                ("peak_value", Value::Float(0.1)),
                ("warmup_steps", Value::Int(1000)),
                ("decay_steps", Value::Int(1_000_000)),
            ],
        ),
        (
            "optax.linear_onecycle_schedule",
            vec![("transition_steps", Value::Int(1_000_000)), ("peak_value", Value::Float(0.1))],
        ),
        (
            "optax.exponential_decay",
            vec![
                ("init_value", Value::Float(0.1)),
                ("transition_steps", Value::Int(1000)),
                ("decay_rate", Value::Float(0.99)),
            ],
        ),
    ]
}

fn groups() -> [ParamGroup; 1] {
    [ParamGroup::new(0.1)]
}

fn bench_closed_form(c: &mut Criterion) {
    let mut g = c.benchmark_group("lr_at");
    g.measurement_time(Duration::from_millis(600)).warm_up_time(Duration::from_millis(200));
    for (kind, kw) in configs() {
        let mut gr = groups();
        let s = build(kind, &kw, &mut gr).unwrap();
        if s.lr_at(0, 0).is_err() {
            continue; // no closed form (MultiplicativeLR, ReduceLROnPlateau)
        }
        let mut t = 0u64;
        g.bench_function(kind, |b| {
            b.iter(|| {
                // A varying epoch so nothing is hoisted; stays inside OneCycleLR's range.
                t = (t + 7919) % 1_000_000;
                black_box(s.lr_at(0, black_box(t)).unwrap())
            });
        });
    }
    g.finish();
}

fn step_once(s: &mut Scheduler<'_>, gr: &mut [ParamGroup], i: u64) {
    let r = if matches!(s, Scheduler::Plateau(_)) {
        #[allow(clippy::cast_precision_loss)] // a synthetic metric
        s.step_with_metric(1.0 / (1.0 + (i % 17) as f64), gr)
    } else {
        s.step(gr)
    };
    r.unwrap();
}

fn bench_step(c: &mut Criterion) {
    let mut g = c.benchmark_group("step");
    g.measurement_time(Duration::from_millis(600)).warm_up_time(Duration::from_millis(200));
    for (kind, kw) in configs() {
        g.bench_function(kind, |b| {
            b.iter_custom(|iters| {
                // Fresh scheduler per sample so OneCycleLR never passes its end.
                let mut gr = groups();
                let mut s = build(kind, &kw, &mut gr).unwrap();
                let n = iters.min(1_000_000);
                let start = std::time::Instant::now();
                for i in 0..n {
                    step_once(&mut s, &mut gr, i);
                }
                let el = start.elapsed();
                black_box(gr[0].lr);
                #[allow(clippy::cast_precision_loss)] // iteration counts, far below 2^53: exact
                el.mul_f64(iters as f64 / n as f64)
            });
        });
    }
    g.finish();
}

fn bench_trace(c: &mut Criterion) {
    let mut g = c.benchmark_group("trace_1M");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(200));
    for kind in ["StepLR", "CosineAnnealingLR", "OneCycleLR"] {
        let kw = configs().into_iter().find(|(k, _)| *k == kind).unwrap().1;
        g.bench_function(format!("{kind}/step"), |b| {
            b.iter(|| {
                let mut gr = groups();
                let mut s = build(kind, &kw, &mut gr).unwrap();
                let mut acc = 0.0;
                for i in 0..1_000_000u64 {
                    step_once(&mut s, &mut gr, i);
                    acc += gr[0].lr;
                }
                black_box(acc)
            });
        });
        g.bench_function(format!("{kind}/closed_form"), |b| {
            let mut gr = groups();
            let s = build(kind, &kw, &mut gr).unwrap();
            b.iter(|| {
                let mut acc = 0.0;
                for t in 0..1_000_000u64 {
                    acc += s.lr_at(0, t).unwrap();
                }
                black_box(acc)
            });
        });
    }
    g.finish();
}

criterion_group!(benches, bench_closed_form, bench_step, bench_trace);
criterion_main!(benches);

//! Property tests of the peer schedule families (transformers, timm, optax): no panic on
//! random keyword arguments, the closed form equal to stepping bit for bit, and the
//! snapshot round trip.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure
#![allow(missing_docs)]

use proptest::prelude::*;
use sched_core::registry::{KINDS, Library};
use sched_core::spec::{Value, build};
use sched_core::{ParamGroup, Scheduler, Snapshot};

/// A random value of the kinds these constructors take.
fn value() -> impl Strategy<Value = Value<'static>> {
    prop_oneof![
        (-5i64..200).prop_map(Value::Int),
        prop_oneof![
            Just(0.0),
            Just(0.5),
            Just(1.0),
            Just(2.0),
            -3.0f64..3.0,
            Just(f64::NAN),
            Just(1e300)
        ]
        .prop_map(Value::Float),
        any::<bool>().prop_map(Value::Bool),
        prop_oneof![Just("linear"), Just("cosine"), Just("1-sqrt"), Just("nope")]
            .prop_map(Value::Str),
        Just(Value::None),
        Just(Value::List(&[Value::Int(3), Value::Int(7), Value::Int(5)])),
        Just(Value::Dict(&[
            (Value::Int(10), Value::Float(0.5)),
            (Value::Int(4), Value::Float(2.0))
        ])),
    ]
}

/// The peer kinds and, per kind, a random subset of its parameters with random values.
fn peer_call() -> impl Strategy<Value = (&'static str, Vec<(&'static str, Value<'static>)>)> {
    let peers: Vec<_> = KINDS.iter().filter(|k| k.library != Library::Torch).collect();
    (0..peers.len(), proptest::collection::vec((0usize..16, value()), 0..7)).prop_map(
        move |(i, picks)| {
            let k = peers[i];
            let params: Vec<&'static str> = k.parameters.split(", ").collect();
            let mut kw: Vec<(&'static str, Value<'static>)> = Vec::new();
            for (p, v) in picks {
                let name = params[p % params.len()];
                if !kw.iter().any(|(n, _)| *n == name) {
                    kw.push((name, v));
                }
            }
            (k.name, kw)
        },
    )
}

/// Valid, typical constructions of every peer family.
const VALID: &[(&str, &[(&str, Value<'static>)])] = &[
    (
        "get_wsd_schedule",
        &[
            ("num_warmup_steps", Value::Int(3)),
            ("num_decay_steps", Value::Int(4)),
            ("num_training_steps", Value::Int(12)),
            ("warmup_type", Value::Str("cosine")),
            ("decay_type", Value::Str("1-sqrt")),
            ("min_lr_ratio", Value::Float(0.1)),
        ],
    ),
    (
        "get_cosine_with_hard_restarts_schedule_with_warmup",
        &[
            ("num_warmup_steps", Value::Int(2)),
            ("num_training_steps", Value::Int(20)),
            ("num_cycles", Value::Int(3)),
        ],
    ),
    (
        "get_polynomial_decay_schedule_with_warmup",
        &[
            ("num_warmup_steps", Value::Int(2)),
            ("num_training_steps", Value::Int(15)),
            ("power", Value::Float(2.0)),
        ],
    ),
    ("get_inverse_sqrt_schedule", &[("num_warmup_steps", Value::Int(4))]),
    (
        "CosineLRScheduler",
        &[
            ("t_initial", Value::Int(5)),
            ("cycle_mul", Value::Float(1.5)),
            ("cycle_limit", Value::Int(4)),
            ("warmup_t", Value::Int(2)),
            ("warmup_lr_init", Value::Float(1e-3)),
            ("k_decay", Value::Float(0.7)),
        ],
    ),
    (
        "TanhLRScheduler",
        &[
            ("t_initial", Value::Int(6)),
            ("cycle_limit", Value::Int(3)),
            ("warmup_t", Value::Int(2)),
            ("warmup_lr_init", Value::Float(1e-3)),
        ],
    ),
    (
        "PolyLRScheduler",
        &[
            ("t_initial", Value::Int(7)),
            ("power", Value::Float(2.0)),
            ("cycle_decay", Value::Float(0.5)),
            ("cycle_limit", Value::Int(3)),
        ],
    ),
    (
        "StepLRScheduler",
        &[
            ("decay_t", Value::Float(2.5)),
            ("decay_rate", Value::Float(0.5)),
            ("warmup_t", Value::Int(3)),
        ],
    ),
    (
        "MultiStepLRScheduler",
        &[
            ("decay_t", Value::List(&[Value::Int(4), Value::Int(9)])),
            ("decay_rate", Value::Float(0.3)),
        ],
    ),
    (
        "sgdr_schedule",
        &[(
            "cosine_kwargs",
            Value::List(&[
                Value::Dict(&[
                    (Value::Str("init_value"), Value::Float(0.0)),
                    (Value::Str("peak_value"), Value::Float(0.1)),
                    (Value::Str("warmup_steps"), Value::Int(2)),
                    (Value::Str("decay_steps"), Value::Int(8)),
                ]),
                Value::Dict(&[
                    (Value::Str("init_value"), Value::Float(0.0)),
                    (Value::Str("peak_value"), Value::Float(0.05)),
                    (Value::Str("warmup_steps"), Value::Int(3)),
                    (Value::Str("decay_steps"), Value::Int(12)),
                ]),
            ]),
        )],
    ),
    (
        "cosine_onecycle_schedule",
        &[("transition_steps", Value::Int(30)), ("peak_value", Value::Float(0.1))],
    ),
    (
        "warmup_exponential_decay_schedule",
        &[
            ("init_value", Value::Float(0.0)),
            ("peak_value", Value::Float(0.1)),
            ("warmup_steps", Value::Int(3)),
            ("transition_steps", Value::Int(4)),
            ("decay_rate", Value::Float(0.7)),
            ("end_value", Value::Float(0.01)),
        ],
    ),
];

fn groups() -> [ParamGroup; 2] {
    [ParamGroup::new(0.1), ParamGroup::new(0.03)]
}

/// Steps `s` `n` times, checking the closed form against every written lr, bit for bit.
fn step_and_check(
    s: &mut Scheduler<'_>,
    g: &mut [ParamGroup],
    from: u64,
    n: u64,
) -> Result<(), String> {
    for t in from..from + n {
        if t > from && s.step(g).is_err() {
            return Ok(()); // a typed error (Python would raise too); nothing to compare
        }
        for (i, group) in g.iter().enumerate() {
            let closed = s.lr_at(i, t).map_err(|e| format!("lr_at({i}, {t}): {e}"))?;
            // The f32 evaluation must not panic either (its accuracy is the README's table).
            let _ = s.lr_at_f32(i, t);
            if closed.to_bits() != group.lr.to_bits() {
                return Err(format!(
                    "{}: t {t} group {i}: closed {closed:e} vs stepped {:e}",
                    s.kind(),
                    group.lr
                ));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Random keyword arguments: a typed error or a schedule, never a panic; a schedule's
    /// closed form equals its stepping for 40 steps.
    #[test]
    fn random_kwargs_never_panic((name, kw) in peer_call()) {
        let mut g = groups();
        if let Ok(mut s) = build(name, &kw, &mut g) {
            prop_assert!(step_and_check(&mut s, &mut g, 0, 40).is_ok(), "{}", step_and_check(&mut build(name, &kw, &mut groups()).unwrap(), &mut groups(), 0, 40).unwrap_err());
        }
    }

    /// Snapshot after `k` steps, restore into a fresh construction: the next steps agree.
    #[test]
    fn snapshot_round_trip(which in 0..VALID.len(), k in 0u64..30) {
        let (name, kw) = VALID[which];
        let mut g = groups();
        let mut a = build(name, kw, &mut g).unwrap();
        for _ in 0..k {
            a.step(&mut g).unwrap();
        }
        let mut snaps = [Snapshot::default(); 4];
        let n = a.snapshot(&mut snaps).unwrap();
        let bytes: Vec<u8> = snaps[..n].iter().flat_map(|s| s.as_bytes().to_vec()).collect();
        let mut h = groups();
        let mut b = build(name, kw, &mut h).unwrap();
        let read: Vec<Snapshot> = bytes.chunks(48).map(|c| Snapshot::from_bytes(c).unwrap()).collect();
        b.restore(&read).unwrap();
        h.copy_from_slice(&g);
        for _ in 0..10 {
            a.step(&mut g).unwrap();
            b.step(&mut h).unwrap();
            prop_assert_eq!(g[0].lr.to_bits(), h[0].lr.to_bits());
            prop_assert_eq!(g[1].lr.to_bits(), h[1].lr.to_bits());
        }
        prop_assert_eq!(a.last_epoch(), b.last_epoch());
    }
}

/// Every valid construction: closed form equals stepping for 60 steps.
#[test]
fn closed_form_equals_stepping_for_every_family() {
    for (name, kw) in VALID {
        let mut g = groups();
        let mut s = build(name, kw, &mut g).unwrap_or_else(|e| panic!("{name}: {e}"));
        step_and_check(&mut s, &mut g, 0, 60).unwrap();
    }
}

/// In composites: a transformers schedule is a `LambdaLR` and works inside SequentialLR and
/// ChainedScheduler; timm and optax schedules are not torch `LRScheduler`s (torch fails on
/// them, first or later, at construction or at the step that reaches them), so both
/// composites refuse them at construction, wherever they stand, with nothing written.
#[test]
fn peer_families_in_composites() {
    use sched_core::SchedError;
    use sched_core::spec::{build_chained, build_sequential};
    let milestones = [("milestones", Value::List(&[Value::Int(2)]))];
    let warmup = [("num_warmup_steps", Value::Int(1)), ("num_training_steps", Value::Int(8))];
    let step = || [("step_size", Value::Int(1)), ("gamma", Value::Float(0.5))];

    let mut g = [ParamGroup::new(0.1)];
    let first = build("StepLR", &step(), &mut g).unwrap();
    let second = build("transformers.get_linear_schedule_with_warmup", &warmup, &mut g).unwrap();
    let mut s = build_sequential(Vec::leak(vec![first, second]), &milestones, &mut g).unwrap();
    s.step(&mut g).unwrap();
    s.step(&mut g).unwrap(); // the milestone: LambdaLR's restart, base_lr * λ(0) = 0
    assert_eq!(g[0].lr, 0.0);
    let mut g = [ParamGroup::new(0.1)];
    let a = build("StepLR", &step(), &mut g).unwrap();
    let b = build("transformers.get_linear_schedule_with_warmup", &warmup, &mut g).unwrap();
    let mut c = build_chained(Vec::leak(vec![a, b]), &[], &g).unwrap();
    for _ in 0..4 {
        c.step(&mut g).unwrap();
    }
    assert!(g[0].lr.is_finite() && g[0].lr > 0.0);

    for (name, kw, library, kind) in [
        (
            "timm.CosineLRScheduler",
            &[("t_initial", Value::Int(5))][..],
            "timm",
            "CosineLRScheduler",
        ),
        (
            "optax.constant_schedule",
            &[("value", Value::Float(0.5))][..],
            "optax",
            "constant_schedule",
        ),
    ] {
        for foreign_first in [true, false] {
            let index = usize::from(!foreign_first);
            let want = SchedError::NotATorchScheduler { index, kind, library };
            let children = |g: &mut [ParamGroup]| {
                let torch = build("StepLR", &step(), g).unwrap();
                let foreign = build(name, kw, g).unwrap();
                Vec::leak(if foreign_first { vec![foreign, torch] } else { vec![torch, foreign] })
            };
            let mut g = [ParamGroup::new(0.1)];
            let children_seq = children(&mut g);
            let before = g;
            let r = build_sequential(children_seq, &milestones, &mut g);
            assert_eq!(r.err(), Some(want), "{name} in SequentialLR at {index}");
            assert_eq!(g, before, "{name}: written before the error");
            let r = build_chained(children(&mut g), &[], &g);
            assert_eq!(r.err(), Some(want), "{name} in ChainedScheduler at {index}");
        }
    }
    assert_eq!(
        SchedError::NotATorchScheduler { index: 1, kind: "CosineLRScheduler", library: "timm" }
            .to_string(),
        "schedulers[1] is timm's CosineLRScheduler, not a torch LRScheduler: SequentialLR and \
         ChainedScheduler cannot step it"
    );
}

//! Fuzzing `Snapshot::from_bytes` + `Scheduler::restore` (`cargo test`, and `FUZZ_SECONDS=N`
//! in CI for a longer run): snapshots of real schedulers after a few steps, with random bytes,
//! fields and extreme values written into them, restored into a freshly built scheduler. For
//! every input: no panic; an error, or a state from which every step is a typed error or
//! finite learning rates. Prints `fuzz snapshots: <N> inputs (<E> rejected, <R> restored)`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure
#![allow(missing_docs)]

use core::time::Duration;
use std::time::Instant;

use sched_core::spec::{Value, build};
use sched_core::{LrLambda, ParamGroup, Scheduler, Snapshot};

fn budget() -> Duration {
    let secs = std::env::var("FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    Duration::from_secs_f64(secs)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// `below(n)` as an index (the same draw).
    fn index(&mut self, n: usize) -> usize {
        usize::try_from(self.below(n as u64)).unwrap()
    }
}

/// A few schedulers of every kind with a snapshot state.
fn specs() -> Vec<(&'static str, Vec<(&'static str, Value<'static>)>)> {
    vec![
        ("StepLR", vec![("step_size", Value::Int(3)), ("gamma", Value::Float(0.5))]),
        ("MultiStepLR", vec![("milestones", Value::List(&[Value::Int(2), Value::Int(5)]))]),
        ("ExponentialLR", vec![("gamma", Value::Float(0.9))]),
        ("CosineAnnealingLR", vec![("T_max", Value::Int(10))]),
        ("CosineAnnealingWarmRestarts", vec![("T_0", Value::Int(3)), ("T_mult", Value::Int(2))]),
        (
            "CyclicLR",
            vec![
                ("base_lr", Value::Float(0.01)),
                ("max_lr", Value::Float(0.1)),
                ("step_size_up", Value::Int(4)),
                ("mode", Value::Str("exp_range")),
                ("gamma", Value::Float(0.99)),
            ],
        ),
        ("OneCycleLR", vec![("max_lr", Value::Float(0.1)), ("total_steps", Value::Int(100))]),
        ("LambdaLR", vec![("lr_lambda", Value::Lambda(LrLambda::Pow(0.95)))]),
        ("LinearLR", vec![("total_iters", Value::Int(4))]),
        ("ReduceLROnPlateau", vec![("patience", Value::Int(1)), ("cooldown", Value::Int(2))]),
        (
            "transformers.get_cosine_schedule_with_warmup",
            vec![("num_warmup_steps", Value::Int(3)), ("num_training_steps", Value::Int(50))],
        ),
        (
            "timm.CosineLRScheduler",
            vec![
                ("t_initial", Value::Int(7)),
                ("cycle_limit", Value::Int(3)),
                ("warmup_t", Value::Int(2)),
            ],
        ),
        (
            "optax.warmup_cosine_decay_schedule",
            vec![
                ("init_value", Value::Float(0.0)),
                ("peak_value", Value::Float(0.1)),
                ("warmup_steps", Value::Int(3)),
                ("decay_steps", Value::Int(40)),
            ],
        ),
    ]
}

/// Values that break counters and reals.
const EXTREMES: [i64; 8] = [i64::MAX, i64::MIN, -2, -1, 0, 1 << 53, (1 << 53) + 1, 1 << 62];

fn step(
    s: &mut Scheduler<'_>,
    groups: &mut [ParamGroup],
    k: u64,
) -> Result<(), sched_core::SchedError> {
    if s.kind() == "ReduceLROnPlateau" {
        s.step_with_metric(1.0 / (1.0 + f64::from(u32::try_from(k).unwrap())), groups)
    } else {
        s.step(groups)
    }
}

#[test]
fn fuzz_snapshots() {
    let specs = specs();
    let mut rng = Rng(
        0x5EED_F5A4 ^ std::env::var("FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1)
    );
    let (mut inputs, mut rejected, mut restored) = (0u64, 0u64, 0u64);
    let end = Instant::now() + budget();
    while Instant::now() < end {
        let (kind, kwargs) = &specs[rng.index(specs.len())];
        let mut groups = vec![ParamGroup::new(0.1).with_momentum(0.9); 2];
        let mut s = build(kind, kwargs, &mut groups).unwrap();
        let steps = rng.below(12);
        for k in 0..steps {
            let _ = step(&mut s, &mut groups, k);
        }
        let mut snap = [Snapshot::default()];
        s.snapshot(&mut snap).unwrap();
        let mut bytes = snap[0].as_bytes().to_vec();
        match rng.below(4) {
            // Random bytes.
            0 => {
                for _ in 0..=rng.below(4) {
                    let i = rng.index(bytes.len());
                    bytes[i] = rng.next().to_le_bytes()[0];
                }
            }
            // An extreme integer field (last_epoch, step_count, int0, int1).
            1 => {
                let at = [8usize, 16, 32, 40][rng.index(4)];
                let v = EXTREMES[rng.index(EXTREMES.len())];
                bytes[at..at + 8].copy_from_slice(&v.to_ne_bytes());
            }
            // A non-finite or odd real.
            2 => {
                let r =
                    [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.5, 1e308, -0.0][rng.index(6)];
                bytes[24..32].copy_from_slice(&r.to_ne_bytes());
            }
            // A truncated or lengthened buffer.
            _ => bytes.resize(rng.index(60), 0),
        }
        inputs += 1;
        let Ok(snap) = Snapshot::from_bytes(&bytes) else {
            rejected += 1;
            continue;
        };
        let mut fresh_groups = groups.clone();
        let mut fresh = build(kind, kwargs, &mut fresh_groups).unwrap();
        let before = format!("{fresh:?}");
        match fresh.restore(&[snap]) {
            Err(_) => {
                rejected += 1;
                assert_eq!(format!("{fresh:?}"), before, "{kind}: a rejected restore wrote state");
            }
            Ok(_) => {
                restored += 1;
                let mut g = groups.clone();
                for k in 0..10 {
                    if step(&mut fresh, &mut g, k).is_err() {
                        break;
                    }
                    for grp in &g {
                        assert!(
                            grp.lr.is_finite(),
                            "{kind}: lr {} after restoring {snap:?}",
                            grp.lr
                        );
                    }
                }
            }
        }
    }
    eprintln!(
        "fuzz snapshots: {inputs} inputs ({rejected} rejected, {restored} restored), no panic"
    );
    assert!(inputs > 0);
}

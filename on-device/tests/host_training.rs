//! The training loop on the host: the firmware's numbers, the accuracy bar, the schedule, and
//! typed errors for bad configurations.
#![allow(missing_docs)]

use on_device::{EpochReport, TrainConfig, TrainError, train};
use sched_core::{
    CosineAnnealingLr, CosineAnnealingLrConfig, LinearLr, LinearLrConfig, ParamGroup, SchedError,
    Scheduler, SequentialLr,
};
use sgd_cpu::{ConfigError, SgdError};

/// Recorded from the firmware under QEMU (`scripts/on-device.sh --record` rewrites it).
const TRANSCRIPT: &str = include_str!("qemu-transcript.txt");

fn epochs(config: &TrainConfig) -> (Result<on_device::Summary, TrainError>, Vec<EpochReport>) {
    let mut reports = Vec::new();
    let result = train(config, |r| reports.push(*r));
    (result, reports)
}

#[test]
fn the_host_prints_the_firmware_transcript_bit_for_bit() {
    let mut host = String::new();
    on_device::run(&mut host).unwrap();
    let device: Vec<&str> =
        TRANSCRIPT.lines().filter(|l| !l.starts_with("stack high-water:")).collect();
    let host: Vec<&str> = host.lines().collect();
    assert!(device.iter().filter(|l| l.starts_with("epoch ")).count() >= 5, "{TRANSCRIPT}");
    assert!(TRANSCRIPT.lines().any(|l| l.starts_with("stack high-water: ")));
    for (i, (h, d)) in host.iter().zip(&device).enumerate() {
        assert_eq!(h, d, "line {} differs from the firmware's", i + 1);
    }
    assert_eq!(host.len(), device.len(), "host:\n{}\nfirmware:\n{TRANSCRIPT}", host.join("\n"));
}

#[test]
fn reaches_the_accuracy_bar_and_stops_on_the_validation_loss() {
    let config = TrainConfig::default();
    let (summary, reports) = epochs(&config);
    let summary = summary.unwrap();
    assert_eq!(reports.len(), summary.epochs as usize);
    assert_eq!(reports.last(), Some(&summary.last));
    let last = summary.last;
    assert_eq!(last.val_total, 360);
    assert!(last.val_correct * 100 >= last.val_total * 90, "{last:?}");
    // Early stopping: `patience` epochs after the lowest validation loss, none lower since.
    let best = reports.iter().min_by(|a, b| a.val_loss.total_cmp(&b.val_loss)).unwrap();
    assert_eq!(best.epoch, summary.best_epoch);
    if summary.stopped_early {
        assert_eq!(u64::from(summary.epochs), u64::from(summary.best_epoch) + config.patience);
    } else {
        assert_eq!(summary.epochs, config.max_epochs);
    }
    // Training worked: the loss fell from the first epoch's.
    assert!(last.train_loss < reports[0].train_loss / 5.0, "{reports:?}");
}

#[test]
fn each_epoch_trains_at_pytorchs_warmup_cosine() {
    let config = TrainConfig { patience: 1000, ..TrainConfig::default() };
    let (summary, reports) = epochs(&config);
    assert_eq!(summary.unwrap().epochs, config.max_epochs);
    // The same schedule as torch builds it: SequentialLR over LinearLR and CosineAnnealingLR,
    // stepped in f64 (torch-exact) and as the f32 closed form through `Scheduler`.
    let mut groups = [ParamGroup::new(config.lr)];
    let warmup = LinearLr::new(
        LinearLrConfig {
            start_factor: config.warmup_start_factor,
            total_iters: config.warmup_epochs.into(),
            ..LinearLrConfig::default()
        },
        &mut groups,
    )
    .unwrap();
    let t_max = u64::from(config.max_epochs - config.warmup_epochs);
    let cosine = CosineAnnealingLr::new(CosineAnnealingLrConfig::new(t_max), &mut groups).unwrap();
    let mut children = [Scheduler::Linear(warmup), Scheduler::CosineAnnealing(cosine)];
    let milestones = [u64::from(config.warmup_epochs)];
    let mut torch = Scheduler::Sequential(
        SequentialLr::new(&mut children, &milestones, -1, &mut groups).unwrap(),
    );
    for r in &reports {
        let e = u64::from(r.epoch - 1);
        // The f32 closed form of SequentialLR, bit for bit.
        assert_eq!(r.lr.to_bits(), torch.lr_at_f32(0, e).unwrap().to_bits(), "epoch {}", r.epoch);
        // What torch's stepping writes into param_groups (f64), within sched-core's documented
        // f32 bound: (8 + e) f32 epsilons of |lr| + base_lr.
        let stepped = groups[0].lr;
        let tol =
            (stepped.abs() + config.lr) * f64::from(f32::EPSILON) * (8.0 + f64::from(r.epoch - 1));
        let diff = (f64::from(r.lr) - stepped).abs();
        assert!(diff <= tol, "epoch {}: {} vs torch {stepped} (off by {diff:e})", r.epoch, r.lr);
        torch.step(&mut groups).unwrap();
    }
    // Warmup starts at f32(lr) * f32(start_factor); the cosine starts at lr itself.
    assert_eq!(reports[0].lr, 0.1f32 * 0.1f32);
    assert_eq!(reports[3].lr, 0.1f32);
}

#[test]
fn bad_configurations_are_typed_errors_before_any_epoch() {
    let base = TrainConfig::default();
    let cases = [
        (
            TrainConfig { batch_size: 0, ..base },
            TrainError::Config { param: "batch_size", value: 0, expected: "at least 1" },
        ),
        (
            TrainConfig { warmup_epochs: 30, ..base },
            TrainError::Config { param: "warmup_epochs", value: 30, expected: "below max_epochs" },
        ),
        (
            TrainConfig { lr: -1.0, ..base },
            TrainError::Step(SgdError::Config(ConfigError::NegativeLearningRate {
                group: 0,
                lr: -1.0,
            })),
        ),
        (
            TrainConfig { warmup_start_factor: 0.0, ..base },
            TrainError::Schedule(SchedError::OutOfRange {
                param: "start_factor",
                value: 0.0,
                expected: "greater than 0 and less or equal to 1",
            }),
        ),
        (
            TrainConfig { patience: 0, ..base },
            TrainError::Schedule(SchedError::ZeroPeriod { param: "patience" }),
        ),
    ];
    for (config, want) in cases {
        let (got, reports) = epochs(&config);
        assert_eq!(got, Err(want), "{config:?}");
        assert!(reports.is_empty(), "{config:?}: an epoch ran");
        assert!(!want.to_string().is_empty());
    }
    let (got, _) = epochs(&TrainConfig { momentum: f64::NAN, ..base });
    assert!(matches!(
        got,
        Err(TrainError::Step(SgdError::Config(ConfigError::InvalidMomentum { group: 0, .. })))
    ));
}

#[test]
fn the_seed_decides_the_run() {
    let short = TrainConfig { max_epochs: 4, warmup_epochs: 1, ..TrainConfig::default() };
    let (_, a) = epochs(&short);
    let (_, b) = epochs(&short);
    let (_, c) = epochs(&TrainConfig { seed: 1, ..short });
    assert_eq!(a, b);
    assert_ne!(a[0].train_loss.to_bits(), c[0].train_loss.to_bits());
    assert_eq!(a[0].lr, c[0].lr);
}

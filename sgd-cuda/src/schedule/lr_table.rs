//! [`LrTable`]: the learning rates of a device schedule, as uploaded.

use std::vec::Vec;

use sched_core::{ParamGroup, SchedError, Scheduler, Snapshot};
use sgd_core::SgdConfig;

use crate::error::{CudaSgdError, ScheduleError};
use crate::kernel_tables::neg_lrs_into;

/// Most rows a device schedule may have: the counter is a `u32` that stops at `rows`.
pub const MAX_SCHEDULE_ROWS: usize = u32::MAX as usize;

/// The table of a device schedule: `rows × groups` values `f32(-lr)`, row-major, rounded by
/// [`sgd_core::neg_lr`] exactly as a host step ([`crate::CudaSgd::step`]) rounds its lrs.
#[derive(Clone, Debug, PartialEq)]
pub struct LrTable {
    groups: usize,
    neg_lrs: Vec<f32>,
}

impl LrTable {
    /// The table of precomputed learning rates `lrs` (row-major: `lrs[k * groups + g]` is
    /// group `g`'s lr at the `k`-th scheduled step). Like [`crate::CudaSgd::step`]'s lrs, the
    /// values are not validated (torch does not validate a per-step lr either).
    ///
    /// # Errors
    /// [`ScheduleError::Shape`] when `groups` is 0 or does not divide `lrs.len()`,
    /// [`ScheduleError::Length`] when there are no rows or more than [`MAX_SCHEDULE_ROWS`].
    pub fn from_lrs(lrs: &[f64], groups: usize) -> Result<Self, CudaSgdError> {
        if groups == 0 || u32::try_from(groups).is_err() || !lrs.len().is_multiple_of(groups) {
            return Err(ScheduleError::Shape { values: lrs.len(), groups }.into());
        }
        check_rows(lrs.len() / groups)?;
        let mut neg_lrs = Vec::new();
        neg_lrs_into(lrs, &mut neg_lrs);
        Ok(Self { groups, neg_lrs })
    }

    /// Records `steps` rows by stepping `scheduler` on the host (torch-exact stepping, see the
    /// module docs): row `k` is the lr every group's options have after `k` steps
    /// ([`SgdConfig::scheduled`], what `sgd_core::inject_hyperparams` writes into an
    /// optimizer), then the scheduler steps. On success the scheduler and `groups` are `steps`
    /// steps further, exactly where a host loop of `steps` iterations
    /// `step(&lrs); scheduler.step(groups)` leaves them.
    ///
    /// Everything is checked before the scheduler is touched, and should stepping fail part
    /// way, the scheduler and `groups` are restored (snapshot) before the error is returned.
    ///
    /// # Errors
    /// [`ScheduleError::NeedsMetric`] for ReduceLROnPlateau (its lrs depend on a metric per
    /// step, unknown in advance), [`ScheduleError::Length`] for `steps == 0` or more than
    /// [`MAX_SCHEDULE_ROWS`], [`ScheduleError::Shape`] for no groups,
    /// [`ScheduleError::GroupCount`] when the scheduler was built for another number of groups
    /// than `groups.len()`, [`ScheduleError::ChangesMomentum`] when a step changes a group's
    /// momentum (CyclicLR / OneCycleLR with `cycle_momentum=True`: the table holds learning
    /// rates only), [`ScheduleError::Step`] when sched-core fails a step.
    pub fn from_scheduler(
        scheduler: &mut Scheduler<'_>,
        groups: &mut [ParamGroup],
        steps: usize,
    ) -> Result<Self, CudaSgdError> {
        if let Scheduler::Plateau(_) = scheduler {
            return Err(ScheduleError::NeedsMetric { kind: scheduler.kind() }.into());
        }
        check_rows(steps)?;
        let n_groups = groups.len();
        if n_groups == 0 || u32::try_from(n_groups).is_err() {
            return Err(ScheduleError::Shape { values: 0, groups: n_groups }.into());
        }
        if scheduler.groups() != n_groups {
            let scheduler = scheduler.groups();
            return Err(ScheduleError::GroupCount { scheduler, groups: n_groups }.into());
        }
        let values = steps
            .checked_mul(n_groups)
            .ok_or(ScheduleError::Length { steps, max: MAX_SCHEDULE_ROWS })?;
        // For an exact restore if a step fails part way.
        let mut saved = std::vec![Snapshot::default(); scheduler.snapshot_len()];
        scheduler.snapshot(&mut saved).map_err(|source| ScheduleError::Step { step: 0, source })?;
        let saved_groups = groups.to_vec();
        let mut lrs = Vec::with_capacity(values);
        let recorded = record(scheduler, groups, steps, &mut lrs);
        if let Err(e) = recorded {
            groups.copy_from_slice(&saved_groups);
            // Cannot fail: the snapshot was written by this scheduler.
            let _ = scheduler.restore(&saved);
            return Err(e.into());
        }
        let mut neg_lrs = Vec::with_capacity(values);
        neg_lrs_into(&lrs, &mut neg_lrs);
        Ok(Self { groups: n_groups, neg_lrs })
    }

    /// Number of rows (scheduled steps).
    pub fn rows(&self) -> usize {
        self.neg_lrs.len() / self.groups
    }

    /// Learning rates per row.
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// Row `k`: `f32(-lr)` per group, or `None` past the table.
    pub fn row(&self, k: usize) -> Option<&[f32]> {
        self.neg_lrs.chunks_exact(self.groups).nth(k)
    }

    /// The whole table, row-major, as uploaded.
    pub fn neg_lrs(&self) -> &[f32] {
        &self.neg_lrs
    }
}

/// `1..=MAX_SCHEDULE_ROWS` rows.
fn check_rows(steps: usize) -> Result<(), ScheduleError> {
    if steps == 0 || steps > MAX_SCHEDULE_ROWS {
        return Err(ScheduleError::Length { steps, max: MAX_SCHEDULE_ROWS });
    }
    Ok(())
}

/// Appends `steps` rows of lrs to `lrs`, stepping the scheduler after each. A row is the `lr`
/// of every group's options as the scheduler left them ([`SgdConfig::scheduled`]); only
/// learning rates are recorded, so a step that changes a group's scheduled momentum is refused.
fn record(
    scheduler: &mut Scheduler<'_>,
    groups: &mut [ParamGroup],
    steps: usize,
    lrs: &mut Vec<f64>,
) -> Result<(), ScheduleError> {
    let mut options: Vec<SgdConfig> =
        groups.iter().map(|g| SgdConfig::default().scheduled(g)).collect();
    for step in 0..steps {
        lrs.extend(options.iter().map(|o| o.lr));
        scheduler.step(groups).map_err(|source| match source {
            SchedError::MetricRequired => ScheduleError::NeedsMetric { kind: scheduler.kind() },
            source => ScheduleError::Step { step, source },
        })?;
        for (group, (o, g)) in options.iter_mut().zip(groups.iter()).enumerate() {
            let next = o.scheduled(g);
            if next.momentum.to_bits() != o.momentum.to_bits() {
                return Err(ScheduleError::ChangesMomentum { step, group });
            }
            *o = next;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test.
    use sched_core::spec::{Value, build};

    use super::*;

    fn groups() -> Vec<ParamGroup> {
        std::vec![ParamGroup::new(0.1).with_momentum(0.9), ParamGroup::new(0.03).with_momentum(0.9)]
    }

    /// `steps` rows of a host loop `lrs = groups' lrs; scheduler.step()`, as `f32(-lr)`.
    fn host_loop(s: &mut Scheduler<'_>, g: &mut [ParamGroup], steps: usize) -> Vec<u32> {
        let mut out = Vec::new();
        let mut neg = Vec::new();
        for _ in 0..steps {
            let lrs: Vec<f64> = g.iter().map(|g| g.lr).collect();
            neg_lrs_into(&lrs, &mut neg);
            out.extend(neg.iter().map(|x| x.to_bits()));
            s.step(g).unwrap();
        }
        out
    }

    const SCHEDULES: &[(&str, &[(&str, Value<'static>)])] = &[
        ("StepLR", &[("step_size", Value::Int(3)), ("gamma", Value::Float(0.5))]),
        ("CosineAnnealingLR", &[("T_max", Value::Int(7)), ("eta_min", Value::Float(1e-4))]),
        ("ExponentialLR", &[("gamma", Value::Float(0.9))]),
        (
            "OneCycleLR",
            &[
                ("max_lr", Value::Float(0.5)),
                ("total_steps", Value::Int(40)),
                ("cycle_momentum", Value::Bool(false)),
            ],
        ),
        ("CosineAnnealingWarmRestarts", &[("T_0", Value::Int(4)), ("T_mult", Value::Int(2))]),
        ("PolynomialLR", &[("total_iters", Value::Int(9)), ("power", Value::Float(2.0))]),
        // The peer families drive the device schedule with no special case.
        (
            "transformers.get_cosine_schedule_with_warmup",
            &[("num_warmup_steps", Value::Int(3)), ("num_training_steps", Value::Int(30))],
        ),
        (
            "timm.CosineLRScheduler",
            &[
                ("t_initial", Value::Int(6)),
                ("cycle_limit", Value::Int(3)),
                ("warmup_t", Value::Int(2)),
            ],
        ),
        (
            "optax.warmup_cosine_decay_schedule",
            &[
                ("init_value", Value::Float(0.0)),
                ("peak_value", Value::Float(0.1)),
                ("warmup_steps", Value::Int(3)),
                ("decay_steps", Value::Int(30)),
            ],
        ),
    ];

    #[test]
    fn rows_are_host_stepping_bitwise_and_the_scheduler_ends_k_steps_on() {
        for &(kind, kwargs) in SCHEDULES {
            let (mut ga, mut gb) = (groups(), groups());
            let mut a = build(kind, kwargs, &mut ga).unwrap();
            let mut b = build(kind, kwargs, &mut gb).unwrap();
            let table = LrTable::from_scheduler(&mut a, &mut ga, 23).unwrap();
            assert_eq!((table.rows(), table.groups()), (23, 2), "{kind}");
            let expected = host_loop(&mut b, &mut gb, 23);
            let got: Vec<u32> = table.neg_lrs().iter().map(|x| x.to_bits()).collect();
            assert_eq!(got, expected, "{kind}: rows differ from host stepping");
            // Both schedulers are 23 steps on: the next rows agree too.
            assert_eq!(a.last_epoch(), b.last_epoch(), "{kind}");
            assert_eq!(ga, gb, "{kind}");
            let next = LrTable::from_scheduler(&mut a, &mut ga, 5).unwrap();
            let got: Vec<u32> = next.neg_lrs().iter().map(|x| x.to_bits()).collect();
            assert_eq!(got, host_loop(&mut b, &mut gb, 5), "{kind}: second table");
        }
    }

    #[test]
    fn plateau_zero_steps_and_group_mismatch_are_rejected_untouched() {
        let mut g = groups();
        let mut plateau = build("ReduceLROnPlateau", &[], &mut g).unwrap();
        assert!(matches!(
            LrTable::from_scheduler(&mut plateau, &mut g, 4),
            Err(CudaSgdError::Schedule(ScheduleError::NeedsMetric { kind: "ReduceLROnPlateau" }))
        ));
        let mut s = build("StepLR", &[("step_size", Value::Int(2))], &mut g).unwrap();
        let before = (s.last_epoch(), g.clone());
        assert!(matches!(
            LrTable::from_scheduler(&mut s, &mut g, 0),
            Err(CudaSgdError::Schedule(ScheduleError::Length { steps: 0, .. }))
        ));
        assert!(matches!(
            LrTable::from_scheduler(&mut s, &mut g[..1], 3),
            Err(CudaSgdError::Schedule(ScheduleError::GroupCount { scheduler: 2, groups: 1 }))
        ));
        assert!(matches!(
            LrTable::from_scheduler(&mut s, &mut [], 3),
            Err(CudaSgdError::Schedule(ScheduleError::Shape { values: 0, groups: 0 }))
        ));
        assert_eq!((s.last_epoch(), g), before, "a rejected table stepped the scheduler");
    }

    #[test]
    fn momentum_cycling_is_rejected_and_the_scheduler_restored() {
        let mut g = groups();
        let kwargs = [("max_lr", Value::Float(0.5)), ("total_steps", Value::Int(20))]; // cycle_momentum
        let mut s = build("OneCycleLR", &kwargs, &mut g).unwrap();
        let before = (s.last_epoch(), g.clone());
        assert!(matches!(
            LrTable::from_scheduler(&mut s, &mut g, 5),
            Err(CudaSgdError::Schedule(ScheduleError::ChangesMomentum { step: 0, group: 0 }))
        ));
        assert_eq!((s.last_epoch(), g.clone()), before, "not restored");
        // And it still steps as if nothing happened.
        let mut g2 = groups();
        let mut fresh = build("OneCycleLR", &kwargs, &mut g2).unwrap();
        s.step(&mut g).unwrap();
        fresh.step(&mut g2).unwrap();
        assert_eq!(g, g2);
    }

    #[test]
    fn precomputed_rows_round_like_a_host_step_and_bad_shapes_are_rejected() {
        let lrs = [0.1, 0.126, 1e-3, 3.0e-7, 0.0, 0.7];
        let t = LrTable::from_lrs(&lrs, 3).unwrap();
        assert_eq!((t.rows(), t.groups()), (2, 3));
        let mut neg = Vec::new();
        neg_lrs_into(&lrs[3..], &mut neg);
        assert_eq!(t.row(1), Some(neg.as_slice()));
        assert_eq!(t.row(2), None);
        assert!(matches!(
            LrTable::from_lrs(&lrs, 4),
            Err(CudaSgdError::Schedule(ScheduleError::Shape { values: 6, groups: 4 }))
        ));
        assert!(matches!(
            LrTable::from_lrs(&lrs, 0),
            Err(CudaSgdError::Schedule(ScheduleError::Shape { values: 6, groups: 0 }))
        ));
        assert!(matches!(
            LrTable::from_lrs(&[], 2),
            Err(CudaSgdError::Schedule(ScheduleError::Length { steps: 0, .. }))
        ));
    }
}

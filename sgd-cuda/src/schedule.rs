//! Host side of a schedule that lives on the device: the table of `f32(-lr)` per (row, group)
//! and the step counter the kernels read and advance ([`ScheduleState`]). Pure Rust, no GPU.
//!
//! Row `k` holds the learning rates of the `k`-th scheduled step from now. For a sched-core
//! schedule they are recorded by torch-exact stepping on the host ([`LrTable::from_scheduler`]):
//!
//! ```text
//! for k in 0..K:
//!     row[k][g] = f32(-groups[g].lr)        rounded by sgd_core::neg_lr, as CudaSgd::step rounds
//!     scheduler.step(groups)                 torch: optimizer.step(); scheduler.step()
//! ```
//!
//! so row `k` is bitwise the `f32(-lr)` a host loop `step(&lrs); scheduler.step()` would
//! upload at its `k`-th iteration, and the host scheduler ends where such a loop is after `K`
//! iterations.

use core::mem::{align_of, offset_of, size_of};
use std::vec::Vec;

use bytemuck::{Pod, Zeroable};
use sched_core::{ParamGroup, SchedError, Scheduler, Snapshot};

use crate::CudaSgdError;

/// Most rows a device schedule may have: the counter is a `u32` that stops at `rows`.
pub const MAX_SCHEDULE_ROWS: usize = u32::MAX as usize;

/// The device schedule's counter (`struct ScheduleState` of the `.cu`, 16 bytes).
///
/// A scheduled step reads `row` in every block of `sgd_multi_tensor_f32` and uses
/// `neg_lrs[row * groups + g]`; the one-thread kernel `sgd_schedule_advance`, launched after it
/// in stream order, sets `row += 1` while `row < rows` and otherwise `exhausted += 1`
/// (saturating). A step with `row == rows` writes nothing.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct ScheduleState {
    /// The row the next scheduled step uses.
    pub row: u32,
    /// Rows of the table.
    pub rows: u32,
    /// Learning rates per row (the optimizer's group count).
    pub groups: u32,
    /// Scheduled steps that found `row == rows` and did nothing (saturating at `u32::MAX`).
    pub exhausted: u32,
}

// The layout of the `.cu` (which asserts the same numbers with `static_assert`).
const _: () = {
    assert!(size_of::<ScheduleState>() == 16 && align_of::<ScheduleState>() == 4);
    assert!(offset_of!(ScheduleState, row) == 0 && offset_of!(ScheduleState, rows) == 4);
    assert!(offset_of!(ScheduleState, groups) == 8);
    assert!(offset_of!(ScheduleState, exhausted) == 12);
};

impl ScheduleState {
    /// The counter of a fresh table: row 0 of `table`, nothing exhausted.
    pub fn start(table: &LrTable) -> Self {
        // Both fit: `LrTable` holds at most MAX_SCHEDULE_ROWS rows, and a group count the
        // kernel indexes with a u32 (checked when the table was built).
        Self {
            row: 0,
            rows: u32::try_from(table.rows()).unwrap_or(u32::MAX),
            groups: u32::try_from(table.groups()).unwrap_or(u32::MAX),
            exhausted: 0,
        }
    }

    /// Steps left in the table (`rows - row`), or [`CudaSgdError::ScheduleExhausted`] when a
    /// scheduled step ran past it.
    ///
    /// # Errors
    /// [`CudaSgdError::ScheduleExhausted`] when `exhausted != 0`.
    pub fn steps_left(&self) -> Result<usize, CudaSgdError> {
        if self.exhausted != 0 {
            return Err(CudaSgdError::ScheduleExhausted {
                rows: usize_of(self.rows),
                skipped_steps: self.exhausted,
            });
        }
        Ok(usize_of(self.rows.saturating_sub(self.row)))
    }

    /// The host model of `sgd_schedule_advance` (what one scheduled step does to the counter).
    #[must_use]
    pub fn advanced(self) -> Self {
        if self.row < self.rows {
            Self { row: self.row + 1, ..self }
        } else {
            Self { exhausted: self.exhausted.saturating_add(1), ..self }
        }
    }
}

/// A `u32` as `usize` (every supported target has at least 32-bit pointers).
fn usize_of(v: u32) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// The table of a device schedule: `rows × groups` values `f32(-lr)`, row-major, rounded by
/// [`sgd_core::neg_lr`] exactly as [`crate::table::neg_lrs_into`] rounds a host step's lrs.
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
    /// [`CudaSgdError::ScheduleShape`] when `groups` is 0 or does not divide `lrs.len()`,
    /// [`CudaSgdError::ScheduleLength`] when there are no rows or more than
    /// [`MAX_SCHEDULE_ROWS`].
    pub fn from_lrs(lrs: &[f64], groups: usize) -> Result<Self, CudaSgdError> {
        if groups == 0 || u32::try_from(groups).is_err() || !lrs.len().is_multiple_of(groups) {
            return Err(CudaSgdError::ScheduleShape { values: lrs.len(), groups });
        }
        check_rows(lrs.len() / groups)?;
        let mut neg_lrs = Vec::new();
        crate::table::neg_lrs_into(lrs, &mut neg_lrs);
        Ok(Self { groups, neg_lrs })
    }

    /// Records `steps` rows by stepping `scheduler` on the host (torch-exact stepping, see the
    /// module docs): row `k` is every group's lr after `k` steps, then the scheduler steps.
    /// On success the scheduler and `groups` are `steps` steps further, exactly where a host
    /// loop of `steps` iterations `step(&lrs); scheduler.step(groups)` leaves them.
    ///
    /// Everything is checked before the scheduler is touched, and should stepping fail part
    /// way, the scheduler and `groups` are restored (snapshot) before the error is returned.
    ///
    /// # Errors
    /// [`CudaSgdError::ScheduleNeedsMetric`] for ReduceLROnPlateau (its lrs depend on a metric
    /// per step, unknown in advance), [`CudaSgdError::ScheduleLength`] for `steps == 0` or more
    /// than [`MAX_SCHEDULE_ROWS`], [`CudaSgdError::ScheduleShape`] for no groups,
    /// [`CudaSgdError::ScheduleGroupCount`] when the scheduler was built for another number of
    /// groups than `groups.len()`, [`CudaSgdError::ScheduleChangesMomentum`] when a step
    /// changes a group's momentum (CyclicLR / OneCycleLR with `cycle_momentum=True`: the table
    /// holds learning rates only), [`CudaSgdError::Schedule`] when sched-core fails a step.
    pub fn from_scheduler(
        scheduler: &mut Scheduler<'_>,
        groups: &mut [ParamGroup],
        steps: usize,
    ) -> Result<Self, CudaSgdError> {
        if let Scheduler::Plateau(_) = scheduler {
            return Err(CudaSgdError::ScheduleNeedsMetric { kind: scheduler.kind() });
        }
        check_rows(steps)?;
        let n_groups = groups.len();
        if n_groups == 0 || u32::try_from(n_groups).is_err() {
            return Err(CudaSgdError::ScheduleShape { values: 0, groups: n_groups });
        }
        if scheduler.groups() != n_groups {
            return Err(CudaSgdError::ScheduleGroupCount {
                scheduler: scheduler.groups(),
                groups: n_groups,
            });
        }
        let values = steps
            .checked_mul(n_groups)
            .ok_or(CudaSgdError::ScheduleLength { steps, max: MAX_SCHEDULE_ROWS })?;
        // For an exact restore if a step fails part way.
        let mut saved = std::vec![Snapshot::default(); scheduler.snapshot_len()];
        scheduler
            .snapshot(&mut saved)
            .map_err(|source| CudaSgdError::Schedule { step: 0, source })?;
        let saved_groups = groups.to_vec();
        let mut lrs = Vec::with_capacity(values);
        let recorded = record(scheduler, groups, steps, &mut lrs);
        if let Err(e) = recorded {
            groups.copy_from_slice(&saved_groups);
            // Cannot fail: the snapshot was written by this scheduler.
            let _ = scheduler.restore(&saved);
            return Err(e);
        }
        let mut neg_lrs = Vec::with_capacity(values);
        crate::table::neg_lrs_into(&lrs, &mut neg_lrs);
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
fn check_rows(steps: usize) -> Result<(), CudaSgdError> {
    if steps == 0 || steps > MAX_SCHEDULE_ROWS {
        return Err(CudaSgdError::ScheduleLength { steps, max: MAX_SCHEDULE_ROWS });
    }
    Ok(())
}

/// Appends `steps` rows of lrs to `lrs`, stepping the scheduler after each.
fn record(
    scheduler: &mut Scheduler<'_>,
    groups: &mut [ParamGroup],
    steps: usize,
    lrs: &mut Vec<f64>,
) -> Result<(), CudaSgdError> {
    let momenta: Vec<Option<u64>> = groups.iter().map(|g| g.momentum.map(f64::to_bits)).collect();
    for step in 0..steps {
        lrs.extend(groups.iter().map(|g| g.lr));
        scheduler.step(groups).map_err(|source| match source {
            SchedError::MetricRequired => {
                CudaSgdError::ScheduleNeedsMetric { kind: scheduler.kind() }
            }
            source => CudaSgdError::Schedule { step, source },
        })?;
        let changed =
            groups.iter().zip(&momenta).position(|(g, &m)| g.momentum.map(f64::to_bits) != m);
        if let Some(group) = changed {
            return Err(CudaSgdError::ScheduleChangesMomentum { step, group });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test.
    use super::*;
    use sched_core::spec::{Value, build};

    fn groups() -> Vec<ParamGroup> {
        std::vec![ParamGroup::new(0.1).with_momentum(0.9), ParamGroup::new(0.03).with_momentum(0.9)]
    }

    /// `steps` rows of a host loop `lrs = groups' lrs; scheduler.step()`, as `f32(-lr)`.
    fn host_loop(s: &mut Scheduler<'_>, g: &mut [ParamGroup], steps: usize) -> Vec<u32> {
        let mut out = Vec::new();
        let mut neg = Vec::new();
        for _ in 0..steps {
            let lrs: Vec<f64> = g.iter().map(|g| g.lr).collect();
            crate::table::neg_lrs_into(&lrs, &mut neg);
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
            Err(CudaSgdError::ScheduleNeedsMetric { kind: "ReduceLROnPlateau" })
        ));
        let mut s = build("StepLR", &[("step_size", Value::Int(2))], &mut g).unwrap();
        let before = (s.last_epoch(), g.clone());
        assert!(matches!(
            LrTable::from_scheduler(&mut s, &mut g, 0),
            Err(CudaSgdError::ScheduleLength { steps: 0, .. })
        ));
        assert!(matches!(
            LrTable::from_scheduler(&mut s, &mut g[..1], 3),
            Err(CudaSgdError::ScheduleGroupCount { scheduler: 2, groups: 1 })
        ));
        assert!(matches!(
            LrTable::from_scheduler(&mut s, &mut [], 3),
            Err(CudaSgdError::ScheduleShape { values: 0, groups: 0 })
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
            Err(CudaSgdError::ScheduleChangesMomentum { step: 0, group: 0 })
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
        crate::table::neg_lrs_into(&lrs[3..], &mut neg);
        assert_eq!(t.row(1), Some(neg.as_slice()));
        assert_eq!(t.row(2), None);
        assert!(matches!(
            LrTable::from_lrs(&lrs, 4),
            Err(CudaSgdError::ScheduleShape { values: 6, groups: 4 })
        ));
        assert!(matches!(
            LrTable::from_lrs(&lrs, 0),
            Err(CudaSgdError::ScheduleShape { values: 6, groups: 0 })
        ));
        assert!(matches!(
            LrTable::from_lrs(&[], 2),
            Err(CudaSgdError::ScheduleLength { steps: 0, .. })
        ));
    }

    #[test]
    fn the_counter_stops_at_the_last_row_and_counts_steps_past_it() {
        let t = LrTable::from_lrs(&[0.1, 0.2, 0.3, 0.4], 2).unwrap();
        let s = ScheduleState::start(&t);
        assert_eq!(s, ScheduleState { row: 0, rows: 2, groups: 2, exhausted: 0 });
        assert_eq!(s.steps_left().unwrap(), 2);
        let s = s.advanced().advanced();
        assert_eq!(s.steps_left().unwrap(), 0);
        let s = s.advanced();
        assert_eq!((s.row, s.exhausted), (2, 1));
        assert!(matches!(
            s.steps_left(),
            Err(CudaSgdError::ScheduleExhausted { rows: 2, skipped_steps: 1 })
        ));
        let full = ScheduleState { exhausted: u32::MAX, ..s };
        assert_eq!(full.advanced(), full, "saturates");
        let bytes = bytemuck::cast::<ScheduleState, [u32; 4]>(s);
        assert_eq!(bytes, [2, 2, 2, 1]);
    }
}

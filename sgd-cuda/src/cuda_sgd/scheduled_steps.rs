//! [`CudaSgd`]'s device schedule: the learning rates of the next K steps uploaded once as a
//! table ([`LrTable`]), a device step counter ([`ScheduleState`]) that the kernels read and
//! advance, and [`CudaSgd::step_scheduled`], a step (or graph replay) without any host-to-device
//! copy or host work for the learning rates.

use std::vec::Vec;

use cudarc::driver::DevicePtrMut;
use sched_core::{ParamGroup, Scheduler, Snapshot};

use super::CudaSgd;
use super::device_schedule::DeviceSchedule;
use crate::error::{CudaSgdError, ScheduleError};
use crate::launch::{capture, launch, launch_schedule_advance};
use crate::schedule::{LrTable, ScheduleState};
use crate::validation::check_lr_count;

impl CudaSgd {
    /// Sets a device schedule of the next `steps` steps of `scheduler`: records the lrs by
    /// stepping it `steps` times on the host (torch-exact stepping, [`LrTable::from_scheduler`]:
    /// row `k` is `groups`' lrs after `k` scheduler steps, rounded to `f32(-lr)` exactly as
    /// [`CudaSgd::step`] rounds them), uploads the table once and resets the device counter to
    /// row 0. The scheduler and `groups` end `steps` steps on: where a host loop
    /// `step(&lrs); scheduler.step(groups)` is after `steps` iterations, so the next table (or
    /// host stepping) continues from there.
    ///
    /// `groups[g]` is the scheduler's view of optimizer group `g` (its `lr`); every other
    /// option stays the optimizer's ([`CudaSgd::set_group_config`]). With graphs in use
    /// ([`CudaSgd::capture_graph`]), the scheduled step is captured now, or stays captured
    /// when the new table fits the previous one's allocation.
    ///
    /// Everything is validated before anything is written (the scheduler included: it is
    /// restored if a step fails part way).
    ///
    /// # Errors
    /// [`crate::GroupError::LrCount`] when `groups.len()` is not the optimizer's group count,
    /// then [`LrTable::from_scheduler`]'s errors (ReduceLROnPlateau:
    /// [`ScheduleError::NeedsMetric`]; `steps == 0`: [`ScheduleError::Length`]; ...), then
    /// driver errors.
    pub fn set_device_schedule(
        &mut self,
        scheduler: &mut Scheduler<'_>,
        groups: &mut [ParamGroup],
        steps: usize,
    ) -> Result<(), CudaSgdError> {
        check_lr_count(self.groups.len(), groups.len())?;
        // For an exact restore if the upload fails after the scheduler has stepped.
        let mut saved = std::vec![Snapshot::default(); scheduler.snapshot_len()];
        scheduler.snapshot(&mut saved).map_err(|source| ScheduleError::Step { step: 0, source })?;
        let saved_groups = groups.to_vec();
        let table = LrTable::from_scheduler(scheduler, groups, steps)?;
        let installed = self.set_device_lr_table(&table);
        if installed.is_err() {
            groups.copy_from_slice(&saved_groups);
            // Cannot fail: the snapshot was written by this scheduler.
            let _ = scheduler.restore(&saved);
        }
        installed
    }

    /// [`CudaSgd::set_device_schedule`] with precomputed learning rates: `lrs[k * groups + g]`
    /// is group `g`'s lr at the `k`-th scheduled step (not validated, like [`CudaSgd::step`]'s).
    ///
    /// # Errors
    /// [`LrTable::from_lrs`]'s errors for the optimizer's group count, driver errors.
    pub fn set_device_schedule_lrs(&mut self, lrs: &[f64]) -> Result<(), CudaSgdError> {
        let table = LrTable::from_lrs(lrs, self.groups.len())?;
        self.set_device_lr_table(&table)
    }

    /// Uploads `table` as the device schedule and resets its counter (see
    /// [`CudaSgd::set_device_schedule`]).
    ///
    /// # Errors
    /// [`crate::GroupError::LrCount`] when the table's rows are not the optimizer's group
    /// count, driver errors.
    pub fn set_device_lr_table(&mut self, table: &LrTable) -> Result<(), CudaSgdError> {
        check_lr_count(self.groups.len(), table.groups())?;
        match self.schedule.as_mut() {
            Some(s) if s.fits(table) => {
                if let Err(e) = s.rewrite(&self.stream, table) {
                    // The table and counter may disagree now: no scheduled step may run on them.
                    self.clear_device_schedule();
                    return Err(e);
                }
            }
            _ => {
                let schedule = DeviceSchedule::upload(&self.stream, table)?;
                // The graph holds the old addresses.
                self.scheduled_graph = None;
                self.schedule = Some(schedule);
            }
        }
        if self.graph.is_some() && self.scheduled_graph.is_none() {
            self.capture_scheduled_graph()?;
        }
        Ok(())
    }

    /// Drops the device schedule (and its graph); [`CudaSgd::step_scheduled`] then fails with
    /// [`ScheduleError::NotSet`] and an exhausted schedule is no longer reported.
    pub fn clear_device_schedule(&mut self) {
        self.scheduled_graph = None;
        self.schedule = None;
    }

    /// One step with the learning rates of the device schedule's current row: two launches
    /// (`sgd_multi_tensor_f32` reading row `counter`, then the one-thread
    /// `sgd_schedule_advance`), or one replay of their graph after [`CudaSgd::capture_graph`].
    /// No host-to-device copy and no host work for the learning rates; the counter advances on
    /// the device (also for a step skipped by the grad scaler's `found_inf`: a host loop takes
    /// the next lr at every iteration too). Table changes of [`CudaSgd::set_has_grad`] and
    /// [`CudaSgd::set_group_config`] are uploaded first, as by [`CudaSgd::step`].
    ///
    /// The step after the last row is still enqueued but updates nothing (the kernel returns
    /// before any write and the counter kernel counts it); the next host call reports it.
    ///
    /// # Errors
    /// [`ScheduleError::NotSet`], [`ScheduleError::Exhausted`] when an earlier scheduled step
    /// ran past the table (nothing is enqueued then), driver errors.
    pub fn step_scheduled(&mut self) -> Result<(), CudaSgdError> {
        let schedule = self.schedule.as_ref().ok_or(ScheduleError::NotSet)?;
        schedule.check_exhausted()?;
        self.upload_dirty()?;
        // The graph holds its arguments: only the eager path computes them (two buffer
        // addresses, each a cudarc event record/wait).
        let args = match (&self.scheduled_graph, &self.schedule) {
            (Some(_), _) => None,
            (None, Some(s)) => Some(s.kernel_args(self.args, &self.stream)),
            (None, None) => return Err(ScheduleError::NotSet.into()),
        };
        let stream = &self.stream;
        let guards: Vec<_> = self.buffers.iter_mut().map(|b| b.device_ptr_mut(stream).1).collect();
        match (&self.scheduled_graph, args) {
            (Some(graph), _) => graph.launch().map_err(CudaSgdError::driver("cuGraphLaunch"))?,
            (None, None) => return Err(ScheduleError::NotSet.into()),
            (None, Some(args)) => {
                if self.table.num_chunks() != 0 {
                    launch(&self.stream, &self.func, &args)?;
                }
                if let Err(e) =
                    launch_schedule_advance(&self.stream, &self.advance_func, args.schedule)
                {
                    // The step ran with its row but the counter did not move: a retry would
                    // apply the row twice, so the schedule is dropped.
                    drop(guards);
                    self.clear_device_schedule();
                    return Err(e);
                }
            }
        }
        drop(guards);
        if let Some(s) = self.schedule.as_mut() {
            s.count_step();
        }
        Ok(())
    }

    /// Whether a device schedule is set.
    pub fn has_device_schedule(&self) -> bool {
        self.schedule.is_some()
    }

    /// Scheduled steps left in the device table, read from the device counter (synchronises the
    /// stream: every enqueued step has run).
    ///
    /// # Errors
    /// [`ScheduleError::NotSet`], [`ScheduleError::Exhausted`] (with the number of steps the
    /// device counted past the table), driver errors.
    pub fn schedule_steps_left(&self) -> Result<usize, CudaSgdError> {
        self.device_schedule_state()?.steps_left()
    }

    /// The device schedule's counter as the device holds it (synchronises the stream).
    ///
    /// # Errors
    /// [`ScheduleError::NotSet`], driver errors.
    pub fn device_schedule_state(&self) -> Result<ScheduleState, CudaSgdError> {
        self.schedule.as_ref().ok_or(ScheduleError::NotSet)?.read_state(&self.stream)
    }

    /// [`ScheduleError::Exhausted`] when a scheduled step was enqueued past the table (the
    /// host's count, no device access); `Ok` without a schedule.
    pub(super) fn check_schedule(&self) -> Result<(), ScheduleError> {
        self.schedule.as_ref().map_or(Ok(()), DeviceSchedule::check_exhausted)
    }

    /// Captures the scheduled step (both launches) into `scheduled_graph`.
    pub(super) fn capture_scheduled_graph(&mut self) -> Result<(), CudaSgdError> {
        self.scheduled_graph = None;
        let Some(schedule) = &self.schedule else { return Ok(()) };
        if self.table.num_chunks() == 0 {
            return Ok(());
        }
        let args = schedule.kernel_args(self.args, &self.stream);
        self.upload_dirty()?;
        // Only the two kernels: the second depends on the first (stream order is the graph's
        // edge), so the counter advances after every block has read it.
        let (stream, func, advance) = (&self.stream, &self.func, &self.advance_func);
        self.scheduled_graph = capture(stream, || {
            launch(stream, func, &args)?;
            launch_schedule_advance(stream, advance, args.schedule)
        })?;
        Ok(())
    }
}

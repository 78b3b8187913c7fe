//! [`CudaSgd`]'s device schedule: the learning rates of the next K steps uploaded once as a
//! table ([`LrTable`]), a device step counter ([`ScheduleState`]) that the kernels read and
//! advance, and [`CudaSgd::step_scheduled`], a step (or graph replay) without any host-to-device
//! copy or host work for the learning rates.

use cudarc::driver::{CudaFunction, CudaSlice, CudaStream, DevicePtrMut, LaunchConfig};
use sched_core::{ParamGroup, Scheduler};

use crate::schedule::{LrTable, ScheduleState};
use crate::sgd::{KernelArgs, address, capture, launch, upload};
use crate::{CudaSgd, CudaSgdError};

/// The device side of a schedule.
pub(crate) struct DeviceSchedule {
    /// `f32(-lr)` per (row, group), row-major; at least `rows * groups` long (a later, shorter
    /// table reuses the allocation so a captured graph stays valid).
    d_table: CudaSlice<f32>,
    /// The [`ScheduleState`] as 4 words.
    d_state: CudaSlice<u32>,
    /// Rows of the current table.
    rows: usize,
    /// Scheduled steps enqueued since the table was set (the host's count of what the device
    /// counter will be: `min(enqueued, rows)` rows used, `enqueued - rows` steps past the end).
    enqueued: usize,
}

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
    /// [`CudaSgdError::LrCount`] when `groups.len()` is not the optimizer's group count, then
    /// [`LrTable::from_scheduler`]'s errors (ReduceLROnPlateau:
    /// [`CudaSgdError::ScheduleNeedsMetric`]; `steps == 0`: [`CudaSgdError::ScheduleLength`];
    /// ...), then driver errors.
    pub fn set_device_schedule(
        &mut self,
        scheduler: &mut Scheduler<'_>,
        groups: &mut [ParamGroup],
        steps: usize,
    ) -> Result<(), CudaSgdError> {
        if groups.len() != self.groups.len() {
            return Err(CudaSgdError::LrCount { expected: self.groups.len(), got: groups.len() });
        }
        // For an exact restore if the upload fails after the scheduler has stepped.
        let mut saved = std::vec![sched_core::Snapshot::default(); scheduler.snapshot_len()];
        scheduler
            .snapshot(&mut saved)
            .map_err(|source| CudaSgdError::Schedule { step: 0, source })?;
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
    /// [`CudaSgdError::LrCount`] when the table's rows are not the optimizer's group count,
    /// driver errors.
    pub fn set_device_lr_table(&mut self, table: &LrTable) -> Result<(), CudaSgdError> {
        if table.groups() != self.groups.len() {
            return Err(CudaSgdError::LrCount { expected: self.groups.len(), got: table.groups() });
        }
        let state = ScheduleState::start(table);
        let state_words: &[u32] = bytemuck::cast_slice(core::slice::from_ref(&state));
        let values = table.neg_lrs();
        let reuse = self.schedule.as_ref().is_some_and(|s| s.d_table.len() >= values.len());
        match self.schedule.as_mut() {
            Some(s) if reuse => {
                // In stream order: earlier scheduled steps still read the old rows first.
                let mut view = s.d_table.slice_mut(0..values.len());
                let uploaded = self
                    .stream
                    .memcpy_htod(values, &mut view)
                    .map_err(CudaSgdError::driver("upload device schedule"))
                    .and_then(|()| {
                        self.stream
                            .memcpy_htod(state_words, &mut s.d_state)
                            .map_err(CudaSgdError::driver("upload device schedule counter"))
                    });
                if let Err(e) = uploaded {
                    // The table and counter may disagree now: no scheduled step may run on them.
                    self.clear_device_schedule();
                    return Err(e);
                }
                s.rows = table.rows();
                s.enqueued = 0;
            }
            _ => {
                let d_table = upload(&self.stream, values, "upload device schedule")?;
                let d_state = upload(&self.stream, state_words, "upload device schedule counter")?;
                // The graph holds the old addresses.
                self.scheduled_graph = None;
                self.schedule =
                    Some(DeviceSchedule { d_table, d_state, rows: table.rows(), enqueued: 0 });
            }
        }
        if self.graph.is_some() && self.scheduled_graph.is_none() {
            self.capture_scheduled_graph()?;
        }
        Ok(())
    }

    /// Drops the device schedule (and its graph); [`CudaSgd::step_scheduled`] then fails with
    /// [`CudaSgdError::NoDeviceSchedule`] and an exhausted schedule is no longer reported.
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
    /// [`CudaSgdError::NoDeviceSchedule`], [`CudaSgdError::ScheduleExhausted`] when an earlier
    /// scheduled step ran past the table (nothing is enqueued then), driver errors.
    pub fn step_scheduled(&mut self) -> Result<(), CudaSgdError> {
        if self.schedule.is_none() {
            return Err(CudaSgdError::NoDeviceSchedule);
        }
        self.check_schedule()?;
        self.upload_dirty()?;
        // The graph holds its arguments: only the eager path computes them (two buffer
        // addresses, each a cudarc event record/wait).
        let args = match self.scheduled_graph {
            Some(_) => None,
            None => Some(self.scheduled_args().ok_or(CudaSgdError::NoDeviceSchedule)?),
        };
        let stream = &self.stream;
        let _guards: Vec<_> = self.buffers.iter_mut().map(|b| b.device_ptr_mut(stream).1).collect();
        match (&self.scheduled_graph, args) {
            (Some(graph), _) => graph.launch().map_err(CudaSgdError::driver("cuGraphLaunch"))?,
            (None, None) => return Err(CudaSgdError::NoDeviceSchedule),
            (None, Some(args)) => {
                if self.table.num_chunks() != 0 {
                    launch(&self.stream, &self.func, &args)?;
                }
                if let Err(e) =
                    launch_schedule_advance(&self.stream, &self.advance_func, args.schedule)
                {
                    // The step ran with its row but the counter did not move: a retry would
                    // apply the row twice, so the schedule is dropped.
                    drop(_guards);
                    self.clear_device_schedule();
                    return Err(e);
                }
            }
        }
        if let Some(s) = self.schedule.as_mut() {
            s.enqueued = s.enqueued.saturating_add(1);
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
    /// [`CudaSgdError::NoDeviceSchedule`], [`CudaSgdError::ScheduleExhausted`] (with the number
    /// of steps the device counted past the table), driver errors.
    pub fn schedule_steps_left(&self) -> Result<usize, CudaSgdError> {
        self.device_schedule_state()?.steps_left()
    }

    /// The device schedule's counter as the device holds it (synchronises the stream).
    ///
    /// # Errors
    /// [`CudaSgdError::NoDeviceSchedule`], driver errors.
    pub fn device_schedule_state(&self) -> Result<ScheduleState, CudaSgdError> {
        let s = self.schedule.as_ref().ok_or(CudaSgdError::NoDeviceSchedule)?;
        let words = self
            .stream
            .clone_dtoh(&s.d_state)
            .map_err(CudaSgdError::driver("copy device schedule counter to host"))?;
        let words: [u32; 4] = words.try_into().map_err(|_| CudaSgdError::NoDeviceSchedule)?;
        Ok(bytemuck::cast(words))
    }

    /// [`CudaSgdError::ScheduleExhausted`] when a scheduled step was enqueued past the table
    /// (the host's count, no device access).
    pub(crate) fn check_schedule(&self) -> Result<(), CudaSgdError> {
        match &self.schedule {
            Some(s) if s.enqueued > s.rows => Err(CudaSgdError::ScheduleExhausted {
                rows: s.rows,
                skipped_steps: u32::try_from(s.enqueued - s.rows).unwrap_or(u32::MAX),
            }),
            _ => Ok(()),
        }
    }

    /// The kernel arguments of a scheduled step: the table instead of the host lrs, the
    /// counter.
    fn scheduled_args(&self) -> Option<KernelArgs> {
        let s = self.schedule.as_ref()?;
        Some(KernelArgs {
            neg_lrs: address(&s.d_table, &self.stream),
            schedule: address(&s.d_state, &self.stream),
            ..self.args
        })
    }

    /// Captures the scheduled step (both launches) into `scheduled_graph`.
    pub(crate) fn capture_scheduled_graph(&mut self) -> Result<(), CudaSgdError> {
        self.scheduled_graph = None;
        let Some(args) = self.scheduled_args() else { return Ok(()) };
        if self.table.num_chunks() == 0 {
            return Ok(());
        }
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

/// Enqueues `sgd_schedule_advance(state)`: one block of one thread.
fn launch_schedule_advance(
    stream: &CudaStream,
    func: &CudaFunction,
    state: u64,
) -> Result<(), CudaSgdError> {
    use cudarc::driver::PushKernelArg;
    let cfg = LaunchConfig { grid_dim: (1, 1, 1), block_dim: (1, 1, 1), shared_mem_bytes: 0 };
    let mut builder = stream.launch_builder(func);
    builder.arg(&state);
    // SAFETY: `sgd_schedule_advance(ScheduleState*)` takes one pointer, passed as the u64 device
    // address of a `DeviceSchedule`'s `d_state`: 4 u32 (the 16-byte `ScheduleState`, layout
    // asserted on both sides) owned by the `CudaSgd` that enqueues this launch on its stream.
    // The kernel's one thread reads and writes those 16 bytes only.
    unsafe { builder.launch(cfg) }
        .map(|_| ())
        .map_err(CudaSgdError::driver("cuLaunchKernel sgd_schedule_advance"))
}

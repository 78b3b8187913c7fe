//! [`DeviceSchedule`]: the device side of a [`crate::CudaSgd`]'s schedule, the uploaded
//! [`LrTable`] and its step counter ([`ScheduleState`]).

use std::sync::Arc;

use cudarc::driver::{CudaSlice, CudaStream};

use crate::error::{CudaSgdError, ScheduleError};
use crate::launch::{KernelArgs, address, upload};
use crate::schedule::{LrTable, ScheduleState};

/// The device side of a schedule, and the host's count of the scheduled steps enqueued on it.
pub(super) struct DeviceSchedule {
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

impl DeviceSchedule {
    /// Uploads `table` and a fresh counter (row 0) into new device buffers.
    pub(super) fn upload(stream: &Arc<CudaStream>, table: &LrTable) -> Result<Self, CudaSgdError> {
        let state = ScheduleState::start(table);
        Ok(Self {
            d_table: upload(stream, table.neg_lrs(), "upload device schedule")?,
            d_state: upload(stream, state_words(&state), "upload device schedule counter")?,
            rows: table.rows(),
            enqueued: 0,
        })
    }

    /// Whether `table` fits this schedule's allocation (then [`DeviceSchedule::rewrite`] keeps
    /// the addresses a captured graph holds).
    pub(super) fn fits(&self, table: &LrTable) -> bool {
        self.d_table.len() >= table.neg_lrs().len()
    }

    /// Writes `table` and a fresh counter into this schedule's buffers, in stream order (steps
    /// enqueued before still read the old rows). `table` must [fit](DeviceSchedule::fits).
    ///
    /// # Errors
    /// Driver errors: the table and the counter may disagree then, so no scheduled step may run
    /// on them any more.
    pub(super) fn rewrite(
        &mut self,
        stream: &Arc<CudaStream>,
        table: &LrTable,
    ) -> Result<(), CudaSgdError> {
        let values = table.neg_lrs();
        let mut view = self.d_table.slice_mut(0..values.len());
        stream
            .memcpy_htod(values, &mut view)
            .map_err(CudaSgdError::driver("upload device schedule"))?;
        let state = ScheduleState::start(table);
        stream
            .memcpy_htod(state_words(&state), &mut self.d_state)
            .map_err(CudaSgdError::driver("upload device schedule counter"))?;
        self.rows = table.rows();
        self.enqueued = 0;
        Ok(())
    }

    /// [`ScheduleError::Exhausted`] when a scheduled step was enqueued past the table (the
    /// host's count, no device access).
    pub(super) fn check_exhausted(&self) -> Result<(), ScheduleError> {
        if self.enqueued > self.rows {
            let skipped_steps = u32::try_from(self.enqueued - self.rows).unwrap_or(u32::MAX);
            return Err(ScheduleError::Exhausted { rows: self.rows, skipped_steps });
        }
        Ok(())
    }

    /// Counts one more scheduled step enqueued.
    pub(super) fn count_step(&mut self) {
        self.enqueued = self.enqueued.saturating_add(1);
    }

    /// The kernel arguments of a scheduled step: `args` with the table instead of the host
    /// lrs, and the counter.
    pub(super) fn kernel_args(&self, args: KernelArgs, stream: &CudaStream) -> KernelArgs {
        KernelArgs {
            neg_lrs: address(&self.d_table, stream),
            schedule: address(&self.d_state, stream),
            ..args
        }
    }

    /// The counter as the device holds it (synchronises the stream).
    ///
    /// # Errors
    /// Driver errors.
    pub(super) fn read_state(
        &self,
        stream: &Arc<CudaStream>,
    ) -> Result<ScheduleState, CudaSgdError> {
        let words = stream
            .clone_dtoh(&self.d_state)
            .map_err(CudaSgdError::driver("copy device schedule counter to host"))?;
        let words: [u32; 4] = words.try_into().map_err(|_| ScheduleError::NotSet)?;
        Ok(bytemuck::cast(words))
    }
}

/// The counter as the 4 words it is uploaded as.
fn state_words(state: &ScheduleState) -> &[u32] {
    bytemuck::cast_slice(core::slice::from_ref(state))
}

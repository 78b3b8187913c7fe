//! [`ScheduleState`]: the step counter of a device schedule, as the kernels hold it.

use core::mem::{align_of, offset_of, size_of};

use bytemuck::{Pod, Zeroable};

use super::lr_table::LrTable;
use crate::error::{CudaSgdError, ScheduleError};

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

    /// Steps left in the table (`rows - row`), or [`ScheduleError::Exhausted`] when a
    /// scheduled step ran past it.
    ///
    /// # Errors
    /// [`ScheduleError::Exhausted`] when `exhausted != 0`.
    pub fn steps_left(&self) -> Result<usize, CudaSgdError> {
        if self.exhausted != 0 {
            let (rows, skipped_steps) = (usize_of(self.rows), self.exhausted);
            return Err(ScheduleError::Exhausted { rows, skipped_steps }.into());
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test.
    use super::*;

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
            Err(CudaSgdError::Schedule(ScheduleError::Exhausted { rows: 2, skipped_steps: 1 }))
        ));
        let full = ScheduleState { exhausted: u32::MAX, ..s };
        assert_eq!(full.advanced(), full, "saturates");
        let bytes = bytemuck::cast::<ScheduleState, [u32; 4]>(s);
        assert_eq!(bytes, [2, 2, 2, 1]);
    }
}

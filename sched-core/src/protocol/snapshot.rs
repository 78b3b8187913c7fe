//! State snapshots: a scheduler's mutable state as plain bytes.

use bytemuck::{Pod, Zeroable};

use crate::{SchedError, Scheduler};

/// Format version written into every snapshot.
pub const SNAPSHOT_VERSION: u32 = 1;

/// The mutable state of one scheduler as 48 plain bytes (`bytemuck::Pod`, little- or
/// big-endian as the machine writes it), small enough for a flash page.
///
/// Like PyTorch's `state_dict`, it holds what `step()` changes; the configuration is
/// rebuilt by constructing the scheduler again, and the groups' lrs (the optimizer's
/// state) are saved by the caller. Restore = construct afresh, put the saved groups
/// back, then [`Scheduler::restore`]. A composite writes itself, then its children
/// depth first.
///
/// | kind | `real` | `int0` | `int1` |
/// |---|---|---|---|
/// | CosineAnnealingWarmRestarts | `T_cur` | `T_i` | - |
/// | ReduceLROnPlateau | `best` | `num_bad_epochs` | `cooldown_counter` |
/// | others | - | - | - |
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct Snapshot {
    /// [`SNAPSHOT_VERSION`].
    pub version: u32,
    /// Scheduler kind code (1 = StepLR ... 15 = ChainedScheduler, 16 = transformers,
    /// 17 = timm, 18 = optax, in [`Scheduler`] order).
    pub kind: u32,
    /// `last_epoch`.
    pub last_epoch: i64,
    /// `_step_count`.
    pub step_count: u64,
    /// Kind-specific real (see the table).
    pub real: f64,
    /// Kind-specific integer.
    pub int0: i64,
    /// Kind-specific integer.
    pub int1: i64,
}

impl Default for Snapshot {
    /// An empty snapshot of the current version, to fill a buffer for [`Scheduler::snapshot`]:
    /// `[Snapshot::default(); 4]`.
    fn default() -> Self {
        Self { version: SNAPSHOT_VERSION, ..Zeroable::zeroed() }
    }
}

impl Snapshot {
    /// The snapshot as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        bytemuck::bytes_of(self)
    }

    /// Reads a snapshot from bytes (any alignment), checking length and version.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SchedError> {
        let s: Self = bytemuck::try_pod_read_unaligned(bytes)
            .map_err(|_| SchedError::SnapshotMismatch { what: "length (expected 48 bytes)" })?;
        if s.version != SNAPSHOT_VERSION {
            return Err(SchedError::SnapshotMismatch { what: "version" });
        }
        Ok(s)
    }
}

#[allow(clippy::cast_possible_wrap)] // counters far below 2^63
fn own_snapshot(s: &Scheduler<'_>) -> Snapshot {
    let mut out = Snapshot {
        version: SNAPSHOT_VERSION,
        kind: s.snapshot_code(),
        last_epoch: s.last_epoch(),
        ..Zeroable::zeroed()
    };
    if let Some(base) = s.base_state() {
        out.step_count = base.step_count;
    }
    match s {
        Scheduler::WarmRestarts(x) => {
            out.real = x.t_cur;
            out.int0 = x.t_i;
        }
        Scheduler::Plateau(p) => {
            out.real = p.best;
            out.int0 = p.num_bad_epochs as i64;
            out.int1 = p.cooldown_counter as i64;
        }
        _ => {}
    }
    out
}

impl<'a> Scheduler<'a> {
    /// Number of snapshots [`Scheduler::snapshot`] writes (1 + all descendants).
    pub fn snapshot_len(&self) -> usize {
        1 + self.children().iter().map(Scheduler::snapshot_len).sum::<usize>()
    }

    fn children(&self) -> &[Scheduler<'a>] {
        match self {
            Scheduler::Sequential(s) => s.children(),
            Scheduler::Chained(s) => s.children(),
            _ => &[],
        }
    }

    /// Writes the state of this scheduler and its descendants (depth first) into `out`;
    /// returns how many snapshots were written.
    pub fn snapshot(&self, out: &mut [Snapshot]) -> Result<usize, SchedError> {
        let need = self.snapshot_len();
        if out.len() < need {
            return Err(SchedError::TooManyItems { param: "snapshot", got: need, max: out.len() });
        }
        out[0] = own_snapshot(self);
        let mut n = 1;
        for c in self.children() {
            n += c.snapshot(&mut out[n..])?;
        }
        Ok(n)
    }

    /// Checks that `snaps` match this scheduler tree (kinds, version, count).
    fn check_snapshots(&self, snaps: &[Snapshot]) -> Result<usize, SchedError> {
        let Some(own) = snaps.first() else {
            return Err(SchedError::SnapshotMismatch { what: "too few snapshots" });
        };
        if own.version != SNAPSHOT_VERSION {
            return Err(SchedError::SnapshotMismatch { what: "version" });
        }
        if own.kind != self.snapshot_code() {
            return Err(SchedError::SnapshotMismatch { what: "scheduler kind" });
        }
        self.check_values(own)?;
        let mut n = 1;
        for c in self.children() {
            n += c.check_snapshots(&snaps[n..])?;
        }
        Ok(n)
    }

    /// Checks a snapshot's values as the constructor and the steps bound them, naming the
    /// field: `last_epoch` in `-1..=2^53`, `step_count` at most `2^53 + 1`; warm restarts:
    /// `1 <= T_i <= 2^53` and a finite `-1 <= T_cur < T_i`; ReduceLROnPlateau: `best` not NaN,
    /// `0 <= num_bad_epochs <= 2^53`, `0 <= cooldown_counter <= cooldown`.
    fn check_values(&self, own: &Snapshot) -> Result<(), SchedError> {
        use crate::protocol::base::{MAX_EPOCH, epoch_out_of_range, float_of};
        let range = |param, value: i64, lo: i64, hi: i64, expected| {
            if (lo..=hi).contains(&value) {
                Ok(())
            } else {
                Err(SchedError::OutOfRange { param, value: float_of(value), expected })
            }
        };
        if own.last_epoch < -1 {
            return Err(SchedError::OutOfRange {
                param: "last_epoch",
                value: float_of(own.last_epoch),
                expected: ">= -1",
            });
        }
        if own.last_epoch > MAX_EPOCH {
            return Err(epoch_out_of_range("last_epoch", own.last_epoch));
        }
        if own.step_count > MAX_EPOCH.unsigned_abs() + 1 {
            return Err(SchedError::OutOfRange {
                param: "step_count",
                value: crate::protocol::base::float_of_u64(own.step_count),
                expected: "at most 2^53 + 1",
            });
        }
        match self {
            Scheduler::WarmRestarts(_) => {
                range("T_i", own.int0, 1, MAX_EPOCH, ">= 1 and at most 2^53")?;
                let t_cur = own.real;
                if !t_cur.is_finite() {
                    return Err(SchedError::NonFinite { param: "T_cur", value: t_cur });
                }
                if !(t_cur >= -1.0 && t_cur < float_of(own.int0)) {
                    return Err(SchedError::OutOfRange {
                        param: "T_cur",
                        value: t_cur,
                        expected: "in -1 <= T_cur < T_i",
                    });
                }
            }
            Scheduler::Plateau(p) => {
                if own.real.is_nan() {
                    return Err(SchedError::NonFinite { param: "best", value: own.real });
                }
                range("num_bad_epochs", own.int0, 0, MAX_EPOCH, ">= 0 and at most 2^53")?;
                let cooldown = i64::try_from(p.cooldown()).unwrap_or(i64::MAX);
                range("cooldown_counter", own.int1, 0, cooldown, "in 0..=cooldown")?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Restores the state written by [`Scheduler::snapshot`] into a scheduler built with
    /// the same configuration. Checks everything before changing anything (versions, kinds,
    /// counts, and every value as the constructor bounds it); returns the number of snapshots
    /// read.
    pub fn restore(&mut self, snaps: &[Snapshot]) -> Result<usize, SchedError> {
        self.check_snapshots(snaps)?;
        Ok(self.apply(snaps))
    }

    #[allow(clippy::cast_sign_loss)] // written from u64 counters by `snapshot`
    fn apply(&mut self, snaps: &[Snapshot]) -> usize {
        let own = snaps[0];
        if let Some(base) = self.base_state_mut() {
            base.last_epoch = own.last_epoch;
            base.step_count = own.step_count;
        }
        let mut n = 1;
        match self {
            Scheduler::WarmRestarts(x) => {
                x.t_cur = own.real;
                x.t_i = own.int0;
            }
            Scheduler::Plateau(p) => {
                p.last_epoch = own.last_epoch;
                p.best = own.real;
                p.num_bad_epochs = own.int0 as u64;
                p.cooldown_counter = own.int1 as u64;
            }
            Scheduler::Sequential(s) => {
                s.set_last_epoch(own.last_epoch);
                for c in s.children_mut() {
                    n += c.apply(&snaps[n..]);
                }
            }
            Scheduler::Chained(s) => {
                for c in s.children_mut() {
                    n += c.apply(&snaps[n..]);
                }
            }
            _ => {}
        }
        n
    }
}

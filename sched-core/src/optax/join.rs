//! `optax.join_schedules` and the schedules optax builds with it, as a two-level join.

use super::leaf::{OptaxLeaf, OptaxPower, int32};
use crate::SchedError;

/// Most leaf schedules one [`OptaxSchedule`] holds.
pub const MAX_LEAVES: usize = 8;

/// An optax schedule: a leaf ([`OptaxLeaf`]) or a join of schedules, evaluated at an
/// `int32` count in float32.
///
/// `join_schedules(schedules, boundaries)(count)` is
/// `out = s0(count); for b, s in zip(boundaries, rest): out = where(count < b, out, s(count - b))`:
/// the last boundary `<= count` wins and its schedule runs at `count - b` (int32
/// arithmetic). A join of joins (`sgdr_schedule`, joins of `warmup_*` schedules) is kept
/// as two levels, outer parts and inner leaves, which evaluates every nesting exactly as
/// optax does (flattening into one join would not, for negative inner boundaries); a third
/// level is refused.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OptaxSchedule {
    leaves: [OptaxLeaf; MAX_LEAVES],
    /// Boundary before each leaf within its part (unused for a part's first leaf).
    leaf_bound: [i32; MAX_LEAVES],
    /// Index of each part's first leaf; `part_start[parts]` is the leaf count.
    part_start: [usize; MAX_LEAVES + 1],
    /// Boundary before each part (unused for the first).
    part_bound: [i32; MAX_LEAVES],
    parts: usize,
    /// Nesting depth: 0 for a leaf, 1 for a join of leaves (one part), 2 for a join of
    /// joins.
    depth: u8,
}

impl From<OptaxLeaf> for OptaxSchedule {
    fn from(leaf: OptaxLeaf) -> Self {
        let mut part_start = [0; MAX_LEAVES + 1];
        part_start[1] = 1;
        Self {
            leaves: [leaf; MAX_LEAVES],
            leaf_bound: [0; MAX_LEAVES],
            part_start,
            part_bound: [0; MAX_LEAVES],
            parts: 1,
            depth: 0,
        }
    }
}

impl OptaxSchedule {
    /// `join_schedules(schedules, boundaries)`: `boundaries` has one fewer item than
    /// `schedules` (optax zips them, ignoring extras; here a mismatch is an error).
    pub fn join(schedules: &[OptaxSchedule], boundaries: &[i64]) -> Result<Self, SchedError> {
        let Some(first) = schedules.first() else {
            return Err(SchedError::EmptyComposite);
        };
        if boundaries.len() + 1 != schedules.len() {
            return Err(SchedError::MilestoneCount {
                schedulers: schedules.len(),
                milestones: boundaries.len(),
            });
        }
        if schedules.len() == 1 {
            return Ok(*first);
        }
        let leaves: usize = schedules.iter().map(|s| s.part_start[s.parts]).sum();
        if leaves > MAX_LEAVES {
            return Err(SchedError::TooManyItems {
                param: "schedules",
                got: leaves,
                max: MAX_LEAVES,
            });
        }
        let depth = 1 + schedules.iter().map(|s| s.depth).max().unwrap_or(0);
        if depth > 2 {
            return Err(SchedError::Unsupported {
                what: "join_schedules nested more than two levels deep",
            });
        }
        let mut out = Self::from(first.leaves[0]);
        out.depth = depth;
        if depth == 1 {
            // A join of leaves: one part, the boundaries between its leaves.
            for (j, s) in schedules.iter().enumerate() {
                out.leaves[j] = s.leaves[0];
                if j > 0 {
                    out.leaf_bound[j] = int32("boundaries", boundaries[j - 1])?;
                }
            }
            out.part_start[1] = schedules.len();
            return Ok(out);
        }
        // A join of joins: every child (one part each) becomes a part.
        let mut n = 0;
        for (j, s) in schedules.iter().enumerate() {
            out.part_start[j] = n;
            if j > 0 {
                out.part_bound[j] = int32("boundaries", boundaries[j - 1])?;
            }
            for k in 0..s.part_start[1] {
                out.leaves[n] = s.leaves[k];
                out.leaf_bound[n] = s.leaf_bound[k];
                n += 1;
            }
        }
        out.parts = schedules.len();
        out.part_start[out.parts] = n;
        Ok(out)
    }

    /// `warmup_cosine_decay_schedule(init_value, peak_value, warmup_steps, decay_steps,
    /// end_value, exponent)`: a linear warmup joined at `warmup_steps` to a cosine decay
    /// over `decay_steps - warmup_steps` with `alpha = end_value / peak_value` (0 when the
    /// peak is 0).
    pub fn warmup_cosine_decay(
        init_value: f64,
        peak_value: f64,
        warmup_steps: i64,
        decay_steps: i64,
        end_value: f64,
        exponent: OptaxPower,
    ) -> Result<Self, SchedError> {
        let alpha = if peak_value == 0.0 { 0.0 } else { end_value / peak_value };
        let decay = decay_steps.checked_sub(warmup_steps).ok_or(SchedError::OutOfRange {
            param: "decay_steps",
            value: crate::protocol::base::float_of(
                decay_steps.clamp(-crate::MAX_EPOCH, crate::MAX_EPOCH),
            ),
            expected: "within int32",
        })?;
        let parts = [
            OptaxLeaf::linear(init_value, peak_value, warmup_steps, 0)?.into(),
            OptaxLeaf::cosine_decay(peak_value, decay, alpha, exponent)
                .map_err(|_| SchedError::OutOfRange {
                    param: "decay_steps",
                    value: crate::protocol::base::float_of(
                        decay.clamp(-crate::MAX_EPOCH, crate::MAX_EPOCH),
                    ),
                    expected: "> warmup_steps",
                })?
                .into(),
        ];
        Self::join(&parts, &[warmup_steps])
    }

    /// `warmup_exponential_decay_schedule(...)`: a linear warmup joined at `warmup_steps`
    /// to `exponential_decay(peak_value, ...)`.
    #[allow(clippy::too_many_arguments)] // optax's signature
    pub fn warmup_exponential_decay(
        init_value: f64,
        peak_value: f64,
        warmup_steps: i64,
        transition_steps: i64,
        decay_rate: f64,
        transition_begin: i64,
        staircase: bool,
        end_value: Option<f64>,
    ) -> Result<Self, SchedError> {
        let parts = [
            OptaxLeaf::linear(init_value, peak_value, warmup_steps, 0)?.into(),
            OptaxLeaf::exponential(
                peak_value,
                transition_steps,
                decay_rate,
                transition_begin,
                staircase,
                end_value,
            )?
            .into(),
        ];
        Self::join(&parts, &[warmup_steps])
    }

    /// `sgdr_schedule(cosine_kwargs)`: the `warmup_cosine_decay_schedule`s joined at the
    /// running sum of their `decay_steps`. Each item is
    /// `(init_value, peak_value, warmup_steps, decay_steps, end_value, exponent)`.
    pub fn sgdr(
        cosine_kwargs: &[(f64, f64, i64, i64, f64, OptaxPower)],
    ) -> Result<Self, SchedError> {
        let mut parts = [Self::from(OptaxLeaf::constant(0.0)); MAX_LEAVES];
        let mut bounds = [0i64; MAX_LEAVES];
        if cosine_kwargs.len() > MAX_LEAVES / 2 {
            return Err(SchedError::TooManyItems {
                param: "cosine_kwargs",
                got: cosine_kwargs.len(),
                max: MAX_LEAVES / 2,
            });
        }
        let mut step = 0i64;
        for (i, &(init, peak, warmup, decay, end, exponent)) in cosine_kwargs.iter().enumerate() {
            parts[i] = Self::warmup_cosine_decay(init, peak, warmup, decay, end, exponent)?;
            step = step.saturating_add(decay);
            bounds[i] = step;
        }
        let n = cosine_kwargs.len();
        Self::join(&parts[..n], &bounds[..n.saturating_sub(1)])
    }

    /// The value at `count` (optax's `schedule(count)` for an int32 count), in float32.
    pub fn value(&self, count: i32) -> f32 {
        // The last part whose boundary is <= count, at count - boundary.
        let j = (1..self.parts).rev().find(|&j| count >= self.part_bound[j]).unwrap_or(0);
        let c = if j == 0 { count } else { count.wrapping_sub(self.part_bound[j]) };
        let (lo, hi) = (self.part_start[j], self.part_start[j + 1]);
        let k = (lo + 1..hi).rev().find(|&k| c >= self.leaf_bound[k]).unwrap_or(lo);
        let c = if k == lo { c } else { c.wrapping_sub(self.leaf_bound[k]) };
        self.leaves[k].value(c)
    }
}

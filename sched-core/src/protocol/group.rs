//! The part of an optimizer's `param_groups` a scheduler reads and writes.

use crate::SchedError;

/// Capacity for parameter groups (the crate allocates nothing, so per-group values
/// live in fixed arrays of this size).
pub const MAX_GROUPS: usize = 16;

/// Capacity for list parameters such as milestones.
pub const MAX_MILESTONES: usize = 32;

/// One optimizer parameter group as the schedulers see it: PyTorch's
/// `optimizer.param_groups[i]` keys `lr`, `initial_lr` and `momentum`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParamGroup {
    /// `group["lr"]`: the learning rate the optimizer uses for its next step.
    pub lr: f64,
    /// `group["initial_lr"]`: set by the first scheduler built on the group
    /// (`setdefault`), read as `base_lr` by every later one.
    pub initial_lr: Option<f64>,
    /// `group["momentum"]` (or `betas[0]`): `None` for optimizers without momentum.
    /// Written by CyclicLR and OneCycleLR when they cycle momentum.
    pub momentum: Option<f64>,
    /// The lr is a 0-dim float32 `Tensor` (`lr=torch.tensor(0.1)`): PyTorch then stores
    /// every value rounded to f32 and evaluates `lr * factor` as an f32 tensor operation
    /// (`f32(lr * f32(factor))`). `false` (Python floats) is the usual case.
    pub tensor_lr: bool,
}

impl ParamGroup {
    /// A fresh group of `torch.optim.SGD`: the given `lr`, momentum `0.0`, no `initial_lr`.
    pub const fn new(lr: f64) -> Self {
        Self { lr, initial_lr: None, momentum: Some(0.0), tensor_lr: false }
    }

    /// A group whose lr is a 0-dim float32 tensor (`torch.tensor(lr)`): `lr` is rounded to
    /// f32 and kept there by every scheduler, as PyTorch does.
    #[allow(clippy::cast_possible_truncation)] // rounding to f32 is the point
    pub fn tensor(lr: f64) -> Self {
        Self { lr: f64::from(lr as f32), initial_lr: None, momentum: Some(0.0), tensor_lr: true }
    }

    /// The same group with `momentum` set.
    #[must_use]
    pub const fn with_momentum(mut self, momentum: f64) -> Self {
        self.momentum = Some(momentum);
        self
    }
}

/// One `f64` per parameter group, given either as one value for all groups or as a
/// list with one value per group (PyTorch's `float | list[float]` arguments such as
/// CyclicLR's `base_lr`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PerGroup {
    values: [f64; MAX_GROUPS],
    len: u8,
    broadcast: bool,
}

impl PerGroup {
    /// The same value for every group.
    pub const fn all(value: f64) -> Self {
        Self { values: [value; MAX_GROUPS], len: 1, broadcast: true }
    }

    /// One value per group; the length is checked against the groups when a scheduler
    /// is built.
    pub fn list(values: &[f64]) -> Result<Self, SchedError> {
        if values.len() > MAX_GROUPS {
            return Err(SchedError::TooManyGroups { groups: values.len(), max: MAX_GROUPS });
        }
        let mut out = [0.0; MAX_GROUPS];
        out[..values.len()].copy_from_slice(values);
        // The length fits in u8 because MAX_GROUPS does.
        let len = u8::try_from(values.len())
            .map_err(|_| SchedError::TooManyGroups { groups: values.len(), max: MAX_GROUPS })?;
        Ok(Self { values: out, len, broadcast: false })
    }

    /// Resolves to one value per group, checking the length and finiteness.
    pub(crate) fn resolve(
        &self,
        param: &'static str,
        groups: usize,
    ) -> Result<[f64; MAX_GROUPS], SchedError> {
        if !self.broadcast && usize::from(self.len) != groups {
            return Err(SchedError::GroupListLength {
                param,
                expected: groups,
                got: self.len.into(),
            });
        }
        let mut out = [0.0; MAX_GROUPS];
        for (i, v) in out.iter_mut().enumerate().take(groups) {
            *v = if self.broadcast { self.values[0] } else { self.values[i] };
            if !v.is_finite() {
                return Err(SchedError::NonFinite { param, value: *v });
            }
        }
        Ok(out)
    }
}

impl From<f64> for PerGroup {
    fn from(value: f64) -> Self {
        Self::all(value)
    }
}

/// Checks the group count and that every learning rate is finite.
pub(crate) fn check_groups(groups: &[ParamGroup]) -> Result<(), SchedError> {
    if groups.is_empty() {
        return Err(SchedError::NoGroups);
    }
    if groups.len() > MAX_GROUPS {
        return Err(SchedError::TooManyGroups { groups: groups.len(), max: MAX_GROUPS });
    }
    for g in groups {
        if !g.lr.is_finite() {
            return Err(SchedError::NonFinite { param: "lr", value: g.lr });
        }
        if let Some(v) = g.initial_lr.filter(|v| !v.is_finite()) {
            return Err(SchedError::NonFinite { param: "initial_lr", value: v });
        }
    }
    Ok(())
}

//! `Sgd`: optimizer state owning the momentum buffers, like `torch.optim.SGD`.
use alloc::vec::Vec;

mod scheduled_groups;

use crate::backend::Kernel;
use crate::placed::PlacedBuffer;
use crate::scalar::MomentumBuffer;
use crate::step::{self, Piece, Plan};
use crate::{Backend, SgdConfig, SgdError, StepOptions, StepOutcome, StepScalars};

/// One parameter group to register: its options and the element count of each tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupSpec {
    /// The group's options (the lr may be changed every step with [`Sgd::set_lr`]).
    pub config: SgdConfig,
    /// Elements of each of the group's tensors, in order.
    pub numels: Vec<usize>,
}

/// The state of `torch.optim.SGD` over registered tensors: per-group options, and per tensor
/// a momentum buffer (allocated at the tensor's first step with momentum) and its
/// "initialised" flag.
///
/// Tensors are passed to [`Sgd::step`] as one flat list: group 0's tensors, then group 1's,
/// and so on (torch's flattened `param_groups`). Each step makes one fused pass over every
/// tensor that has a gradient, on the calling thread or (with `std`) split across a
/// persistent pool ([`Sgd::set_threads`]).
pub struct Sgd {
    configs: Vec<SgdConfig>,
    /// `group_end[g]`: one past the last tensor index of group `g`.
    group_end: Vec<usize>,
    numels: Vec<usize>,
    buffers: Vec<PlacedBuffer>,
    initialized: Vec<bool>,
    backend: Option<Backend>,
    #[cfg(feature = "std")]
    pool: Option<crate::ThreadPool>,
}

impl Sgd {
    /// Registers the groups. Every group is validated with [`SgdConfig::validate`] (torch's
    /// constructor rules, applied to every group, not only the defaults). Runs on the calling
    /// thread until [`Sgd::set_threads`].
    ///
    /// # Errors
    /// The first invalid group option, naming the group.
    pub fn new(groups: Vec<GroupSpec>) -> Result<Self, SgdError> {
        let mut sgd = Sgd {
            configs: Vec::with_capacity(groups.len()),
            group_end: Vec::with_capacity(groups.len()),
            numels: Vec::new(),
            buffers: Vec::new(),
            initialized: Vec::new(),
            backend: None,
            #[cfg(feature = "std")]
            pool: None,
        };
        for (g, spec) in groups.into_iter().enumerate() {
            spec.config.validate(g)?;
            sgd.configs.push(spec.config);
            sgd.numels.extend_from_slice(&spec.numels);
            sgd.group_end.push(sgd.numels.len());
        }
        sgd.buffers = (0..sgd.numels.len()).map(|_| PlacedBuffer::default()).collect();
        sgd.initialized = alloc::vec![false; sgd.numels.len()];
        Ok(sgd)
    }

    /// Number of parameter groups.
    pub fn groups(&self) -> usize {
        self.configs.len()
    }

    /// Number of registered tensors (all groups).
    pub fn tensors(&self) -> usize {
        self.numels.len()
    }

    /// The options of `group`.
    ///
    /// # Errors
    /// [`SgdError::NoSuchGroup`].
    pub fn config(&self, group: usize) -> Result<&SgdConfig, SgdError> {
        self.configs.get(group).ok_or(SgdError::NoSuchGroup { group, groups: self.groups() })
    }

    /// Replaces the options of `group` (validated like [`Sgd::new`]).
    ///
    /// # Errors
    /// [`SgdError::NoSuchGroup`] or the first invalid option; nothing changes then.
    pub fn set_config(&mut self, group: usize, config: SgdConfig) -> Result<(), SgdError> {
        let groups = self.groups();
        let slot = self.configs.get_mut(group).ok_or(SgdError::NoSuchGroup { group, groups })?;
        config.validate(group)?;
        *slot = config;
        Ok(())
    }

    /// Sets the learning rate of `group` (what a scheduler does before each step; for every
    /// group at once from a sched-core scheduler: [`inject_hyperparams`](crate::inject_hyperparams)).
    ///
    /// # Errors
    /// [`SgdError::NoSuchGroup`], [`SgdError::Config`] for a negative or non-finite lr; nothing
    /// changes then.
    pub fn set_lr(&mut self, group: usize, lr: f64) -> Result<(), SgdError> {
        let config = SgdConfig { lr, ..*self.config(group)? };
        self.set_config(group, config)
    }

    /// Sets the momentum of `group` (schedulers such as OneCycleLR cycle it).
    ///
    /// # Errors
    /// [`SgdError::NoSuchGroup`], [`SgdError::Config`] for an invalid momentum or the nesterov
    /// rule; nothing changes then.
    pub fn set_momentum(&mut self, group: usize, momentum: f64) -> Result<(), SgdError> {
        let config = SgdConfig { momentum, ..*self.config(group)? };
        self.set_config(group, config)
    }

    /// The momentum buffer of `tensor`, or `None` before its first step with momentum
    /// (torch: `state[p].get("momentum_buffer")`).
    pub fn momentum_buffer(&self, tensor: usize) -> Option<&[f32]> {
        match self.initialized.get(tensor) {
            Some(true) => self.buffers.get(tensor).map(PlacedBuffer::as_slice),
            _ => None,
        }
    }

    /// Forces a backend (`None`: [`Backend::active`]).
    ///
    /// # Errors
    /// [`SgdError::BackendUnavailable`].
    pub fn set_backend(&mut self, backend: Option<Backend>) -> Result<(), SgdError> {
        if let Some(b) = backend {
            Kernel::new(b)?;
        }
        self.backend = backend;
        Ok(())
    }

    /// Uses `threads` threads (the caller included) for steps of at least
    /// [`ThreadPool::DEFAULT_PARALLEL_THRESHOLD`](crate::ThreadPool::DEFAULT_PARALLEL_THRESHOLD)
    /// elements; `1` = calling thread only (the default),
    /// `0` = all available cores. The workers persist until the next call or drop.
    ///
    /// # Errors
    /// [`SgdError::TooManyThreads`], [`SgdError::ThreadSpawnFailed`].
    #[cfg(feature = "std")]
    pub fn set_threads(&mut self, threads: usize) -> Result<(), SgdError> {
        self.pool = None;
        let pool = crate::ThreadPool::new(threads)?;
        self.pool = (pool.threads() > 1).then_some(pool);
        Ok(())
    }

    /// Threads a large step uses.
    #[cfg(feature = "std")]
    pub fn threads(&self) -> usize {
        self.pool.as_ref().map_or(1, crate::ThreadPool::threads)
    }

    /// One step with the current options: [`Sgd::step_with`] with default [`StepOptions`].
    ///
    /// # Errors
    /// As [`Sgd::step_with`].
    pub fn step(
        &mut self,
        params: &mut [&mut [f32]],
        grads: &[Option<&[f32]>],
    ) -> Result<StepOutcome, SgdError> {
        self.step_with(params, grads, &StepOptions::default())
    }

    /// One fused step (`torch.optim.SGD.step()`, `SPEC.md` §4.2). `params[i]` and `grads[i]`
    /// are tensor `i` (flat over groups); `grads[i] == None` skips tensor `i` entirely.
    ///
    /// Validated before anything is written: tensor counts, every parameter length against
    /// its registration, every gradient length, the options; then missing momentum buffers
    /// are allocated; then with `opts.found_inf` the step is skipped (buffers stay
    /// uninitialised), else every tensor is updated. `opts.backend` overrides
    /// [`Sgd::set_backend`] for this step.
    ///
    /// # Errors
    /// The first problem found (see [`SgdError`]); parameters and state are unchanged then.
    pub fn step_with(
        &mut self,
        params: &mut [&mut [f32]],
        grads: &[Option<&[f32]>],
        opts: &StepOptions,
    ) -> Result<StepOutcome, SgdError> {
        let opts = StepOptions { backend: opts.backend.or(self.backend), ..*opts };
        let plan = self.validate(params, grads, &opts)?;
        self.allocate_buffers(params, grads)?;
        if opts.found_inf {
            return Ok(StepOutcome::SkippedFoundInf);
        }
        let parts = Parts {
            configs: &self.configs,
            group_end: &self.group_end,
            buffers: &mut self.buffers,
            initialized: &self.initialized,
        };
        #[cfg(feature = "std")]
        if let Some(pool) = self.pool.as_ref().filter(|p| !p.stays_on_caller(plan.elements)) {
            let mut pieces = Vec::with_capacity(plan.tensors);
            Self::for_each_piece(parts, params, grads, |piece| pieces.push(piece));
            pool.run(plan.kernel, pieces, plan.elements, opts.grad_scale);
            self.mark_initialized(grads);
            return Ok(plan.outcome());
        }
        Self::for_each_piece(parts, params, grads, |piece| {
            piece.run(plan.kernel, opts.grad_scale);
        });
        self.mark_initialized(grads);
        Ok(plan.outcome())
    }

    fn validate(
        &self,
        params: &[&mut [f32]],
        grads: &[Option<&[f32]>],
        opts: &StepOptions,
    ) -> Result<Plan, SgdError> {
        let kernel = step::validate_options(opts)?;
        let expected = self.tensors();
        for got in [params.len(), grads.len()] {
            if got != expected {
                return Err(SgdError::TensorCount { expected, got });
            }
        }
        for (g, config) in self.configs.iter().enumerate() {
            config.validate_values(g)?;
        }
        let mut plan = Plan { kernel, tensors: 0, elements: 0 };
        for (tensor, ((p, g), &numel)) in params.iter().zip(grads).zip(&self.numels).enumerate() {
            if p.len() != numel {
                return Err(SgdError::ParamLength { tensor, expected: numel, got: p.len() });
            }
            if let Some(g) = g {
                if g.len() != numel {
                    return Err(SgdError::LengthMismatch { tensor, params: numel, grads: g.len() });
                }
                plan.tensors += 1;
                plan.elements += numel;
            }
        }
        Ok(plan)
    }

    /// Allocates the buffer of every tensor about to take its first momentum step (placed
    /// relative to the parameter and gradient, see [`PlacedBuffer::allocate`]).
    fn allocate_buffers(
        &mut self,
        params: &[&mut [f32]],
        grads: &[Option<&[f32]>],
    ) -> Result<(), SgdError> {
        for (g, range) in self.group_ranges().enumerate() {
            if self.configs[g].momentum == 0.0 {
                continue;
            }
            for tensor in range {
                let buf = &mut self.buffers[tensor];
                let numel = self.numels[tensor];
                if let Some(grad) = grads[tensor]
                    && buf.len() != numel
                {
                    buf.allocate(numel, params[tensor].as_ptr(), grad.as_ptr())
                        .map_err(|_| SgdError::AllocationFailed { tensor, elements: numel })?;
                }
            }
        }
        Ok(())
    }

    fn mark_initialized(&mut self, grads: &[Option<&[f32]>]) {
        for (g, range) in self.group_ranges().enumerate() {
            if self.configs[g].momentum != 0.0 {
                for tensor in range {
                    self.initialized[tensor] |= grads[tensor].is_some();
                }
            }
        }
    }

    fn group_ranges(&self) -> impl Iterator<Item = core::ops::Range<usize>> + use<> {
        let ends = self.group_end.clone();
        let starts = core::iter::once(0).chain(self.group_end.clone());
        starts.zip(ends).map(|(a, b)| a..b)
    }

    fn for_each_piece<'a>(
        parts: Parts<'a>,
        params: &'a mut [&mut [f32]],
        grads: &'a [Option<&[f32]>],
        mut f: impl FnMut(Piece<'a>),
    ) {
        let mut tensor = 0;
        let mut buffers = parts.buffers.iter_mut();
        let mut params = params.iter_mut();
        for (config, &end) in parts.configs.iter().zip(parts.group_end) {
            let s = StepScalars::from_config(config);
            while tensor < end {
                let (Some(param), Some(buf)) = (params.next(), buffers.next()) else { return };
                if let Some(grad) = grads[tensor] {
                    let buf = s.has_momentum.then(|| {
                        MomentumBuffer::new(buf.as_mut_slice(), !parts.initialized[tensor])
                    });
                    f(Piece { s, param, grad, buf });
                }
                tensor += 1;
            }
        }
    }
}

impl core::fmt::Debug for Sgd {
    /// Options and sizes, not the buffer contents.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut d = f.debug_struct("Sgd");
        d.field("configs", &self.configs)
            .field("group_end", &self.group_end)
            .field("numels", &self.numels)
            .field("initialized", &self.initialized)
            .field("backend", &self.backend);
        #[cfg(feature = "std")]
        d.field("threads", &self.threads());
        d.finish()
    }
}

/// Disjoint borrows of [`Sgd`]'s fields for building pieces.
struct Parts<'a> {
    configs: &'a [SgdConfig],
    group_end: &'a [usize],
    buffers: &'a mut [PlacedBuffer],
    initialized: &'a [bool],
}

//! [`CandleSgd`]: the optimizer.

mod scheduled_groups;

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var};
use sched_core::{ParamGroup, SchedError, Scheduler};
use sgd_core::{SgdConfig, inject_hyperparams};
use sgd_cpu::{StepOptions, StepOutcome, TensorGroup, TensorSlot, ThreadPool};

use crate::cpu::{self, MAX_NESTED, RawTensor};
use crate::{CandleSgdError, VarGroup};

/// Elements from which a fused pass runs on the thread pool ([`CandleSgd::with_threads`]):
/// below sgd-cpu's [`ThreadPool::DEFAULT_PARALLEL_THRESHOLD`] (256 Ki), because a pass holds
/// at most [`MAX_NESTED`] tensors, so a large model's step is several passes that each fall
/// below the default more often.
pub const PASS_PARALLEL_THRESHOLD: usize = 64 * 1024;

/// When an attached schedule steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScheduleEvery {
    /// After every [`CandleSgd::step`] (per-iteration schedules: OneCycleLR, CyclicLR, warmup
    /// counted in steps).
    Step,
    /// When [`CandleSgd::end_epoch`] (or [`CandleSgd::end_epoch_with_metric`]) is called.
    Epoch,
}

/// One group's state: its variables, options and momentum buffers.
#[derive(Debug)]
struct Group {
    vars: Vec<Var>,
    config: SgdConfig,
    /// One buffer per variable (empty until the group has momentum and the variable a
    /// gradient), and whether it holds a value (torch: the buffer exists).
    buffers: Vec<Vec<f32>>,
    initialized: Vec<bool>,
}

/// A variable's momentum buffer and its "initialised" flag, borrowed for one step.
type MomentumState<'a> = (&'a mut Vec<f32>, &'a mut bool);

/// A schedule driving the groups' learning rates.
struct Scheduled<'s> {
    scheduler: Scheduler<'s>,
    every: ScheduleEvery,
    groups: Vec<ParamGroup>,
}

/// `torch.optim.SGD` over candle variables in parameter groups, with sgd-cpu's fused step (one
/// pass over all tensors of all groups, on a thread pool for large steps) and, optionally, a
/// sched-core schedule.
///
/// The update of every element is sgd-cpu's scalar reference, bit for bit (see
/// `sgd_cpu::scalar`): `torch.optim.SGD` with momentum, dampening, nesterov, weight decay and
/// maximize per group. Momentum buffers are owned here (host memory for CPU variables). A
/// variable without a gradient in the [`GradStore`] is skipped (torch's `p.grad is None`).
///
/// `'s` is the lifetime of the children of a composite schedule (SequentialLR,
/// ChainedScheduler), which sched-core keeps wherever the caller puts them; `'static` when
/// there is no schedule or a leaf one.
pub struct CandleSgd<'s> {
    groups: Vec<Group>,
    pool: Option<ThreadPool>,
    options: StepOptions,
    schedule: Option<Scheduled<'s>>,
    /// The CUDA device's stream, momentum buffers and step, when a group is on one.
    #[cfg(feature = "cuda")]
    cuda: Option<crate::cuda::CudaState>,
}

impl core::fmt::Debug for CandleSgd<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CandleSgd")
            .field("groups", &self.groups)
            .field("options", &self.options)
            .field("scheduled", &self.schedule.as_ref().map(|s| (s.scheduler.kind(), s.every)))
            .finish_non_exhaustive()
    }
}

/// Two step outcomes as one: counts summed, the first one's backend (a skipped step stays
/// skipped).
fn add(a: StepOutcome, b: StepOutcome) -> StepOutcome {
    match (a, b) {
        (
            StepOutcome::Applied { tensors, elements, backend },
            StepOutcome::Applied { tensors: t, elements: e, .. },
        ) => StepOutcome::Applied { tensors: tensors + t, elements: elements + e, backend },
        (StepOutcome::Applied { .. }, other) => other,
        (other, _) => other,
    }
}

/// Address range of an f32 CPU tensor's data (for the aliasing check).
fn cpu_range(t: &Tensor) -> Option<(usize, usize)> {
    let (storage, layout) = t.storage_and_layout();
    let candle_core::Storage::Cpu(candle_core::CpuStorage::F32(v)) = &*storage else {
        return None;
    };
    let (start, end) = layout.contiguous_offsets()?;
    let base = v.as_ptr() as usize;
    Some((base + 4 * start, base + 4 * end))
}

/// The address space of a range: host memory, or the optimizer's CUDA device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Memory {
    Host,
    #[cfg_attr(not(feature = "cuda"), allow(dead_code))] // only CUDA variables live there
    Cuda,
}

/// A tensor's element addresses `[start, end)` in one address space.
type Span = (Memory, (usize, usize));

fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

impl<'s> CandleSgd<'s> {
    /// An optimizer over `groups`. Checks every variable (f32, contiguous, on the device of
    /// its group's first variable: the CPU, or with the `cuda` feature one CUDA device for the
    /// whole optimizer) and that no two variables share memory; validates every group's
    /// options as `torch.optim.SGD` does.
    ///
    /// # Errors
    /// The first problem found, naming the group and variable.
    pub fn new(groups: Vec<VarGroup>) -> Result<Self, CandleSgdError> {
        let mut ranges: Vec<((usize, usize), Span)> = Vec::new();
        // The one non-CPU device seen so far.
        let mut devices: Vec<Device> = Vec::new();
        for (gi, g) in groups.iter().enumerate() {
            g.config.validate(gi)?;
            let device = g.vars.first().map(|v| v.device().clone());
            for (vi, v) in g.vars.iter().enumerate() {
                if v.dtype() != DType::F32 {
                    return Err(CandleSgdError::NotF32 { group: gi, var: vi, dtype: v.dtype() });
                }
                if !v.as_tensor().is_contiguous() {
                    return Err(CandleSgdError::NotContiguous { group: gi, var: vi });
                }
                if device.as_ref().is_some_and(|d| !d.same_device(v.device())) {
                    return Err(CandleSgdError::DeviceMismatch { group: gi, var: vi });
                }
                if !Self::steps_device(v.device(), &devices) {
                    return Err(CandleSgdError::UnsupportedDevice {
                        group: gi,
                        device: format!("{:?}", v.device().location()),
                    });
                }
                if !matches!(v.device(), Device::Cpu) && devices.is_empty() {
                    devices.push(v.device().clone());
                }
                if let Some((memory, r)) = Self::address_range(v.as_tensor())? {
                    if let Some((other, _)) =
                        ranges.iter().find(|(_, (m, o))| *m == memory && overlaps(r, *o))
                    {
                        return Err(CandleSgdError::SharedStorage {
                            first: *other,
                            second: (gi, vi),
                        });
                    }
                    ranges.push(((gi, vi), (memory, r)));
                }
            }
        }
        #[cfg(feature = "cuda")]
        let cuda = {
            let sizes: Vec<usize> = groups.iter().map(|g| g.vars.len()).collect();
            devices.first().and_then(|d| crate::cuda::CudaState::for_device(d, &sizes))
        };
        let groups = groups
            .into_iter()
            .map(|g| {
                let n = g.vars.len();
                Group {
                    vars: g.vars,
                    config: g.config,
                    buffers: vec![Vec::new(); n],
                    initialized: vec![false; n],
                }
            })
            .collect();
        Ok(Self {
            groups,
            pool: None,
            options: StepOptions::default(),
            schedule: None,
            #[cfg(feature = "cuda")]
            cuda,
        })
    }

    /// Where `t`'s elements are, for the check that no two variables share memory: host
    /// addresses of a CPU tensor and, with the `cuda` feature, device addresses of a CUDA tensor
    /// (an optimizer has at most one CUDA device).
    fn address_range(t: &Tensor) -> Result<Option<Span>, CandleSgdError> {
        #[cfg(feature = "cuda")]
        if let Device::Cuda(d) = t.device() {
            let (a, b) = crate::cuda::device_range(t, &d.cuda_stream())?;
            let at = |x: u64| usize::try_from(x).unwrap_or(usize::MAX);
            return Ok(Some((Memory::Cuda, (at(a), at(b)))));
        }
        Ok(cpu_range(t).map(|r| (Memory::Host, r)))
    }

    /// Whether this build steps variables on `device`, given the non-CPU device already taken
    /// (`devices`: at most one).
    // Without the `cuda` feature only the CPU is stepped and `devices` is not needed.
    #[cfg_attr(not(feature = "cuda"), allow(unused_variables))]
    fn steps_device(device: &Device, devices: &[Device]) -> bool {
        match device {
            Device::Cpu => true,
            #[cfg(feature = "cuda")]
            Device::Cuda(_) => devices.first().is_none_or(|d| d.same_device(device)),
            _ => false,
        }
    }

    /// Runs large steps on `threads` threads (sgd-cpu's pool; `0`: all cores). Results are
    /// the same bits for every thread count.
    ///
    /// # Errors
    /// sgd-cpu's thread pool errors (over [`ThreadPool::MAX_THREADS`], or a thread that cannot
    /// start).
    pub fn with_threads(mut self, threads: usize) -> Result<Self, CandleSgdError> {
        let mut pool = ThreadPool::new(threads)?;
        pool.set_parallel_threshold(PASS_PARALLEL_THRESHOLD);
        self.pool = (pool.threads() > 1).then_some(pool);
        Ok(self)
    }

    /// Attaches a schedule: `build` constructs it on parameter groups carrying the groups'
    /// current lrs (and momentum), exactly as PyTorch builds a scheduler on
    /// `optimizer.param_groups` (its construction step runs then), and the lrs it writes become
    /// the groups' lrs. It then steps after every [`CandleSgd::step`] or at
    /// [`CandleSgd::end_epoch`], as `every` says.
    ///
    /// ```
    /// use candle_core::{Device, Var};
    /// use sched_core::{CosineAnnealingLr, CosineAnnealingLrConfig, Scheduler};
    /// use sgd_candle::{CandleSgd, ScheduleEvery, VarGroup};
    /// use sgd_cpu::SgdConfig;
    ///
    /// let w = Var::zeros(4, candle_core::DType::F32, &Device::Cpu)?;
    /// let group = VarGroup { vars: vec![w], config: SgdConfig { lr: 0.1, ..SgdConfig::default() } };
    /// let opt = CandleSgd::new(vec![group])?.with_schedule(
    ///     |groups| Ok(Scheduler::CosineAnnealing(CosineAnnealingLr::new(CosineAnnealingLrConfig::new(10), groups)?)),
    ///     ScheduleEvery::Epoch,
    /// )?;
    /// assert_eq!(opt.group_lr(0)?, 0.1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// What `build` returns; the options it sets, refused as a step refuses them.
    pub fn with_schedule(
        mut self,
        build: impl FnOnce(&mut [ParamGroup]) -> Result<Scheduler<'s>, SchedError>,
        every: ScheduleEvery,
    ) -> Result<Self, CandleSgdError> {
        let mut groups: Vec<ParamGroup> = self
            .groups
            .iter()
            .map(|g| ParamGroup::new(g.config.lr).with_momentum(g.config.momentum))
            .collect();
        let scheduler = build(&mut groups)?;
        self.schedule = Some(Scheduled { scheduler, every, groups });
        self.apply_schedule()?;
        Ok(self)
    }

    /// Writes what the attached schedule put into its groups (lr, cycled momentum) into the
    /// groups' options ([`inject_hyperparams`]).
    fn apply_schedule(&mut self) -> Result<(), CandleSgdError> {
        let Some(schedule) = self.schedule.take() else { return Ok(()) };
        let injected = inject_hyperparams(&schedule.groups, self);
        self.schedule = Some(schedule);
        injected
    }

    /// Steps the attached schedule once (`scheduler.step()`, or `step(metric)` for
    /// ReduceLROnPlateau).
    fn step_schedule(&mut self, metric: Option<f64>) -> Result<(), CandleSgdError> {
        if let Some(s) = &mut self.schedule {
            match metric {
                Some(m) => s.scheduler.step_with_metric(m, &mut s.groups)?,
                None => s.scheduler.step(&mut s.groups)?,
            }
            self.apply_schedule()?;
        }
        Ok(())
    }

    /// The end of an epoch: steps a schedule attached with [`ScheduleEvery::Epoch`].
    ///
    /// # Errors
    /// The schedule's error (e.g. OneCycleLR past `total_steps`, ReduceLROnPlateau without a
    /// metric: use [`CandleSgd::end_epoch_with_metric`]).
    pub fn end_epoch(&mut self) -> Result<(), CandleSgdError> {
        if self.schedule.as_ref().is_some_and(|s| s.every == ScheduleEvery::Epoch) {
            self.step_schedule(None)?;
        }
        Ok(())
    }

    /// [`CandleSgd::end_epoch`] for ReduceLROnPlateau: steps on `metric`.
    ///
    /// # Errors
    /// As [`CandleSgd::end_epoch`].
    pub fn end_epoch_with_metric(&mut self, metric: f64) -> Result<(), CandleSgdError> {
        if self.schedule.as_ref().is_some_and(|s| s.every == ScheduleEvery::Epoch) {
            self.step_schedule(Some(metric))?;
        }
        Ok(())
    }

    /// The learning rate group `group` steps with next.
    ///
    /// # Errors
    /// [`CandleSgdError::NoSuchGroup`].
    pub fn group_lr(&self, group: usize) -> Result<f64, CandleSgdError> {
        self.groups
            .get(group)
            .map(|g| g.config.lr)
            .ok_or(CandleSgdError::NoSuchGroup { group, groups: self.groups.len() })
    }

    /// Sets group `group`'s learning rate (and the schedule's view of it: a chainable schedule
    /// continues from it, as in PyTorch when `param_groups[i]["lr"]` is set by hand).
    ///
    /// # Errors
    /// [`CandleSgdError::NoSuchGroup`], or an invalid lr (`SgdError`).
    pub fn set_group_lr(&mut self, group: usize, lr: f64) -> Result<(), CandleSgdError> {
        let groups = self.groups.len();
        let g = self.groups.get_mut(group).ok_or(CandleSgdError::NoSuchGroup { group, groups })?;
        SgdConfig { lr, ..g.config }.validate(group)?;
        g.config.lr = lr;
        if let Some(sg) = self.schedule.as_mut().and_then(|s| s.groups.get_mut(group)) {
            sg.lr = lr;
        }
        Ok(())
    }

    /// Mixed precision: divide every gradient element by `scale` inside the pass (torch's fused
    /// `grad_scale`); `None` turns it off.
    pub fn set_grad_scale(&mut self, scale: Option<f32>) {
        self.options.grad_scale = scale;
    }

    /// torch's fused `found_inf`: while set, steps change nothing (the schedule does not step
    /// either).
    pub fn set_found_inf(&mut self, found_inf: bool) {
        self.options.found_inf = found_inf;
    }

    /// Momentum buffer of variable `var` of group `group` (`None` before its first step with
    /// momentum, and always for a CUDA variable: see [`CandleSgd::momentum_to_vec`]).
    pub fn momentum_buffer(&self, group: usize, var: usize) -> Option<&[f32]> {
        let g = self.groups.get(group)?;
        g.initialized.get(var).copied().filter(|&i| i).map(|_| g.buffers[var].as_slice())
    }

    /// Momentum buffer of variable `var` of group `group` as a vector, on any device (copied from
    /// the GPU for a CUDA variable); `None` before its first step with momentum.
    ///
    /// # Errors
    /// A failed device-to-host copy.
    pub fn momentum_to_vec(
        &self,
        group: usize,
        var: usize,
    ) -> Result<Option<Vec<f32>>, CandleSgdError> {
        #[cfg(feature = "cuda")]
        if let Some(c) = &self.cuda
            && self
                .groups
                .get(group)
                .and_then(|g| g.vars.get(var))
                .is_some_and(|v| c.is_device(v.device()))
        {
            return c.momentum_to_vec(group, var);
        }
        Ok(self.momentum_buffer(group, var).map(<[f32]>::to_vec))
    }

    /// One `optimizer.step()` with the gradients in `grads`, then a schedule attached with
    /// [`ScheduleEvery::Step`] steps.
    ///
    /// Checks every gradient (f32, the variable's device and element count; a non-contiguous
    /// gradient is copied contiguous) and that no gradient shares memory with a variable
    /// before anything is written. With CUDA variables, everything of their step that can fail
    /// (momentum buffer allocation, the overlap check, the kernel compile on first use, the
    /// option and scale uploads) is done before the CPU groups are written; the launch itself
    /// comes last, one for all CUDA variables.
    ///
    /// The outcome counts the tensors and elements of every pass, CPU and CUDA; its `backend`
    /// is the CPU's.
    ///
    /// # Errors
    /// The first problem found; sgd-cpu's and sgd-cuda's step errors; the schedule's.
    pub fn step(&mut self, grads: &GradStore) -> Result<StepOutcome, CandleSgdError> {
        let param_ranges: Vec<((usize, usize), (usize, usize))> = self
            .groups
            .iter()
            .enumerate()
            .flat_map(|(gi, g)| {
                g.vars
                    .iter()
                    .enumerate()
                    .filter_map(move |(vi, v)| cpu_range(v.as_tensor()).map(|r| ((gi, vi), r)))
            })
            .collect();
        // (group, var, param, grad) of every variable with a gradient, in order.
        let mut work: Vec<(usize, usize, Tensor, Tensor)> = Vec::new();
        for (gi, g) in self.groups.iter().enumerate() {
            for (vi, v) in g.vars.iter().enumerate() {
                let Some(grad) = grads.get(v.as_tensor()) else { continue };
                if grad.dtype() != DType::F32 {
                    return Err(CandleSgdError::NotF32 { group: gi, var: vi, dtype: grad.dtype() });
                }
                if !grad.device().same_device(v.device()) {
                    return Err(CandleSgdError::DeviceMismatch { group: gi, var: vi });
                }
                if grad.elem_count() != v.elem_count() {
                    return Err(CandleSgdError::GradientShape {
                        group: gi,
                        var: vi,
                        expected: v.elem_count(),
                        got: grad.elem_count(),
                    });
                }
                // A strided gradient (e.g. of a transposed view) is copied, once.
                let grad = grad.contiguous()?;
                if let Some(r) = cpu_range(&grad)
                    && let Some((p, _)) = param_ranges.iter().find(|(_, o)| overlaps(r, *o))
                {
                    return Err(CandleSgdError::SharedStorage { first: *p, second: (gi, vi) });
                }
                work.push((gi, vi, v.as_tensor().clone(), grad));
            }
        }
        // CUDA variables: one launch for all of them, checked (and their addresses taken) before
        // the CPU pass writes anything.
        #[cfg(feature = "cuda")]
        let (work, cuda_work): (Vec<_>, Vec<_>) =
            work.into_iter().partition(|(_, _, p, _)| matches!(p.device(), Device::Cpu));
        #[cfg(feature = "cuda")]
        let configs: Vec<SgdConfig> = self.groups.iter().map(|g| g.config).collect();
        #[cfg(feature = "cuda")]
        let prepared = match self.cuda.as_mut() {
            Some(c) if !cuda_work.is_empty() => {
                Some(c.prepare(&configs, self.options.grad_scale, &cuda_work)?)
            }
            _ => None,
        };
        // The CPU passes, their counts summed (an empty pass still checks the step options).
        let mut cpu = None;
        for batch in work.chunks(MAX_NESTED) {
            let done = self.fused_pass(batch)?;
            cpu = Some(cpu.map_or(done, |sum| add(sum, done)));
        }
        let outcome = match cpu {
            Some(outcome) => outcome,
            None => self.fused_pass(&[])?,
        };
        #[cfg(feature = "cuda")]
        let outcome = match (self.cuda.as_mut(), prepared) {
            (Some(c), Some(p)) if !self.options.found_inf => {
                c.launch(&p, &cuda_work)?;
                match outcome {
                    StepOutcome::Applied { tensors, elements, backend } => StepOutcome::Applied {
                        tensors: tensors + p.tensors(),
                        elements: elements + p.elements(),
                        backend,
                    },
                    skipped => skipped,
                }
            }
            _ => outcome,
        };
        if !self.options.found_inf
            && self.schedule.as_ref().is_some_and(|s| s.every == ScheduleEvery::Step)
        {
            self.step_schedule(None)?;
        }
        Ok(outcome)
    }

    /// One fused sgd-cpu step over `batch` (at most [`MAX_NESTED`] tensors).
    fn fused_pass(
        &mut self,
        batch: &[(usize, usize, Tensor, Tensor)],
    ) -> Result<StepOutcome, CandleSgdError> {
        // Buffers of the tensors with a gradient in a group with momentum, allocated on their
        // first use (torch creates them at the first step).
        for &(gi, vi, ref p, _) in batch {
            let g = &mut self.groups[gi];
            if g.config.momentum != 0.0 && g.buffers[vi].len() != p.elem_count() {
                g.buffers[vi] = vec![0.0; p.elem_count()];
            }
        }
        let pairs: Vec<(Tensor, Tensor)> =
            batch.iter().map(|(_, _, p, g)| (p.clone(), g.clone())).collect();
        let configs: Vec<SgdConfig> = self.groups.iter().map(|g| g.config).collect();
        let (groups, pool, options) = (&mut self.groups, &self.pool, &self.options);
        let mut result = None;
        let mut leaf = |raw: &[RawTensor]| -> candle_core::Result<()> {
            // Each variable's momentum state, to be taken once by its slot.
            let mut state: Vec<Vec<Option<MomentumState<'_>>>> = groups
                .iter_mut()
                .map(|g| g.buffers.iter_mut().zip(g.initialized.iter_mut()).map(Some).collect())
                .collect();
            let mut slots: Vec<Vec<TensorSlot<'_>>> = configs.iter().map(|_| Vec::new()).collect();
            for (&(gi, vi, _, _), t) in batch.iter().zip(raw) {
                // SAFETY: `t` was recorded by an enclosing in-place op that is still running
                // (`cpu::nested`): `param` comes from that op's `&mut` storage of this variable,
                // `grad` from its shared gradient storage, both `len` elements long. Variables are
                // distinct and do not overlap (checked in `new`), no gradient overlaps a variable
                // (checked in `step`), and candle holds each variable's write lock until its op
                // returns, so these are the only references to the parameters during the step.
                let (param, grad) = unsafe {
                    (
                        core::slice::from_raw_parts_mut(t.param, t.len),
                        core::slice::from_raw_parts(t.grad, t.len),
                    )
                };
                let slot = match state[gi][vi].take() {
                    Some((buffer, initialized)) if !buffer.is_empty() => {
                        TensorSlot::with_momentum(param, Some(grad), buffer, initialized)
                    }
                    _ => TensorSlot::new(param, Some(grad)),
                };
                slots[gi].push(slot);
            }
            // Every group, even one without tensors here, so that errors name the right group.
            let mut param_groups: Vec<TensorGroup<'_, '_>> = slots
                .iter_mut()
                .zip(&configs)
                .map(|(tensors, &config)| TensorGroup { config, tensors })
                .collect();
            result = Some(match pool {
                Some(p) => p.fused_step(&mut param_groups, options),
                None => sgd_cpu::fused_step(&mut param_groups, options),
            });
            Ok(())
        };
        cpu::nested(&pairs, &mut leaf)?;
        match result {
            Some(r) => Ok(r?),
            None => {
                Err(candle_core::Error::Msg("sgd-candle: the fused pass did not run".into()).into())
            }
        }
    }

    /// The variables of group `group`, in order.
    pub fn vars(&self, group: usize) -> Option<&[Var]> {
        self.groups.get(group).map(|g| g.vars.as_slice())
    }
}

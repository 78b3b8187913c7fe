//! `lrkit train --dtype f64|bf16|f16 [--master] [--stochastic]`: the model's parameters kept in
//! that dtype and stepped by sgd-cpu's typed step, as a model trained in that dtype is. The
//! network computes in f32 from the stored values widened (exactly); its f32 gradients are
//! rounded to the dtype (to nearest) as a model of that dtype receives them; after each step
//! the f32 copy the network reads is the stored parameter widened (f64: rounded to f32).

use sgd_core::SgdConfig;
use sgd_cpu::{
    Bf16, F16, Rounding, StepOptions, TensorMut, TensorRef, ThreadPool, TypedGroup, TypedMomentum,
    TypedSlot, TypedStepOptions, convert,
};

use crate::dtype_arg::DtypeArg;
use crate::error::CliError;

/// The values of one tensor in the stored dtype.
#[derive(Debug)]
enum Stored {
    F64(Vec<f64>),
    Bf16(Vec<Bf16>),
    F16(Vec<F16>),
}

impl Stored {
    /// `x` rounded to `dtype` (to nearest even).
    fn of(dtype: DtypeArg, x: &[f32]) -> Self {
        match dtype {
            DtypeArg::F64 | DtypeArg::F32 => Self::F64(x.iter().map(|&v| f64::from(v)).collect()),
            DtypeArg::Bf16 => {
                Self::Bf16(x.iter().map(|&v| Bf16(convert::f32_to_bf16(v))).collect())
            }
            DtypeArg::F16 => Self::F16(x.iter().map(|&v| F16(convert::f32_to_f16(v))).collect()),
        }
    }

    /// Overwrites the values with `x` rounded.
    fn set(&mut self, x: &[f32]) {
        match self {
            Self::F64(s) => s.iter_mut().zip(x).for_each(|(d, &v)| *d = f64::from(v)),
            Self::Bf16(s) => {
                s.iter_mut().zip(x).for_each(|(d, &v)| *d = Bf16(convert::f32_to_bf16(v)))
            }
            Self::F16(s) => {
                s.iter_mut().zip(x).for_each(|(d, &v)| *d = F16(convert::f32_to_f16(v)))
            }
        }
    }

    /// The values as the f32 network reads them.
    #[allow(clippy::cast_possible_truncation)] // f64 -> f32: the network computes in f32
    fn widen_into(&self, out: &mut [f32]) {
        match self {
            Self::F64(s) => out.iter_mut().zip(s).for_each(|(d, &v)| *d = v as f32),
            Self::Bf16(s) => {
                out.iter_mut().zip(s).for_each(|(d, v)| *d = convert::bf16_to_f32(v.0))
            }
            Self::F16(s) => out.iter_mut().zip(s).for_each(|(d, v)| *d = convert::f16_to_f32(v.0)),
        }
    }

    fn as_mut(&mut self) -> TensorMut<'_> {
        match self {
            Self::F64(v) => TensorMut::F64(v),
            Self::Bf16(v) => TensorMut::Bf16(v),
            Self::F16(v) => TensorMut::F16(v),
        }
    }

    fn as_ref(&self) -> TensorRef<'_> {
        match self {
            Self::F64(v) => TensorRef::F64(v),
            Self::Bf16(v) => TensorRef::Bf16(v),
            Self::F16(v) => TensorRef::F16(v),
        }
    }
}

/// One parameter tensor's state.
#[derive(Debug)]
struct Tensor {
    group: usize,
    param: Stored,
    grad: Stored,
    /// The momentum buffer: the dtype, or f32 with a master copy.
    momentum: Momentum,
    master: Option<Vec<f32>>,
    initialized: bool,
}

#[derive(Debug)]
enum Momentum {
    Stored(Stored),
    F32(Vec<f32>),
}

/// The typed optimizer: parameters, gradients, buffers (and master copies) in the dtype.
#[derive(Debug)]
pub(crate) struct TypedOptimizer {
    pool: ThreadPool,
    configs: Vec<SgdConfig>,
    tensors: Vec<Tensor>,
    rounding: Rounding,
    step: u32,
}

impl TypedOptimizer {
    /// The optimizer of `params` (f32 initial values, rounded to `dtype`), `group_of[i]`
    /// the group of tensor `i`.
    pub(crate) fn new(
        dtype: DtypeArg,
        master: bool,
        stochastic: bool,
        configs: &[SgdConfig],
        params: &[&[f32]],
        group_of: &[usize],
    ) -> Result<Self, CliError> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let pool = ThreadPool::new(threads.min(ThreadPool::MAX_THREADS))
            .map_err(|e| CliError::Runtime(format!("optimizer: {e}")))?;
        let tensors = params
            .iter()
            .zip(group_of)
            .map(|(p, &group)| Tensor {
                group,
                param: Stored::of(dtype, p),
                grad: Stored::of(dtype, &vec![0.0; p.len()]),
                momentum: if master {
                    Momentum::F32(vec![0.0; p.len()])
                } else {
                    Momentum::Stored(Stored::of(dtype, &vec![0.0; p.len()]))
                },
                master: master.then(|| p.to_vec()),
                initialized: false,
            })
            .collect();
        let rounding = if stochastic { Rounding::Stochastic } else { Rounding::NearestEven };
        Ok(Self { pool, configs: configs.to_vec(), tensors, rounding, step: 0 })
    }

    /// The f32 values the network computes with: the stored parameters widened.
    pub(crate) fn write_params(&self, params: &mut [&mut [f32]]) {
        for (t, p) in self.tensors.iter().zip(params.iter_mut()) {
            t.param.widen_into(p);
        }
    }

    /// One step with the f32 gradients `grads` (rounded to the dtype), then the network's
    /// copy of the parameters updated.
    pub(crate) fn step(
        &mut self,
        params: &mut [&mut [f32]],
        grads: &[&[f32]],
    ) -> Result<(), CliError> {
        for (t, g) in self.tensors.iter_mut().zip(grads) {
            t.grad.set(g);
        }
        let mut slots: Vec<Vec<TypedSlot<'_>>> = self.configs.iter().map(|_| Vec::new()).collect();
        for t in &mut self.tensors {
            let Tensor { group, param, grad, momentum, master, initialized } = t;
            let mut slot = TypedSlot::new(param.as_mut(), Some(grad.as_ref()));
            let buffer = match momentum {
                Momentum::Stored(s) => s.as_mut(),
                Momentum::F32(v) => TensorMut::F32(v),
            };
            slot.momentum = Some(TypedMomentum { buffer, initialized });
            slot.master = master.as_deref_mut();
            slot.rounding = self.rounding;
            slots[*group].push(slot);
        }
        let mut groups: Vec<TypedGroup<'_, '_>> = self
            .configs
            .iter()
            .zip(slots.iter_mut())
            .map(|(&config, tensors)| TypedGroup { config, tensors })
            .collect();
        self.step = self.step.wrapping_add(1);
        let opts = TypedStepOptions {
            options: StepOptions::default(),
            seed: 0,
            step: self.step,
            ..TypedStepOptions::default()
        };
        self.pool
            .typed_step(&mut groups, &opts)
            .map_err(|e| CliError::Runtime(format!("optimizer: {e}")))?;
        drop(groups);
        self.write_params(params);
        Ok(())
    }

    /// The options of `group`.
    pub(crate) fn group_options(&self, group: usize) -> Option<SgdConfig> {
        self.configs.get(group).copied()
    }

    /// Sets the options of `group` (checked by the next step).
    pub(crate) fn set_group_options(&mut self, group: usize, options: SgdConfig) -> bool {
        match self.configs.get_mut(group) {
            Some(c) => {
                *c = options;
                true
            }
            None => false,
        }
    }

    /// Number of groups.
    pub(crate) fn group_count(&self) -> usize {
        self.configs.len()
    }
}

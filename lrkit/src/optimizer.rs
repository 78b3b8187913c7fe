//! The fused SGD a training run uses: `sgd_cpu::Sgd` on the CPU, or `sgd_cuda::CudaSgd`
//! on an NVIDIA GPU (`--device cuda`).

use sgd_core::{GroupCountMismatch, ScheduledGroups, SgdConfig};
use sgd_cpu::{GroupSpec, Sgd};
use sgd_cuda::{BufferId, CudaSgd, CudaSgdOptions, TensorRef};

use crate::dtype_arg::DtypeArg;
use crate::error::CliError;
use crate::typed_optimizer::TypedOptimizer;

/// The storage options of `lrkit train` (`--dtype`, `--master`, `--stochastic`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Storage {
    pub(crate) dtype: DtypeArg,
    pub(crate) master: bool,
    pub(crate) stochastic: bool,
}

/// Where the optimizer step runs (`--device`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Device {
    /// sgd-cpu (SIMD backend chosen at run time)
    Cpu,
    /// sgd-cuda on GPU 0 (also accepted: gpu)
    #[value(alias = "gpu")]
    Cuda,
}

impl core::fmt::Display for Device {
    /// `cpu (avx512)` with the sgd-cpu backend in use, or `cuda`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Device::Cpu => write!(f, "cpu ({})", sgd_cpu::Backend::active()),
            Device::Cuda => f.write_str("cuda"),
        }
    }
}

/// A fused SGD over a fixed list of tensors in parameter groups.
pub(crate) enum Optimizer {
    /// On the CPU.
    Cpu(Sgd),
    /// On the GPU: parameters and gradients live in device buffers `2i` and `2i + 1`; each
    /// step uploads the gradients, launches once, and downloads the parameters.
    Cuda(Box<CudaSgd>),
    /// `--dtype f64|bf16|f16`: sgd-cpu's typed step on parameters stored in that dtype.
    Typed(Box<TypedOptimizer>),
}

impl core::fmt::Debug for Optimizer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Optimizer::Cpu(s) => s.fmt(f),
            Optimizer::Cuda(_) => f.write_str("CudaSgd"),
            Optimizer::Typed(t) => t.fmt(f),
        }
    }
}

fn runtime(e: sgd_cpu::SgdError) -> CliError {
    CliError::Runtime(format!("optimizer: {e}"))
}

fn cuda_err(e: impl core::fmt::Display) -> CliError {
    CliError::Runtime(format!("--device cuda: {e} (--device cpu runs anywhere)"))
}

impl Optimizer {
    /// An optimizer for `params` (initial values), tensor `i` in group `group_of[i]`.
    pub(crate) fn new(
        device: Device,
        storage: Storage,
        configs: &[SgdConfig],
        params: &[&[f32]],
        group_of: &[usize],
    ) -> Result<Self, CliError> {
        if storage.dtype != DtypeArg::F32 {
            if device == Device::Cuda {
                return Err(CliError::Usage(format!(
                    "--dtype {} runs on --device cpu (the CUDA step of lrkit train is float32)",
                    storage.dtype
                )));
            }
            let Storage { dtype, master, stochastic } = storage;
            return TypedOptimizer::new(dtype, master, stochastic, configs, params, group_of)
                .map(|t| Optimizer::Typed(Box::new(t)));
        }
        match device {
            Device::Cpu => {
                let mut specs: Vec<GroupSpec> = configs
                    .iter()
                    .map(|&config| GroupSpec { config, numels: Vec::new() })
                    .collect();
                // sgd-cpu takes tensors grouped: group 0's, then group 1's, ...
                for (p, &g) in params.iter().zip(group_of) {
                    specs[g].numels.push(p.len());
                }
                Sgd::new(specs)
                    .map(Optimizer::Cpu)
                    .map_err(|e| CliError::Usage(format!("optimizer: {e}")))
            }
            Device::Cuda => {
                let stream = sgd_cuda::device::open_stream(0).map_err(cuda_err)?;
                let mut buffers = Vec::with_capacity(2 * params.len());
                let mut tensors = Vec::with_capacity(params.len());
                for (i, (p, &group)) in params.iter().zip(group_of).enumerate() {
                    buffers.push(stream.clone_htod(*p).map_err(cuda_err)?);
                    buffers.push(stream.alloc_zeros::<f32>(p.len()).map_err(cuda_err)?);
                    tensors.push(TensorRef {
                        group,
                        param_buffer: BufferId(2 * i),
                        params: 0..p.len(),
                        grad_buffer: BufferId(2 * i + 1),
                        grads: 0..p.len(),
                    });
                }
                CudaSgd::new(stream, configs.to_vec(), buffers, tensors, CudaSgdOptions::default())
                    .map(|s| Optimizer::Cuda(Box::new(s)))
                    .map_err(cuda_err)
            }
        }
    }

    /// One step with each group's options ([`ScheduledGroups::group_options`], its lr
    /// included); `params` and `grads` in the order given to [`Optimizer::new`] (which must
    /// list tensors group by group).
    pub(crate) fn step(
        &mut self,
        params: &mut [&mut [f32]],
        grads: &[&[f32]],
    ) -> Result<(), CliError> {
        match self {
            Optimizer::Cpu(sgd) => {
                let grads: Vec<Option<&[f32]>> = grads.iter().map(|g| Some(*g)).collect();
                sgd.step(params, &grads).map_err(runtime)?;
            }
            Optimizer::Cuda(sgd) => {
                let stream = sgd.stream().clone();
                for (i, g) in grads.iter().enumerate() {
                    let mut view = sgd.buffer_mut(BufferId(2 * i + 1)).map_err(cuda_err)?;
                    stream.memcpy_htod(*g, &mut view).map_err(cuda_err)?;
                }
                let lrs: Vec<f64> =
                    (0..sgd.group_count()).map(|g| sgd.group_options(g).lr).collect();
                sgd.step(&lrs).map_err(cuda_err)?;
                for (i, p) in params.iter_mut().enumerate() {
                    p.copy_from_slice(&sgd.params_to_host(i).map_err(cuda_err)?);
                }
            }
            Optimizer::Typed(t) => t.step(params, grads)?,
        }
        Ok(())
    }

    /// Sets the network's parameters to the values the optimizer holds (for a typed
    /// optimizer, its stored initial values widened; the f32 optimizers hold the network's
    /// own values).
    pub(crate) fn sync_params(&self, params: &mut [&mut [f32]]) {
        if let Optimizer::Typed(t) = self {
            t.write_params(params);
        }
    }
}

/// What a scheduler drives: the group options of sgd-cpu's `Sgd` or sgd-cuda's `CudaSgd` (their
/// own [`ScheduledGroups`]), with their errors as a step reports them.
impl ScheduledGroups for Optimizer {
    type Error = CliError;

    fn group_count(&self) -> usize {
        match self {
            Optimizer::Cpu(sgd) => sgd.group_count(),
            Optimizer::Cuda(sgd) => sgd.group_count(),
            Optimizer::Typed(t) => t.group_count(),
        }
    }

    fn group_options(&self, group: usize) -> SgdConfig {
        match self {
            Optimizer::Cpu(sgd) => sgd.group_options(group),
            Optimizer::Cuda(sgd) => sgd.group_options(group),
            Optimizer::Typed(t) => t.group_options(group).unwrap_or_default(),
        }
    }

    fn set_group_options(&mut self, group: usize, options: SgdConfig) -> Result<(), CliError> {
        match self {
            Optimizer::Cpu(sgd) => sgd.set_group_options(group, options).map_err(runtime),
            Optimizer::Cuda(sgd) => sgd.set_group_options(group, options).map_err(cuda_err),
            Optimizer::Typed(t) => {
                if t.set_group_options(group, options) {
                    Ok(())
                } else {
                    Err(CliError::Runtime(format!("optimizer: no parameter group {group}")))
                }
            }
        }
    }
}

impl From<GroupCountMismatch> for CliError {
    fn from(e: GroupCountMismatch) -> Self {
        CliError::Runtime(format!("optimizer: {e}"))
    }
}

//! The fused SGD a training run uses: `sgd_cpu::Sgd` on the CPU, or `sgd_cuda::CudaSgd`
//! on an NVIDIA GPU (`--device cuda`).

use sgd_cpu::{GroupSpec, Sgd, SgdConfig};
use sgd_cuda::{BufferId, CudaSgd, CudaSgdOptions, TensorRef};

use crate::error::CliError;

/// Where the optimizer step runs (`--device`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Device {
    /// sgd-cpu (SIMD backend chosen at run time)
    Cpu,
    /// sgd-cuda on GPU 0 (also accepted: gpu)
    #[value(alias = "gpu")]
    Cuda,
}

impl std::fmt::Display for Device {
    /// `cpu (avx512)` with the sgd-cpu backend in use, or `cuda`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Device::Cpu => write!(f, "cpu ({})", sgd_cpu::Backend::active()),
            Device::Cuda => f.write_str("cuda"),
        }
    }
}

/// A fused SGD over a fixed list of tensors in parameter groups.
pub enum Optimizer {
    /// On the CPU.
    Cpu(Sgd),
    /// On the GPU: parameters and gradients live in device buffers `2i` and `2i + 1`; each
    /// step uploads the gradients, launches once, and downloads the parameters.
    Cuda(Box<CudaSgd>),
}

impl std::fmt::Debug for Optimizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Optimizer::Cpu(s) => s.fmt(f),
            Optimizer::Cuda(_) => f.write_str("CudaSgd"),
        }
    }
}

fn runtime(e: sgd_cpu::SgdError) -> CliError {
    CliError::Runtime(format!("optimizer: {e}"))
}

fn cuda_err(e: impl std::fmt::Display) -> CliError {
    CliError::Runtime(format!("--device cuda: {e} (--device cpu runs anywhere)"))
}

impl Optimizer {
    /// An optimizer for `params` (initial values), tensor `i` in group `group_of[i]`.
    pub fn new(
        device: Device,
        configs: &[SgdConfig],
        params: &[&[f32]],
        group_of: &[usize],
    ) -> Result<Self, CliError> {
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

    /// Sets the momentum of group `g` (schedulers such as OneCycleLR cycle it); a no-op
    /// when unchanged.
    pub fn set_momentum(&mut self, g: usize, momentum: f64) -> Result<(), CliError> {
        match self {
            Optimizer::Cpu(sgd) => {
                if sgd.config(g).map_err(runtime)?.momentum != momentum {
                    sgd.set_momentum(g, momentum).map_err(runtime)?;
                }
            }
            Optimizer::Cuda(sgd) => {
                if let Some(c) = sgd.group_config(g).copied()
                    && c.momentum != momentum
                {
                    sgd.set_group_config(g, SgdConfig { momentum, ..c }).map_err(cuda_err)?;
                }
            }
        }
        Ok(())
    }

    /// One step with learning rate `lrs[g]` for group `g`; `params` and `grads` in the
    /// order given to [`Optimizer::new`] (which must list tensors group by group).
    pub fn step(
        &mut self,
        lrs: &[f64],
        params: &mut [&mut [f32]],
        grads: &[&[f32]],
    ) -> Result<(), CliError> {
        match self {
            Optimizer::Cpu(sgd) => {
                for (g, &lr) in lrs.iter().enumerate() {
                    sgd.set_lr(g, lr).map_err(runtime)?;
                }
                let grads: Vec<Option<&[f32]>> = grads.iter().map(|g| Some(*g)).collect();
                sgd.step(params, &grads).map_err(runtime)?;
            }
            Optimizer::Cuda(sgd) => {
                let stream = sgd.stream().clone();
                for (i, g) in grads.iter().enumerate() {
                    let mut view = sgd.buffer_mut(BufferId(2 * i + 1)).map_err(cuda_err)?;
                    stream.memcpy_htod(*g, &mut view).map_err(cuda_err)?;
                }
                sgd.step(lrs).map_err(cuda_err)?;
                for (i, p) in params.iter_mut().enumerate() {
                    p.copy_from_slice(&sgd.params_to_host(i).map_err(cuda_err)?);
                }
            }
        }
        Ok(())
    }
}

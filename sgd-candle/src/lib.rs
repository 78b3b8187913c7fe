//! The fused `torch.optim.SGD` of sgd-cpu and every sched-core schedule as a candle optimizer.
//!
//! candle's own `SGD` has no momentum and no schedules (`set_learning_rate` by hand). This crate
//! adds both, bit for bit as PyTorch computes them: [`CandleSgd`] steps candle variables in
//! parameter groups (momentum, dampening, nesterov, weight decay, maximize per group) with one
//! fused multi-tensor pass of sgd-cpu (SIMD, a thread pool for large steps), keeps the momentum
//! buffers, and drives the groups' lrs from any sched-core schedule, after every step or every
//! epoch. It implements [`candle_nn::Optimizer`], so it drops into a candle training loop.
//!
//! ```
//! use candle_core::{DType, Device, Tensor, Var};
//! use candle_nn::Optimizer;
//! use sgd_candle::{CandleSgd, VarGroup};
//! use sgd_cpu::SgdConfig;
//!
//! let w = Var::new(&[1.0f32, 2.0, 3.0], &Device::Cpu)?;
//! let config = SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() };
//! let mut opt = CandleSgd::new(vec![VarGroup { vars: vec![w.clone()], config }])?;
//! let loss = (w.as_tensor() * 0.5)?.sum_all()?; // d loss / d w = 0.5
//! opt.backward_step(&loss)?;
//! assert_eq!(w.to_vec1::<f32>()?, [0.95, 1.95, 2.95]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! CPU variables are stepped by sgd-cpu; with the `cuda` feature, CUDA variables (one device
//! per optimizer) by sgd-cuda, in one launch for all of them on candle's stream for the device.
//! Any other device is refused (`CandleSgdError::UnsupportedDevice`).

mod cpu;
#[cfg(feature = "cuda")]
mod cuda;
mod error;
mod group;
mod optimizer;

pub use cpu::MAX_NESTED;
pub use error::CandleSgdError;
pub use group::VarGroup;
pub use optimizer::{CandleSgd, PASS_PARALLEL_THRESHOLD, ScheduleEvery};

use candle_core::Var;
use candle_core::backprop::GradStore;
use sgd_core::SgdConfig;

/// candle's optimizer interface: one group with `config` (`set_learning_rate` sets every
/// group's lr; `learning_rate` is group 0's).
impl candle_nn::Optimizer for CandleSgd<'_> {
    type Config = SgdConfig;

    fn new(vars: Vec<Var>, config: SgdConfig) -> candle_core::Result<Self> {
        Ok(CandleSgd::new(vec![VarGroup { vars, config }])?)
    }

    fn step(&mut self, grads: &GradStore) -> candle_core::Result<()> {
        CandleSgd::step(self, grads)?;
        Ok(())
    }

    fn learning_rate(&self) -> f64 {
        self.group_lr(0).unwrap_or(f64::NAN)
    }

    fn set_learning_rate(&mut self, lr: f64) {
        let mut group = 0;
        while self.set_group_lr(group, lr).is_ok() {
            group += 1;
        }
    }
}

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

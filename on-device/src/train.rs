//! The training loop: schedule, minibatches, fused SGD step, validation, early stopping.

use sched_core::{
    ClosedForm, CosineAnnealingLr, CosineAnnealingLrConfig, EarlyStopping, Join, LinearLr,
    LinearLrConfig, ParamGroup, PlateauMode,
};
use sgd_cpu::{SgdConfig, StepOptions, TensorGroup, TensorSlot, fused_step, inject_hyperparams};

use crate::digits::{TRAIN_SAMPLES, VALIDATION_SAMPLES};
use crate::mlp::{self, Tensors};
use crate::rng::Pcg32;
use crate::{EpochReport, TrainError};

/// Everything a run is configured with; [`Default`] is the run the firmware makes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainConfig {
    /// Most epochs to train (early stopping may end the run sooner).
    pub max_epochs: u32,
    /// Epochs of linear warmup before the cosine (`LinearLR`'s `total_iters`, the milestone of
    /// `SequentialLR`); the cosine's `T_max` is `max_epochs - warmup_epochs`.
    pub warmup_epochs: u32,
    /// `LinearLR`'s `start_factor`: the first epoch trains at `lr * warmup_start_factor`.
    pub warmup_start_factor: f64,
    /// Base learning rate of both parameter groups.
    pub lr: f64,
    /// SGD momentum of both groups.
    pub momentum: f64,
    /// L2 penalty of the weights' group (the biases' group has none).
    pub weight_decay: f64,
    /// Samples per minibatch (the last minibatch of an epoch may be smaller).
    pub batch_size: u32,
    /// Early stopping: epochs without a lower validation loss before the run stops.
    pub patience: u64,
    /// Seed of the initialisation and of the epoch shuffles.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            max_epochs: 30,
            warmup_epochs: 3,
            warmup_start_factor: 0.1,
            lr: 0.1,
            momentum: 0.9,
            weight_decay: 5e-4,
            batch_size: 32,
            patience: 4,
            seed: 0,
        }
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Epochs trained.
    pub epochs: u32,
    /// Whether early stopping ended the run (otherwise `max_epochs` did).
    pub stopped_early: bool,
    /// 1-based epoch of the lowest validation loss.
    pub best_epoch: u32,
    /// The report of the last epoch: the model the run leaves behind.
    pub last: EpochReport,
}

/// The learning rate of the first epoch is `lr * warmup_start_factor`, rising linearly to `lr`
/// at `warmup_epochs`, then a cosine to zero at `max_epochs`: the closed form of PyTorch's
/// `SequentialLR([LinearLR(start_factor, total_iters=warmup), CosineAnnealingLR(T_max)],
/// milestones=[warmup])`, per group, joined statically ([`Join`]) so that the firmware links
/// these two schedules only.
type WarmupCosine = Join<LinearLr, CosineAnnealingLr>;

fn warmup_cosine(
    config: &TrainConfig,
    groups: &mut [ParamGroup],
) -> Result<WarmupCosine, TrainError> {
    let warmup = LinearLr::new(
        LinearLrConfig {
            start_factor: config.warmup_start_factor,
            end_factor: 1.0,
            total_iters: u64::from(config.warmup_epochs),
            last_epoch: -1,
        },
        groups,
    )?;
    let t_max = u64::from(config.max_epochs - config.warmup_epochs);
    let cosine = CosineAnnealingLr::new(CosineAnnealingLrConfig::new(t_max), groups)?;
    Ok(Join::new(warmup, u64::from(config.warmup_epochs), cosine))
}

/// The model and the optimizer's state: parameters, the minibatch gradient, momentum buffers
/// and their "initialised" flags (W1, W2, b1, b2).
struct Model {
    params: Tensors,
    grads: Tensors,
    momentum: Tensors,
    initialized: [bool; 4],
}

impl Model {
    /// Zero state; the parameters still to be initialised ([`Tensors::init`]).
    const fn zeros() -> Self {
        Self {
            params: Tensors::zeros(),
            grads: Tensors::zeros(),
            momentum: Tensors::zeros(),
            initialized: [false; 4],
        }
    }

    /// Accumulates the gradient of the minibatch's mean loss (training samples `indices`),
    /// adding each sample's loss to `loss_sum` in order.
    fn gradient(&mut self, indices: &[u16], loss_sum: &mut f32) {
        mlp::minibatch_gradient(&self.params, &mut self.grads, indices, loss_sum);
    }

    /// One fused SGD step over both groups: the weights (`W1`, `W2`) with the options of group
    /// 0, the biases with those of group 1.
    fn sgd_step(&mut self, [weights, biases]: [SgdConfig; 2]) -> Result<(), TrainError> {
        let Tensors { w1, w2, b1, b2 } = &mut self.params;
        let Tensors { w1: m_w1, w2: m_w2, b1: m_b1, b2: m_b2 } = &mut self.momentum;
        let [i_w1, i_w2, i_b1, i_b2] = &mut self.initialized;
        let g = &self.grads;
        let mut weight_slots = [
            TensorSlot::with_momentum(w1, Some(&g.w1), m_w1, i_w1),
            TensorSlot::with_momentum(w2, Some(&g.w2), m_w2, i_w2),
        ];
        let mut bias_slots = [
            TensorSlot::with_momentum(b1, Some(&g.b1), m_b1, i_b1),
            TensorSlot::with_momentum(b2, Some(&g.b2), m_b2, i_b2),
        ];
        let mut groups = [
            TensorGroup { config: weights, tensors: &mut weight_slots },
            TensorGroup { config: biases, tensors: &mut bias_slots },
        ];
        fused_step(&mut groups, &StepOptions::default())?;
        Ok(())
    }

    /// Sum of the validation losses and number of correct predictions.
    fn validate(&self) -> (f32, u32) {
        mlp::validate(&self.params)
    }
}

/// Trains the model of [`crate::mlp`] on the digits' training split as `config` says, calling
/// `on_epoch` after each epoch, and returns how the run ended.
///
/// Per epoch `e` (0-based): the lr of each group is the schedule's f32 closed form at `e`,
/// written into the schedule's parameter groups and from there into the optimizer's options
/// (`sgd_cpu::inject_hyperparams`); the training samples are shuffled (PCG32); each minibatch
/// accumulates the gradient of its mean loss and takes one `sgd_cpu::fused_step` over both
/// groups (weights with `weight_decay`, biases without); then the validation split is
/// evaluated and early stopping decides.
///
/// Everything lives on the stack (this function's frame and its callees'): no heap, no static
/// state.
///
/// # Errors
/// [`TrainError::Config`] for an empty or inconsistent run, then the optimizer's and the
/// schedule's errors for their options, all before the first epoch.
pub fn train(
    config: &TrainConfig,
    mut on_epoch: impl FnMut(&EpochReport),
) -> Result<Summary, TrainError> {
    let bad = |param, value: u32, expected| TrainError::Config {
        param,
        value: u64::from(value),
        expected,
    };
    if config.max_epochs == 0 {
        return Err(bad("max_epochs", config.max_epochs, "at least 1"));
    }
    if config.batch_size == 0 {
        return Err(bad("batch_size", config.batch_size, "at least 1"));
    }
    if config.warmup_epochs >= config.max_epochs {
        return Err(bad("warmup_epochs", config.warmup_epochs, "below max_epochs"));
    }
    let weights = SgdConfig {
        lr: config.lr,
        momentum: config.momentum,
        weight_decay: config.weight_decay,
        ..SgdConfig::default()
    };
    let biases = SgdConfig { weight_decay: 0.0, ..weights };
    weights.validate(0)?;
    biases.validate(1)?;
    // The optimizer's options per group, and the schedule's view of the groups.
    let mut options = [weights, biases];
    let mut sched_groups = options.map(|o| ParamGroup::new(o.lr).with_momentum(o.momentum));
    let schedule = warmup_cosine(config, &mut sched_groups)?;
    let mut stopping = EarlyStopping::new(PlateauMode::Min, config.patience, 0.0)?;

    let mut rng = Pcg32::new(config.seed, 0);
    let mut model = Model::zeros();
    model.params.init(&mut rng);
    // TRAIN_SAMPLES < 2^16 (asserted at compile time): every index fits, never u16::MAX.
    const _: () = assert!(TRAIN_SAMPLES < 1 << 16);
    let mut order: [u16; TRAIN_SAMPLES] =
        core::array::from_fn(|i| u16::try_from(i).unwrap_or(u16::MAX));
    let mut last = None;
    for epoch in 0..config.max_epochs {
        let lr = [schedule.lr_at_f32(0, epoch.into())?, schedule.lr_at_f32(1, epoch.into())?];
        for (group, lr) in sched_groups.iter_mut().zip(lr) {
            group.lr = lr.into();
        }
        inject_hyperparams(&sched_groups, &mut options[..])?;
        rng.shuffle(&mut order);
        let mut train_loss = 0.0f32;
        for minibatch in order.chunks(config.batch_size as usize) {
            model.gradient(minibatch, &mut train_loss);
            model.sgd_step(options)?;
        }
        let (val_loss, val_correct) = model.validate();
        let report = EpochReport {
            epoch: epoch + 1,
            lr: lr[0],
            train_loss: train_loss / mlp::count_f32(TRAIN_SAMPLES),
            val_loss: val_loss / mlp::count_f32(VALIDATION_SAMPLES),
            val_correct,
            // Fits: the data set has 1797 records.
            val_total: u32::try_from(VALIDATION_SAMPLES).unwrap_or(u32::MAX),
        };
        on_epoch(&report);
        last = Some(report);
        if stopping.update(report.val_loss.into()) {
            break;
        }
    }
    let last = last.ok_or(bad("max_epochs", config.max_epochs, "at least 1"))?;
    Ok(Summary {
        epochs: last.epoch,
        stopped_early: stopping.should_stop(),
        best_epoch: u32::try_from(stopping.best_epoch()).unwrap_or(u32::MAX),
        last,
    })
}

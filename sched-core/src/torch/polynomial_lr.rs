//! `PolynomialLR`: polynomial decay to zero over `total_iters`.

use crate::math::Real;
use crate::protocol::base::{Base, StepMode, finite, float_of};
use crate::{ParamGroup, SchedError};

/// Arguments of [`PolynomialLr`] (PyTorch `PolynomialLR(optimizer, total_iters=5, power=1.0, last_epoch=-1)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PolynomialLrConfig {
    /// Epochs until the lr reaches zero.
    pub total_iters: u64,
    /// Power of the polynomial (finite, `>= 0` when `total_iters > 0`).
    pub power: f64,
    /// `-1` to start fresh; `k >= 0` to resume.
    pub last_epoch: i64,
}

impl Default for PolynomialLrConfig {
    /// PyTorch's defaults: `total_iters = 5`, `power = 1.0`.
    fn default() -> Self {
        Self { total_iters: 5, power: 1.0, last_epoch: -1 }
    }
}

/// PyTorch `torch.optim.lr_scheduler.PolynomialLR`.
///
/// With `T = total_iters`, `p = power`:
/// - step: `lr' = lr` at construction or when `e > T`, else
///   `lr' = lr * ((1.0 - e / T) / (1.0 - (e - 1) / T)) ** p`;
/// - closed form: `lr(e) = base_lr * (1.0 - min(T, e) / T) ** p` (`T == 0`, where
///   PyTorch's closed form divides by zero, gives `base_lr`, as stepping does).
///
/// Largest closed-form vs. stepping distance: 4 ulp before `T` (both are 0 from `T` on).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PolynomialLr {
    pub(crate) base: Base,
    total_iters: i64,
    power: f64,
}

impl PolynomialLr {
    /// Builds the scheduler and performs PyTorch's construction step.
    ///
    /// Rejects `power < 0` with `total_iters > 0`, which PyTorch accepts and then fails
    /// on (`0.0 ** negative`) at epoch `total_iters`.
    pub fn new(config: PolynomialLrConfig, groups: &mut [ParamGroup]) -> Result<Self, SchedError> {
        let power = finite("power", config.power)?;
        if power < 0.0 && config.total_iters > 0 {
            return Err(SchedError::OutOfRange { param: "power", value: power, expected: ">= 0" });
        }
        let total_iters = i64::try_from(config.total_iters).unwrap_or(i64::MAX);
        let base = Base::new(groups, config.last_epoch)?;
        Self { base, total_iters, power }.constructed(groups)
    }

    pub(crate) fn step_mode(
        &mut self,
        groups: &mut [ParamGroup],
        mode: StepMode,
    ) -> Result<(), SchedError> {
        let (t, p) = (self.total_iters, self.power);
        let k0 = self.factor::<f64>(0);
        self.base.chain(
            groups,
            mode,
            || k0,
            |e| {
                (mode != StepMode::Initial && e <= t).then(|| {
                    let tf = float_of(t);
                    ((1.0 - float_of(e) / tf) / (1.0 - float_of(e - 1) / tf)).pow(p)
                })
            },
        )
    }

    /// `(1.0 - min(T, e) / T) ** power` (1 when `T == 0`).
    #[inline(always)]
    fn factor<R: Real>(&self, e: i64) -> R {
        if self.total_iters == 0 {
            return R::ONE;
        }
        let t = R::from_i64(self.total_iters);
        let x = R::ONE - R::from_i64(self.total_iters.min(e)) / t;
        // `x ** 1.0` is `x` exactly: skip the pow call for PyTorch's default power.
        if self.power == 1.0 { x } else { x.pow(R::from_f64(self.power)) }
    }
}

crate::protocol::macros::epoch_scheduler_api!(PolynomialLr);
crate::protocol::macros::closed_form_via_factor!(PolynomialLr);

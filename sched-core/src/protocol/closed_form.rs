//! Random access to a schedule: `lr(t)` in O(1).

use crate::SchedError;

/// Random access to the learning rate a schedule gives at epoch `t` (PyTorch's
/// `last_epoch == t`), in O(1) and without stepping.
///
/// For the seven schedulers PyTorch gives a `_get_closed_form_lr()` (StepLR,
/// MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR,
/// CosineAnnealingLR) this is that formula, bit for bit. It differs from what
/// repeated `step()` calls produce by a few ulp, because stepping is a chain of
/// multiplications; the largest distance per scheduler is documented on each type
/// and tested. For the absolute schedules (LambdaLR with built-in functions, CyclicLR,
/// OneCycleLR, CosineAnnealingWarmRestarts with integer steps) stepping *is* a
/// closed form and the two agree bit for bit. SequentialLR switches between its
/// children's closed forms.
pub trait ClosedForm {
    /// The learning rate of `group` at epoch `epoch`, in `f64` (PyTorch's arithmetic). Epochs
    /// above [`MAX_EPOCH`](crate::MAX_EPOCH) are an error ([`SchedError::OutOfRange`]).
    fn lr_at(&self, group: usize, epoch: u64) -> Result<f64, SchedError>;

    /// The same formula evaluated in `f32` throughout (parameters rounded to `f32`,
    /// `f32` libm functions), for microcontrollers without double-precision hardware.
    /// Its error against [`ClosedForm::lr_at`] is bounded per scheduler in the README
    /// and tested.
    fn lr_at_f32(&self, group: usize, epoch: u64) -> Result<f32, SchedError>;
}

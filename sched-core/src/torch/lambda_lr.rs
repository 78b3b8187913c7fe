//! `LambdaLR` and `MultiplicativeLR`: user functions of the epoch.

use crate::math::Real;
use crate::protocol::base::{Base, StepMode, epoch_i64};
use crate::protocol::group::check_groups;
use crate::torch::lambda_function::{LambdaTable, Lambdas};
use crate::{ParamGroup, SchedError};

/// The struct of a scheduler over one λ per group (`base` and `lambdas`) and its
/// constructors, shared by LambdaLR and MultiplicativeLR, which differ only in how they
/// apply λ.
macro_rules! lambda_scheduler {
    ($(#[$doc:meta])* $ty:ident, $new_doc:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub struct $ty {
            pub(crate) base: Base,
            pub(crate) lambdas: LambdaTable,
        }

        impl $ty {
            #[doc = $new_doc]
            pub fn new(
                lr_lambda: Lambdas<'_>,
                last_epoch: i64,
                groups: &mut [ParamGroup],
            ) -> Result<Self, SchedError> {
                check_groups(groups)?;
                Self::with_table(lr_lambda.resolve(groups.len())?, last_epoch, groups)
            }

            /// The constructor with the λs already in a table.
            pub(crate) fn with_table(
                lambdas: LambdaTable,
                last_epoch: i64,
                groups: &mut [ParamGroup],
            ) -> Result<Self, SchedError> {
                let base = Base::new(groups, last_epoch)?;
                Self { base, lambdas }.constructed(groups)
            }
        }
    };
}

lambda_scheduler!(
    /// PyTorch `torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda, last_epoch=-1)`.
    ///
    /// Absolute: `lr(e) = base_lr * λ(e)`, also at construction (it ignores the current
    /// lr, so inside a chain it overrides earlier schedulers). For a Python body (an int,
    /// float or bool) that is `base_lr * float(λ(e))`, as Python's `float * int` converts.
    /// The closed form is the same expression, bitwise equal to stepping; it exists unless a
    /// λ is a Rust function ([`LrLambda::Custom`](crate::LrLambda::Custom)).
    LambdaLr,
    "Builds the scheduler and performs PyTorch's construction step (`base_lr * λ(0)`: a \
     Python body that raises there is a construction error)."
);

impl LambdaLr {
    pub(crate) fn step_mode(
        &mut self,
        groups: &mut [ParamGroup],
        mode: StepMode,
    ) -> Result<(), SchedError> {
        let l = &self.lambdas;
        self.base.advance(
            groups,
            mode,
            |c| Ok(c.mul(c.base_lr, l.factor::<f64>(c.group, c.epoch)?)),
        )
    }

    #[inline]
    pub(crate) fn closed<R: Real>(&self, group: usize, epoch: u64) -> Result<R, SchedError> {
        self.base.check_group(group)?;
        if !self.lambdas.has_closed_form(group) {
            return Err(SchedError::NoClosedForm);
        }
        Ok(self.base.times_base(group, self.lambdas.factor::<R>(group, epoch_i64(epoch))?))
    }
}

crate::protocol::macros::epoch_scheduler_api!(LambdaLr);
crate::protocol::macros::closed_form_via_inherent!(LambdaLr);

lambda_scheduler!(
    /// PyTorch `torch.optim.lr_scheduler.MultiplicativeLR(optimizer, lr_lambda, last_epoch=-1)`.
    ///
    /// Relative: `lr' = lr * λ(e)` at every step after construction (the first step uses
    /// `λ(1)`; construction evaluates nothing). A factor of 0 makes the lr 0 for ever. No
    /// closed form: the value depends on every earlier factor (and, inside SequentialLR, on
    /// what the previous scheduler left).
    MultiplicativeLr,
    "Builds the scheduler and performs PyTorch's construction step (which keeps lr)."
);

impl MultiplicativeLr {
    pub(crate) fn step_mode(
        &mut self,
        groups: &mut [ParamGroup],
        mode: StepMode,
    ) -> Result<(), SchedError> {
        if mode == StepMode::Initial {
            // torch: `get_lr()` at `last_epoch == 0` returns the groups' lrs unchanged.
            return self.base.advance(groups, mode, |c| Ok(c.lr));
        }
        let l = &self.lambdas;
        self.base.advance(groups, mode, |c| Ok(c.mul(c.lr, l.factor::<f64>(c.group, c.epoch)?)))
    }
}

crate::protocol::macros::epoch_scheduler_api!(MultiplicativeLr);

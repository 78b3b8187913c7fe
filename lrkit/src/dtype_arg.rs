//! `--dtype` of `lrkit train` and `lrkit bench`, and the rule its 16-bit options follow.

use crate::error::CliError;

/// The element type parameters, gradients and momentum buffers are stored in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DtypeArg {
    /// float32 (sgd-cpu's float32 step).
    F32,
    /// float64 storage.
    F64,
    /// bfloat16 storage.
    Bf16,
    /// float16 storage.
    F16,
}

impl DtypeArg {
    /// `--master` and `--stochastic` are for bfloat16/float16 parameters only.
    pub(crate) fn check_half_options(self, master: bool, stochastic: bool) -> Result<(), CliError> {
        if (master || stochastic) && !matches!(self, Self::Bf16 | Self::F16) {
            let flag = if master { "--master" } else { "--stochastic" };
            return Err(CliError::Usage(format!(
                "{flag} is for bfloat16/float16 parameters, not --dtype {self}"
            )));
        }
        Ok(())
    }
}

impl core::fmt::Display for DtypeArg {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::F32 => "f32",
            Self::F64 => "f64",
            Self::Bf16 => "bf16",
            Self::F16 => "f16",
        })
    }
}

//! The one list of every schedule sched-core builds by name: its library, its name there,
//! and its parameters in the library's positional order. [`crate::spec::build`] resolves
//! names through it, lrkit reads positional arguments, messages and suggestions from it,
//! and the parity tests check that every name in the golden files is in it.

/// The library a schedule comes from (the prefix a spec may write before its name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Library {
    /// `torch.optim.lr_scheduler` (PyTorch 2.11).
    Torch,
    /// `transformers.optimization` (Hugging Face transformers 5.24).
    Transformers,
    /// `timm.scheduler` (timm 1.0.31).
    Timm,
    /// `optax.schedules` (optax 0.2.8).
    Optax,
}

impl Library {
    /// The module name a spec writes first (`torch`, `transformers`, `timm`, `optax`).
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::Torch => "torch",
            Self::Transformers => "transformers",
            Self::Timm => "timm",
            Self::Optax => "optax",
        }
    }

    /// The library a spec's leading module name denotes (`hf` is short for transformers).
    pub fn from_prefix(prefix: &str) -> Option<Self> {
        match prefix {
            "torch" => Some(Self::Torch),
            "transformers" | "hf" => Some(Self::Transformers),
            "timm" => Some(Self::Timm),
            "optax" => Some(Self::Optax),
            _ => None,
        }
    }

    /// Whether the schedule's value is `base_lr * factor` per group (torch, transformers,
    /// timm) rather than an absolute value for every group (optax).
    pub const fn uses_base_lr(self) -> bool {
        !matches!(self, Self::Optax)
    }
}

/// One schedule a spec can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kind {
    /// Its library.
    pub library: Library,
    /// Its class or function name there.
    pub name: &'static str,
    /// Its parameters in positional order (after `optimizer`), comma-separated.
    pub parameters: &'static str,
}

macro_rules! kinds {
    ($($lib:ident $name:literal: $params:literal;)*) => {
        /// Every schedule, by library.
        pub const KINDS: &[Kind] = &[
            $(Kind { library: Library::$lib, name: $name, parameters: $params },)*
        ];
    };
}

kinds! {
    Torch "StepLR": "step_size, gamma, last_epoch";
    Torch "MultiStepLR": "milestones, gamma, last_epoch";
    Torch "ConstantLR": "factor, total_iters, last_epoch";
    Torch "LinearLR": "start_factor, end_factor, total_iters, last_epoch";
    Torch "ExponentialLR": "gamma, last_epoch";
    Torch "PolynomialLR": "total_iters, power, last_epoch";
    Torch "CosineAnnealingLR": "T_max, eta_min, last_epoch";
    Torch "LambdaLR": "lr_lambda, last_epoch";
    Torch "MultiplicativeLR": "lr_lambda, last_epoch";
    Torch "CosineAnnealingWarmRestarts": "T_0, T_mult, eta_min, last_epoch";
    Torch "CyclicLR": "base_lr, max_lr, step_size_up, step_size_down, mode, gamma, scale_fn, scale_mode, cycle_momentum, base_momentum, max_momentum, last_epoch";
    Torch "OneCycleLR": "max_lr, total_steps, epochs, steps_per_epoch, pct_start, anneal_strategy, cycle_momentum, base_momentum, max_momentum, div_factor, final_div_factor, three_phase, last_epoch";
    Torch "ReduceLROnPlateau": "mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps";
    Torch "SequentialLR": "schedulers, milestones, last_epoch";
    Torch "ChainedScheduler": "schedulers";
    Transformers "get_constant_schedule": "last_epoch";
    Transformers "get_constant_schedule_with_warmup": "num_warmup_steps, last_epoch";
    Transformers "get_linear_schedule_with_warmup": "num_warmup_steps, num_training_steps, last_epoch";
    Transformers "get_cosine_schedule_with_warmup": "num_warmup_steps, num_training_steps, num_cycles, last_epoch";
    Transformers "get_cosine_with_hard_restarts_schedule_with_warmup": "num_warmup_steps, num_training_steps, num_cycles, last_epoch";
    Transformers "get_polynomial_decay_schedule_with_warmup": "num_warmup_steps, num_training_steps, lr_end, power, last_epoch";
    Transformers "get_inverse_sqrt_schedule": "num_warmup_steps, timescale, last_epoch";
    Transformers "get_cosine_with_min_lr_schedule_with_warmup": "num_warmup_steps, num_training_steps, num_cycles, last_epoch, min_lr, min_lr_rate";
    Transformers "get_cosine_with_min_lr_schedule_with_warmup_lr_rate": "num_warmup_steps, num_training_steps, num_cycles, last_epoch, min_lr, min_lr_rate, warmup_lr_rate";
    Transformers "get_wsd_schedule": "num_warmup_steps, num_decay_steps, num_training_steps, num_stable_steps, warmup_type, decay_type, min_lr_ratio, num_cycles, last_epoch";
    Timm "CosineLRScheduler": "t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, warmup_t, warmup_lr_init, warmup_prefix, t_in_epochs, noise_range_t, noise_pct, noise_std, noise_seed, k_decay, initialize";
    Timm "TanhLRScheduler": "t_initial, lb, ub, lr_min, cycle_mul, cycle_decay, cycle_limit, warmup_t, warmup_lr_init, warmup_prefix, t_in_epochs, noise_range_t, noise_pct, noise_std, noise_seed, initialize";
    Timm "PolyLRScheduler": "t_initial, power, lr_min, cycle_mul, cycle_decay, cycle_limit, warmup_t, warmup_lr_init, warmup_prefix, t_in_epochs, noise_range_t, noise_pct, noise_std, noise_seed, k_decay, initialize";
    Timm "StepLRScheduler": "decay_t, decay_rate, warmup_t, warmup_lr_init, warmup_prefix, t_in_epochs, noise_range_t, noise_pct, noise_std, noise_seed, initialize";
    Timm "MultiStepLRScheduler": "decay_t, decay_rate, warmup_t, warmup_lr_init, warmup_prefix, t_in_epochs, noise_range_t, noise_pct, noise_std, noise_seed, initialize";
    Optax "constant_schedule": "value";
    Optax "linear_schedule": "init_value, end_value, transition_steps, transition_begin";
    Optax "cosine_decay_schedule": "init_value, decay_steps, alpha, exponent";
    Optax "exponential_decay": "init_value, transition_steps, decay_rate, transition_begin, staircase, end_value";
    Optax "piecewise_constant_schedule": "init_value, boundaries_and_scales";
    Optax "polynomial_schedule": "init_value, end_value, power, transition_steps, transition_begin";
    Optax "warmup_cosine_decay_schedule": "init_value, peak_value, warmup_steps, decay_steps, end_value, exponent";
    Optax "warmup_exponential_decay_schedule": "init_value, peak_value, warmup_steps, transition_steps, decay_rate, transition_begin, staircase, end_value";
    Optax "sgdr_schedule": "cosine_kwargs";
    Optax "linear_onecycle_schedule": "transition_steps, peak_value, pct_start, pct_final, div_factor, final_div_factor";
    Optax "cosine_onecycle_schedule": "transition_steps, peak_value, pct_start, div_factor, final_div_factor";
    Optax "piecewise_interpolate_schedule": "interpolate_type, init_value, boundaries_and_scales";
    Optax "join_schedules": "schedules, boundaries";
}

impl Kind {
    /// Whether the schedule is built from keyword values alone; `false` for the composites
    /// (`SequentialLR`, `ChainedScheduler`), which take built schedulers.
    pub const fn is_leaf(&self) -> bool {
        !(str_eq(self.name, "SequentialLR") || str_eq(self.name, "ChainedScheduler"))
    }
}

/// `a == b`, in a `const` context.
const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The separator of [`LEAF_NAMES`].
const SEPARATOR: &[u8] = b", ";

/// Bytes of [`LEAF_NAMES`].
const LEAF_NAMES_LEN: usize = {
    let (mut len, mut i, mut first) = (0, 0, true);
    while i < KINDS.len() {
        if KINDS[i].is_leaf() {
            if !first {
                len += SEPARATOR.len();
            }
            len += KINDS[i].name.len();
            first = false;
        }
        i += 1;
    }
    len
};

/// [`LEAF_NAMES`] as bytes, written at compile time from [`KINDS`].
const LEAF_NAMES_BYTES: [u8; LEAF_NAMES_LEN] = {
    let mut out = [0u8; LEAF_NAMES_LEN];
    let (mut at, mut i) = (0, 0);
    while i < KINDS.len() {
        if KINDS[i].is_leaf() {
            let piece = KINDS[i].name.as_bytes();
            let mut j = 0;
            if at != 0 {
                while j < SEPARATOR.len() {
                    out[at] = SEPARATOR[j];
                    at += 1;
                    j += 1;
                }
                j = 0;
            }
            while j < piece.len() {
                out[at] = piece[j];
                at += 1;
                j += 1;
            }
        }
        i += 1;
    }
    out
};

/// The name of every leaf schedule of [`KINDS`], in its order, separated by `", "`: what
/// an unknown schedule name's error lists as accepted ([`crate::spec::build`]).
pub const LEAF_NAMES: &str = match core::str::from_utf8(&LEAF_NAMES_BYTES) {
    Ok(names) => names,
    // Every piece is a `&str` and the separator ASCII: the bytes are UTF-8.
    Err(_) => "",
};

/// Finds the schedule a spec names: a bare name (`"StepLR"`, `"get_wsd_schedule"`: every
/// name is unique across libraries) or one with a module path. A path whose first
/// component is a library (`transformers.get_wsd_schedule`,
/// `torch.optim.lr_scheduler.StepLR`, `timm.scheduler.CosineLRScheduler`,
/// `optax.schedules.sgdr_schedule`) must name a schedule of that library; any other path
/// (`lr_scheduler.StepLR`) is ignored.
pub fn find(name: &str) -> Option<&'static Kind> {
    let short = name.rsplit('.').next().unwrap_or(name);
    let library = match name.split_once('.') {
        Some((first, _)) => Library::from_prefix(first),
        None => None,
    };
    KINDS.iter().find(|k| k.name == short && library.is_none_or(|l| l == k.library))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::{KINDS, LEAF_NAMES, Library, find};
    use std::format;
    use std::vec::Vec;

    #[test]
    fn names_are_unique_and_resolve_with_and_without_prefix() {
        for (i, k) in KINDS.iter().enumerate() {
            assert!(KINDS[..i].iter().all(|o| o.name != k.name), "{} twice", k.name);
            assert_eq!(find(k.name), Some(k));
            let qualified = format!("{}.{}", k.library.prefix(), k.name);
            assert_eq!(find(&qualified), Some(k), "{qualified}");
        }
        assert_eq!(KINDS.iter().filter(|k| k.library == Library::Transformers).count(), 10);
        assert_eq!(KINDS.iter().filter(|k| k.library == Library::Timm).count(), 5);
        assert_eq!(KINDS.iter().filter(|k| k.library == Library::Optax).count(), 13);
        assert_eq!(KINDS.iter().filter(|k| k.library == Library::Torch).count(), 15);
    }

    #[test]
    fn a_library_prefix_must_match() {
        assert!(find("timm.StepLR").is_none());
        assert!(find("torch.StepLRScheduler").is_none());
        assert_eq!(find("torch.optim.lr_scheduler.StepLR").map(|k| k.name), Some("StepLR"));
        assert_eq!(find("lr_scheduler.StepLR").map(|k| k.name), Some("StepLR"));
        assert_eq!(find("hf.get_wsd_schedule").map(|k| k.library), Some(Library::Transformers));
        assert!(find("NoSuchLR").is_none());
    }

    #[test]
    fn leaf_names_are_every_kind_but_the_composites() {
        let names: Vec<&str> = LEAF_NAMES.split(", ").collect();
        let leaves: Vec<&str> = KINDS.iter().filter(|k| k.is_leaf()).map(|k| k.name).collect();
        assert_eq!(names, leaves);
        assert_eq!(names.len(), KINDS.len() - 2);
        assert!(!names.contains(&"SequentialLR") && !names.contains(&"ChainedScheduler"));
        assert!(names.contains(&"StepLR") && names.contains(&"join_schedules"));
    }
}

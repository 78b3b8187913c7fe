//! optax's schedule functions that are not joins, in float32 as jax evaluates them.

use crate::SchedError;
use crate::math::raising;

/// Most boundaries a piecewise schedule holds.
pub const MAX_PIECES: usize = 8;

/// An exponent as optax receives it: a Python `int` goes through `lax.integer_pow`
/// (repeated multiplication), a `float` through `lax.pow`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptaxPower {
    /// A Python `int` exponent.
    Int(i32),
    /// A Python `float` exponent (rounded to f32 by jax).
    Float(f32),
}

impl OptaxPower {
    /// `x ** self` in float32: `integer_pow` by binary powering (jax's order), or `pow`
    /// (evaluated in f64 and rounded once: within an ulp of XLA's `pow`).
    #[inline]
    pub(crate) fn apply(self, x: f32) -> f32 {
        match self {
            Self::Int(n) => {
                let mut y = n.unsigned_abs();
                let (mut base, mut acc) = (x, None::<f32>);
                while y > 0 {
                    if y & 1 == 1 {
                        acc = Some(acc.map_or(base, |a| a * base));
                    }
                    y >>= 1;
                    if y > 0 {
                        base = base * base;
                    }
                }
                let v = acc.unwrap_or(1.0);
                if n < 0 { 1.0 / v } else { v }
            }
            // pow(x, 1) is x exactly (C99 F.9.4.4): optax's default exponent costs nothing.
            Self::Float(1.0) => x,
            Self::Float(p) => pow32(x, p),
        }
    }
}

/// float32 `pow`, as the f64 power rounded once.
#[inline]
pub(crate) fn pow32(x: f32, y: f32) -> f32 {
    to_f32(crate::math::Real::pow(f64::from(x), f64::from(y)))
}

/// float32 `cos`, as the f64 cosine rounded once (XLA's own float32 approximation
/// differs by at most the documented ulp budget).
#[inline]
pub(crate) fn cos32(x: f32) -> f32 {
    to_f32(crate::math::Real::cos(f64::from(x)))
}

/// Rounds an `f64` (a Python float, or an exact intermediate) to float32.
#[inline(always)]
#[allow(clippy::cast_possible_truncation)] // rounding to f32 is the point
pub(crate) fn to_f32(x: f64) -> f32 {
    x as f32
}

/// An int32 count as float32 (`jnp` converts int32 to float32 for true division).
#[inline(always)]
#[allow(clippy::cast_precision_loss)] // jax's int32 -> float32 conversion rounds the same way
fn i32_f32(x: i32) -> f32 {
    x as f32
}

/// How `piecewise_interpolate_schedule` interpolates between its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interpolation {
    /// `'linear'`: `(end - start) * pct + start`.
    Linear,
    /// `'cosine'`: `end + (start - end) / 2.0 * (cos(pi * pct) + 1)`.
    Cosine,
}

/// One of optax's schedule functions (optax 0.2.8, `optax.schedules`), as data, evaluated
/// at an `int32` count in float32 with jax's promotion rules: Python-level arithmetic on
/// the arguments (`init_value - end_value`, `1 - alpha`) happens in f64 before the value
/// enters jax, which rounds it to float32; every jax operation is one float32 operation
/// (no fused multiply-add: XLA evaluates these op by op).
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum OptaxLeaf {
    /// `constant_schedule(value)`.
    Constant {
        /// `value`.
        value: f32,
    },
    /// `polynomial_schedule` (and `linear_schedule`, power `1`), `transition_steps > 0`:
    /// `c = clip(count - begin, 0, steps)`, `frac = 1 - c / steps`,
    /// `(init - end) * frac ** power + end`.
    Polynomial {
        /// `f32(init_value - end_value)`, the difference taken in Python.
        range: f32,
        /// `end_value`.
        end: f32,
        /// `power`.
        power: OptaxPower,
        /// `transition_steps` (`> 0`).
        steps: i32,
        /// `transition_begin` (negative given values become 0, as in optax).
        begin: i32,
    },
    /// `exponential_decay`, `transition_steps > 0` and `decay_rate != 0`:
    /// `d = count - begin`, `p = d / steps` (floored if `staircase`),
    /// `init if d <= 0 else init * decay_rate ** p`, clipped at `end_value`.
    Exponential {
        /// `init_value`.
        init: f32,
        /// `transition_steps`.
        steps: i32,
        /// `decay_rate`.
        rate: f32,
        /// `transition_begin` (clamped at 0).
        begin: i32,
        /// `staircase`.
        staircase: bool,
        /// `end_value`, and whether it is a floor (`decay_rate < 1`) or a ceiling.
        end: Option<(f32, bool)>,
    },
    /// `cosine_decay_schedule`: `c = min(count, decay_steps)`,
    /// `cd = 0.5 * (1 + cos(pi * c / decay_steps))`,
    /// `init * ((1 - alpha) * cd ** exponent + alpha)`.
    CosineDecay {
        /// `init_value`.
        init: f32,
        /// `float(decay_steps)` (`> 0`).
        decay_steps: f32,
        /// `f32(1 - alpha)`, taken in Python.
        one_minus_alpha: f32,
        /// `alpha`.
        alpha: f32,
        /// `exponent`.
        exponent: OptaxPower,
    },
    /// `piecewise_constant_schedule`: for each `(threshold, scale)` in ascending order,
    /// `ind = max(0, sign(threshold - count))`, `v = v * ind + (1 - ind) * scale * v`.
    PiecewiseConstant {
        /// `init_value`.
        init: f32,
        /// Thresholds, ascending.
        thresholds: [i32; MAX_PIECES],
        /// Scales, by threshold.
        scales: [f32; MAX_PIECES],
        /// How many are used.
        len: usize,
    },
    /// `piecewise_interpolate_schedule` (and `linear_onecycle_schedule`,
    /// `cosine_onecycle_schedule`): `bounds = [0, b...]`, `values = cumprod([init, s...])`;
    /// the interval holding `count` interpolates with `pct = (count - lo) / max(hi - lo, 1)`;
    /// past the last bound, the last value.
    PiecewiseInterpolate {
        /// Interpolation kind.
        kind: Interpolation,
        /// `[0, boundaries...]`.
        bounds: [i32; MAX_PIECES + 1],
        /// `cumprod([init_value, scales...])`.
        values: [f32; MAX_PIECES + 1],
        /// Number of boundaries (`bounds` holds `len + 1`).
        len: usize,
    },
}

impl OptaxLeaf {
    /// `constant_schedule(value)`.
    pub fn constant(value: f64) -> Self {
        Self::Constant { value: to_f32(value) }
    }

    /// `polynomial_schedule(init_value, end_value, power, transition_steps, transition_begin)`.
    pub fn polynomial(
        init_value: f64,
        end_value: f64,
        power: OptaxPower,
        transition_steps: i64,
        transition_begin: i64,
    ) -> Result<Self, SchedError> {
        if transition_steps <= 0 {
            return Ok(Self::constant(init_value));
        }
        Ok(Self::Polynomial {
            range: to_f32(init_value - end_value),
            end: to_f32(end_value),
            power,
            steps: int32("transition_steps", transition_steps)?,
            begin: int32("transition_begin", transition_begin.max(0))?,
        })
    }

    /// `linear_schedule(init_value, end_value, transition_steps, transition_begin)`:
    /// `polynomial_schedule` with `power=1`.
    pub fn linear(
        init_value: f64,
        end_value: f64,
        transition_steps: i64,
        transition_begin: i64,
    ) -> Result<Self, SchedError> {
        Self::polynomial(
            init_value,
            end_value,
            OptaxPower::Int(1),
            transition_steps,
            transition_begin,
        )
    }

    /// `exponential_decay(init_value, transition_steps, decay_rate, transition_begin,
    /// staircase, end_value)`.
    pub fn exponential(
        init_value: f64,
        transition_steps: i64,
        decay_rate: f64,
        transition_begin: i64,
        staircase: bool,
        end_value: Option<f64>,
    ) -> Result<Self, SchedError> {
        if transition_steps <= 0 || decay_rate == 0.0 {
            return Ok(Self::constant(init_value));
        }
        Ok(Self::Exponential {
            init: to_f32(init_value),
            steps: int32("transition_steps", transition_steps)?,
            rate: to_f32(decay_rate),
            begin: int32("transition_begin", transition_begin.max(0))?,
            staircase,
            end: end_value.map(|e| (to_f32(e), decay_rate < 1.0)),
        })
    }

    /// `cosine_decay_schedule(init_value, decay_steps, alpha, exponent)`.
    pub fn cosine_decay(
        init_value: f64,
        decay_steps: i64,
        alpha: f64,
        exponent: OptaxPower,
    ) -> Result<Self, SchedError> {
        if decay_steps <= 0 {
            return Err(SchedError::OutOfRange {
                param: "decay_steps",
                value: crate::protocol::base::float_of(decay_steps),
                expected: "> 0",
            });
        }
        Ok(Self::CosineDecay {
            init: to_f32(init_value),
            decay_steps: to_f32(crate::protocol::base::float_of(
                int32("decay_steps", decay_steps)?.into(),
            )),
            one_minus_alpha: to_f32(1.0 - alpha),
            alpha: to_f32(alpha),
            exponent,
        })
    }

    /// `piecewise_constant_schedule(init_value, boundaries_and_scales)`; the pairs in any
    /// order (a later duplicate threshold replaces an earlier one, as in a Python dict).
    pub fn piecewise_constant(init_value: f64, pairs: &[(i64, f64)]) -> Result<Self, SchedError> {
        let (thresholds, scales, len) = sorted_pairs("boundaries_and_scales", pairs)?;
        Ok(Self::PiecewiseConstant { init: to_f32(init_value), thresholds, scales, len })
    }

    /// `piecewise_interpolate_schedule(interpolate_type, init_value, boundaries_and_scales)`.
    pub fn piecewise_interpolate(
        kind: Interpolation,
        init_value: f64,
        pairs: &[(i64, f64)],
    ) -> Result<Self, SchedError> {
        let (b, s, len) = sorted_pairs("boundaries_and_scales", pairs)?;
        let mut bounds = [0; MAX_PIECES + 1];
        let mut values = [0.0; MAX_PIECES + 1];
        values[0] = to_f32(init_value);
        for i in 0..len {
            bounds[i + 1] = b[i];
            values[i + 1] = values[i] * s[i];
        }
        Ok(Self::PiecewiseInterpolate { kind, bounds, values, len })
    }

    /// `linear_onecycle_schedule(transition_steps, peak_value, pct_start, pct_final,
    /// div_factor, final_div_factor)`; its Python-level arithmetic raises as Python does, in
    /// Python's order (`peak_value / div_factor` first).
    pub fn linear_onecycle(
        transition_steps: i64,
        peak_value: f64,
        pct_start: f64,
        pct_final: f64,
        div_factor: f64,
        final_div_factor: f64,
    ) -> Result<Self, SchedError> {
        let ts = onecycle_steps(transition_steps)?;
        let init = py_div(peak_value, div_factor, "div_factor")?;
        let pairs = [
            (py_int(pct_start * ts, "pct_start")?, div_factor),
            (py_int(pct_final * ts, "pct_final")?, py_div(1.0, div_factor, "div_factor")?),
            (transition_steps, py_div(1.0, final_div_factor, "final_div_factor")?),
        ];
        Self::piecewise_interpolate(Interpolation::Linear, init, &pairs)
    }

    /// `cosine_onecycle_schedule(transition_steps, peak_value, pct_start, div_factor,
    /// final_div_factor)`; its Python-level arithmetic raises as Python does, in Python's
    /// order.
    pub fn cosine_onecycle(
        transition_steps: i64,
        peak_value: f64,
        pct_start: f64,
        div_factor: f64,
        final_div_factor: f64,
    ) -> Result<Self, SchedError> {
        let ts = onecycle_steps(transition_steps)?;
        let init = py_div(peak_value, div_factor, "div_factor")?;
        let pairs = [
            (py_int(pct_start * ts, "pct_start")?, div_factor),
            (transition_steps, py_div(1.0, div_factor * final_div_factor, "final_div_factor")?),
        ];
        Self::piecewise_interpolate(Interpolation::Cosine, init, &pairs)
    }

    /// The value at `count`, in float32.
    pub fn value(&self, count: i32) -> f32 {
        match *self {
            Self::Constant { value } => value,
            Self::Polynomial { range, end, power, steps, begin } => {
                let c = count.wrapping_sub(begin).clamp(0, steps);
                let frac = 1.0 - i32_f32(c) / i32_f32(steps);
                range * power.apply(frac) + end
            }
            Self::Exponential { init, steps, rate, begin, staircase, end } => {
                let d = count.wrapping_sub(begin);
                let mut p = i32_f32(d) / i32_f32(steps);
                if staircase {
                    p = libm::floorf(p);
                }
                let v = if d <= 0 { init } else { init * pow32(rate, p) };
                match end {
                    // jnp.maximum / jnp.minimum propagate NaN.
                    Some((e, floor)) if !v.is_nan() => {
                        if floor {
                            if e > v { e } else { v }
                        } else if e < v {
                            e
                        } else {
                            v
                        }
                    }
                    _ => v,
                }
            }
            Self::CosineDecay { init, decay_steps, one_minus_alpha, alpha, exponent } => {
                let c = i32_f32(count);
                let c = if decay_steps < c { decay_steps } else { c };
                let cd = 0.5 * (1.0 + cos32(core::f32::consts::PI * c / decay_steps));
                init * (one_minus_alpha * exponent.apply(cd) + alpha)
            }
            Self::PiecewiseConstant { init, thresholds, scales, len } => {
                let mut v = init;
                for (&th, &s) in thresholds[..len].iter().zip(&scales[..len]) {
                    let ind = if th.wrapping_sub(count) > 0 { 1.0f32 } else { 0.0 };
                    v = v * ind + (1.0 - ind) * s * v;
                }
                v
            }
            Self::PiecewiseInterpolate { kind, bounds, values, len } => {
                let mut dot = 0.0f32;
                for i in 0..len {
                    let (lo, hi) = (bounds[i], bounds[i + 1]);
                    let ind = if lo <= count && count < hi { 1.0f32 } else { 0.0 };
                    let size = hi.wrapping_sub(lo).max(1);
                    let pct = i32_f32(count.wrapping_sub(lo)) / i32_f32(size);
                    let (start, end) = (values[i], values[i + 1]);
                    let v = match kind {
                        Interpolation::Linear => (end - start) * pct + start,
                        Interpolation::Cosine => {
                            end + (start - end) / 2.0 * (cos32(core::f32::consts::PI * pct) + 1.0)
                        }
                    };
                    dot += ind * v;
                }
                let last = if bounds[len] <= count { 1.0f32 } else { 0.0 };
                dot + last * values[len]
            }
        }
    }
}

/// A Python int that jax converts to int32 (it raises OverflowError otherwise).
pub(crate) fn int32(param: &'static str, v: i64) -> Result<i32, SchedError> {
    i32::try_from(v).map_err(|_| SchedError::OutOfRange {
        param,
        value: crate::protocol::base::float_of(v.clamp(-crate::MAX_EPOCH, crate::MAX_EPOCH)),
        expected: "within int32 (optax counts are int32)",
    })
}

/// `transition_steps` of a onecycle schedule (optax raises for `<= 0`), as a float.
fn onecycle_steps(transition_steps: i64) -> Result<f64, SchedError> {
    if transition_steps <= 0 {
        return Err(SchedError::OutOfRange {
            param: "transition_steps",
            value: crate::protocol::base::float_of(transition_steps.max(-crate::MAX_EPOCH)),
            expected: "> 0",
        });
    }
    Ok(crate::protocol::base::float_of(i64::from(int32("transition_steps", transition_steps)?)))
}

/// Python's `int(x)` for a float (truncation), with what Python raises for a non-finite `x`
/// (`pct_start * transition_steps` past the largest float).
fn py_int(x: f64, param: &'static str) -> Result<i64, SchedError> {
    raising::trunc_int(x).map_err(raising::raised_at_build(param))
}

/// Python's `a / b` on the arguments (`ZeroDivisionError` for `b == 0`).
fn py_div(a: f64, b: f64, param: &'static str) -> Result<f64, SchedError> {
    raising::div(a, b).map_err(raising::raised_at_build(param))
}

type Pieces = ([i32; MAX_PIECES], [f32; MAX_PIECES], usize);

/// `sorted(boundaries_and_scales.items())` with dict semantics (a repeated key keeps its
/// last scale), scales rounded to float32, non-negative scales checked as optax does.
fn sorted_pairs(param: &'static str, pairs: &[(i64, f64)]) -> Result<Pieces, SchedError> {
    let mut keys = [0i64; MAX_PIECES];
    let mut vals = [0.0f64; MAX_PIECES];
    let mut len = 0;
    for &(k, v) in pairs {
        if let Some(i) = keys[..len].iter().position(|&x| x == k) {
            vals[i] = v;
        } else {
            if len == MAX_PIECES {
                return Err(SchedError::TooManyItems { param, got: pairs.len(), max: MAX_PIECES });
            }
            keys[len] = k;
            vals[len] = v;
            len += 1;
        }
    }
    if let Some(&bad) = vals[..len].iter().find(|&&s| s < 0.0 || s.is_nan()) {
        return Err(SchedError::OutOfRange { param, value: bad, expected: "non-negative scales" });
    }
    // Insertion sort by key: at most MAX_PIECES items.
    for i in 1..len {
        let mut j = i;
        while j > 0 && keys[j - 1] > keys[j] {
            keys.swap(j - 1, j);
            vals.swap(j - 1, j);
            j -= 1;
        }
    }
    let mut thresholds = [0i32; MAX_PIECES];
    let mut scales = [0.0f32; MAX_PIECES];
    for i in 0..len {
        thresholds[i] = int32(param, keys[i])?;
        scales[i] = to_f32(vals[i]);
    }
    Ok((thresholds, scales, len))
}

//! The model: a 64-16-10 multilayer perceptron in f32 (64-8-10 with feature `small-model`, for
//! the 16 KiB of RAM of a Cortex-M0), one sample at a time.
//!
//! ```text
//! x      = pixels / 16                       exact (a power of two)
//! h      = relu(W1 x + b1)                   PyTorch: nn.Linear(64, 16) + nn.ReLU
//! z      = W2 h + b2                         nn.Linear(16, 10)
//! loss   = log(sum_k exp(z_k - m)) - (z_y - m),   m = max_k z_k     (nn.CrossEntropyLoss)
//! ```
//! Every dot product sums left to right from `0.0`, then adds the bias; no operation is fused,
//! so the results are the same bits on every IEEE-754 target (see the crate docs).
//!
//! The gradient of the minibatch mean is accumulated sample by sample into a [`Tensors`] of the
//! same layout as the parameters ([`Tensors::accumulate_gradient`]), so the loop needs the
//! activations of one sample only ([`Pass`]): no batch-sized buffers.

use crate::digits::{CLASSES, FEATURES, Sample};
use crate::rng::Pcg32;

/// Hidden units: 16, or 8 with feature `small-model` (the Cortex-M0 firmware's model, whose
/// parameters, gradients and momentum take 7,320 bytes instead of 14,520).
pub const HIDDEN: usize = if cfg!(feature = "small-model") { 8 } else { 16 };
/// Trainable values: `W1`, `W2`, `b1`, `b2`.
pub const PARAMETERS: usize = HIDDEN * FEATURES + CLASSES * HIDDEN + HIDDEN + CLASSES;

/// Parameters, gradients or momentum buffers: the four tensors of the network, laid out as C
/// lays out `struct { float w1[..], w2[..], b1[..], b2[..]; }` (`lrk_digits_tensors` of the C
/// library's firmware helpers, `firmware-capi`).
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
pub struct Tensors {
    /// `W1 [HIDDEN x FEATURES]`, row-major.
    pub w1: [f32; HIDDEN * FEATURES],
    /// `W2 [CLASSES x HIDDEN]`, row-major.
    pub w2: [f32; CLASSES * HIDDEN],
    /// `b1 [HIDDEN]`.
    pub b1: [f32; HIDDEN],
    /// `b2 [CLASSES]`.
    pub b2: [f32; CLASSES],
}

/// Activations of one sample: what the backward pass needs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pass {
    /// `h`, after the ReLU.
    pub hidden: [f32; HIDDEN],
    /// `softmax(z)`.
    pub probs: [f32; CLASSES],
    /// The sample's cross-entropy loss.
    pub loss: f32,
    /// Whether the first largest logit is the label's.
    pub correct: bool,
}

/// The network's input: pixel counts `0..=16` scaled to `[0, 1]` (exactly).
pub fn inputs(sample: &Sample<'_>) -> [f32; FEATURES] {
    sample.pixels.map(|p| f32::from(p) / 16.0)
}

/// Left-to-right dot product from `0.0`.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).fold(0.0, |acc, (x, y)| acc + x * y)
}

impl Tensors {
    /// All zeros.
    pub const fn zeros() -> Self {
        Self {
            w1: [0.0; HIDDEN * FEATURES],
            w2: [0.0; CLASSES * HIDDEN],
            b1: [0.0; HIDDEN],
            b2: [0.0; CLASSES],
        }
    }

    /// `nn.Linear`'s default initialisation, `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`, drawn in
    /// the order `W1, W2, b1, b2` (bounds 1/8 and `1/sqrt(HIDDEN)`: 1/4 exactly, or for 8
    /// hidden units the correctly rounded f32 of `1/sqrt(8)`), in place.
    pub fn init(&mut self, rng: &mut Pcg32) {
        // HIDDEN is 8 or 16: exact in f32; sqrtf and the division round correctly everywhere.
        #[allow(clippy::cast_precision_loss)] // 8 or 16
        let k2 = 1.0 / libm::sqrtf(HIDDEN as f32);
        let k1 = 0.125; // 1/sqrt(64)
        self.w1.iter_mut().for_each(|v| *v = rng.uniform(k1));
        self.w2.iter_mut().for_each(|v| *v = rng.uniform(k2));
        self.b1.iter_mut().for_each(|v| *v = rng.uniform(k1));
        self.b2.iter_mut().for_each(|v| *v = rng.uniform(k2));
    }

    /// Sets every value to zero (a gradient before a minibatch).
    pub fn clear(&mut self) {
        self.w1.fill(0.0);
        self.w2.fill(0.0);
        self.b1.fill(0.0);
        self.b2.fill(0.0);
    }

    /// The forward pass of one sample (`label` above 9 counts as 9).
    pub fn forward(&self, x: &[f32; FEATURES], label: u8) -> Pass {
        let y = usize::from(label).min(CLASSES - 1);
        let mut hidden = [0.0f32; HIDDEN];
        for ((h, row), b) in hidden.iter_mut().zip(self.w1.chunks_exact(FEATURES)).zip(&self.b1) {
            *h = (dot(row, x) + b).max(0.0);
        }
        let mut z = [0.0f32; CLASSES];
        for ((o, row), b) in z.iter_mut().zip(self.w2.chunks_exact(HIDDEN)).zip(&self.b2) {
            *o = dot(row, &hidden) + b;
        }
        let mut argmax = 0;
        for (k, &v) in z.iter().enumerate() {
            if v > z[argmax] {
                argmax = k;
            }
        }
        let max = z[argmax];
        let mut probs = z.map(|v| libm::expf(v - max));
        let sum = probs.iter().fold(0.0f32, |acc, &e| acc + e);
        probs.iter_mut().for_each(|e| *e /= sum);
        let loss = libm::logf(sum) - (z[y] - max);
        Pass { hidden, probs, loss, correct: argmax == y }
    }

    /// Adds `scale` times the gradient of the loss of one sample (input `x`, activations
    /// `pass` of [`Tensors::forward`] with `params`) to `self`; `scale = 1 / batch` makes the
    /// sum over a minibatch the gradient of its mean loss.
    ///
    /// ```text
    /// d_k   = (probs_k - [k == y]) * scale
    /// b2_k += d_k;  W2_kj += d_k * h_j;  dh_j = sum_k d_k * W2_kj   (k ascending)
    /// where h_j > 0:  b1_j += dh_j;  W1_ji += dh_j * x_i
    /// ```
    pub fn accumulate_gradient(
        &mut self,
        params: &Tensors,
        x: &[f32; FEATURES],
        pass: &Pass,
        label: u8,
        scale: f32,
    ) {
        let y = usize::from(label).min(CLASSES - 1);
        let mut dh = [0.0f32; HIDDEN];
        for (k, ((&p, gb), (gw, w))) in pass
            .probs
            .iter()
            .zip(&mut self.b2)
            .zip(self.w2.chunks_exact_mut(HIDDEN).zip(params.w2.chunks_exact(HIDDEN)))
            .enumerate()
        {
            let d = (p - if k == y { 1.0 } else { 0.0 }) * scale;
            *gb += d;
            for (((g, &w), &h), dhj) in gw.iter_mut().zip(w).zip(&pass.hidden).zip(&mut dh) {
                *g += d * h;
                *dhj += d * w;
            }
        }
        for (((&h, &d), gb), gw) in
            pass.hidden.iter().zip(&dh).zip(&mut self.b1).zip(self.w1.chunks_exact_mut(FEATURES))
        {
            if h <= 0.0 {
                continue; // ReLU: no gradient where the unit was off
            }
            *gb += d;
            gw.iter_mut().zip(x).for_each(|(g, &xi)| *g += d * xi);
        }
    }
}

/// Zeroes `grads`, then accumulates into it the gradient of the mean loss of the training
/// samples `indices` (one minibatch) under `params`, adding each sample's loss to `loss_sum`
/// in order: what one training step computes before its SGD update (the Rust firmware and the
/// C firmware both run this).
pub fn minibatch_gradient(
    params: &Tensors,
    grads: &mut Tensors,
    indices: &[u16],
    loss_sum: &mut f32,
) {
    grads.clear();
    // Minibatches hold at most 2^16 samples: exact in f32.
    let scale = 1.0 / count_f32(indices.len());
    for &k in indices {
        let sample = crate::digits::train_sample(usize::from(k));
        let x = inputs(&sample);
        let pass = params.forward(&x, sample.label);
        *loss_sum += pass.loss;
        grads.accumulate_gradient(params, &x, &pass, sample.label, scale);
    }
}

/// Sum of the validation losses under `params` and the number of correct predictions.
pub fn validate(params: &Tensors) -> (f32, u32) {
    let (mut loss, mut correct) = (0.0f32, 0u32);
    for k in 0..crate::digits::VALIDATION_SAMPLES {
        let sample = crate::digits::validation_sample(k);
        let pass = params.forward(&inputs(&sample), sample.label);
        loss += pass.loss;
        correct += u32::from(pass.correct);
    }
    (loss, correct)
}

/// A sample count as `f32`: at most the data set's 1797 records, so exact (below 2^24).
#[allow(clippy::cast_precision_loss)] // at most 1797 (or a minibatch, below 2^16): exact
pub(crate) fn count_f32(n: usize) -> f32 {
    n as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digits;

    /// Mean loss of two samples, in f64 for a finite-difference check.
    fn mean_loss(p: &Tensors, samples: &[([f32; FEATURES], u8)]) -> f64 {
        let total: f64 = samples.iter().map(|(x, y)| f64::from(p.forward(x, *y).loss)).sum();
        total / f64::from(u32::try_from(samples.len()).unwrap())
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let mut rng = Pcg32::new(3, 0);
        let mut p = Tensors::zeros();
        p.init(&mut rng);
        let samples: [([f32; FEATURES], u8); 2] = core::array::from_fn(|i| {
            let s = digits::sample(i * 7);
            (inputs(&s), s.label)
        });
        let mut g = Tensors::zeros();
        for (x, y) in &samples {
            g.accumulate_gradient(&p, x, &p.forward(x, *y), *y, 0.5);
        }
        let mut checked = 0;
        let h = 1e-3f32; // small against the ReLU kinks, large against f32 rounding
        // Probe a spread of entries of every tensor.
        let probes: [(usize, usize); 4] = [(0, 37), (1, 13), (2, 3), (3, 5)];
        for (t, stride) in probes {
            fn entry(p: &mut Tensors, t: usize, i: usize) -> &mut f32 {
                match t {
                    0 => &mut p.w1[i],
                    1 => &mut p.w2[i],
                    2 => &mut p.b1[i],
                    _ => &mut p.b2[i],
                }
            }
            let len = [HIDDEN * FEATURES, CLASSES * HIDDEN, HIDDEN, CLASSES][t];
            for i in (0..len).step_by(stride) {
                let (mut plus, mut minus) = (p.clone(), p.clone());
                *entry(&mut plus, t, i) += h;
                *entry(&mut minus, t, i) -= h;
                let numeric =
                    (mean_loss(&plus, &samples) - mean_loss(&minus, &samples)) / f64::from(2.0 * h);
                let analytic = f64::from(*entry(&mut g, t, i));
                assert!(
                    (numeric - analytic).abs() < 2e-3,
                    "tensor {t}[{i}]: {numeric} vs {analytic}"
                );
                checked += 1;
            }
        }
        assert!(checked > 40, "{checked}");
    }

    #[test]
    fn loss_and_prediction_of_a_known_network() {
        // Hidden unit 0 copies pixel 0; class 1's logit is 2 * that, every other logit 0.
        let mut p = Tensors::zeros();
        p.w1[0] = 1.0;
        p.w2[HIDDEN] = 2.0;
        let mut x = [0.0f32; FEATURES];
        x[0] = 1.0;
        let pass = p.forward(&x, 1);
        assert!(pass.correct);
        // loss = log(9 + e^2) - 2
        let want = (9.0f64 + 2f64.exp()).ln() - 2.0;
        assert!((f64::from(pass.loss) - want).abs() < 1e-6, "{}", pass.loss);
        let wrong = p.forward(&x, 4);
        assert!(!wrong.correct);
        assert!((f64::from(wrong.loss) - (want + 2.0)).abs() < 1e-6);
        // A tie picks the first class.
        assert!(p.forward(&[0.0; FEATURES], 0).correct);
    }
}

//! A two-layer perceptron with hand-written forward and backward passes (f32):
//!
//! ```text
//! h      = relu(x W1^T + b1)          PyTorch: nn.Linear(inputs, hidden) + nn.ReLU
//! logits = h W2^T + b2                nn.Linear(hidden, classes)
//! loss   = mean_b -log softmax(logits_b)[y_b]     nn.CrossEntropyLoss (mean reduction)
//! ```
//! Parameters are four tensors, in this order: `W1 [hidden x inputs]`, `W2 [classes x
//! hidden]` (group 0, the weights) and `b1 [hidden]`, `b2 [classes]` (group 1, the biases),
//! initialised like `nn.Linear`: `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`.

use crate::num::usize_f32;
use crate::rng::SplitMix64;

/// Shapes of the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Inputs per sample.
    pub inputs: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Classes (outputs).
    pub classes: usize,
}

impl Shape {
    /// Element counts of the four tensors, in parameter order (W1, W2, b1, b2).
    pub(crate) fn numels(&self) -> [usize; 4] {
        [self.hidden * self.inputs, self.classes * self.hidden, self.hidden, self.classes]
    }
}

/// The parameters (or gradients: same layout) of the network.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Tensors {
    /// `W1`, `W2`, `b1`, `b2`.
    pub t: [Vec<f32>; 4],
}

/// Indices of the tensors in [`Tensors::t`].
pub(crate) const W1: usize = 0;
/// See [`W1`].
pub(crate) const W2: usize = 1;
/// See [`W1`].
pub(crate) const B1: usize = 2;
/// See [`W1`].
pub(crate) const B2: usize = 3;

impl Tensors {
    /// All zeros.
    pub(crate) fn zeros(shape: Shape) -> Self {
        Self { t: shape.numels().map(|n| vec![0.0; n]) }
    }

    /// `nn.Linear`'s default initialisation, from `rng`.
    pub(crate) fn init(shape: Shape, rng: &mut SplitMix64) -> Self {
        let mut p = Self::zeros(shape);
        let (k1, k2) = (1.0 / usize_f32(shape.inputs).sqrt(), 1.0 / usize_f32(shape.hidden).sqrt());
        for (i, bound) in [(W1, k1), (W2, k2), (B1, k1), (B2, k2)] {
            p.t[i].iter_mut().for_each(|v| *v = rng.uniform(bound));
        }
        p
    }
}

/// Scratch buffers for one minibatch.
#[derive(Clone, Debug, Default)]
pub(crate) struct Workspace {
    hidden: Vec<f32>,
    probs: Vec<f32>,
    dhidden: Vec<f32>,
}

/// Result of a pass over a batch.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct BatchStats {
    /// Sum over the batch of the per-sample loss.
    pub loss_sum: f64,
    /// Correctly classified samples.
    pub correct: usize,
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Forward pass of `x` (`batch * inputs` values) into `ws`; returns the loss and accuracy
/// against `y`. With `grads`, also runs the backward pass and writes the gradient of the
/// mean loss (overwriting `grads`).
pub(crate) fn pass(
    shape: Shape,
    p: &Tensors,
    x: &[f32],
    y: &[u8],
    ws: &mut Workspace,
    grads: Option<&mut Tensors>,
) -> BatchStats {
    let Shape { inputs, hidden, classes } = shape;
    let batch = y.len();
    ws.hidden.resize(batch * hidden, 0.0);
    ws.probs.resize(batch * classes, 0.0);
    let mut stats = BatchStats::default();
    for b in 0..batch {
        let xb = &x[b * inputs..(b + 1) * inputs];
        let hb = &mut ws.hidden[b * hidden..(b + 1) * hidden];
        for (j, h) in hb.iter_mut().enumerate() {
            *h = (dot(&p.t[W1][j * inputs..(j + 1) * inputs], xb) + p.t[B1][j]).max(0.0);
        }
        let pb = &mut ws.probs[b * classes..(b + 1) * classes];
        for (k, o) in pb.iter_mut().enumerate() {
            *o = dot(&p.t[W2][k * hidden..(k + 1) * hidden], hb) + p.t[B2][k];
        }
        // Softmax with the max subtracted; loss = logsumexp - logit[y].
        let max = pb.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let label = usize::from(y[b]);
        let argmax =
            pb.iter().enumerate().fold(0, |best, (k, &v)| if v > pb[best] { k } else { best });
        stats.correct += usize::from(argmax == label);
        let mut sum = 0.0f32;
        for o in pb.iter_mut() {
            *o = (*o - max).exp();
            sum += *o;
        }
        let logit_y = pb[label];
        stats.loss_sum += f64::from(sum.ln() - logit_y.ln());
        pb.iter_mut().for_each(|o| *o /= sum);
    }
    let Some(g) = grads else { return stats };

    // dlogits = (softmax - onehot) / batch, stored in place of the probabilities.
    let scale = 1.0 / usize_f32(batch);
    for b in 0..batch {
        let pb = &mut ws.probs[b * classes..(b + 1) * classes];
        pb[usize::from(y[b])] -= 1.0;
        pb.iter_mut().for_each(|v| *v *= scale);
    }
    g.t.iter_mut().for_each(|t| t.fill(0.0));
    ws.dhidden.resize(batch * hidden, 0.0);
    for b in 0..batch {
        let d = &ws.probs[b * classes..(b + 1) * classes];
        let hb = &ws.hidden[b * hidden..(b + 1) * hidden];
        let dh = &mut ws.dhidden[b * hidden..(b + 1) * hidden];
        dh.fill(0.0);
        for (k, &dk) in d.iter().enumerate() {
            g.t[B2][k] += dk;
            let w2k = &p.t[W2][k * hidden..(k + 1) * hidden];
            let g2k = &mut g.t[W2][k * hidden..(k + 1) * hidden];
            for ((gw, &h), (dhj, &w)) in g2k.iter_mut().zip(hb).zip(dh.iter_mut().zip(w2k)) {
                *gw += dk * h;
                *dhj += dk * w;
            }
        }
        // ReLU: no gradient where the unit was off.
        for (dhj, &h) in dh.iter_mut().zip(hb) {
            if h <= 0.0 {
                *dhj = 0.0;
            }
        }
        let xb = &x[b * inputs..(b + 1) * inputs];
        for (j, &dj) in dh.iter().enumerate() {
            if dj == 0.0 {
                continue;
            }
            g.t[B1][j] += dj;
            let g1j = &mut g.t[W1][j * inputs..(j + 1) * inputs];
            g1j.iter_mut().zip(xb).for_each(|(gw, &xv)| *gw += dj * xv);
        }
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_matches_finite_differences() {
        let shape = Shape { inputs: 5, hidden: 7, classes: 3 };
        let mut rng = SplitMix64::new(11);
        let p = Tensors::init(shape, &mut rng);
        let x: Vec<f32> = (0..4 * 5).map(|_| rng.next_f32()).collect();
        let y = [0u8, 2, 1, 2];
        let mut ws = Workspace::default();
        let mut g = Tensors::zeros(shape);
        pass(shape, &p, &x, &y, &mut ws, Some(&mut g));
        let loss =
            |p: &Tensors, ws: &mut Workspace| pass(shape, p, &x, &y, ws, None).loss_sum / 4.0;
        let mut checked = 0;
        for t in 0..4 {
            for i in (0..p.t[t].len()).step_by(3) {
                let (mut plus, mut minus) = (p.clone(), p.clone());
                let h = 1e-2f32;
                plus.t[t][i] += h;
                minus.t[t][i] -= h;
                let numeric = (loss(&plus, &mut ws) - loss(&minus, &mut ws)) / (2.0 * f64::from(h));
                let analytic = f64::from(g.t[t][i]);
                assert!(
                    (numeric - analytic).abs() < 2e-3,
                    "tensor {t} [{i}]: {numeric} vs {analytic}"
                );
                checked += 1;
            }
        }
        assert!(checked > 20);
    }

    #[test]
    fn loss_and_accuracy_of_a_known_network() {
        // One input, two classes, identity-like weights: logits = [x, -x] (hidden = relu).
        let shape = Shape { inputs: 1, hidden: 1, classes: 2 };
        let p = Tensors { t: [vec![1.0], vec![1.0, -1.0], vec![0.0], vec![0.0, 0.0]] };
        let s = pass(shape, &p, &[2.0, 0.0], &[0, 1], &mut Workspace::default(), None);
        // Sample 0: logits [2, -2], loss ln(1 + e^-4); sample 1: logits [0, 0], loss ln 2.
        let want = (1.0 + (-4.0f64).exp()).ln() + 2f64.ln();
        assert!((s.loss_sum - want).abs() < 1e-6, "{}", s.loss_sum);
        // Sample 1 is a tie: argmax picks the first class, which is wrong.
        assert_eq!(s.correct, 1);
    }
}

//! What the parity tests share: random values, the bitwise comparison, gradients.
#![allow(dead_code)] // each test binary uses part of it
// Test code: 24-bit random integers as f32 are exact.
#![allow(clippy::cast_precision_loss)]
#![allow(clippy::unwrap_used)] // test code: a failure is the assertion

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};
use sgd_core::SgdConfig;

/// Three groups covering the options: nesterov with weight decay, dampening, maximize without
/// momentum.
pub(crate) fn three_groups() -> [SgdConfig; 3] {
    [
        SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            nesterov: true,
            weight_decay: 1e-2,
            ..SgdConfig::default()
        },
        SgdConfig { lr: 0.05, momentum: 0.8, dampening: 0.25, ..SgdConfig::default() },
        SgdConfig { lr: 0.3, weight_decay: 5e-4, maximize: true, ..SgdConfig::default() },
    ]
}

/// xorshift values in [-1, 1), with some exact zeros.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub(crate) fn f32(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        if self.0.is_multiple_of(17) {
            0.0
        } else {
            (self.0 >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        }
    }
    pub(crate) fn vec(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.f32()).collect()
    }
}

/// NaN-ness for NaN, bits for the rest (sgd-cpu's contract).
pub(crate) fn assert_same(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
            "{what}[{i}]: {g:e} vs {w:e}"
        );
    }
}

/// Gradients `g` for variables `v`, on each variable's device.
pub(crate) fn grads_of(pairs: &[(&Var, Vec<f32>)]) -> GradStore {
    let mut store = GradStore::default();
    for (v, g) in pairs {
        let t = Tensor::from_slice(g, v.shape(), v.device()).unwrap();
        store.insert(v.as_tensor(), t);
    }
    store
}

/// The host model of one variable: parameters, momentum buffer, "initialised".
pub(crate) struct Host {
    pub p: Vec<f32>,
    pub buf: Vec<f32>,
    pub first: bool,
}

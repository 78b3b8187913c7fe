//! One `opt.step()` of sgd-candle against candle-nn's `SGD` (plain SGD: it has no momentum) and
//! against momentum SGD written with candle tensor ops (`buf = buf * m + g; p = p - lr * buf`,
//! the loop a candle user writes), for 1 x 16M and 1000 x 4096 f32 CPU variables. Every side
//! runs in this process on the same machine state; `benches/README.md` reports their ratios.
//!
//! `cargo bench -p sgd-candle --bench step`
//!
//! With the `cuda` feature and `SGD_CANDLE_BENCH_DEVICE=cuda`, the same on candle's CUDA device
//! 0 (each iteration ends with `Device::synchronize`, so the time is the step's, not its
//! enqueueing): sgd-candle's one launch against candle's per-tensor ops.
#![allow(missing_docs)] // criterion's macros
#![allow(clippy::unwrap_used)] // a bench: a failure ends it

use core::hint::black_box;
use core::time::Duration;

use candle_core::backprop::GradStore;
use candle_core::{Device, Tensor, Var};
use candle_nn::Optimizer;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use sgd_candle::{CandleSgd, VarGroup};
use sgd_cpu::SgdConfig;

const CASES: [(&str, usize, usize); 2] = [("1x16M", 1, 16 << 20), ("1000x4096", 1000, 4096)];

/// Variables of `tensors x per` elements on `device` and a gradient store for them.
fn setup(tensors: usize, per: usize, device: &Device) -> (Vec<Var>, GradStore) {
    let mut grads = GradStore::default();
    let vars: Vec<Var> = (0..tensors)
        .map(|_| {
            let v = Var::from_vec(vec![1.0f32; per], per, device).unwrap();
            grads.insert(v.as_tensor(), Tensor::from_vec(vec![1e-3f32; per], per, device).unwrap());
            v
        })
        .collect();
    (vars, grads)
}

/// The device to bench on: the CPU, or CUDA device 0 when `SGD_CANDLE_BENCH_DEVICE=cuda`.
fn bench_device() -> Device {
    match std::env::var("SGD_CANDLE_BENCH_DEVICE").as_deref() {
        Ok("cuda") => Device::new_cuda(0).unwrap(),
        _ => Device::Cpu,
    }
}

/// Momentum SGD with candle tensor ops (no weight decay, no dampening): torch's rule, written
/// as a candle user writes it, one tensor at a time.
struct CandleOpsMomentum {
    vars: Vec<Var>,
    bufs: Vec<Option<Tensor>>,
    lr: f64,
    momentum: f64,
}

impl CandleOpsMomentum {
    fn step(&mut self, grads: &GradStore) -> candle_core::Result<()> {
        for (v, b) in self.vars.iter().zip(&mut self.bufs) {
            let Some(g) = grads.get(v.as_tensor()) else { continue };
            let buf = match b.take() {
                None => g.clone(),
                Some(b) => ((b * self.momentum)? + g)?,
            };
            v.set(&v.as_tensor().sub(&(&buf * self.lr)?)?)?;
            *b = Some(buf);
        }
        Ok(())
    }
}

/// One benchmark of `step` in `group`, each iteration ending when the device is done (`sync`).
fn time(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    sync: &dyn Fn(),
    mut step: impl FnMut(),
) {
    group.bench_function(name, |b| {
        b.iter(|| {
            step();
            sync();
        })
    });
}

fn bench(c: &mut Criterion) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let device = bench_device();
    // A step's work has finished when this returns (a no-op on the CPU).
    let sync = || device.synchronize().unwrap();
    let prefix = if device.is_cuda() { "candle_step_cuda" } else { "candle_step" };
    for (name, tensors, per) in CASES {
        let mut group = c.benchmark_group(format!("{prefix}/{name}"));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(3))
            .warm_up_time(Duration::from_millis(500));
        let (vars, grads) = setup(tensors, per, &device);
        let plain = SgdConfig { lr: 1e-3, ..SgdConfig::default() };
        let momentum = SgdConfig { momentum: 0.9, ..plain };
        let ours = |config| {
            CandleSgd::new(vec![VarGroup { vars: vars.clone(), config }])
                .unwrap()
                .with_threads(threads)
                .unwrap()
        };
        let mut sgd = ours(plain);
        time(&mut group, "plain/sgd-candle", &sync, || {
            sgd.step(black_box(&grads)).unwrap();
        });
        let mut theirs = candle_nn::SGD::new(vars.clone(), 1e-3).unwrap();
        time(&mut group, "plain/candle-nn SGD", &sync, || theirs.step(black_box(&grads)).unwrap());

        let mut sgd = ours(momentum);
        time(&mut group, "momentum/sgd-candle", &sync, || {
            sgd.step(black_box(&grads)).unwrap();
        });
        let mut ops = CandleOpsMomentum {
            vars: vars.clone(),
            bufs: vec![None; tensors],
            lr: 1e-3,
            momentum: 0.9,
        };
        time(&mut group, "momentum/candle ops", &sync, || ops.step(black_box(&grads)).unwrap());
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

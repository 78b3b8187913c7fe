//! Step time of every dtype mode of `ThreadPool::typed_step` against a same-traffic memory
//! baseline measured in the same run: a pass over the same slices that reads and writes exactly
//! the streams the step reads and writes (an integer XOR per element, vectorised by the
//! compiler), split over the same number of threads. Reported: the best of `REPS` runs of each,
//! interleaved, and their ratio (1.0 = the step moves its bytes as fast as a plain pass).
//!
//! Run: `cargo bench -p sgd-cpu --bench precision` (`PRECISION_BENCH_ELEMENTS`, default 64 Mi;
//! `PRECISION_BENCH_THREADS`, default 2).
#![allow(clippy::unwrap_used, clippy::cast_precision_loss, clippy::cast_possible_truncation)]

use core::hint::black_box;
use core::time::Duration;
use std::time::Instant;

use sgd_cpu::{
    Bf16, F16, Rounding, SgdConfig, TensorMut, TensorRef, ThreadPool, TypedGroup, TypedSlot,
    TypedStepOptions,
};

const REPS: usize = 7;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The baseline: `threads` threads each XOR the read-only stream into every written stream
/// over their share (every written stream is also read: the step's read-modify-write).
fn baseline<
    T: Copy + Send + Sync + core::ops::BitXor<Output = T>,
    R: Copy + Send + Sync + Into<T>,
>(
    threads: usize,
    written: &mut [&mut [T]],
    read: &[R],
) -> Duration {
    let n = read.len();
    let per = n.div_ceil(threads);
    let start = Instant::now();
    std::thread::scope(|scope| {
        let mut shares: Vec<Vec<&mut [T]>> = (0..threads).map(|_| Vec::new()).collect();
        for w in written.iter_mut() {
            for (k, chunk) in w.chunks_mut(per).enumerate() {
                shares[k].push(chunk);
            }
        }
        for (k, mut share) in shares.into_iter().enumerate() {
            let r = &read[(k * per).min(n)..((k + 1) * per).min(n)];
            scope.spawn(move || {
                for w in share.iter_mut() {
                    for (x, &y) in w.iter_mut().zip(r) {
                        *x = *x ^ y.into();
                    }
                }
            });
        }
    });
    start.elapsed()
}

fn best(mut f: impl FnMut() -> Duration) -> Duration {
    (0..REPS).map(|_| f()).min().unwrap()
}

fn report(mode: &str, bytes_per_element: usize, n: usize, step: Duration, base: Duration) {
    let gbs = |d: Duration| (bytes_per_element * n) as f64 / d.as_secs_f64() / 1e9;
    println!(
        "{mode:<28} {bytes_per_element:>2} B/elem  step {:>7.2} ms ({:>5.1} GB/s)  baseline {:>7.2} ms ({:>5.1} GB/s)  step/baseline {:.2}",
        step.as_secs_f64() * 1e3,
        gbs(step),
        base.as_secs_f64() * 1e3,
        gbs(base),
        step.as_secs_f64() / base.as_secs_f64()
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = env("PRECISION_BENCH_ELEMENTS", 64 << 20);
    let threads = env("PRECISION_BENCH_THREADS", 2);
    let mut pool = ThreadPool::new(threads).unwrap();
    pool.set_parallel_threshold(0);
    let config = SgdConfig { lr: 0.01, momentum: 0.9, ..SgdConfig::default() };
    println!("{n} elements, {threads} threads, momentum (buffers initialised), best of {REPS}");
    let step_of = |slot: TypedSlot<'_>, t: u32| {
        let mut slots = [slot];
        let opts = TypedStepOptions { step: t, seed: 1, ..TypedStepOptions::default() };
        let start = Instant::now();
        pool.typed_step(&mut [TypedGroup { config, tensors: &mut slots }], &opts).unwrap();
        start.elapsed()
    };
    {
        let (mut p, g, mut b, mut init) = (vec![1.0f32; n], vec![0.5f32; n], vec![0.1f32; n], true);
        let (mut pi, gi, mut bi) = (vec![1u32; n], vec![2u32; n], vec![3u32; n]);
        let s = best(|| {
            step_of(
                TypedSlot::new(&mut p[..], Some(TensorRef::F32(&g)))
                    .with_momentum(&mut b[..], &mut init),
                0,
            )
        });
        let base = best(|| baseline(threads, &mut [&mut pi[..], &mut bi[..]], &gi));
        report("float32", 20, n, s, base);
        black_box((&p, &pi));
    }
    {
        let (mut p, g, mut b, mut init) = (vec![1.0f64; n], vec![0.5f64; n], vec![0.1f64; n], true);
        let (mut pi, gi, mut bi) = (vec![1u64; n], vec![2u64; n], vec![3u64; n]);
        let s = best(|| {
            step_of(
                TypedSlot::new(&mut p[..], Some(TensorRef::F64(&g)))
                    .with_momentum(&mut b[..], &mut init),
                0,
            )
        });
        let base = best(|| baseline(threads, &mut [&mut pi[..], &mut bi[..]], &gi));
        report("float64", 40, n, s, base);
        black_box((&p, &pi));
    }
    let (mut pi, gi, mut bi) = (vec![1u16; n], vec![2u16; n], vec![3u16; n]);
    let base16 = best(|| baseline(threads, &mut [&mut pi[..], &mut bi[..]], &gi));
    for (name, rounding) in
        [("bfloat16", Rounding::NearestEven), ("bfloat16 stochastic", Rounding::Stochastic)]
    {
        let (mut p, g, mut b, mut init) =
            (vec![Bf16(0x3f80); n], vec![Bf16(0x3f00); n], vec![Bf16(0x3dcc); n], true);
        let mut t = 0;
        let s = best(|| {
            t += 1;
            step_of(
                TypedSlot::new(&mut p[..], Some(TensorRef::Bf16(&g)))
                    .with_momentum(&mut b[..], &mut init)
                    .with_rounding(rounding),
                t,
            )
        });
        report(name, 10, n, s, base16);
    }
    for (name, rounding) in
        [("float16", Rounding::NearestEven), ("float16 stochastic", Rounding::Stochastic)]
    {
        let (mut p, g, mut b, mut init) =
            (vec![F16(0x3c00); n], vec![F16(0x3800); n], vec![F16(0x2e66); n], true);
        let mut t = 0;
        let s = best(|| {
            t += 1;
            step_of(
                TypedSlot::new(TensorMut::F16(&mut p), Some(TensorRef::F16(&g)))
                    .with_momentum(TensorMut::F16(&mut b), &mut init)
                    .with_rounding(rounding),
                t,
            )
        });
        report(name, 10, n, s, base16);
    }
    drop((pi, gi, bi));
    for (name, rounding) in [
        ("bfloat16 + f32 master", Rounding::NearestEven),
        ("bfloat16 + f32 master stochastic", Rounding::Stochastic),
    ] {
        // Master: read grad (2), master (4), buffer (4); write master, buffer, param.
        let (mut p, g) = (vec![Bf16(0x3f80); n], vec![Bf16(0x3f00); n]);
        let (mut m, mut b, mut init) = (vec![1.0f32; n], vec![0.1f32; n], true);
        let mut t = 0;
        let s = best(|| {
            t += 1;
            step_of(
                TypedSlot::new(&mut p[..], Some(TensorRef::Bf16(&g)))
                    .with_master(&mut m)
                    .with_momentum(&mut b[..], &mut init)
                    .with_rounding(rounding),
                t,
            )
        });
        // Same streams: two 4-byte read-modify-write streams, one 2-byte written and one 2-byte read.
        let (mut mi, mut bi, gi) = (vec![1u32; n], vec![2u32; n], vec![3u16; n]);
        let mut pi = vec![4u16; n];
        let base = best(|| {
            baseline(threads, &mut [&mut mi[..], &mut bi[..]], &gi)
                + baseline(threads, &mut [&mut pi[..]], &gi)
        });
        report(name, 20, n, s, base);
        black_box((&p, &mi, &pi));
    }
}

//! `sgd-cuda` step time against a device-to-device copy of the same traffic, measured in the
//! same run (plain `main`, `harness = false`; prints a table, optionally JSON lines).
//!
//! Momentum SGD moves 20 bytes per element (reads param, grad, momentum; writes param,
//! momentum). The baseline is `cuMemcpyDtoDAsync` of 10 bytes per element (10 read + 10
//! written = the same 20 bytes of traffic): `of_copy = copy_time / step_time` is the fraction
//! of the copy bandwidth the step reaches.
//!
//! Modes: `direct` (a launch per step, a new learning rate each step), `graph` (the captured
//! step replayed with the same learning rate, as `torch.cuda.graph` around `opt.step()`
//! replays torch's), `graph-newlr` (replayed with a new learning rate each step: a 4-byte
//! upload before each replay) and `graph-sched` (a new learning rate each step from the device
//! schedule: nothing but the replay).
//!
//! Environment: `SGD_CUDA_BENCH_CASES` (comma list of case names, default all),
//! `SGD_CUDA_BENCH_JSON` (append one JSON object per row to this file),
//! `SGD_CUDA_CHUNK`, `SGD_CUDA_THREADS` (launch shape), `SGD_CUDA_BENCH_MS` (target time per
//! measurement, default 200). Without a GPU it prints why it skips and exits 0.
//!
//! Sweep mode, `SGD_CUDA_SWEEP=1`: for each case (default `1x1M,1x16M,1x256M`), one allocation
//! and one copy baseline, then the graph-replayed step for every `SGD_CUDA_SWEEP_CHUNKS` ×
//! `SGD_CUDA_SWEEP_THREADS` (comma lists; defaults 4096..262144 × 128..1024), one row each
//! (`impl` `sgd-cuda-sweep` in the JSON lines), then the best shape per case.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// a bench binary: failing loudly is the point.
// Bench code: element and iteration counts (at most 64M) as f64 for rates are exact.
#![allow(clippy::cast_precision_loss)]

use std::io::Write;
use std::sync::Arc;

use sgd_cpu::SgdConfig;
use sgd_cuda::cudarc::driver::CudaStream;
use sgd_cuda::cudarc::driver::sys::CUevent_flags;
use sgd_cuda::device::open_stream;
use sgd_cuda::{BufferId, CudaSgd, CudaSgdError, CudaSgdOptions, LaunchError, TensorRef};

/// (name, number of tensors, elements per tensor).
const CASES: &[(&str, usize, usize)] = &[
    ("1x1M", 1, 1 << 20),
    ("1x16M", 1, 16 << 20),
    ("1x256M", 1, 256 << 20),
    ("1000x4096", 1000, 4096),
    ("10000x4096", 10_000, 4096),
];

const BYTES_PER_ELEM: f64 = 20.0;

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Median seconds per call of `f`, over 5 timed batches of `iters` calls each.
fn time_per_call(stream: &Arc<CudaStream>, target_ms: f64, mut f: impl FnMut()) -> f64 {
    let ev = || stream.record_event(Some(CUevent_flags::CU_EVENT_DEFAULT)).unwrap();
    for _ in 0..3 {
        f();
    }
    let start = ev();
    f();
    let end = ev();
    let one_ms = f64::from(start.elapsed_ms(&end).unwrap()).max(1e-3);
    // Saturating float-to-int (NaN to 0), then clamped: the iteration count wanted.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let iters = ((target_ms / 5.0 / one_ms) as usize).clamp(3, 20_000);
    let mut samples = Vec::new();
    for _ in 0..5 {
        let start = ev();
        for _ in 0..iters {
            f();
        }
        let end = ev();
        samples.push(f64::from(start.elapsed_ms(&end).unwrap()) / 1e3 / iters as f64);
    }
    samples.sort_by(f64::total_cmp);
    samples[2]
}

fn main() {
    let stream = match open_stream(0) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("skipping sgd_cuda bench: {e}");
            return;
        }
    };
    let name = stream.context().name().unwrap_or_default();
    let options = CudaSgdOptions {
        chunk_elems: env_usize("SGD_CUDA_CHUNK"),
        block_threads: env_usize("SGD_CUDA_THREADS")
            .map_or(CudaSgdOptions::default().block_threads, |t| u32::try_from(t).unwrap()),
    };
    let target_ms = env_usize("SGD_CUDA_BENCH_MS").unwrap_or(200) as f64;
    let wanted: Option<Vec<String>> = std::env::var("SGD_CUDA_BENCH_CASES")
        .ok()
        .map(|s| s.split(',').map(|c| c.trim().to_string()).collect());
    let mut json = std::env::var_os("SGD_CUDA_BENCH_JSON")
        .map(|p| std::fs::OpenOptions::new().create(true).append(true).open(p).unwrap());
    if std::env::var_os("SGD_CUDA_SWEEP").is_some() {
        let wanted = wanted.unwrap_or_else(|| {
            ["1x1M", "1x16M", "1x256M"].iter().map(|s| (*s).to_string()).collect()
        });
        sweep(&stream, &name, &wanted, target_ms, json.as_mut());
        return;
    }
    println!(
        "sgd-cuda bench on {name}, {options:?} (None = automatic), momentum SGD (20 B/element)"
    );
    println!(
        "{:<12} {:>10} {:>6} {:>11} {:>11} {:>9} {:>11} {:>9} {:>8}",
        "case", "elements", "chunk", "mode", "step_us", "GB/s", "copy_us", "copy_GB/s", "of_copy"
    );
    for &(case, tensors, per) in CASES {
        if wanted.as_ref().is_some_and(|w| !w.iter().any(|c| c == case)) {
            continue;
        }
        let n = tensors * per;
        let mut opt = CudaSgd::new(
            stream.clone(),
            vec![momentum_sgd()],
            case_buffers(&stream, n),
            case_refs(tensors, per),
            options,
        )
        .unwrap();
        let copy_s = copy_seconds(&stream, n, target_ms);
        let mut lr = 0.01;
        let direct_s = time_per_call(&stream, target_ms, || {
            lr *= 0.999_999;
            opt.step(&[lr]).unwrap();
        });
        opt.capture_graph().unwrap();
        // As torch's captured step: the learning rate is the same every replay (no upload).
        let graph_s = time_per_call(&stream, target_ms, || opt.step(&[lr]).unwrap());
        // A new learning rate every replay: one 4-byte upload, in stream order, per step.
        let graph_newlr_s = time_per_call(&stream, target_ms, || {
            lr *= 0.999_999;
            opt.step(&[lr]).unwrap();
        });
        // A new learning rate every replay from the device schedule: no upload, no host work
        // but the graph launch. Enough rows for every call time_per_call makes (at most
        // 4 + 5 * 20000).
        let rows: Vec<f64> = (0..100_010).map(|k| 0.01 * 0.999_999f64.powi(k)).collect();
        opt.set_device_schedule_lrs(&rows).unwrap();
        let sched_s = time_per_call(&stream, target_ms, || opt.step_scheduled().unwrap());
        opt.schedule_steps_left().unwrap();
        let chunk = opt.chunk_elems();
        for (mode, s) in [
            ("direct", direct_s),
            ("graph", graph_s),
            ("graph-newlr", graph_newlr_s),
            ("graph-sched", sched_s),
        ] {
            let gbs = BYTES_PER_ELEM * n as f64 / s / 1e9;
            let copy_gbs = BYTES_PER_ELEM * n as f64 / copy_s / 1e9;
            println!(
                "{case:<12} {n:>10} {chunk:>6} {mode:>11} {:>11.2} {gbs:>9.1} {:>11.2} {copy_gbs:>9.1} {:>8.3}",
                s * 1e6,
                copy_s * 1e6,
                copy_s / s
            );
            if let Some(f) = json.as_mut() {
                writeln!(
                    f,
                    "{{\"impl\":\"sgd-cuda-{mode}\",\"case\":\"{case}\",\"tensors\":{tensors},\"elements\":{n},\"chunk\":{chunk},\"step_s\":{s:e},\"copy_s\":{copy_s:e},\"device\":\"{name}\"}}"
                )
                .unwrap();
            }
        }
    }
}

fn env_list(name: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(name).map_or_else(
        |_| default.to_vec(),
        |v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
    )
}

/// The benched step: momentum SGD, lr 0.01 (20 bytes of traffic per element).
fn momentum_sgd() -> SgdConfig {
    SgdConfig { lr: 0.01, momentum: 0.9, ..SgdConfig::default() }
}

/// Seconds of the copy baseline for `n` elements: a device-to-device copy of `10 * n` bytes,
/// the same 20 bytes of traffic per element as the step.
fn copy_seconds(stream: &Arc<CudaStream>, n: usize, target_ms: f64) -> f64 {
    let src = stream.alloc_zeros::<u8>(n * 10).unwrap();
    let mut dst = stream.alloc_zeros::<u8>(n * 10).unwrap();
    time_per_call(stream, target_ms, || stream.memcpy_dtod(&src, &mut dst).unwrap())
}

/// A case's buffers: parameters (zeros) and gradients (1e-3), buffers 0 and 1 of `case_refs`.
fn case_buffers(
    stream: &Arc<CudaStream>,
    n: usize,
) -> Vec<sgd_cuda::cudarc::driver::CudaSlice<f32>> {
    vec![stream.alloc_zeros::<f32>(n).unwrap(), stream.clone_htod(&vec![1.0e-3f32; n]).unwrap()]
}

/// The tensors of a case as `TensorRef`s over buffers 0 (params) and 1 (grads).
fn case_refs(tensors: usize, per: usize) -> Vec<TensorRef> {
    (0..tensors)
        .map(|t| TensorRef {
            group: 0,
            param_buffer: BufferId(0),
            params: t * per..(t + 1) * per,
            grad_buffer: BufferId(1),
            grads: t * per..(t + 1) * per,
        })
        .collect()
}

/// `SGD_CUDA_SWEEP`: graph-replayed step time (the `graph` mode: same learning rate every
/// replay) for every chunk × threads shape, per case.
fn sweep(
    stream: &Arc<CudaStream>,
    name: &str,
    wanted: &[String],
    target_ms: f64,
    mut json: Option<&mut std::fs::File>,
) {
    let chunks =
        env_list("SGD_CUDA_SWEEP_CHUNKS", &[4096, 8192, 16_384, 32_768, 65_536, 131_072, 262_144]);
    let threads = env_list("SGD_CUDA_SWEEP_THREADS", &[128, 256, 512, 1024]);
    println!("sgd-cuda launch-shape sweep on {name}, graph-replayed momentum SGD step");
    println!(
        "{:<12} {:>7} {:>7} {:>9} {:>9} {:>8}",
        "case", "chunk", "threads", "step_us", "copy_us", "of_copy"
    );
    for &(case, tensors, per) in CASES {
        if !wanted.iter().any(|c| c == case) {
            continue;
        }
        let n = tensors * per;
        let copy_s = copy_seconds(stream, n, target_ms);
        let mut buffers = Some(case_buffers(stream, n));
        let mut best: Option<(f64, usize, usize)> = None;
        for &chunk in &chunks {
            for &t in &threads {
                let options = CudaSgdOptions {
                    chunk_elems: Some(chunk),
                    block_threads: u32::try_from(t).unwrap(),
                };
                let created = CudaSgd::new(
                    stream.clone(),
                    vec![momentum_sgd()],
                    buffers.take().unwrap(),
                    case_refs(tensors, per),
                    options,
                );
                let mut opt = match created {
                    Ok(opt) => opt,
                    Err(e @ CudaSgdError::Launch(LaunchError::BlockTooLarge { .. })) => {
                        println!("{case:<12} {chunk:>7} {t:>7}  skipped: {e}");
                        buffers = Some(case_buffers(stream, n)); // `new` consumed them
                        continue;
                    }
                    Err(e) => panic!("{e}"),
                };
                opt.capture_graph().unwrap();
                let s = time_per_call(stream, target_ms, || opt.step(&[0.01]).unwrap());
                println!(
                    "{case:<12} {chunk:>7} {t:>7} {:>9.2} {:>9.2} {:>8.3}",
                    s * 1e6,
                    copy_s * 1e6,
                    copy_s / s
                );
                if let Some(f) = json.as_deref_mut() {
                    writeln!(
                        f,
                        "{{\"impl\":\"sgd-cuda-sweep\",\"case\":\"{case}\",\"tensors\":{tensors},\"elements\":{n},\"chunk\":{chunk},\"threads\":{t},\"step_s\":{s:e},\"copy_s\":{copy_s:e},\"device\":\"{name}\"}}"
                    )
                    .unwrap();
                }
                if best.is_none_or(|(b, _, _)| s < b) {
                    best = Some((s, chunk, t));
                }
                buffers = Some(opt.into_buffers());
            }
        }
        if let Some((s, chunk, t)) = best {
            println!(
                "best {case}: chunk {chunk}, {t} threads: {:.2} us, {:.3} of copy",
                s * 1e6,
                copy_s / s
            );
        }
    }
}

//! `lrkit bench`: fused SGD throughput next to a memory-bandwidth baseline measured in the
//! same run, over the same bytes.
//!
//! One step of `torch.optim.SGD` with momentum reads the parameters, the gradients and the
//! momentum buffer and writes the parameters and the buffer: 20 bytes per element. The
//! baseline is a triad-like pass with exactly that traffic over buffers of the same size
//! (`d = s * g; m += d; p += d`: [`Pass::Momentum`] of `lrkit-membw`, plain Rust compiled for
//! the widest vector ISA detected), split across the same number of threads; its speed is what
//! the memory system gives a simple streaming loop, so "% of baseline" says how close the fused
//! kernel gets to it.

use core::hint::black_box;
use core::time::Duration;
use std::time::Instant;

use lrkit_membw::{Pass, with_team};

use sgd_cpu::{
    Backend, Bf16, F16, GroupSpec, Rounding, Sgd, SgdConfig, StepOptions, TensorMut, TensorRef,
    ThreadPool, TypedGroup, TypedMomentum, TypedSlot, TypedStepOptions,
};

use crate::dtype_arg::DtypeArg;
use crate::error::CliError;

/// Most elements per tensor `--sizes` takes (80 GiB of traffic per step).
const MAX_ELEMENTS: u64 = 1 << 32;

/// `lrkit bench`.
#[derive(Debug, clap::Args)]
#[command(
    about = "Fused SGD throughput next to a memory-bandwidth baseline",
    long_about = ABOUT
)]
pub(crate) struct Args {
    /// Small sizes and short timings (for tests)
    #[arg(long)]
    quick: bool,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
    /// Elements per tensor [default: 65536,1048576,16777216]
    #[arg(long, value_name = "N,...", value_delimiter = ',',
          value_parser = clap::value_parser!(u64).range(1..=MAX_ELEMENTS))]
    sizes: Option<Vec<u64>>,
    /// Thread counts [default: 1 and all cores]
    #[arg(long, value_name = "T,...", value_delimiter = ',',
          value_parser = clap::value_parser!(u64).range(1..=ThreadPool::MAX_THREADS as u64))]
    threads: Option<Vec<u64>>,
    /// sgd-cpu backend: scalar, avx2, avx512, neon [default: the fastest here]
    #[arg(long, value_name = "NAME")]
    backend: Option<String>,
    /// Element type of the parameters, gradients and momentum buffers
    #[arg(long, value_enum, ignore_case = true, default_value_t = DtypeArg::F32)]
    dtype: DtypeArg,
    /// bf16/f16 parameters with an f32 master copy and f32 momentum
    #[arg(long)]
    master: bool,
    /// bf16/f16 results rounded stochastically (Philox4x32, seed 1)
    #[arg(long)]
    stochastic: bool,
}

/// The measured mode: the dtype and the 16-bit options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Mode {
    dtype: DtypeArg,
    master: bool,
    stochastic: bool,
}

impl Mode {
    /// Bytes one step moves per element: every stream read, the written ones written (a
    /// master-copy step writes the 16-bit parameter without reading it).
    fn bytes_per_element(self) -> usize {
        match (self.dtype, self.master) {
            (DtypeArg::F32, _) => 20,
            (DtypeArg::F64, _) => 40,
            (_, false) => 10,
            (_, true) => 20,
        }
    }

    /// Bytes of the step's buffers per element (parameter, gradient, momentum, master).
    fn storage_per_element(self) -> usize {
        match (self.dtype, self.master) {
            (DtypeArg::F32, _) | (_, true) => 12,
            (DtypeArg::F64, _) => 24,
            (_, false) => 6,
        }
    }

    /// The mode's name in the table.
    fn name(self) -> String {
        let base = self.dtype;
        let master = if self.master { "+master" } else { "" };
        let sr = if self.stochastic { "+sr" } else { "" };
        format!("{base}{master}{sr}")
    }
}

/// Long help of the command (clap adds the options).
const ABOUT: &str = "\
Measures the fused SGD step of sgd-cpu (momentum 0.9, one tensor of N elements, 20 bytes
of memory traffic per element in float32) for a few sizes and thread counts, and in the same
run a triad-like baseline pass with the same traffic over buffers of the same size. Prints
GB/s and the SGD speed as a percentage of the baseline. --dtype f64|bf16|f16 (with --master
for an f32 master copy and f32 momentum, --stochastic for stochastic rounding) measures
sgd-cpu's typed step instead: 40 bytes per element in float64, 10 with 16-bit storage, 20
with a master copy; the baseline is the same pass over as many float32 elements as move the
same bytes. With a usable NVIDIA GPU, also the
sgd-cuda step next to a device-to-device copy of the same size.

Steps below 262144 elements run on one thread whatever --threads says (sgd-cpu's
parallel threshold); the baseline follows the same rule. A size whose buffers (16 bytes per
element) do not fit in the memory available is refused before anything runs.";

/// Bytes of memory available to this process now (`MemAvailable` of `/proc/meminfo`), where
/// the system says.
fn memory_available() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// One measured configuration.
#[derive(Clone, Debug)]
struct Row {
    device: String,
    backend: String,
    /// Bytes per element one step moves.
    bytes_per_element: usize,
    /// Bytes per element of the step's buffers.
    storage_per_element: usize,
    mode: String,
    elements: usize,
    threads: usize,
    sgd_seconds: f64,
    baseline_seconds: f64,
    baseline: &'static str,
}

impl Row {
    /// Bytes moved by one step.
    fn bytes(&self) -> f64 {
        crate::num::usize_f64(self.bytes_per_element * self.elements)
    }
    fn sgd_gbps(&self) -> f64 {
        self.bytes() / self.sgd_seconds / 1e9
    }
    /// The baseline moves the same bytes as the step.
    fn baseline_gbps(&self) -> f64 {
        self.bytes() / self.baseline_seconds / 1e9
    }
}

/// Best (smallest) seconds per call of `f` over at least `min_time` and 3 calls, after
/// 2 warm-up calls.
fn best_time(min_time: Duration, mut f: impl FnMut()) -> f64 {
    f();
    f();
    let start = Instant::now();
    let mut best = f64::INFINITY;
    let mut reps = 0;
    while reps < 3 || start.elapsed() < min_time {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
        reps += 1;
    }
    best
}

/// Best seconds per baseline pass ([`Pass::Momentum`]: the step's 20 bytes per element) over
/// `p`, `m`, `g` on `threads` threads, the helpers started once and spinning between passes.
fn baseline_time(
    p: &mut [f32],
    m: &mut [f32],
    g: &[f32],
    threads: usize,
    min_time: Duration,
) -> f64 {
    with_team(Pass::Momentum, p, m, g, -1e-7, threads, |pass| best_time(min_time, pass))
}

fn runtime(e: impl core::fmt::Display) -> CliError {
    CliError::Runtime(format!("bench: {e}"))
}

/// Rounds of alternating measurements: SGD and baseline take turns, so that both see the
/// same machine (other processes, frequency) and the ratio compares like with like.
const ROUNDS: u32 = 3;

/// Measures sgd-cpu at `n` elements and `threads` threads, and the baseline, in
/// [`ROUNDS`] alternating rounds; keeps the best time of each.
fn cpu_row(
    n: usize,
    threads: usize,
    backend: Option<Backend>,
    min_time: Duration,
) -> Result<Row, CliError> {
    let config = SgdConfig { lr: 1e-3, momentum: 0.9, ..SgdConfig::default() };
    let mut p = filled_with(n, 1.0).map_err(runtime)?;
    let g = filled_with(n, 1e-3).map_err(runtime)?;
    let mut m = filled_with(n, 0.0).map_err(runtime)?;
    let (mut sgd_seconds, mut baseline_seconds, mut used) = (f64::INFINITY, f64::INFINITY, 1);
    for _ in 0..ROUNDS {
        let mut sgd = Sgd::new(vec![GroupSpec { config, numels: vec![n] }]).map_err(runtime)?;
        sgd.set_backend(backend).map_err(runtime)?;
        sgd.set_threads(threads).map_err(runtime)?;
        used = if n < ThreadPool::DEFAULT_PARALLEL_THRESHOLD { 1 } else { sgd.threads() };
        let mut failure = None;
        let t = best_time(min_time / ROUNDS, || {
            if let Err(e) = sgd.step(&mut [&mut p[..]], &[Some(&g[..])]) {
                failure.get_or_insert(e);
            }
            black_box(&mut p);
        });
        if let Some(e) = failure {
            return Err(runtime(e));
        }
        sgd_seconds = sgd_seconds.min(t);
        // Stop sgd-cpu's workers first: they must not compete with the baseline for cores.
        drop(sgd);
        baseline_seconds =
            baseline_seconds.min(baseline_time(&mut p, &mut m, &g, used, min_time / ROUNDS));
    }
    Ok(Row {
        device: "cpu".into(),
        backend: backend.unwrap_or_else(Backend::active).name().into(),
        bytes_per_element: Pass::Momentum.bytes_per_element(),
        storage_per_element: 12,
        mode: "f32".into(),
        elements: n,
        threads: used,
        sgd_seconds,
        baseline_seconds,
        baseline: "triad",
    })
}

/// `n` values of `T`, or an error naming the size when the memory is not there.
fn filled_with<T: Copy>(n: usize, value: T) -> Result<Vec<T>, String> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| format!("cannot allocate {n} values"))?;
    v.resize(n, value);
    Ok(v)
}

/// The typed step's buffers of one mode: parameter, gradient, momentum, master.
struct TypedBuffers {
    param: TypedVec,
    grad: TypedVec,
    momentum: TypedVec,
    master: Option<Vec<f32>>,
}

/// A vector of one element type.
enum TypedVec {
    F32(Vec<f32>),
    F64(Vec<f64>),
    Bf16(Vec<Bf16>),
    F16(Vec<F16>),
}

impl TypedVec {
    fn new(dtype: DtypeArg, n: usize, value: f32) -> Result<Self, String> {
        Ok(match dtype {
            DtypeArg::F32 => Self::F32(filled_with(n, value)?),
            DtypeArg::F64 => Self::F64(filled_with(n, f64::from(value))?),
            DtypeArg::Bf16 => {
                Self::Bf16(filled_with(n, Bf16(sgd_cpu::convert::f32_to_bf16(value)))?)
            }
            DtypeArg::F16 => Self::F16(filled_with(n, F16(sgd_cpu::convert::f32_to_f16(value)))?),
        })
    }
    fn as_mut(&mut self) -> TensorMut<'_> {
        match self {
            Self::F32(v) => TensorMut::F32(v),
            Self::F64(v) => TensorMut::F64(v),
            Self::Bf16(v) => TensorMut::Bf16(v),
            Self::F16(v) => TensorMut::F16(v),
        }
    }
    fn as_ref(&self) -> TensorRef<'_> {
        match self {
            Self::F32(v) => TensorRef::F32(v),
            Self::F64(v) => TensorRef::F64(v),
            Self::Bf16(v) => TensorRef::Bf16(v),
            Self::F16(v) => TensorRef::F16(v),
        }
    }
}

/// Measures `mode` through sgd-cpu's typed step at `n` elements and `threads` threads, and
/// the same-traffic baseline ([`Pass::Momentum`] over as many f32 elements as move the same
/// bytes), in [`ROUNDS`] alternating rounds.
fn typed_row(
    n: usize,
    threads: usize,
    mode: Mode,
    backend: Option<Backend>,
    min_time: Duration,
) -> Result<Row, CliError> {
    let config = SgdConfig { lr: 1e-3, momentum: 0.9, ..SgdConfig::default() };
    let buffer_dtype = if mode.master { DtypeArg::F32 } else { mode.dtype };
    let mut b = TypedBuffers {
        param: TypedVec::new(mode.dtype, n, 1.0).map_err(runtime)?,
        grad: TypedVec::new(mode.dtype, n, 1e-3).map_err(runtime)?,
        momentum: TypedVec::new(buffer_dtype, n, 0.0).map_err(runtime)?,
        master: if mode.master { Some(filled_with(n, 1.0).map_err(runtime)?) } else { None },
    };
    let baseline_n = n * mode.bytes_per_element() / Pass::Momentum.bytes_per_element();
    let mut bp = filled_with(baseline_n, 1.0).map_err(runtime)?;
    let mut bm = filled_with(baseline_n, 0.0).map_err(runtime)?;
    let bg = filled_with(baseline_n, 1e-3).map_err(runtime)?;
    let rounding = if mode.stochastic { Rounding::Stochastic } else { Rounding::NearestEven };
    let (mut sgd_seconds, mut baseline_seconds, mut used) = (f64::INFINITY, f64::INFINITY, 1);
    let mut step_number = 0u32;
    for _ in 0..ROUNDS {
        let pool = ThreadPool::new(threads).map_err(runtime)?;
        used = if n < ThreadPool::DEFAULT_PARALLEL_THRESHOLD { 1 } else { pool.threads() };
        let mut failure = None;
        let mut initialized = true;
        let t = best_time(min_time / ROUNDS, || {
            let TypedBuffers { param, grad, momentum, master } = &mut b;
            let mut slot = TypedSlot::new(param.as_mut(), Some(grad.as_ref()));
            slot.momentum =
                Some(TypedMomentum { buffer: momentum.as_mut(), initialized: &mut initialized });
            slot.master = master.as_deref_mut();
            slot.rounding = rounding;
            let mut slots = [slot];
            let mut groups = [TypedGroup { config, tensors: &mut slots }];
            step_number = step_number.wrapping_add(1);
            let opts = TypedStepOptions {
                options: StepOptions { backend, ..StepOptions::default() },
                seed: 1,
                step: step_number,
                ..TypedStepOptions::default()
            };
            if let Err(e) = pool.typed_step(&mut groups, &opts) {
                failure.get_or_insert(e);
            }
        });
        if let Some(e) = failure {
            return Err(runtime(e));
        }
        sgd_seconds = sgd_seconds.min(t);
        drop(pool);
        baseline_seconds =
            baseline_seconds.min(baseline_time(&mut bp, &mut bm, &bg, used, min_time / ROUNDS));
    }
    Ok(Row {
        device: "cpu".into(),
        backend: backend.unwrap_or_else(Backend::active).name().into(),
        bytes_per_element: mode.bytes_per_element(),
        storage_per_element: mode.storage_per_element(),
        mode: mode.name(),
        elements: n,
        threads: used,
        sgd_seconds,
        baseline_seconds,
        baseline: "triad",
    })
}

/// Measures sgd-cuda at `n` elements next to a device-to-device copy of the same size.
fn cuda_rows(sizes: &[usize], min_time: Duration) -> Result<Vec<Row>, String> {
    use sgd_cuda::{BufferId, CudaSgd, CudaSgdOptions, TensorRef};
    let stream = sgd_cuda::device::open_stream(0).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for &n in sizes {
        let err = |e: &dyn core::fmt::Display| format!("{n} elements: {e}");
        let p =
            stream.clone_htod(&filled_with(n, 1.0).map_err(|e| err(&e))?).map_err(|e| err(&e))?;
        let g =
            stream.clone_htod(&filled_with(n, 1e-3).map_err(|e| err(&e))?).map_err(|e| err(&e))?;
        let config = SgdConfig { lr: 1e-3, momentum: 0.9, ..SgdConfig::default() };
        let tensor = TensorRef {
            group: 0,
            param_buffer: BufferId(0),
            params: 0..n,
            grad_buffer: BufferId(1),
            grads: 0..n,
        };
        let mut sgd = CudaSgd::new(
            stream.clone(),
            vec![config],
            vec![p, g],
            vec![tensor],
            CudaSgdOptions::default(),
        )
        .map_err(|e| err(&e))?;
        let mut failure: Option<String> = None;
        let sgd_seconds = best_time(min_time, || {
            if let Err(e) = sgd.step(&[1e-3]).and_then(|()| sgd.synchronize()) {
                failure.get_or_insert(e.to_string());
            }
        });
        // Baseline: copy 10 bytes per element each way (20 bytes of traffic per element).
        let bytes = n * 5 / 2;
        let src = stream.alloc_zeros::<f32>(bytes).map_err(|e| err(&e))?;
        let mut dst = stream.alloc_zeros::<f32>(bytes).map_err(|e| err(&e))?;
        let baseline_seconds = best_time(min_time, || {
            if let Err(e) = stream.memcpy_dtod(&src, &mut dst).and_then(|()| stream.synchronize()) {
                failure.get_or_insert(e.to_string());
            }
        });
        if let Some(e) = failure {
            return Err(err(&e));
        }
        rows.push(Row {
            device: "cuda".into(),
            backend: "sgd-cuda".into(),
            bytes_per_element: Pass::Momentum.bytes_per_element(),
            storage_per_element: 12,
            mode: "f32".into(),
            elements: n,
            threads: 0,
            sgd_seconds,
            baseline_seconds,
            baseline: "dtod copy",
        });
    }
    Ok(rows)
}

/// Runs the command.
pub(crate) fn run(a: Args) -> Result<(), CliError> {
    let Args { quick, json, sizes, threads, backend, dtype, master, stochastic } = a;
    dtype.check_half_options(master, stochastic)?;
    let mode = Mode { dtype, master, stochastic };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // clap bounded sizes by `MAX_ELEMENTS` and threads by `ThreadPool::MAX_THREADS`.
    let counts = |v: Vec<u64>| -> Vec<usize> {
        v.into_iter().map(|x| usize::try_from(x).unwrap_or(usize::MAX)).collect()
    };
    let sizes = match sizes {
        Some(v) => counts(v),
        None if quick => vec![16 * 1024, 320 * 1024],
        None => vec![64 * 1024, 1024 * 1024, 16 * 1024 * 1024],
    };
    let mut threads = match threads {
        Some(v) => counts(v),
        None => vec![1, cores],
    };
    threads.dedup();
    // The step's buffers and the baseline's (each about the step's traffic in bytes).
    if let (Some(largest), Some(available)) = (sizes.iter().max(), memory_available()) {
        let per_element =
            if dtype == DtypeArg::F32 { 16 } else { 2 * mode.bytes_per_element() as u64 };
        let needed = (*largest as u64).saturating_mul(per_element);
        if needed > available {
            return Err(CliError::Usage(format!(
                "--sizes {largest}: needs {:.1} GiB of memory, {:.1} GiB are available",
                crate::num::u64_f64(needed) / f64::from(1u32 << 30),
                crate::num::u64_f64(available) / f64::from(1u32 << 30)
            )));
        }
    }
    let backend = match backend {
        None => None,
        Some(name) => match Backend::from_name(&name) {
            Some(b) if b.is_available() => Some(b),
            _ => {
                let here: Vec<&str> = Backend::available().map(Backend::name).collect();
                return Err(CliError::Usage(format!(
                    "--backend {name:?} is not available here: {}",
                    here.join(", ")
                )));
            }
        },
    };
    let min_time = Duration::from_millis(if quick { 5 } else { 300 });

    let mut rows = Vec::new();
    for &n in &sizes {
        let mut seen = Vec::new();
        for &t in &threads {
            let row = if mode.dtype == DtypeArg::F32 {
                cpu_row(n, t, backend, min_time)?
            } else {
                typed_row(n, t, mode, backend, min_time)?
            };
            // Below the parallel threshold every thread count runs on one thread.
            if !seen.contains(&row.threads) {
                seen.push(row.threads);
                rows.push(row);
            }
        }
    }
    let gpu = if mode.dtype == DtypeArg::F32 {
        cuda_rows(&sizes, min_time)
    } else {
        Err(format!("--dtype {}: the GPU rows measure float32", mode.name()))
    };
    if let Ok(r) = &gpu {
        rows.extend(r.iter().cloned());
    }
    let gpu_note = gpu.err();
    if json {
        crate::output::print_line(&to_json(&rows, gpu_note.as_deref(), cores));
    } else {
        crate::output::print_line(&to_table(&rows, cores));
        if let Some(note) = gpu_note {
            crate::output::print_line(&format!("GPU: not measured ({note})"));
        }
    }
    Ok(())
}

fn to_table(rows: &[Row], cores: usize) -> String {
    let mut out = format!(
        "fused SGD step (momentum) vs. a same-traffic baseline, best of repeated runs; {cores} cores\n"
    );
    let header = [
        "device",
        "backend",
        "dtype",
        "B/elem",
        "elements",
        "MiB",
        "threads",
        "SGD GB/s",
        "baseline",
        "baseline GB/s",
        "% of baseline",
    ];
    let cells: Vec<[String; 11]> = rows
        .iter()
        .map(|r| {
            let base = r.baseline_gbps();
            [
                r.device.clone(),
                r.backend.clone(),
                r.mode.clone(),
                r.bytes_per_element.to_string(),
                r.elements.to_string(),
                format!(
                    "{:.1}",
                    crate::num::usize_f64(r.storage_per_element * r.elements) / (1024.0 * 1024.0)
                ),
                if r.threads == 0 { "-".into() } else { r.threads.to_string() },
                format!("{:.1}", r.sgd_gbps()),
                r.baseline.to_string(),
                format!("{base:.1}"),
                format!("{:.0}%", 100.0 * r.sgd_gbps() / base),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| cells.iter().map(|r| r[c].len()).chain([header[c].len()]).max().unwrap_or(0))
        .collect();
    let line = |row: &[String]| {
        let parts: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(
                |(i, (c, w))| if i < 3 || i == 8 { format!("{c:<w$}") } else { format!("{c:>w$}") },
            )
            .collect();
        parts.join("  ")
    };
    out.push_str(&line(&header.map(String::from)));
    for r in &cells {
        out.push('\n');
        out.push_str(&line(r));
    }
    out
}

fn to_json(rows: &[Row], gpu_note: Option<&str>, cores: usize) -> String {
    let rows: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let base = r.baseline_gbps();
            serde_json::json!({
                "device": r.device,
                "backend": r.backend,
                "dtype": r.mode,
                "elements": r.elements,
                "threads": r.threads,
                "bytes_per_step": r.bytes(),
                "sgd_seconds_per_step": r.sgd_seconds,
                "sgd_gbps": r.sgd_gbps(),
                "baseline": r.baseline,
                "baseline_seconds": r.baseline_seconds,
                "baseline_gbps": base,
                "percent_of_baseline": 100.0 * r.sgd_gbps() / base,
            })
        })
        .collect();
    serde_json::json!({ "cores": cores, "rows": rows, "gpu_unavailable": gpu_note }).to_string()
}

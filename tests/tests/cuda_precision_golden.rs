//! sgd-cuda's kernel (`sgd-cuda/kernels/sgd_multi_tensor.cu`, `sgd_multi_tensor_typed`) compiled
//! for the host (sgd-cuda's `tests/host/` shim, no GPU needed) against the golden vectors of
//! `torch.optim.SGD` on float64, bfloat16 and float16 tensors
//! (`tests/golden/sgd_precision_public.json` and every `sgd_precision_*.json` in `$GOLDEN_DIR`):
//! every case, every step, parameters, momentum buffers and f32 masters bit for bit (NaN-ness for
//! NaN values), each case with two launch shapes (4096-element chunks; 5-element chunks, so that
//! torch's 32-element scalar tail spans chunks). The tables are sgd-cuda's own
//! (`DeviceTensorTable::build`, `group_entries`). One line per file: `golden <file>: <N> cases,
//! <B> bitwise through the host-compiled CUDA kernel (float64 <a>/<n>, bfloat16 <b>/<m>,
//! float16 <c>/<k>)`. Skips with a message when no C++20 compiler is found.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test.

use std::path::Path;

use lrkit_tests::precision_golden::{self, Bits, Case, Data};
use sgd_cpu::Dtype;
use sgd_cuda::test_support::{DeviceTensorTable, HostLaunch, TensorSpec, host_runner, run_on_host};
use sgd_cuda::{SrKey, TensorKind};

/// Where one tensor lives in the arena (byte offsets).
struct Place {
    param: usize,
    grad: usize,
    buf: usize,
    master: usize,
    numel: usize,
}

fn kind(case: &Case) -> TensorKind {
    match (case.dtype, case.master) {
        (Dtype::F64, _) => TensorKind::F64,
        (Dtype::Bf16, false) => TensorKind::Bf16,
        (Dtype::Bf16, true) => TensorKind::Bf16Master,
        (_, false) => TensorKind::F16,
        (_, true) => TensorKind::F16Master,
    }
}

fn bytes(d: &Data) -> Vec<u8> {
    let b = d.to_bits();
    let size = b.dtype.size();
    b.bits.iter().flat_map(|x| x.to_le_bytes()[..size].to_vec()).collect()
}

fn read(arena: &[u8], at: usize, dtype: Dtype, n: usize) -> Bits {
    let size = dtype.size();
    let bits = (0..n)
        .map(|i| {
            let mut w = [0u8; 8];
            w[..size].copy_from_slice(&arena[at + i * size..at + (i + 1) * size]);
            u64::from_le_bytes(w)
        })
        .collect();
    Bits { dtype, bits }
}

/// Runs every step of `case` through the host-compiled kernel; `Err` names the first mismatch.
fn run_case(
    runner: &Path,
    case: &Case,
    chunk_elems: usize,
    grid: u64,
    block: u64,
) -> Result<(), String> {
    let kind = kind(case);
    let buf_dtype = if case.master { Dtype::F32 } else { case.dtype };
    let mut at = 16usize;
    let mut alloc = |n: usize| {
        let off = at.div_ceil(16) * 16;
        at = off + n;
        off
    };
    let places: Vec<Place> = case
        .init
        .iter()
        .map(|p| {
            let numel = p.to_bits().bits.len();
            Place {
                param: alloc(numel * case.dtype.size()),
                grad: alloc(numel * case.dtype.size()),
                buf: alloc(numel * buf_dtype.size()),
                master: if case.master { alloc(numel * 4) } else { 0 },
                numel,
            }
        })
        .collect();
    let mut arena = vec![0u8; at.div_ceil(16) * 16];
    let put = |arena: &mut [u8], off: usize, d: &Data| {
        let b = bytes(d);
        arena[off..off + b.len()].copy_from_slice(&b);
    };
    for (p, init) in places.iter().zip(&case.init) {
        put(&mut arena, p.param, init);
        if case.master {
            put(&mut arena, p.master, &Data::F32(init.widened()));
        }
    }
    let mut initialized = vec![false; places.len()];
    let mut chunk_first: Option<Vec<u32>> = None;
    for (t, step) in case.steps.iter().enumerate() {
        let specs: Vec<TensorSpec> = places
            .iter()
            .enumerate()
            .map(|(i, p)| TensorSpec {
                group: case.group_of[i],
                len: p.numel,
                param: p.param as u64,
                grad: p.grad as u64,
                momentum: Some(p.buf as u64),
                has_grad: step.grads[i].is_some(),
                kind,
                master: case.master.then_some(p.master as u64),
                stochastic: false,
                sr_tensor: u32::try_from(i).unwrap(),
            })
            .collect();
        let table = DeviceTensorTable::build(&specs, case.groups.len(), chunk_elems)
            .map_err(|e| format!("step {t}: {e}"))?;
        let first = chunk_first.get_or_insert_with(|| vec![1; table.num_chunks()]);
        for (p, g) in places.iter().zip(&step.grads) {
            if let Some(g) = g {
                put(&mut arena, p.grad, g);
            }
        }
        let groups: Vec<_> = case
            .groups
            .iter()
            .zip(&step.lrs)
            .map(|(g, &lr)| sgd_cpu::SgdConfig { lr, ..*g })
            .collect();
        let neg: Vec<f32> = step
            .lrs
            .iter()
            .map(|&lr| {
                sgd_cpu::StepScalars::from_config(&sgd_cpu::SgdConfig {
                    lr,
                    ..sgd_cpu::SgdConfig::default()
                })
                .neg_lr
            })
            .collect();
        let neg64: Vec<f64> = step.lrs.iter().map(|&lr| -lr).collect();
        // A found_inf step without a grad scale divides by 1 (exact) and is skipped.
        let scaler = (case.grad_scale.is_some() || step.found_inf)
            .then(|| (case.grad_scale.unwrap_or(1.0), if step.found_inf { 1.0 } else { 0.0 }));
        let words: Vec<u32> =
            arena.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect();
        let launch = HostLaunch {
            arena: &words,
            table: &table,
            groups: &groups,
            grid,
            block,
            neg_lrs: &neg,
            chunk_first: first,
            scaler,
            schedule: None,
            typed: Some((&neg64, SrKey::default())),
        };
        let name = format!("precision_{}_{chunk_elems}", case.id);
        let out = run_on_host(runner, &name, &launch);
        *first = out.chunk_first;
        arena = out.arena.iter().flat_map(|w| w.to_le_bytes()).collect();
        if !step.found_inf {
            for (i, g) in step.grads.iter().enumerate() {
                if g.is_some() && case.groups[case.group_of[i]].momentum != 0.0 {
                    initialized[i] = true;
                }
            }
        }
        for (i, p) in places.iter().enumerate() {
            let ctx = |what: &str| format!("step {t} tensor {i} {what}");
            read(&arena, p.param, case.dtype, p.numel)
                .check(&step.params_after[i], &ctx("param"))?;
            match &step.buffers_after[i] {
                Some(want) if initialized[i] => {
                    read(&arena, p.buf, buf_dtype, p.numel).check(want, &ctx("buffer"))?;
                }
                Some(_) => return Err(ctx("buffer: torch has one, ours is not initialised")),
                None if initialized[i] => return Err(ctx("buffer: initialised, torch has none")),
                None => {}
            }
            if let Some(want) = &step.masters_after {
                read(&arena, p.master, Dtype::F32, p.numel).check(&want[i], &ctx("master"))?;
            }
        }
    }
    Ok(())
}

#[test]
fn the_cuda_kernel_on_the_host_matches_torch_bitwise_on_every_precision_golden_case() {
    let Some(runner) = host_runner() else { return };
    for path in &lrkit_tests::golden_files("sgd_precision") {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let what = " through the host-compiled CUDA kernel";
        let (cases, bitwise) = precision_golden::check_file(&name, &text, what, |case| {
            [(4096usize, 3u64, 64u64), (5, 7, 4)]
                .into_iter()
                .filter_map(|(chunk, grid, block)| {
                    run_case(&runner, case, chunk, grid, block)
                        .err()
                        .map(|e| format!("{} [chunk {chunk}]: {e}", case.id))
                })
                .collect()
        });
        assert!(cases > 0 && bitwise == cases, "{name}");
    }
}

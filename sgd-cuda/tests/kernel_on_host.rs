//! Runs the real kernel source (`kernels/sgd_multi_tensor.cu`) on the CPU through a tiny CUDA
//! shim (`tests/host/`: one thread per CUDA thread, a barrier per block) on tables built by
//! sgd-cuda's table builder, and compares with `sgd_core::scalar::sgd_update` bit for bit.
//!
//! This checks, without a GPU, the parts a GPU run would otherwise be the first to exercise:
//! the table layouts on both sides, chunk bounds, the grid-stride loop, the `float4` and scalar
//! paths, per-chunk first-step flags, tensors without gradients, gradient scale and skipped
//! steps, and the device schedule (the step counter read by every block and advanced by
//! `sgd_schedule_advance`, the step past the table). (Float semantics on the device are covered
//! by the PTX checks and the GPU tests.)
//! Skips with a message when no C++20 compiler (`$CXX` or `c++`) is found.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// tests: a failed unwrap is a failed test.
// Test code: group and step counts (below 10) as f32/f64 are exact.
#![allow(clippy::cast_precision_loss)]

use std::path::{Path, PathBuf};

mod common;

use common::Rng;
use sgd_core::scalar::sgd_update;
use sgd_core::{MomentumBuffer, SgdConfig, StepScalars, neg_lr};
use sgd_cuda::sched_core::spec::{Value, build};
use sgd_cuda::sched_core::{ParamGroup, Scheduler};
use sgd_cuda::schedule::{LrTable, ScheduleState};
use sgd_cuda::test_support::{
    DeviceTensorTable, HostLaunch, TensorSpec, host_runner, packed_offsets, run_on_host,
};
use sgd_cuda::{CudaSgdError, ScheduleError};

/// The runner executable (compiled once per test process; `None`: skipped with a message).
fn build_runner() -> Option<PathBuf> {
    host_runner()
}

/// One scenario: tensors in an arena `[params | grads | momentum]`, offsets in elements.
struct Scenario {
    groups: Vec<SgdConfig>,
    lens: Vec<usize>,
    tensor_group: Vec<usize>,
    param_off: Vec<usize>,
    grad_off: Vec<usize>,
    mom_off: Vec<Option<usize>>,
    arena: Vec<f32>,
}

fn scenario(rng: &mut Rng) -> Scenario {
    let base = SgdConfig::default();
    let groups = vec![
        SgdConfig { momentum: 0.9, dampening: 0.1, weight_decay: 1e-2, ..base },
        SgdConfig { weight_decay: 0.1, maximize: true, ..base },
        SgdConfig { momentum: 0.8, nesterov: true, weight_decay: 5e-3, ..base },
        SgdConfig { momentum: 0.5, maximize: true, ..base },
    ];
    let lens = vec![1usize, 3, 4, 5, 63, 64, 65, 130, 257, 1000, 8, 2];
    let tensor_group: Vec<usize> = (0..lens.len()).map(|i| i % groups.len()).collect();
    let mut at: usize = 16; // element 0.. reserved: address 0 means "no momentum buffer"
    let mut alloc = |len: usize, misalign: usize| {
        let off = at.div_ceil(4) * 4 + misalign;
        at = off + len;
        off
    };
    let param_off: Vec<usize> = lens.iter().enumerate().map(|(i, &l)| alloc(l, i % 4)).collect();
    let grad_off: Vec<usize> =
        lens.iter().enumerate().map(|(i, &l)| alloc(l, (i / 2) % 4)).collect();
    let mut mom_off = vec![None; lens.len()];
    for (g, cfg) in groups.iter().enumerate() {
        if cfg.momentum != 0.0 {
            let members: Vec<usize> = (0..lens.len()).filter(|&t| tensor_group[t] == g).collect();
            let (offs, total) =
                packed_offsets(&members.iter().map(|&t| lens[t]).collect::<Vec<_>>());
            let start = alloc(total, 0);
            for (&t, o) in members.iter().zip(offs) {
                mom_off[t] = Some(start + o);
            }
        }
    }
    let mut arena = vec![f32::NAN; at + 4];
    for (i, &l) in lens.iter().enumerate() {
        for k in 0..l {
            arena[param_off[i] + k] = rng.value();
        }
    }
    Scenario { groups, lens, tensor_group, param_off, grad_off, mom_off, arena }
}

/// The tensors of a scenario as the table builder takes them (byte offsets into the arena).
fn specs(s: &Scenario, has_grad: &[bool]) -> Vec<TensorSpec> {
    (0..s.lens.len())
        .map(|i| {
            TensorSpec::f32(
                s.tensor_group[i],
                s.lens[i],
                4 * s.param_off[i] as u64,
                4 * s.grad_off[i] as u64,
                s.mom_off[i].map(|o| 4 * o as u64),
                has_grad[i],
            )
        })
        .collect()
}

#[test]
fn kernel_source_on_the_host_matches_scalar_reference() {
    let Some(runner) = build_runner() else { return };
    let mut rng = Rng(7);
    // (chunk, block, grid): float4 chunks, non-multiple-of-4 chunks (scalar only), one big
    // chunk per tensor; grids smaller than the chunk count exercise the grid-stride loop.
    for (chunk_elems, block, grid) in [(64usize, 32u64, 5u64), (30, 32, 40), (4096, 64, 3)] {
        let mut s = scenario(&mut rng);
        let n = s.lens.len();
        let mut host_params: Vec<Vec<f32>> =
            (0..n).map(|i| s.arena[s.param_off[i]..s.param_off[i] + s.lens[i]].to_vec()).collect();
        let mut host_mom: Vec<Option<Vec<f32>>> = vec![None; n];
        let mut chunk_first: Option<Vec<u32>> = None;
        for step in 0..5 {
            let has_grad: Vec<bool> = (0..n).map(|i| !(i % 5 == step % 5 && step < 3)).collect();
            let specs = specs(&s, &has_grad);
            let t = DeviceTensorTable::build(&specs, s.groups.len(), chunk_elems).unwrap();
            let first = chunk_first.get_or_insert_with(|| vec![1; t.num_chunks()]);
            // Step 1 is skipped (found_inf = 1); steps 2.. use a gradient scale.
            let scaler = match step {
                0 => None,
                1 => Some((512.0f32, 1.0f32)),
                _ => Some((0.5 + step as f32, 0.0)),
            };
            let lrs: Vec<f64> =
                (0..s.groups.len()).map(|g| 0.05 * (g + 1) as f64 / (step + 1) as f64).collect();
            for i in 0..n {
                for k in 0..s.lens[i] {
                    s.arena[s.grad_off[i] + k] = rng.value();
                }
            }
            let neg: Vec<f32> = lrs.iter().map(|&l| neg_lr(l)).collect();
            let launch = Launch {
                arena: &s.arena,
                table: &t,
                groups: &s.groups,
                grid,
                block,
                neg_lrs: &neg,
                chunk_first: first,
                scaler,
                schedule: None,
            };
            let (arena, flags, _) = run(&runner, &format!("{chunk_elems}"), &launch);
            let before = core::mem::replace(&mut s.arena, arena);
            *first = flags;

            // Reference.
            let what = format!("chunk {chunk_elems} block {block} grid {grid} step {step}");
            if scaler.is_some_and(|(_, fi)| fi != 0.0) {
                let same = before.iter().zip(&s.arena).all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "{what}: a skipped step wrote memory");
                continue;
            }
            let scale = scaler.map(|(sc, _)| sc);
            for i in 0..n {
                if !has_grad[i] {
                    continue;
                }
                let cfg = SgdConfig { lr: lrs[s.tensor_group[i]], ..s.groups[s.tensor_group[i]] };
                let sc = StepScalars::from_config(&cfg);
                let g: Vec<f32> = before[s.grad_off[i]..s.grad_off[i] + s.lens[i]].to_vec();
                if sc.has_momentum {
                    let firstm = host_mom[i].is_none();
                    let b = host_mom[i].get_or_insert_with(|| vec![0.0; s.lens[i]]);
                    sgd_update(
                        &sc,
                        &mut host_params[i],
                        &g,
                        Some(MomentumBuffer::new(b.as_mut_slice(), firstm)),
                        scale,
                    );
                } else {
                    sgd_update(&sc, &mut host_params[i], &g, None, scale);
                }
            }
            for i in 0..n {
                let got = &s.arena[s.param_off[i]..s.param_off[i] + s.lens[i]];
                for (k, (a, b)) in got.iter().zip(&host_params[i]).enumerate() {
                    assert_eq!(
                        a.to_bits(),
                        b.to_bits(),
                        "{what}: tensor {i} param {k}: {a:e} vs {b:e}"
                    );
                }
                if let (Some(o), Some(m)) = (s.mom_off[i], &host_mom[i]) {
                    let got = &s.arena[o..o + s.lens[i]];
                    for (k, (a, b)) in got.iter().zip(m).enumerate() {
                        assert_eq!(a.to_bits(), b.to_bits(), "{what}: tensor {i} momentum {k}");
                    }
                }
                // First-step flags: cleared exactly for the chunks of tensors with momentum
                // that have taken a step.
                let chunk_range = t.chunk_start[i]..t.chunk_start[i + 1];
                let expect = u32::from(host_mom[i].is_none());
                for c in chunk_range {
                    assert_eq!(first[c], expect, "{what}: tensor {i} chunk {c} first flag");
                }
            }
        }
    }
}

/// One launch of the runner: the step's inputs.
struct Launch<'a> {
    arena: &'a [f32],
    table: &'a DeviceTensorTable,
    groups: &'a [SgdConfig],
    grid: u64,
    block: u64,
    /// `f32(-lr)`: one row (host lrs) or the whole device-schedule table.
    neg_lrs: &'a [f32],
    chunk_first: &'a [u32],
    scaler: Option<(f32, f32)>,
    /// The device schedule's counter (then `neg_lrs` is its table).
    schedule: Option<ScheduleState>,
}

/// Runs one step on the host-compiled kernel: the arena, chunk flags and schedule counter after.
fn run(runner: &Path, name: &str, l: &Launch<'_>) -> (Vec<f32>, Vec<u32>, Option<ScheduleState>) {
    let arena: Vec<u32> = l.arena.iter().map(|x| x.to_bits()).collect();
    let launch = HostLaunch {
        arena: &arena,
        table: l.table,
        groups: l.groups,
        grid: l.grid,
        block: l.block,
        neg_lrs: l.neg_lrs,
        chunk_first: l.chunk_first,
        scaler: l.scaler,
        schedule: l.schedule,
        typed: None,
    };
    let out = run_on_host(runner, name, &launch);
    (out.arena.into_iter().map(f32::from_bits).collect(), out.chunk_first, out.schedule)
}

/// OneCycleLR over 4 groups (lrs change at every step), without momentum cycling.
fn one_cycle(groups: &mut [ParamGroup]) -> Scheduler<'static> {
    let kwargs = [
        (
            "max_lr",
            Value::List(&[
                Value::Float(0.5),
                Value::Float(0.2),
                Value::Float(0.05),
                Value::Float(1.0),
            ]),
        ),
        ("total_steps", Value::Int(12)),
        ("cycle_momentum", Value::Bool(false)),
    ];
    build("OneCycleLR", &kwargs, groups).unwrap()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Bitwise equality, reporting the first differing element only.
fn assert_same_bits(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: length");
    if let Some(i) = (0..a.len()).find(|&i| a[i].to_bits() != b[i].to_bits()) {
        panic!(
            "{what}: element {i}: {:e} ({:#010x}) vs {:e} ({:#010x})",
            a[i],
            a[i].to_bits(),
            b[i],
            b[i].to_bits()
        );
    }
}

/// K scheduled steps through the device counter (the table uploaded once, the row chosen by
/// the counter the kernel reads and `sgd_schedule_advance` advances) equal K steps with the
/// lrs of host stepping uploaded per step, bitwise: params, momentum, first-step flags. A step
/// skipped by `found_inf` still takes its row (as a host loop takes its lr). Steps past the
/// table change nothing and are counted on the device.
#[test]
fn scheduled_steps_through_the_device_counter_equal_host_uploaded_lrs() {
    let Some(runner) = build_runner() else { return };
    const K: usize = 7;
    const K_U32: u32 = 7;
    let mut rng = Rng(11);
    let s = scenario(&mut rng);
    let n = s.lens.len();
    let fresh_groups = || -> Vec<ParamGroup> {
        (0..s.groups.len())
            .map(|g| ParamGroup::new(0.01 * f64::from(u8::try_from(g + 1).unwrap())))
            .collect()
    };
    // A: the device schedule; B: host stepping of an identical scheduler, lrs uploaded per step.
    let (mut ga, mut gb) = (fresh_groups(), fresh_groups());
    let (mut sa, mut sb) = (one_cycle(&mut ga), one_cycle(&mut gb));
    let lr_table = LrTable::from_scheduler(&mut sa, &mut ga, K).unwrap();
    let mut state = ScheduleState::start(&lr_table);
    assert_eq!(state, ScheduleState { row: 0, rows: K_U32, groups: 4, exhausted: 0 });
    for (chunk_elems, block, grid) in [(64usize, 32u64, 5u64), (30, 32, 40)] {
        let (mut arena_a, mut arena_b) = (s.arena.clone(), s.arena.clone());
        let mut first_a: Option<Vec<u32>> = None;
        let mut first_b: Option<Vec<u32>> = None;
        let mut state_a = state;
        let (mut gb_run, mut sb_run) = (fresh_groups(), None::<Scheduler<'static>>);
        let sb_run = sb_run.get_or_insert_with(|| one_cycle(&mut gb_run));
        for step in 0..K + 3 {
            let has_grad: Vec<bool> = (0..n).map(|i| !(i % 5 == step % 5 && step < 3)).collect();
            let specs = specs(&s, &has_grad);
            let t = DeviceTensorTable::build(&specs, s.groups.len(), chunk_elems).unwrap();
            let fa = first_a.get_or_insert_with(|| vec![1; t.num_chunks()]);
            let fb = first_b.get_or_insert_with(|| vec![1; t.num_chunks()]);
            // Step 2 is skipped (found_inf), the others scaled.
            let scaler = Some((
                0.75 + f32::from(u8::try_from(step).unwrap()),
                if step == 2 { 1.0f32 } else { 0.0 },
            ));
            for i in 0..n {
                for k in 0..s.lens[i] {
                    let g = rng.value();
                    arena_a[s.grad_off[i] + k] = g;
                    arena_b[s.grad_off[i] + k] = g;
                }
            }
            let what = format!("chunk {chunk_elems} grid {grid} step {step}");
            let launch_a = Launch {
                arena: &arena_a,
                table: &t,
                groups: &s.groups,
                grid,
                block,
                neg_lrs: lr_table.neg_lrs(),
                chunk_first: fa,
                scaler,
                schedule: Some(state_a),
            };
            let (out_a, flags_a, got_state) = run(&runner, "sched_a", &launch_a);
            let got_state = got_state.unwrap();
            assert_eq!(got_state, state_a.advanced(), "{what}: counter");
            if step < K {
                let lrs: Vec<f64> = gb_run.iter().map(|g| g.lr).collect();
                let neg: Vec<f32> = lrs.iter().map(|&l| neg_lr(l)).collect();
                assert_eq!(bits(&neg), bits(lr_table.row(step).unwrap()), "{what}: row");
                let launch_b = Launch {
                    arena: &arena_b,
                    table: &t,
                    groups: &s.groups,
                    grid,
                    block,
                    neg_lrs: &neg,
                    chunk_first: fb,
                    scaler,
                    schedule: None,
                };
                let (out_b, flags_b, _) = run(&runner, "sched_b", &launch_b);
                sb_run.step(&mut gb_run).unwrap();
                assert_same_bits(&out_a, &out_b, &format!("{what}: arena (params, momentum)"));
                assert_eq!(flags_a, flags_b, "{what}: first-step flags");
                if step != 2 {
                    assert_ne!(bits(&out_a), bits(&arena_a), "{what}: the step wrote nothing");
                }
                arena_b = out_b;
                *fb = flags_b;
                assert_eq!(got_state.steps_left().unwrap(), K - step - 1, "{what}");
            } else {
                // Past the table: nothing written, not even the first-step flags.
                assert_same_bits(&out_a, &arena_a, &format!("{what}: a step past the table wrote"));
                assert_eq!(&flags_a, fa, "{what}: first-step flags");
                let skipped = u32::try_from(step - K + 1).unwrap();
                assert_eq!((got_state.row, got_state.exhausted), (K_U32, skipped), "{what}");
                assert!(matches!(
                    got_state.steps_left(),
                    Err(CudaSgdError::Schedule(ScheduleError::Exhausted { rows: K, skipped_steps }))
                        if skipped_steps == skipped
                ));
            }
            arena_a = out_a;
            *fa = flags_a;
            state_a = got_state;
        }
    }
    // The host scheduler of A ended K steps on, where B's loop is.
    assert_eq!(sa.last_epoch(), sb.last_epoch() + i64::from(K_U32));
    for _ in 0..K {
        sb.step(&mut gb).unwrap();
    }
    assert_eq!(ga, gb);
    state = state.advanced();
    assert_eq!(state.row, 1);
}

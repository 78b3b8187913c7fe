//! The kernel source (`kernels/sgd_multi_tensor.cu`) compiled for the host (`tests/host/`) runs
//! `sgd_multi_tensor_typed` on tensors of every storage type and mode, and every result is
//! compared bit for bit with sgd-core's reference: float32 (`scalar::sgd_update`), float64
//! (`scalar64::sgd_update_f64`), bf16/f16 storage (`precision::sgd_update_half`, torch's scalar
//! tail included) and bf16/f16 with f32 master weights (`precision::sgd_update_master`), each
//! rounded to nearest and stochastically (the Philox words of `sgd_core::SrStream`), in one launch
//! with three launch shapes (so the stochastic bits are the same for every chunking and grid).
//! Skips with a message when no C++20 compiler is found.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// tests: a failed unwrap is a failed test.
// Test data: small counts as f32/f64 (exact), random bits truncated to their width.
#![allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]

mod common;

use common::Rng;
use sgd_core::precision::{fused_tail_start, sgd_update_half, sgd_update_master};
use sgd_core::scalar::sgd_update;
use sgd_core::scalar64::sgd_update_f64;
use sgd_core::{
    Bf16, Dtype, F16, HalfFloat, MomentumBuffer, SgdConfig, SrStream, StepScalars, StepScalars64,
    neg_lr,
};
use sgd_cuda::test_support::{DeviceTensorTable, HostLaunch, TensorSpec, host_runner, run_on_host};
use sgd_cuda::{SrKey, TensorKind};

/// One tensor's values in its storage type.
#[derive(Clone, Debug, PartialEq)]
enum Data {
    F32(Vec<f32>),
    F64(Vec<f64>),
    Bf16(Vec<Bf16>),
    F16(Vec<F16>),
}

impl Data {
    fn random(dtype: Dtype, n: usize, rng: &mut Rng) -> Data {
        let v = rng.vec(n);
        match dtype {
            Dtype::F32 => Data::F32(v),
            // f64 values with low bits f32 cannot hold.
            Dtype::F64 => Data::F64(
                v.iter()
                    .map(|&x| f64::from(x) * (1.0 + 1e-12 * rng.next() as f64 / u64::MAX as f64))
                    .collect(),
            ),
            Dtype::Bf16 => Data::Bf16(v.iter().map(|&x| Bf16::from_f32(x)).collect()),
            _ => Data::F16(v.iter().map(|&x| F16::from_f32(x.clamp(-6e4, 6e4))).collect()),
        }
    }

    fn bytes(&self) -> Vec<u8> {
        match self {
            Data::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Data::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Data::Bf16(v) => v.iter().flat_map(|x| x.0.to_le_bytes()).collect(),
            Data::F16(v) => v.iter().flat_map(|x| x.0.to_le_bytes()).collect(),
        }
    }

    fn from_bytes(like: &Data, b: &[u8]) -> Data {
        match like {
            Data::F32(v) => Data::F32(
                (0..v.len())
                    .map(|i| f32::from_le_bytes(b[4 * i..4 * i + 4].try_into().unwrap()))
                    .collect(),
            ),
            Data::F64(v) => Data::F64(
                (0..v.len())
                    .map(|i| f64::from_le_bytes(b[8 * i..8 * i + 8].try_into().unwrap()))
                    .collect(),
            ),
            Data::Bf16(v) => Data::Bf16(
                (0..v.len()).map(|i| Bf16(u16::from_le_bytes([b[2 * i], b[2 * i + 1]]))).collect(),
            ),
            Data::F16(v) => Data::F16(
                (0..v.len()).map(|i| F16(u16::from_le_bytes([b[2 * i], b[2 * i + 1]]))).collect(),
            ),
        }
    }

    /// The bit patterns, NaN-ness first (as every backend agrees on NaN-ness only).
    fn bits(&self) -> Vec<Option<u64>> {
        match self {
            Data::F32(v) => {
                v.iter().map(|x| (!x.is_nan()).then_some(u64::from(x.to_bits()))).collect()
            }
            Data::F64(v) => v.iter().map(|x| (!x.is_nan()).then_some(x.to_bits())).collect(),
            Data::Bf16(v) => {
                v.iter().map(|x| (!x.to_f32().is_nan()).then_some(u64::from(x.0))).collect()
            }
            Data::F16(v) => {
                v.iter().map(|x| (!x.to_f32().is_nan()).then_some(u64::from(x.0))).collect()
            }
        }
    }
}

/// One tensor of the scenario and its host-side reference state.
struct Tensor {
    group: usize,
    kind: TensorKind,
    stochastic: bool,
    param: Data,
    buf: Option<Data>,
    master: Option<Vec<f32>>,
    initialized: bool,
    /// Byte offsets in the arena: param, grad, buffer, master.
    at: [usize; 4],
}

fn groups() -> Vec<SgdConfig> {
    let base = SgdConfig::default();
    vec![
        SgdConfig { momentum: 0.9, dampening: 0.1, weight_decay: 1e-2, ..base },
        SgdConfig { weight_decay: 0.1, maximize: true, ..base },
        SgdConfig { momentum: 0.8, nesterov: true, weight_decay: 5e-3, ..base },
        SgdConfig { momentum: 0.5, dampening: 0.3, maximize: true, ..base },
    ]
}

fn scenario(rng: &mut Rng) -> (Vec<Tensor>, usize) {
    let kinds = [
        (TensorKind::F32, false),
        (TensorKind::F64, false),
        (TensorKind::Bf16, false),
        (TensorKind::F16, false),
        (TensorKind::Bf16Master, false),
        (TensorKind::F16Master, false),
        (TensorKind::Bf16, true),
        (TensorKind::F16, true),
        (TensorKind::Bf16Master, true),
        (TensorKind::F16Master, true),
    ];
    let lens = [1usize, 15, 33, 70, 130, 300];
    let groups = groups();
    let mut at = 16usize; // offset 0 reads as "no momentum buffer"
    let mut alloc = |bytes: usize| {
        let off = at.div_ceil(16) * 16;
        at = off + bytes;
        off
    };
    let mut tensors = Vec::new();
    for (k, &(kind, stochastic)) in kinds.iter().enumerate() {
        for (j, &len) in lens.iter().enumerate() {
            let group = (k + j) % groups.len();
            let dtype = match kind {
                TensorKind::F32 => Dtype::F32,
                TensorKind::F64 => Dtype::F64,
                TensorKind::Bf16 | TensorKind::Bf16Master => Dtype::Bf16,
                _ => Dtype::F16,
            };
            let param = Data::random(dtype, len, rng);
            let size = kind.element_size();
            let has_m = groups[group].momentum != 0.0;
            let buf = has_m.then(|| match kind.has_master() {
                true => Data::F32(vec![0.0; len]),
                false => Data::random(dtype, len, rng), // garbage: the first step overwrites it
            });
            let master = kind.has_master().then(|| match &param {
                Data::Bf16(v) => v.iter().map(|x| x.to_f32()).collect(),
                Data::F16(v) => v.iter().map(|x| x.to_f32()).collect(),
                _ => unreachable!(),
            });
            let at = [
                alloc(len * size),
                alloc(len * size),
                if has_m { alloc(len * kind.buffer_element_size()) } else { 0 },
                if kind.has_master() { alloc(4 * len) } else { 0 },
            ];
            tensors.push(Tensor {
                group,
                kind,
                stochastic,
                param,
                buf,
                master,
                initialized: false,
                at,
            });
        }
    }
    (tensors, at.div_ceil(16) * 16)
}

/// The reference step of one tensor (sgd-core), with the gradient `g` of its dtype.
fn reference(
    t: &mut Tensor,
    index: usize,
    cfg: &SgdConfig,
    g: &Data,
    scale: Option<f32>,
    key: SrKey,
) {
    let s = StepScalars::from_config(cfg);
    let first = !t.initialized;
    let seed = u64::from(key.seed_lo) | (u64::from(key.seed_hi) << 32);
    let sr =
        t.stochastic.then_some(SrStream { seed, step: key.step, tensor: index as u32, offset: 0 });
    match (&mut t.param, g, &mut t.buf, &mut t.master) {
        (Data::F32(p), Data::F32(g), b, None) => {
            let b = b.as_mut().map(|b| match b {
                Data::F32(b) => MomentumBuffer::new(&mut b[..], first),
                _ => unreachable!(),
            });
            sgd_update(&s, p, g, b, scale);
        }
        (Data::F64(p), Data::F64(g), b, None) => {
            let b = b.as_mut().map(|b| match b {
                Data::F64(b) => MomentumBuffer::new(&mut b[..], first),
                _ => unreachable!(),
            });
            sgd_update_f64(&StepScalars64::from_config(cfg), p, g, b, scale.map(f64::from));
        }
        (Data::Bf16(p), Data::Bf16(g), b, m) => half(&s, p, g, b, m, first, scale, sr),
        (Data::F16(p), Data::F16(g), b, m) => half(&s, p, g, b, m, first, scale, sr),
        _ => unreachable!(),
    }
    if t.buf.is_some() && s.has_momentum {
        t.initialized = true;
    }
}

trait Slices: HalfFloat {
    fn of(d: &mut Data) -> &mut [Self];
}
impl Slices for Bf16 {
    fn of(d: &mut Data) -> &mut [Self] {
        match d {
            Data::Bf16(v) => v,
            _ => unreachable!(),
        }
    }
}
impl Slices for F16 {
    fn of(d: &mut Data) -> &mut [Self] {
        match d {
            Data::F16(v) => v,
            _ => unreachable!(),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn half<H: Slices>(
    s: &StepScalars,
    p: &mut [H],
    g: &[H],
    b: &mut Option<Data>,
    master: &mut Option<Vec<f32>>,
    first: bool,
    scale: Option<f32>,
    sr: Option<SrStream>,
) {
    match master {
        Some(m) => {
            let b = b.as_mut().map(|b| match b {
                Data::F32(b) => MomentumBuffer::new(&mut b[..], first),
                _ => unreachable!(),
            });
            sgd_update_master(s, p, g, m, b, scale, sr);
        }
        None => {
            let b = b.as_mut().map(|b| MomentumBuffer::new(H::of(b), first));
            let tail = fused_tail_start(p.len());
            sgd_update_half(s, p, g, b, scale, sr, tail);
        }
    }
}

fn put(arena: &mut [u8], at: usize, d: &Data) {
    let b = d.bytes();
    arena[at..at + b.len()].copy_from_slice(&b);
}

#[test]
fn every_storage_type_and_mode_matches_sgd_core_bit_for_bit() {
    let Some(runner) = host_runner() else { return };
    let groups = groups();
    let mut checked = 0usize;
    // (chunk, block, grid): several chunks per tensor and a grid-stride loop; chunks that are
    // not multiples of 4 (or of 32, torch's tail); one chunk per tensor.
    for (shape, (chunk_elems, block, grid)) in
        [(64usize, 32u64, 5u64), (30, 16, 40), (4096, 64, 3)].into_iter().enumerate()
    {
        let mut rng = Rng(101 + shape as u64);
        let (mut tensors, arena_len) = scenario(&mut rng);
        let mut arena = vec![0u8; arena_len];
        for t in &tensors {
            put(&mut arena, t.at[0], &t.param);
            if let Some(b) = &t.buf {
                put(&mut arena, t.at[2], b);
            }
            if let Some(m) = &t.master {
                put(&mut arena, t.at[3], &Data::F32(m.clone()));
            }
        }
        let mut chunk_first: Option<Vec<u32>> = None;
        for step in 0..5u32 {
            let has_grad: Vec<bool> =
                (0..tensors.len()).map(|i| !(i % 7 == step as usize % 7 && step < 2)).collect();
            let specs: Vec<TensorSpec> = tensors
                .iter()
                .enumerate()
                .map(|(i, t)| TensorSpec {
                    group: t.group,
                    len: t.param.bits().len(),
                    param: t.at[0] as u64,
                    grad: t.at[1] as u64,
                    momentum: t.buf.as_ref().map(|_| t.at[2] as u64),
                    has_grad: has_grad[i],
                    kind: t.kind,
                    master: t.master.as_ref().map(|_| t.at[3] as u64),
                    stochastic: t.stochastic,
                    sr_tensor: i as u32,
                })
                .collect();
            let table = DeviceTensorTable::build(&specs, groups.len(), chunk_elems).unwrap();
            let first = chunk_first.get_or_insert_with(|| vec![1; table.num_chunks()]);
            // Step 1 is skipped (found_inf), steps 2.. are scaled.
            let scaler = match step {
                0 => None,
                1 => Some((512.0f32, 1.0f32)),
                _ => Some((0.5 + step as f32, 0.0)),
            };
            let lrs: Vec<f64> =
                (0..groups.len()).map(|g| 0.05 * (g + 1) as f64 / f64::from(step + 1)).collect();
            let grads: Vec<Data> = tensors
                .iter()
                .map(|t| {
                    let dtype = match &t.param {
                        Data::F32(_) => Dtype::F32,
                        Data::F64(_) => Dtype::F64,
                        Data::Bf16(_) => Dtype::Bf16,
                        Data::F16(_) => Dtype::F16,
                    };
                    Data::random(dtype, t.param.bits().len(), &mut rng)
                })
                .collect();
            for (t, g) in tensors.iter().zip(&grads) {
                put(&mut arena, t.at[1], g);
            }
            let key = SrKey::new(0x0123_4567_89ab_cdef ^ u64::from(step), 1000 + step);
            let neg: Vec<f32> = lrs.iter().map(|&l| neg_lr(l)).collect();
            let neg64: Vec<f64> = lrs.iter().map(|&l| -l).collect();
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
                typed: Some((&neg64, key)),
            };
            let out = run_on_host(&runner, &format!("typed_{shape}"), &launch);
            let after: Vec<u8> = out.arena.iter().flat_map(|w| w.to_le_bytes()).collect();
            let what = format!("chunk {chunk_elems} block {block} grid {grid} step {step}");
            if scaler.is_some_and(|(_, fi)| fi != 0.0) {
                assert!(after == arena, "{what}: a skipped step wrote memory");
                assert_eq!(
                    &out.chunk_first, first,
                    "{what}: a skipped step cleared first-step words"
                );
                continue;
            }
            *first = out.chunk_first;
            arena = after;
            for (i, t) in tensors.iter_mut().enumerate() {
                if !has_grad[i] {
                    continue;
                }
                let cfg = SgdConfig { lr: lrs[t.group], ..groups[t.group] };
                reference(t, i, &cfg, &grads[i], scaler.map(|(s, _)| s), key);
                let tw = format!("{what}: tensor {i} ({:?}, stochastic {})", t.kind, t.stochastic);
                let got = Data::from_bytes(&t.param, &arena[t.at[0]..]);
                assert_eq!(got.bits(), t.param.bits(), "{tw}: param");
                if let Some(b) = &t.buf {
                    let got = Data::from_bytes(b, &arena[t.at[2]..]);
                    assert_eq!(got.bits(), b.bits(), "{tw}: momentum buffer");
                }
                if let Some(m) = &t.master {
                    let got = Data::from_bytes(&Data::F32(m.clone()), &arena[t.at[3]..]);
                    assert_eq!(got.bits(), Data::F32(m.clone()).bits(), "{tw}: master");
                }
                checked += 1;
                let chunks = table.chunk_start[i]..table.chunk_start[i + 1];
                // Cleared exactly for the tensors with momentum that have taken a step.
                let want = u32::from(!t.initialized);
                for c in chunks {
                    assert_eq!(first[c], want, "{tw}: chunk {c} first-step word");
                }
            }
        }
    }
    println!(
        "kernel on host, typed: {checked} tensor steps bitwise equal to sgd-core (10 kinds x 6 lengths, 3 launch shapes)"
    );
}

//! `sgd-cuda` against the golden vectors of `torch.optim.SGD` (`tests/golden/sgd_public.json`),
//! bitwise, every case, every step: parameters and momentum buffers.
//!
//! The public file is compiled in; every `sgd_*.json` in the directory named by
//! `GOLDEN_DIR` (if set, as for the other parity tests) is checked too. Without a GPU the test prints why it skips
//! (`SGD_CUDA_REQUIRE_GPU=1` turns that into a failure).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test.

use serde_json::Value;
use sgd_cpu::SgdConfig;
use sgd_cuda::device::stream_or_skip;
use sgd_cuda::{BufferId, CudaSgd, CudaSgdOptions, TensorRef};

const PUBLIC: &str = include_str!("../golden/sgd_public.json");

fn f64_bits(v: &Value) -> f64 {
    f64::from_bits(u64::from_str_radix(v.as_str().expect("f64 bits string"), 16).unwrap())
}

fn f32_tensor(v: &Value) -> Vec<f32> {
    let bits = v["bits"].as_str().expect("bits");
    (0..bits.len() / 8)
        .map(|i| f32::from_bits(u32::from_str_radix(&bits[8 * i..8 * i + 8], 16).unwrap()))
        .collect()
}

fn group_config(g: &Value) -> SgdConfig {
    SgdConfig {
        lr: f64_bits(&g["lr_bits"]),
        momentum: f64_bits(&g["momentum_bits"]),
        dampening: f64_bits(&g["dampening_bits"]),
        weight_decay: f64_bits(&g["weight_decay_bits"]),
        nesterov: g["nesterov"].as_bool().unwrap(),
        maximize: g["maximize"].as_bool().unwrap(),
    }
}

fn assert_bits(got: &[f32], expected: &[f32], what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}: length");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert_eq!(g.to_bits(), e.to_bits(), "{what}: element {i}: got {g:e}, expected {e:e}");
    }
}

/// Runs one case on the GPU; tensors are packed one element apart so most are unaligned.
fn run_case(
    stream: &std::sync::Arc<sgd_cuda::cudarc::driver::CudaStream>,
    case: &Value,
    options: CudaSgdOptions,
) {
    let id = case["id"].as_str().unwrap();
    let groups: Vec<SgdConfig> =
        case["groups"].as_array().unwrap().iter().map(group_config).collect();
    let params = case["params"].as_array().unwrap();
    let mut offsets = Vec::new();
    let mut at = 1usize;
    for p in params {
        offsets.push(at);
        at += p["numel"].as_u64().unwrap() as usize + 1;
    }
    let mut host = vec![0.0f32; at];
    let mut refs = Vec::new();
    for (p, &off) in params.iter().zip(&offsets) {
        let init = f32_tensor(&p["init"]);
        host[off..off + init.len()].copy_from_slice(&init);
        let r = off..off + init.len();
        refs.push(TensorRef {
            group: p["group"].as_u64().unwrap() as usize,
            param_buffer: BufferId(0),
            params: r.clone(),
            grad_buffer: BufferId(1),
            grads: r,
        });
    }
    let d_params = stream.clone_htod(&host).unwrap();
    let d_grads = stream.alloc_zeros::<f32>(at).unwrap();
    let mut opt =
        CudaSgd::new(stream.clone(), groups.clone(), vec![d_params, d_grads], refs, options)
            .unwrap();
    let mut grads = vec![0.0f32; at];
    for (t, step) in case["steps"].as_array().unwrap().iter().enumerate() {
        let lrs: Vec<f64> = step["lr_bits"].as_array().unwrap().iter().map(f64_bits).collect();
        for (g, m) in step["momentum_bits"].as_array().unwrap().iter().enumerate() {
            let cfg = SgdConfig { momentum: f64_bits(m), ..groups[g] };
            opt.set_group_config(g, cfg).unwrap();
        }
        for (i, grad) in step["grads"].as_array().unwrap().iter().enumerate() {
            opt.set_has_grad(i, !grad.is_null()).unwrap();
            if !grad.is_null() {
                let v = f32_tensor(grad);
                grads[offsets[i]..offsets[i] + v.len()].copy_from_slice(&v);
            }
        }
        let s = opt.stream().clone();
        s.memcpy_htod(&grads, &mut opt.buffer_mut(BufferId(1)).unwrap()).unwrap();
        opt.step(&lrs).unwrap();
        for (i, expected) in step["params_after"].as_array().unwrap().iter().enumerate() {
            let got = opt.params_to_host(i).unwrap();
            assert_bits(
                &got,
                &f32_tensor(expected),
                &format!("{id} step {t} params[{i}] ({options:?})"),
            );
        }
        for (i, expected) in step["momentum_buffer_after"].as_array().unwrap().iter().enumerate() {
            let got = opt.momentum_to_host(i).unwrap();
            match (got, expected.is_null()) {
                (None, true) => {}
                (Some(got), false) => {
                    assert_bits(
                        &got,
                        &f32_tensor(expected),
                        &format!("{id} step {t} momentum[{i}]"),
                    );
                }
                (got, _) => panic!(
                    "{id} step {t} momentum[{i}]: present {} vs expected {}",
                    got.is_some(),
                    !expected.is_null()
                ),
            }
        }
    }
}

fn check_file(
    stream: &std::sync::Arc<sgd_cuda::cudarc::driver::CudaStream>,
    text: &str,
    name: &str,
) -> usize {
    let doc: Value = serde_json::from_str(text).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    for case in cases {
        run_case(stream, case, CudaSgdOptions::default());
        // Tiny 5-element chunks: every golden tensor spans several chunks (several blocks
        // per tensor, first-step flags per chunk), all on the scalar path.
        run_case(stream, case, CudaSgdOptions { chunk_elems: Some(5), block_threads: 32 });
    }
    eprintln!("{name}: {} cases bitwise equal on the GPU", cases.len());
    cases.len()
}

#[test]
fn gpu_matches_every_golden_sgd_case_bitwise() {
    let Some(stream) = stream_or_skip("gpu_matches_every_golden_sgd_case_bitwise") else { return };
    assert!(check_file(&stream, PUBLIC, "sgd_public.json") > 0);
    if let Some(dir) = std::env::var_os("GOLDEN_DIR") {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("sgd_") && name.ends_with(".json") && name != "sgd_public.json" {
                check_file(&stream, &std::fs::read_to_string(&path).unwrap(), &name);
            }
        }
    }
}

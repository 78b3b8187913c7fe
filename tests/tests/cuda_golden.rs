//! `sgd-cuda` against the golden vectors of `torch.optim.SGD` (`tests/golden/sgd_public.json`),
//! bitwise, every case, every step: parameters and momentum buffers.
//!
//! The public file is compiled in; every `sgd_*.json` in the directory named by
//! `GOLDEN_DIR` (if set, as for the other parity tests) is checked too. Without a GPU the test prints why it skips
//! (`SGD_CUDA_REQUIRE_GPU=1` turns that into a failure).
//!
//! `CudaSgd` validates group options as sgd-cpu's `Sgd::new` does, so the one case with torch's
//! unvalidated nesterov group (`torch_quirk_unvalidated_group`) is refused by both; the
//! host-only test below checks that both refuse the same groups with the same error.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test.

use serde_json::Value;
use sgd_cpu::{GroupSpec, Sgd, SgdConfig, SgdError};
use sgd_cuda::{BufferId, CudaSgd, CudaSgdError, CudaSgdOptions, TensorRef};

/// sgd-cuda's GPU-test device: a stream on device 0 or a printed reason to skip.
#[path = "../../sgd-cuda/tests/common/gpu.rs"]
mod gpu;
use gpu::stream_or_skip;

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

fn case_groups(case: &Value) -> Vec<SgdConfig> {
    case["groups"].as_array().unwrap().iter().map(group_config).collect()
}

/// What sgd-cpu's `Sgd::new` and sgd-cuda's check of the options (the first thing
/// `CudaSgd::new` does) say about `groups`, as `SgdError`s (Debug text: NaN != NaN).
fn cpu_and_cuda_verdicts(groups: &[SgdConfig]) -> (String, String) {
    let specs = groups.iter().map(|&config| GroupSpec { config, numels: vec![1] }).collect();
    let cpu = Sgd::new(specs).err();
    let cuda = match sgd_cuda::validate_groups(groups) {
        Ok(()) => None,
        Err(CudaSgdError::Config(e)) => Some(SgdError::from(e)),
        Err(other) => panic!("{groups:?}: not an option error: {other}"),
    };
    (format!("{cpu:?}"), format!("{cuda:?}"))
}

/// No GPU needed: sgd-cuda refuses exactly the group options sgd-cpu's `Sgd::new` refuses, with
/// the same error (the golden cases' groups, the quirk among them, and one group per rule).
#[test]
fn cuda_refuses_group_options_as_sgd_new_does() {
    let doc: Value = serde_json::from_str(PUBLIC).unwrap();
    let mut sets: Vec<Vec<SgdConfig>> =
        doc["cases"].as_array().unwrap().iter().map(case_groups).collect();
    let ok = SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() };
    for bad in [
        SgdConfig { nesterov: true, dampening: 0.1, ..ok },
        SgdConfig { nesterov: true, momentum: 0.0, ..ok },
        SgdConfig { lr: -0.5, ..ok },
        SgdConfig { lr: f64::INFINITY, ..ok },
        SgdConfig { momentum: f64::NAN, ..ok },
        SgdConfig { weight_decay: -1e-4, ..ok },
        SgdConfig { dampening: f64::NAN, ..ok },
    ] {
        sets.push(vec![ok, bad, SgdConfig { lr: -1.0, ..ok }]);
    }
    let mut refused = 0;
    for groups in &sets {
        let (cpu, cuda) = cpu_and_cuda_verdicts(groups);
        assert_eq!(cuda, cpu, "{groups:?}");
        refused += usize::from(cpu != "None");
    }
    // The seven above and the golden quirk case.
    assert_eq!(refused, 8);
}

/// Runs one case on the GPU; tensors are packed one element apart so most are unaligned.
/// Returns whether it ran (`CudaSgd::new` refuses torch's unvalidated nesterov group, as
/// `Sgd::new` does).
fn run_case(
    stream: &std::sync::Arc<sgd_cuda::cudarc::driver::CudaStream>,
    case: &Value,
    options: CudaSgdOptions,
) -> bool {
    let id = case["id"].as_str().unwrap();
    let groups = case_groups(case);
    let params = case["params"].as_array().unwrap();
    let mut offsets = Vec::new();
    let mut at = 1usize;
    for p in params {
        offsets.push(at);
        at += usize::try_from(p["numel"].as_u64().unwrap()).unwrap() + 1;
    }
    let mut host = vec![0.0f32; at];
    let mut refs = Vec::new();
    for (p, &off) in params.iter().zip(&offsets) {
        let init = f32_tensor(&p["init"]);
        host[off..off + init.len()].copy_from_slice(&init);
        let r = off..off + init.len();
        refs.push(TensorRef {
            group: usize::try_from(p["group"].as_u64().unwrap()).unwrap(),
            param_buffer: BufferId(0),
            params: r.clone(),
            grad_buffer: BufferId(1),
            grads: r,
        });
    }
    let d_params = stream.clone_htod(&host).unwrap();
    let d_grads = stream.alloc_zeros::<f32>(at).unwrap();
    let created =
        CudaSgd::new(stream.clone(), groups.clone(), vec![d_params, d_grads], refs, options);
    let (cpu, _) = cpu_and_cuda_verdicts(&groups);
    if cpu != "None" {
        assert!(matches!(created, Err(CudaSgdError::Config(_))), "{id}: {cpu}");
        return false;
    }
    let mut opt = created.unwrap();
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
    true
}

fn check_file(
    stream: &std::sync::Arc<sgd_cuda::cudarc::driver::CudaStream>,
    text: &str,
    name: &str,
) -> usize {
    let doc: Value = serde_json::from_str(text).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    let mut ran = 0;
    for case in cases {
        if run_case(stream, case, CudaSgdOptions::default()) {
            ran += 1;
        }
        // Tiny 5-element chunks: every golden tensor spans several chunks (several blocks
        // per tensor, first-step flags per chunk), all on the scalar path.
        run_case(stream, case, CudaSgdOptions { chunk_elems: Some(5), block_threads: 32 });
    }
    eprintln!(
        "{name}: {ran} cases bitwise equal on the GPU ({} refused by CudaSgd::new as by Sgd::new)",
        cases.len() - ran
    );
    ran
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

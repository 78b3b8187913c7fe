//! `sgd-cpu` against the golden vectors of `torch.optim.SGD` (`tests/golden/sgd_public.json`,
//! torch 2.11.0 CPU, `foreach=False`): every case, every step, parameters and momentum buffers
//! compared bit for bit (numbers are parsed from the bit strings; bits are authoritative).
//!
//! Each case runs through both APIs, on every backend available here:
//! [`Sgd`] (owned momentum state, lr and momentum set per step from `steps[t]`, which records
//! the values a scheduler fed torch) and [`fused_step`] / [`ThreadPool::fused_step`] over
//! caller-owned buffers. The one `torch_quirk_unvalidated_group` case (a group torch never
//! validates) runs through the caller-owned API only; [`Sgd::new`] must reject it, naming the
//! group (documented stricter behaviour).
//!
//! Besides the compiled-in public file, every `sgd_*.json` in the directory named by the
//! environment variable `GOLDEN_DIR` is checked. Unknown fields, unknown case kinds and
//! unknown error cases fail the test; nothing is skipped. One line per file is printed:
//! `golden <file>: <N> cases, <B> bitwise`.
//!
//! `error_cases` map to typed errors by torch's message (sgd-core's `ConfigError`, which
//! `Sgd::new` returns as `SgdError::Config`):
//!
//! | torch message | our result |
//! |---|---|
//! | `Invalid learning rate: {lr}` | `ConfigError::NegativeLearningRate { group: 0, lr }` |
//! | `Invalid momentum value: {m}` | `ConfigError::InvalidMomentum { group: 0, momentum: m }` |
//! | `Invalid weight_decay value: {wd}` | `ConfigError::InvalidWeightDecay { group: 0, weight_decay: wd }` |
//! | `Nesterov momentum requires a momentum and zero dampening` | `ConfigError::NesterovRequiresMomentumAndZeroDampening { group: 0, .. }` |
//! | `` `fused` and `foreach` cannot be `True` together. `` | not representable: there is no fused/foreach switch (every step is fused); the remaining options validate |
//! | `Tensor lr must be 1-element` | not representable: `lr` is an `f64`, a multi-element tensor cannot be passed |
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test.

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use sgd_cpu::{
    Backend, ConfigError, GroupSpec, Prefetch, Sgd, SgdConfig, SgdError, StepOptions, TensorGroup,
    TensorSlot, ThreadPool, fused_step,
};

const PUBLIC: &str = include_str!("../golden/sgd_public.json");

/// Fails on any key of `obj` outside `required ∪ optional`, and on a missing required key.
fn strict_keys(obj: &Map<String, Value>, required: &[&str], optional: &[&str], ctx: &str) {
    for key in obj.keys() {
        assert!(
            required.contains(&key.as_str()) || optional.contains(&key.as_str()),
            "{ctx}: unknown field `{key}`"
        );
    }
    for key in required {
        assert!(obj.contains_key(*key), "{ctx}: missing field `{key}`");
    }
}

fn obj<'a>(v: &'a Value, ctx: &str) -> &'a Map<String, Value> {
    v.as_object().unwrap_or_else(|| panic!("{ctx}: expected an object"))
}

fn arr<'a>(v: &'a Value, ctx: &str) -> &'a Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("{ctx}: expected an array"))
}

fn f64_bits(v: &Value, ctx: &str) -> f64 {
    let s = v.as_str().unwrap_or_else(|| panic!("{ctx}: expected a bits string"));
    assert_eq!(s.len(), 16, "{ctx}: f64 bits must be 16 hex digits");
    f64::from_bits(u64::from_str_radix(s, 16).unwrap())
}

/// An f32 tensor from its bit string (`dec` must have one entry per element).
fn f32_tensor(v: &Value, ctx: &str) -> Vec<f32> {
    let o = obj(v, ctx);
    strict_keys(o, &["bits", "dec"], &[], ctx);
    let bits = o["bits"].as_str().unwrap();
    assert_eq!(bits.len() % 8, 0, "{ctx}: bits length");
    let n = bits.len() / 8;
    assert_eq!(arr(&o["dec"], ctx).len(), n, "{ctx}: dec length");
    (0..n)
        .map(|i| f32::from_bits(u32::from_str_radix(&bits[8 * i..8 * i + 8], 16).unwrap()))
        .collect()
}

fn group_config(g: &Value, ctx: &str) -> SgdConfig {
    let o = obj(g, ctx);
    strict_keys(
        o,
        &[
            "lr",
            "momentum",
            "dampening",
            "weight_decay",
            "nesterov",
            "maximize",
            "shapes",
            "lr_bits",
            "momentum_bits",
            "dampening_bits",
            "weight_decay_bits",
        ],
        &["initial_lr", "initial_lr_bits"],
        ctx,
    );
    SgdConfig {
        lr: f64_bits(&o["lr_bits"], ctx),
        momentum: f64_bits(&o["momentum_bits"], ctx),
        dampening: f64_bits(&o["dampening_bits"], ctx),
        weight_decay: f64_bits(&o["weight_decay_bits"], ctx),
        nesterov: o["nesterov"].as_bool().unwrap(),
        maximize: o["maximize"].as_bool().unwrap(),
    }
}

/// One step's data, parsed.
struct Step {
    lrs: Vec<f64>,
    momenta: Vec<f64>,
    grads: Vec<Option<Vec<f32>>>,
    params_after: Vec<Vec<f32>>,
    buffers_after: Vec<Option<Vec<f32>>>,
}

/// One case, parsed and checked for consistency.
struct Case {
    id: String,
    groups: Vec<SgdConfig>,
    /// Group of each tensor (flat order).
    group_of: Vec<usize>,
    init: Vec<Vec<f32>>,
    steps: Vec<Step>,
    quirk: bool,
}

fn opt_tensor(v: &Value, ctx: &str) -> Option<Vec<f32>> {
    (!v.is_null()).then(|| f32_tensor(v, ctx))
}

fn parse_case(c: &Value) -> Case {
    let o = obj(c, "case");
    let id = o.get("id").and_then(Value::as_str).unwrap_or("?").to_owned();
    let ctx = id.as_str();
    strict_keys(
        o,
        &[
            "id",
            "source",
            "seed",
            "param_scale",
            "grad_scale",
            "num_steps",
            "groups",
            "defaults",
            "scheduler",
            "params",
            "steps",
            "checks",
        ],
        &["no_grad", "lr_is_tensor", "special_values", "torch_quirk_unvalidated_group"],
        ctx,
    );
    let groups: Vec<SgdConfig> = arr(&o["groups"], ctx)
        .iter()
        .enumerate()
        .map(|(i, g)| group_config(g, &format!("{ctx} group {i}")))
        .collect();
    let mut group_of = Vec::new();
    let mut init = Vec::new();
    for (i, p) in arr(&o["params"], ctx).iter().enumerate() {
        let pctx = format!("{ctx} param {i}");
        let po = obj(p, &pctx);
        strict_keys(po, &["group", "shape", "numel", "init"], &[], &pctx);
        let numel = usize::try_from(po["numel"].as_u64().unwrap()).unwrap();
        let shape: usize = arr(&po["shape"], &pctx)
            .iter()
            .map(|d| usize::try_from(d.as_u64().unwrap()).unwrap())
            .product();
        assert_eq!(shape, numel, "{pctx}: numel vs shape");
        let t = f32_tensor(&po["init"], &pctx);
        assert_eq!(t.len(), numel, "{pctx}: init length");
        let g = usize::try_from(po["group"].as_u64().unwrap()).unwrap();
        assert!(g < groups.len(), "{pctx}: group {g} out of range");
        assert!(group_of.last().is_none_or(|&last| last <= g), "{pctx}: params not in group order");
        group_of.push(g);
        init.push(t);
    }
    let n_params = init.len();
    let mut steps = Vec::new();
    for (t, s) in arr(&o["steps"], ctx).iter().enumerate() {
        let sctx = format!("{ctx} step {t}");
        let so = obj(s, &sctx);
        strict_keys(
            so,
            &[
                "lr",
                "lr_bits",
                "momentum",
                "momentum_bits",
                "grads",
                "params_after",
                "momentum_buffer_after",
            ],
            &[],
            &sctx,
        );
        let per_group = |key: &str| -> Vec<f64> {
            let v: Vec<f64> = arr(&so[key], &sctx).iter().map(|b| f64_bits(b, &sctx)).collect();
            assert_eq!(v.len(), groups.len(), "{sctx}: {key} per group");
            v
        };
        let list = |key: &str| -> Vec<Option<Vec<f32>>> {
            let v: Vec<_> = arr(&so[key], &sctx)
                .iter()
                .enumerate()
                .map(|(i, x)| opt_tensor(x, &format!("{sctx} {key} {i}")))
                .collect();
            assert_eq!(v.len(), n_params, "{sctx}: {key} per param");
            v
        };
        let params_after = list("params_after")
            .into_iter()
            .map(|p| p.unwrap_or_else(|| panic!("{sctx}: params_after is null")))
            .collect();
        steps.push(Step {
            lrs: per_group("lr_bits"),
            momenta: per_group("momentum_bits"),
            grads: list("grads"),
            params_after,
            buffers_after: list("momentum_buffer_after"),
        });
    }
    assert_eq!(
        usize::try_from(o["num_steps"].as_u64().unwrap()).unwrap(),
        steps.len(),
        "{ctx}: num_steps"
    );
    // `no_grad` must agree with the null grads it describes.
    if let Some(ng) = o.get("no_grad") {
        for (t, idx) in obj(ng, ctx) {
            let t: usize = t.parse().unwrap();
            for i in arr(idx, ctx) {
                let i = usize::try_from(i.as_u64().unwrap()).unwrap();
                assert!(
                    steps[t].grads[i].is_none(),
                    "{ctx}: no_grad step {t} param {i} has a grad"
                );
            }
        }
    }
    for flag in ["lr_is_tensor", "special_values", "torch_quirk_unvalidated_group"] {
        if let Some(v) = o.get(flag) {
            assert!(v.is_boolean(), "{ctx}: `{flag}` must be a bool");
        }
    }
    let quirk = o.get("torch_quirk_unvalidated_group").and_then(Value::as_bool).unwrap_or(false);
    Case { id, groups, group_of, init, steps, quirk }
}

/// Compares one step's outputs; returns a description of the first difference.
fn compare(
    case: &Case,
    t: usize,
    params: &[Vec<f32>],
    buffers: &[Option<Vec<f32>>],
) -> Result<(), String> {
    let step = &case.steps[t];
    for (i, (got, want)) in params.iter().zip(&step.params_after).enumerate() {
        bits_equal(got, want).map_err(|e| format!("step {t} param {i}: {e}"))?;
    }
    for (i, (got, want)) in buffers.iter().zip(&step.buffers_after).enumerate() {
        match (got, want) {
            (None, None) => {}
            (Some(g), Some(w)) => {
                bits_equal(g, w).map_err(|e| format!("step {t} buffer {i}: {e}"))?
            }
            _ => {
                return Err(format!(
                    "step {t} buffer {i}: presence differs (got {})",
                    got.is_some()
                ));
            }
        }
    }
    Ok(())
}

fn bits_equal(got: &[f32], want: &[f32]) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!("length {} vs {}", got.len(), want.len()));
    }
    match got.iter().zip(want).position(|(g, w)| g.to_bits() != w.to_bits()) {
        Some(k) => Err(format!("element {k}: got {:e}, torch {:e}", got[k], want[k])),
        None => Ok(()),
    }
}

/// The group configs torch used at step `t`.
fn configs_at(case: &Case, t: usize) -> Vec<SgdConfig> {
    let s = &case.steps[t];
    case.groups
        .iter()
        .enumerate()
        .map(|(g, c)| SgdConfig { lr: s.lrs[g], momentum: s.momenta[g], ..*c })
        .collect()
}

/// Through [`Sgd`] (owned state).
fn run_owned(case: &Case, backend: Backend, threads: usize) -> Result<(), String> {
    let specs: Vec<GroupSpec> = case
        .groups
        .iter()
        .enumerate()
        .map(|(g, &config)| GroupSpec {
            config,
            numels: case
                .group_of
                .iter()
                .zip(&case.init)
                .filter(|(gi, _)| **gi == g)
                .map(|(_, p)| p.len())
                .collect(),
        })
        .collect();
    let mut sgd = Sgd::new(specs).map_err(|e| format!("Sgd::new: {e}"))?;
    sgd.set_backend(Some(backend)).unwrap();
    sgd.set_threads(threads).unwrap();
    let mut params = case.init.clone();
    for (t, step) in case.steps.iter().enumerate() {
        for (g, config) in configs_at(case, t).iter().enumerate() {
            sgd.set_lr(g, config.lr).unwrap();
            sgd.set_momentum(g, config.momentum).unwrap();
        }
        let grads: Vec<Option<&[f32]>> = step.grads.iter().map(|g| g.as_deref()).collect();
        let mut views: Vec<&mut [f32]> = params.iter_mut().map(Vec::as_mut_slice).collect();
        sgd.step(&mut views, &grads).map_err(|e| format!("step {t}: {e}"))?;
        let buffers: Vec<Option<Vec<f32>>> =
            (0..params.len()).map(|i| sgd.momentum_buffer(i).map(<[f32]>::to_vec)).collect();
        compare(case, t, &params, &buffers)?;
    }
    Ok(())
}

/// Through [`fused_step`] / [`ThreadPool::fused_step`] over caller-owned buffers.
fn run_borrowed(
    case: &Case,
    backend: Backend,
    pool: Option<&ThreadPool>,
    prefetch: Prefetch,
) -> Result<(), String> {
    let mut params = case.init.clone();
    let mut buffers: Vec<Vec<f32>> = case.init.iter().map(|p| vec![0.0; p.len()]).collect();
    let mut init_flags = vec![false; params.len()];
    for (t, step) in case.steps.iter().enumerate() {
        let configs = configs_at(case, t);
        let mut slots: Vec<TensorSlot<'_>> = params
            .iter_mut()
            .zip(&mut buffers)
            .zip(&mut init_flags)
            .zip(&step.grads)
            .map(|(((p, b), f), g)| TensorSlot::with_momentum(p, g.as_deref(), b, f))
            .collect();
        let mut groups = Vec::new();
        let mut rest = &mut slots[..];
        for (g, &config) in configs.iter().enumerate() {
            let n = case.group_of.iter().filter(|&&gi| gi == g).count();
            let (mine, tail) = rest.split_at_mut(n);
            rest = tail;
            groups.push(TensorGroup { config, tensors: mine });
        }
        let opts = StepOptions { backend: Some(backend), prefetch, ..StepOptions::default() };
        match pool {
            Some(pool) => pool.fused_step(&mut groups, &opts),
            None => fused_step(&mut groups, &opts),
        }
        .map_err(|e| format!("step {t}: {e}"))?;
        drop(groups);
        drop(slots);
        let got: Vec<Option<Vec<f32>>> =
            buffers.iter().zip(&init_flags).map(|(b, &f)| f.then(|| b.clone())).collect();
        compare(case, t, &params, &got)?;
    }
    Ok(())
}

/// Maps one torch constructor error to ours (see the module docs); panics on anything else.
fn check_error_case(e: &Value) {
    let o = obj(e, "error case");
    let id = o.get("id").and_then(Value::as_str).unwrap_or("?");
    strict_keys(o, &["id", "kwargs", "exception", "message"], &[], id);
    let kwargs = obj(&o["kwargs"], id);
    let message = o["message"].as_str().unwrap();
    let exception = o["exception"].as_str().unwrap();
    let known: BTreeSet<&str> =
        ["lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize", "fused", "foreach"]
            .into();
    for k in kwargs.keys() {
        assert!(known.contains(k.as_str()), "{id}: unknown kwarg `{k}`");
    }
    if message == "Tensor lr must be 1-element" {
        let lr = kwargs["lr"].as_str().unwrap_or_else(|| panic!("{id}: expected a tensor lr"));
        assert!(lr.starts_with("torch.tensor(["), "{id}: {lr}");
        return; // Not representable: `SgdConfig::lr` is an f64.
    }
    let num = |k: &str, default: f64| kwargs.get(k).map_or(default, |v| v.as_f64().unwrap());
    let flag = |k: &str| kwargs.get(k).is_some_and(|v| v.as_bool().unwrap());
    let config = SgdConfig {
        lr: num("lr", 1e-3),
        momentum: num("momentum", 0.0),
        dampening: num("dampening", 0.0),
        weight_decay: num("weight_decay", 0.0),
        nesterov: flag("nesterov"),
        maximize: flag("maximize"),
    };
    let got = config.validate(0);
    if message == "`fused` and `foreach` cannot be `True` together." {
        assert!(flag("fused") && flag("foreach"), "{id}: kwargs");
        assert_eq!(got, Ok(()), "{id}: the remaining options are valid");
        return; // Not representable: there is no fused/foreach switch.
    }
    assert!(!flag("fused") && !flag("foreach"), "{id}: unexpected fused/foreach kwargs");
    assert_eq!(exception, "ValueError", "{id}");
    let expected = if message.starts_with("Invalid learning rate: ") {
        ConfigError::NegativeLearningRate { group: 0, lr: config.lr }
    } else if message.starts_with("Invalid momentum value: ") {
        ConfigError::InvalidMomentum { group: 0, momentum: config.momentum }
    } else if message.starts_with("Invalid weight_decay value: ") {
        ConfigError::InvalidWeightDecay { group: 0, weight_decay: config.weight_decay }
    } else if message == "Nesterov momentum requires a momentum and zero dampening" {
        ConfigError::NesterovRequiresMomentumAndZeroDampening {
            group: 0,
            momentum: config.momentum,
            dampening: config.dampening,
        }
    } else {
        panic!("{id}: unknown error case `{message}`");
    };
    assert_eq!(got, Err(expected), "{id}: {message}");
    // torch's message is a prefix of ours.
    let ours = expected.to_string();
    let torch_head = message.split(": ").next().unwrap();
    assert!(ours.starts_with(torch_head), "{id}: `{ours}` vs `{message}`");
    // And `Sgd::new` refuses it too.
    assert_eq!(
        Sgd::new(vec![GroupSpec { config, numels: vec![1] }]).err(),
        Some(SgdError::Config(expected))
    );
}

/// Checks one file; returns (cases, bitwise cases).
fn check_file(name: &str, text: &str) -> (usize, usize) {
    let root: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let o = obj(&root, name);
    strict_keys(o, &["meta", "cases"], &["summary", "error_cases"], name);
    let pool = ThreadPool::new(2).unwrap();
    let mut split_pool = ThreadPool::new(3).unwrap();
    split_pool.set_parallel_threshold(0);
    let backends: Vec<Backend> = Backend::available().collect();
    let cases = arr(&o["cases"], name);
    let mut bitwise = 0;
    let mut failures = Vec::new();
    for c in cases {
        let case = parse_case(c);
        let mut errors = Vec::new();
        for &backend in &backends {
            let mut runs = vec![
                ("fused_step", run_borrowed(&case, backend, None, Prefetch::Never)),
                ("fused_step, prefetch", run_borrowed(&case, backend, None, Prefetch::Always)),
                ("ThreadPool(2)", run_borrowed(&case, backend, Some(&pool), Prefetch::Auto)),
                (
                    "ThreadPool(3, split all, prefetch)",
                    run_borrowed(&case, backend, Some(&split_pool), Prefetch::Always),
                ),
            ];
            if case.quirk {
                let specs = case.groups.iter().map(|&config| GroupSpec { config, numels: vec![] });
                let err = Sgd::new(specs.collect()).err();
                assert!(
                    matches!(
                        err,
                        Some(SgdError::Config(
                            ConfigError::NesterovRequiresMomentumAndZeroDampening { .. }
                        ))
                    ),
                    "{}: Sgd::new must reject the unvalidated group, got {err:?}",
                    case.id
                );
            } else {
                runs.push(("Sgd", run_owned(&case, backend, 1)));
                runs.push(("Sgd threads=2", run_owned(&case, backend, 2)));
            }
            for (api, r) in runs {
                if let Err(e) = r {
                    errors.push(format!("{} [{backend}, {api}]: {e}", case.id));
                }
            }
        }
        if errors.is_empty() {
            bitwise += 1;
        }
        failures.extend(errors);
    }
    if let Some(errs) = o.get("error_cases") {
        for e in arr(errs, name) {
            check_error_case(e);
        }
    }
    println!("golden {name}: {} cases, {bitwise} bitwise", cases.len());
    assert!(failures.is_empty(), "{name}: {} mismatches:\n{}", failures.len(), failures.join("\n"));
    (cases.len(), bitwise)
}

#[test]
fn sgd_matches_torch_bitwise_on_every_golden_case() {
    let (n, b) = check_file("sgd_public.json", PUBLIC);
    assert!(n >= 48 && b == n);
    let Some(dir) = std::env::var_os("GOLDEN_DIR") else {
        println!("GOLDEN_DIR not set: only the public file was checked");
        return;
    };
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("GOLDEN_DIR {dir:?}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            // `sgd_precision_*.json` are the typed step's (`sgd_precision_golden.rs`).
            name.starts_with("sgd_")
                && !name.starts_with("sgd_precision_")
                && name.ends_with(".json")
        })
        .collect();
    names.sort();
    for path in names {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (n, b) = check_file(&name, &text);
        assert_eq!(n, b, "{name}");
    }
}

//! sgd-cpu's typed step against the golden vectors of `torch.optim.SGD` on float64, bfloat16
//! and float16 tensors (`tests/golden/sgd_precision_public.json`, torch 2.15 CPU; format and
//! references in `tests/golden/PRECISION.md`): every case, every step, parameters, momentum
//! buffers and f32 masters compared bit for bit (NaN-ness for NaN values).
//!
//! | mode | torch reference | our API |
//! |---|---|---|
//! | `native` float64 | `SGD(foreach=False)` | [`typed_step`] on `TensorMut::F64` |
//! | `native` bf16/f16 | `SGD(fused=True)` (with `grad_scale`, `found_inf`) | `TensorMut::Bf16` / `F16`, buffers in the dtype |
//! | `master` bf16/f16 | `SGD(foreach=False)` on f32 masters, then `.to(dtype)` | `TypedSlot::with_master`, f32 buffer |
//!
//! Each case runs on every backend available here, each with both conversion choices
//! ([`Conversions::Detected`], [`Conversions::BaseIsa`]), through [`typed_step`] and
//! [`ThreadPool::typed_step`] (2 threads, and 3 threads splitting every tensor). Besides the
//! compiled-in public file, every `sgd_precision_*.json` in `$GOLDEN_DIR` is checked. One line
//! per file: `golden <file>: <N> cases, <B> bitwise (float64 <a>/<n>, bfloat16 <b>/<m>,
//! float16 <c>/<k>)`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test.

use lrkit_tests::precision_golden::{self, Case, Data};
use sgd_cpu::{
    Backend, Conversions, Dtype, SgdConfig, StepOptions, StepOutcome, ThreadPool, TypedGroup,
    TypedSlot, TypedStepOptions, typed_step,
};

/// How a case is run.
#[derive(Clone, Copy)]
struct Run<'p> {
    backend: Backend,
    conversions: Conversions,
    pool: Option<&'p ThreadPool>,
}

/// Runs every step of `case`; `Err` names the first mismatch.
fn run_case(case: &Case, run: Run<'_>) -> Result<(), String> {
    let n = case.init.len();
    let mut params = case.init.clone();
    let buf_dtype = if case.master { Dtype::F32 } else { case.dtype };
    let mut bufs: Vec<Data> =
        params.iter().map(|p| Data::zeros(buf_dtype, p.to_bits().bits.len())).collect();
    let mut masters: Vec<Vec<f32>> =
        if case.master { params.iter().map(Data::widened).collect() } else { Vec::new() };
    let mut initialized = vec![false; n];
    for (t, step) in case.steps.iter().enumerate() {
        {
            let mut slots: Vec<TypedSlot<'_>> = Vec::with_capacity(n);
            let mut master_iter = masters.iter_mut();
            for (((p, b), init), g) in
                params.iter_mut().zip(bufs.iter_mut()).zip(initialized.iter_mut()).zip(&step.grads)
            {
                let mut slot = TypedSlot::new(p.as_mut(), g.as_ref().map(Data::as_ref))
                    .with_momentum(b.as_mut(), init);
                if let Some(m) = master_iter.next() {
                    slot = slot.with_master(m);
                }
                slots.push(slot);
            }
            let mut groups: Vec<TypedGroup<'_, '_>> = Vec::new();
            let mut rest = &mut slots[..];
            for (gi, config) in case.groups.iter().enumerate() {
                let count = case.group_of.iter().filter(|&&g| g == gi).count();
                let (mine, tail) = rest.split_at_mut(count);
                rest = tail;
                groups.push(TypedGroup {
                    config: SgdConfig { lr: step.lrs[gi], ..*config },
                    tensors: mine,
                });
            }
            let opts = TypedStepOptions {
                options: StepOptions {
                    grad_scale: case.grad_scale,
                    found_inf: step.found_inf,
                    backend: Some(run.backend),
                    ..StepOptions::default()
                },
                conversions: run.conversions,
                ..TypedStepOptions::default()
            };
            let outcome = match run.pool {
                Some(pool) => pool.typed_step(&mut groups, &opts),
                None => typed_step(&mut groups, &opts),
            }
            .map_err(|e| format!("step {t}: {e}"))?;
            if step.found_inf != (outcome == StepOutcome::SkippedFoundInf) {
                return Err(format!("step {t}: outcome {outcome:?}"));
            }
        }
        for i in 0..n {
            let ctx = |what: &str| format!("step {t} tensor {i} {what}");
            params[i].to_bits().check(&step.params_after[i], &ctx("param"))?;
            match &step.buffers_after[i] {
                Some(want) => {
                    if !initialized[i] {
                        return Err(ctx("buffer: torch has one, ours is not initialised"));
                    }
                    bufs[i].to_bits().check(want, &ctx("buffer"))?;
                }
                None if initialized[i] => return Err(ctx("buffer: initialised, torch has none")),
                None => {}
            }
            if let Some(want) = &step.masters_after {
                let got = Data::F32(masters[i].clone()).to_bits();
                got.check(&want[i], &ctx("master"))?;
            }
        }
    }
    Ok(())
}

/// Checks one file on every run; returns (cases, bitwise cases).
fn check_file(name: &str, text: &str, runs: &[(String, Run<'_>)]) -> (usize, usize) {
    precision_golden::check_file(name, text, "", |case| {
        runs.iter()
            .filter_map(|(label, run)| {
                run_case(case, *run).err().map(|e| format!("{} [{label}]: {e}", case.id))
            })
            .collect()
    })
}

#[test]
fn typed_sgd_matches_torch_bitwise_on_every_precision_golden_case() {
    let pool = ThreadPool::new(2).unwrap();
    let mut split_pool = ThreadPool::new(3).unwrap();
    split_pool.set_parallel_threshold(0);
    let mut runs = Vec::new();
    for backend in Backend::available() {
        for conversions in [Conversions::Detected, Conversions::BaseIsa] {
            for (api, pool) in [
                ("typed_step", None),
                ("ThreadPool(2)", Some(&pool)),
                ("ThreadPool(3, split all)", Some(&split_pool)),
            ] {
                let label = format!("{backend}, {conversions:?}, {api}");
                runs.push((label, Run { backend, conversions, pool }));
            }
        }
    }
    let names: Vec<&str> = Backend::available().map(Backend::name).collect();
    println!("backends: {} (each with Conversions::Detected and ::BaseIsa)", names.join(", "));
    #[cfg(target_arch = "x86_64")]
    println!(
        "  AVX512_BF16 here: {}, F16C here: {}",
        std::arch::is_x86_feature_detected!("avx512bf16"),
        std::arch::is_x86_feature_detected!("f16c")
    );
    let files = lrkit_tests::golden_files("sgd_precision");
    for path in &files {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (n, b) = check_file(&name, &text, &runs);
        assert!(n > 0 && b == n, "{name}");
    }
}

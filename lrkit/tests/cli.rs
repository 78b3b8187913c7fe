//! The `lrkit` binary exercised end to end as a process.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is the assertion

use assert_cmd::cargo::cargo_bin_cmd;
use sched_core::spec::{Value, build};
use sched_core::{ParamGroup, SchedError};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// A scheduler case: spec text, kind, kwargs.
type Case<'a> = (&'a str, &'a str, Vec<(&'a str, Value<'a>)>);

fn lrkit(args: &[&str]) -> Run {
    let out = cargo_bin_cmd!("lrkit").args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// The learning rates a PyTorch loop prints (group 0, before each epoch's step), computed
/// with sched-core directly.
fn expected(kind: &str, kwargs: &[(&str, Value<'_>)], epochs: usize) -> Vec<f64> {
    let mut groups = [ParamGroup::new(0.1)];
    let mut s = build(kind, kwargs, &mut groups).unwrap();
    let mut out = Vec::new();
    for _ in 0..epochs {
        out.push(groups[0].lr);
        s.step(&mut groups).unwrap();
    }
    out
}

/// Parses `Epoch N, Learning Rate: X` lines, checking that N counts from 1.
fn printed(stdout: &str) -> Vec<f64> {
    stdout
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let rest = line.strip_prefix(&format!("Epoch {}, Learning Rate: ", i + 1)).expect(line);
            rest.parse::<f64>().unwrap()
        })
        .collect()
}

fn assert_bits(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len());
    for (e, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.to_bits(), w.to_bits(), "epoch {}: {g} vs {w}", e + 1);
    }
}

#[test]
fn schedule_prints_the_seed_examples_exactly() {
    let cases: [Case<'_>; 3] = [
        (
            "StepLR(step_size=10, gamma=0.1)",
            "StepLR",
            vec![("step_size", Value::Int(10)), ("gamma", Value::Float(0.1))],
        ),
        ("ExponentialLR(gamma=0.9)", "ExponentialLR", vec![("gamma", Value::Float(0.9))]),
        ("CosineAnnealingLR(T_max=30)", "CosineAnnealingLR", vec![("T_max", Value::Int(30))]),
    ];
    for (text, kind, kwargs) in cases {
        let r = lrkit(&["schedule", text]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_bits(&printed(&r.stdout), &expected(kind, &kwargs, 30));
    }
}

#[test]
fn schedule_sequential_and_options() {
    let r = lrkit(&[
        "schedule",
        "SequentialLR([LinearLR(start_factor=0.1, total_iters=5), CosineAnnealingLR(T_max=25)], milestones=[5])",
        "--epochs",
        "12",
        "--lr",
        "0.5",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lrs = printed(&r.stdout);
    assert_eq!(lrs.len(), 12);
    assert_eq!(lrs[0].to_bits(), (0.5f64 * 0.1).to_bits()); // start_factor * base lr
    assert_eq!(lrs[5], 0.5); // cosine restarts at the base lr at the milestone
    assert!(lrs[11] < lrs[6]);
}

#[test]
fn schedule_json_parses_and_matches() {
    let r = lrkit(&[
        "schedule",
        "ExponentialLR(gamma=0.9)",
        "StepLR(step_size=2)",
        "--epochs",
        "6",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["epochs"], 6);
    let s = v["schedules"].as_array().unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0]["kind"], "ExponentialLR");
    let lrs: Vec<f64> =
        s[0]["lrs"].as_array().unwrap().iter().map(|r| r[0].as_f64().unwrap()).collect();
    assert_bits(&lrs, &expected("ExponentialLR", &[("gamma", Value::Float(0.9))], 6));
}

#[test]
fn schedule_reads_a_golden_spec_file() {
    let dir = std::env::temp_dir().join(format!("lrkit-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("spec.json");
    std::fs::write(
        &path,
        r#"{"type": "SequentialLR", "kwargs": {"milestones": [3]}, "schedulers": [
            {"type": "ExponentialLR", "kwargs": {"gamma": 0.8}},
            {"type": "StepLR", "kwargs": {"gamma": 0.1, "step_size": 4}}]}"#,
    )
    .unwrap();
    let r = lrkit(&["schedule", path.to_str().unwrap(), "--epochs", "10"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let same = lrkit(&[
        "schedule",
        "SequentialLR([ExponentialLR(gamma=0.8), StepLR(step_size=4, gamma=0.1)], milestones=[3])",
        "--epochs",
        "10",
    ]);
    assert_eq!(r.stdout, same.stdout);
    std::fs::write(&path, r#"{"type": "StepLR", "kwargs": {"step_size": 0}}"#).unwrap();
    let r = lrkit(&["schedule", path.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("step_size") && r.stderr.contains("spec read from"), "{}", r.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The caret line under the echoed spec: returns the column of `^` within the spec.
fn caret_column(stderr: &str, spec: &str) -> usize {
    let lines: Vec<&str> = stderr.lines().collect();
    let i = lines.iter().position(|l| l.trim_start() == spec && l.ends_with(spec)).expect(stderr);
    let indent = lines[i].len() - spec.len();
    lines[i + 1].find('^').expect(stderr) - indent
}

#[test]
fn malformed_spec_exits_2_with_a_caret_under_the_error() {
    let spec = "StepLR(step_size=10 gamma=0.1)";
    let r = lrkit(&["schedule", spec]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(caret_column(&r.stderr, spec), spec.find("gamma").unwrap());
    assert!(r.stderr.contains("`gamma`"), "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"));

    let spec = "CosineAnnealingLR(T_max=30, eta_mni=0.001)";
    let r = lrkit(&["schedule", spec]);
    assert_eq!(r.code, 2);
    assert_eq!(caret_column(&r.stderr, spec), spec.find("eta_mni").unwrap());
    assert!(r.stderr.contains("did you mean `eta_min`"), "{}", r.stderr);
}

#[test]
fn invalid_value_exits_2_naming_the_parameter() {
    let spec = "StepLR(step_size=0)";
    let r = lrkit(&["schedule", spec]);
    assert_eq!(r.code, 2);
    assert_eq!(caret_column(&r.stderr, spec), spec.find('0').unwrap());
    // The message is the typed error's own.
    assert!(
        r.stderr.contains(&SchedError::ZeroPeriod { param: "step_size" }.to_string()),
        "{}",
        r.stderr
    );

    let spec = "SequentialLR([StepLR(step_size=3), LinearLR(start_factor=1.5)], milestones=[3])";
    let r = lrkit(&["schedule", spec]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(caret_column(&r.stderr, spec), spec.find("1.5").unwrap());
    assert!(r.stderr.contains("start_factor"));
}

#[test]
fn plateau_needs_metrics() {
    let r = lrkit(&["schedule", "ReduceLROnPlateau(patience=1)", "--epochs", "4"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--metrics"), "{}", r.stderr);
    let r = lrkit(&[
        "schedule",
        "ReduceLROnPlateau(patience=1)",
        "--epochs",
        "4",
        "--metrics",
        "1,1,1",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lrs = printed(&r.stdout);
    assert_eq!(lrs[..3], [0.1, 0.1, 0.1]);
    assert!(lrs[3] < 0.1);
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(lrkit(&["schedule"]).code, 2);
    assert_eq!(lrkit(&["schedule", "StepLR(step_size=1)", "--bogus"]).code, 2);
    assert_eq!(lrkit(&["frobnicate"]).code, 2);
    assert_eq!(lrkit(&["schedule", "StepLR(step_size=1)", "--epochs", "x"]).code, 2);
}

/// A loose well-formedness check of an SVG document written by plotters.
fn assert_svg(path: &std::path::Path) {
    let svg = std::fs::read_to_string(path).unwrap();
    let head = svg.trim_start();
    assert!(
        head.starts_with("<svg") || head.starts_with("<?xml"),
        "{}",
        &svg[..svg.len().min(100)]
    );
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<svg").count(), svg.matches("</svg>").count());
    assert!(svg.contains("<path") || svg.contains("<polyline"));
    // Every opened text element is closed.
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
}

#[test]
fn schedule_plot_writes_an_svg() {
    let path = std::env::temp_dir().join(format!("lrkit-schedules-{}.svg", std::process::id()));
    let r = lrkit(&[
        "schedule",
        "CosineAnnealingLR(T_max=30)",
        "OneCycleLR(max_lr=0.1, total_steps=30)",
        "--plot",
        path.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_svg(&path);
    std::fs::remove_file(&path).unwrap();
}

fn train_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["train", "--json"];
    all.extend_from_slice(args);
    let r = lrkit(&all);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

#[test]
fn short_training_run_learns_the_digits() {
    let v = train_json(&["--epochs", "5"]);
    assert_eq!(v["epochs_run"], 5);
    let acc = v["final_val_acc"].as_f64().unwrap();
    assert!(acc >= 0.90, "validation accuracy {acc} after 5 epochs");
    let loss: Vec<f64> =
        v["train_loss"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    assert!(loss[4] < loss[0] / 5.0, "{loss:?}");
    // The learning rate of each epoch is the default cosine schedule over the epochs.
    let lrs: Vec<f64> = v["lr"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    assert_bits(&lrs, &expected("CosineAnnealingLR", &[("T_max", Value::Int(5))], 5));
}

#[test]
fn training_is_deterministic_per_seed() {
    let strip = |mut v: serde_json::Value| {
        v.as_object_mut().unwrap().remove("seconds");
        v
    };
    let a = strip(train_json(&["--epochs", "2", "--seed", "7"]));
    let b = strip(train_json(&["--epochs", "2", "--seed", "7"]));
    let c = strip(train_json(&["--epochs", "2", "--seed", "8"]));
    assert_eq!(a, b);
    assert_ne!(a["val_loss"], c["val_loss"]);
}

#[test]
fn early_stopping_and_plateau_schedule() {
    // With patience 1 and a huge min_delta nothing counts as an improvement after epoch 1.
    let v = train_json(&["--epochs", "10", "--patience", "1", "--min-delta", "100"]);
    assert_eq!(v["epochs_run"], 2);
    assert_eq!(v["stopped_early"], true);
    let v =
        train_json(&["--epochs", "3", "--schedule", "ReduceLROnPlateau(patience=0, factor=0.5)"]);
    assert_eq!(v["epochs_run"], 3);
}

#[test]
fn train_rejects_a_bad_schedule_with_exit_2() {
    let spec = "CosineAnnealingLR(T_max=-3)";
    let r = lrkit(&["train", "--schedule", spec]);
    assert_eq!(r.code, 2);
    assert_eq!(caret_column(&r.stderr, spec), spec.find("-3").unwrap());
    assert!(r.stderr.contains("T_max"));
}

#[test]
fn train_on_cuda_or_a_clear_error() {
    let r = lrkit(&["train", "--epochs", "3", "--device", "cuda", "--json"]);
    if r.code == 0 {
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert!(v["final_val_acc"].as_f64().unwrap() >= 0.9);
    } else {
        eprintln!("no usable GPU here, checking the error instead: {}", r.stderr.trim());
        assert_eq!(r.code, 1);
        assert!(r.stderr.contains("--device cuda"), "{}", r.stderr);
        assert!(!r.stderr.contains("panicked"));
    }
}

#[test]
fn train_plot_writes_an_svg() {
    let path = std::env::temp_dir().join(format!("lrkit-train-{}.svg", std::process::id()));
    let r = lrkit(&["train", "--epochs", "3", "--plot", path.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Epoch 3/3"));
    assert_svg(&path);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn bench_quick_json() {
    let r = lrkit(&["bench", "--quick", "--json", "--threads", "1,2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let rows = v["rows"].as_array().unwrap();
    let cpu: Vec<_> = rows.iter().filter(|r| r["device"] == "cpu").collect();
    // Two quick sizes; the larger one is above the parallel threshold and runs on 2 threads.
    assert!(cpu.len() >= 3, "{rows:?}");
    assert!(cpu.iter().any(|r| r["threads"] == 2));
    for row in &cpu {
        let n = row["elements"].as_f64().unwrap();
        assert_eq!(row["bytes_per_step"].as_f64().unwrap(), 20.0 * n);
        let (gbps, secs) =
            (row["sgd_gbps"].as_f64().unwrap(), row["sgd_seconds_per_step"].as_f64().unwrap());
        assert!(gbps > 0.0 && secs > 0.0);
        assert!((gbps - 20.0 * n / secs / 1e9).abs() <= 1e-9 * gbps);
        let pct = row["percent_of_baseline"].as_f64().unwrap();
        let want = 100.0 * gbps / row["baseline_gbps"].as_f64().unwrap();
        assert!((pct - want).abs() <= 1e-9 * want, "{row}");
    }
    if v["gpu_unavailable"].is_string() {
        eprintln!("no GPU measured: {}", v["gpu_unavailable"]);
    }
}

#[test]
fn bench_table_and_bad_options() {
    let r = lrkit(&["bench", "--quick", "--sizes", "4096", "--threads", "1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("% of baseline") && r.stdout.contains("4096"), "{}", r.stdout);
    assert_eq!(lrkit(&["bench", "--sizes", "0"]).code, 2);
    assert_eq!(lrkit(&["bench", "--backend", "quantum"]).code, 2);
}

#[test]
fn schedule_accepts_python_lambdas_and_function_calls() {
    let want =
        expected("LambdaLR", &[("lr_lambda", Value::Lambda(sched_core::LrLambda::Pow(0.95)))], 30);
    for spec in [
        "LambdaLR(optimizer, lr_lambda=lambda epoch: 0.95 ** epoch)",
        "LambdaLR(lr_lambda=pow(0.95))",
    ] {
        let r = lrkit(&["schedule", spec]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_bits(&printed(&r.stdout), &want);
    }
    // Any arithmetic body, evaluated as Python: here Python's float repr of each value.
    let spec = "LambdaLR(lr_lambda=lambda e: math.cos(e) if e % 2 else min(e, 1) / 4)";
    let r = lrkit(&["schedule", spec, "--epochs", "4", "--lr", "1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let want = [0.0, 1f64.cos(), 0.25, 3f64.cos()];
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&printed(&r.stdout)), bits(&want));
    // A refused body: the caret under the offending part of the body.
    for (spec, at) in [
        ("LambdaLR(lr_lambda=lambda e: math.cosh(e) + sin(e))", "sin"),
        ("LambdaLR(lr_lambda=lambda e: (e + 1) / 5 if e else)", ")"),
        ("MultiplicativeLR(lr_lambda=lambda epoch: 0.9 ** epoc)", "epoc"),
    ] {
        let r = lrkit(&["schedule", spec]);
        assert_eq!(r.code, 2, "{spec}: {}", r.stderr);
        assert!(r.stderr.contains("lambda body: "), "{}", r.stderr);
        assert_eq!(caret_column(&r.stderr, spec), spec.rfind(at).unwrap(), "{}", r.stderr);
    }
}

#[test]
fn a_closed_pipe_is_not_a_panic() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("lrkit"))
        .args(["schedule", "StepLR(step_size=3)", "--epochs", "300000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then the pipe closes
    assert_eq!(&first, b"Epoch 1, Learnin");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn help_names_the_commands_and_credits_the_data() {
    for args in [&["--help"][..], &["train", "--help"], &["schedule", "-h"], &["bench", "--help"]] {
        let r = lrkit(args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert!(r.stdout.contains("lrkit"), "{args:?}");
    }
    for args in [&["--help"][..], &["train", "--help"]] {
        let r = lrkit(args);
        assert!(r.stdout.contains("Alpaydin") && r.stdout.contains("CC BY 4.0"), "{args:?}");
    }
}

#[test]
fn schedule_help_lists_every_registry_kind_under_its_library() {
    let r = lrkit(&["schedule", "--help"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // `  torch:        StepLR, MultiStepLR,` starts a library's paragraph; deeper-indented
    // lines continue it.
    let mut listed: Vec<(String, String)> = Vec::new();
    let mut library = None;
    for line in r.stdout.lines() {
        let names = match line.strip_prefix("  ").and_then(|l| l.split_once(':')) {
            Some((prefix, rest)) if !prefix.starts_with(' ') && !prefix.contains(' ') => {
                library = Some(prefix.to_string());
                rest
            }
            _ if line.starts_with("      ") && library.is_some() => line,
            _ => {
                library = None;
                continue;
            }
        };
        if let Some(lib) = &library {
            listed.extend(names.split(',').map(|n| (lib.clone(), n.trim().to_string())));
        }
    }
    for kind in sched_core::registry::KINDS {
        let entry = (kind.library.prefix().to_string(), kind.name.to_string());
        assert!(
            listed.contains(&entry),
            "{entry:?} is not in `lrkit schedule --help`:\n{}",
            r.stdout
        );
    }
}

#[test]
fn peer_families_plot_beside_torch_and_bad_kwargs_exit_2_with_a_caret() {
    let path = std::env::temp_dir().join(format!("lrkit-peers-{}.svg", std::process::id()));
    let r = lrkit(&[
        "schedule",
        "CosineAnnealingLR(T_max=30)",
        "transformers.get_cosine_schedule_with_warmup(num_warmup_steps=3, num_training_steps=30)",
        "timm.CosineLRScheduler(t_initial=10, cycle_limit=3)",
        "optax.warmup_cosine_decay_schedule(init_value=0.0, peak_value=0.1, warmup_steps=3, decay_steps=30)",
        "--epochs",
        "30",
        "--plot",
        path.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_svg(&path);
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.contains("get_cosine_schedule_with_warmup"), "the legend names every schedule");
    std::fs::remove_file(&path).unwrap();

    // A bad value: the caret under it, the message naming the parameter.
    let spec = "transformers.get_wsd_schedule(num_warmup_steps=2, num_decay_steps=3, num_training_steps=10, warmup_type='quadratic')";
    let r = lrkit(&["schedule", spec]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(caret_column(&r.stderr, spec), spec.find("'quadratic'").unwrap());
    assert!(r.stderr.contains("warmup_type"), "{}", r.stderr);
    // A misspelt keyword of a timm class: a suggestion from the registry's parameter list.
    let spec = "timm.CosineLRScheduler(t_initail=30)";
    let r = lrkit(&["schedule", spec]);
    assert_eq!(r.code, 2);
    assert_eq!(caret_column(&r.stderr, spec), spec.find("t_initail").unwrap());
    assert!(r.stderr.contains("did you mean `t_initial`"), "{}", r.stderr);
    // A schedule of another library under a library prefix is unknown there.
    let r = lrkit(&["schedule", "timm.StepLR(step_size=3)"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("did you mean `torch.StepLR`"), "{}", r.stderr);
    // A missing argument points at the closing parenthesis.
    let spec = "transformers.get_linear_schedule_with_warmup(num_warmup_steps=3)";
    let r = lrkit(&["schedule", spec]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("num_training_steps"), "{}", r.stderr);
}

#[test]
fn sequential_lr_follows_the_torch_release() {
    // torch >= 2.13 steps the scheduler active at step 0 at construction, older ones the first.
    let spec =
        "SequentialLR([ExponentialLR(gamma=0.5), StepLR(step_size=2, gamma=0.1)], milestones=[0])";
    let run = |extra: &[&str]| {
        let r = lrkit(&[&["schedule", spec, "--epochs", "6"], extra].concat());
        assert_eq!(r.code, 0, "{}", r.stderr);
        printed(&r.stdout).iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    };
    let (d, c) = (0.1 * 0.1, 0.1 * 0.1 * 0.1);
    let bits = |v: [f64; 6]| v.map(f64::to_bits).to_vec();
    let current = bits([0.1, 0.1, d, d, c, c]);
    assert_eq!(run(&[]), current);
    assert_eq!(run(&["--torch", "2.15"]), current);
    assert_eq!(run(&["--torch", "2.13.0"]), current);
    assert_eq!(run(&["--torch", "2.12"]), bits([0.1, 0.1, 0.1, d, d, c]));
    assert_eq!(run(&["--torch", "2.11.1"]), bits([0.1, 0.1, 0.1, d, d, c]));
    for bad in ["2.16", "1.13", "two"] {
        let r = lrkit(&["schedule", spec, "--torch", bad]);
        assert_eq!(r.code, 2, "{bad}");
        assert!(r.stderr.contains(&format!("{bad:?} is not a PyTorch release")), "{}", r.stderr);
    }
}

#[test]
fn train_in_other_dtypes() {
    // Parameters stored in the dtype, stepped by sgd-cpu's typed step: the run trains.
    for args in [
        &["--dtype", "bf16"][..],
        &["--dtype", "f16", "--master", "--stochastic"],
        &["--dtype", "f64"],
    ] {
        let r = lrkit(&[&["train", "--epochs", "3", "--patience", "0"], args].concat());
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert!(r.stdout.contains("parameters in "), "{}", r.stdout);
        let acc: f64 = r
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("final validation accuracy "))
            .and_then(|l| l.split('%').next())
            .and_then(|v| v.parse().ok())
            .expect(&r.stdout);
        assert!(acc > 80.0, "{args:?}: {acc}");
    }
    let r = lrkit(&["train", "--dtype", "f64", "--master"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--master is for bfloat16/float16 parameters, not --dtype f64"),
        "{}",
        r.stderr
    );
}

#[test]
fn bench_in_other_dtypes() {
    // The typed step's rows: the dtype and the bytes a step moves per element.
    for (args, dtype, bytes) in [
        (&["--dtype", "f64"][..], "f64", 40.0),
        (&["--dtype", "bf16"], "bf16", 10.0),
        (&["--dtype", "f16", "--master", "--stochastic"], "f16+master+sr", 20.0),
    ] {
        let r = lrkit(&[&["bench", "--quick", "--threads", "1", "--json"], args].concat());
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let rows = v["rows"].as_array().unwrap();
        assert!(!rows.is_empty());
        for row in rows {
            assert_eq!(row["dtype"], dtype);
            let n = row["elements"].as_f64().unwrap();
            assert_eq!(row["bytes_per_step"].as_f64().unwrap(), bytes * n);
            assert!(row["sgd_gbps"].as_f64().unwrap() > 0.0);
        }
    }
    let r = lrkit(&["bench", "--dtype", "f32", "--stochastic"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--stochastic is for bfloat16/float16 parameters, not --dtype f32"),
        "{}",
        r.stderr
    );
}

//! Regression tests for hostile and mistaken input (issue "Hostile input"): every reproducer
//! runs as a process and must end with a typed message and exit code 2 (bad input) or 1 (a
//! failure while running), never a panic (101) or an abort (134), and never a silent
//! difference from Python / PyTorch.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is the assertion

use std::process::{Command, Stdio};

use assert_cmd::cargo::cargo_bin;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn lrkit(args: &[&str]) -> Run {
    let out = Command::new(cargo_bin!("lrkit")).args(args).output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
    run
}

/// Exit code 2 and a message containing every one of `words`.
fn usage_error(args: &[&str], words: &[&str]) {
    let r = lrkit(args);
    let shown: Vec<&str> = args.iter().map(|a| if a.len() > 60 { &a[..60] } else { a }).collect();
    assert_eq!(r.code, 2, "{shown:?}: {}", r.stderr);
    for w in words {
        assert!(r.stderr.contains(w), "{shown:?}: no {w:?} in {}", r.stderr);
    }
}

fn lrs(stdout: &str) -> Vec<&str> {
    stdout.lines().filter_map(|l| l.split("Learning Rate: ").nth(1)).collect()
}

#[test]
fn huge_sizes_are_refused_not_allocated() {
    // 1. --epochs: 24 TB, and capacity overflow.
    usage_error(&["schedule", "StepLR(step_size=3)", "--epochs", "1000000000000"], &["--epochs"]);
    usage_error(
        &["schedule", "StepLR(step_size=3)", "--epochs", "18446744073709551615"],
        &["--epochs"],
    );
    // Within the epoch limit, but too many values with many groups and schedules.
    let many_lrs = vec!["0.1"; 16].join(",");
    usage_error(
        &[
            "schedule",
            "StepLR(step_size=3)",
            "ExponentialLR(gamma=0.9)",
            "--epochs",
            "10000000",
            "--lr",
            &many_lrs,
        ],
        &["learning rates", "more than"],
    );
    // 3. --hidden.
    usage_error(&["train", "--hidden", "100000000"], &["--hidden"]);
    usage_error(&["train", "--hidden", "18446744073709551615"], &["--hidden"]);
    // 4. bench sizes and threads.
    usage_error(&["bench", "--quick", "--sizes", "10000000000", "--threads", "1"], &["--sizes"]);
    usage_error(&["bench", "--quick", "--sizes", "300000", "--threads", "20000"], &["--threads"]);
}

#[test]
fn deep_nesting_is_an_error_with_a_caret() {
    let brackets = format!("{}{}", "[".repeat(18000), "]".repeat(18000));
    let mut sequential = String::from("StepLR(step_size=2)");
    for _ in 0..2500 {
        sequential = format!("SequentialLR([{sequential}], milestones=[])");
    }
    let mut chained = String::from("StepLR(step_size=2)");
    for _ in 0..3000 {
        chained = format!("ChainedScheduler([{chained}])");
    }
    let pow = format!("LambdaLR(lr_lambda={}0.9{})", "pow(".repeat(20000), ")".repeat(20000));
    for spec in [&brackets, &sequential, &chained, &pow] {
        usage_error(&["schedule", spec], &["nested more than 64 levels deep", "^"]);
        usage_error(&["train", "--schedule", spec], &["nested more than 64 levels deep"]);
    }
}

#[test]
fn a_closed_stderr_is_not_a_panic() {
    let mut child = Command::new(cargo_bin!("lrkit"))
        .args(["schedule", "StepLR("])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take()); // the read end closes before lrkit writes its error
    assert_eq!(child.wait().unwrap().code(), Some(2));
}

#[test]
fn epoch_counters_cannot_overflow() {
    // 7. Python prints 0.1 every epoch; the counter would wrap at i64::MAX.
    usage_error(
        &[
            "schedule",
            "Compound([StepLR(step_size=1, gamma=1.0), LambdaLR(lr_lambda=warmup(5), last_epoch=9223372036854775806)])",
            "--epochs",
            "3",
        ],
        &["last_epoch", "at most 2^53"],
    );
}

#[test]
fn python_precedence_and_python_errors() {
    // 8. `-2 ** e` is -(2 ** e) in Python (`**` binds tighter than unary minus); the
    // parenthesised negative base is (-2) ** e.
    let r = lrkit(&["schedule", "LambdaLR(lr_lambda=lambda e: -2 ** e)", "--epochs", "3"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(lrs(&r.stdout), ["-0.1", "-0.2", "-0.4"]);
    let r = lrkit(&["schedule", "LambdaLR(lr_lambda=lambda e: (-2) ** e)", "--epochs", "3"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(lrs(&r.stdout), ["0.1", "-0.2", "0.4"]);
    // Python's exceptions, at the step where Python raises them, naming the exception.
    usage_error(
        &["schedule", "LambdaLR(lr_lambda=lambda e: 1 / (e - 2))", "--epochs", "5"],
        &["epoch 2", "ZeroDivisionError"],
    );
    usage_error(
        &["schedule", "LambdaLR(lr_lambda=lambda e: math.log(e - 3))", "--epochs", "5"],
        &["ValueError: math domain error"],
    );
    usage_error(
        &["schedule", "LambdaLR(lr_lambda=lambda e: (e - 1.5) ** 0.5)", "--epochs", "5"],
        &["complex"],
    );
    // A lambda(0) that raises is a construction error, as in torch.
    usage_error(&["schedule", "LambdaLR(lr_lambda=lambda e: 1 // e)"], &["ZeroDivisionError"]);
    // Exact ints: 3 ** 1000 is exact, and its float conversion overflows as Python's does.
    let r =
        lrkit(&["schedule", "LambdaLR(lr_lambda=lambda e: 3 ** (e * 300) % 7)", "--epochs", "3"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(lrs(&r.stdout), ["0.1", "0.1", "0.1"]);
    usage_error(
        &["schedule", "LambdaLR(lr_lambda=lambda e: 3 ** (e * 700))", "--epochs", "3"],
        &["OverflowError", "int too large to convert to float"],
    );
    // 9. Where PyTorch raises, a typed error naming the parameter.
    usage_error(
        &["schedule", "CyclicLR(base_lr=0.01, max_lr=0.1, step_size_up=1e308)"],
        &["step_size_up", "1e308"],
    );
    usage_error(
        &["schedule", "CyclicLR(base_lr=0.01, max_lr=0.1, step_size_up=4.9e-324)"],
        &["step_size_up", "OverflowError"],
    );
    usage_error(
        &["schedule", "LambdaLR(lr_lambda=lambda epoch: 1000.0 ** epoch)", "--epochs", "105"],
        &["lr_lambda", "epoch 103", "OverflowError"],
    );
}

#[test]
fn numbers_print_as_python_prints_them() {
    // 10. Python: print(f"{lr}") is repr(lr).
    let r = lrkit(&["schedule", "ExponentialLR(gamma=0.1)", "--epochs", "5"]);
    assert_eq!(
        lrs(&r.stdout),
        [
            "0.1",
            "0.010000000000000002",
            "0.0010000000000000002",
            "0.00010000000000000003",
            "1.0000000000000004e-05"
        ]
    );
    let r = lrkit(&[
        "schedule",
        "StepLR(step_size=1, gamma=1.0)",
        "--epochs",
        "1",
        "--lr",
        "-0.0,1,1e307,1e16,1e15,1e-5",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(lrs(&r.stdout), ["[-0.0, 1.0, 1e+307, 1e+16, 1000000000000000.0, 1e-05]"]);
}

#[test]
fn smaller_mistakes() {
    // 11.
    usage_error(&["train", "--val-fraction", "0.0001"], &["--val-fraction", "at least one"]);
    usage_error(&["train", "--val-fraction", "0.9999"], &["--val-fraction", "at least one"]);
    usage_error(
        &["schedule", "OneCycleLR(max_lr=0.1, total_steps=3)", "--epochs", "5"],
        &["step after epoch 4", "total steps is 3", "^~~~"],
    );
    let r = lrkit(&["schedule", "OneCycleLR(max_lr=0.1, total_steps=3)", "--epochs", "5"]);
    let caret_line = r.stderr.lines().last().unwrap();
    assert_eq!(caret_line.find('^'), Some("    OneCycleLR(max_lr=0.1, ".len()), "{}", r.stderr);
    usage_error(&["schedule", "ReduceLROnPlateau()", "--epochs", "3"], &["--metrics", "^~~~"]);
    let bad = std::env::temp_dir().join(format!("lrkit-bad-{}.json", std::process::id()));
    std::fs::write(&bad, "{\"type\": \"StepLR\", \"kwargs\": {\"step_size\": }").unwrap();
    usage_error(&["schedule", bad.to_str().unwrap()], &["not valid JSON", "line 1 column 44", "^"]);
    std::fs::remove_file(&bad).unwrap();
    usage_error(&["schedule", "StepLR(step_size=2)", "--json=0"], &["--json"]);
    usage_error(
        &["schedule", "StepLR(step_size=2)", "--lr", "-1"],
        &["--lr", "invalid learning rate"],
    );
}

#[test]
fn everyday_mistakes_get_a_pointed_message() {
    usage_error(&["schedule", "CosineAnealingLR(T_max=3)"], &["did you mean `CosineAnnealingLR`"]);
    usage_error(&["schedule", "steplr"], &["did you mean `StepLR`"]);
    usage_error(&["schedule", "spec.jsn"], &["no spec file spec.jsn"]);
    usage_error(&["schedule", "StepLR"], &["`StepLR` needs its arguments", "step_size"]);
    usage_error(&["train", "--epochs", "0"], &["--epochs"]);
    let r = lrkit(&["train", "--epochs", "0"]);
    assert!(!r.stderr.contains("--hidden") && !r.stderr.contains("--batch-size"), "{}", r.stderr);
    usage_error(&["train", "-e", "3"], &["'-e'"]);
    usage_error(&["schedule", "StepLR(step_size=1)", "--bogus"], &["--bogus"]);
    // --device: names, any case, one rule.
    for device in ["gpu", "GPU", "Cuda"] {
        let r = lrkit(&["train", "--device", device, "--epochs", "1"]);
        assert!(r.code == 0 || r.stderr.contains("--device cuda"), "{device}: {}", r.stderr);
    }
    usage_error(&["train", "--device", "tpu"], &["--device", "cpu", "cuda"]);
    // One rule for divergence: a loss that is not finite stops with exit 1.
    for args in [
        &["train", "--lr", "10", "--epochs", "3"][..],
        &["train", "--momentum", "1.5", "--epochs", "3"],
    ] {
        let r = lrkit(args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("diverged"), "{}", r.stderr);
    }
    // An unwritable chart is reported before any training.
    let r = lrkit(&["train", "--plot", "/nonexistent-dir/x.svg"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty() && r.stderr.contains("cannot write"), "{}", r.stderr);
    // --metrics without a ReduceLROnPlateau is a warning.
    let r = lrkit(&["schedule", "StepLR(step_size=2)", "--metrics", "1,2", "--epochs", "3"]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("warning: --metrics is ignored"), "{}", r.stderr);
}

#[test]
fn charts_draw_steps_percent_and_the_stop() {
    let dir = std::env::temp_dir();
    let path = dir.join(format!("lrkit-hostile-{}.svg", std::process::id()));
    let p = path.to_str().unwrap();
    let r = lrkit(&["train", "--epochs", "40", "--patience", "2", "--plot", p, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.contains("validation accuracy (%)"), "accuracy axis in percent");
    assert!(svg.contains("lowest validation loss (epoch"), "best epoch marked");
    assert!(svg.contains("early stop (after epoch"), "early stop marked");
    std::fs::remove_file(&path).unwrap();
}

// Round three: where Python raises we raise, no hang, bounded memory, no file ever lost.

/// A fresh folder for one test's files.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lrkit-r3-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The names in `dir`, sorted (no temporary file may be left behind).
fn names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn r3_1_where_python_raises_lrkit_raises() {
    // 1. The issue's reproducers, then one per raising operation of the peer formulas:
    // Python's exception, at Python's step, naming the parameter.
    usage_error(
        &["schedule", "timm.CosineLRScheduler(t_initial=10, k_decay=400)", "--epochs", "3"],
        &[
            "step after epoch 1",
            "`k_decay`",
            "OverflowError: (34, 'Numerical result out of range')",
        ],
    );
    usage_error(
        &["schedule", "optax.linear_onecycle_schedule(10, 0.1, final_div_factor=0)"],
        &[
            "`final_div_factor`",
            "ZeroDivisionError: float division by zero",
            "when the schedule is built",
        ],
    );
    let r = lrkit(&[
        "schedule",
        "transformers.get_cosine_schedule_with_warmup(2, 10, num_cycles=1e308)",
        "--epochs",
        "4",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "nothing printed before the error: {}", r.stdout);
    for w in ["step after epoch 3", "`num_cycles`", "ValueError: math domain error"] {
        assert!(r.stderr.contains(w), "no {w:?} in {}", r.stderr);
    }
    for (spec, words) in [
        // `pct_remaining ** power` with pct 0.1 and power -400.
        (
            "transformers.get_polynomial_decay_schedule_with_warmup(0, 10, lr_end=0.0, power=-400.0)",
            &["`power`", "OverflowError", "step 9"][..],
        ),
        // `0.0 ** negative` at the end of the decay.
        (
            "transformers.get_polynomial_decay_schedule_with_warmup(0, 3, lr_end=0.0, power=-1.0)",
            &["`power`", "ZeroDivisionError: 0.0 cannot be raised to a negative power", "step 3"],
        ),
        // `min_lr / optimizer.defaults["lr"]` with lr 0 (below, --lr 0).
        (
            "transformers.get_cosine_with_min_lr_schedule_with_warmup(0, 10, min_lr=0.01)",
            &["`min_lr`", "ZeroDivisionError: float division by zero"],
        ),
        // timm: `t_curr ** k_decay` at a cycle start with a negative k_decay.
        (
            "timm.CosineLRScheduler(t_initial=2, cycle_limit=5, k_decay=-1.0)",
            &["`k_decay`", "ZeroDivisionError", "step 2"],
        ),
        // timm: `cycle_decay ** i` overflows, even past cycle_limit (computed before the test).
        (
            "timm.CosineLRScheduler(t_initial=1, cycle_decay=1e300, cycle_limit=1)",
            &["`cycle_decay`", "OverflowError", "step 2"],
        ),
        // timm: a negative base to a fractional power is complex.
        (
            "timm.PolyLRScheduler(t_initial=4, power=0.5, k_decay=-1.0)",
            &["`power`", "complex number", "step 1"],
        ),
        // timm: `decay_rate ** (t // decay_t)` with a negative decay_t and rate 0.
        (
            "timm.StepLRScheduler(decay_t=-2.0, decay_rate=0.0)",
            &["`decay_rate`", "ZeroDivisionError", "step 1"],
        ),
        // optax: `1.0 / (div_factor * final_div_factor)` and `int(pct_start * steps)`.
        (
            "optax.cosine_onecycle_schedule(10, 0.1, final_div_factor=0.0)",
            &["`final_div_factor`", "ZeroDivisionError"],
        ),
        (
            "optax.linear_onecycle_schedule(10, 0.1, pct_start=1e308)",
            &["`pct_start`", "OverflowError: cannot convert float infinity to integer"],
        ),
    ] {
        // lr 0 for `min_lr / lr`; transformers' polynomial decay needs lr > lr_end.
        let lr = if spec.contains("min_lr=") { "0" } else { "0.1" };
        usage_error(&["schedule", spec, "--epochs", "12", "--lr", lr], words);
    }
    // Where Python gives a value, so does lrkit: `inf` from `*` (no raise in Python).
    let spec = "timm.StepLRScheduler(decay_t=1, decay_rate=1e200)";
    let r = lrkit(&["schedule", spec, "--epochs", "2", "--lr", "1e200"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(lrs(&r.stdout), ["1e+200", "inf"]);
    // ... and at the next step `1e200 ** 2` raises.
    usage_error(
        &["schedule", spec, "--epochs", "3", "--lr", "1e200"],
        &["OverflowError", "step 2"],
    );
}

#[test]
fn r3_3_valid_python_is_accepted_and_messages_name_the_key() {
    // 3. A dict literal with repeated keys is one key per distinct key, its last value.
    let dup = "optax.piecewise_constant_schedule(init_value=0.1, boundaries_and_scales={1: 0.9, 1: 0.9, 1: 0.9, 1: 0.9, 1: 0.9, 1: 0.9, 1: 0.9, 1: 0.9, 1: 0.9, 2: 0.5, 1: 0.5})";
    let r = lrkit(&["schedule", dup, "--epochs", "3"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        lrs(&r.stdout),
        ["0.10000000149011612", "0.05000000074505806", "0.02500000037252903"]
    );
    let r = lrkit(&[
        "schedule",
        "optax.sgdr_schedule(cosine_kwargs=[{'init_value': 0.0, 'peak_value': 0.1, 'warmup_steps': 2, 'decay_steps': 10, 'decay_steps': 4}])",
        "--epochs",
        "5",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(lrs(&r.stdout)[4], "0.0", "decay_steps=4 (the last value) holds");
    // An unknown key of an optax dict, and of a nested optax call, is named, with the caret
    // under it.
    let spec = "optax.sgdr_schedule(cosine_kwargs=[{'init_value': 0.0, 'peak_value': 0.1, 'warmup_steps': 2, 'decay_steps': 10, 'bogus': 1}])";
    usage_error(
        &["schedule", spec],
        &["`bogus` is not a parameter of warmup_cosine_decay_schedule", "init_value, peak_value"],
    );
    let r = lrkit(&["schedule", spec]);
    let caret = r.stderr.lines().last().unwrap();
    assert_eq!(caret.find('^'), Some(4 + spec.find("'bogus'").unwrap()), "{}", r.stderr);
    usage_error(
        &[
            "schedule",
            "optax.join_schedules(schedules=[optax.linear_schedule(0.0, 0.1, 10, transition_begn=3), optax.constant_schedule(0.1)], boundaries=[10])",
        ],
        &[
            "`transition_begn` is not a parameter of linear_schedule",
            "did you mean `transition_begin`",
        ],
    );
    // --json: inf, -inf and NaN are distinct strings (documented), numbers as Python's repr.
    let r = lrkit(&[
        "schedule",
        "StepLR(step_size=1, gamma=1e308)",
        "--lr",
        "0.1,-0.0,0.0",
        "--epochs",
        "3",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["schedules"][0]["lrs"][2], serde_json::json!(["inf", -0.0, 0.0]));
    let r = lrkit(&[
        "schedule",
        "LambdaLR(lr_lambda=lambda e: -math.inf if e == 1 else math.nan)",
        "--epochs",
        "2",
        "--json",
    ]);
    assert!(r.stdout.contains(r#""lrs":[["nan"],["-inf"]]"#), "{}", r.stdout);
    let r = lrkit(&["schedule", "ExponentialLR(gamma=0.1)", "--epochs", "5", "--json"]);
    assert!(r.stdout.contains("1.0000000000000004e-05"), "{}", r.stdout);
}

#[test]
fn r3_4_every_input_is_answered_in_linear_time() {
    // 4. --plot onto a FIFO: refused at once (opening it would wait for a reader).
    let dir = scratch("fifo");
    let fifo = dir.join("chart.svg");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let p = fifo.to_str().unwrap();
    for args in [
        &["schedule", "StepLR(step_size=2)", "--plot", p][..],
        &["train", "--epochs", "1", "--plot", p],
    ] {
        let start = std::time::Instant::now();
        usage_error(args, &["--plot", "not a regular file"]);
        assert!(start.elapsed().as_secs() < 30, "{args:?}");
    }
    assert_eq!(names(&dir), ["chart.svg"]);
    // Many unknown keyword arguments: linear, not quadratic (2 MB took 21 s).
    let spec = dir.join("spec.json");
    let kwargs: Vec<String> = (0..120_000).map(|i| format!("\"k{i}\": {i}")).collect();
    std::fs::write(
        &spec,
        format!("{{\"type\": \"StepLR\", \"kwargs\": {{{}}}}}", kwargs.join(", ")),
    )
    .unwrap();
    assert!(std::fs::metadata(&spec).unwrap().len() > 2_000_000);
    let start = std::time::Instant::now();
    usage_error(&["schedule", spec.to_str().unwrap()], &["is not a parameter of StepLR"]);
    assert!(start.elapsed().as_secs() < 15, "{:?}", start.elapsed());
    // The same for a spec string of many keywords (as long as one argument may be).
    let text = format!("StepLR(gamma=0.5, {}step_size=3)", "x=1, ".repeat(20_000));
    let start = std::time::Instant::now();
    usage_error(&["schedule", &text], &["`x`"]);
    assert!(start.elapsed().as_secs() < 15, "{:?}", start.elapsed());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn r3_5_memory_does_not_grow_with_the_epochs() {
    // 5. A million epochs of three schedules as JSON under a 300 MB address-space limit
    // (kept in memory, as before, they alone needed more): rows are streamed.
    let bin = cargo_bin!("lrkit");
    let run = |limit_kb: u32, args: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -v {limit_kb}; exec \"$0\" {args}"))
            .arg(bin)
            .output()
            .unwrap()
    };
    let out = run(
        300_000,
        "schedule 'StepLR(step_size=3)' 'ExponentialLR(gamma=0.9)' 'CosineAnnealingLR(T_max=100)' --epochs 1000000 --json",
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.ends_with(b"\"spec\":\"CosineAnnealingLR(T_max=100)\"}]}\n"));
    assert!(out.stdout.len() > 30_000_000);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schedules"][2]["lrs"].as_array().unwrap().len(), 1_000_000);
    // An allocation that fails (a 300 MB spec file under a 200 MB limit) exits 1 with a
    // message, not SIGABRT (134).
    let dir = scratch("oom");
    let spec = dir.join("huge.json");
    let body = "a".repeat(300_000_000);
    std::fs::write(&spec, format!("{{\"type\": \"StepLR\", \"kwargs\": {{\"x\": \"{body}\"}}}}"))
        .unwrap();
    drop(body);
    let out = run(200_000, &format!("schedule '{}'", spec.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: out of memory"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn r3_6_no_file_is_ever_lost() {
    // 6. Every output goes to a temporary file in the same folder, renamed into place when
    // complete; the user's files are never removed or overwritten by a failed run.
    let dir = scratch("files");
    let old = b"<svg>the old chart</svg>".to_vec();
    let chart = dir.join("chart.svg");
    std::fs::write(&chart, &old).unwrap();
    let c = chart.to_str().unwrap();
    // A rejected spec, and a step that fails: the old chart stays, byte for byte.
    usage_error(&["schedule", "StepLR(step_size=0)", "--plot", c], &["step_size"]);
    usage_error(
        &["schedule", "OneCycleLR(max_lr=0.1, total_steps=2)", "--epochs", "4", "--plot", c],
        &["total steps"],
    );
    assert_eq!(std::fs::read(&chart).unwrap(), old);
    assert_eq!(names(&dir), ["chart.svg"]);
    // A dangling symbolic link: kept on a rejected run (nothing created), and on success
    // the file it names is written, the link left as it was.
    let link = dir.join("link.svg");
    std::os::unix::fs::symlink("target.svg", &link).unwrap();
    let l = link.to_str().unwrap();
    usage_error(&["schedule", "StepLR(step_size=0)", "--plot", l], &["step_size"]);
    assert_eq!(std::fs::read_link(&link).unwrap(), std::path::Path::new("target.svg"));
    assert_eq!(names(&dir), ["chart.svg", "link.svg"]);
    let r = lrkit(&["schedule", "StepLR(step_size=2)", "--epochs", "5", "--plot", l]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_link(&link).unwrap(), std::path::Path::new("target.svg"));
    let svg = std::fs::read_to_string(dir.join("target.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{svg}");
    assert_eq!(names(&dir), ["chart.svg", "link.svg", "target.svg"]);
    // A successful run replaces the chart whole.
    let r = lrkit(&["schedule", "StepLR(step_size=2)", "--epochs", "5", "--plot", c]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read(&chart).unwrap(), std::fs::read(dir.join("target.svg")).unwrap());
    // The input spec as the output (directly, or through a link): refused, the spec intact.
    let spec = dir.join("spec.json");
    let spec_bytes = br#"{"type": "StepLR", "kwargs": {"step_size": 2}}"#.to_vec();
    std::fs::write(&spec, &spec_bytes).unwrap();
    std::os::unix::fs::symlink(&spec, dir.join("spec-link.svg")).unwrap();
    let s = spec.to_str().unwrap();
    for out in [s, dir.join("spec-link.svg").to_str().unwrap()] {
        usage_error(&["schedule", s, "--plot", out], &["--plot", "is the input file"]);
        usage_error(
            &["train", "--schedule", s, "--epochs", "1", "--plot", out],
            &["is the input file"],
        );
        assert_eq!(std::fs::read(&spec).unwrap(), spec_bytes);
    }
    assert_eq!(names(&dir), ["chart.svg", "link.svg", "spec-link.svg", "spec.json", "target.svg"]);
    // A long run's chart is drawn from buckets of epochs: bounded, whatever the epochs.
    let r = lrkit(&[
        "schedule",
        "CosineAnnealingWarmRestarts(T_0=7)",
        "--epochs",
        "200000",
        "--plot",
        c,
        "--csv",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(std::fs::metadata(&chart).unwrap().len() < 2_000_000);
    assert_eq!(r.stdout.lines().count(), 200_001);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn r3_7_the_terminal_is_safe() {
    // 7. Control characters of a spec file are shown escaped, the caret under them.
    let dir = scratch("term");
    let spec = dir.join("esc.json");
    std::fs::write(&spec, "{\"type\": \"StepLR\\u001b[31m\\r\", \"kwargs\": {\"step_size\": 2}}")
        .unwrap();
    let r = lrkit(&["schedule", spec.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!r.stderr.contains('\u{1b}') && !r.stderr.contains('\r'), "{:?}", r.stderr);
    assert!(r.stderr.contains("StepLR\\x1b[31m\\r(step_size=2)"), "{}", r.stderr);
    assert!(r.stderr.contains("\n          ^~~~"), "{}", r.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
    // A failing stdout (a full disk) is exit code 1 with a message.
    let full = std::fs::File::create("/dev/full").unwrap();
    let out = Command::new(cargo_bin!("lrkit"))
        .args(["schedule", "StepLR(step_size=2)"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write to stdout"));
    // Floats print as Python's repr everywhere: `lr 1e+308`, not 309 digits.
    let r = lrkit(&["train", "--lr", "1e308", "--epochs", "2"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains(", lr 1e+308"), "{}", r.stdout);
    assert!(r.stdout.contains("train loss nan"), "{}", r.stdout);
    assert!(!r.stdout.contains("0000000000"), "{}", r.stdout);
}

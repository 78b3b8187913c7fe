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

//! Every golden scheduler case that `lrkit schedule` can express, run through the binary with
//! its spec written to a JSON file: the printed learning rates must equal the recorded ones bit
//! for bit. Reads `tests/golden/sched_public.json` and every `sched_*.json` in `$GOLDEN_DIR`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is the assertion

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

/// Why a case cannot be run as `lrkit schedule` (it needs what the command does not offer).
fn unsupported(case: &Value) -> Option<&'static str> {
    if case["lr_is_tensor"].as_bool() == Some(true) {
        Some("0-dim tensor learning rates")
    } else if case.get("step_epochs").is_some_and(|v| !v.is_null()) {
        Some("explicit epochs in step()")
    } else if !case["error"].is_null() {
        Some("a step that raises")
    } else if case["groups"].as_array().unwrap().iter().any(|g| g.get("initial_lr").is_some()) {
        Some("preset initial_lr")
    } else {
        None
    }
}

fn bits(s: &Value) -> u64 {
    u64::from_str_radix(s.as_str().unwrap(), 16).unwrap()
}

/// The rates of `lrkit schedule --json` output equal `want` (rows of f64 bits), row by row.
fn assert_printed_rows(id: &str, stdout: &[u8], want: &Value) {
    let v: Value = serde_json::from_slice(stdout).unwrap();
    let got = v["schedules"][0]["lrs"].as_array().unwrap();
    let want = want.as_array().unwrap();
    assert_eq!(got.len(), want.len(), "{id}");
    for (r, (g, w)) in got.iter().zip(want).enumerate() {
        let g: Vec<u64> =
            g.as_array().unwrap().iter().map(|x| x.as_f64().unwrap().to_bits()).collect();
        let w: Vec<u64> = w.as_array().unwrap().iter().map(bits).collect();
        assert_eq!(g, w, "{id} row {r}");
    }
}

#[test]
fn golden_specs_print_the_recorded_learning_rates() {
    let dir = std::env::temp_dir().join(format!("lrkit-golden-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (mut ran, mut skipped) = (0, 0);
    for file in lrkit_tests::golden_files("sched") {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for case in doc["cases"].as_array().unwrap() {
            let id = case["id"].as_str().unwrap();
            if unsupported(case).is_some() {
                skipped += 1;
                continue;
            }
            let path = dir.join(format!("{id}.json"));
            std::fs::write(&path, case["spec"].to_string()).unwrap();
            let lrs: Vec<String> = case["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| format!("{:?}", f64::from_bits(bits(&g["lr_bits"]))))
                .collect();
            let steps = case["steps"].as_u64().unwrap();
            let epochs = (steps + 1).to_string();
            let mut args = vec!["schedule".to_string(), path.to_str().unwrap().to_string()];
            args.extend(["--lr".into(), lrs.join(","), "--epochs".into(), epochs, "--json".into()]);
            if let Some(m) = case["metrics_bits"].as_array() {
                let m: Vec<String> =
                    m.iter().map(|b| format!("{:?}", f64::from_bits(bits(b)))).collect();
                args.extend(["--metrics".into(), m.join(",")]);
            }
            let out = cargo_bin_cmd!("lrkit").args(&args).output().unwrap();
            assert!(out.status.success(), "{id}: {}", String::from_utf8_lossy(&out.stderr));
            assert_printed_rows(id, &out.stdout, &case["records"]["lrs_bits"]);
            ran += 1;
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    eprintln!(
        "{ran} golden cases checked through the CLI, {skipped} need what `schedule` does not offer"
    );
    assert!(ran >= 150, "only {ran} cases ran");
}

/// A JSON kwarg written as Python, as a user would type it (floats from their exact bits).
fn python(key: &str, v: &Value, bits: Option<&Value>) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Number(n) if !n.is_f64() => n.to_string(),
        Value::Number(n) => {
            let x = bits
                .filter(|b| b.is_string())
                .map_or_else(|| n.as_f64().unwrap(), |b| f64::from_bits(bits_of(b)));
            format!("{x:?}")
        }
        Value::String(s) => format!("{s:?}"),
        Value::Array(items) if key == "schedules" => {
            let calls: Vec<String> = items
                .iter()
                .map(|p| format!("optax.{}({})", p[0].as_str().unwrap(), call_args(&p[1], None)))
                .collect();
            format!("[{}]", calls.join(", "))
        }
        Value::Array(items) => {
            let items: Vec<String> = items
                .iter()
                .enumerate()
                .map(|(i, x)| python(key, x, bits.and_then(|b| b.get(i))))
                .collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(o) => {
            let items: Vec<String> = o
                .iter()
                .map(|(k, x)| {
                    let key = if k.parse::<i64>().is_ok() { k.clone() } else { format!("{k:?}") };
                    format!("{key}: {}", python(k, x, bits.and_then(|b| b.get(k))))
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

fn bits_of(s: &Value) -> u64 {
    bits(s)
}

fn call_args(kwargs: &Value, bits: Option<&Value>) -> String {
    let args: Vec<String> = kwargs
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{k}={}", python(k, v, bits.and_then(|b| b.get(k)))))
        .collect();
    args.join(", ")
}

/// Every peer golden case (transformers, timm, optax) as the Python call a user writes,
/// e.g. `transformers.get_cosine_schedule_with_warmup(num_warmup_steps=10, ...)`, run
/// through `lrkit schedule --json`: rows 0..steps must be the recorded values, bit for bit
/// (optax's float32 values within the parity test's budget where a transcendental is
/// involved).
#[test]
fn peer_golden_specs_print_the_recorded_learning_rates() {
    let mut ran = 0;
    for file in lrkit_tests::golden_files("sched_peers") {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for case in doc["cases"].as_array().unwrap() {
            let id = case["id"].as_str().unwrap();
            let spec = format!(
                "{}.{}({})",
                case["library"].as_str().unwrap(),
                case["name"].as_str().unwrap(),
                call_args(&case["kwargs"], case.get("kwargs_bits"))
            );
            let optax = case["library"] == "optax";
            let lrs: Vec<String> = match case["groups"].as_array() {
                Some(gs) => gs
                    .iter()
                    .map(|g| format!("{:?}", f64::from_bits(bits(&g["lr_bits"]))))
                    .collect(),
                None => vec!["1.0".into()],
            };
            let rows = if optax { &case["values_bits"] } else { &case["lrs_bits"] };
            let rows = rows.as_array().unwrap();
            let epochs = rows.len().to_string();
            let out = cargo_bin_cmd!("lrkit")
                .args(["schedule", &spec, "--lr", &lrs.join(","), "--epochs", &epochs, "--json"])
                .output()
                .unwrap();
            assert!(out.status.success(), "{id}: {spec}: {}", String::from_utf8_lossy(&out.stderr));
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            let got = v["schedules"][0]["lrs"].as_array().unwrap();
            assert_eq!(got.len(), rows.len(), "{id}: rows");
            for (t, (g, want)) in got.iter().zip(rows).enumerate() {
                if optax {
                    #[allow(clippy::cast_possible_truncation)] // an f32 widened by lrkit
                    let value = g[0].as_f64().unwrap() as f32;
                    let want =
                        f32::from_bits(u32::from_str_radix(want.as_str().unwrap(), 16).unwrap());
                    let d = value.to_bits().abs_diff(want.to_bits());
                    assert!(d <= 2, "{id} count {t}: {value:e} vs {want:e}");
                } else {
                    for (x, w) in g.as_array().unwrap().iter().zip(want.as_array().unwrap()) {
                        assert_eq!(x.as_f64().unwrap().to_bits(), bits(w), "{id} row {t}: {spec}");
                    }
                }
            }
            ran += 1;
        }
    }
    assert!(ran >= 56, "only {ran} peer cases ran");
}

/// Every recorded Python lambda (`tests/golden/sched_lambda_public.json` and every
/// `sched_lambda_*.json` in `$GOLDEN_DIR`) through the binary, as a JSON spec file with
/// `{"kind": "expr", ...}` lambdas: the printed learning rates equal the recorded rows bit for
/// bit, and where Python raised, lrkit exits 2 naming Python's exception and message, at
/// construction for row 0 and at the step after epoch `row` otherwise, printing no rates.
#[test]
fn lambda_golden_specs_print_the_recorded_learning_rates() {
    let dir = std::env::temp_dir().join(format!("lrkit-golden-lambda-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (mut traces, mut errors) = (0, 0);
    for file in lrkit_tests::golden_files("sched_lambda") {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for case in doc["cases"].as_array().unwrap() {
            let id = case["id"].as_str().unwrap();
            let lambdas: Vec<Value> = case["lambdas"]
                .as_array()
                .unwrap()
                .iter()
                .map(
                    |l| serde_json::json!({"kind": "expr", "param": l["param"], "body": l["body"]}),
                )
                .collect();
            let spec = serde_json::json!({"type": case["type"], "kwargs": {"lr_lambda": lambdas}});
            let path = dir.join(format!("{id}.json"));
            std::fs::write(&path, spec.to_string()).unwrap();
            let lrs: Vec<String> = case["base_lrs_bits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| format!("{:?}", f64::from_bits(bits(b))))
                .collect();
            let epochs = (case["steps"].as_u64().unwrap() + 1).to_string();
            let out = cargo_bin_cmd!("lrkit")
                .args(["schedule", path.to_str().unwrap(), "--lr", &lrs.join(",")])
                .args(["--epochs", &epochs, "--json"])
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            if let Some(error) = case["error"].as_object() {
                assert_eq!(out.status.code(), Some(2), "{id}: {stderr}");
                assert!(out.stdout.is_empty(), "{id}: printed rates before the error");
                let exception = error["exception"].as_str().unwrap();
                // A complex result is no Python exception: the recorder's message is its own.
                let message = error["message"].as_str().filter(|_| exception != "complex");
                let shown = message.map_or(exception.to_string(), |m| format!("{exception}: {m}"));
                assert!(stderr.contains(&shown), "{id}: {stderr}");
                let row = error["row"].as_u64().unwrap();
                let step = format!("step after epoch {row}:");
                assert_eq!(stderr.contains(&step), row > 0, "{id}: {stderr}");
                errors += 1;
                continue;
            }
            assert!(out.status.success(), "{id}: {stderr}");
            assert_printed_rows(id, &out.stdout, &case["lrs"]);
            traces += 1;
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    eprintln!("{traces} lambda traces and {errors} Python errors reproduced through the CLI");
    assert!(traces >= 104 && errors >= 14, "only {traces} traces and {errors} errors ran");
}

//! `examples/c_step.c` compiled with `cc -std=c99 -Wall -Wextra -Werror` against the header and
//! the cdylib of this build, run, and every output line checked: the struct layout against the
//! Rust structs, each refused call's status and message, then either the clean "no CUDA driver"
//! status of a create (no driver here) or, on a GPU, every parameter bit of three steps against
//! sgd-core's scalar reference.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test.
use std::mem::offset_of;
use std::path::Path;
use std::process::Command;

use sgd_core::scalar::sgd_update;
use sgd_core::{MomentumBuffer, SgdConfig, StepScalars};
use sgd_cuda_capi::{SgdCudaConfigC, SgdCudaTensorC};

/// The 37 values `f(i)` of the C program, computed in f32 as C does.
fn series(f: impl Fn(f32) -> f32) -> Vec<f32> {
    (0u8..37).map(|i| f(f32::from(i))).collect()
}

fn hex(name: &str, x: &[f32]) -> String {
    x.iter().fold(name.to_owned(), |s, v| s + &format!(" {:08x}", v.to_bits()))
}

#[test]
fn c_program_matches_the_reference() {
    let Some(cc) = ["cc", "gcc", "clang"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()))
    else {
        println!("skipped: no C compiler (cc, gcc, clang) on PATH");
        return;
    };
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let lib = profile_dir.join(format!(
        "{}sgd_cuda_capi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    if !lib.exists() {
        println!("skipped: {} not built", lib.display());
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::temp_dir().join(format!("sgd_cuda_c_step_{}", std::process::id()));
    let build = Command::new(cc)
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror"])
        .arg(root.join("examples/c_step.c"))
        .arg(format!("-I{}", root.join("include").display()))
        .arg(format!("-L{}", profile_dir.display()))
        .args(["-lsgd_cuda_capi", "-ldl"])
        .arg(format!("-Wl,-rpath,{}", profile_dir.display()))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));
    let run = Command::new(&out).output().unwrap();
    let _ = std::fs::remove_file(&out);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let text = String::from_utf8(run.stdout).unwrap();
    let mut lines = text.lines();
    let layout = format!(
        "layout {} {} {} {} {}",
        size_of::<SgdCudaConfigC>(),
        size_of::<SgdCudaTensorC>(),
        offset_of!(SgdCudaTensorC, numel),
        offset_of!(SgdCudaTensorC, group),
        offset_of!(SgdCudaTensorC, initialized)
    );
    assert_eq!(lines.next(), Some(layout.as_str()));
    for expected in [
        "bad-lr -10 Invalid learning rate: -1 (group 1; must be >= 0)",
        "bad-group -12 tensor 1: group 7 does not exist (2 groups)",
        "no-buffer -11 tensor 0: its group has momentum but no momentum buffer was given",
        "overlap -4 tensor 0: parameter range overlaps tensor 0's parameters or gradients",
    ] {
        assert_eq!(lines.next(), Some(expected));
    }
    assert!(lines.next().unwrap().starts_with("null-stream -14 stream 0x0: the legacy default"));
    assert_eq!(lines.next(), Some("null-opt -1 null pointer: optimizer"));
    assert_eq!(
        lines.next(),
        Some("typed-grad -17 tensor 0: gradient is float16, parameter is bfloat16")
    );
    assert_eq!(
        lines.next(),
        Some(
            "typed-sr -17 tensor 1: stochastic rounding needs bfloat16/float16 storage, not float32"
        )
    );
    match lines.next() {
        Some("create -20 no CUDA driver: libcuda could not be loaded") => {
            assert_eq!(lines.next(), Some("opt null"));
            println!("no CUDA driver: checked the refused calls and the clean no-driver status");
        }
        Some("no usable GPU") => println!("a driver but no usable GPU: checked the refused calls"),
        Some("create 0 ") => {
            // The same three steps in Rust, with the scalar reference.
            let mut w0 = series(|i| 1.0 + 0.01 * i);
            let g0 = series(|i| 0.5 - 0.03 * i);
            let mut w1 = series(|i| -2.0 + 0.07 * i);
            let g1: Vec<f32> = (0u8..37).map(|i| 0.25 * f32::from(i % 5) - 0.4).collect();
            let mut b0 = [0.0f32; 37];
            for step in 0..3u8 {
                let c0 = SgdConfig {
                    lr: 0.1 / f64::from(step + 1),
                    momentum: 0.9,
                    weight_decay: 1e-4,
                    nesterov: true,
                    ..SgdConfig::default()
                };
                let c1 = SgdConfig { lr: 0.05, maximize: true, ..SgdConfig::default() };
                let buf = MomentumBuffer::new(&mut b0[..], step == 0);
                sgd_update(&StepScalars::from_config(&c0), &mut w0, &g0, Some(buf), None);
                sgd_update(&StepScalars::from_config(&c1), &mut w1, &g1, None, None);
                assert_eq!(lines.next(), Some("status 0"));
                assert_eq!(lines.next(), Some(hex("w0", &w0).as_str()), "step {step}");
                assert_eq!(lines.next(), Some(hex("w1", &w1).as_str()), "step {step}");
            }
        }
        other => panic!("unexpected line {other:?} in\n{text}"),
    }
}

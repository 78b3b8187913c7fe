//! Build script: turns the bundled digits (gzip CSV, in lrkit) into the 65-byte records the
//! firmware keeps in flash, and, for bare-metal targets, hands the linker the memory map of the
//! target's QEMU machine (`memory_map`).
//!
//! Record `i` of `digits.bin` is row `i` of the CSV: 64 pixel counts `0..=16` (one byte each,
//! row-major 8x8), then the label `0..=9`.
use std::io::Read;
use std::path::PathBuf;
use std::{env, fs};

const FEATURES: usize = 64;
const ROWS: usize = 1797;

/// The memory map per bare-metal target (by prefix of the target triple).
const MEMORY_MAPS: [(&str, &str); 4] = [
    // STM32F405 (netduinoplus2): the Cortex-M4F, hard- or soft-float ABI.
    ("thumbv7em-", "memory.x"),
    // mps2-an505: the Cortex-M33.
    ("thumbv8m.main-", "memory-m33.x"),
    // nRF51822 (microbit): the Cortex-M0.
    ("thumbv6m-", "memory-m0.x"),
    // virt: riscv32imac and riscv32imafc.
    ("riscv32", "memory-riscv.x"),
];

fn main() -> Result<(), String> {
    let out = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let source = "../lrkit/data/digits.csv.gz";
    println!("cargo:rerun-if-changed={source}");
    for map in MEMORY_MAPS {
        println!("cargo:rerun-if-changed={}", map.1);
    }
    println!("cargo:rerun-if-changed=build.rs");

    let gz = fs::read(source).map_err(|e| format!("{source}: {e}"))?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .map_err(|e| format!("{source}: {e}"))?;
    let mut records = Vec::with_capacity(ROWS * (FEATURES + 1));
    for (row, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let fields: Vec<&str> = line.trim().split(',').collect();
        if fields.len() != FEATURES + 1 {
            return Err(format!("{source}: row {row} has {} fields", fields.len()));
        }
        for (col, field) in fields.iter().enumerate() {
            let max = if col < FEATURES { 16 } else { 9 };
            match field.trim().parse::<u8>() {
                Ok(v) if v <= max => records.push(v),
                _ => return Err(format!("{source}: row {row}, column {col}: bad value {field:?}")),
            }
        }
    }
    if records.len() != ROWS * (FEATURES + 1) {
        return Err(format!("{source}: {} rows, expected {ROWS}", records.len() / (FEATURES + 1)));
    }
    fs::write(out.join("digits.bin"), &records).map_err(|e| e.to_string())?;

    // Bare metal: the runtime's `link.x` (cortex-m-rt's, or riscv-rt's with its feature
    // `memory`) includes `memory.x` from the search path.
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none") {
        let target = env::var("TARGET").map_err(|e| e.to_string())?;
        let map = MEMORY_MAPS
            .iter()
            .find(|(prefix, _)| target.starts_with(prefix))
            .ok_or_else(|| format!("no memory map for the bare-metal target {target}"))?;
        fs::copy(map.1, out.join("memory.x")).map_err(|e| format!("{}: {e}", map.1))?;
        println!("cargo:rustc-link-search={}", out.display());
        println!("cargo:rustc-link-arg-bins=-Tlink.x");
        if env::var_os("CARGO_FEATURE_C_BASELINE").is_some() {
            compile_c_baseline(&out)?;
        }
    }
    Ok(())
}

/// Compiles `c/sgd_momentum.c` for the Cortex-M4F with `arm-none-eabi-gcc -O2` and links it
/// into the firmware (feature `c-baseline`).
fn compile_c_baseline(out: &std::path::Path) -> Result<(), String> {
    let source = "c/sgd_momentum.c";
    println!("cargo:rerun-if-changed={source}");
    let object = out.join("sgd_momentum.o");
    let gcc = env::var("ARM_NONE_EABI_GCC").unwrap_or_else(|_| "arm-none-eabi-gcc".into());
    let status = std::process::Command::new(&gcc)
        .args(["-O2", "-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"])
        .args(["-fno-math-errno", "-ffp-contract=off", "-c", source, "-o"])
        .arg(&object)
        .status()
        .map_err(|e| format!("feature c-baseline needs {gcc}: {e}"))?;
    if !status.success() {
        return Err(format!("{gcc} failed on {source}: {status}"));
    }
    println!("cargo:rustc-link-arg-bins={}", object.display());
    Ok(())
}

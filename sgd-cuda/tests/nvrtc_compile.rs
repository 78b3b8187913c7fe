//! NVRTC compiles every kernel of the crate (no GPU needed, only libnvrtc): the float32 kernel
//! and the typed one (float64, bf16/f16 storage, f32 master weights, stochastic rounding).
//!
//! Skips with a message when libnvrtc is not found, unless `SGD_CUDA_REQUIRE_NVRTC` is set
//! (CI sets it after installing NVIDIA's NVRTC wheel): then a missing library fails.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test.

use sgd_cuda::test_support::{self as kernels, ALL_KERNELS};

fn nvrtc_or_skip() -> bool {
    if kernels::nvrtc_available() {
        return true;
    }
    assert!(
        std::env::var_os("SGD_CUDA_REQUIRE_NVRTC").is_none(),
        "SGD_CUDA_REQUIRE_NVRTC is set but libnvrtc could not be loaded (LD_LIBRARY_PATH={:?})",
        std::env::var("LD_LIBRARY_PATH").ok()
    );
    eprintln!(
        "skipping: libnvrtc not found (set LD_LIBRARY_PATH to a CUDA or nvidia-cuda-nvrtc lib dir)"
    );
    false
}

/// Architectures every supported NVRTC 13 accepts: Turing, Ampere, Hopper (H100/H200).
const ARCHS: &[&str] = &["compute_75", "compute_80", "compute_90"];

#[test]
fn every_kernel_compiles_for_every_arch_with_exact_float_semantics() {
    if !nvrtc_or_skip() {
        return;
    }
    for k in ALL_KERNELS {
        for arch in ARCHS {
            let ptx = kernels::compile(k, arch).unwrap_or_else(|e| panic!("{e}"));
            let src = ptx.to_src();
            for e in k.entry_points {
                assert!(
                    src.contains(&format!(".entry {e}(")),
                    "{}: no entry {e} in PTX for {arch}",
                    k.file
                );
            }
            // Every float op is explicitly rounded: no contraction, no flush to zero, no
            // approximate division.
            assert!(!src.contains(".ftz"), "{}: flush-to-zero in PTX for {arch}", k.file);
            assert!(
                !src.contains("div.approx") && !src.contains("div.full"),
                "{}: approximate division",
                k.file
            );
            assert!(
                !src.contains("mad.f32") && !src.contains("mad.rn.f32"),
                "{}: contracted mad",
                k.file
            );
            assert!(src.contains("fma.rn.f32"), "{}: explicit __fmaf_rn missing", k.file);
            assert!(src.contains("mul.rn.f32"), "{}: explicit __fmul_rn (buf * m) missing", k.file);
            assert!(src.contains("div.rn.f32"), "{}: IEEE division (grad scale) missing", k.file);
            // The typed kernel's float64 rule (explicit f64 FMA, product, IEEE division), the
            // Philox rounds of stochastic rounding (`__umulhi`) and 16-bit loads and stores.
            assert!(src.contains(".entry sgd_multi_tensor_typed("), "{}: no typed kernel", k.file);
            for op in ["fma.rn.f64", "mul.rn.f64", "div.rn.f64", "mul.hi.u32", ".u16"] {
                assert!(
                    src.contains(op),
                    "{}: `{op}` missing from the typed kernel ({arch})",
                    k.file
                );
            }
            assert!(!src.contains("mad.f64") && !src.contains("div.approx.f64"), "{}: f64", k.file);
            // float4 loads and stores, evict-first (`__ldcs`/`__stcs`: `.cs`).
            assert!(src.contains("ld.global.cs.v4.f32"), "{}: no evict-first float4 loads", k.file);
            assert!(
                src.contains("st.global.cs.v4.f32"),
                "{}: no evict-first float4 stores",
                k.file
            );
        }
    }
}

#[test]
fn every_kernel_compiles_to_machine_code_for_hopper() {
    if !nvrtc_or_skip() {
        return;
    }
    for k in ALL_KERNELS {
        for sm in ["sm_80", "sm_90"] {
            let cubin = kernels::compile_cubin(k, sm).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&cubin[..4], b"\x7fELF", "{}: CUBIN for {sm} is not an ELF image", k.file);
            for entry in k.entry_points {
                let name = entry.as_bytes();
                assert!(
                    cubin.windows(name.len()).any(|w| w == name),
                    "{}: no {entry} symbol",
                    k.file
                );
            }
        }
    }
}

#[test]
fn a_broken_kernel_reports_the_nvrtc_log() {
    if !nvrtc_or_skip() {
        return;
    }
    let broken = kernels::KernelSource {
        file: "broken.cu",
        source: "extern \"C\" __global__ void broken(float* p) { p[0] = undefined_name; }",
        entry_points: &["broken"],
    };
    let err = kernels::compile(&broken, "compute_90").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("broken.cu"), "{text}");
    assert!(text.contains("undefined_name"), "NVRTC log missing from: {text}");
    assert!(text.contains("--fmad=false"), "options missing from: {text}");
    let text = kernels::compile_cubin(&broken, "sm_90").unwrap_err().to_string();
    assert!(text.contains("undefined_name") && text.contains("sm_90"), "CUBIN path: {text}");
}

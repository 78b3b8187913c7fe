//! One test suite, run against every backend available on this machine (memchr style): each
//! SIMD backend must produce the bits of the scalar reference for every non-NaN result and a
//! NaN wherever the reference has one (IEEE 754 and Rust leave NaN payload/sign propagation
//! unspecified). Lengths 0..=2*lanes+1 and beyond, unaligned subslices, special values
//! (NaN, ±inf, subnormals, ±0, huge), every option combination, gradient scale, first and
//! later steps.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test.
use sgd_cpu::{Backend, MomentumBuffer, Prefetch, SgdConfig, SgdError, StepScalars, scalar};

/// Deterministic xorshift generator (no external randomness: failures reproduce).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A value that is special about a quarter of the time.
    fn value(&mut self) -> f32 {
        const SPECIAL: [f32; 14] = [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            0.0,
            -0.0,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            1e-45,  // smallest subnormal
            -3e-39, // subnormal
            3.4e38,
            -3.4e38,
            1.0,
            -1.0,
            6.1e-5,
        ];
        let r = self.next();
        if r.is_multiple_of(4) {
            SPECIAL[(r >> 8) as usize % SPECIAL.len()]
        } else {
            // Roughly normal-ish magnitudes over many binades, both signs.
            #[allow(clippy::cast_possible_truncation)] // bits of a random u64: truncation intended
            let mantissa = (r >> 11) as u32 & 0x7f_ffff;
            let exponent = 100 + ((r >> 40) as u32 % 50); // 2^-27 .. 2^22
            let sign = ((r >> 63) as u32) << 31;
            f32::from_bits(sign | (exponent << 23) | mantissa)
        }
    }

    fn fill(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.value()).collect()
    }
}

fn same(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn assert_same(what: &str, backend: Backend, ctx: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            same(*g, *w),
            "{backend} {what}[{i}] = {g:e} ({:#010x}), scalar = {w:e} ({:#010x}); {ctx}",
            g.to_bits(),
            w.to_bits()
        );
    }
}

/// Every option combination (dampening also non-zero with nesterov: torch's unvalidated
/// group quirk runs that formula too).
fn configs() -> Vec<SgdConfig> {
    let mut out = Vec::new();
    for maximize in [false, true] {
        for weight_decay in [0.0, 0.01] {
            for momentum in [0.0, 0.9] {
                for dampening in [0.0, 0.25] {
                    for nesterov in [false, true] {
                        out.push(SgdConfig {
                            lr: 0.0173,
                            momentum,
                            dampening,
                            weight_decay,
                            nesterov,
                            maximize,
                        });
                    }
                }
            }
        }
    }
    out
}

/// Runs `steps` steps on `backend` and on the scalar reference from the same start, with the
/// slices starting `offset` elements into their allocations, and compares after every step.
fn check(
    backend: Backend,
    prefetch: Prefetch,
    config: &SgdConfig,
    n: usize,
    offset: usize,
    scale: Option<f32>,
    seed: u64,
) {
    let s = StepScalars::from_config(config);
    let mut rng = Rng(seed | 1);
    let init_p = rng.fill(n + offset);
    let mut p_ref = init_p.clone();
    let mut p_sim = init_p;
    let mut b_ref = vec![0.0f32; n + offset];
    let mut b_sim = vec![0.0f32; n + offset];
    for step in 0..3 {
        let grads = rng.fill(n + offset);
        let g = &grads[offset..];
        let first = step == 0;
        let ctx =
            format!("n={n} offset={offset} step={step} scale={scale:?} {prefetch:?} {config:?}");
        let with_buf = config.momentum != 0.0;
        scalar::sgd_update(
            &s,
            &mut p_ref[offset..],
            g,
            with_buf.then(|| MomentumBuffer::new(&mut b_ref[offset..], first)),
            scale,
        );
        backend
            .update_with(
                prefetch,
                &s,
                &mut p_sim[offset..],
                g,
                with_buf.then(|| MomentumBuffer::new(&mut b_sim[offset..], first)),
                scale,
            )
            .unwrap();
        assert_same("param", backend, &ctx, &p_sim, &p_ref);
        assert_same("buf", backend, &ctx, &b_sim, &b_ref);
    }
}

#[test]
fn every_backend_matches_the_scalar_reference() {
    let backends: Vec<Backend> = Backend::available().collect();
    println!("available backends: {backends:?}; active: {}", Backend::active());
    let max_lanes = backends.iter().map(|b| b.lanes()).max().unwrap_or(1);
    let mut lengths: Vec<usize> = (0..=2 * max_lanes + 1).collect();
    // Around every multiple of two vectors up to 18 vectors: the pipelined main loop runs
    // spans of four vectors and needs two spans to start.
    for m in 1..=9 {
        let k = 2 * max_lanes * m;
        lengths.extend([k - 1, k, k + 1]);
    }
    lengths.extend([63, 64, 65, 127, 200, 1000, 4099]);
    lengths.sort_unstable();
    lengths.dedup();
    for backend in backends {
        for (ci, config) in configs().iter().enumerate() {
            for &n in &lengths {
                for offset in [0, 1, 3] {
                    for scale in [None, Some(1024.0), Some(0.3)] {
                        for prefetch in [Prefetch::Never, Prefetch::Always] {
                            let seed = (ci as u64) << 32 ^ (n as u64) << 8 ^ offset as u64;
                            check(backend, prefetch, config, n, offset, scale, seed);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn backend_names_round_trip() {
    for b in Backend::ALL {
        assert_eq!(Backend::from_name(b.name()), Some(b));
    }
    assert_eq!(Backend::from_name("sse2"), None);
}

/// Run-time detection against an independent source, the kernel's CPU flags: a backend is
/// available exactly when the CPU has its instructions (AVX-512: `avx512f`; AVX2: `avx2` and
/// `fma`), so a SIMD kernel is neither skipped on a CPU that has it nor run on one that lacks it.
/// (Without `std` availability is decided at compile time instead.)
#[test]
#[cfg(all(feature = "std", target_arch = "x86_64", target_os = "linux"))]
fn detection_agrees_with_the_cpu_flags_of_proc_cpuinfo() {
    let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") else {
        println!("skipping: /proc/cpuinfo not readable");
        return;
    };
    let flags: Vec<&str> = info
        .lines()
        .find(|l| l.starts_with("flags"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap()
        .split_whitespace()
        .collect();
    let has = |f: &str| flags.contains(&f);
    assert_eq!(Backend::Avx512.is_available(), has("avx512f"), "flags: {flags:?}");
    assert_eq!(Backend::Avx2.is_available(), has("avx2") && has("fma"), "flags: {flags:?}");
    assert!(!Backend::Neon.is_available());
}

#[test]
fn unavailable_backend_and_bad_lengths_are_typed_errors_and_write_nothing() {
    let s = StepScalars::from_config(&SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() });
    let mut p = [1.0f32; 5];
    let mut b = [2.0f32; 4];
    for backend in Backend::available() {
        assert_eq!(
            backend.update(&s, &mut p, &[1.0; 4], None, None),
            Err(SgdError::LengthMismatch { tensor: 0, params: 5, grads: 4 })
        );
        assert_eq!(
            backend.update(&s, &mut p, &[1.0; 5], Some(MomentumBuffer::new(&mut b, false)), None),
            Err(SgdError::MomentumBufferLength { tensor: 0, params: 5, buffer: 4 })
        );
        assert_eq!(p, [1.0; 5]);
        assert_eq!(b, [2.0; 4]);
    }
    if let Some(missing) = Backend::ALL.into_iter().find(|b| !b.is_available()) {
        assert_eq!(
            missing.update(&s, &mut p, &[1.0; 5], None, None),
            Err(SgdError::BackendUnavailable { backend: missing })
        );
    }
}

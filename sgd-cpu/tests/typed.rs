//! The typed step (float64, bfloat16/float16 storage, f32 master weights, stochastic rounding)
//! on every backend available here against the scalar reference (memchr style: one suite over
//! every backend, bitwise, NaN-ness for NaN results); the SIMD conversions against sgd-core's
//! integer conversions on every 16-bit pattern and every class of f32; stochastic rounding the
//! same bits on every backend and thread count, and unbiased; bad dtypes as typed errors that
//! write nothing.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation, clippy::cast_precision_loss)]
use sgd_cpu::convert::{bf16_to_f32, f16_to_f32, f32_to_bf16, f32_to_f16};
use sgd_cpu::{
    Backend, Bf16, Conversions, Dtype, F16, PrecisionError, Rounding, SgdConfig, SgdError,
    StepOptions, TensorMut, TensorRef, ThreadPool, TypedGroup, TypedSlot, TypedStepOptions,
    typed_step,
};

/// Deterministic xorshift generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// An f32 that is special about a quarter of the time (NaN, ±inf, ±0, subnormals of f32
    /// and of f16, f16's overflow threshold, huge values), else of moderate magnitude.
    fn value(&mut self) -> f32 {
        const SPECIAL: [f32; 16] = [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            0.0,
            -0.0,
            1e-45,
            -3e-39,
            6.0e-8,
            -3.0e-5,
            65504.0,
            65520.0,
            -70000.0,
            3.4e38,
            1.0,
            -1.0,
            6.1e-5,
        ];
        let r = self.next();
        if r.is_multiple_of(4) {
            SPECIAL[(r >> 8) as usize % SPECIAL.len()]
        } else {
            let mantissa = (r >> 11) as u32 & 0x7f_ffff;
            let exponent = 110 + ((r >> 40) as u32 % 30); // 2^-17 .. 2^12
            f32::from_bits((((r >> 63) as u32) << 31) | (exponent << 23) | mantissa)
        }
    }
}

/// One tensor's storage in its dtype.
#[derive(Clone, Debug, PartialEq)]
enum Data {
    F32(Vec<f32>),
    F64(Vec<f64>),
    Bf16(Vec<Bf16>),
    F16(Vec<F16>),
}

impl Data {
    fn random(dtype: Dtype, n: usize, rng: &mut Rng) -> Data {
        let mut v = || rng.value();
        match dtype {
            Dtype::F32 => Data::F32((0..n).map(|_| v()).collect()),
            Dtype::F64 => Data::F64((0..n).map(|_| f64::from(v()) * (1.0 + 1e-9)).collect()),
            Dtype::Bf16 => Data::Bf16((0..n).map(|_| Bf16(f32_to_bf16(v()))).collect()),
            _ => Data::F16((0..n).map(|_| F16(f32_to_f16(v()))).collect()),
        }
    }

    fn tensor(&mut self) -> TensorMut<'_> {
        match self {
            Data::F32(v) => TensorMut::F32(v),
            Data::F64(v) => TensorMut::F64(v),
            Data::Bf16(v) => TensorMut::Bf16(v),
            Data::F16(v) => TensorMut::F16(v),
        }
    }

    fn view(&self) -> TensorRef<'_> {
        match self {
            Data::F32(v) => TensorRef::F32(v),
            Data::F64(v) => TensorRef::F64(v),
            Data::Bf16(v) => TensorRef::Bf16(v),
            Data::F16(v) => TensorRef::F16(v),
        }
    }

    /// `(bits, is NaN)` of every element.
    fn bits(&self) -> Vec<(u64, bool)> {
        match self {
            Data::F32(v) => v.iter().map(|x| (u64::from(x.to_bits()), x.is_nan())).collect(),
            Data::F64(v) => v.iter().map(|x| (x.to_bits(), x.is_nan())).collect(),
            Data::Bf16(v) => {
                v.iter().map(|x| (u64::from(x.0), bf16_to_f32(x.0).is_nan())).collect()
            }
            Data::F16(v) => v.iter().map(|x| (u64::from(x.0), f16_to_f32(x.0).is_nan())).collect(),
        }
    }
}

fn assert_same(what: &str, got: &Data, want: &Data, ctx: &str) {
    for (i, (g, w)) in got.bits().iter().zip(want.bits()).enumerate() {
        assert!(
            g.0 == w.0 || (g.1 && w.1),
            "{what}[{i}]: {:#x} vs reference {:#x}; {ctx}",
            g.0,
            w.0
        );
    }
}

/// What a tensor is made of.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    F64,
    Native(Dtype),
    Master(Dtype),
}

const MODES: [Mode; 5] = [
    Mode::F64,
    Mode::Native(Dtype::Bf16),
    Mode::Native(Dtype::F16),
    Mode::Master(Dtype::Bf16),
    Mode::Master(Dtype::F16),
];

/// The state of one tensor over a few steps.
#[derive(Clone, Debug, PartialEq)]
struct State {
    param: Data,
    buf: Data,
    master: Option<Vec<f32>>,
    initialized: bool,
}

impl State {
    fn new(mode: Mode, n: usize, rng: &mut Rng) -> State {
        let (dtype, master) = match mode {
            Mode::F64 => (Dtype::F64, false),
            Mode::Native(d) => (d, false),
            Mode::Master(d) => (d, true),
        };
        let param = Data::random(dtype, n, rng);
        let buf = Data::random(if master { Dtype::F32 } else { dtype }, n, rng);
        let master = master.then(|| (0..n).map(|_| rng.value()).collect());
        State { param, buf, master, initialized: false }
    }
}

/// One step of one tensor (plus, with `pool`, through a thread pool that splits everything).
fn step(
    state: &mut State,
    grad: &Data,
    config: &SgdConfig,
    opts: &TypedStepOptions,
    rounding: Rounding,
    pool: Option<&ThreadPool>,
) {
    let State { param, buf, master, initialized } = state;
    let mut slot = TypedSlot::new(param.tensor(), Some(grad.view()))
        .with_momentum(buf.tensor(), initialized)
        .with_rounding(rounding);
    if let Some(m) = master {
        slot = slot.with_master(m);
    }
    let mut slots = [slot];
    let mut groups = [TypedGroup { config: *config, tensors: &mut slots }];
    match pool {
        Some(pool) => pool.typed_step(&mut groups, opts).unwrap(),
        None => typed_step(&mut groups, opts).unwrap(),
    };
}

fn configs() -> Vec<SgdConfig> {
    let mut out = Vec::new();
    for maximize in [false, true] {
        for weight_decay in [0.0, 0.01] {
            for momentum in [0.0, 0.9] {
                for dampening in [0.0, 0.25] {
                    for nesterov in [false, true] {
                        let lr = 0.0173;
                        out.push(SgdConfig {
                            lr,
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

fn opts(backend: Backend, scale: Option<f32>, conversions: Conversions) -> TypedStepOptions {
    TypedStepOptions {
        options: StepOptions {
            grad_scale: scale,
            backend: Some(backend),
            ..StepOptions::default()
        },
        conversions,
        seed: 0x5eed,
        step: 0,
    }
}

#[test]
fn every_backend_matches_the_scalar_reference_in_every_dtype() {
    let backends: Vec<Backend> = Backend::available().filter(|&b| b != Backend::Scalar).collect();
    println!("SIMD backends checked: {backends:?}");
    let mut lengths: Vec<usize> = (0..=35).collect();
    lengths.extend([63, 64, 65, 100, 1000]);
    for mode in MODES {
        for (ci, config) in configs().iter().enumerate() {
            for &n in &lengths {
                for offset in [0usize, 1] {
                    for scale in [None, Some(1024.0), Some(0.3)] {
                        let seed = (ci as u64) << 32 ^ (n as u64) << 8 ^ offset as u64 ^ 0x9e37;
                        let mut rng = Rng(seed);
                        let start = State::new(mode, n + offset, &mut rng);
                        let grads: Vec<Data> = (0..3)
                            .map(|_| {
                                let d = match &start.param {
                                    Data::F64(_) => Dtype::F64,
                                    Data::Bf16(_) => Dtype::Bf16,
                                    _ => Dtype::F16,
                                };
                                Data::random(d, n + offset, &mut rng)
                            })
                            .collect();
                        let run = |backend: Backend, conversions: Conversions| {
                            let mut s = start.clone();
                            let o = opts(backend, scale, conversions);
                            // The slices start `offset` elements into the allocations.
                            let mut tail = State {
                                param: sub(&s.param, offset),
                                buf: sub(&s.buf, offset),
                                master: s.master.as_ref().map(|m| m[offset..].to_vec()),
                                initialized: false,
                            };
                            for g in &grads {
                                step(
                                    &mut tail,
                                    &sub(g, offset),
                                    config,
                                    &o,
                                    Rounding::NearestEven,
                                    None,
                                );
                            }
                            s.initialized = tail.initialized;
                            tail
                        };
                        let want = run(Backend::Scalar, Conversions::Detected);
                        for &backend in &backends {
                            for conversions in [Conversions::Detected, Conversions::BaseIsa] {
                                let got = run(backend, conversions);
                                let ctx = format!(
                                    "{backend} {conversions:?} {mode:?} n={n} offset={offset} scale={scale:?} {config:?}"
                                );
                                assert_same("param", &got.param, &want.param, &ctx);
                                if config.momentum != 0.0 {
                                    assert_same("buf", &got.buf, &want.buf, &ctx);
                                }
                                if let (Some(g), Some(w)) = (&got.master, &want.master) {
                                    assert_same(
                                        "master",
                                        &Data::F32(g.clone()),
                                        &Data::F32(w.clone()),
                                        &ctx,
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `data[offset..]` as its own tensor.
fn sub(data: &Data, offset: usize) -> Data {
    match data {
        Data::F32(v) => Data::F32(v[offset..].to_vec()),
        Data::F64(v) => Data::F64(v[offset..].to_vec()),
        Data::Bf16(v) => Data::Bf16(v[offset..].to_vec()),
        Data::F16(v) => Data::F16(v[offset..].to_vec()),
    }
}

/// Every 16-bit pattern widened by the SIMD loads (a first momentum step with lr = 0 copies
/// the widened gradient into the buffer, which narrows it back exactly), and f32 values of
/// every class narrowed by the SIMD stores (lr = 0 with a master copy: the parameter becomes
/// the master rounded), against sgd-core's integer conversions.
#[test]
fn simd_conversions_match_the_integer_reference() {
    let mut f32s: Vec<f32> = Vec::new();
    let mut rng = Rng(0xc0ffee);
    for _ in 0..200_000 {
        f32s.push(f32::from_bits(rng.next() as u32));
        f32s.push(rng.value());
    }
    // Around f16's and bf16's rounding boundaries: subnormals, the smallest normal, overflow.
    for base in [
        2f32.powi(-25),
        2f32.powi(-24),
        2f32.powi(-15),
        2f32.powi(-14),
        65504.0,
        65520.0,
        3.3961776e38,
        1.1754942e-38,
    ] {
        for k in -40i32..=40 {
            let b = base.to_bits().wrapping_add_signed(k);
            f32s.extend([f32::from_bits(b), -f32::from_bits(b)]);
        }
    }
    let n = f32s.len();
    let zero_grad = |d: Dtype| {
        if d == Dtype::Bf16 { Data::Bf16(vec![Bf16(0); n]) } else { Data::F16(vec![F16(0); n]) }
    };
    let lr0 = SgdConfig { lr: 0.0, ..SgdConfig::default() };
    let copy = SgdConfig { lr: 0.0, momentum: 0.9, ..SgdConfig::default() };
    for backend in Backend::available() {
        for conversions in [Conversions::Detected, Conversions::BaseIsa] {
            let o = opts(backend, None, conversions);
            for dtype in [Dtype::Bf16, Dtype::F16] {
                let ctx = format!("{backend} {conversions:?} {dtype}");
                // Narrowing.
                let mut s = State {
                    param: zero_grad(dtype),
                    buf: Data::F32(vec![0.0; n]),
                    master: Some(f32s.clone()),
                    initialized: false,
                };
                step(&mut s, &zero_grad(dtype), &lr0, &o, Rounding::NearestEven, None);
                let want = if dtype == Dtype::Bf16 {
                    Data::Bf16(f32s.iter().map(|&x| Bf16(f32_to_bf16(x))).collect())
                } else {
                    Data::F16(f32s.iter().map(|&x| F16(f32_to_f16(x))).collect())
                };
                assert_same("narrowed", &s.param, &want, &ctx);
                // Widening: every pattern.
                let patterns: Vec<u16> = (0..=u16::MAX).collect();
                let grads = if dtype == Dtype::Bf16 {
                    Data::Bf16(patterns.iter().map(|&h| Bf16(h)).collect())
                } else {
                    Data::F16(patterns.iter().map(|&h| F16(h)).collect())
                };
                let zeros = |d| {
                    if d == Dtype::Bf16 {
                        Data::Bf16(vec![Bf16(0); 65536])
                    } else {
                        Data::F16(vec![F16(0); 65536])
                    }
                };
                let mut s = State {
                    param: zeros(dtype),
                    buf: zeros(dtype),
                    master: None,
                    initialized: false,
                };
                step(&mut s, &grads, &copy, &o, Rounding::NearestEven, None);
                assert_same("widened and narrowed back", &s.buf, &grads, &ctx);
            }
        }
    }
}

#[test]
fn stochastic_rounding_is_the_same_bits_on_every_backend_and_thread_count() {
    let pools: Vec<ThreadPool> = [2, 3]
        .into_iter()
        .map(|t| {
            let mut p = ThreadPool::new(t).unwrap();
            p.set_parallel_threshold(0);
            p
        })
        .collect();
    let config = SgdConfig {
        lr: 0.01,
        momentum: 0.9,
        weight_decay: 1e-3,
        nesterov: true,
        ..SgdConfig::default()
    };
    for mode in [
        Mode::Native(Dtype::Bf16),
        Mode::Native(Dtype::F16),
        Mode::Master(Dtype::Bf16),
        Mode::Master(Dtype::F16),
    ] {
        for n in [1usize, 31, 1000, 70_001] {
            let mut rng = Rng(n as u64 + 17);
            let start = State::new(mode, n, &mut rng);
            let d = match &start.param {
                Data::Bf16(_) => Dtype::Bf16,
                _ => Dtype::F16,
            };
            let grads: Vec<Data> = (0..3).map(|_| Data::random(d, n, &mut rng)).collect();
            let run = |backend: Backend, pool: Option<&ThreadPool>| {
                let mut s = start.clone();
                for (t, g) in grads.iter().enumerate() {
                    let o = TypedStepOptions {
                        step: t as u32,
                        ..opts(backend, None, Conversions::Detected)
                    };
                    step(&mut s, g, &config, &o, Rounding::Stochastic, pool);
                }
                s
            };
            let want = run(Backend::Scalar, None);
            // Not round to nearest: the random bits are used.
            let mut nearest = start.clone();
            for (t, g) in grads.iter().enumerate() {
                let o = TypedStepOptions {
                    step: t as u32,
                    ..opts(Backend::Scalar, None, Conversions::Detected)
                };
                step(&mut nearest, g, &config, &o, Rounding::NearestEven, None);
            }
            if n >= 1000 {
                let moved = nearest
                    .param
                    .bits()
                    .iter()
                    .zip(want.param.bits())
                    .any(|(a, b)| a.0 != b.0 && !(a.1 && b.1));
                assert!(moved, "{mode:?} n={n}: stochastic rounding gave round-to-nearest's bits");
            }
            for backend in Backend::available() {
                for pool in [None, Some(&pools[0]), Some(&pools[1])] {
                    let got = run(backend, pool);
                    let ctx = format!(
                        "{backend} {mode:?} n={n} threads={:?}",
                        pool.map(ThreadPool::threads)
                    );
                    assert_same("param", &got.param, &want.param, &ctx);
                    assert_same("buf", &got.buf, &want.buf, &ctx);
                    if let (Some(g), Some(w)) = (&got.master, &want.master) {
                        assert_same("master", &Data::F32(g.clone()), &Data::F32(w.clone()), &ctx);
                    }
                }
            }
        }
    }
}

/// Updates far below half an ulp: round to nearest never moves the parameter, stochastic
/// rounding moves it by the f32 update on average. Tolerance: 6 standard deviations of the
/// mean of `n` independent roundings (each at most one ulp wide).
#[test]
fn stochastic_rounding_is_unbiased() {
    let n = 1 << 14;
    let steps = 200u32;
    for dtype in [Dtype::Bf16, Dtype::F16] {
        let (p0, ulp) =
            if dtype == Dtype::Bf16 { (1.0f32, 2f32.powi(-7)) } else { (1.0, 2f32.powi(-10)) };
        let one = |x: f32| {
            if dtype == Dtype::Bf16 {
                Data::Bf16(vec![Bf16(f32_to_bf16(x)); n])
            } else {
                Data::F16(vec![F16(f32_to_f16(x)); n])
            }
        };
        // lr * g = ulp / 10 per step, in f32: exactly the update a f32 parameter would take.
        let config = SgdConfig { lr: f64::from(ulp) / 10.0, ..SgdConfig::default() };
        let grad = one(1.0);
        for rounding in [Rounding::NearestEven, Rounding::Stochastic] {
            let mut s = State { param: one(p0), buf: one(0.0), master: None, initialized: false };
            for t in 0..steps {
                let o = TypedStepOptions {
                    step: t,
                    ..opts(Backend::best(), None, Conversions::Detected)
                };
                step(&mut s, &grad, &config, &o, rounding, None);
            }
            let values: Vec<f64> = match &s.param {
                Data::Bf16(v) => v.iter().map(|x| f64::from(bf16_to_f32(x.0))).collect(),
                Data::F16(v) => v.iter().map(|x| f64::from(f16_to_f32(x.0))).collect(),
                _ => unreachable!(),
            };
            let mean = values.iter().sum::<f64>() / n as f64;
            // The f32 parameter after the same steps.
            let mut exact = p0;
            for _ in 0..steps {
                exact = (-(config.lr as f32)).mul_add(1.0, exact);
            }
            let exact = f64::from(exact);
            let tolerance = 6.0 * f64::from(ulp) * (f64::from(steps) / n as f64).sqrt();
            match rounding {
                Rounding::NearestEven => assert_eq!(mean, f64::from(p0), "{dtype}: stagnates"),
                _ => assert!(
                    (mean - exact).abs() < tolerance,
                    "{dtype}: mean {mean} vs f32 {exact} (tolerance {tolerance:e})"
                ),
            }
            println!(
                "{dtype} {rounding:?}: mean {mean:.9}, f32 update {exact:.9}, |diff| {:.2e} (tolerance {tolerance:.2e})",
                (mean - exact).abs()
            );
        }
    }
}

/// What tensor 1 is made of in one bad-input case (tensor 0 is a valid f32 tensor).
#[derive(Clone, Copy, Debug)]
enum Bad {
    GradDtype,
    BufferDtype,
    MasterLength,
    StochasticF32,
}

#[test]
fn bad_dtypes_are_typed_errors_naming_the_tensor_and_write_nothing() {
    let config = SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() };
    let cases = [
        (
            Bad::GradDtype,
            PrecisionError::GradDtype { tensor: 1, param: Dtype::Bf16, grad: Dtype::F16 },
        ),
        (
            Bad::BufferDtype,
            PrecisionError::BufferDtype {
                tensor: 1,
                param: Dtype::Bf16,
                buffer: Dtype::F32,
                expected: Dtype::Bf16,
            },
        ),
        (Bad::MasterLength, PrecisionError::MasterLength { tensor: 1, params: 4, master: 5 }),
        (
            Bad::StochasticF32,
            PrecisionError::StochasticRoundingUnsupported { tensor: 1, dtype: Dtype::F32 },
        ),
    ];
    for (bad, want) in cases {
        let (mut p0, mut b0, mut i0) = ([1.0f32; 4], [0.5f32; 4], true);
        let (mut p1, mut b1, mut i1) = ([Bf16(0x3f80); 4], [Bf16(0x3f00); 4], true);
        let (mut p32, mut b32, mut i32_) = ([3.0f32; 4], [0.25f32; 4], true);
        let mut master = [2.0f32; 5];
        let g32 = [1.0f32; 4];
        let gbf = [Bf16(0x3f80); 4];
        let gf16 = [F16(0x3c00); 4];
        let first = TypedSlot::new(&mut p0[..], Some(TensorRef::F32(&g32)))
            .with_momentum(&mut b0[..], &mut i0);
        let second = match bad {
            Bad::GradDtype => TypedSlot::new(&mut p1[..], Some(TensorRef::F16(&gf16)))
                .with_momentum(&mut b1[..], &mut i1),
            Bad::BufferDtype => TypedSlot::new(&mut p1[..], Some(TensorRef::Bf16(&gbf)))
                .with_momentum(&mut b32[..], &mut i1),
            Bad::MasterLength => TypedSlot::new(&mut p1[..], Some(TensorRef::Bf16(&gbf)))
                .with_momentum(&mut b32[..], &mut i1)
                .with_master(&mut master),
            Bad::StochasticF32 => TypedSlot::new(&mut p32[..], Some(TensorRef::F32(&g32)))
                .with_momentum(&mut b32[..], &mut i32_)
                .with_rounding(Rounding::Stochastic),
        };
        let mut slots = [first, second];
        let mut groups = [TypedGroup { config, tensors: &mut slots }];
        let got = typed_step(&mut groups, &TypedStepOptions::default());
        assert_eq!(got, Err(SgdError::Precision(want)), "{bad:?}");
        assert!(want.to_string().starts_with("tensor 1: "), "{want}");
        assert_eq!(
            (p0, b0, p1, b1, p32, b32, master),
            (
                [1.0; 4],
                [0.5; 4],
                [Bf16(0x3f80); 4],
                [Bf16(0x3f00); 4],
                [3.0; 4],
                [0.25; 4],
                [2.0; 5]
            ),
            "{bad:?}"
        );
    }
}

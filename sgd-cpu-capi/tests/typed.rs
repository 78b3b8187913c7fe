//! `sgd_step_typed` against `sgd_cpu::typed_step`: the same bits for every dtype and mode
//! (stochastic rounding included, on the calling thread and on a pool), and bad dtypes, codes,
//! master copies and alignments refused with a status and a message naming the tensor, nothing
//! written.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test.
#![allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)] // test data

use core::ffi::CStr;
use core::ptr;

use sgd_capi_support::dtype_code::{
    DTYPE_BFLOAT16, DTYPE_FLOAT16, DTYPE_FLOAT32, DTYPE_FLOAT64, ROUND_NEAREST_EVEN,
    ROUND_STOCHASTIC,
};
use sgd_cpu::{
    Bf16, F16, HalfFloat, Rounding, SgdConfig, StepOptions, TensorMut, TensorRef, TypedGroup,
    TypedSlot, TypedStepOptions, typed_step,
};
use sgd_cpu_capi::{
    SgdConfigC, SgdStatus, SgdTypedGroupC, SgdTypedTensorC, sgd_last_error_message, sgd_pool_free,
    sgd_pool_new, sgd_step_typed,
};

fn values(n: usize, seed: u32) -> Vec<f32> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x as f32 / u32::MAX as f32 - 0.5) * 4.0
        })
        .collect()
}

fn last_message() -> String {
    let mut buf = [0u8; 512];
    // SAFETY: `buf` is valid for its length.
    unsafe { sgd_last_error_message(buf.as_mut_ptr(), buf.len()) };
    CStr::from_bytes_until_nul(&buf).unwrap().to_str().unwrap().to_owned()
}

/// A model of five tensors, one per mode: f32, f64, bf16 storage (stochastic), f16 storage,
/// bf16 with an f32 master (stochastic).
#[derive(Clone, PartialEq)]
struct Model {
    p32: Vec<f32>,
    g32: Vec<f32>,
    b32: Vec<f32>,
    p64: Vec<f64>,
    g64: Vec<f64>,
    b64: Vec<f64>,
    pbf: Vec<Bf16>,
    gbf: Vec<Bf16>,
    bbf: Vec<Bf16>,
    ph: Vec<F16>,
    gh: Vec<F16>,
    bh: Vec<F16>,
    pm: Vec<Bf16>,
    gm: Vec<Bf16>,
    m: Vec<f32>,
    bm: Vec<f32>,
    init: Vec<u8>,
}

const N: usize = 1037;

impl Model {
    fn new() -> Self {
        let v = |s| values(N, s);
        let bf = |s| values(N, s).into_iter().map(Bf16::from_f32).collect::<Vec<_>>();
        let h = |s| values(N, s).into_iter().map(F16::from_f32).collect::<Vec<_>>();
        let pm = bf(9);
        Model {
            p32: v(1),
            g32: v(2),
            b32: vec![0.0; N],
            p64: v(3).into_iter().map(f64::from).collect(),
            g64: v(4).into_iter().map(f64::from).collect(),
            b64: vec![0.0; N],
            pbf: bf(5),
            gbf: bf(6),
            bbf: vec![Bf16(0); N],
            ph: h(7),
            gh: h(8),
            bh: vec![F16(0); N],
            m: pm.iter().map(|x| x.to_f32()).collect(),
            pm,
            gm: bf(10),
            bm: vec![0.0; N],
            init: vec![0; 5],
        }
    }

    fn config() -> SgdConfig {
        SgdConfig {
            lr: 0.01,
            momentum: 0.9,
            weight_decay: 1e-3,
            nesterov: true,
            ..SgdConfig::default()
        }
    }

    fn tensors_c(&mut self) -> Vec<SgdTypedTensorC> {
        let init = self.init.as_mut_ptr();
        let t = |param: *mut core::ffi::c_void,
                 grad: *const core::ffi::c_void,
                 buf: *mut core::ffi::c_void,
                 dtype: u32,
                 rounding: u32,
                 i: usize| SgdTypedTensorC {
            param,
            grad,
            momentum_buffer: buf,
            master: ptr::null_mut(),
            initialized: init.wrapping_add(i),
            numel: N,
            master_numel: 0,
            param_dtype: dtype,
            grad_dtype: dtype,
            buffer_dtype: dtype,
            rounding,
        };
        let c = |p: *mut f32| p.cast::<core::ffi::c_void>();
        vec![
            t(
                c(self.p32.as_mut_ptr()),
                self.g32.as_ptr().cast(),
                c(self.b32.as_mut_ptr()),
                DTYPE_FLOAT32,
                ROUND_NEAREST_EVEN,
                0,
            ),
            t(
                self.p64.as_mut_ptr().cast(),
                self.g64.as_ptr().cast(),
                self.b64.as_mut_ptr().cast(),
                DTYPE_FLOAT64,
                ROUND_NEAREST_EVEN,
                1,
            ),
            t(
                self.pbf.as_mut_ptr().cast(),
                self.gbf.as_ptr().cast(),
                self.bbf.as_mut_ptr().cast(),
                DTYPE_BFLOAT16,
                ROUND_STOCHASTIC,
                2,
            ),
            t(
                self.ph.as_mut_ptr().cast(),
                self.gh.as_ptr().cast(),
                self.bh.as_mut_ptr().cast(),
                DTYPE_FLOAT16,
                ROUND_NEAREST_EVEN,
                3,
            ),
            SgdTypedTensorC {
                master: self.m.as_mut_ptr(),
                master_numel: N,
                buffer_dtype: DTYPE_FLOAT32,
                ..t(
                    self.pm.as_mut_ptr().cast(),
                    self.gm.as_ptr().cast(),
                    c(self.bm.as_mut_ptr()),
                    DTYPE_BFLOAT16,
                    ROUND_STOCHASTIC,
                    4,
                )
            },
        ]
    }

    fn step_c(
        &mut self,
        pool: *const sgd_cpu_capi::SgdPool,
        tensors: &[SgdTypedTensorC],
        step: u32,
    ) -> i32 {
        let group = SgdTypedGroupC {
            config: SgdConfigC::from(Self::config()),
            tensors: tensors.as_ptr(),
            n_tensors: tensors.len(),
        };
        // SAFETY: every pointer points into `self` (or is broken on purpose, for the step to catch).
        unsafe { sgd_step_typed(pool, &group, 1, ptr::null(), 0, 42, step) }
    }

    fn step_rust(&mut self, step: u32) {
        let mut init: Vec<bool> = self.init.iter().map(|&b| b != 0).collect();
        let [i0, i1, i2, i3, i4] = &mut init[..] else { unreachable!() };
        let sr = Rounding::Stochastic;
        let mut slots = [
            TypedSlot::new(&mut self.p32[..], Some(TensorRef::F32(&self.g32)))
                .with_momentum(&mut self.b32[..], i0),
            TypedSlot::new(&mut self.p64[..], Some(TensorRef::F64(&self.g64)))
                .with_momentum(&mut self.b64[..], i1),
            TypedSlot::new(&mut self.pbf[..], Some(TensorRef::Bf16(&self.gbf)))
                .with_momentum(&mut self.bbf[..], i2)
                .with_rounding(sr),
            TypedSlot::new(TensorMut::F16(&mut self.ph), Some(TensorRef::F16(&self.gh)))
                .with_momentum(TensorMut::F16(&mut self.bh), i3),
            TypedSlot::new(&mut self.pm[..], Some(TensorRef::Bf16(&self.gm)))
                .with_master(&mut self.m)
                .with_momentum(&mut self.bm[..], i4)
                .with_rounding(sr),
        ];
        let opts = TypedStepOptions {
            options: StepOptions::default(),
            seed: 42,
            step,
            ..TypedStepOptions::default()
        };
        typed_step(&mut [TypedGroup { config: Self::config(), tensors: &mut slots }], &opts)
            .unwrap();
        self.init = init.iter().map(|&b| u8::from(b)).collect();
    }
}

#[test]
fn typed_c_steps_match_rust_in_every_mode_on_one_and_two_threads() {
    let pool = sgd_pool_new(2);
    assert!(!pool.is_null());
    for p in [ptr::null(), pool.cast_const()] {
        let (mut c, mut rust) = (Model::new(), Model::new());
        for step in 0..3 {
            let tensors = c.tensors_c();
            assert_eq!(c.step_c(p, &tensors, step), SgdStatus::Ok as i32, "{}", last_message());
            rust.step_rust(step);
            assert!(c == rust, "step {step}: the C step differs from typed_step");
        }
        assert_eq!(c.init, vec![1; 5]);
    }
    // SAFETY: made by sgd_pool_new above, freed once.
    unsafe { sgd_pool_free(pool) };
}

fn rejects(status: SgdStatus, needle: &str, break_it: impl FnOnce(&mut Vec<SgdTypedTensorC>)) {
    let mut m = Model::new();
    let before = m.clone();
    let mut tensors = m.tensors_c();
    break_it(&mut tensors);
    let got = m.step_c(ptr::null(), &tensors, 0);
    let message = last_message();
    assert_eq!(got, status as i32, "{message}");
    assert!(message.contains(needle), "message {message:?} lacks {needle:?}");
    assert!(m == before, "{message}: something was written");
}

#[test]
fn bad_dtypes_codes_and_master_copies_are_refused_naming_the_tensor() {
    rejects(SgdStatus::UnknownCode, "tensor 1: param_dtype 7 is not a code", |t| {
        t[1].param_dtype = 7
    });
    rejects(SgdStatus::UnknownCode, "tensor 3: rounding 2 is not a code", |t| t[3].rounding = 2);
    rejects(SgdStatus::Dtype, "tensor 2: gradient is float16, parameter is bfloat16", |t| {
        t[2].grad_dtype = DTYPE_FLOAT16;
    });
    rejects(SgdStatus::Dtype, "tensor 3: momentum buffer is bfloat16", |t| {
        t[3].buffer_dtype = DTYPE_BFLOAT16;
    });
    rejects(SgdStatus::Dtype, "tensor 4: master copy has 1036 elements, parameter has 1037", |t| {
        t[4].master_numel = N - 1;
    });
    rejects(
        SgdStatus::Dtype,
        "tensor 0: stochastic rounding needs bfloat16/float16 storage, not float32",
        |t| {
            t[0].rounding = ROUND_STOCHASTIC;
        },
    );
    rejects(
        SgdStatus::Dtype,
        "tensor 1: stochastic rounding needs bfloat16/float16 storage, not float64",
        |t| {
            t[1].rounding = ROUND_STOCHASTIC;
        },
    );
    rejects(SgdStatus::Misaligned, "param at", |t| {
        t[1].param = t[1].param.cast::<u8>().wrapping_add(4).cast();
        t[1].numel = N - 1;
    });
    rejects(SgdStatus::Overlap, "tensor 4 master", |t| {
        t[4].master = t[4].momentum_buffer.cast::<f32>().wrapping_add(1);
    });
}

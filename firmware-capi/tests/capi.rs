//! The C ABI of `lrkit_fw` from Rust (the `extern "C"` functions), and its header compiled as
//! strict C99 by the host's C compiler.
// Every unsafe call here passes valid, live, disjoint Rust arrays (or the invalid argument a
// test is about, which the library checks before any use).
#![allow(clippy::undocumented_unsafe_blocks)]

use std::ffi::CString;
use std::sync::Mutex;

use lrkit_fw::sched::*;
use lrkit_fw::sgd::*;
use lrkit_fw::*;

/// The last-error message is one slot per program: tests that read it run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn message() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is valid for its length.
    let n = unsafe { lrk_last_error_message(buf.as_mut_ptr(), buf.len()) };
    String::from_utf8_lossy(&buf[..n.min(255)]).into_owned()
}

fn storage() -> Box<SchedulerStorage> {
    // SAFETY: the storage is plain bytes; any content is a valid `SchedulerStorage`.
    unsafe { Box::new(core::mem::zeroed()) }
}

fn group(lr: f64) -> ParamGroupC {
    ParamGroupC { lr, momentum: 0.9, has_momentum: 1, ..ParamGroupC::default() }
}

#[test]
fn step_lr_steps_and_closed_form_matches_sched_core() {
    let _l = SERIAL.lock().unwrap();
    let mut s = storage();
    let mut g = [group(0.1), group(0.2)];
    // SAFETY: valid storage and groups.
    assert_eq!(unsafe { lrk_step_lr_init(&mut *s, g.as_mut_ptr(), 2, 2, 0.5, -1) }, LRK_OK);
    assert_eq!(g[0].has_initial_lr, 1);
    let mut want = [
        sched_core::ParamGroup::new(0.1).with_momentum(0.9),
        sched_core::ParamGroup::new(0.2).with_momentum(0.9),
    ];
    let mut r = sched_core::StepLr::new(
        sched_core::StepLrConfig { step_size: 2, gamma: 0.5, last_epoch: -1 },
        &mut want,
    )
    .unwrap();
    for epoch in 0..6u64 {
        let (mut lr, mut lr32) = (0.0f64, 0.0f32);
        // SAFETY: valid storage and outputs.
        unsafe {
            assert_eq!(lrk_scheduler_lr_at(&*s, 1, epoch, &mut lr), LRK_OK);
            assert_eq!(lrk_scheduler_lr_at_f32(&*s, 1, epoch, &mut lr32), LRK_OK);
        }
        assert_eq!(lr, sched_core::ClosedForm::lr_at(&r, 1, epoch).unwrap());
        assert_eq!(lr32, sched_core::ClosedForm::lr_at_f32(&r, 1, epoch).unwrap());
        assert_eq!(g[1].lr.to_bits(), want[1].lr.to_bits(), "epoch {epoch}");
        // SAFETY: valid storage and groups.
        assert_eq!(unsafe { lrk_scheduler_step(&mut *s, g.as_mut_ptr(), 2) }, LRK_OK);
        r.step(&mut want).unwrap();
    }
    let mut last = 0i64;
    // SAFETY: as above.
    assert_eq!(unsafe { lrk_scheduler_last_epoch(&*s, &mut last) }, LRK_OK);
    assert_eq!(last, 6);
}

#[test]
fn a_rejected_call_writes_nothing_and_names_the_reason() {
    let _l = SERIAL.lock().unwrap();
    let mut s = storage();
    let mut g = [group(0.1)];
    // SAFETY: valid storage and groups.
    assert_eq!(
        unsafe { lrk_cosine_annealing_lr_init(&mut *s, g.as_mut_ptr(), 1, 10, 0.0, -1) },
        LRK_OK
    );
    let before_s: Vec<u8> = unsafe {
        core::slice::from_raw_parts(
            (&*s as *const SchedulerStorage).cast::<u8>(),
            LRK_SCHEDULER_SIZE,
        )
    }
    .to_vec();
    let before_g = g;
    // A bad gamma into the same storage: rejected, storage and groups untouched.
    // SAFETY: as above.
    let status = unsafe { lrk_step_lr_init(&mut *s, g.as_mut_ptr(), 1, 0, 0.1, -1) };
    assert_eq!(status, LRK_ERR_SCHEDULE);
    assert_eq!(message(), "lrk_step_lr_init: `step_size` must be positive, got 0");
    let after_s = unsafe {
        core::slice::from_raw_parts(
            (&*s as *const SchedulerStorage).cast::<u8>(),
            LRK_SCHEDULER_SIZE,
        )
    };
    assert_eq!(before_s, after_s);
    assert_eq!(before_g, g);
    // Stepping with the wrong number of groups: rejected, nothing written.
    let mut two = [g[0], g[0]];
    // SAFETY: as above.
    assert_eq!(unsafe { lrk_scheduler_step(&mut *s, two.as_mut_ptr(), 2) }, LRK_ERR_SCHEDULE);
    assert_eq!(two, [g[0], g[0]]);
    assert!(message().starts_with("lrk_scheduler_step: the number of groups"), "{}", message());
    // NULL and misaligned pointers.
    // SAFETY: null is checked before use.
    assert_eq!(
        unsafe { lrk_scheduler_lr_at(&*s, 0, 0, core::ptr::null_mut()) },
        LRK_ERR_NULL_POINTER
    );
    assert_eq!(message(), "lrk_scheduler_lr_at: `out` is NULL");
    let mut buf = [0u64; 2];
    let odd = (buf.as_mut_ptr() as usize + 4) as *mut f64;
    // SAFETY: misalignment is checked before use.
    assert_eq!(unsafe { lrk_scheduler_lr_at(&*s, 0, 0, odd) }, LRK_ERR_MISALIGNED);
    assert_eq!(buf, [0, 0]);
    // No closed form.
    let mut p = storage();
    let kw = [KwargC {
        name: c"patience".as_ptr(),
        kind: LRK_KW_INT,
        len: 0,
        i: 2,
        f: 0.0,
        s: core::ptr::null(),
        ints: core::ptr::null(),
        floats: core::ptr::null(),
    }];
    // SAFETY: valid storage, groups, name and kwargs.
    assert_eq!(
        unsafe {
            lrk_scheduler_build(
                &mut *p,
                g.as_mut_ptr(),
                1,
                c"ReduceLROnPlateau".as_ptr(),
                kw.as_ptr(),
                1,
            )
        },
        LRK_OK
    );
    let mut lr = 7.0f64;
    // SAFETY: as above.
    assert_eq!(unsafe { lrk_scheduler_lr_at(&*p, 0, 1, &mut lr) }, LRK_ERR_NO_CLOSED_FORM);
    assert_eq!(lr, 7.0);
    // Truncation like snprintf, and "" after a success.
    let mut small = [0xffu8; 8];
    // SAFETY: `small` is valid for 8 bytes.
    let n = unsafe { lrk_last_error_message(small.as_mut_ptr(), small.len()) };
    assert!(n > 8);
    assert_eq!(&small, b"lrk_sch\0");
    // SAFETY: as above.
    assert_eq!(unsafe { lrk_scheduler_step_metric(&mut *p, g.as_mut_ptr(), 1, 1.0) }, LRK_OK);
    assert_eq!(message(), "");
}

#[test]
fn build_by_name_reaches_every_family() {
    let _l = SERIAL.lock().unwrap();
    let none = KwargC {
        name: core::ptr::null(),
        kind: LRK_KW_INT,
        len: 0,
        i: 0,
        f: 0.0,
        s: core::ptr::null(),
        ints: core::ptr::null(),
        floats: core::ptr::null(),
    };
    let names: Vec<CString> = [
        "num_warmup_steps",
        "num_training_steps",
        "max_lr",
        "total_steps",
        "t_initial",
        "init_value",
        "peak_value",
        "warmup_steps",
        "decay_steps",
    ]
    .iter()
    .map(|s| CString::new(*s).unwrap())
    .collect();
    let kw = |i: usize, kind: u32, iv: i64, f: f64| KwargC {
        name: names[i].as_ptr(),
        kind,
        i: iv,
        f,
        ..none
    };
    let cases: [(&core::ffi::CStr, Vec<KwargC>); 4] = [
        (
            c"transformers.get_cosine_schedule_with_warmup",
            vec![kw(0, LRK_KW_INT, 10, 0.0), kw(1, LRK_KW_INT, 100, 0.0)],
        ),
        (c"OneCycleLR", vec![kw(2, LRK_KW_FLOAT, 0, 1.0), kw(3, LRK_KW_INT, 100, 0.0)]),
        (c"timm.CosineLRScheduler", vec![kw(4, LRK_KW_INT, 50, 0.0)]),
        (
            c"optax.warmup_cosine_decay_schedule",
            vec![
                kw(5, LRK_KW_FLOAT, 0, 0.0),
                kw(6, LRK_KW_FLOAT, 0, 1.0),
                kw(7, LRK_KW_INT, 5, 0.0),
                kw(8, LRK_KW_INT, 50, 0.0),
            ],
        ),
    ];
    for (name, kwargs) in &cases {
        let mut s = storage();
        let mut g = [group(0.1)];
        // SAFETY: valid storage, groups, strings and kwargs.
        let status = unsafe {
            lrk_scheduler_build(
                &mut *s,
                g.as_mut_ptr(),
                1,
                name.as_ptr(),
                kwargs.as_ptr(),
                u32::try_from(kwargs.len()).unwrap(),
            )
        };
        assert_eq!(status, LRK_OK, "{name:?}: {}", message());
        let mut lr = -1.0;
        // SAFETY: as above.
        assert_eq!(
            unsafe { lrk_scheduler_lr_at(&*s, 0, 7, &mut lr) },
            LRK_OK,
            "{name:?}: {}",
            message()
        );
        assert!(lr >= 0.0, "{name:?}");
    }
    let mut s = storage();
    let mut g = [group(0.1)];
    // SAFETY: as above.
    assert_eq!(
        unsafe {
            lrk_scheduler_build(
                &mut *s,
                g.as_mut_ptr(),
                1,
                c"NoSuchLR".as_ptr(),
                core::ptr::null(),
                0,
            )
        },
        LRK_ERR_UNKNOWN_SCHEDULE
    );
}

#[test]
fn sequential_closed_form_and_composite_agree_with_join() {
    let _l = SERIAL.lock().unwrap();
    let mut kids: Box<[SchedulerStorage; 2]> = unsafe { Box::new(core::mem::zeroed()) };
    let mut g = [group(0.1), group(0.1)];
    let k = kids.as_mut_ptr();
    // SAFETY: valid storages and groups.
    unsafe {
        assert_eq!(lrk_linear_lr_init(k, g.as_mut_ptr(), 2, 0.1, 1.0, 3, -1), LRK_OK);
        assert_eq!(lrk_cosine_annealing_lr_init(k.add(1), g.as_mut_ptr(), 2, 27, 0.0, -1), LRK_OK);
    }
    let mut rg = [sched_core::ParamGroup::new(0.1).with_momentum(0.9); 2];
    let join = sched_core::Join::new(
        sched_core::LinearLr::new(
            sched_core::LinearLrConfig {
                start_factor: 0.1,
                end_factor: 1.0,
                total_iters: 3,
                last_epoch: -1,
            },
            &mut rg,
        )
        .unwrap(),
        3,
        sched_core::CosineAnnealingLr::new(sched_core::CosineAnnealingLrConfig::new(27), &mut rg)
            .unwrap(),
    );
    let ms = [3u64];
    let mut seq = storage();
    // SAFETY: children built on `g`, disjoint from `seq`.
    assert_eq!(
        unsafe { lrk_sequential_lr_init(&mut *seq, g.as_mut_ptr(), 2, k, 2, ms.as_ptr(), 1, -1) },
        LRK_OK
    );
    for epoch in 0..30 {
        let (mut a, mut b, mut c) = (0.0f32, 0.0f64, 0.0f32);
        // SAFETY: as above.
        unsafe {
            assert_eq!(lrk_sequential_lr_at_f32(k, 2, ms.as_ptr(), 0, epoch, &mut a), LRK_OK);
            assert_eq!(lrk_sequential_lr_at(k, 2, ms.as_ptr(), 0, epoch, &mut b), LRK_OK);
            assert_eq!(lrk_scheduler_lr_at_f32(&*seq, 0, epoch, &mut c), LRK_OK);
        }
        assert_eq!(a, sched_core::ClosedForm::lr_at_f32(&join, 0, epoch).unwrap());
        assert_eq!(b, sched_core::ClosedForm::lr_at(&join, 0, epoch).unwrap());
        assert_eq!(c, a);
    }
}

#[test]
fn early_stopping_and_inject() {
    let _l = SERIAL.lock().unwrap();
    // SAFETY: zeroed bytes are valid storage.
    let mut e: EarlyStoppingStorage = unsafe { core::mem::zeroed() };
    // SAFETY: valid storage.
    assert_eq!(unsafe { lrk_early_stopping_init(&mut e, 0, 0, 0.0) }, LRK_ERR_SCHEDULE);
    assert_eq!(message(), "lrk_early_stopping_init: `patience` must be positive, got 0");
    assert_eq!(unsafe { lrk_early_stopping_init(&mut e, 2, 1, 0.0) }, LRK_ERR_INVALID_ARGUMENT);
    assert_eq!(unsafe { lrk_early_stopping_init(&mut e, LRK_MODE_MIN_, 2, 0.0) }, LRK_OK);
    let mut stop = 9u8;
    for (i, m) in [1.0, 0.5, 0.6, 0.7].into_iter().enumerate() {
        // SAFETY: valid storage and output.
        assert_eq!(unsafe { lrk_early_stopping_update(&mut e, m, &mut stop) }, LRK_OK);
        assert_eq!(stop, u8::from(i == 3));
    }
    let (mut best, mut should) = (0u64, 0u8);
    // SAFETY: as above.
    assert_eq!(unsafe { lrk_early_stopping_state(&e, &mut best, &mut should) }, LRK_OK);
    assert_eq!((best, should), (2, 1));
    let g = [ParamGroupC { lr: 0.05, momentum: 0.8, has_momentum: 1, ..ParamGroupC::default() }];
    let mut c = [SgdConfigC { lr: 0.1, momentum: 0.9, ..SgdConfigC::default() }];
    // SAFETY: valid arrays.
    assert_eq!(unsafe { lrk_inject_hyperparams(g.as_ptr(), c.as_mut_ptr(), 1) }, LRK_OK);
    assert_eq!((c[0].lr, c[0].momentum), (0.05, 0.8));
    let bad = [ParamGroupC { lr: -1.0, ..g[0] }];
    assert_eq!(
        unsafe { lrk_inject_hyperparams(bad.as_ptr(), c.as_mut_ptr(), 1) },
        LRK_ERR_INVALID_CONFIG
    );
    assert_eq!((c[0].lr, c[0].momentum), (0.05, 0.8));
}
const LRK_MODE_MIN_: u32 = 0;

#[test]
fn sgd_step_matches_sgd_cpu_and_rejects_without_writing() {
    let _l = SERIAL.lock().unwrap();
    let grad: Vec<f32> = (0..37u8).map(|i| (f32::from(i) - 18.0) * 0.01).collect();
    let mut p: Vec<f32> = (0..37u8).map(|i| f32::from(i) * 0.1).collect();
    let mut m = vec![0.0f32; 37];
    let mut init = 0u8;
    let config = SgdConfigC { lr: 0.1, momentum: 0.9, weight_decay: 1e-3, ..SgdConfigC::default() };
    let (mut rp, mut rm, mut rinit) = (p.clone(), m.clone(), false);
    for _ in 0..3 {
        let t = [TensorC {
            param: p.as_mut_ptr(),
            grad: grad.as_ptr(),
            momentum_buffer: m.as_mut_ptr(),
            initialized: &mut init,
            numel: 37,
        }];
        let gs = [GroupC { config, tensors: t.as_ptr(), n_tensors: 1 }];
        // SAFETY: valid, disjoint arrays.
        assert_eq!(unsafe { lrk_sgd_step(gs.as_ptr(), 1, core::ptr::null(), 0) }, LRK_OK);
        let mut slots =
            [sgd_cpu::TensorSlot::with_momentum(&mut rp, Some(&grad), &mut rm, &mut rinit)];
        let mut groups = [sgd_cpu::TensorGroup { config: config_of(config), tensors: &mut slots }];
        sgd_cpu::fused_step(&mut groups, &sgd_cpu::StepOptions::default()).unwrap();
    }
    assert_eq!(init, 1);
    assert!(p.iter().zip(&rp).all(|(a, b)| a.to_bits() == b.to_bits()));
    assert!(m.iter().zip(&rm).all(|(a, b)| a.to_bits() == b.to_bits()));
    // Rejected: the buffer overlaps the parameter; a bad lr; a missing buffer. Nothing written.
    let snapshot = (p.clone(), m.clone(), init);
    let t = [TensorC {
        param: p.as_mut_ptr(),
        grad: grad.as_ptr(),
        momentum_buffer: unsafe { p.as_mut_ptr().add(3) },
        initialized: &mut init,
        numel: 30,
    }];
    let gs = [GroupC { config, tensors: t.as_ptr(), n_tensors: 1 }];
    // SAFETY: the overlap is checked before any write.
    assert_eq!(unsafe { lrk_sgd_step(gs.as_ptr(), 1, core::ptr::null(), 0) }, LRK_ERR_OVERLAP);
    assert_eq!(message(), "lrk_sgd_step: a written region overlaps another region of the call");
    let t = [TensorC {
        param: p.as_mut_ptr(),
        grad: grad.as_ptr(),
        momentum_buffer: m.as_mut_ptr(),
        initialized: &mut init,
        numel: 37,
    }];
    let gs =
        [GroupC { config: SgdConfigC { lr: -0.1, ..config }, tensors: t.as_ptr(), n_tensors: 1 }];
    // SAFETY: valid arrays.
    assert_eq!(
        unsafe { lrk_sgd_step(gs.as_ptr(), 1, core::ptr::null(), 0) },
        LRK_ERR_INVALID_CONFIG
    );
    let t = [TensorC {
        param: p.as_mut_ptr(),
        grad: grad.as_ptr(),
        momentum_buffer: core::ptr::null_mut(),
        initialized: core::ptr::null_mut(),
        numel: 37,
    }];
    let gs = [GroupC { config, tensors: t.as_ptr(), n_tensors: 1 }];
    // SAFETY: valid arrays.
    assert_eq!(
        unsafe { lrk_sgd_step(gs.as_ptr(), 1, core::ptr::null(), 0) },
        LRK_ERR_MISSING_MOMENTUM_BUFFER
    );
    assert_eq!((p.clone(), m.clone(), init), snapshot);
    // found_inf: validated, skipped.
    let t = [TensorC {
        param: p.as_mut_ptr(),
        grad: grad.as_ptr(),
        momentum_buffer: m.as_mut_ptr(),
        initialized: &mut init,
        numel: 37,
    }];
    let gs = [GroupC { config, tensors: t.as_ptr(), n_tensors: 1 }];
    // SAFETY: valid arrays.
    assert_eq!(
        unsafe { lrk_sgd_step(gs.as_ptr(), 1, core::ptr::null(), 1) },
        LRK_SKIPPED_FOUND_INF
    );
    assert_eq!((p.clone(), m.clone(), init), snapshot);
}

fn config_of(c: SgdConfigC) -> sgd_cpu::SgdConfig {
    c.into()
}

#[test]
fn typed_step_in_f64_and_bf16() {
    let _l = SERIAL.lock().unwrap();
    let config = SgdConfigC { lr: 0.5, ..SgdConfigC::default() };
    let mut p64 = [1.0f64, 2.0];
    let g64 = [0.5f64, -1.0];
    let mut pb = [0x3f80u16, 0x4000]; // bf16 1.0, 2.0
    let gb = [0x3f00u16, 0xbf80]; // 0.5, -1.0
    let t = [
        TypedTensorC {
            param: p64.as_mut_ptr().cast(),
            grad: g64.as_ptr().cast(),
            momentum_buffer: core::ptr::null_mut(),
            master: core::ptr::null_mut(),
            initialized: core::ptr::null_mut(),
            numel: 2,
            master_numel: 0,
            param_dtype: 1,
            grad_dtype: 1,
            buffer_dtype: 1,
            rounding: 0,
        },
        TypedTensorC {
            param: pb.as_mut_ptr().cast(),
            grad: gb.as_ptr().cast(),
            momentum_buffer: core::ptr::null_mut(),
            master: core::ptr::null_mut(),
            initialized: core::ptr::null_mut(),
            numel: 2,
            master_numel: 0,
            param_dtype: 2,
            grad_dtype: 2,
            buffer_dtype: 2,
            rounding: 0,
        },
    ];
    let gs = [TypedGroupC { config, tensors: t.as_ptr(), n_tensors: 2 }];
    // SAFETY: valid, disjoint arrays.
    assert_eq!(
        unsafe { lrk_sgd_step_typed(gs.as_ptr(), 1, core::ptr::null(), 0, 0, 0) },
        LRK_OK,
        "{}",
        message()
    );
    assert_eq!(p64, [0.75, 2.5]);
    assert_eq!(pb, [0x3f40, 0x4020]); // 0.75, 2.5
    let bad = [TypedTensorC { grad_dtype: 3, ..t[1] }]; // bf16 param, f16 grad
    let gs = [TypedGroupC { config, tensors: bad.as_ptr(), n_tensors: 1 }];
    // SAFETY: valid arrays (the dtype mismatch is refused before any write).
    assert_eq!(
        unsafe { lrk_sgd_step_typed(gs.as_ptr(), 1, core::ptr::null(), 0, 0, 0) },
        LRK_ERR_DTYPE
    );
    assert_eq!(pb, [0x3f40, 0x4020]);
}

#[test]
fn header_is_plain_c99_and_cxx() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/");
    for (lang, std) in [("c", "-std=c99"), ("c++", "-std=c++11")] {
        let out = std::process::Command::new("cc")
            .args(["-x", lang, std, "-Wall", "-Wextra", "-Werror", "-fsyntax-only"])
            .args(if lang == "c" { &["-pedantic-errors"][..] } else { &[][..] })
            .arg(format!("-I{dir}include"))
            .arg(format!("{dir}tests/header.c"))
            .output()
            .expect("a C compiler `cc` (the header test needs one)");
        assert!(out.status.success(), "{lang}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

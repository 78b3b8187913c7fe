//! The C ABI against the Rust API: same bits, typed status codes, nothing written on error.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// tests: a failed unwrap is a failed test.
// Test data: a pseudo-random u32 rounded to the nearest f32 (deterministic; any nearby value
// would do), small indices as f32 (exact).
#![allow(clippy::cast_precision_loss)]
use core::ffi::CStr;
use core::ptr;

use sgd_cpu::{
    Backend, Bf16, Rounding, SgdConfig, StepOptions, TensorGroup, TensorRef, TensorSlot,
    TypedGroup, TypedSlot, TypedStepOptions, fused_step, typed_step,
};
use sgd_cpu_capi::{
    SgdConfigC, SgdGroupC, SgdStatus, SgdTensorC, sgd_backend_name, sgd_last_error_message,
    sgd_pool_free, sgd_pool_new, sgd_pool_threads, sgd_step,
};

/// Deterministic values with a spread of magnitudes and signs.
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

fn config_c(c: SgdConfig) -> SgdConfigC {
    SgdConfigC::from(c)
}

/// The message of the last error on this thread.
fn last_message() -> String {
    let mut buf = [0u8; 512];
    // SAFETY: `buf` is valid for its length.
    let n = unsafe { sgd_last_error_message(buf.as_mut_ptr(), buf.len()) };
    assert!(n < buf.len());
    CStr::from_bytes_until_nul(&buf).unwrap().to_str().unwrap().to_owned()
}

/// One model: per tensor (group, numel, has grad).
struct Model {
    configs: Vec<SgdConfig>,
    shape: Vec<(usize, usize, bool)>,
    params: Vec<Vec<f32>>,
    grads: Vec<Vec<f32>>,
    bufs: Vec<Vec<f32>>,
    init: Vec<u8>,
}

impl Model {
    fn new() -> Self {
        let configs = vec![
            SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() },
            SgdConfig {
                lr: 0.05,
                momentum: 0.8,
                weight_decay: 0.01,
                nesterov: true,
                ..SgdConfig::default()
            },
            SgdConfig { lr: 0.2, weight_decay: 0.1, maximize: true, ..SgdConfig::default() },
            SgdConfig {
                lr: 0.01,
                momentum: 0.5,
                dampening: 0.3,
                maximize: true,
                ..SgdConfig::default()
            },
        ];
        let shape = vec![
            (0, 1000, true),
            (0, 0, true),
            (0, 77, false),
            (1, 4099, true),
            (1, 16, true),
            (2, 333, true),
            (3, 300_000, true),
        ];
        let params =
            shape.iter().enumerate().map(|(i, s)| values(s.1, u32::try_from(i).unwrap())).collect();
        let grads = shape
            .iter()
            .enumerate()
            .map(|(i, s)| values(s.1, 100 + u32::try_from(i).unwrap()))
            .collect();
        let bufs = shape.iter().map(|s| vec![0.0; s.1]).collect();
        let init = vec![0; shape.len()];
        Model { configs, shape, params, grads, bufs, init }
    }

    /// One step through the Rust API.
    fn step_rust(&mut self, opts: &StepOptions) {
        let mut flags: Vec<bool> = self.init.iter().map(|&b| b != 0).collect();
        let mut slots: Vec<Vec<TensorSlot<'_>>> = self.configs.iter().map(|_| Vec::new()).collect();
        let items =
            self.params.iter_mut().zip(&self.grads).zip(self.bufs.iter_mut()).zip(flags.iter_mut());
        for ((((p, g), b), f), &(group, _, has_grad)) in items.zip(&self.shape) {
            let grad = has_grad.then_some(&g[..]);
            let slot = if self.configs[group].momentum != 0.0 {
                TensorSlot::with_momentum(p, grad, b, f)
            } else {
                TensorSlot::new(p, grad)
            };
            slots[group].push(slot);
        }
        let mut groups: Vec<TensorGroup<'_, '_>> = self
            .configs
            .iter()
            .zip(slots.iter_mut())
            .map(|(c, s)| TensorGroup { config: *c, tensors: s })
            .collect();
        fused_step(&mut groups, opts).unwrap();
        drop(groups);
        drop(slots);
        self.init = flags.iter().map(|&f| f.into()).collect();
    }

    /// The C description of this model (pointers into it).
    fn tensors_c(&mut self) -> Vec<Vec<SgdTensorC>> {
        let mut lists: Vec<Vec<SgdTensorC>> = self.configs.iter().map(|_| Vec::new()).collect();
        for (i, &(group, numel, has_grad)) in self.shape.iter().enumerate() {
            let momentum = self.configs[group].momentum != 0.0;
            lists[group].push(SgdTensorC {
                param: self.params[i].as_mut_ptr(),
                grad: if has_grad { self.grads[i].as_ptr() } else { ptr::null() },
                momentum_buffer: if momentum { self.bufs[i].as_mut_ptr() } else { ptr::null_mut() },
                initialized: if momentum {
                    self.init.as_mut_ptr().wrapping_add(i)
                } else {
                    ptr::null_mut()
                },
                numel,
            });
        }
        lists
    }

    fn groups_c(&self, lists: &[Vec<SgdTensorC>]) -> Vec<SgdGroupC> {
        self.configs
            .iter()
            .zip(lists)
            .map(|(c, l)| SgdGroupC {
                config: config_c(*c),
                tensors: l.as_ptr(),
                n_tensors: l.len(),
            })
            .collect()
    }

    /// One step through the C ABI.
    fn step_c(&mut self, pool: *const sgd_cpu_capi::SgdPool, grad_scale: Option<f32>) -> i32 {
        let lists = self.tensors_c();
        let groups = self.groups_c(&lists);
        let scale = grad_scale.as_ref().map_or(ptr::null(), |s| s as *const f32);
        // SAFETY: every pointer points into this model, alive for the call.
        unsafe { sgd_step(pool, groups.as_ptr(), groups.len(), scale, 0) }
    }

    fn state(&self) -> Vec<Vec<u32>> {
        let bits = |v: &Vec<f32>| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
        let mut s: Vec<Vec<u32>> = self.params.iter().map(bits).collect();
        s.extend(self.bufs.iter().map(bits));
        s.push(self.init.iter().map(|&b| b.into()).collect());
        s
    }
}

#[test]
fn c_steps_match_rust_bit_for_bit_on_one_and_two_threads() {
    let pool = sgd_pool_new(2);
    assert!(!pool.is_null());
    // SAFETY: a live pool.
    assert_eq!(unsafe { sgd_pool_threads(pool) }, 2);
    for (pool, scale) in
        [(ptr::null(), None), (pool.cast_const(), None), (pool.cast_const(), Some(1024.0f32))]
    {
        let mut rust = Model::new();
        let mut c = Model::new();
        for step in 0..3 {
            rust.step_rust(&StepOptions { grad_scale: scale, ..StepOptions::default() });
            assert_eq!(c.step_c(pool, scale), SgdStatus::Ok as i32, "{}", last_message());
            assert_eq!(last_message(), "");
            assert!(rust.state() == c.state(), "step {step}: C and Rust differ");
        }
        // The first step initialised the flags of the tensors with a gradient and momentum.
        assert_eq!(c.init, vec![1, 1, 0, 1, 1, 0, 1]);
        assert_eq!(c.bufs[2], vec![0.0; 77], "a tensor without gradient is untouched");
    }
    // SAFETY: created above, freed once; null is ignored.
    unsafe {
        sgd_pool_free(pool);
        sgd_pool_free(ptr::null_mut());
        assert_eq!(sgd_pool_threads(ptr::null()), 0);
    }
}

/// Runs `break_it` on the C description of a fresh model, steps, and checks the status,
/// that the message contains `needle`, and that nothing was written.
fn rejects(
    status: SgdStatus,
    needle: &str,
    break_it: impl FnOnce(&mut Vec<Vec<SgdTensorC>>, &mut Vec<SgdGroupC>),
) {
    let mut m = Model::new();
    let before = m.state();
    let mut lists = m.tensors_c();
    let mut groups = m.groups_c(&lists);
    break_it(&mut lists, &mut groups);
    for (g, l) in groups.iter_mut().zip(&lists) {
        if !g.tensors.is_null() {
            g.tensors = l.as_ptr();
        }
    }
    // SAFETY: pointers into `m` or deliberately broken in ways the step must detect.
    let got = unsafe { sgd_step(ptr::null(), groups.as_ptr(), groups.len(), ptr::null(), 0) };
    let message = last_message();
    assert_eq!(got, status as i32, "{message}");
    assert!(message.contains(needle), "message {message:?} lacks {needle:?}");
    assert!(m.state() == before, "{message}: something was written");
}

#[test]
fn bad_input_gets_a_status_a_message_naming_it_and_writes_nothing() {
    rejects(SgdStatus::InvalidConfig, "Invalid learning rate: -0.5 (group 2", |_, g| {
        g[2].config.lr = -0.5
    });
    rejects(SgdStatus::InvalidConfig, "Invalid momentum value: NaN (group 1", |_, g| {
        g[1].config.momentum = f64::NAN
    });
    rejects(SgdStatus::NullPointer, "param of tensor 4 (group 1)", |l, _| {
        l[1][1].param = ptr::null_mut()
    });
    rejects(SgdStatus::NullPointer, "initialized of tensor 0 (group 0)", |l, _| {
        l[0][0].initialized = ptr::null_mut()
    });
    rejects(SgdStatus::NullPointer, "tensors (group 3)", |_, g| g[3].tensors = ptr::null());
    rejects(SgdStatus::Misaligned, "grad at 0x", |l, _| {
        l[1][0].grad = l[1][0].grad.cast::<u8>().wrapping_add(2).cast();
    });
    rejects(SgdStatus::TooLarge, "tensor 5: numel 2305843009213693952", |l, _| {
        l[2][0].numel = 1 << 61
    });
    rejects(SgdStatus::Overlap, "tensor 0 param overlaps tensor 0 momentum_buffer", |l, _| {
        l[0][0].momentum_buffer = l[0][0].param.wrapping_add(999);
    });
    rejects(SgdStatus::Overlap, "tensor 5 param overlaps tensor 5 grad", |l, _| {
        l[2][0].grad = l[2][0].param;
    });
    rejects(SgdStatus::Overlap, "the tensors argument overlaps tensor 3 param", |l, _| {
        // A parameter placed over the tensor table itself.
        l[1][0].param = l[1].as_mut_ptr().cast();
        l[1][0].numel = 4;
    });
    rejects(SgdStatus::TooLarge, "tensors: count 1152921504606846976 is too large", |_, g| {
        g[1].n_tensors = 1 << 60
    });
    rejects(SgdStatus::Misaligned, "param at 0x", |l, _| {
        l[3][0].param = l[3][0].param.cast::<u8>().wrapping_add(1).cast();
    });
    rejects(SgdStatus::Misaligned, "momentum_buffer at 0x", |l, _| {
        l[0][0].momentum_buffer = l[0][0].momentum_buffer.cast::<u8>().wrapping_add(2).cast();
    });
    rejects(
        SgdStatus::Overlap,
        "tensor 0 momentum_buffer overlaps tensor 0 initialized",
        |l, _| {
            l[0][0].initialized = l[0][0].momentum_buffer.cast::<u8>().wrapping_add(5);
        },
    );
    rejects(SgdStatus::Overlap, "the groups argument overlaps tensor 3 param", |l, g| {
        l[1][0].param = g.as_mut_ptr().cast();
        l[1][0].numel = 4;
    });
    rejects(SgdStatus::TooLarge, "tensor 0: numel 8 is too large", |l, _| {
        // A region that would wrap around the address space.
        l[0][0].param = (usize::MAX - 15) as *mut f32;
        l[0][0].numel = 8;
    });
    rejects(SgdStatus::MissingMomentumBuffer, "tensor 6: the group has momentum", |l, _| {
        l[3][0].momentum_buffer = ptr::null_mut()
    });
}

#[test]
fn null_groups_grad_scale_and_found_inf() {
    // SAFETY: a null group list with a non-zero count must be detected.
    let status = unsafe { sgd_step(ptr::null(), ptr::null(), 3, ptr::null(), 0) };
    assert_eq!(status, SgdStatus::NullPointer as i32);
    assert_eq!(last_message(), "null pointer: groups");
    // SAFETY: zero groups: nothing to read.
    assert_eq!(unsafe { sgd_step(ptr::null(), ptr::null(), 0, ptr::null(), 0) }, 0);

    let mut m = Model::new();
    let before = m.state();
    let lists = m.tensors_c();
    let groups = m.groups_c(&lists);
    for bad in [0.0f32, f32::NAN, f32::INFINITY] {
        // SAFETY: pointers into `m`; `bad` lives for the call.
        let status = unsafe { sgd_step(ptr::null(), groups.as_ptr(), groups.len(), &bad, 0) };
        assert_eq!(status, SgdStatus::InvalidGradScale as i32);
        assert!(last_message().contains("invalid gradient scale"));
    }
    // SAFETY: as above.
    let status = unsafe { sgd_step(ptr::null(), groups.as_ptr(), groups.len(), ptr::null(), 1) };
    assert_eq!(status, SgdStatus::SkippedFoundInf as i32);
    assert!(m.state() == before, "found_inf wrote something");
    // Validation still comes first with found_inf, on the pool path too.
    let mut bad = groups.clone();
    bad[0].config.lr = -1.0;
    let pool = sgd_pool_new(2);
    // SAFETY: as above; `pool` is live until freed below.
    unsafe {
        for p in [ptr::null(), pool.cast_const()] {
            let status = sgd_step(p, bad.as_ptr(), bad.len(), ptr::null(), 1);
            assert_eq!(status, SgdStatus::InvalidConfig as i32);
            let status = sgd_step(p, groups.as_ptr(), groups.len(), ptr::null(), 1);
            assert_eq!(status, SgdStatus::SkippedFoundInf as i32);
        }
        sgd_pool_free(pool);
    }
    assert!(m.state() == before, "found_inf wrote something");
}

#[test]
fn shared_gradients_are_allowed_and_messages_truncate_like_snprintf() {
    let mut m = Model::new();
    let mut lists = m.tensors_c();
    // Two tensors reading the same gradient memory: reads may share.
    lists[1][1].grad = lists[0][0].grad;
    let groups = m.groups_c(&lists);
    // SAFETY: pointers into `m`; the shared gradient is only read.
    let status = unsafe { sgd_step(ptr::null(), groups.as_ptr(), groups.len(), ptr::null(), 0) };
    assert_eq!(status, 0, "{}", last_message());
    // The same step in Rust, tensor 4 reading the first 16 gradient values of tensor 0.
    let mut rust = Model::new();
    let shared: Vec<f32> = rust.grads[0][..16].to_vec();
    rust.grads[4] = shared;
    rust.step_rust(&StepOptions::default());
    assert!(rust.state() == m.state(), "shared-gradient step differs from Rust");

    let mut g = groups.clone();
    g[0].config.lr = f64::INFINITY;
    // SAFETY: as above.
    let status = unsafe { sgd_step(ptr::null(), g.as_ptr(), g.len(), ptr::null(), 0) };
    assert_eq!(status, SgdStatus::InvalidConfig as i32);
    let full = last_message();
    let mut small = [0xffu8; 8];
    // SAFETY: `small` is valid for 8 bytes; a null buffer is allowed.
    let (n, n_null) = unsafe {
        (
            sgd_last_error_message(small.as_mut_ptr(), small.len()),
            sgd_last_error_message(ptr::null_mut(), 0),
        )
    };
    assert_eq!((n, n_null), (full.len(), full.len()));
    assert_eq!(&small[..7], &full.as_bytes()[..7]);
    assert_eq!(small[7], 0);
}

#[test]
fn misaligned_arrays_and_a_grad_scale_under_a_parameter_are_rejected() {
    let mut m = Model::new();
    let before = m.state();
    let lists = m.tensors_c();
    let groups = m.groups_c(&lists);
    // The groups array at an address 4 bytes past its alignment.
    let mut raw = vec![0u8; size_of_val(&groups[..]) + 8];
    let at = raw.as_mut_ptr().align_offset(align_of::<SgdGroupC>()) + 4;
    // SAFETY: `raw` has room for the copy at `at`; the bytes are only read through the call,
    // which must refuse the misaligned pointer before reading them.
    let status = unsafe {
        let dst = raw.as_mut_ptr().add(at);
        ptr::copy_nonoverlapping(groups.as_ptr().cast::<u8>(), dst, size_of_val(&groups[..]));
        sgd_step(ptr::null(), dst.cast(), groups.len(), ptr::null(), 0)
    };
    assert_eq!(status, SgdStatus::Misaligned as i32);
    assert!(last_message().starts_with("groups at 0x"), "{}", last_message());
    // A grad_scale that lives inside a parameter (written by the step).
    let scale = lists[0][0].param.cast_const();
    // SAFETY: pointers into `m`; the overlap must be refused before anything is written.
    let status = unsafe { sgd_step(ptr::null(), groups.as_ptr(), groups.len(), scale, 0) };
    assert_eq!(status, SgdStatus::Overlap as i32);
    assert!(last_message().contains("the grad_scale argument"), "{}", last_message());
    assert!(m.state() == before);
}

#[test]
fn backend_name_is_the_active_backend() {
    // SAFETY: a static NUL-terminated string.
    let name = unsafe { CStr::from_ptr(sgd_backend_name()) }.to_str().unwrap();
    assert_eq!(name, Backend::active().name());
}

/// Compiles `examples/c_step.c` against the header and the cdylib of this build, runs it, and
/// compares its struct layout and every output bit with the Rust API.
#[test]
fn c_program_matches_rust() {
    let Some(cc) = ["cc", "gcc", "clang"].into_iter().find(|c| {
        std::process::Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success())
    }) else {
        println!("skipped: no C compiler (cc, gcc, clang) on PATH");
        return;
    };
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|d| d.parent()).unwrap();
    let lib = profile_dir.join(format!(
        "{}sgd_cpu_capi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    if !lib.exists() {
        println!("skipped: {} not built", lib.display());
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::temp_dir().join(format!("sgd_c_step_{}", std::process::id()));
    let build = std::process::Command::new(cc)
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror"])
        .arg(root.join("examples/c_step.c"))
        .arg(format!("-I{}", root.join("include").display()))
        .arg(format!("-L{}", profile_dir.display()))
        .arg("-lsgd_cpu_capi")
        .arg(format!("-Wl,-rpath,{}", profile_dir.display()))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));
    let run = std::process::Command::new(&out).output().unwrap();
    let _ = std::fs::remove_file(&out);
    assert!(run.status.success());
    let text = String::from_utf8(run.stdout).unwrap();
    let mut lines = text.lines();
    let layout = format!(
        "layout {} {} {} {} {}",
        size_of::<SgdConfigC>(),
        size_of::<SgdTensorC>(),
        size_of::<SgdGroupC>(),
        std::mem::offset_of!(SgdTensorC, numel),
        std::mem::offset_of!(SgdGroupC, n_tensors)
    );
    assert_eq!(lines.next(), Some(layout.as_str()));

    // The same program in Rust.
    const N: usize = 37;
    let mut w0: Vec<f32> = (0..N).map(|i| 1.0 + 0.01 * i as f32).collect();
    let g0: Vec<f32> = (0..N).map(|i| 0.5 - 0.03 * i as f32).collect();
    let mut w1: Vec<f32> = (0..N).map(|i| -2.0 + 0.07 * i as f32).collect();
    let g1: Vec<f32> = (0..N).map(|i| 0.25 * (i % 5) as f32 - 0.4).collect();
    let mut b0 = vec![0.0f32; N];
    let mut init0 = false;
    let hex = |name: &str, x: &[f32]| {
        let mut s = name.to_owned();
        for v in x {
            s += &format!(" {:08x}", v.to_bits());
        }
        s
    };
    for step in 0..3 {
        let c0 = SgdConfig {
            lr: 0.1 / (step + 1) as f64,
            momentum: 0.9,
            weight_decay: 1e-4,
            nesterov: true,
            ..SgdConfig::default()
        };
        let c1 = SgdConfig { lr: 0.05, maximize: true, ..SgdConfig::default() };
        let mut t0 = [TensorSlot::with_momentum(&mut w0, Some(&g0), &mut b0, &mut init0)];
        let mut t1 = [TensorSlot::new(&mut w1, Some(&g1))];
        let mut groups = [
            TensorGroup { config: c0, tensors: &mut t0 },
            TensorGroup { config: c1, tensors: &mut t1 },
        ];
        fused_step(&mut groups, &StepOptions::default()).unwrap();
        assert_eq!(lines.next(), Some("status 0 init 1"));
        assert_eq!(lines.next(), Some(hex("w0", &w0).as_str()), "step {step}");
        assert_eq!(lines.next(), Some(hex("b0", &b0).as_str()), "step {step}");
        assert_eq!(lines.next(), Some(hex("w1", &w1).as_str()), "step {step}");
    }
    assert_eq!(lines.next(), Some("error -10 Invalid learning rate: -1 (group 1; must be >= 0)"));
    assert_eq!(lines.next(), Some(format!("backend {}", Backend::active().name()).as_str()));

    // The typed part: bf16 with an f32 master, stochastic rounding, through typed_step.
    let mut master: Vec<f32> =
        (0..N).map(|i| f32::from_bits((1.0 + 0.01 * i as f32).to_bits() & 0xffff_0000)).collect();
    let mut wb: Vec<Bf16> = master.iter().map(|m| Bf16((m.to_bits() >> 16) as u16)).collect();
    let gb: Vec<Bf16> =
        (0..N).map(|i| Bf16(((0.5 - 0.03 * i as f32).to_bits() >> 16) as u16)).collect();
    let mut mbuf = [0.0f32; N];
    let mut initb = false;
    for step in 0..2 {
        let config = SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() };
        let mut slots = [TypedSlot::new(&mut wb[..], Some(TensorRef::Bf16(&gb)))
            .with_master(&mut master)
            .with_momentum(&mut mbuf[..], &mut initb)
            .with_rounding(Rounding::Stochastic)];
        let opts = TypedStepOptions { seed: 1234, step, ..TypedStepOptions::default() };
        typed_step(&mut [TypedGroup { config, tensors: &mut slots }], &opts).unwrap();
        let mut line = String::from("typed 0");
        for w in &wb {
            line += &format!(" {:04x}", w.0);
        }
        assert_eq!(lines.next(), Some(line.as_str()), "typed step {step}");
        assert_eq!(lines.next(), Some(hex("master", &master).as_str()), "typed step {step}");
    }
    assert_eq!(lines.next(), None);
}

//! Backends: the scalar reference and the SIMD kernels ([`Backend`]), chosen once at run time,
//! and [`Kernel`], a backend checked to be available.

pub(crate) mod half;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub(crate) mod half_lanes;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub(crate) mod lanes;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub(crate) mod sr_lanes;
pub(crate) mod wide;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub(crate) mod wide_lanes;

#[cfg(all(feature = "arm-vfma", not(feature = "std"), target_arch = "arm", target_abi = "eabihf"))]
mod arm_vfma;
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512;
#[cfg(target_arch = "aarch64")]
pub(crate) mod neon;

use core::fmt;

use crate::scalar::MomentumBuffer;
use crate::step::Piece;
use crate::typed::TypedPiece;
use crate::{Prefetch, SgdError, StepScalars, scalar};

/// An implementation of the update kernel.
///
/// | backend | ISA | lanes | chosen when |
/// |---|---|---|---|
/// | [`Backend::Avx512`] | x86_64 AVX-512F | 16 | detected (`is_x86_feature_detected!`), or compiled in without `std` |
/// | [`Backend::Avx2`] | x86_64 AVX2 + FMA | 8 | detected, or compiled in without `std` |
/// | [`Backend::Neon`] | aarch64 NEON | 4 | always on aarch64 (NEON is part of the base ISA) |
/// | [`Backend::Scalar`] | any | 1 | otherwise; the specification ([`crate::scalar`]) |
///
/// On 32-bit Arm with the `arm-vfma` feature (and without `std`), the scalar backend runs the
/// common configurations as Thumb-2 assembly loops with the FPU's `vfma.f32`, the reference's
/// operations in its order.
///
/// With `std` the choice is made once per process and cached in an atomic
/// ([`Backend::active`]); the environment variable `SGD_CPU_BACKEND` (`scalar`, `avx2`,
/// `avx512`, `neon`) overrides it when it names an available backend. Every step function also
/// takes an explicit backend, which is how tests and benches force one.
/// Every backend produces the same bits as the scalar reference for every non-NaN result
/// (and a NaN wherever the reference has one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// The portable scalar reference ([`crate::scalar::sgd_update`]).
    Scalar,
    /// x86_64 AVX2 + FMA, 8 lanes.
    Avx2,
    /// x86_64 AVX-512F, 16 lanes.
    Avx512,
    /// aarch64 NEON, 4 lanes.
    Neon,
}

impl Backend {
    /// Every backend this crate knows, slowest first.
    pub const ALL: [Backend; 4] = [Backend::Scalar, Backend::Neon, Backend::Avx2, Backend::Avx512];

    /// Lower-case name (`"scalar"`, `"avx2"`, `"avx512"`, `"neon"`), as `SGD_CPU_BACKEND` takes.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Scalar => "scalar",
            Backend::Avx2 => "avx2",
            Backend::Avx512 => "avx512",
            Backend::Neon => "neon",
        }
    }

    /// The backend called `name` (see [`Backend::name`]), if any.
    pub fn from_name(name: &str) -> Option<Backend> {
        Backend::ALL.into_iter().find(|b| b.name() == name)
    }

    /// f32 lanes per vector (1 for the scalar backend).
    pub fn lanes(self) -> usize {
        match self {
            Backend::Scalar => 1,
            Backend::Neon => 4,
            Backend::Avx2 => 8,
            Backend::Avx512 => 16,
        }
    }

    /// Whether this backend can run here (run-time detection with `std`, the compile-time
    /// target features without).
    pub fn is_available(self) -> bool {
        match self {
            Backend::Scalar => true,
            Backend::Avx2 => x86_has_avx2_fma(),
            Backend::Avx512 => x86_has_avx512f(),
            Backend::Neon => aarch64_has_neon(),
        }
    }

    /// The backends that can run here, slowest first (the scalar reference first).
    pub fn available() -> impl Iterator<Item = Backend> {
        Backend::ALL.into_iter().filter(|b| b.is_available())
    }

    /// The fastest available backend.
    pub fn best() -> Backend {
        Backend::available().last().unwrap_or(Backend::Scalar)
    }

    /// The backend the step functions use when none is given: [`Backend::best`], or the one
    /// named by `SGD_CPU_BACKEND` if that is available. Decided once per process (with `std`).
    pub fn active() -> Backend {
        active_cached()
    }

    /// Runs one tensor update on this backend after checking lengths and availability:
    /// `params`, `grads` and the momentum buffer must have equal lengths (reported as tensor 0).
    /// Same contract as [`crate::scalar::sgd_update`]. Prefetches as [`Prefetch::Auto`] decides
    /// for this tensor's working set.
    ///
    /// # Errors
    /// [`SgdError::BackendUnavailable`], [`SgdError::LengthMismatch`],
    /// [`SgdError::MomentumBufferLength`]; nothing is written then.
    pub fn update(
        self,
        s: &StepScalars,
        params: &mut [f32],
        grads: &[f32],
        momentum_buffer: Option<MomentumBuffer<'_>>,
        grad_scale: Option<f32>,
    ) -> Result<(), SgdError> {
        self.update_with(Prefetch::Auto, s, params, grads, momentum_buffer, grad_scale)
    }

    /// [`Backend::update`] with the prefetch mode given (tests run both main loops this way).
    ///
    /// # Errors
    /// As [`Backend::update`].
    pub fn update_with(
        self,
        prefetch: Prefetch,
        s: &StepScalars,
        params: &mut [f32],
        grads: &[f32],
        momentum_buffer: Option<MomentumBuffer<'_>>,
        grad_scale: Option<f32>,
    ) -> Result<(), SgdError> {
        let kernel = Kernel::new(self)?;
        if params.len() != grads.len() {
            return Err(SgdError::LengthMismatch {
                tensor: 0,
                params: params.len(),
                grads: grads.len(),
            });
        }
        if let Some(m) = &momentum_buffer
            && m.values.len() != params.len()
        {
            return Err(SgdError::MomentumBufferLength {
                tensor: 0,
                params: params.len(),
                buffer: m.values.len(),
            });
        }
        let set = Prefetch::working_set(params.len(), momentum_buffer.is_some());
        let piece = Piece { s: *s, param: params, grad: grads, buf: momentum_buffer };
        kernel.with_prefetch(prefetch.applies(set)).run(piece, grad_scale);
        Ok(())
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(all(target_arch = "x86_64", feature = "std"))]
fn x86_has_avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}
#[cfg(all(target_arch = "x86_64", feature = "std"))]
fn x86_has_avx512f() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
}
#[cfg(not(all(target_arch = "x86_64", feature = "std")))]
fn x86_has_avx2_fma() -> bool {
    cfg!(all(target_arch = "x86_64", target_feature = "avx2", target_feature = "fma"))
}
#[cfg(not(all(target_arch = "x86_64", feature = "std")))]
fn x86_has_avx512f() -> bool {
    cfg!(all(target_arch = "x86_64", target_feature = "avx512f"))
}
/// AVX512_BF16 (`vcvtneps2bf16`), for the bf16 kernels of [`Backend::Avx512`].
#[cfg(all(target_arch = "x86_64", feature = "std"))]
fn x86_has_avx512bf16() -> bool {
    std::arch::is_x86_feature_detected!("avx512bf16")
}
#[cfg(all(target_arch = "x86_64", not(feature = "std")))]
fn x86_has_avx512bf16() -> bool {
    cfg!(target_feature = "avx512bf16")
}
/// F16C (`vcvtph2ps`/`vcvtps2ph`), for the f16 kernels of [`Backend::Avx2`].
#[cfg(all(target_arch = "x86_64", feature = "std"))]
fn x86_has_f16c() -> bool {
    std::arch::is_x86_feature_detected!("f16c")
}
#[cfg(all(target_arch = "x86_64", not(feature = "std")))]
fn x86_has_f16c() -> bool {
    cfg!(target_feature = "f16c")
}
#[cfg(all(target_arch = "aarch64", feature = "std"))]
fn aarch64_has_neon() -> bool {
    std::arch::is_aarch64_feature_detected!("neon")
}
#[cfg(not(all(target_arch = "aarch64", feature = "std")))]
fn aarch64_has_neon() -> bool {
    cfg!(all(target_arch = "aarch64", target_feature = "neon"))
}

#[cfg(feature = "std")]
fn active_cached() -> Backend {
    use core::sync::atomic::{AtomicU8, Ordering};
    /// 0 = not decided yet, else 1 + index into `Backend::ALL`.
    static ACTIVE: AtomicU8 = AtomicU8::new(0);
    let code = ACTIVE.load(Ordering::Relaxed);
    if let Some(b) = usize::from(code).checked_sub(1).and_then(|i| Backend::ALL.get(i)) {
        return *b;
    }
    let chosen = std::env::var("SGD_CPU_BACKEND")
        .ok()
        .and_then(|name| Backend::from_name(name.trim()))
        .filter(|b| b.is_available())
        .unwrap_or_else(Backend::best);
    let index = Backend::ALL.iter().position(|b| *b == chosen).unwrap_or(0);
    // Races store the same value: detection is deterministic.
    ACTIVE.store(u8::try_from(index + 1).unwrap_or(1), Ordering::Relaxed);
    chosen
}

#[cfg(not(feature = "std"))]
fn active_cached() -> Backend {
    Backend::best()
}

/// The scalar backend's per-tensor call: the reference loop behind a call boundary, so that the
/// step's flags reach it as plain values. Inlined into a fused step, LLVM at `opt-level = "s"`
/// recomputed `weight_decay != 0.0` (a soft-float f64 compare on a Cortex-M4F) inside the loop,
/// for every element. With feature `arm-vfma` on 32-bit Arm, the common configurations run the
/// reference's operations as an assembly loop (`arm_vfma`).
#[inline(never)]
fn scalar_tensor(piece: Piece<'_>, grad_scale: Option<f32>) {
    let Piece { s, param: params, grad: grads, buf: momentum_buffer } = piece;
    #[cfg(all(
        feature = "arm-vfma",
        not(feature = "std"),
        target_arch = "arm",
        target_abi = "eabihf"
    ))]
    let momentum_buffer = match momentum_buffer {
        // The buffer goes to the assembly loop only when it will run (reborrowed for it).
        Some(MomentumBuffer { values, first_step }) => {
            let reborrowed = Some(MomentumBuffer::new(&mut *values, first_step));
            if arm_vfma::update(&s, params, grads, reborrowed, grad_scale) {
                return;
            }
            Some(MomentumBuffer { values, first_step })
        }
        None => {
            if arm_vfma::update(&s, params, grads, None, grad_scale) {
                return;
            }
            None
        }
    };
    scalar::sgd_update(&s, params, grads, momentum_buffer, grad_scale);
}

/// A backend checked to be available (the only way to reach the `unsafe` SIMD entry points),
/// and whether its main loop prefetches (see [`Prefetch`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Kernel {
    backend: Backend,
    // Read by the SIMD backends only; the scalar loop has no prefetch (targets without SIMD).
    #[cfg_attr(not(any(target_arch = "x86_64", target_arch = "aarch64")), allow(dead_code))]
    prefetch: bool,
    /// The 16-bit kernels may use conversion instructions beyond the backend's base ISA
    /// (AVX512_BF16 with AVX-512, F16C with AVX2) where the CPU has them.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    extensions: bool,
}

impl Kernel {
    /// Checks that `backend` can run here; no prefetching.
    pub(crate) fn new(backend: Backend) -> Result<Kernel, SgdError> {
        if backend.is_available() {
            Ok(Kernel { backend, prefetch: false, extensions: true })
        } else {
            Err(SgdError::BackendUnavailable { backend })
        }
    }

    /// This kernel, prefetching or not.
    pub(crate) fn with_prefetch(self, prefetch: bool) -> Kernel {
        Kernel { prefetch, ..self }
    }

    /// This kernel, using conversion extensions where detected or not (see
    /// [`crate::Conversions`]).
    pub(crate) fn with_extensions(self, extensions: bool) -> Kernel {
        Kernel { extensions, ..self }
    }

    /// The backend this kernel runs.
    pub(crate) fn backend(self) -> Backend {
        self.backend
    }

    /// Updates one tensor (lengths already validated; see [`crate::scalar::sgd_update`]).
    #[inline]
    pub(crate) fn run(self, piece: Piece<'_>, grad_scale: Option<f32>) {
        match self.backend {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Kernel::new` checked that AVX-512F is available.
            Backend::Avx512 => unsafe { avx512::update(piece, grad_scale, self.prefetch) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Kernel::new` checked that AVX2 and FMA are available.
            Backend::Avx2 => unsafe { avx2::update(piece, grad_scale, self.prefetch) },
            #[cfg(target_arch = "aarch64")]
            // SAFETY: `Kernel::new` checked that NEON is available.
            Backend::Neon => unsafe { neon::update(piece, grad_scale, self.prefetch) },
            // The scalar reference (other backends never pass `Kernel::new` on this target).
            _ => scalar_tensor(piece, grad_scale),
        }
    }

    /// Updates one piece of any dtype (lengths and dtypes already validated).
    #[inline]
    pub(crate) fn run_typed(self, piece: TypedPiece<'_>, grad_scale: Option<f32>) {
        match piece {
            TypedPiece::F32(p) => self.run(p, grad_scale),
            TypedPiece::F64(p) => match self.backend {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `Kernel::new` checked that AVX-512F is available.
                Backend::Avx512 => unsafe { avx512::update_f64(p, grad_scale) },
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `Kernel::new` checked that AVX2 and FMA are available.
                Backend::Avx2 => unsafe { avx2::update_f64(p, grad_scale) },
                #[cfg(target_arch = "aarch64")]
                // SAFETY: `Kernel::new` checked that NEON is available.
                Backend::Neon => unsafe { neon::update_f64(p, grad_scale) },
                _ => wide::reference(p, grad_scale),
            },
            TypedPiece::Bf16(p) => match self.backend {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `Kernel::new` checked AVX-512F, and AVX512_BF16 was just detected.
                Backend::Avx512 if self.extensions && x86_has_avx512bf16() => unsafe {
                    avx512::update_bf16_native(p, grad_scale)
                },
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `Kernel::new` checked that AVX-512F is available.
                Backend::Avx512 => unsafe { avx512::update_bf16(p, grad_scale) },
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `Kernel::new` checked that AVX2 and FMA are available.
                Backend::Avx2 => unsafe { avx2::update_bf16(p, grad_scale) },
                #[cfg(target_arch = "aarch64")]
                // SAFETY: `Kernel::new` checked that NEON is available.
                Backend::Neon => unsafe { neon::update_bf16(p, grad_scale) },
                _ => half::reference(p, grad_scale),
            },
            TypedPiece::F16(p) => match self.backend {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `Kernel::new` checked that AVX-512F is available.
                Backend::Avx512 => unsafe { avx512::update_f16(p, grad_scale) },
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `Kernel::new` checked AVX2 and FMA, and F16C was just detected.
                Backend::Avx2 if x86_has_f16c() => unsafe { avx2::update_f16(p, grad_scale) },
                #[cfg(target_arch = "aarch64")]
                // SAFETY: `Kernel::new` checked that NEON is available.
                Backend::Neon => unsafe { neon::update_f16(p, grad_scale) },
                _ => half::reference(p, grad_scale),
            },
        }
    }
}

//! Memory-bandwidth baselines for the fused SGD benchmarks: plain streaming passes over three
//! `f32` streams with a known number of bytes per element, run on the same number of threads as
//! the step they are compared with. `lrkit bench` and the `sgd_cpu` criterion bench measure one
//! next to the SGD step in the same run, so that "% of baseline" compares like with like on a
//! machine whose bandwidth drifts.
//!
//! A pass is plain Rust compiled for the widest x86 vector ISA detected at run time (AVX-512F,
//! AVX2, else the target's baseline), so that in cache-resident sizes it is not held back by the
//! baseline ISA the crate is built for. It runs one element at a time up to the first 64-byte
//! boundary of `a` (large allocations usually share their offset from it, so this aligns all
//! three streams), then blocks of 64 elements without bounds checks, then the tail.
//!
//! ```
//! use lrkit_membw::{Pass, with_team};
//!
//! let (mut p, mut m, g) = (vec![1.0f32; 4096], vec![0.0f32; 4096], vec![1e-3f32; 4096]);
//! let passes = with_team(Pass::Momentum, &mut p, &mut m, &g, -0.5, 2, |pass| {
//!     for _ in 0..3 {
//!         pass(); // one pass over all 4096 elements, split over 2 threads
//!     }
//!     3
//! });
//! assert_eq!(passes, 3);
//! assert_eq!(m[0], 3.0 * (-0.5 * 1e-3f32));
//! ```

use core::hint::black_box;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A streaming pass over `a`, `b`, `c` with the scalar `s`, element by element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pass {
    /// `d = s * c[i]; b[i] += d; a[i] += d`: reads three streams and writes two, the 20 bytes
    /// per element of SGD with momentum (`a` the parameters, `b` the buffer, `c` the gradients).
    Momentum,
    /// `a[i] = b[i] + s * c[i]` (STREAM's triad): 12 counted bytes per element; with
    /// write-allocate caches the hardware also reads `a`, so its GB/s understate the hardware.
    Triad,
    /// `a[i] += s * c[i]`: 12 bytes per element, the read-modify-write pattern of SGD without
    /// write-allocate traffic; `b` is not touched.
    Axpy,
}

impl Pass {
    /// Every pass.
    pub const ALL: [Pass; 3] = [Pass::Momentum, Pass::Triad, Pass::Axpy];

    /// Bytes of memory traffic counted per element.
    pub const fn bytes_per_element(self) -> usize {
        match self {
            Pass::Momentum => 20,
            Pass::Triad | Pass::Axpy => 12,
        }
    }

    /// Lower-case name (`momentum`, `triad`, `axpy`).
    pub const fn name(self) -> &'static str {
        match self {
            Pass::Momentum => "momentum",
            Pass::Triad => "triad",
            Pass::Axpy => "axpy",
        }
    }

    /// Runs the pass once on the calling thread over the first `n` elements of each stream, `n`
    /// the shortest length.
    pub fn run(self, a: &mut [f32], b: &mut [f32], c: &[f32], s: f32) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: AVX-512F was detected on this CPU just above.
                unsafe { run_avx512(self, a, b, c, s) };
                return;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 was detected on this CPU just above.
                unsafe { run_avx2(self, a, b, c, s) };
                return;
            }
        }
        run_generic(self, a, b, c, s);
    }
}

/// [`run_generic`] compiled for AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn run_avx512(pass: Pass, a: &mut [f32], b: &mut [f32], c: &[f32], s: f32) {
    run_generic(pass, a, b, c, s);
}

/// [`run_generic`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn run_avx2(pass: Pass, a: &mut [f32], b: &mut [f32], c: &[f32], s: f32) {
    run_generic(pass, a, b, c, s);
}

#[inline(always)]
fn run_generic(pass: Pass, a: &mut [f32], b: &mut [f32], c: &[f32], s: f32) {
    match pass {
        Pass::Momentum => elementwise(a, b, c, |a, b, c| {
            let d = s * c;
            *b += d;
            *a += d;
        }),
        Pass::Triad => elementwise(a, b, c, |a, b, c| *a = *b + s * c),
        Pass::Axpy => elementwise(a, b, c, |a, _, c| *a += s * c),
    }
}

/// Applies `one` to every element: up to the first 64-byte boundary of `a` one by one, then
/// blocks of 64 (fixed size: no bounds checks inside, fully vectorisable), then the tail.
#[inline(always)]
fn elementwise(a: &mut [f32], b: &mut [f32], c: &[f32], one: impl Fn(&mut f32, &mut f32, f32)) {
    let n = a.len().min(b.len()).min(c.len());
    let (a, b, c) = (&mut a[..n], &mut b[..n], &c[..n]);
    let head = a.as_ptr().align_offset(64).min(n);
    let (a_head, a) = a.split_at_mut(head);
    let (b_head, b) = b.split_at_mut(head);
    let (c_head, c) = c.split_at(head);
    let (a_blocks, a_tail) = a.as_chunks_mut::<64>();
    let (b_blocks, b_tail) = b.as_chunks_mut::<64>();
    let (c_blocks, c_tail) = c.as_chunks::<64>();
    for ((a, b), c) in a_blocks.iter_mut().zip(b_blocks).zip(c_blocks) {
        for ((a, b), c) in a.iter_mut().zip(b.iter_mut()).zip(c) {
            one(a, b, *c);
        }
    }
    let rest = a_head.iter_mut().zip(b_head).zip(c_head);
    for ((a, b), c) in rest.chain(a_tail.iter_mut().zip(b_tail).zip(c_tail)) {
        one(a, b, *c);
    }
}

/// One turn of a wait loop: spin a while, then yield the core (a loaded machine may have fewer
/// free cores than threads).
fn relax(spins: &mut u32) {
    *spins += 1;
    if *spins < 1 << 12 {
        core::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

/// Sets the flag when dropped, also while unwinding: the helpers of [`with_team`] then return
/// and the scope can join them.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Calls `body` with a function that runs `pass` once over the first `n` elements of `a`, `b`,
/// `c` (`n` the shortest length), split into at most `threads` contiguous shares of a multiple
/// of 64 elements; returns what `body` returns.
///
/// The calling thread runs the first share. The helper threads for the others are started once,
/// before `body`, and spin (then yield) between passes, as sgd-cpu's pool is persistent and
/// spins: a pass costs no thread start and no wake-up. With `threads <= 1` no thread is started.
/// `s` goes through [`black_box`], so the compiler cannot specialise the pass on its value.
pub fn with_team<R>(
    pass: Pass,
    a: &mut [f32],
    b: &mut [f32],
    c: &[f32],
    s: f32,
    threads: usize,
    body: impl FnOnce(&mut dyn FnMut()) -> R,
) -> R {
    let s = black_box(s);
    let n = a.len().min(b.len()).min(c.len());
    let (a, b, c) = (&mut a[..n], &mut b[..n], &c[..n]);
    if threads <= 1 {
        return body(&mut || pass.run(a, b, c, s));
    }
    // `round` counts started passes (the caller bumps it); `done` counts finished shares.
    let round = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let share = n.div_ceil(threads).next_multiple_of(64).max(64);
    std::thread::scope(|scope| {
        let mut shares = a.chunks_mut(share).zip(b.chunks_mut(share)).zip(c.chunks(share));
        let mut own = shares.next();
        let mut helpers = 0;
        for ((a, b), c) in shares {
            helpers += 1;
            let (round, done, stop) = (&round, &done, &stop);
            scope.spawn(move || {
                let mut seen = 0;
                loop {
                    let mut spins = 0u32;
                    while round.load(Ordering::Acquire) == seen {
                        if stop.load(Ordering::Acquire) {
                            return;
                        }
                        relax(&mut spins);
                    }
                    seen += 1;
                    pass.run(a, b, c, s);
                    done.fetch_add(1, Ordering::AcqRel);
                }
            });
        }
        let _stop = StopOnDrop(&stop);
        let mut passes = 0;
        body(&mut || {
            passes += 1;
            round.fetch_add(1, Ordering::AcqRel);
            if let Some(((a, b), c)) = own.as_mut() {
                pass.run(a, b, c, s);
            }
            let mut spins = 0u32;
            while done.load(Ordering::Acquire) < passes * helpers {
                relax(&mut spins);
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pass, written out element by element.
    fn reference(pass: Pass, a: &mut [f32], b: &mut [f32], c: &[f32], s: f32) {
        for ((a, b), c) in a.iter_mut().zip(b.iter_mut()).zip(c) {
            match pass {
                Pass::Momentum => {
                    let d = s * c;
                    *b += d;
                    *a += d;
                }
                Pass::Triad => *a = *b + s * c,
                Pass::Axpy => *a += s * c,
            }
        }
    }

    #[test]
    fn every_pass_updates_every_element_once_per_pass_on_any_thread_count() {
        let n = 1000i16;
        let start: Vec<f32> = (0..=n).map(|i| 1.0 + f32::from(i) / 7.0).collect();
        let c: Vec<f32> = (0..=n).map(|i| 2.0 - f32::from(i) / 3.0).collect();
        for pass in Pass::ALL {
            let (mut a_want, mut b_want) = (start.clone(), start.clone());
            for _ in 0..3 {
                reference(pass, &mut a_want[1..], &mut b_want[1..], &c[1..], 0.25);
            }
            for threads in [0, 1, 2, 3, 64] {
                let (mut a, mut b) = (start.clone(), start.clone());
                // From element 1: a start off the 64-byte boundary, so the head loop runs.
                let passes =
                    with_team(pass, &mut a[1..], &mut b[1..], &c[1..], 0.25, threads, |p| {
                        (0..3).for_each(|_| p());
                        3
                    });
                assert_eq!(passes, 3);
                assert_eq!(a, a_want, "{pass:?}, {threads} threads");
                assert_eq!(b, b_want, "{pass:?}, {threads} threads");
            }
        }
    }

    #[test]
    fn only_the_common_length_is_touched() {
        let (mut a, mut b, c) = (vec![1.0f32; 10], vec![1.0f32; 7], vec![1.0f32; 200]);
        Pass::Momentum.run(&mut a, &mut b, &c, 1.0);
        assert_eq!(&a[..7], &[2.0; 7]);
        assert_eq!(&a[7..], &[1.0; 3]);
    }

    #[test]
    fn traffic_per_element() {
        let bytes = Pass::ALL.map(Pass::bytes_per_element);
        assert_eq!(bytes, [20, 12, 12]);
        assert_eq!(Pass::ALL.map(Pass::name), ["momentum", "triad", "axpy"]);
    }
}

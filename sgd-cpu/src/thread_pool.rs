//! Multi-threaded steps: the work of all tensors split into one contiguous share per thread.
use core::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::vec::Vec;

use crate::backend::Kernel;
use crate::step::{self, Piece};
use crate::typed::{self, TypedPiece};
use crate::workers::Workers;
use crate::{SgdError, StepOptions, StepOutcome, TensorGroup, TypedGroup, TypedStepOptions};

/// Split points inside a tensor are multiples of this many elements (one 64-byte cache line
/// holds 16 f32, so 64 elements keep every thread's share line-aligned when the tensor is).
const CHUNK_ALIGN: usize = 64;

/// Largest unit of work a thread takes at a time (elements; 640 KiB of traffic with
/// momentum). A thread that is descheduled (a busy machine) holds up a step by at most one
/// such unit: the others take the rest of its range.
const MAX_BATCH: usize = 32 * 1024;

/// A persistent pool for fused steps over caller-owned tensors.
///
/// Work is split across tensors and within large tensors (at multiples of 64 elements, so
/// that every share of a line-aligned tensor is line-aligned) into contiguous batches of at
/// most 32 Ki elements (at least four per thread). Each thread, the calling thread included,
/// owns a contiguous range of batches and works through it from the front (one memory stream per thread, as a static split); a thread
/// that is done takes batches from the back of the other ranges (work stealing), so a thread
/// the OS has not scheduled does not hold up the step. The update is elementwise, so results
/// are bitwise identical for every thread count.
#[derive(Debug)]
pub struct ThreadPool {
    workers: Workers,
    threshold: usize,
}

impl ThreadPool {
    /// Steps with fewer elements than this stay on the calling thread unless
    /// [`ThreadPool::set_parallel_threshold`] says otherwise: waking workers costs more than it
    /// saves (256 Ki elements are 5 MiB of traffic with momentum).
    pub const DEFAULT_PARALLEL_THRESHOLD: usize = 256 * 1024;

    /// Most threads a pool (or [`crate::Sgd::set_threads`]) starts. Far above any machine's
    /// useful count; above it the request is an error, not an abort.
    pub const MAX_THREADS: usize = 1024;

    /// A pool of `threads` threads in total, the calling thread included (`threads - 1` workers
    /// are started now). `0` means [`std::thread::available_parallelism`].
    ///
    /// # Errors
    /// [`SgdError::TooManyThreads`] above [`ThreadPool::MAX_THREADS`];
    /// [`SgdError::ThreadSpawnFailed`] if a worker cannot be started (those already started
    /// are stopped again).
    pub fn new(threads: usize) -> Result<Self, SgdError> {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get()).min(Self::MAX_THREADS)
        } else {
            threads
        };
        if threads > Self::MAX_THREADS {
            return Err(SgdError::TooManyThreads { threads, max: Self::MAX_THREADS });
        }
        Ok(Self { workers: Workers::new(threads)?, threshold: Self::DEFAULT_PARALLEL_THRESHOLD })
    }

    /// Threads taking part in a step (workers + the caller).
    pub fn threads(&self) -> usize {
        self.workers.threads()
    }

    /// Steps with fewer elements than this run on the calling thread only.
    pub fn parallel_threshold(&self) -> usize {
        self.threshold
    }

    /// Sets [`ThreadPool::parallel_threshold`] (default
    /// [`ThreadPool::DEFAULT_PARALLEL_THRESHOLD`]).
    pub fn set_parallel_threshold(&mut self, elements: usize) {
        self.threshold = elements;
    }

    /// [`crate::fused_step`] on this pool: same validation, same results, bit for bit.
    ///
    /// # Errors
    /// As [`crate::fused_step`]; nothing is written then.
    pub fn fused_step(
        &self,
        groups: &mut [TensorGroup<'_, '_>],
        opts: &StepOptions,
    ) -> Result<StepOutcome, SgdError> {
        let plan = step::validate_groups(groups, opts)?;
        if opts.found_inf {
            return Ok(StepOutcome::SkippedFoundInf);
        }
        if self.stays_on_caller(plan.elements) {
            step::for_each_piece(groups, |piece| piece.run(plan.kernel, opts.grad_scale));
        } else {
            let mut pieces = Vec::with_capacity(plan.tensors);
            step::for_each_piece(groups, |piece| pieces.push(piece));
            self.run(plan.kernel, pieces, plan.elements, opts.grad_scale);
        }
        step::mark_initialized(groups);
        Ok(plan.outcome())
    }

    /// [`crate::typed_step`] on this pool: same validation, same results, bit for bit
    /// (stochastic rounding included: its random bits depend on the element's index in its
    /// tensor, not on the split).
    ///
    /// # Errors
    /// As [`crate::typed_step`]; nothing is written then.
    pub fn typed_step(
        &self,
        groups: &mut [TypedGroup<'_, '_>],
        opts: &TypedStepOptions,
    ) -> Result<StepOutcome, SgdError> {
        let plan = typed::validate_typed(groups, opts)?;
        if opts.options.found_inf {
            return Ok(StepOutcome::SkippedFoundInf);
        }
        let grad_scale = opts.options.grad_scale;
        if self.stays_on_caller(plan.elements) {
            typed::for_each_typed_piece(groups, opts, |p| plan.kernel.run_typed(p, grad_scale));
        } else {
            let mut pieces = Vec::with_capacity(plan.tensors);
            typed::for_each_typed_piece(groups, opts, |p| pieces.push(p));
            self.run(plan.kernel, pieces, plan.elements, grad_scale);
        }
        typed::mark_typed_initialized(groups);
        Ok(plan.outcome())
    }

    /// Whether a step of `elements` elements runs on the calling thread only.
    pub(crate) fn stays_on_caller(&self, elements: usize) -> bool {
        self.threads() == 1 || elements < self.threshold
    }

    /// Runs validated pieces (`elements` in total) split across the pool.
    pub(crate) fn run<W: Work>(
        &self,
        kernel: Kernel,
        pieces: Vec<W>,
        elements: usize,
        grad_scale: Option<f32>,
    ) {
        let threads = self.threads();
        let batch = elements.div_ceil(4 * threads).clamp(CHUNK_ALIGN, MAX_BATCH);
        let (pieces, ends) = partition(pieces, elements.div_ceil(batch), elements);
        let pieces: Vec<Mutex<Option<W>>> =
            pieces.into_iter().map(|p| Mutex::new(Some(p))).collect();
        let ranges = Ranges::new(ends.len(), threads);
        let run_batch = |i: usize| {
            let start = if i == 0 { 0 } else { ends[i - 1] };
            for slot in &pieces[start..ends[i]] {
                let piece = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
                if let Some(piece) = piece {
                    piece.run(kernel, grad_scale);
                }
            }
        };
        self.workers.broadcast(&|k| {
            // Own range from the front (one contiguous stream per thread), then the others'
            // ranges from the back.
            while let Some(i) = ranges.take_front(k) {
                run_batch(i);
            }
            for other in (0..threads).map(|d| (k + d) % threads) {
                while let Some(i) = ranges.take_back(other) {
                    run_batch(i);
                }
            }
        });
    }
}

/// Per thread a contiguous range of batch indices, taken by its owner from the front and by
/// the others from the back; each range is one atomic word `front << 32 | back`.
struct Ranges(Vec<AtomicU64>);

impl Ranges {
    fn new(batches: usize, threads: usize) -> Self {
        let per = batches.div_ceil(threads.max(1));
        Ranges(
            (0..threads)
                .map(|k| {
                    let (front, back) = ((k * per).min(batches), ((k + 1) * per).min(batches));
                    AtomicU64::new(((front as u64) << 32) | back as u64)
                })
                .collect(),
        )
    }

    fn take(&self, owner: usize, from_front: bool) -> Option<usize> {
        let word = self.0.get(owner)?;
        let mut now = word.load(Ordering::Acquire);
        loop {
            let (front, back) = (now >> 32, now & 0xffff_ffff);
            if front >= back {
                return None;
            }
            let (next, taken) =
                if from_front { (now + (1 << 32), front) } else { (now - 1, back - 1) };
            match word.compare_exchange_weak(now, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return usize::try_from(taken).ok(),
                Err(seen) => now = seen,
            }
        }
    }

    fn take_front(&self, owner: usize) -> Option<usize> {
        self.take(owner, true)
    }

    fn take_back(&self, owner: usize) -> Option<usize> {
        self.take(owner, false)
    }
}

/// A unit of work the pool splits and runs: an f32 piece, or a piece of any dtype.
pub(crate) trait Work: Send + Sized {
    /// Elements.
    fn len(&self) -> usize;
    /// Splits at element `mid` (`mid <= len`).
    fn split_at(self, mid: usize) -> (Self, Self);
    /// Runs the kernel on it.
    fn run(self, kernel: Kernel, grad_scale: Option<f32>);
}

impl Work for Piece<'_> {
    fn len(&self) -> usize {
        Piece::len(self)
    }
    fn split_at(self, mid: usize) -> (Self, Self) {
        Piece::split_at(self, mid)
    }
    fn run(self, kernel: Kernel, grad_scale: Option<f32>) {
        Piece::run(self, kernel, grad_scale);
    }
}

impl Work for TypedPiece<'_> {
    fn len(&self) -> usize {
        TypedPiece::len(self)
    }
    fn split_at(self, mid: usize) -> (Self, Self) {
        TypedPiece::split_at(self, mid)
    }
    fn run(self, kernel: Kernel, grad_scale: Option<f32>) {
        kernel.run_typed(self, grad_scale);
    }
}

impl Piece<'_> {
    /// Splits at element `mid` (`mid <= len`).
    pub(crate) fn split_at(self, mid: usize) -> (Self, Self) {
        let (p0, p1) = self.param.split_at_mut(mid);
        let (g0, g1) = self.grad.split_at(mid);
        let (b0, b1) = step::split_buffer(self.buf, mid);
        (
            Piece { s: self.s, param: p0, grad: g0, buf: b0 },
            Piece { s: self.s, param: p1, grad: g1, buf: b1 },
        )
    }
}

/// Splits `pieces` (in order) into at most `parts` contiguous shares of about
/// `elements / parts` elements each; a tensor is cut only at multiples of [`CHUNK_ALIGN`]
/// elements from its start. Returns the pieces in order (cut where needed) and the end index
/// of each share in that list (one allocation each, not one per share).
fn partition<W: Work>(pieces: Vec<W>, parts: usize, elements: usize) -> (Vec<W>, Vec<usize>) {
    let per = elements.div_ceil(parts.max(1)).next_multiple_of(CHUNK_ALIGN).max(CHUNK_ALIGN);
    let mut out: Vec<W> = Vec::with_capacity(pieces.len() + parts);
    let mut ends: Vec<usize> = Vec::with_capacity(parts);
    let mut room = per;
    for piece in pieces {
        let mut piece = piece;
        loop {
            let last = ends.len() + 1 == parts;
            let cut = room.next_multiple_of(CHUNK_ALIGN);
            if last || piece.len() <= cut {
                room = room.saturating_sub(piece.len());
                out.push(piece);
                break;
            }
            let (head, tail) = piece.split_at(cut);
            if head.len() != 0 {
                out.push(head);
            }
            ends.push(out.len());
            room = per;
            piece = tail;
        }
        if room == 0 && ends.len() + 1 < parts {
            ends.push(out.len());
            room = per;
        }
    }
    if ends.last().copied().unwrap_or(0) < out.len() {
        ends.push(out.len());
    }
    (out, ends)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GroupSpec, Sgd, SgdConfig, StepScalars};

    #[test]
    fn thread_counts_past_the_limit_are_errors_not_aborts() {
        // Reproducers: 20000 and 100000 threads aborted the process ("failed to set up
        // alternative stack guard page") before the limit.
        assert_eq!(
            ThreadPool::new(20_000).map(|p| p.threads()),
            Err(SgdError::TooManyThreads { threads: 20_000, max: ThreadPool::MAX_THREADS })
        );
        let mut sgd =
            Sgd::new(vec![GroupSpec { config: SgdConfig::default(), numels: vec![4] }]).unwrap();
        assert_eq!(
            sgd.set_threads(100_000),
            Err(SgdError::TooManyThreads { threads: 100_000, max: ThreadPool::MAX_THREADS })
        );
        assert_eq!(sgd.threads(), 1);
        assert_eq!(ThreadPool::new(0).map(|p| p.threads() <= ThreadPool::MAX_THREADS), Ok(true));
    }

    #[test]
    fn every_batch_is_taken_exactly_once_under_stealing() {
        for (batches, threads) in [(1000, 3), (7, 4), (0, 2), (1, 1), (5, 8)] {
            let ranges = Ranges::new(batches, threads);
            let taken: Vec<Vec<usize>> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads)
                    .map(|k| {
                        let ranges = &ranges;
                        scope.spawn(move || {
                            let mut mine = Vec::new();
                            while let Some(i) = ranges.take_front(k) {
                                mine.push(i);
                            }
                            for other in (0..threads).map(|d| (k + d) % threads) {
                                while let Some(i) = ranges.take_back(other) {
                                    mine.push(i);
                                }
                            }
                            mine
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let mut all: Vec<usize> = taken.into_iter().flatten().collect();
            all.sort_unstable();
            assert_eq!(
                all,
                (0..batches).collect::<Vec<_>>(),
                "{batches} batches, {threads} threads"
            );
        }
    }

    #[test]
    fn partition_covers_everything_in_order_with_aligned_cuts() {
        let s = StepScalars::from_config(&SgdConfig::default());
        for &(lens, parts) in &[
            (&[1000usize, 3, 4096, 70000][..], 2usize),
            (&[5][..], 4),
            (&[640, 640, 640][..], 3),
            (&[1 << 20][..], 7),
            (&[1 << 20, 4096, 4096, 100, 1 << 16][..], 40),
        ] {
            let mut data: Vec<Vec<f32>> = lens.iter().map(|&n| vec![0.0; n]).collect();
            let grads: Vec<Vec<f32>> = lens.iter().map(|&n| vec![0.0; n]).collect();
            let pieces: Vec<Piece<'_>> = data
                .iter_mut()
                .zip(&grads)
                .map(|(p, g)| Piece { s, param: p, grad: g, buf: None })
                .collect();
            let total: usize = lens.iter().sum();
            let (flat, ends) = partition(pieces, parts, total);
            assert!(ends.len() <= parts);
            assert!(ends.windows(2).all(|w| w[0] < w[1]) && ends.last() == Some(&flat.len()));
            // Walk the shares: they must tile each tensor from 0 to its end, cuts aligned.
            let mut tensor = 0;
            let mut offset = 0;
            for piece in &flat {
                if offset == lens[tensor] {
                    tensor += 1;
                    offset = 0;
                }
                assert_eq!(offset % CHUNK_ALIGN, 0, "cut inside tensor {tensor} at {offset}");
                offset += piece.len();
            }
            assert_eq!((tensor, offset), (lens.len() - 1, lens[lens.len() - 1]));
        }
    }
}

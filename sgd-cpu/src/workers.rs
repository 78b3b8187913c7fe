//! A persistent thread pool (std threads, `Mutex` + `Condvar`): workers are started once and
//! woken for every parallel step; no thread is spawned per step.
//!
//! After a job, workers (and the caller waiting for them) spin on an atomic for up to
//! [`SPIN`] before blocking on the condition variable, so back-to-back steps do not pay a
//! futex wake-up each (tens of microseconds in a VM).
//!
//! A job is *optional* for the workers: the caller closes it when its own call returns, and a
//! worker that had not entered it by then skips it. Callers split their work so that the
//! caller can do all of it (work stealing), so a worker that is not scheduled in time (a busy
//! machine) never holds up a step; only workers already inside the job are waited for.
use core::panic::AssertUnwindSafe;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;
use std::panic::catch_unwind;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use crate::SgdError;

/// How long a thread spins for the next event before it blocks.
const SPIN: Duration = Duration::from_micros(50);

/// `gate` bit: the current job is closed, no worker may enter it any more.
const CLOSED: u64 = 1 << 31;
/// `gate` bits: workers inside the current job.
const INSIDE: u64 = CLOSED - 1;

/// The `gate` value of an open job of epoch `epoch` with nobody inside (the epoch's low 32
/// bits in the high half).
fn open_gate(epoch: u64) -> u64 {
    (epoch & 0xffff_ffff) << 32
}

/// Spins until `ready()` or [`SPIN`] has passed; returns whether `ready()` became true.
fn spin_until(ready: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    loop {
        for _ in 0..64 {
            if ready() {
                return true;
            }
            core::hint::spin_loop();
        }
        if start.elapsed() > SPIN {
            return ready();
        }
    }
}

/// A job: a borrowed closure with its lifetime erased (see `Workers::broadcast`).
#[derive(Clone, Copy)]
struct Job(*const (dyn Fn(usize) + Sync + 'static));

// SAFETY: the pointee is `Sync` (so it may be called from any thread) and `broadcast` keeps it
// alive until no worker is inside it and none can enter it any more.
unsafe impl Send for Job {}

struct State {
    job: Option<Job>,
    /// A worker's call of the current job panicked.
    panicked: bool,
}

struct Shared {
    state: Mutex<State>,
    /// Incremented (under the lock) for every broadcast.
    epoch: AtomicU64,
    /// `open_gate(epoch) | CLOSED? | workers inside`: workers enter the current job only
    /// through a compare-exchange on this word while it is open and of their epoch.
    gate: AtomicU64,
    shutdown: AtomicBool,
    work: Condvar,
    done: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent across a panic (workers catch them), so poison is ignored.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Enters the job of `epoch` if it is still open.
    fn enter(&self, epoch: u64) -> bool {
        let want = open_gate(epoch);
        let mut gate = self.gate.load(Ordering::Acquire);
        loop {
            if gate & !INSIDE != want {
                return false;
            }
            match self.gate.compare_exchange_weak(
                gate,
                gate + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(now) => gate = now,
            }
        }
    }

    /// Leaves the current job; the last one out of a closed job wakes the caller.
    fn leave(&self) {
        let before = self.gate.fetch_sub(1, Ordering::AcqRel);
        if before & CLOSED != 0 && before & INSIDE == 1 {
            // Taking the lock orders this notification after the caller's check of `gate`.
            drop(self.lock());
            self.done.notify_all();
        }
    }
}

/// A fixed set of worker threads plus the calling thread.
pub(crate) struct Workers {
    shared: Arc<Shared>,
    handles: Vec<JoinHandle<()>>,
    /// Serialises broadcasts from different threads sharing the pool.
    serial: Mutex<()>,
}

impl core::fmt::Debug for Workers {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Workers").field("threads", &self.threads()).finish()
    }
}

impl Workers {
    /// `threads` participants in total: the caller and `threads - 1` workers.
    pub(crate) fn new(threads: usize) -> Result<Self, SgdError> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State { job: None, panicked: false }),
            epoch: AtomicU64::new(0),
            gate: AtomicU64::new(CLOSED),
            shutdown: AtomicBool::new(false),
            work: Condvar::new(),
            done: Condvar::new(),
        });
        let mut pool = Workers { shared, handles: Vec::new(), serial: Mutex::new(()) };
        for index in 1..threads.max(1) {
            let shared = Arc::clone(&pool.shared);
            let handle = std::thread::Builder::new()
                .name(format!("sgd-cpu-{index}"))
                .spawn(move || worker(&shared, index))
                .map_err(|_| SgdError::ThreadSpawnFailed { threads })?;
            pool.handles.push(handle);
        }
        Ok(pool)
    }

    /// Participants (workers + the calling thread).
    pub(crate) fn threads(&self) -> usize {
        self.handles.len() + 1
    }

    /// Calls `f(0)` on the calling thread and offers `f(1..threads)` to the workers; returns
    /// when `f(0)` has returned and every worker that entered the job has left it. A worker
    /// calls `f(k)` at most once per broadcast, and not at all if it arrives after `f(0)` has
    /// returned, so `f(0)` must be able to do all the work (e.g. steal every unit left).
    ///
    /// # Panics
    /// If a call of `f` panicked (after every entered call has finished).
    pub(crate) fn broadcast(&self, f: &(dyn Fn(usize) + Sync)) {
        if self.handles.is_empty() {
            f(0);
            return;
        }
        let _serial = self.serial.lock().unwrap_or_else(PoisonError::into_inner);
        // SAFETY: only the lifetime is erased. Workers call the closure only after entering
        // the open gate of this epoch, and this function does not return or unwind before
        // `CloseAndWait`'s drop has closed the gate and seen every entered worker leave.
        let job = Job(unsafe {
            core::mem::transmute::<&(dyn Fn(usize) + Sync + '_), &'static (dyn Fn(usize) + Sync)>(f)
        });
        {
            let mut st = self.shared.lock();
            st.job = Some(job);
            st.panicked = false;
            let epoch = self.shared.epoch.load(Ordering::Acquire).wrapping_add(1);
            self.shared.gate.store(open_gate(epoch), Ordering::Release);
            self.shared.epoch.store(epoch, Ordering::Release);
        }
        self.shared.work.notify_all();
        let wait = CloseAndWait(&self.shared);
        f(0);
        drop(wait);
        assert!(!self.shared.lock().panicked, "sgd-cpu: a worker thread panicked");
    }
}

/// Closes the current job and waits for the workers inside it, also while unwinding.
struct CloseAndWait<'a>(&'a Shared);

impl Drop for CloseAndWait<'_> {
    fn drop(&mut self) {
        let shared = self.0;
        shared.gate.fetch_or(CLOSED, Ordering::AcqRel);
        let empty = || shared.gate.load(Ordering::Acquire) & INSIDE == 0;
        spin_until(empty);
        let mut st = shared.lock();
        while !empty() {
            st = shared.done.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
        st.job = None;
    }
}

fn worker(shared: &Shared, index: usize) {
    let mut seen = 0u64;
    loop {
        spin_until(|| {
            shared.epoch.load(Ordering::Acquire) != seen || shared.shutdown.load(Ordering::Acquire)
        });
        let job = {
            let mut st = shared.lock();
            while shared.epoch.load(Ordering::Acquire) == seen
                && !shared.shutdown.load(Ordering::Acquire)
            {
                st = shared.work.wait(st).unwrap_or_else(PoisonError::into_inner);
            }
            if shared.shutdown.load(Ordering::Acquire) {
                return;
            }
            seen = shared.epoch.load(Ordering::Acquire);
            st.job
        };
        let Some(job) = job else { continue };
        if !shared.enter(seen) {
            continue; // The caller already finished this job.
        }
        // SAFETY: `job` belongs to epoch `seen` (read under the lock with it) and this worker
        // entered that epoch's open gate, so `broadcast` keeps the closure alive until `leave`.
        let ok = catch_unwind(AssertUnwindSafe(|| unsafe { (*job.0)(index) })).is_ok();
        if !ok {
            shared.lock().panicked = true;
        }
        shared.leave();
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        {
            let _st = self.shared.lock();
            self.shared.shutdown.store(true, Ordering::Release);
        }
        self.shared.work.notify_all();
        for handle in self.handles.drain(..) {
            // A worker never panics outside `catch_unwind`; nothing to report.
            let _ = handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use core::sync::atomic::AtomicUsize;

    use super::*;

    #[test]
    fn the_caller_runs_every_broadcast_and_workers_at_most_once() {
        for threads in [1, 2, 3, 5] {
            let pool = Workers::new(threads).unwrap();
            assert_eq!(pool.threads(), threads);
            let counts: Vec<AtomicUsize> = (0..threads).map(|_| AtomicUsize::new(0)).collect();
            for round in 0..2000 {
                let calls: Vec<AtomicUsize> = (0..threads).map(|_| AtomicUsize::new(0)).collect();
                pool.broadcast(&|k| {
                    calls[k].fetch_add(1, Ordering::Relaxed);
                    if k == 0 {
                        // Give the workers a chance to enter.
                        spin_until(|| calls[1..].iter().all(|c| c.load(Ordering::Relaxed) > 0));
                    }
                });
                for (c, total) in calls.iter().zip(&counts) {
                    let c = c.load(Ordering::Relaxed);
                    assert!(c <= 1, "a participant ran twice");
                    total.fetch_add(c, Ordering::Relaxed);
                }
                if round % 500 == 0 {
                    // Let the workers fall asleep on the condition variable now and then.
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            assert_eq!(counts[0].load(Ordering::Relaxed), 2000);
            for c in &counts[1..] {
                // The caller waits up to 50 µs for them each round: they do take part.
                assert!(c.load(Ordering::Relaxed) > 0, "a worker never ran");
            }
        }
    }

    #[test]
    fn a_panicking_worker_is_reported_after_all_calls_finish() {
        let pool = Workers::new(2).unwrap();
        let finished = AtomicUsize::new(0);
        let worker_started = AtomicBool::new(false);
        let r = catch_unwind(AssertUnwindSafe(|| {
            pool.broadcast(&|k| {
                if k == 1 {
                    worker_started.store(true, Ordering::Release);
                    panic!("worker fails");
                }
                while !worker_started.load(Ordering::Acquire) {
                    core::hint::spin_loop();
                }
                finished.fetch_add(1, Ordering::Relaxed);
            });
        }));
        assert!(r.is_err());
        assert_eq!(finished.load(Ordering::Relaxed), 1);
        // The pool still works afterwards.
        pool.broadcast(&|_| {
            finished.fetch_add(1, Ordering::Relaxed);
        });
        assert!((2..=3).contains(&finished.load(Ordering::Relaxed)));
    }
}

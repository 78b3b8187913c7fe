//! A persistent thread pool (std threads, `Mutex` + `Condvar`): workers are started once and
//! woken for every parallel step; no thread is spawned per step.
//!
//! After a job, workers (and the caller waiting for them) spin on an atomic for up to
//! [`SPIN`] before blocking on the condition variable, so back-to-back steps do not pay a
//! futex wake-up each (tens of microseconds in a VM).
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a thread spins for the next event before it blocks.
const SPIN: Duration = Duration::from_micros(50);

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

use crate::SgdError;

/// A job: a borrowed closure with its lifetime erased (see `ThreadPool::broadcast`).
#[derive(Clone, Copy)]
struct Job(*const (dyn Fn(usize) + Sync + 'static));

// SAFETY: the pointee is `Sync` (so it may be called from any thread) and `broadcast` keeps it
// alive until every worker is done with it.
unsafe impl Send for Job {}

struct State {
    job: Option<Job>,
    /// A worker's call of the current job panicked.
    panicked: bool,
}

struct Shared {
    state: Mutex<State>,
    /// Incremented (under the lock) for every broadcast; a worker runs each epoch's job once.
    epoch: AtomicU64,
    /// Workers that have not finished the current job.
    pending: AtomicUsize,
    shutdown: AtomicBool,
    work: Condvar,
    done: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent across a panic (workers catch them), so poison is ignored.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
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
            pending: AtomicUsize::new(0),
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

    /// Calls `f(0)` on the calling thread and `f(1..threads)` on the workers, and returns when
    /// all calls have returned.
    ///
    /// # Panics
    /// If a call of `f` panicked (after every call has finished).
    pub(crate) fn broadcast(&self, f: &(dyn Fn(usize) + Sync)) {
        if self.handles.is_empty() {
            f(0);
            return;
        }
        let _serial = self.serial.lock().unwrap_or_else(PoisonError::into_inner);
        // SAFETY: only the lifetime is erased. The pointer is dereferenced by workers only for
        // the current epoch, and this function does not return or unwind before `WaitAll`'s
        // drop has seen every worker finish (pending == 0) and cleared the job.
        let job = Job(unsafe {
            core::mem::transmute::<&(dyn Fn(usize) + Sync + '_), &'static (dyn Fn(usize) + Sync)>(f)
        });
        {
            let mut st = self.shared.lock();
            st.job = Some(job);
            st.panicked = false;
            self.shared.pending.store(self.handles.len(), Ordering::Release);
            self.shared.epoch.fetch_add(1, Ordering::AcqRel);
        }
        self.shared.work.notify_all();
        let wait = WaitAll(&self.shared);
        f(0);
        drop(wait);
        assert!(!self.shared.lock().panicked, "sgd-cpu: a worker thread panicked");
    }
}

/// Waits for every worker to finish the current job, also while unwinding.
struct WaitAll<'a>(&'a Shared);

impl Drop for WaitAll<'_> {
    fn drop(&mut self) {
        let shared = self.0;
        spin_until(|| shared.pending.load(Ordering::Acquire) == 0);
        let mut st = shared.lock();
        while shared.pending.load(Ordering::Acquire) > 0 {
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
        let ok = match job {
            // SAFETY: `broadcast` keeps the closure alive until this worker decrements `pending`.
            Some(job) => catch_unwind(AssertUnwindSafe(|| unsafe { (*job.0)(index) })).is_ok(),
            None => true,
        };
        if !ok {
            shared.lock().panicked = true;
        }
        if shared.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            // Taking the lock orders this notification after a waiter's check of `pending`.
            drop(shared.lock());
            shared.done.notify_all();
        }
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
    use super::*;

    #[test]
    fn every_participant_runs_each_broadcast_exactly_once() {
        for threads in [1, 2, 3, 5] {
            let pool = Workers::new(threads).unwrap();
            assert_eq!(pool.threads(), threads);
            let counts: Vec<AtomicUsize> = (0..threads).map(|_| AtomicUsize::new(0)).collect();
            for round in 0..2000 {
                pool.broadcast(&|k| {
                    counts[k].fetch_add(1, Ordering::Relaxed);
                });
                if round % 500 == 0 {
                    // Let the workers fall asleep on the condition variable now and then.
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            for c in &counts {
                assert_eq!(c.load(Ordering::Relaxed), 2000);
            }
        }
    }

    #[test]
    fn a_panicking_worker_is_reported_after_all_calls_finish() {
        let pool = Workers::new(2).unwrap();
        let finished = AtomicUsize::new(0);
        let r = catch_unwind(AssertUnwindSafe(|| {
            pool.broadcast(&|k| {
                if k == 1 {
                    panic!("worker fails");
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
        assert_eq!(finished.load(Ordering::Relaxed), 3);
    }
}

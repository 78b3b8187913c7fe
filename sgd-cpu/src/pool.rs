//! A persistent thread pool (std threads, `Mutex` + `Condvar`): workers are started once and
//! woken for every parallel step; no thread is spawned per step.
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use crate::SgdError;

/// A job: a borrowed closure with its lifetime erased (see `ThreadPool::broadcast`).
#[derive(Clone, Copy)]
struct Job(*const (dyn Fn(usize) + Sync + 'static));

// SAFETY: the pointee is `Sync` (so it may be called from any thread) and `broadcast` keeps it
// alive until every worker is done with it.
unsafe impl Send for Job {}

struct State {
    /// Incremented for every broadcast; a worker runs each epoch's job once.
    epoch: u64,
    job: Option<Job>,
    /// Workers that have not finished the current job.
    pending: usize,
    /// A worker's call of the current job panicked.
    panicked: bool,
    shutdown: bool,
}

struct Shared {
    state: Mutex<State>,
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
            state: Mutex::new(State {
                epoch: 0,
                job: None,
                pending: 0,
                panicked: false,
                shutdown: false,
            }),
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
            st.epoch = st.epoch.wrapping_add(1);
            st.pending = self.handles.len();
            st.panicked = false;
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
        let mut st = self.0.lock();
        while st.pending > 0 {
            st = self.0.done.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
        st.job = None;
    }
}

fn worker(shared: &Shared, index: usize) {
    let mut seen = 0u64;
    loop {
        let job = {
            let mut st = shared.lock();
            while st.epoch == seen && !st.shutdown {
                st = shared.work.wait(st).unwrap_or_else(PoisonError::into_inner);
            }
            if st.shutdown {
                return;
            }
            seen = st.epoch;
            st.job
        };
        let ok = match job {
            // SAFETY: `broadcast` keeps the closure alive until this worker decrements `pending`.
            Some(job) => catch_unwind(AssertUnwindSafe(|| unsafe { (*job.0)(index) })).is_ok(),
            None => true,
        };
        let mut st = shared.lock();
        st.panicked |= !ok;
        st.pending -= 1;
        if st.pending == 0 {
            shared.done.notify_all();
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.work.notify_all();
        for handle in self.handles.drain(..) {
            // A worker never panics outside `catch_unwind`; nothing to report.
            let _ = handle.join();
        }
    }
}

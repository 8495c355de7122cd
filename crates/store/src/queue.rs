//! Work that concurrent callers share: callers queue items, and one task at a time takes
//! everything queued so far and serves it in one go, then looks again. The group commit of
//! issuance records and the shared reads of the configuration generation are both this.
//!
//! The queue delays nothing: an idle store serves each item at once, alone; under load, what
//! arrives while one round runs is served together by the next. (The group commit's writer
//! also lets records gather a moment under load on PostgreSQL: see `batch.rs`.)

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

struct Pending<T> {
    items: Vec<T>,
    /// Whether a worker task is running; at most one is.
    running: bool,
}

/// Items waiting for the next round.
pub(crate) struct WorkQueue<T> {
    pending: Arc<Mutex<Pending<T>>>,
}

impl<T> Default for WorkQueue<T> {
    fn default() -> Self {
        Self {
            pending: Arc::new(Mutex::new(Pending {
                items: Vec::new(),
                running: false,
            })),
        }
    }
}

impl<T> Clone for WorkQueue<T> {
    fn clone(&self) -> Self {
        Self {
            pending: self.pending.clone(),
        }
    }
}

impl<T> std::fmt::Debug for WorkQueue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkQueue").finish_non_exhaustive()
    }
}

impl<T> WorkQueue<T> {
    fn lock(&self) -> MutexGuard<'_, Pending<T>> {
        // The queue holds no invariant a panic elsewhere could break half-way.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `item`. Returns the worker when none was running: the caller must then run it
    /// (on a task of its own, so that a caller giving up never abandons the others' items).
    pub(crate) fn push(&self, item: T) -> Option<Worker<T>> {
        let mut pending = self.lock();
        pending.items.push(item);
        (!std::mem::replace(&mut pending.running, true)).then(|| Worker {
            queue: self.clone(),
            finished: false,
        })
    }
}

/// The one running worker. If it ends without emptying the queue (its runtime shut down),
/// dropping it drops what is left, which tells each waiting caller (through its closed
/// channel) that its item was not served.
pub(crate) struct Worker<T> {
    queue: WorkQueue<T>,
    finished: bool,
}

impl<T> Worker<T> {
    /// Up to `max` items queued so far, or `None` (and the worker marked stopped) when the
    /// queue is empty.
    pub(crate) fn next_round(&mut self, max: usize) -> Option<Vec<T>> {
        let mut pending = self.queue.lock();
        if pending.items.is_empty() {
            pending.running = false;
            self.finished = true;
            return None;
        }
        let take = pending.items.len().min(max);
        Some(pending.items.drain(..take).collect())
    }
}

impl<T> Drop for Worker<T> {
    fn drop(&mut self) {
        if !self.finished {
            let mut pending = self.queue.lock();
            pending.running = false;
            pending.items.clear();
        }
    }
}

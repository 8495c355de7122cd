//! Shared reads of the configuration generation.
//!
//! Every request reads the generation to know whether its node's cache of principals and
//! descriptors is still current. Under load, requests that arrive while a read is running wait
//! for the next read, which starts after they arrived, and share it: one query serves them all,
//! and none of them can miss a change committed before it arrived.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

/// The outcome of a shared read: the generation, or the error's text (the driver's error
/// cannot be cloned for every waiter).
pub(crate) type SharedRead = Result<i64, String>;

/// Who waits for the next read.
#[derive(Default)]
struct Readers {
    waiting: Vec<oneshot::Sender<SharedRead>>,
    /// Whether a reader task is running; at most one is.
    running: bool,
}

/// The requests waiting for a generation read.
#[derive(Clone, Default)]
pub(crate) struct SharedReads {
    readers: Arc<Mutex<Readers>>,
}

impl std::fmt::Debug for SharedReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedReads").finish_non_exhaustive()
    }
}

impl SharedReads {
    fn lock(&self) -> MutexGuard<'_, Readers> {
        match self.readers.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Registers a waiter for the next read; returns true when no reader runs and the caller
    /// must start one. (A waiter whose sender is dropped unanswered reads for itself.)
    pub(crate) fn wait(&self) -> (oneshot::Receiver<SharedRead>, bool) {
        let (sender, receiver) = oneshot::channel();
        let mut readers = self.lock();
        readers.waiting.push(sender);
        let start = !std::mem::replace(&mut readers.running, true);
        (receiver, start)
    }

    /// The reader task's handle. Call only after [`SharedReads::wait`] returned true.
    pub(crate) fn reader(&self) -> Reader {
        Reader {
            shared: self.clone(),
            finished: false,
        }
    }
}

/// The running reader's handle; if the task ends abnormally, dropping it releases the waiters
/// (who then read for themselves).
pub(crate) struct Reader {
    shared: SharedReads,
    finished: bool,
}

impl Reader {
    /// Everyone waiting now (they are served by the read about to start), or `None` (and the
    /// reader marked stopped) when no one waits.
    pub(crate) fn next_waiters(&mut self) -> Option<Vec<oneshot::Sender<SharedRead>>> {
        let mut readers = self.shared.lock();
        if readers.waiting.is_empty() {
            readers.running = false;
            self.finished = true;
            return None;
        }
        Some(std::mem::take(&mut readers.waiting))
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let mut readers = self.shared.lock();
        readers.running = false;
        // Dropping the senders tells the waiters to read for themselves.
        readers.waiting.clear();
    }
}

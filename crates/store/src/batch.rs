//! Group commit of issuance records: concurrent `record_issued` calls share one transaction.
//!
//! Each issuance must be committed before its certificate or license is returned, and a commit
//! costs a disk flush (SQLite) or a round trip and a WAL flush (PostgreSQL). Under load, the
//! records that arrive while one transaction commits are written together by the next one, so
//! the flush is paid once per batch instead of once per license. An idle server commits each
//! record alone, at once: no timer delays anything.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

use crate::StoreError;
use crate::records::{IssuedRecord, NewAuditEntry};

/// The most records one transaction carries.
const MAX_BATCH: usize = 128;

/// One record waiting for its commit, and where its outcome goes.
pub(crate) struct Job {
    pub(crate) record: IssuedRecord,
    pub(crate) audit: NewAuditEntry,
    pub(crate) done: oneshot::Sender<Result<(), StoreError>>,
}

#[derive(Default)]
struct Queue {
    jobs: Vec<Job>,
    /// Whether a writer task is running; at most one is.
    writing: bool,
}

/// The records waiting for a commit.
#[derive(Clone, Default)]
pub(crate) struct GroupCommit {
    queue: Arc<Mutex<Queue>>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl GroupCommit {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        match self.queue.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Queues `job`; returns true when no writer is running and the caller must start one.
    pub(crate) fn push(&self, job: Job) -> bool {
        let mut queue = self.lock();
        queue.jobs.push(job);
        !std::mem::replace(&mut queue.writing, true)
    }

    /// The writer task's handle on the queue. Call only after [`GroupCommit::push`] returned
    /// true.
    pub(crate) fn writer(&self) -> Writer {
        Writer {
            commit: self.clone(),
            finished: false,
        }
    }
}

/// The one running writer's handle. If the writer ends without emptying the queue (its runtime
/// shut down mid-commit), dropping the handle fails the waiting jobs instead of leaving them
/// waiting forever.
pub(crate) struct Writer {
    commit: GroupCommit,
    finished: bool,
}

impl Writer {
    /// The next batch, or `None` (and the writer marked stopped) when the queue is empty.
    pub(crate) fn next_batch(&mut self) -> Option<Vec<Job>> {
        let mut queue = self.commit.lock();
        if queue.jobs.is_empty() {
            queue.writing = false;
            self.finished = true;
            return None;
        }
        let take = queue.jobs.len().min(MAX_BATCH);
        Some(queue.jobs.drain(..take).collect())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let mut queue = self.commit.lock();
        queue.writing = false;
        for job in queue.jobs.drain(..) {
            // The waiter may be gone too; there is no one else to tell.
            let _ = job.done.send(Err(StoreError::Interrupted(
                "the issuance writer stopped before committing this record".into(),
            )));
        }
    }
}

//! Group commit of issuance records: concurrent `record_issued` calls share one transaction.
//!
//! Each issuance must be committed before its certificate or license is returned, and a commit
//! costs a disk flush (SQLite) or a round trip and a WAL flush (PostgreSQL). Under load, the
//! records that arrive while one transaction commits are written together by the next one, so
//! the flush is paid once per batch instead of once per license. Under load, on PostgreSQL,
//! the writer also lets records gather for a moment before each transaction ([`gather_under_load`]).

use std::time::Duration;

use tokio::sync::oneshot;

use crate::queue::WorkQueue;
use crate::records::{IssuedRecord, NewAuditEntry};
use crate::{Backend, StoreError};

/// The most records one transaction carries.
pub(crate) const MAX_BATCH: usize = 128;

/// Under load (the last transaction carried more than one record), how long the writer lets
/// records gather before it starts the next transaction, if at all.
///
/// On PostgreSQL each transaction costs round trips and work of a server process on the same
/// cores whatever it carries, so larger batches cost less per record: 5 ms of gathering gave
/// 0.38 to 0.44 of the raw signing rate where none gave 0.37 to 0.38. On SQLite a transaction
/// is cheap (in the process, one WAL append), and gathering only left the server idle while
/// every client waited for the next commit (a quarter of a core idle at 32 clients): without it
/// use licenses went from 0.38-0.49 to 0.48-0.52 of the raw rate (docs/performance.md). An
/// idle store waits for nothing on either.
pub(crate) fn gather_under_load(backend: Backend) -> Option<Duration> {
    match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(Duration::from_millis(5)),
    }
}

/// One record waiting for its commit, and where its outcome goes.
pub(crate) struct Job {
    pub(crate) record: IssuedRecord,
    pub(crate) audit: NewAuditEntry,
    /// The configuration generation the access decision was made at, if the commit must check
    /// that it is still current.
    pub(crate) decided_at: Option<i64>,
    pub(crate) done: oneshot::Sender<Result<(), StoreError>>,
}

/// The records waiting for a commit.
pub(crate) type GroupCommit = WorkQueue<Job>;

impl Job {
    /// Whether the decision behind this record predates configuration generation `current`.
    pub(crate) fn is_stale(&self, current: i64) -> bool {
        self.decided_at.is_some_and(|decided| decided != current)
    }
}

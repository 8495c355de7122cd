//! Group commit of issuance records: concurrent `record_issued` calls share one transaction.
//!
//! Each issuance must be committed before its certificate or license is returned, and a commit
//! costs a disk flush (SQLite) or a round trip and a WAL flush (PostgreSQL). Under load, the
//! records that arrive while one transaction commits are written together by the next one, so
//! the flush is paid once per batch instead of once per license. Under load the writer also
//! lets records gather for a moment before each transaction ([`GATHER_UNDER_LOAD`]).

use std::time::Duration;

use tokio::sync::oneshot;

use crate::StoreError;
use crate::queue::WorkQueue;
use crate::records::{IssuedRecord, NewAuditEntry};

/// The most records one transaction carries.
pub(crate) const MAX_BATCH: usize = 128;

/// Under load (the last transaction carried more than one record), how long the writer lets
/// records gather before it starts the next transaction. Each transaction costs a flush, a
/// few page writes and a round trip per statement whatever it carries, so larger batches cost
/// less per record; with clients waiting on every server thread, the wait adds nothing to
/// their latency (the server signs other requests meanwhile). An idle store waits for nothing.
pub(crate) const GATHER_UNDER_LOAD: Duration = Duration::from_millis(5);

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

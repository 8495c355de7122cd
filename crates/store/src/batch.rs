//! Group commit of issuance records: concurrent `record_issued` calls share one transaction.
//!
//! Each issuance must be committed before its certificate or license is returned, and a commit
//! costs a disk flush (SQLite) or a round trip and a WAL flush (PostgreSQL). Under load, the
//! records that arrive while one transaction commits are written together by the next one, so
//! the flush is paid once per batch instead of once per license.

use tokio::sync::oneshot;

use crate::StoreError;
use crate::queue::WorkQueue;
use crate::records::{IssuedRecord, NewAuditEntry};

/// The most records one transaction carries.
pub(crate) const MAX_BATCH: usize = 128;

/// One record waiting for its commit, and where its outcome goes.
pub(crate) struct Job {
    pub(crate) record: IssuedRecord,
    pub(crate) audit: NewAuditEntry,
    pub(crate) done: oneshot::Sender<Result<(), StoreError>>,
}

/// The records waiting for a commit.
pub(crate) type GroupCommit = WorkQueue<Job>;

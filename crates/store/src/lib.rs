//! # rms-store: the configuration database of a cluster
//!
//! Everything a cluster keeps: its identity and SLC chain (with the private key encrypted at
//! rest), principals, groups and their token hashes, each service's security descriptor, the
//! record of everything issued, the append-only audit log, and the heartbeats of its nodes.
//!
//! One interface, two backends chosen by URL: a SQLite file (the embedded default, one server)
//! and PostgreSQL (several servers of one cluster). The schema is versioned; migrations run on
//! open, under a lock, and a database written by a newer build is refused.
//!
//! # Example
//!
//! ```
//! # async fn demo() -> Result<(), rms_store::StoreError> {
//! use rms_store::{Store, NewAuditEntry, Outcome};
//!
//! let dir = tempfile::tempdir().map_err(|e| rms_store::StoreError::Corrupt(e.to_string()))?;
//! let store = Store::open_sqlite(&dir.path().join("cluster.db")).await?;
//! store.audit(&NewAuditEntry {
//!     principal: "alice".into(),
//!     service: "SubEnrollService".into(),
//!     action: "subenroll".into(),
//!     outcome: Outcome::Denied,
//!     reason: "empty DACL".into(),
//!     node: "node-1".into(),
//! }).await?;
//! assert_eq!(store.audit_log(None, 10).await?.len(), 1);
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().map(|rt| rt.block_on(demo())).ok();
//! ```

pub use crate::error::StoreError;
pub use crate::issued::IssuedFilter;
pub use crate::postgres::{create_postgres_schema, drop_postgres_schema, postgres_schema_url};
pub use crate::records::{
    AuditEntry, AuthenticatedPrincipal, ClusterIdentity, ClusterRole, DescriptorRecord, IssuedKind,
    IssuedRecord, NewAuditEntry, NodeRecord, Outcome, Principal, PrincipalKind, RevocationRecord,
    SlcRecord,
};
pub use crate::schema::SCHEMA_VERSION;
pub use crate::store::{Backend, Store, StoreOptions, redact};

mod batch;
mod error;
mod generation;
mod issued;
mod postgres;
mod queue;
mod records;
mod rows;
mod schema;
mod store;

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
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use rms_store::{Store, NewAuditEntry, Outcome};
//!
//! let dir = tempfile::tempdir()?;
//! let store = Store::open_sqlite(&dir.path().join("cluster.db")).await?;
//! store.audit(&NewAuditEntry::new(
//!     "alice", "SubEnrollService", "subenroll", Outcome::Denied, "empty DACL", "node-1",
//! )).await?;
//! let log = store.audit_log(None, 10).await?;
//! assert_eq!(log.len(), 1);
//! assert_eq!(log[0].entry.outcome, Outcome::Denied);
//! # Ok(()) }
//! # tokio::runtime::Runtime::new()?.block_on(demo()).map_err(|e| e.to_string())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use crate::audit::{AuditFilter, AuditPage, MoreEntries};
pub use crate::error::StoreError;
pub use crate::issued::IssuedFilter;
pub use crate::postgres::{create_postgres_schema, drop_postgres_schema, postgres_schema_url};
pub use crate::records::{
    AuditEntry, AuthenticatedPrincipal, ClusterIdentity, ClusterRole, ContentRevocationRecord,
    DescriptorRecord, IssuedKind, IssuedRecord, NewAuditEntry, NodeRecord, Outcome, Principal,
    PrincipalKind, RevocationRecord, SlcRecord, SuperUsers, TemplateGrantRecord, TemplateRecord,
    TokenGrant, TokenRecord, UseLicenseRevocationRecord,
};
pub use crate::schema::SCHEMA_VERSION;
pub use crate::store::{Backend, Store, StoreOptions, redact};
pub use crate::tokens::token_id_of;

mod audit;
mod batch;
mod content_controls;
mod descriptors;
mod error;
mod generation;
mod issued;
mod nodes;
mod postgres;
mod principals;
mod queue;
mod records;
mod rows;
mod schema;
mod slcs;
mod store;
mod templates;
mod tokens;

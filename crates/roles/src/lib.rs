//! # rms-roles: the root certification and licensing roles, without HTTP
//!
//! What the servers do, as library calls that a transport (ours is `rms-transport`) or any
//! other Rust service can drive:
//!
//! - **Root certification** ([`init_root`], [`RootRole`]): create a cluster enrolled with a new
//!   enrollment authority through the same request form licensing servers use, then
//!   [`RootRole::sub_enroll`]: authenticate the caller, check `SubEnrollService`'s DACL (which
//!   denies everyone until an administrator grants it), check the request, issue a one-year
//!   licensing SLC, record it, return the chain.
//! - **Licensing** ([`EnrollmentPlan`], [`LicensingRole`]): sub-enroll with a root and verify
//!   the answer against a trusted authority, then issue publishing and use licenses (seven
//!   years) with the cluster's SLC key, refusing to issue with an SLC that is not valid now.
//! - **Administration** ([`Admin`]): principals, groups, tokens and service DACLs.
//!
//! Every node reads DACLs and principals from the configuration database (`rms-store`) on each
//! request, so a change made anywhere applies everywhere at once. Every decision goes to the
//! audit log; every issuance is committed before it is returned.
//!
//! # Example
//!
//! ```
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use rms_roles::*;
//!
//! let dir = tempfile::tempdir()?;
//! let store = rms_store::Store::open_sqlite(&dir.path().join("root.db")).await?;
//! let secret = ClusterSecret::generate()?;
//! let options = NodeOptions::default();
//! let init = RootInit {
//!     name: "root-1".into(),
//!     url: "https://rms.example/certification".into(),
//!     authority_name: "CN=Example Enrollment Authority".into(),
//!     key_bits: 2048,
//! };
//! let made = init_root(&store, &secret, &init, &options).await?;
//! let root = RootRole::new(Arc::new(Cluster::open(store, &secret, options).await?))?;
//!
//! // A fresh root refuses every sub-enrollment, its own administrator's included.
//! let plan = EnrollmentPlan::new("licensing-1", "https://lic.example", 2048)?;
//! let refused = root.sub_enroll(Some(&made.admin.token), plan.request_pem().as_bytes()).await;
//! assert!(matches!(refused, Err(RoleError::Denied { .. })));
//! # Ok(()) }
//! # tokio::runtime::Runtime::new()?.block_on(demo()).map_err(|e| e.to_string())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use crate::admin::{ADMIN_PRINCIPAL, ADMINS_GROUP, Admin, AdminCredentials};
pub use crate::clock::{Clock, ManualClock, SystemClock};
pub use crate::cluster::{
    Caller, Cluster, Decision, NodeOptions, default_node_id, renewal_warning,
};
pub use crate::error::{ErrorClass, RoleError};
pub use crate::licensing::{EnrollmentPlan, LICENSING_SERVICES, LicensingRole, PublishRequest};
pub use crate::lifecycle::{CRL_LIFETIME, RenewalPlan, renew_root_with_authority};
pub use crate::root::{ROOT_SERVICES, RootInit, RootInitOutcome, RootRole, init_root};
pub use crate::secret::{
    CLUSTER_SECRET_ENV, CLUSTER_SECRET_FILE, ClusterSecret, hash_token, new_token,
    write_private_file,
};
pub use rms_dacl::Service;

mod admin;
mod clock;
mod cluster;
mod error;
mod licensing;
mod lifecycle;
mod root;
mod secret;

/// Locks a mutex of ours. None of them holds an invariant a panic elsewhere could leave
/// half-updated (caches, a clock, the published CRL), so a poisoned lock is still usable.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The serial number of a certificate, as lowercase hex.
pub fn serial_hex(certificate: &rms_cert::x509_cert::Certificate) -> String {
    certificate
        .tbs_certificate()
        .serial_number()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

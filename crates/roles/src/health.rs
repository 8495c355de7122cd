//! A node's health: whether it can serve, and what needs attention soon.

use std::time::Duration;

use rms_policy::RenewalStatus;
use rms_store::ClusterRole;
use time::OffsetDateTime;

use crate::{Cluster, LICENSING_SERVICES, ROOT_SERVICES, renewal_warning, rfc3339};

/// How long a health check waits for the configuration database.
pub const HEALTH_DATABASE_TIMEOUT: Duration = Duration::from_secs(2);

/// What a health check found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Health {
    /// Root or licensing.
    pub role: ClusterRole,
    /// The cluster's name.
    pub cluster: String,
    /// This node.
    pub node: String,
    /// The serial of the SLC the node signs with.
    pub slc_serial: String,
    /// When that SLC expires.
    pub slc_not_after: OffsetDateTime,
    /// Whole days until then (negative once expired).
    pub slc_days_left: i64,
    /// Why the node cannot serve, if it cannot (a transport answers 503).
    pub problems: Vec<String>,
    /// What needs attention soon, e.g. an SLC inside its renewal window.
    pub warnings: Vec<String>,
}

impl Health {
    /// Whether the node can serve.
    #[must_use]
    pub fn is_healthy(&self) -> bool {
        self.problems.is_empty()
    }
}

impl Cluster {
    /// Checks the node: the configuration database answers (within
    /// [`HEALTH_DATABASE_TIMEOUT`]), the SLC it signs with is the cluster's current one and
    /// valid, and every service's stored descriptor can be read.
    pub async fn health(&self) -> Health {
        let mut problems = Vec::new();
        // A health check must answer quickly even while the database does not.
        let checked = tokio::time::timeout(HEALTH_DATABASE_TIMEOUT, async {
            self.store().ping().await?;
            // Picks up an SLC renewed by another node or the command line.
            self.current_generation().await?;
            let services: &[_] = match self.identity().role {
                ClusterRole::Root => &ROOT_SERVICES,
                ClusterRole::Licensing => &LICENSING_SERVICES,
            };
            let mut unreadable = Vec::new();
            for service in services {
                if let Err(error) = self.stored_descriptor(*service).await {
                    unreadable.push(error.to_string());
                }
            }
            Ok::<_, crate::RoleError>(unreadable)
        })
        .await;
        match checked {
            Ok(Ok(unreadable)) => problems.extend(unreadable),
            Ok(Err(error)) => problems.push(error.to_string()),
            Err(_) => problems.push(format!(
                "configuration database unavailable: no answer within {} s",
                HEALTH_DATABASE_TIMEOUT.as_secs()
            )),
        }
        let now = self.now();
        let validity = self.slc_validity();
        let policy = self.options().policy;
        match policy.renewal_status(&validity, now) {
            RenewalStatus::NotYetValid => problems.push(format!(
                "the server licensor certificate is not valid before {}: check the server's clock",
                rfc3339(validity.not_before())
            )),
            RenewalStatus::ExpiredInGrace { .. } => problems.push(format!(
                "the server licensor certificate expired at {}: renew it before {}",
                rfc3339(validity.not_after()),
                rfc3339(validity.not_after() + policy.renewal_grace)
            )),
            RenewalStatus::ExpiredBeyondGrace { .. } => problems.push(format!(
                "the server licensor certificate expired at {}, beyond the {}-day renewal grace period: only a new enrollment can restore this cluster",
                rfc3339(validity.not_after()),
                policy.renewal_grace.whole_days()
            )),
            _ => {}
        }
        let warnings = match problems.is_empty() {
            true => renewal_warning(self, now).into_iter().collect(),
            false => Vec::new(),
        };
        Health {
            role: self.identity().role,
            cluster: self.identity().name.clone(),
            node: self.options().node_id.clone(),
            slc_serial: crate::serial_hex(self.chain().leaf()),
            slc_not_after: validity.not_after(),
            slc_days_left: (validity.not_after() - now).whole_days(),
            problems,
            warnings,
        }
    }
}

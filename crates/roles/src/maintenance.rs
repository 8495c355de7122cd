//! What a node does in the background while it serves: its heartbeat in the configuration
//! database, renewal warnings in the log, the summary rows of refusals left out of the audit
//! log and, for a node that renews through an issuer, automatic renewal with back-off.
//!
//! The transport to the issuer is a [`RenewalChannel`] (`rms-transport` implements it over
//! HTTP); everything else, including when to renew and how long to wait after a failure, is
//! decided here.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rms_policy::Validity;
use rms_store::NodeRecord;
use time::OffsetDateTime;

use crate::{Cluster, RenewalPlan, RoleError, describe_error, renewal_warning, rfc3339};

/// How often a node writes its heartbeat.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(10);
/// How often automatic renewal looks at the SLC, and how often the renewal warning is logged.
pub const RENEWAL_CHECK: Duration = Duration::from_secs(3600);
/// The first wait after a failed automatic renewal; it doubles up to [`RENEWAL_CHECK`].
pub const RENEWAL_FIRST_RETRY: Duration = Duration::from_secs(60);

/// The wait before retrying a failed automatic renewal: one minute, doubling up to an hour.
#[must_use]
pub fn renewal_backoff(previous: Option<Duration>) -> Duration {
    match previous {
        None => RENEWAL_FIRST_RETRY,
        Some(wait) => (wait * 2).min(RENEWAL_CHECK),
    }
}

/// How a renewal request reaches the issuer of the SLC (a root, over HTTP for our servers):
/// it sends the request (PEM) and returns the chain the issuer answered (PEM).
pub trait RenewalChannel: Send + Sync {
    /// Sends `request_pem`; the issuer's chain, or why there is none.
    fn renew(
        &self,
        request_pem: &str,
    ) -> impl Future<Output = Result<String, Box<dyn std::error::Error + Send + Sync>>> + Send;
}

impl Cluster {
    /// Renews the cluster's SLC through `channel` (the same key, or a new one of `key_bits`
    /// with `rekey`), installs the renewed SLC once its chain verifies, and returns its
    /// validity.
    pub async fn renew_through(
        &self,
        channel: &impl RenewalChannel,
        rekey: bool,
        key_bits: usize,
    ) -> Result<Validity, RoleError> {
        let plan = RenewalPlan::new(self, rekey, key_bits)?;
        let chain_pem = channel
            .renew(&plan.request_pem()?)
            .await
            .map_err(RoleError::Upstream)?;
        plan.complete(self, &chain_pem).await
    }

    /// [`Cluster::renew_through`] if the SLC is inside its renewal window or expired within
    /// the grace period (by the cluster's clock and policy); `None` when there is nothing to
    /// do yet.
    pub async fn renew_if_due(
        &self,
        channel: &impl RenewalChannel,
        rekey: bool,
        key_bits: usize,
    ) -> Result<Option<Validity>, RoleError> {
        let status = self
            .options()
            .policy
            .renewal_status(&self.slc_validity(), self.now());
        if !status.renewable() {
            return Ok(None);
        }
        self.renew_through(channel, rekey, key_bits).await.map(Some)
    }
}

/// A node's background work, to spawn beside its server.
///
/// ```no_run
/// # async fn demo(cluster: std::sync::Arc<rms_roles::Cluster>) {
/// let maintenance = rms_roles::Maintenance::new(cluster, "https://lic-1.example:8443");
/// let task = tokio::spawn(maintenance.run_without_renewal());
/// // ... serve ...
/// task.abort();
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Maintenance {
    cluster: Arc<Cluster>,
    address: String,
}

impl Maintenance {
    /// The background work of `cluster`'s node serving at `address` (as its heartbeat says).
    #[must_use]
    pub fn new(cluster: Arc<Cluster>, address: impl Into<String>) -> Self {
        Self {
            cluster,
            address: address.into(),
        }
    }

    /// Heartbeats, warnings and refusal summaries, forever.
    pub async fn run_without_renewal(self) {
        self.heartbeats().await;
    }

    /// Heartbeats, warnings and refusal summaries, and automatic renewal through `channel`
    /// (checked every [`RENEWAL_CHECK`], retried with [`renewal_backoff`] after a failure),
    /// forever.
    pub async fn run_with_renewal(self, channel: impl RenewalChannel, rekey: bool) {
        let cluster = self.cluster.clone();
        let renewals = async move {
            let key_bits = cluster.signer().bits();
            let mut backoff = None;
            loop {
                let wait = match cluster.renew_if_due(&channel, rekey, key_bits).await {
                    Ok(renewed) => {
                        if let Some(validity) = renewed {
                            tracing::info!(
                                not_after = %rfc3339(validity.not_after()),
                                "renewed the SLC automatically"
                            );
                        }
                        backoff = None;
                        RENEWAL_CHECK
                    }
                    Err(error) => {
                        let wait = renewal_backoff(backoff);
                        backoff = Some(wait);
                        tracing::warn!(error = %describe_error(&error), retry_in_s = wait.as_secs(), "automatic SLC renewal failed");
                        wait
                    }
                };
                tokio::time::sleep(wait).await;
            }
        };
        tokio::join!(self.heartbeats(), renewals);
    }

    async fn heartbeats(&self) {
        let started_at = OffsetDateTime::now_utc();
        let mut last_warned: Option<std::time::Instant> = None;
        loop {
            let node = NodeRecord {
                node_id: self.cluster.options().node_id.clone(),
                address: self.address.clone(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                started_at,
                last_seen: OffsetDateTime::now_utc(),
            };
            if let Err(error) = self.cluster.store().heartbeat(&node).await {
                tracing::warn!(error = %describe_error(&error), "heartbeat not recorded");
            }
            if let Err(error) = self.cluster.flush_refusals().await {
                tracing::warn!(error = %describe_error(&error), "refusal summaries not written to the audit log");
            }
            // At start and then hourly: every heartbeat for 30 days would bury everything else.
            let due = last_warned.is_none_or(|at| at.elapsed() >= RENEWAL_CHECK);
            if due && let Some(warning) = renewal_warning(&self.cluster, self.cluster.now()) {
                tracing::warn!("{warning}");
                last_warned = Some(std::time::Instant::now());
            }
            tokio::time::sleep(HEARTBEAT_INTERVAL).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_check_interval() {
        let mut wait = None;
        let mut seen = Vec::new();
        for _ in 0..8 {
            let next = renewal_backoff(wait);
            seen.push(next.as_secs());
            wait = Some(next);
        }
        assert_eq!(seen, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }
}

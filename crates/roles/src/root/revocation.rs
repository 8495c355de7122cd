//! Revoking the SLCs a root issued, and the revocation list it publishes.

use rms_cert::{CertError, RevocationList, RevocationReason, RevokedEntry, SerialNumber};
use rms_store::{Outcome, RevocationRecord};
use time::{Duration, OffsetDateTime};

use crate::error::cert_refused;
use crate::{RequestContext, RoleError, RootRole, Service, lock};

/// How long a revocation list stays current (its nextUpdate after thisUpdate).
pub const CRL_LIFETIME: Duration = Duration::days(7);

impl RootRole {
    /// Revokes an SLC this root issued, from `at` (default: now; never in the future), for
    /// `reason`. With keyCompromise, verifiers refuse everything it ever signed; otherwise what
    /// it signed after `at`. Its renewal is refused from now on.
    pub async fn revoke(
        &self,
        actor: &str,
        serial: &str,
        reason: RevocationReason,
        at: Option<OffsetDateTime>,
    ) -> Result<RevocationRecord, RoleError> {
        let cluster = self.cluster();
        let serial = serial
            .parse::<SerialNumber>()
            .map_err(|e| RoleError::bad_input("invalid_serial", e.to_string()))?
            .to_string();
        let now = cluster.now();
        let revoked_at = at.unwrap_or(now);
        if revoked_at > now {
            return Err(RoleError::bad_input(
                "revocation_in_future",
                format!(
                    "a revocation takes effect now or earlier, not at {}",
                    crate::rfc3339(revoked_at)
                ),
            ));
        }
        let record = self.issued_slc(&serial).await?.ok_or_else(|| {
            RoleError::NotFound(format!("no SLC with serial {serial} issued by this root"))
        })?;
        let revocation = RevocationRecord {
            issuer_serial: record.issuer_serial.clone(),
            serial: serial.clone(),
            revoked_at,
            reason: reason.name().to_owned(),
            revoked_by: actor.to_owned(),
        };
        let entry = cluster.audit_entry(
            &RequestContext::anonymous(),
            actor,
            Service::SubEnroll,
            "revoke",
            Outcome::Allowed,
            &format!(
                "revoked SLC {serial} of {:?} from {} ({reason})",
                record.subject,
                crate::rfc3339(revoked_at)
            ),
        );
        cluster.store().revoke(&revocation, &entry).await?;
        Ok(revocation)
    }

    /// A new revocation list of every SLC this root revoked, signed with its current SLC key,
    /// valid from now for [`CRL_LIFETIME`], with the next CRL number.
    pub async fn crl(&self) -> Result<RevocationList, RoleError> {
        let entries = self.revoked_entries().await?;
        self.issue_crl(&entries).await
    }

    /// The revocation list to publish: the one issued last, while it lists exactly the current
    /// revocations, was signed with the current SLC and is in the first half of its validity;
    /// otherwise a new one. Serving the list costs a database read, not a signature and a new
    /// CRL number per request.
    pub async fn published_crl(&self) -> Result<RevocationList, RoleError> {
        let entries = self.revoked_entries().await?;
        let serial = self.cluster().signing().serial.clone();
        let now = self.cluster().now();
        if let Some(published) = lock(&self.published).as_ref()
            && published.entries == entries
            && published.signed_by == serial
            && published.crl.this_update() <= now
            && now < published.crl.this_update() + CRL_LIFETIME / 2
        {
            return Ok(published.crl.clone());
        }
        let crl = self.issue_crl(&entries).await?;
        *lock(&self.published) = Some(PublishedCrl {
            entries,
            signed_by: serial,
            crl: crl.clone(),
        });
        Ok(crl)
    }

    async fn revoked_entries(&self) -> Result<Vec<RevokedEntry>, RoleError> {
        let mut entries = Vec::new();
        for revocation in self.cluster().store().revocations().await? {
            let corrupt = |e: CertError| {
                RoleError::Internal(format!(
                    "stored revocation of {}: {}",
                    revocation.serial,
                    crate::describe_error(&e)
                ))
            };
            entries.push(RevokedEntry::new(
                revocation.serial.parse().map_err(corrupt)?,
                revocation.revoked_at,
                revocation.reason.parse().map_err(corrupt)?,
            ));
        }
        Ok(entries)
    }

    async fn issue_crl(&self, entries: &[RevokedEntry]) -> Result<RevocationList, RoleError> {
        let cluster = self.cluster();
        let number = cluster.store().next_crl_number().await?;
        let now = cluster.now();
        cluster
            .signing()
            .issuer
            .issue_crl(
                entries,
                u64::try_from(number)
                    .map_err(|_| RoleError::Internal("negative CRL number".into()))?,
                now,
                now + CRL_LIFETIME,
            )
            .map_err(cert_refused)
    }
}

/// The revocation list a root serves, and what it was made from.
#[derive(Debug)]
pub(crate) struct PublishedCrl {
    entries: Vec<RevokedEntry>,
    /// Serial of the SLC that signed it.
    signed_by: String,
    crl: RevocationList,
}

//! The SLC lifecycle: renewal (the same key, or a new one), revocation, and the revocation
//! list a root publishes.
//!
//! A server renews by sending a [`RenewalRequest`]: a new enrollment request for its own
//! identity, wrapped and signed with the key of the SLC being renewed. The issuer checks that
//! signature against its record of that SLC, that the SLC is not revoked, and that it is inside
//! its renewal window (or expired within the grace period), then issues a new one-year SLC.

use std::sync::Arc;

use der::Decode;
use rms_cert::x509_cert::Certificate;
use rms_cert::{
    CertError, Chain, CheckedRenewal, EnrollmentRequest, Issuer, RenewalRequest, RevocationList,
    RevocationReason, RevokedEntry, RsaSigner, SerialNumber, ServerIdentity, Signer,
};
use rms_dacl::Service;
use rms_policy::{RenewalStatus, Validity, ValidityPolicy};
use rms_store::{Outcome, RevocationRecord};
use time::{Duration, OffsetDateTime};

use crate::error::cert_refused;
use crate::root::slc_record;
use crate::{Cluster, RoleError, RootRole, lock};

/// How long a revocation list stays current (its nextUpdate after thisUpdate).
pub const CRL_LIFETIME: Duration = Duration::days(7);

/// A renewal in progress on the server that renews: the request to send, and the key the new
/// SLC will certify (the current one, or a new one for a rekey).
#[derive(Debug)]
pub struct RenewalPlan {
    key: Arc<RsaSigner>,
    request: RenewalRequest,
    identity: ServerIdentity,
    rekey: bool,
}

impl RenewalPlan {
    /// A renewal of `cluster`'s current SLC; with `rekey`, for a new RSA key of `key_bits`.
    pub fn new(cluster: &Cluster, rekey: bool, key_bits: usize) -> Result<Self, RoleError> {
        let signing = cluster.signing();
        let current = signing.issuer.certificate();
        let identity = ServerIdentity::from_certificate(current).map_err(RoleError::Cert)?;
        let key = if rekey {
            Arc::new(RsaSigner::generate(key_bits).map_err(RoleError::Cert)?)
        } else {
            signing.key.clone()
        };
        let inner = EnrollmentRequest::new(&identity, key.as_ref()).map_err(RoleError::Cert)?;
        let request = RenewalRequest::new(current, signing.key.as_ref(), &inner, cluster.now())
            .map_err(RoleError::Cert)?;
        Ok(Self {
            key,
            request,
            identity,
            rekey,
        })
    }

    /// The request to send to the issuer.
    pub fn request(&self) -> &RenewalRequest {
        &self.request
    }

    /// The request as PEM.
    pub fn request_pem(&self) -> Result<String, RoleError> {
        self.request.to_pem().map_err(RoleError::Cert)
    }

    /// Whether the renewal certifies a new key.
    pub fn is_rekey(&self) -> bool {
        self.rekey
    }

    /// Finishes the renewal with the chain the issuer returned: it must verify under the
    /// cluster's trust anchor, certify this plan's key, and keep the server's identity. The new
    /// SLC is then installed; the cluster signs with it from the next request on.
    pub async fn complete(self, cluster: &Cluster, chain_pem: &str) -> Result<Validity, RoleError> {
        let chain = Chain::from_pem(chain_pem).map_err(|e| {
            RoleError::bad_input(
                "malformed_chain",
                format!("the issuer's answer is not a PEM chain: {e}"),
            )
        })?;
        let certs = chain
            .certificates()
            .iter()
            .map(rms_chain::Cert::from_certificate)
            .collect::<Result<Vec<_>, _>>()
            .map_err(untrusted)?;
        let (leaf, pool) = certs
            .split_first()
            .ok_or_else(|| RoleError::bad_input("malformed_chain", "empty chain"))?;
        cluster
            .verifier()
            .verify_path(leaf, pool, cluster.now())
            .map_err(untrusted)?;
        if *chain.leaf().tbs_certificate().subject_public_key_info() != self.key.public_key() {
            return Err(RoleError::refused(
                "wrong_key",
                "the renewed SLC does not certify the key this renewal asked for",
            ));
        }
        let renewed = ServerIdentity::from_certificate(chain.leaf()).map_err(RoleError::Cert)?;
        if renewed != self.identity {
            return Err(RoleError::refused(
                "identity_changed",
                "the renewed SLC names another server than the one renewed",
            ));
        }
        cluster.install_slc(&chain, self.key).await
    }
}

fn untrusted(error: rms_chain::ChainError) -> RoleError {
    RoleError::refused(
        "untrusted_chain",
        format!("the renewed chain does not verify under the cluster's trust anchor: {error}"),
    )
}

/// Refuses a renewal outside the window in which `policy` allows it.
fn check_renewal_window(
    policy: &ValidityPolicy,
    current: &Certificate,
    now: OffsetDateTime,
) -> Result<(), RoleError> {
    let validity = rms_policy::from_x509_validity(current.tbs_certificate().validity())
        .map_err(|e| RoleError::Internal(e.to_string()))?;
    let status = policy.renewal_status(&validity, now);
    match status {
        RenewalStatus::Due { .. } | RenewalStatus::ExpiredInGrace { .. } => Ok(()),
        RenewalStatus::TooEarly { window_opens_in } => Err(RoleError::refused(
            "renewal_too_early",
            format!(
                "the SLC is valid until {}; renewal opens {} days before that (in {} days)",
                validity.not_after(),
                policy.renewal_window.whole_days(),
                window_opens_in.whole_days()
            ),
        )),
        RenewalStatus::ExpiredBeyondGrace { expired_for } => Err(RoleError::refused(
            "renewal_grace_expired",
            format!(
                "the SLC expired {} days ago, beyond the {}-day grace period: enroll anew",
                expired_for.whole_days(),
                policy.renewal_grace.whole_days()
            ),
        )),
        RenewalStatus::NotYetValid => Err(RoleError::refused(
            "renewal_not_yet_valid",
            format!(
                "the SLC is not valid before {}: nothing to renew yet",
                validity.not_before()
            ),
        )),
    }
}

/// Checks a renewal request against the certificate it renews, and the renewal window.
fn check_renewal(
    policy: &ValidityPolicy,
    request: &RenewalRequest,
    current: &Certificate,
    now: OffsetDateTime,
) -> Result<CheckedRenewal, RoleError> {
    let checked = request.verify(current).map_err(cert_refused)?;
    check_renewal_window(policy, current, now)?;
    Ok(checked)
}

/// Reads a renewal request sent as PEM or DER.
fn parse_renewal(bytes: &[u8]) -> Result<RenewalRequest, RoleError> {
    let parsed = match std::str::from_utf8(bytes) {
        Ok(text) if text.trim_start().starts_with("-----BEGIN") => RenewalRequest::from_pem(text),
        _ => RenewalRequest::from_der(bytes),
    };
    parsed.map_err(|e| RoleError::bad_input("malformed_renewal", format!("renewal request: {e}")))
}

impl RootRole {
    /// Renews an SLC this root issued: the request must be signed with that SLC's key (no
    /// bearer token is needed; one may be given, and `RenewalService`'s DACL applies either
    /// way), the SLC must not be revoked and must be inside its renewal window or grace period.
    /// Returns the chain `[renewed SLC, root SLC, authority]` once the new SLC is recorded.
    pub async fn renew(&self, token: Option<&str>, request: &[u8]) -> Result<Chain, RoleError> {
        let cluster = self.cluster();
        let request = parse_renewal(request)?;
        let serial = request.current_serial().to_string();
        let caller = match token {
            Some(token) => cluster.authenticate(Some(token)).await?,
            None => cluster.server_caller(&format!("slc:{serial}")).await?,
        };
        let refuse = |error: RoleError| async {
            cluster
                .audit(
                    &caller.name,
                    Service::Renewal,
                    "renew",
                    Outcome::Denied,
                    &error.to_string(),
                )
                .await?;
            Err::<Chain, RoleError>(error)
        };
        let Some(record) = self.issued_slc(&serial).await? else {
            return refuse(RoleError::refused(
                "unknown_slc",
                format!("this root has issued no SLC with serial {serial}"),
            ))
            .await;
        };
        let current = Certificate::from_der(&record.der)
            .map_err(|e| RoleError::Internal(format!("stored SLC {serial}: {e}")))?;
        if let Some(revoked) = cluster.store().revocation(&serial).await? {
            return refuse(RoleError::refused(
                "slc_revoked",
                format!(
                    "SLC {serial} was revoked at {} ({}): it cannot be renewed",
                    revoked.revoked_at, revoked.reason
                ),
            ))
            .await;
        }
        let now = cluster.now();
        let checked = match check_renewal(&cluster.options().policy, &request, &current, now) {
            Ok(checked) => checked,
            Err(error) => return refuse(error).await,
        };
        let decision = cluster
            .authorize(&caller, Service::Renewal, "renew")
            .await?;
        let signing = cluster.signing();
        cluster.require_valid_slc(&signing, now)?;
        let chain = signing
            .issuer
            .issue_slc(checked.request(), now)
            .map_err(cert_refused)?;
        let subject = checked.request().identity().common_name().to_owned();
        let record = slc_record(
            cluster,
            &signing.serial,
            &chain,
            &subject,
            &caller.name,
            now,
        )?;
        let renewed = record.serial.clone();
        let what = if checked.is_rekey() {
            "rekeyed"
        } else {
            "renewed"
        };
        let reason = format!("{decision}; {what} SLC {serial} of {subject:?} as {renewed}");
        let entry = cluster.audit_entry(
            &caller.name,
            Service::Renewal,
            "renew",
            Outcome::Allowed,
            &reason,
        );
        cluster.store().record_issued(&record, &entry).await?;
        tracing::info!(%subject, old = %serial, new = %renewed, rekey = checked.is_rekey(), "renewed an SLC");
        Ok(chain)
    }

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
                format!("a revocation takes effect now or earlier, not at {revoked_at}"),
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
            actor,
            Service::SubEnroll,
            "revoke",
            Outcome::Allowed,
            &format!(
                "revoked SLC {serial} of {:?} from {revoked_at} ({reason})",
                record.subject
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
                RoleError::Internal(format!("stored revocation of {}: {e}", revocation.serial))
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

/// Renews a root's own SLC with its enrollment authority, the same way a root renews a
/// licensing server's: the request is signed with the root's current key and checked by the
/// authority against the root's current SLC and renewal window. `authority_key_pem` is the
/// authority's key as `init` wrote it (encrypted with the cluster secret).
pub async fn renew_root_with_authority(
    root: &RootRole,
    authority_pem: &str,
    authority_key_pem: &str,
    passphrase: &[u8],
    rekey: bool,
    key_bits: usize,
) -> Result<Validity, RoleError> {
    let cluster = root.cluster();
    let authority_cert = rms_cert::certificate_from_pem(authority_pem)
        .map_err(|e| RoleError::bad_input("malformed_authority", e.to_string()))?;
    let authority_key = RsaSigner::from_encrypted_pkcs8_pem(authority_key_pem, passphrase)
        .map_err(|_| {
            RoleError::Secret(
                "the cluster secret does not decrypt the enrollment authority's key".into(),
            )
        })?;
    let authority = Issuer::new(
        Arc::new(authority_key),
        Chain::new(vec![authority_cert]).map_err(RoleError::Cert)?,
    )
    .map_err(cert_refused)?
    .with_policy(cluster.options().policy);
    let plan = RenewalPlan::new(cluster, rekey, key_bits)?;
    let now = cluster.now();
    let current = cluster.signing().issuer.certificate().clone();
    let checked = check_renewal(&cluster.options().policy, plan.request(), &current, now)?;
    let chain = authority
        .issue_slc(checked.request(), now)
        .map_err(cert_refused)?;
    let chain_pem = chain.to_pem().map_err(RoleError::Cert)?;
    plan.complete(cluster, &chain_pem).await
}

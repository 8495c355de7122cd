//! Renewing the SLCs a root issued, and the root's own with its enrollment authority.

use std::sync::Arc;

use der::Decode;
use rms_cert::x509_cert::Certificate;
use rms_cert::{Chain, CheckedRenewal, Issuer, RenewalRequest, RsaSigner};
use rms_policy::{RenewalStatus, Validity, ValidityPolicy};
use rms_store::Outcome;
use time::OffsetDateTime;

use super::slc_record;
use crate::error::cert_refused;
use crate::renewal_plan::RenewalPlan;
use crate::{RequestContext, RoleError, RootRole, Service};

/// A renewal whose caller `RenewalService`'s DACL let in ([`RootRole::admit_renewal`]).
#[derive(Debug, Clone)]
pub struct AdmittedRenewal {
    ctx: RequestContext,
    caller: String,
    decision: crate::Decision,
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
                crate::rfc3339(validity.not_after()),
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
                crate::rfc3339(validity.not_before())
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
    parsed.map_err(|e| {
        RoleError::bad_input(
            "malformed_renewal",
            format!("renewal request: {}", crate::describe_error(&e)),
        )
    })
}

impl RootRole {
    /// Renews an SLC this root issued: the request must be signed with that SLC's key (no
    /// bearer token is needed; one may be given), the SLC must not be revoked and must be
    /// inside its renewal window or grace period. `RenewalService`'s DACL decides first, before
    /// the request is read. Returns the chain `[renewed SLC, root SLC, authority]` once the new
    /// SLC is recorded.
    pub async fn renew(&self, ctx: &RequestContext, request: &[u8]) -> Result<Chain, RoleError> {
        let admitted = self.admit_renewal(ctx).await?;
        self.renew_admitted(&admitted, request).await
    }

    /// The first half of [`RootRole::renew`]: `RenewalService`'s DACL lets the caller of `ctx`
    /// in (a server proving its key is in Everyone and Authenticated Users). A transport calls
    /// it before it reads the request's body.
    pub async fn admit_renewal(&self, ctx: &RequestContext) -> Result<AdmittedRenewal, RoleError> {
        let cluster = self.cluster();
        let caller = match ctx.has_credentials() {
            true => cluster.current_caller(ctx).await?,
            false => cluster.server_caller("unauthenticated renewal").await?,
        };
        let decision = cluster
            .authorize(ctx, &caller, Service::Renewal, "renew")
            .await?;
        Ok(AdmittedRenewal {
            ctx: ctx.clone(),
            caller: caller.name,
            decision,
        })
    }

    /// The second half of [`RootRole::renew`]: checks and answers the renewal request of a
    /// caller [`RootRole::admit_renewal`] let in.
    pub async fn renew_admitted(
        &self,
        admitted: &AdmittedRenewal,
        request: &[u8],
    ) -> Result<Chain, RoleError> {
        let cluster = self.cluster();
        let ctx = &admitted.ctx;
        let decision = &admitted.decision;
        let request = parse_renewal(request)?;
        let serial = request.current_serial().to_string();
        let requester = match ctx.has_credentials() {
            true => admitted.caller.clone(),
            false => format!("slc:{serial}"),
        };
        let refuse = |error: RoleError| async {
            cluster
                .audit_refusal(
                    ctx,
                    &requester,
                    Service::Renewal,
                    "renew",
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
        let current = Certificate::from_der(&record.der).map_err(|e| {
            RoleError::Internal(format!(
                "stored SLC {serial}: {}",
                crate::describe_error(&e)
            ))
        })?;
        if let Some(revoked) = cluster.store().revocation(&serial).await? {
            return refuse(RoleError::refused(
                "slc_revoked",
                format!(
                    "SLC {serial} was revoked at {} ({}): it cannot be renewed",
                    crate::rfc3339(revoked.revoked_at),
                    revoked.reason
                ),
            ))
            .await;
        }
        let now = cluster.now();
        let checked = match check_renewal(&cluster.options().policy, &request, &current, now) {
            Ok(checked) => checked,
            Err(error) => return refuse(error).await,
        };
        let signing = cluster.signing();
        cluster.require_valid_slc(&signing, now)?;
        let chain = signing
            .issuer
            .issue_slc(checked.request(), now)
            .map_err(cert_refused)?;
        let subject = checked.request().identity().common_name().to_owned();
        let record = slc_record(cluster, &signing.serial, &chain, &subject, &requester, now)?;
        let renewed = record.serial.clone();
        let what = if checked.is_rekey() {
            "rekeyed"
        } else {
            "renewed"
        };
        let reason = format!("{decision}; {what} SLC {serial} of {subject:?} as {renewed}");
        let entry = cluster.audit_entry(
            ctx,
            &requester,
            Service::Renewal,
            "renew",
            Outcome::Allowed,
            &reason,
        );
        cluster.store().record_issued(&record, &entry).await?;
        tracing::info!(%subject, old = %serial, new = %renewed, rekey = checked.is_rekey(), "renewed an SLC");
        Ok(chain)
    }
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

//! A licensing cluster's controls over the content it published: super users (one switch and
//! a set of members, for recovery and compliance) and revocations (of content, and of single
//! use licenses), administered here and published to clients as a list signed with the SLC.
//!
//! Revoking stops new use licenses on every node at once (the tables raise the configuration
//! generation, which every issuance checks at its commit); the signed list is how clients
//! that hold a use license already learn of it. A revocation is never lifted: content
//! revoked by mistake is protected again under a new content id.

use rms_cert::{
    ContentRevocationList, LicenseBody, RevokedContent, RevokedUseLicense, SerialNumber,
    SignedLicense,
};
use rms_store::{
    ClusterRole, ContentRevocationRecord, IssuedKind, NewAuditEntry, Outcome, StoreError,
    SuperUsers, UseLicenseRevocationRecord,
};
use time::{Duration, OffsetDateTime};

use crate::error::cert_refused;
use crate::{Admin, LicensingRole, RequestContext, RoleError, Service};

/// How long a revocation list is good for: clients fetch it again after an hour.
pub const REVOCATION_LIST_LIFETIME: Duration = Duration::HOUR;

/// How long a signed revocation list is served again instead of signing a new one, as long as
/// nothing changed: a revocation (or a new SLC) raises the configuration generation, and the
/// next request signs a list that has it. Clients fetch the list before every open; this keeps
/// that from costing a signature each time.
pub const REVOCATION_LIST_REUSE: Duration = Duration::minutes(5);

/// A signed revocation list and what it was made from.
#[derive(Debug, Clone)]
pub(crate) struct SignedList {
    generation: i64,
    slc_serial: String,
    signed_at: OffsetDateTime,
    list: SignedLicense,
}

/// Longest reason an administrator may give for a revocation, in characters.
pub const MAX_REVOCATION_REASON_CHARS: usize = rms_cert::MAX_DESCRIPTION_CHARS;

/// Everything a licensing cluster has revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContentRevocations {
    /// Revoked content, oldest revocation first.
    pub content: Vec<ContentRevocationRecord>,
    /// Revoked use licenses, oldest revocation first.
    pub use_licenses: Vec<UseLicenseRevocationRecord>,
}

impl Admin {
    /// The super users: whether they are enabled, and the members.
    pub async fn super_users(&self) -> Result<SuperUsers, RoleError> {
        self.require_licensing("super users")?;
        Ok(self.store().super_users().await?)
    }

    /// Turns the super users on or off; returns whether that changed anything (an unchanged
    /// switch writes no audit entry).
    pub async fn set_super_users_enabled(&self, enabled: bool) -> Result<bool, RoleError> {
        self.require_licensing("super users")?;
        let action = if enabled {
            "superusers enable"
        } else {
            "superusers disable"
        };
        let entry = self.admin_entry(action, "super users".to_owned());
        Ok(self
            .store()
            .set_super_users_enabled(enabled, &entry)
            .await?)
    }

    /// Makes the principal or group `name` a super user.
    pub async fn add_super_user(&self, name: &str) -> Result<(), RoleError> {
        self.require_licensing("super users")?;
        let entry = self.admin_entry("superusers add", format!("super user {name:?}"));
        self.store()
            .add_super_user(name, &entry)
            .await
            .map_err(|e| match e {
                StoreError::NotFound { .. } => unknown_principal(name),
                StoreError::AlreadyExists { .. } => RoleError::refused(
                    "already_exists",
                    format!("{name:?} is a super user already"),
                ),
                other => other.into(),
            })
    }

    /// Removes `name` from the super users.
    pub async fn remove_super_user(&self, name: &str) -> Result<(), RoleError> {
        self.require_licensing("super users")?;
        let entry = self.admin_entry("superusers remove", format!("super user {name:?}"));
        Ok(self.store().remove_super_user(name, &entry).await?)
    }

    /// Revokes access to the content `content_id`, which this cluster published: from now on
    /// no node issues a use license for it, and the signed revocation list names it.
    pub async fn revoke_content(
        &self,
        content_id: &str,
        reason: &str,
    ) -> Result<ContentRevocationRecord, RoleError> {
        self.require_licensing("content revocation")?;
        let now = OffsetDateTime::now_utc();
        // The checks the signed list makes, so that every stored revocation can be listed.
        RevokedContent::new(content_id, now, reason).map_err(invalid_revocation)?;
        if !self.store().has_published(content_id).await? {
            return Err(RoleError::NotFound(format!(
                "this licensing cluster has no publishing license for content {content_id:?}: check the content id (`rms-client info FILE.rms` prints it)"
            )));
        }
        let record = ContentRevocationRecord {
            content_id: content_id.to_owned(),
            reason: reason.to_owned(),
            revoked_at: rms_policy::whole_seconds_utc(now),
            revoked_by: self.actor().to_owned(),
        };
        let entry = self.admin_entry(
            "content revoke",
            format!("content {content_id:?}{}", reason_note(reason)),
        );
        self.store()
            .revoke_content(&record, &entry)
            .await
            .map_err(|e| already_revoked(e, || format!("content {content_id:?}")))?;
        Ok(record)
    }

    /// Revokes the use license with serial `serial` (hex), which this cluster issued: clients
    /// refuse it once they have the revocation list, and no node issues its holder another use
    /// license for that content.
    pub async fn revoke_use_license(
        &self,
        serial: &str,
        reason: &str,
    ) -> Result<UseLicenseRevocationRecord, RoleError> {
        self.require_licensing("use-license revocation")?;
        let parsed: SerialNumber = serial.trim().parse().map_err(|_| {
            RoleError::bad_input(
                "invalid_serial",
                format!("{serial:?} is not a serial number (hexadecimal, as `rms-client inspect` prints it)"),
            )
        })?;
        let now = OffsetDateTime::now_utc();
        RevokedUseLicense::new(parsed.clone(), now, reason).map_err(invalid_revocation)?;
        let serial = parsed.to_string();
        let record = self
            .store()
            .issued_by_cluster(&serial)
            .await?
            .filter(|record| record.kind == IssuedKind::UseLicense)
            .ok_or_else(|| {
                RoleError::NotFound(format!(
                    "this licensing cluster has no record of a use license with serial {serial}"
                ))
            })?;
        let license = SignedLicense::from_der(&record.der).map_err(|e| {
            RoleError::Internal(format!(
                "the stored use license {serial} does not decode: {}",
                crate::describe_error(&e)
            ))
        })?;
        let LicenseBody::Use(body) = license.body() else {
            return Err(RoleError::Internal(format!(
                "the stored record of use license {serial} holds another kind of license"
            )));
        };
        let revocation = UseLicenseRevocationRecord {
            serial: serial.clone(),
            content_id: body.content_id().to_owned(),
            principal: body.principal().to_owned(),
            reason: reason.to_owned(),
            revoked_at: rms_policy::whole_seconds_utc(now),
            revoked_by: self.actor().to_owned(),
        };
        let entry = self.admin_entry(
            "license revoke",
            format!(
                "use license {serial} of {:?} issued to {}{}",
                revocation.content_id,
                revocation.principal,
                reason_note(reason)
            ),
        );
        self.store()
            .revoke_use_license(&revocation, &entry)
            .await
            .map_err(|e| already_revoked(e, || format!("use license {serial}")))?;
        Ok(revocation)
    }

    /// Everything the cluster has revoked.
    pub async fn content_revocations(&self) -> Result<ContentRevocations, RoleError> {
        self.require_licensing("content revocation")?;
        Ok(ContentRevocations {
            content: self.store().content_revocations().await?,
            use_licenses: self.store().use_license_revocations().await?,
        })
    }

    fn require_licensing(&self, what: &str) -> Result<(), RoleError> {
        if self.identity().role == ClusterRole::Licensing {
            Ok(())
        } else {
            Err(RoleError::refused(
                "not_a_licensing_cluster",
                format!("{what} belong to a licensing cluster, and this is a root cluster"),
            ))
        }
    }

    fn admin_entry(&self, action: &str, reason: String) -> NewAuditEntry {
        NewAuditEntry::new(
            self.actor(),
            "Administration",
            action,
            Outcome::Allowed,
            reason,
            "cli",
        )
    }
}

impl LicensingRole {
    /// What the cluster has revoked, as a list signed with its SLC (CMS SignedData, like a
    /// license), valid for [`REVOCATION_LIST_LIFETIME`]: for the callers LicensingService's
    /// DACL lets ask for use licenses.
    pub async fn revocation_list(&self, ctx: &RequestContext) -> Result<SignedLicense, RoleError> {
        let cluster = self.cluster();
        let caller = cluster.current_caller(ctx).await?;
        let decision = cluster
            .authorize(ctx, &caller, Service::Licensing, "revocations")
            .await?;
        let now = cluster.now();
        let signing = cluster.signing();
        cluster.require_valid_slc(&signing, now)?;
        let reusable = crate::lock(&self.revocation_list)
            .as_ref()
            .filter(|made| {
                made.generation == decision.generation()
                    && made.slc_serial == signing.serial
                    && now >= made.signed_at
                    && now - made.signed_at < REVOCATION_LIST_REUSE
            })
            .map(|made| made.list.clone());
        if let Some(list) = reusable {
            return Ok(list);
        }
        let store = cluster.store();
        let corrupt = |what: String| RoleError::Internal(format!("stored revocation: {what}"));
        let content = store
            .content_revocations()
            .await?
            .iter()
            .map(|r| {
                RevokedContent::new(&r.content_id, r.revoked_at, &r.reason)
                    .map_err(|e| corrupt(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let use_licenses = store
            .use_license_revocations()
            .await?
            .iter()
            .map(|r| {
                let serial: SerialNumber = r
                    .serial
                    .parse()
                    .map_err(|_| corrupt(format!("serial {:?}", r.serial)))?;
                RevokedUseLicense::new(serial, r.revoked_at, &r.reason)
                    .map_err(|e| corrupt(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let list = ContentRevocationList::new(
            signing.issuer.subject().clone(),
            now,
            now + REVOCATION_LIST_LIFETIME,
            content,
            use_licenses,
        )
        .map_err(cert_refused)?;
        let signed = signing
            .issuer
            .sign_license(&LicenseBody::ContentRevocations(list), now)
            .map_err(RoleError::Cert)?;
        *crate::lock(&self.revocation_list) = Some(SignedList {
            generation: decision.generation(),
            slc_serial: signing.serial.clone(),
            signed_at: now,
            list: signed.clone(),
        });
        Ok(signed)
    }
}

fn unknown_principal(name: &str) -> RoleError {
    RoleError::refused(
        "unknown_principal",
        format!(
            "{name:?} is neither a principal nor a group of this licensing cluster: add it first, or correct the name"
        ),
    )
}

fn invalid_revocation(error: rms_cert::CertError) -> RoleError {
    RoleError::bad_input("invalid_revocation", crate::describe_error(&error))
}

fn already_revoked(error: StoreError, what: impl FnOnce() -> String) -> RoleError {
    match error {
        StoreError::AlreadyExists { .. } => {
            RoleError::refused("already_revoked", format!("{} is revoked already", what()))
        }
        other => other.into(),
    }
}

fn reason_note(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    }
}

//! Use licenses: a publishing license this cluster honours, a caller it grants, the content
//! key re-wrapped to the caller's key.
//!
//! The order of the checks is the security of the licensing server:
//!
//! 1. the caller is authenticated and LicensingService's DACL lets them in;
//! 2. the publishing license verifies under the enrollment authority, was signed by one of
//!    this cluster's own SLCs, and its content key is addressed to that SLC's key (every
//!    licensing cluster of the authority signs licenses that verify: only our own are ours);
//! 3. the content is not revoked, nor the caller's use license of it;
//! 4. the policy grants the caller (a grant that has not expired), or the caller is a super
//!    user of the cluster (when super users are enabled), who gets every right and whose
//!    access the audit log says was a super user's;
//! 5. only then is anything remembered (the verified license, its content key) or unwrapped.
//!
//! Caches are keyed by digests of whole licenses, never by a serial a forger can copy, and are
//! bounded in entries and bytes.

use std::sync::{Arc, Mutex};

use rms_cert::spki::SubjectPublicKeyInfoOwned;
use rms_cert::{
    Grant, Grantee, LicenseBody, PublishingLicense, RecipientKey, SignedLicense, UsageRights,
    UseTerms, issue_use_license_with_terms, unwrap_content_key,
};
use rms_store::IssuedKind;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::LicensingRole;
use crate::cache::BoundedCache;
use crate::cluster::{Caller, ContentControls, Publisher};
use crate::error::cert_refused;
use crate::{RequestContext, RoleError, Service, lock};

/// Most verified publishing licenses remembered, and the bytes they may weigh together.
const VERIFIED_ENTRIES: usize = 10_000;
const VERIFIED_BYTES: usize = 32 << 20;
/// Most content keys kept unwrapped (each unwrap costs a private-key operation).
const CONTENT_KEY_ENTRIES: usize = 10_000;
const CONTENT_KEY_BYTES: usize = 1 << 20;
/// Most users' public keys kept parsed, and their bytes.
const RECIPIENT_ENTRIES: usize = 10_000;
const RECIPIENT_BYTES: usize = 8 << 20;

/// A publishing license that passed every check of step 2.
#[derive(Debug)]
struct VerifiedPublishing {
    license: SignedLicense,
    /// SHA-256 of the license's DER: what its content key is cached under.
    digest: [u8; 32],
    /// The cluster's SLC that signed it, whose key its content key is wrapped to.
    publisher: Arc<Publisher>,
}

impl VerifiedPublishing {
    fn body(&self) -> Result<&PublishingLicense, RoleError> {
        publishing_body(&self.license)
    }
}

/// What a node remembers between use-license requests. Filled only by requests that were
/// granted.
#[derive(Debug)]
pub(super) struct Caches {
    /// Verified publishing licenses by SHA-256 of the PEM text they came in: a license
    /// presented again is not decoded and its signature and chain are not checked again
    /// (neither changes); only its validity at the time of the request is.
    verified: Mutex<BoundedCache<[u8; 32], Arc<VerifiedPublishing>>>,
    /// Unwrapped content keys by SHA-256 of their publishing license's DER.
    content_keys: Mutex<BoundedCache<[u8; 32], Arc<Vec<u8>>>>,
    /// Users' public keys parsed for wrapping content keys to, by their DER: a user presents
    /// the same key with every request.
    recipients: Mutex<BoundedCache<Vec<u8>, Arc<RecipientKey>>>,
}

impl Default for Caches {
    fn default() -> Self {
        Self {
            verified: Mutex::new(BoundedCache::new(VERIFIED_ENTRIES, VERIFIED_BYTES)),
            content_keys: Mutex::new(BoundedCache::new(CONTENT_KEY_ENTRIES, CONTENT_KEY_BYTES)),
            recipients: Mutex::new(BoundedCache::new(RECIPIENT_ENTRIES, RECIPIENT_BYTES)),
        }
    }
}

/// How full a licensing node's caches are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Verified publishing licenses remembered.
    pub verified_licenses: usize,
    /// Bytes those licenses weigh.
    pub verified_bytes: usize,
    /// Content keys kept unwrapped.
    pub content_keys: usize,
    /// Users' public keys kept parsed.
    pub recipient_keys: usize,
}

/// A publishing license as the caller sent it.
#[derive(Clone, Copy)]
enum Presented<'a> {
    /// PEM text, with the SHA-256 of the text.
    Pem(&'a str, [u8; 32]),
    /// Already decoded.
    Decoded(&'a SignedLicense),
}

impl LicensingRole {
    /// Issues a use license to the caller for the content of `publishing`: checks
    /// LicensingService's DACL, verifies the publishing license (signature, chain, validity),
    /// requires that one of this cluster's SLCs signed it with the content key addressed to
    /// that SLC's key, that it grants the caller, and re-wraps the content key to
    /// `grantee_key`.
    pub async fn use_license(
        &self,
        ctx: &RequestContext,
        publishing: &SignedLicense,
        grantee_key: SubjectPublicKeyInfoOwned,
    ) -> Result<SignedLicense, RoleError> {
        self.issue_use_license(ctx, Presented::Decoded(publishing), grantee_key)
            .await
    }

    /// [`LicensingRole::use_license`] for a publishing license given as PEM text, as clients
    /// send it: a license this node verified and granted before is taken from memory instead
    /// of being decoded and verified again.
    pub async fn use_license_pem(
        &self,
        ctx: &RequestContext,
        publishing_pem: &str,
        grantee_key: SubjectPublicKeyInfoOwned,
    ) -> Result<SignedLicense, RoleError> {
        let digest: [u8; 32] = Sha256::digest(publishing_pem.as_bytes()).into();
        self.issue_use_license(ctx, Presented::Pem(publishing_pem, digest), grantee_key)
            .await
    }

    /// How full the node's caches are.
    pub fn cache_stats(&self) -> CacheStats {
        let verified = lock(&self.caches.verified);
        CacheStats {
            verified_licenses: verified.len(),
            verified_bytes: verified.bytes(),
            content_keys: lock(&self.caches.content_keys).len(),
            recipient_keys: lock(&self.caches.recipients).len(),
        }
    }

    async fn issue_use_license(
        &self,
        ctx: &RequestContext,
        publishing: Presented<'_>,
        grantee_key: SubjectPublicKeyInfoOwned,
    ) -> Result<SignedLicense, RoleError> {
        self.cluster
            .retry_if_stale(|| self.issue_use_license_once(ctx, publishing, grantee_key.clone()))
            .await
    }

    /// One attempt of [`LicensingRole::issue_use_license`], its access decision checked at the
    /// commit.
    async fn issue_use_license_once(
        &self,
        ctx: &RequestContext,
        publishing: Presented<'_>,
        grantee_key: SubjectPublicKeyInfoOwned,
    ) -> Result<SignedLicense, RoleError> {
        let cluster = &self.cluster;
        let caller = cluster.caller_for_issuance(ctx).await?;
        let decision = cluster
            .authorize(ctx, &caller, Service::Licensing, "uselicense")
            .await?;
        let now = cluster.now();
        let (verified, remembered) = match self.verified_publishing(publishing, now) {
            Ok(found) => found,
            Err(error) => return self.refuse(ctx, &caller, error).await,
        };
        let body = verified.body()?;
        let controls = cluster.controls_for(&caller).await?;
        if let Err(error) = not_revoked(&controls, body, &caller) {
            // A revocation is never lifted: one seen in the cache stands.
            return self.refuse(ctx, &caller, error).await;
        }
        let directory = cluster.directory_for(&caller).await?;
        let (terms, decision) = match granted(body, &caller, &directory.group_names(&caller), now) {
            Ok(terms) => (terms, decision),
            Err(_) if controls.is_super_user(&caller) => {
                let terms = UseTerms::new(UsageRights::ALL, None).map_err(cert_refused)?;
                let note = format!("super-user access to {:?}", body.content_id());
                (terms, decision.noting(&note))
            }
            Err(error) => {
                // Who is in which group may have changed since the cache was filled.
                cluster.confirm_refusal(&caller).await?;
                return self.refuse(ctx, &caller, error).await;
            }
        };
        if let (Presented::Pem(_, digest), false) = (publishing, remembered) {
            let weight = verified.license.der().len();
            lock(&self.caches.verified).insert(digest, verified.clone(), weight);
        }
        let signing = cluster.signing();
        cluster.require_valid_slc(&signing, now)?;
        let issued = self.content_key(&verified).and_then(|content_key| {
            let key = self.recipient(grantee_key)?;
            let grantee = Grantee::with_key(&caller.name, key).map_err(cert_refused)?;
            issue_use_license_with_terms(&signing.issuer, body, &content_key, &grantee, &terms, now)
                .map_err(cert_refused)
        });
        let license = match issued {
            Ok(license) => license,
            Err(error) => return self.refuse(ctx, &caller, error).await,
        };
        self.record(
            ctx,
            &caller.name,
            Service::Licensing,
            &decision,
            &signing.serial,
            &license,
            IssuedKind::UseLicense,
            now,
        )
        .await?;
        Ok(license)
    }

    /// The publishing license verified (step 2), and whether it came from memory.
    fn verified_publishing(
        &self,
        publishing: Presented<'_>,
        now: OffsetDateTime,
    ) -> Result<(Arc<VerifiedPublishing>, bool), RoleError> {
        let decoded;
        let license = match publishing {
            Presented::Decoded(license) => license,
            Presented::Pem(text, digest) => {
                let known = lock(&self.caches.verified).get(&digest).cloned();
                if let Some(known) = known
                    && self.still_valid(&known.license, now)
                {
                    return Ok((known, true));
                }
                decoded = SignedLicense::from_pem(text).map_err(|e| {
                    RoleError::bad_input(
                        "malformed_license",
                        format!("publishing_license_pem: {}", crate::describe_error(&e)),
                    )
                })?;
                &decoded
            }
        };
        Ok((Arc::new(self.verify_publishing(license, now)?), false))
    }

    /// Step 2: the license verifies, is ours, and its content key is addressed to us.
    fn verify_publishing(
        &self,
        license: &SignedLicense,
        now: OffsetDateTime,
    ) -> Result<VerifiedPublishing, RoleError> {
        let body = publishing_body(license)?;
        let verified = self
            .cluster
            .verifier()
            .verify_license(license, &[], now)
            .map_err(|e| {
                RoleError::refused(
                    "invalid_publishing_license",
                    format!(
                        "the publishing license does not verify: {}",
                        crate::describe_error(&e)
                    ),
                )
            })?;
        let signer = verified.signer();
        let Some(publisher) = self.cluster.publisher(signer.der()) else {
            return Err(RoleError::refused(
                "foreign_publishing_license",
                format!(
                    "the publishing license was signed by {} (SLC serial {}), which is not an SLC of this licensing cluster: ask the cluster that published it",
                    signer.subject(),
                    crate::serial_hex(signer.certificate()),
                ),
            ));
        };
        if body.content_key().recipient_key_id() != publisher.key_id.as_slice() {
            return Err(RoleError::refused(
                "content_key_not_for_cluster",
                format!(
                    "the publishing license's content key is not addressed to the key of SLC {} that signed it",
                    publisher.serial
                ),
            ));
        }
        Ok(VerifiedPublishing {
            digest: Sha256::digest(license.der()).into(),
            license: license.clone(),
            publisher,
        })
    }

    /// Whether a publishing license verified before is still inside its validity at `now`
    /// (its signature and its signer's path, checked under the chain model at its issue time,
    /// do not change with time).
    fn still_valid(&self, publishing: &SignedLicense, now: OffsetDateTime) -> bool {
        let skew = self.cluster.options().policy.clock_skew;
        publishing.validity().position(now, skew) == rms_policy::WindowPosition::Inside
    }

    /// The publishing license's content key, unwrapped once with its publisher's key and then
    /// kept in memory.
    fn content_key(&self, verified: &VerifiedPublishing) -> Result<Arc<Vec<u8>>, RoleError> {
        if let Some(found) = lock(&self.caches.content_keys).get(&verified.digest) {
            return Ok(found.clone());
        }
        let key = verified.publisher.key(self.cluster.secret())?;
        let content_key = unwrap_content_key(key.as_ref(), verified.body()?.content_key())
            .map_err(|e| match e {
                rms_cert::CertError::Keys(key) if key.is_unavailable() => RoleError::Key(key),
                _ => RoleError::refused(
                    "content_key_not_for_cluster",
                    "the publishing license's content key does not decrypt with the key it names",
                ),
            })?;
        let content_key = Arc::new(content_key);
        let weight = content_key.len() + verified.digest.len();
        lock(&self.caches.content_keys).insert(verified.digest, content_key.clone(), weight);
        Ok(content_key)
    }

    /// `key` parsed for wrapping to: from memory if seen before.
    fn recipient(&self, key: SubjectPublicKeyInfoOwned) -> Result<Arc<RecipientKey>, RoleError> {
        let der = der::Encode::to_der(&key)
            .map_err(|e| RoleError::bad_input("malformed_public_key", e.to_string()))?;
        if let Some(found) = lock(&self.caches.recipients).get(&der) {
            return Ok(found.clone());
        }
        let parsed = Arc::new(RecipientKey::new(key).map_err(cert_refused)?);
        let weight = der.len();
        lock(&self.caches.recipients).insert(der, parsed.clone(), weight);
        Ok(parsed)
    }

    /// Records a refused use-license request in the audit log, then returns the refusal.
    async fn refuse<T>(
        &self,
        ctx: &RequestContext,
        caller: &Caller,
        error: RoleError,
    ) -> Result<T, RoleError> {
        self.cluster
            .audit_refusal(
                ctx,
                &caller.name,
                Service::Licensing,
                "uselicense",
                &error.to_string(),
            )
            .await?;
        Err(error)
    }
}

/// Step 3: neither the content nor the caller's use license of it is revoked.
fn not_revoked(
    controls: &ContentControls,
    body: &PublishingLicense,
    caller: &Caller,
) -> Result<(), RoleError> {
    if let Some(revoked) = controls.content_revocation(body.content_id()) {
        return Err(RoleError::refused(
            "content_revoked",
            format!(
                "access to content {:?} was revoked at {}{}",
                body.content_id(),
                crate::rfc3339(revoked.revoked_at),
                crate::reason_suffix(&revoked.reason)
            ),
        ));
    }
    if controls.license_revoked(body.content_id(), &caller.name) {
        return Err(RoleError::refused(
            "use_license_revoked",
            format!(
                "the use license of {:?} issued to {} was revoked: ask the cluster's administrator",
                body.content_id(),
                caller.name
            ),
        ));
    }
    Ok(())
}

/// Step 4: the policy grants `caller` something at `now`, by name or through one of its
/// `groups`. Every unexpired grant naming either counts: the use license carries the union of
/// their rights and ends when the first of them does.
fn granted(
    body: &PublishingLicense,
    caller: &Caller,
    groups: &[&str],
    now: OffsetDateTime,
) -> Result<UseTerms, RoleError> {
    let naming: Vec<&Grant> = body
        .grants()
        .iter()
        .filter(|g| g.principal() == caller.name || groups.contains(&g.principal()))
        .collect();
    if naming.is_empty() {
        return Err(RoleError::refused(
            "not_granted",
            format!(
                "the rights policy of {:?} grants nothing to {} or to a group of theirs",
                body.content_id(),
                caller.name
            ),
        ));
    }
    let live: Vec<&Grant> = naming
        .iter()
        .copied()
        .filter(|g| g.expires().is_none_or(|end| end > now))
        .collect();
    if live.is_empty() {
        let ended = naming.iter().filter_map(|g| g.expires()).max();
        return Err(RoleError::refused(
            "grant_expired",
            format!(
                "the grant of {:?} to {} ended at {}",
                body.content_id(),
                caller.name,
                ended.map(crate::rfc3339).unwrap_or_default()
            ),
        ));
    }
    let rights = live
        .iter()
        .fold(UsageRights::NONE, |all, g| all.union(g.rights()));
    let expires = live.iter().filter_map(|g| g.expires()).min();
    UseTerms::new(rights, expires).map_err(cert_refused)
}

/// The body of a publishing license, or the refusal of another kind of license.
pub(super) fn publishing_body(license: &SignedLicense) -> Result<&PublishingLicense, RoleError> {
    match license.body() {
        LicenseBody::Publishing(body) => Ok(body),
        _ => Err(RoleError::bad_input(
            "not_a_publishing_license",
            "a use license was given where a publishing license is needed",
        )),
    }
}

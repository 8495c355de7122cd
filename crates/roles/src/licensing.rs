//! The licensing role: enrolls by sub-enrollment with a root, then issues publishing and use
//! licenses signed with the cluster's SLC key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use der::{Decode, Encode};
use rms_cert::spki::SubjectPublicKeyInfoOwned;
use rms_cert::{
    Chain, ContentPolicy, EnrollmentRequest, Grant, Grantee, LicenseBody, PublishingLicense,
    RecipientKey, RsaSigner, ServerId, ServerIdentity, ServerRole, SignedLicense, WrappedKey,
    issue_publishing_license, issue_use_license_with_content_key, unwrap_content_key,
};
use rms_chain::{Cert, Purpose, TrustAnchor, TrustAnchors, VerifyOptions, verify_path};
use rms_dacl::Service;
use rms_store::{ClusterRole, IssuedKind, IssuedRecord, Outcome, Store};
use sha2::{Digest, Sha256};

use crate::admin::{AdminCredentials, create_cluster};
use crate::error::cert_refused;
use crate::secret::ClusterSecret;
use crate::{Cluster, Decision, NodeOptions, RoleError, lock};

/// The services a licensing server exposes.
pub const LICENSING_SERVICES: [Service; 4] = [
    Service::Publishing,
    Service::Licensing,
    Service::Chain,
    Service::Renewal,
];

/// Most content keys kept unwrapped in memory (each unwrap costs a private-key operation).
const CONTENT_KEY_CACHE: usize = 10_000;

/// Most verified publishing licenses remembered (by digest of their PEM text).
const VERIFIED_CACHE: usize = 10_000;

/// Most users' public keys kept parsed.
const RECIPIENT_CACHE: usize = 10_000;

/// The first step of enrolling a licensing cluster: its new key and the request to send to
/// the root.
#[derive(Debug)]
pub struct EnrollmentPlan {
    key: RsaSigner,
    request_pem: String,
}

impl EnrollmentPlan {
    /// A new key and request for a licensing server called `name` serving at `url`.
    pub fn new(name: &str, url: &str, key_bits: usize) -> Result<Self, RoleError> {
        let key = RsaSigner::generate(key_bits).map_err(RoleError::Cert)?;
        let id = ServerId::random().map_err(RoleError::Cert)?;
        let identity = ServerIdentity::new(name, ServerRole::LicensingServer, id, url)
            .map_err(cert_refused)?;
        let request_pem = EnrollmentRequest::new(&identity, &key)
            .and_then(|r| r.to_pem())
            .map_err(RoleError::Cert)?;
        Ok(Self { key, request_pem })
    }

    /// The request to send to the root, PEM.
    pub fn request_pem(&self) -> &str {
        &self.request_pem
    }

    /// Finishes enrollment with the chain the root returned: verifies it against the
    /// enrollment authority the operator trusts (never the chain's own last certificate),
    /// checks that it certifies this plan's key as a licensing server, and creates the cluster
    /// in `store` with the key encrypted under `secret`.
    pub async fn complete(
        self,
        store: &Store,
        secret: &ClusterSecret,
        chain_pem: &str,
        anchor_pem: &str,
        options: &NodeOptions,
    ) -> Result<AdminCredentials, RoleError> {
        let now = options.clock.now();
        let chain = Chain::from_pem(chain_pem).map_err(|e| {
            RoleError::bad_input(
                "malformed_chain",
                format!("the root's answer is not a PEM chain: {e}"),
            )
        })?;
        let untrusted = |e: rms_chain::ChainError| {
            RoleError::refused(
                "untrusted_chain",
                format!("the chain the root returned does not verify: {e}"),
            )
        };
        let anchor = TrustAnchor::from_pem(anchor_pem).map_err(untrusted)?;
        let mut anchors = TrustAnchors::new();
        anchors.add(anchor);
        let certs = chain
            .certificates()
            .iter()
            .map(Cert::from_certificate)
            .collect::<Result<Vec<_>, _>>()
            .map_err(untrusted)?;
        let (leaf, pool) = certs
            .split_first()
            .ok_or_else(|| RoleError::bad_input("malformed_chain", "empty chain"))?;
        let verify = VerifyOptions::new()
            .with_clock_skew(options.policy.clock_skew)
            .with_purpose(Purpose::ServerLicensor);
        verify_path(leaf, pool, &anchors, now, &verify).map_err(untrusted)?;
        let public_key = rms_cert::Signer::public_key(&self.key);
        if *chain.leaf().tbs_certificate().subject_public_key_info() != public_key {
            return Err(RoleError::refused(
                "wrong_key",
                "the returned SLC does not certify this server's key",
            ));
        }
        let identity = ServerIdentity::from_certificate(chain.leaf()).map_err(cert_refused)?;
        if identity.role() != ServerRole::LicensingServer {
            return Err(RoleError::refused(
                "wrong_role",
                "the returned SLC is not a licensing server's",
            ));
        }
        create_cluster(
            store,
            ClusterRole::Licensing,
            &chain,
            &self.key,
            secret,
            &LICENSING_SERVICES,
            now,
        )
        .await
    }
}

/// What a client asks to publish: the content, who gets which rights, and the content key
/// wrapped (RSA-OAEP) to the licensing cluster's public key.
#[derive(Debug, Clone)]
pub struct PublishRequest {
    /// The content's identifier.
    pub content_id: String,
    /// Who may do what.
    pub grants: Vec<Grant>,
    /// The content key, wrapped to the cluster's key (DER of the `WrappedKey` structure).
    pub wrapped_content_key: Vec<u8>,
}

/// A node of a licensing cluster.
#[derive(Debug)]
pub struct LicensingRole {
    cluster: Arc<Cluster>,
    content_keys: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
    /// Publishing licenses that passed full verification, by SHA-256 of their PEM text: a
    /// license presented again is not decoded and its signature and chain are not checked
    /// again (neither changes); only its validity at the time of the request is.
    verified: Mutex<HashMap<[u8; 32], Arc<SignedLicense>>>,
    /// Users' public keys parsed for wrapping content keys to, by their DER: a user presents
    /// the same key with every request.
    recipients: Mutex<HashMap<Vec<u8>, Arc<RecipientKey>>>,
}

impl LicensingRole {
    /// The licensing role of a loaded cluster; refuses a root cluster.
    pub fn new(cluster: Arc<Cluster>) -> Result<Self, RoleError> {
        if cluster.identity().role != ClusterRole::Licensing {
            return Err(RoleError::Internal(format!(
                "the configuration database holds a {} cluster, not a licensing cluster",
                cluster.identity().role
            )));
        }
        Ok(Self {
            cluster,
            content_keys: Mutex::new(HashMap::new()),
            verified: Mutex::new(HashMap::new()),
            recipients: Mutex::new(HashMap::new()),
        })
    }

    /// The cluster.
    pub fn cluster(&self) -> &Arc<Cluster> {
        &self.cluster
    }

    /// Issues a publishing license (server-side publishing): checks PublishingService's DACL,
    /// unwraps the content key with the cluster key (which proves it was wrapped for this
    /// cluster), and signs the policy with the key re-wrapped to the cluster.
    pub async fn publish(
        &self,
        token: Option<&str>,
        request: &PublishRequest,
    ) -> Result<SignedLicense, RoleError> {
        self.cluster
            .retry_if_stale(|| self.publish_once(token, request))
            .await
    }

    /// One attempt of [`LicensingRole::publish`], its access decision checked at the commit.
    async fn publish_once(
        &self,
        token: Option<&str>,
        request: &PublishRequest,
    ) -> Result<SignedLicense, RoleError> {
        let cluster = &self.cluster;
        let caller = cluster.authenticate_for_issuance(token).await?;
        let decision = cluster
            .authorize(&caller, Service::Publishing, "publish")
            .await?;
        let wrapped = WrappedKey::from_der(&request.wrapped_content_key).map_err(|e| {
            RoleError::bad_input(
                "malformed_content_key",
                format!("wrapped content key is not DER: {e}"),
            )
        })?;
        let policy = ContentPolicy::new(&request.content_id, request.grants.clone())
            .map_err(cert_refused)?;
        let signing = cluster.signing();
        let content_key = unwrap_content_key(signing.key.private_key(), &wrapped).map_err(|_| {
            RoleError::refused(
                "content_key_not_for_cluster",
                "the content key is not wrapped to this licensing cluster's key: wrap it to the public key of the chain from GET /certification/chain",
            )
        })?;
        let now = cluster.now();
        cluster.require_valid_slc(&signing, now)?;
        let license = issue_publishing_license(&signing.issuer, &policy, &content_key, now)
            .map_err(cert_refused)?;
        self.record(
            &caller.name,
            Service::Publishing,
            &decision,
            &signing.serial,
            &license,
            IssuedKind::PublishingLicense,
            now,
        )
        .await?;
        Ok(license)
    }

    /// Issues a use license to the caller for the content of `publishing`: checks
    /// LicensingService's DACL, verifies the publishing license (signature, chain, validity),
    /// requires that it names the caller, and re-wraps the content key to `grantee_key`.
    pub async fn use_license(
        &self,
        token: Option<&str>,
        publishing: &SignedLicense,
        grantee_key: SubjectPublicKeyInfoOwned,
    ) -> Result<SignedLicense, RoleError> {
        self.issue_use_license(token, publishing, grantee_key, None)
            .await
    }

    /// [`LicensingRole::use_license`] for a publishing license given as PEM text, as clients
    /// send it: a license this node has verified before is taken from memory instead of being
    /// decoded and verified again.
    pub async fn use_license_pem(
        &self,
        token: Option<&str>,
        publishing_pem: &str,
        grantee_key: SubjectPublicKeyInfoOwned,
    ) -> Result<SignedLicense, RoleError> {
        let digest: [u8; 32] = Sha256::digest(publishing_pem.as_bytes()).into();
        let known = lock(&self.verified).get(&digest).cloned();
        match known {
            Some(publishing) => {
                self.issue_use_license(token, &publishing, grantee_key, Some((digest, true)))
                    .await
            }
            None => {
                let publishing = SignedLicense::from_pem(publishing_pem).map_err(|e| {
                    RoleError::bad_input(
                        "malformed_license",
                        format!("publishing_license_pem: {e}"),
                    )
                })?;
                self.issue_use_license(token, &publishing, grantee_key, Some((digest, false)))
                    .await
            }
        }
    }

    /// Issues a use license; `digest` is the publishing license's PEM digest and whether it
    /// was verified before (to skip the signature and chain checks) when the caller has it.
    async fn issue_use_license(
        &self,
        token: Option<&str>,
        publishing: &SignedLicense,
        grantee_key: SubjectPublicKeyInfoOwned,
        digest: Option<([u8; 32], bool)>,
    ) -> Result<SignedLicense, RoleError> {
        self.cluster
            .retry_if_stale(|| {
                self.issue_use_license_once(token, publishing, grantee_key.clone(), digest)
            })
            .await
    }

    /// One attempt of [`LicensingRole::issue_use_license`], its access decision checked at the
    /// commit.
    async fn issue_use_license_once(
        &self,
        token: Option<&str>,
        publishing: &SignedLicense,
        grantee_key: SubjectPublicKeyInfoOwned,
        digest: Option<([u8; 32], bool)>,
    ) -> Result<SignedLicense, RoleError> {
        let cluster = &self.cluster;
        let caller = cluster.authenticate_for_issuance(token).await?;
        let decision = cluster
            .authorize(&caller, Service::Licensing, "uselicense")
            .await?;
        let now = cluster.now();
        let body = match digest {
            Some((_, true)) if self.still_valid(publishing, now) => publishing_body(publishing)?,
            _ => {
                let body = self.verified_publishing_body(publishing, now)?;
                if let Some((digest, false)) = digest {
                    let mut verified = lock(&self.verified);
                    if verified.len() >= VERIFIED_CACHE {
                        verified.clear();
                    }
                    verified.insert(digest, Arc::new(publishing.clone()));
                }
                body
            }
        };
        let signing = cluster.signing();
        cluster.require_valid_slc(&signing, now)?;
        let content_key = self.content_key(&signing, body)?;
        let issued = self.recipient(grantee_key).and_then(|key| {
            let grantee = Grantee::with_key(&caller.name, key).map_err(cert_refused)?;
            issue_use_license_with_content_key(&signing.issuer, body, &content_key, &grantee, now)
                .map_err(cert_refused)
        });
        let license = match issued {
            Ok(license) => license,
            Err(error) => {
                cluster
                    .audit(
                        &caller.name,
                        Service::Licensing,
                        "uselicense",
                        Outcome::Denied,
                        &error.to_string(),
                    )
                    .await?;
                return Err(error);
            }
        };
        self.record(
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

    /// Whether a publishing license verified before is still inside its validity at `now`
    /// (its signature and its signer's path, checked under the chain model at its issue time,
    /// do not change with time).
    fn still_valid(&self, publishing: &SignedLicense, now: time::OffsetDateTime) -> bool {
        let skew = self.cluster.options().policy.clock_skew;
        publishing.validity().position(now, skew) == rms_policy::WindowPosition::Inside
    }

    fn verified_publishing_body<'a>(
        &self,
        publishing: &'a SignedLicense,
        now: time::OffsetDateTime,
    ) -> Result<&'a PublishingLicense, RoleError> {
        let body = publishing_body(publishing)?;
        self.cluster
            .verifier()
            .verify_license(publishing, &[], now)
            .map_err(|e| {
                RoleError::refused(
                    "invalid_publishing_license",
                    format!("the publishing license does not verify: {e}"),
                )
            })?;
        Ok(body)
    }

    /// The publishing license's content key, unwrapped once and then kept in memory.
    fn content_key(
        &self,
        signing: &crate::cluster::SigningIdentity,
        body: &PublishingLicense,
    ) -> Result<Vec<u8>, RoleError> {
        let cache_key = body.serial().to_string().into_bytes();
        if let Some(found) = self.lock_cache().get(&cache_key) {
            return Ok(found.clone());
        }
        let content_key = unwrap_content_key(signing.key.private_key(), body.content_key()).map_err(|_| {
            RoleError::refused(
                "content_key_not_for_cluster",
                "the publishing license's content key is not wrapped to this cluster's key: ask the licensing cluster that issued it",
            )
        })?;
        let mut cache = self.lock_cache();
        if cache.len() >= CONTENT_KEY_CACHE {
            cache.clear();
        }
        cache.insert(cache_key, content_key.clone());
        Ok(content_key)
    }

    /// `key` parsed for wrapping to: from memory if seen before.
    fn recipient(&self, key: SubjectPublicKeyInfoOwned) -> Result<Arc<RecipientKey>, RoleError> {
        let der = Encode::to_der(&key)
            .map_err(|e| RoleError::bad_input("malformed_public_key", e.to_string()))?;
        if let Some(found) = lock(&self.recipients).get(&der) {
            return Ok(found.clone());
        }
        let parsed = Arc::new(RecipientKey::new(key).map_err(cert_refused)?);
        let mut recipients = lock(&self.recipients);
        if recipients.len() >= RECIPIENT_CACHE {
            recipients.clear();
        }
        recipients.insert(der, parsed.clone());
        Ok(parsed)
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Vec<u8>>> {
        lock(&self.content_keys)
    }

    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        principal: &str,
        service: Service,
        decision: &Decision,
        issuer_serial: &str,
        license: &SignedLicense,
        kind: IssuedKind,
        now: time::OffsetDateTime,
    ) -> Result<(), RoleError> {
        let cluster = &self.cluster;
        let (serial, subject) = match license.body() {
            LicenseBody::Publishing(pl) => (pl.serial().to_string(), pl.content_id().to_owned()),
            LicenseBody::Use(ul) => (ul.serial().to_string(), ul.principal().to_owned()),
            _ => {
                return Err(RoleError::Internal(
                    "issued a license of an unknown kind".into(),
                ));
            }
        };
        let validity = license.validity();
        let record = IssuedRecord {
            issuer_serial: issuer_serial.to_owned(),
            serial: serial.clone(),
            kind,
            subject: subject.clone(),
            not_before: validity.not_before(),
            not_after: validity.not_after(),
            requester: principal.to_owned(),
            issued_by: cluster.options().node_id.clone(),
            issued_at: now,
            der: license.to_der().map_err(RoleError::Cert)?,
        };
        let reason = format!("{decision}; issued {kind} {serial} for {subject:?}");
        let entry = cluster.audit_entry(
            principal,
            service,
            &kind.to_string(),
            Outcome::Allowed,
            &reason,
        );
        cluster
            .store()
            .record_issued_checked(&record, &entry, decision.generation())
            .await?;
        Ok(())
    }
}

/// The body of a publishing license, or the refusal of another kind of license.
fn publishing_body(license: &SignedLicense) -> Result<&PublishingLicense, RoleError> {
    match license.body() {
        LicenseBody::Publishing(body) => Ok(body),
        _ => Err(RoleError::bad_input(
            "not_a_publishing_license",
            "a use license was given where a publishing license is needed",
        )),
    }
}

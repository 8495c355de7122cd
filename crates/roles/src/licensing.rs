//! The licensing role: enrolls by sub-enrollment with a root, then issues publishing and use
//! licenses signed with the cluster's SLC key.

use std::sync::Arc;

use rms_cert::{
    Chain, ContentPolicy, EnrollmentRequest, Grant, LicenseBody, RsaSigner, ServerId,
    ServerIdentity, ServerRole, SignedLicense, WrappedKey, issue_publishing_license,
    unwrap_content_key,
};
use rms_chain::{Cert, Purpose, TrustAnchor, TrustAnchors, VerifyOptions, verify_path};
use rms_keys::PrivateKey;
use rms_store::{ClusterRole, IssuedKind, IssuedRecord, Outcome, Store};

use crate::admin::{AdminCredentials, create_cluster};
use crate::cluster::Directory;
use crate::error::cert_refused;
use crate::secret::ClusterSecret;
use crate::{Cluster, Decision, NodeOptions, RequestContext, RoleError, Service};

mod use_license;

pub use use_license::CacheStats;

/// The services a licensing server exposes.
pub const LICENSING_SERVICES: [Service; 4] = [
    Service::Publishing,
    Service::Licensing,
    Service::Chain,
    Service::Renewal,
];

/// The first step of enrolling a licensing cluster: its new key and the request to send to
/// the root.
#[derive(Debug)]
pub struct EnrollmentPlan {
    key: Arc<dyn PrivateKey>,
    request_pem: String,
}

impl EnrollmentPlan {
    /// A new key and request for a licensing server called `name` serving at `url`.
    pub fn new(name: &str, url: &str, key_bits: usize) -> Result<Self, RoleError> {
        let key: Arc<dyn PrivateKey> =
            Arc::new(RsaSigner::generate(key_bits).map_err(RoleError::Cert)?);
        Self::with_key(name, url, key)
    }

    /// A request for a licensing server called `name` serving at `url`, for `key` (made
    /// wherever the operator chose, e.g. inside a token with [`rms_keys::KeyLocation`]).
    pub fn with_key(name: &str, url: &str, key: Arc<dyn PrivateKey>) -> Result<Self, RoleError> {
        let id = ServerId::random().map_err(RoleError::Cert)?;
        let identity = ServerIdentity::new(name, ServerRole::LicensingServer, id, url)
            .map_err(cert_refused)?;
        let request_pem = EnrollmentRequest::new(&identity, key.as_ref())
            .and_then(|r| r.to_pem())
            .map_err(RoleError::Cert)?;
        Ok(Self { key, request_pem })
    }

    /// The request to send to the root, PEM.
    #[must_use]
    pub fn request_pem(&self) -> &str {
        &self.request_pem
    }

    /// Finishes enrollment with the chain the root returned: verifies it against the
    /// enrollment authority the operator trusts (never the chain's own last certificate),
    /// checks that it certifies this plan's key as a licensing server, and creates the cluster
    /// in `store` with the key stored under `secret`.
    pub async fn complete(
        self,
        store: &Store,
        secret: &ClusterSecret,
        chain_pem: &str,
        anchor_pem: &str,
        options: &NodeOptions,
    ) -> Result<AdminCredentials, RoleError> {
        import_licensing_cluster(store, secret, chain_pem, anchor_pem, self.key, options).await
    }
}

/// Creates a licensing cluster in `store` from an SLC chain (PEM, leaf first) and its key,
/// obtained by any means (an enrollment of ours, or an SLC and key moved from elsewhere): the
/// chain must verify against the enrollment authority `anchor_pem` now, certify `key`, and name
/// a licensing server. The key is stored under `secret` (or, for a key in a token, by its
/// URI); the cluster gets the default service descriptors and an administrator, whose
/// credentials are returned.
pub async fn import_licensing_cluster(
    store: &Store,
    secret: &ClusterSecret,
    chain_pem: &str,
    anchor_pem: &str,
    key: Arc<dyn PrivateKey>,
    options: &NodeOptions,
) -> Result<AdminCredentials, RoleError> {
    let now = options.clock.now();
    let chain = Chain::from_pem(chain_pem).map_err(|e| {
        RoleError::bad_input(
            "malformed_chain",
            format!(
                "the chain is not a PEM chain: {}",
                crate::describe_error(&e)
            ),
        )
    })?;
    let untrusted = |e: rms_chain::ChainError| {
        RoleError::refused(
            "untrusted_chain",
            format!(
                "the chain does not verify against the enrollment authority: {}",
                crate::describe_error(&e)
            ),
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
    if *chain.leaf().tbs_certificate().subject_public_key_info() != key.public_key() {
        return Err(RoleError::refused(
            "wrong_key",
            "the SLC does not certify this server's key",
        ));
    }
    let identity = ServerIdentity::from_certificate(chain.leaf()).map_err(cert_refused)?;
    if identity.role() != ServerRole::LicensingServer {
        return Err(RoleError::refused(
            "wrong_role",
            "the SLC is not a licensing server's",
        ));
    }
    create_cluster(
        store,
        ClusterRole::Licensing,
        &chain,
        key.as_ref(),
        secret,
        &LICENSING_SERVICES,
        now,
    )
    .await
}

/// What a client asks to publish: the content, who gets which rights (listed, or a rights
/// policy template of the cluster by name), and the content key wrapped (RSA-OAEP) to the
/// licensing cluster's public key.
#[derive(Debug, Clone)]
pub struct PublishRequest {
    /// The content's identifier.
    pub content_id: String,
    /// Who may do what (empty when publishing with a template).
    pub grants: Vec<Grant>,
    /// The name of the rights policy template to publish with, instead of `grants`.
    pub template: Option<String>,
    /// The content key, wrapped (RSA-OAEP) to the cluster's key.
    pub wrapped_content_key: WrappedKey,
}

/// A node of a licensing cluster.
#[derive(Debug)]
pub struct LicensingRole {
    cluster: Arc<Cluster>,
    caches: use_license::Caches,
    /// The signed revocation list last made, reused while it is fresh (`content_controls`).
    pub(crate) revocation_list: std::sync::Mutex<Option<crate::content_controls::SignedList>>,
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
            caches: use_license::Caches::default(),
            revocation_list: std::sync::Mutex::default(),
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
        ctx: &RequestContext,
        request: &PublishRequest,
    ) -> Result<SignedLicense, RoleError> {
        self.cluster
            .retry_if_stale(|| self.publish_once(ctx, request))
            .await
    }

    /// One attempt of [`LicensingRole::publish`], its access decision checked at the commit.
    async fn publish_once(
        &self,
        ctx: &RequestContext,
        request: &PublishRequest,
    ) -> Result<SignedLicense, RoleError> {
        let cluster = &self.cluster;
        let caller = cluster.caller_for_issuance(ctx).await?;
        let decision = cluster
            .authorize(ctx, &caller, Service::Publishing, "publish")
            .await?;
        let signing = cluster.signing();
        let directory = cluster.directory_for(&caller).await?;
        let now = cluster.now();
        let policy = match &request.template {
            None => Ok((request.grants.clone(), None)),
            Some(_) if !request.grants.is_empty() => Err(RoleError::bad_input(
                "template_and_grants",
                "give either a template or grants, not both",
            )),
            Some(name) => crate::templates::resolve_template(self, name, now)
                .await
                .map(|(grants, template)| (grants, Some(template))),
        };
        let prepared = policy
            .and_then(|(grants, template)| {
                known_grantees(&directory, &grants)?;
                let policy = ContentPolicy::new(&request.content_id, grants).map_err(cert_refused)?;
                Ok(match template {
                    Some(template) => policy.with_template(template),
                    None => policy,
                })
            })
            .and_then(|policy| {
                let content_key =
                    unwrap_content_key(signing.key.as_ref(), &request.wrapped_content_key)
                        .map_err(|e| match e {
                            rms_cert::CertError::Keys(key) if key.is_unavailable() => {
                                RoleError::Key(key)
                            }
                            _ => RoleError::refused(
                                "content_key_not_for_cluster",
                                "the content key is not wrapped to this licensing cluster's key: wrap it to the public key of the cluster's chain",
                            ),
                        })?;
                Ok((policy, content_key))
            });
        let (policy, content_key) = match prepared {
            Ok(prepared) => prepared,
            Err(error) => {
                // A principal or group added since the cache was filled is known now.
                cluster.confirm_refusal(&caller).await?;
                cluster
                    .audit_refusal(
                        ctx,
                        &caller.name,
                        Service::Publishing,
                        "publish",
                        &error.to_string(),
                    )
                    .await?;
                return Err(error);
            }
        };
        cluster.require_valid_slc(&signing, now)?;
        let license = issue_publishing_license(&signing.issuer, &policy, &content_key, now)
            .map_err(cert_refused)?;
        self.record(
            ctx,
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

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn record(
        &self,
        ctx: &RequestContext,
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
            ctx,
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

/// Refuses a policy that grants a principal or group the cluster does not know: a grant to a
/// misspelt name would silently give nobody anything.
fn known_grantees(directory: &Directory, grants: &[Grant]) -> Result<(), RoleError> {
    match grants.iter().find(|g| !directory.contains(g.principal())) {
        None => Ok(()),
        Some(unknown) => Err(RoleError::refused(
            "unknown_principal",
            format!(
                "the rights policy grants {:?}, which is neither a principal nor a group of this licensing cluster: add it first, or correct the name",
                unknown.principal()
            ),
        )),
    }
}

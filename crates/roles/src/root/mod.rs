//! The root certification role: enrolls with an enrollment authority (by default one it creates
//! itself), sub-enrolls licensing servers, renews and revokes the SLCs it issued (`renewal`,
//! `revocation`), and renews its own with its authority.

use std::sync::Arc;

use rms_cert::{Chain, EnrollmentRequest, Issuer, RsaSigner, ServerId, ServerIdentity, ServerRole};
use rms_keys::PrivateKey;
use rms_store::{ClusterRole, IssuedKind, IssuedRecord, Outcome, Store};

use crate::admin::{AdminCredentials, create_cluster};

mod renewal;
mod revocation;

use crate::error::{cert_refused, request_refused};
use crate::secret::ClusterSecret;
use crate::{Cluster, NodeOptions, RequestContext, RoleError, Service, serial_hex};
pub use renewal::{AdmittedRenewal, renew_root_with_authority};
pub use revocation::CRL_LIFETIME;

/// The services a root certification server exposes.
pub const ROOT_SERVICES: [Service; 3] = [Service::SubEnroll, Service::Chain, Service::Renewal];

/// What `init` needs to create a root certification cluster.
#[derive(Debug, Clone)]
pub struct RootInit {
    /// The root's name (its SLC's common name).
    pub name: String,
    /// The root's service URL.
    pub url: String,
    /// The distinguished name of the enrollment authority created for it, e.g.
    /// `CN=Example Enrollment Authority`.
    pub authority_name: String,
    /// RSA key size for the root's SLC key and the authority's key.
    pub key_bits: usize,
}

/// What `init` made: the enrollment authority (its certificate is the trust anchor every
/// client needs; its key, encrypted with the cluster secret, is needed only to renew the root's
/// SLC) and the administrator's credentials.
#[derive(Debug)]
pub struct RootInitOutcome {
    /// The authority's certificate, PEM.
    pub authority_pem: String,
    /// The authority's private key, encrypted PKCS#8 PEM (with the cluster secret).
    pub authority_key_pem: String,
    /// The root's chain `[root SLC, authority]`, PEM.
    pub chain_pem: String,
    /// The administrator created with the cluster.
    pub admin: AdminCredentials,
}

/// Creates a root certification cluster in `store`: a new enrollment authority, the root's key
/// and enrollment request (the same form a licensing server sends), the root SLC the authority
/// issues for it, default service descriptors (SubEnrollService denies everyone) and an
/// administrator in `rms-admins`.
pub async fn init_root(
    store: &Store,
    secret: &ClusterSecret,
    init: &RootInit,
    options: &NodeOptions,
) -> Result<RootInitOutcome, RoleError> {
    let root_key: Arc<dyn PrivateKey> =
        Arc::new(RsaSigner::generate(init.key_bits).map_err(RoleError::Cert)?);
    init_root_with_key(store, secret, init, root_key, options).await
}

/// [`init_root`] with the root's SLC key made by the caller (for example inside a token, with
/// [`rms_keys::KeyLocation`]); the authority's key is made in memory, and written encrypted
/// under the cluster secret for the operator to keep.
pub async fn init_root_with_key(
    store: &Store,
    secret: &ClusterSecret,
    init: &RootInit,
    root_key: Arc<dyn PrivateKey>,
    options: &NodeOptions,
) -> Result<RootInitOutcome, RoleError> {
    let now = options.clock.now();
    let authority_key = Arc::new(RsaSigner::generate(init.key_bits).map_err(RoleError::Cert)?);
    let authority_name = init.authority_name.parse().map_err(|e| {
        RoleError::bad_input(
            "invalid_name",
            format!(
                "invalid authority name {:?}: {}",
                init.authority_name,
                crate::describe_error(&e)
            ),
        )
    })?;
    let authority =
        Issuer::create_authority(authority_name, authority_key.clone(), options.policy, now)
            .map_err(cert_refused)?;

    let id = ServerId::random().map_err(RoleError::Cert)?;
    let identity = ServerIdentity::new(
        &init.name,
        ServerRole::RootCertificationServer,
        id,
        &init.url,
    )
    .map_err(cert_refused)?;
    // The root enrolls exactly as an external authority would see it: through the encoded
    // request and the same checks.
    let request = EnrollmentRequest::new(&identity, root_key.as_ref()).map_err(RoleError::Cert)?;
    let encoded = request.to_der().map_err(RoleError::Cert)?;
    let checked = EnrollmentRequest::from_der(&encoded)
        .map_err(cert_refused)?
        .check()
        .map_err(request_refused)?;
    let chain = authority.issue_slc(&checked, now).map_err(cert_refused)?;

    let admin = create_cluster(
        store,
        ClusterRole::Root,
        &chain,
        root_key.as_ref(),
        secret,
        &ROOT_SERVICES,
        now,
    )
    .await?;
    Ok(RootInitOutcome {
        authority_pem: rms_cert::certificate_to_pem(authority.certificate())
            .map_err(RoleError::Cert)?,
        authority_key_pem: authority_key
            .to_encrypted_pkcs8_pem(secret.passphrase())
            .map_err(RoleError::Cert)?,
        chain_pem: chain.to_pem().map_err(RoleError::Cert)?,
        admin,
    })
}

/// A node of a root certification cluster.
#[derive(Debug, Clone)]
pub struct RootRole {
    cluster: Arc<Cluster>,
    /// The revocation list served last (shared by clones).
    published: Arc<std::sync::Mutex<Option<revocation::PublishedCrl>>>,
}

impl RootRole {
    /// The root role of a loaded cluster; refuses a licensing cluster.
    pub fn new(cluster: Arc<Cluster>) -> Result<Self, RoleError> {
        if cluster.identity().role != ClusterRole::Root {
            return Err(RoleError::Internal(format!(
                "the configuration database holds a {} cluster, not a root certification cluster",
                cluster.identity().role
            )));
        }
        Ok(Self {
            cluster,
            published: Arc::default(),
        })
    }

    /// The cluster.
    #[must_use]
    pub fn cluster(&self) -> &Arc<Cluster> {
        &self.cluster
    }

    /// Sub-enrolls a licensing server: authenticates the caller, checks SubEnrollService's DACL,
    /// checks the request (PEM or base64-free DER), issues a one-year licensing SLC, records it
    /// with its audit entry, and only then returns the chain `[new SLC, root SLC, authority]`.
    pub async fn sub_enroll(
        &self,
        ctx: &RequestContext,
        request: &[u8],
    ) -> Result<Chain, RoleError> {
        self.cluster
            .retry_if_stale(|| self.sub_enroll_once(ctx, request))
            .await
    }

    /// One attempt of [`RootRole::sub_enroll`], its access decision checked at the commit.
    async fn sub_enroll_once(
        &self,
        ctx: &RequestContext,
        request: &[u8],
    ) -> Result<Chain, RoleError> {
        let cluster = &self.cluster;
        let caller = cluster.caller_for_issuance(ctx).await?;
        let decision = cluster
            .authorize(ctx, &caller, Service::SubEnroll, "subenroll")
            .await?;
        let parsed = match std::str::from_utf8(request) {
            Ok(text) if text.trim_start().starts_with("-----BEGIN") => {
                EnrollmentRequest::from_pem(text)
            }
            _ => EnrollmentRequest::from_der(request),
        };
        let checked = match parsed
            .map_err(cert_refused)
            .and_then(|r| r.check().map_err(request_refused))
        {
            Ok(checked) => checked,
            Err(error) => return self.refuse(ctx, &caller.name, error).await,
        };
        let signing = cluster.signing();
        let now = cluster.now();
        cluster.require_valid_slc(&signing, now)?;
        let chain = match signing.issuer.issue_slc(&checked, now) {
            Ok(chain) => chain,
            Err(error) => return self.refuse(ctx, &caller.name, cert_refused(error)).await,
        };
        let subject = checked.identity().common_name().to_owned();
        let record = slc_record(
            cluster,
            &signing.serial,
            &chain,
            &subject,
            &caller.name,
            now,
        )?;
        let serial = record.serial.clone();
        let reason = format!("{decision}; issued licensing SLC {serial} for {subject:?}");
        let entry = cluster.audit_entry(
            ctx,
            &caller.name,
            Service::SubEnroll,
            "subenroll",
            Outcome::Allowed,
            &reason,
        );
        cluster
            .store()
            .record_issued_checked(&record, &entry, decision.generation())
            .await?;
        tracing::info!(principal = %caller.name, %subject, %serial, "sub-enrolled a licensing server");
        Ok(chain)
    }

    /// The SLC with `serial` this root issued, if any.
    pub(crate) async fn issued_slc(&self, serial: &str) -> Result<Option<IssuedRecord>, RoleError> {
        let found = self.cluster.store().issued_by_cluster(serial).await?;
        Ok(found.filter(|record| record.kind == IssuedKind::Slc))
    }

    /// Records a refused request in the audit log, then returns the refusal.
    async fn refuse(
        &self,
        ctx: &RequestContext,
        principal: &str,
        error: RoleError,
    ) -> Result<Chain, RoleError> {
        self.cluster
            .audit_refusal(
                ctx,
                principal,
                Service::SubEnroll,
                "subenroll",
                &error.to_string(),
            )
            .await?;
        Err(error)
    }
}

/// The record of an SLC `cluster` issued at `now` (the leaf of `chain`) with its SLC `issuer_serial`,
/// for `subject` at the request of `requester`.
pub(crate) fn slc_record(
    cluster: &Cluster,
    issuer_serial: &str,
    chain: &Chain,
    subject: &str,
    requester: &str,
    now: time::OffsetDateTime,
) -> Result<IssuedRecord, RoleError> {
    let leaf = chain.leaf();
    let validity = rms_policy::from_x509_validity(leaf.tbs_certificate().validity())
        .map_err(|e| RoleError::Internal(e.to_string()))?;
    Ok(IssuedRecord {
        issuer_serial: issuer_serial.to_owned(),
        serial: serial_hex(leaf),
        kind: IssuedKind::Slc,
        subject: subject.to_owned(),
        not_before: validity.not_before(),
        not_after: validity.not_after(),
        requester: requester.to_owned(),
        issued_by: cluster.options().node_id.clone(),
        issued_at: now,
        der: rms_cert::certificate_to_der(leaf).map_err(RoleError::Cert)?,
    })
}

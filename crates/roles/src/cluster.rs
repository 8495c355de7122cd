//! A running node of a cluster: what it loaded from the configuration database, and the checks
//! every request goes through (authentication, the service's DACL, the audit log).

use std::sync::{Arc, Mutex, RwLock};

use rms_cert::{Chain, Issuer};
use rms_chain::{Cert, TrustAnchor, TrustAnchors, Verifier, VerifyOptions};
use rms_dacl::{DomainSid, Sid, SidContext};
use rms_keys::{KeyReference, PrivateKey};
use rms_policy::{Validity, ValidityPolicy, WindowPosition};
use rms_store::{ClusterIdentity, NewAuditEntry, Outcome, SlcRecord, Store};
use time::OffsetDateTime;

use crate::secret::ClusterSecret;

mod access;
mod controls;
mod credentials;
mod directory;
mod publishers;
mod refusals;

use crate::{Clock, RequestContext, RoleError, Service, SystemClock};
use access::AccessCache;
pub use access::{Caller, Decision};
pub(crate) use controls::ContentControls;
pub(crate) use directory::Directory;
pub(crate) use publishers::{Publisher, Publishers};

/// How a node runs.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// The node's name in audit entries and heartbeats.
    pub node_id: String,
    /// Where the time comes from.
    pub clock: Arc<dyn Clock>,
    /// Lifetimes, clock skew and renewal windows.
    pub policy: ValidityPolicy,
}

impl Default for NodeOptions {
    fn default() -> Self {
        Self {
            node_id: default_node_id(),
            clock: Arc::new(SystemClock),
            policy: ValidityPolicy::default(),
        }
    }
}

/// `host-pid`, unique enough among a cluster's nodes.
#[must_use]
pub fn default_node_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into());
    format!("{host}-{}", std::process::id())
}

/// The cluster's signing identity: its current SLC chain and key.
#[derive(Debug)]
pub(crate) struct SigningIdentity {
    pub(crate) issuer: Issuer,
    pub(crate) key: Arc<dyn PrivateKey>,
    pub(crate) serial: String,
    pub(crate) validity: Validity,
}

/// One node of a cluster, loaded from the configuration database.
#[derive(Debug)]
pub struct Cluster {
    store: Store,
    identity: ClusterIdentity,
    domain: DomainSid,
    signing: RwLock<Arc<SigningIdentity>>,
    /// The SLCs whose publishing licenses the cluster honours (licensing clusters).
    publishers: RwLock<Arc<Publishers>>,
    anchor_pem: String,
    verifier: Verifier,
    options: NodeOptions,
    access: Mutex<AccessCache>,
    /// The rate at which refusals reach the audit log, per source.
    refusals: Mutex<refusals::RefusalAudit>,
    /// Decrypts the SLC key: kept to load a renewed SLC another node installed.
    secret: ClusterSecret,
    /// When this node last recorded each token's use (bounded like the caller cache).
    token_uses: Mutex<std::collections::HashMap<String, OffsetDateTime>>,
}

impl Cluster {
    /// Loads the cluster from `store`, decrypting its SLC key with `secret`.
    pub async fn open(
        store: Store,
        secret: &ClusterSecret,
        options: NodeOptions,
    ) -> Result<Self, RoleError> {
        let identity = store.cluster().await?;
        let domain = parse_domain(&identity.domain_sid)?;
        let slc = store.current_slc().await?;
        let signing = load_signing_identity(&slc, secret, options.policy)?;
        let publishers = Publishers::load(&store.slcs().await?, &signing)?;
        let anchor = signing.issuer.chain().anchor().clone();
        let anchor_cert = Cert::from_certificate(&anchor).map_err(|e| {
            RoleError::Internal(format!(
                "stored trust anchor is unusable: {}",
                crate::describe_error(&e)
            ))
        })?;
        let anchor_pem = rms_cert::certificate_to_pem(&anchor).map_err(RoleError::Cert)?;
        let mut anchors = TrustAnchors::new();
        anchors.add(TrustAnchor::new(anchor_cert));
        let verifier = Verifier::new(
            anchors,
            VerifyOptions::new().with_clock_skew(options.policy.clock_skew),
        );
        Ok(Self {
            store,
            identity,
            domain,
            signing: RwLock::new(Arc::new(signing)),
            publishers: RwLock::new(Arc::new(publishers)),
            anchor_pem,
            verifier,
            options,
            access: Mutex::new(AccessCache::default()),
            refusals: Mutex::default(),
            secret: secret.clone(),
            token_uses: Mutex::default(),
        })
    }

    /// The configuration database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Who the cluster is.
    pub fn identity(&self) -> &ClusterIdentity {
        &self.identity
    }

    /// The node's options.
    pub fn options(&self) -> &NodeOptions {
        &self.options
    }

    /// Now, by the node's clock.
    pub fn now(&self) -> OffsetDateTime {
        self.options.clock.now()
    }

    /// The trust anchor (enrollment authority) the cluster's chain ends in, as PEM.
    pub fn anchor_pem(&self) -> &str {
        &self.anchor_pem
    }

    /// The verifier of chains and licenses under the cluster's trust anchor.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The cluster's current chain, leaf first.
    pub fn chain(&self) -> Chain {
        self.signing().issuer.chain().clone()
    }

    /// The current SLC's private key, to sign with (for example to measure the raw signing
    /// rate beside the cluster's issuance rate).
    pub fn signer(&self) -> Arc<dyn PrivateKey> {
        self.signing().key.clone()
    }

    /// The current SLC's validity.
    pub fn slc_validity(&self) -> Validity {
        self.signing().validity
    }

    pub(crate) fn signing(&self) -> Arc<SigningIdentity> {
        match self.signing.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The publisher whose SLC is `certificate_der`, if this cluster honours its publishing
    /// licenses (it is one of the cluster's own SLCs).
    pub(crate) fn publisher(&self, certificate_der: &[u8]) -> Option<Arc<Publisher>> {
        let publishers = match self.publishers.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        publishers.get(certificate_der)
    }

    /// The cluster secret, to decrypt keys stored under it.
    pub(crate) fn secret(&self) -> &ClusterSecret {
        &self.secret
    }

    /// Reads the cluster's SLCs again (after one was installed here or elsewhere).
    async fn reload_publishers(&self) -> Result<(), RoleError> {
        let publishers = Publishers::load(&self.store.slcs().await?, &self.signing())?;
        let publishers = Arc::new(publishers);
        match self.publishers.write() {
            Ok(mut guard) => *guard = publishers,
            Err(poisoned) => *poisoned.into_inner() = publishers,
        }
        Ok(())
    }

    /// The SID context for reading and printing the cluster's SDDL (domain-relative aliases
    /// resolve against the cluster's domain).
    pub fn sid_context(&self) -> SidContext {
        SidContext::domain(self.domain)
    }

    /// The cluster's domain SID.
    pub fn domain(&self) -> &DomainSid {
        &self.domain
    }

    /// Refuses to issue when the SLC is not valid now.
    pub(crate) fn require_valid_slc(
        &self,
        signing: &SigningIdentity,
        now: OffsetDateTime,
    ) -> Result<(), RoleError> {
        match signing.validity.position(now, time::Duration::ZERO) {
            WindowPosition::Inside => Ok(()),
            WindowPosition::Before => Err(RoleError::NotReady {
                code: "slc_not_yet_valid",
                message: format!(
                    "the cluster's server licensor certificate is not valid before {}; check the server's clock",
                    crate::rfc3339(signing.validity.not_before())
                ),
            }),
            WindowPosition::After => Err(RoleError::NotReady {
                code: "slc_expired",
                message: format!(
                    "the cluster's server licensor certificate expired at {}; renew it before issuing again",
                    crate::rfc3339(signing.validity.not_after())
                ),
            }),
        }
    }

    /// Switches to the database's current SLC if it is not the one this node signs with.
    async fn reload_slc(&self) -> Result<(), RoleError> {
        let slc = self.store.current_slc().await?;
        if slc.serial == self.signing().serial {
            return Ok(());
        }
        match load_signing_identity(&slc, &self.secret, self.options.policy) {
            Ok(identity) => {
                tracing::info!(serial = %slc.serial, "switched to the cluster's renewed SLC");
                self.set_signing(identity);
                self.reload_publishers().await?;
            }
            // Keep signing with the SLC in hand rather than stop: the operator sees why.
            Err(error) => {
                tracing::error!(error = %crate::describe_error(&error), serial = %slc.serial, "cannot load the cluster's new SLC")
            }
        }
        Ok(())
    }

    fn set_signing(&self, identity: SigningIdentity) {
        let identity = Arc::new(identity);
        match self.signing.write() {
            Ok(mut guard) => *guard = identity,
            Err(poisoned) => *poisoned.into_inner() = identity,
        }
    }

    /// Installs a new SLC (after a renewal): stores it with its key encrypted under the
    /// cluster secret, then signs with it. Requests already running finish with the SLC they
    /// started with.
    pub async fn install_slc(
        &self,
        chain: &Chain,
        key: Arc<dyn PrivateKey>,
    ) -> Result<Validity, RoleError> {
        let leaf = chain.leaf();
        let validity = rms_policy::from_x509_validity(leaf.tbs_certificate().validity())
            .map_err(|e| RoleError::Internal(e.to_string()))?;
        let record = SlcRecord {
            serial: crate::serial_hex(leaf),
            chain_pem: chain.to_pem().map_err(RoleError::Cert)?,
            encrypted_key: stored_key(key.as_ref(), &self.secret)?,
            not_before: validity.not_before(),
            not_after: validity.not_after(),
            installed_at: self.now(),
        };
        let issuer = Issuer::new(key.clone(), chain.clone())
            .map_err(|e| {
                RoleError::Internal(format!(
                    "the new SLC and its key do not match: {}",
                    crate::describe_error(&e)
                ))
            })?
            .with_policy(self.options.policy);
        self.store.install_slc(&record).await?;
        self.set_signing(SigningIdentity {
            issuer,
            key,
            serial: record.serial,
            validity,
        });
        self.reload_publishers().await?;
        Ok(validity)
    }

    /// The audit entry of `ctx`'s request, written by this node.
    pub(crate) fn audit_entry(
        &self,
        ctx: &RequestContext,
        principal: &str,
        service: Service,
        action: &str,
        outcome: Outcome,
        reason: &str,
    ) -> NewAuditEntry {
        NewAuditEntry {
            peer: ctx.peer().map(|peer| peer.to_string()),
            request_id: Some(ctx.request_id().to_owned()),
            ..NewAuditEntry::new(
                principal,
                service.name(),
                action,
                outcome,
                reason,
                self.options.node_id.as_str(),
            )
        }
    }
}

/// A warning when the cluster's SLC is inside its renewal window (by default its last 30
/// days) or expired but still renewable; `None` otherwise.
pub fn renewal_warning(cluster: &Cluster, now: OffsetDateTime) -> Option<String> {
    let validity = cluster.slc_validity();
    match cluster.options().policy.renewal_status(&validity, now) {
        rms_policy::RenewalStatus::Due { expires_in } => Some(format!(
            "the server licensor certificate expires at {} (in {} days): renew it",
            crate::rfc3339(validity.not_after()),
            expires_in.whole_days()
        )),
        rms_policy::RenewalStatus::ExpiredInGrace { expired_for } => Some(format!(
            "the server licensor certificate expired {} days ago, at {}: renew it before the grace period ends",
            expired_for.whole_days(),
            crate::rfc3339(validity.not_after())
        )),
        _ => None,
    }
}

fn parse_domain(text: &str) -> Result<DomainSid, RoleError> {
    text.parse::<Sid>()
        .ok()
        .and_then(|sid| DomainSid::from_sid(sid).ok())
        .ok_or_else(|| RoleError::Internal(format!("stored domain SID {text:?} is invalid")))
}

/// Decrypts a stored SLC's key and pairs it with its chain.
pub(crate) fn load_signing_identity(
    slc: &SlcRecord,
    secret: &ClusterSecret,
    policy: ValidityPolicy,
) -> Result<SigningIdentity, RoleError> {
    let key = open_stored_key(&slc.encrypted_key, secret)?;
    let chain = Chain::from_pem(&slc.chain_pem).map_err(|e| {
        RoleError::Internal(format!("stored SLC chain: {}", crate::describe_error(&e)))
    })?;
    let issuer = Issuer::new(key.clone(), chain)
        .map_err(|e| {
            RoleError::Internal(format!(
                "stored SLC and key do not match: {}",
                crate::describe_error(&e)
            ))
        })?
        .with_policy(policy);
    let validity = issuer.validity();
    Ok(SigningIdentity {
        issuer,
        key,
        serial: slc.serial.clone(),
        validity,
    })
}

/// What the configuration database keeps for `key`: the key encrypted under the cluster
/// secret, or, for a key inside a token, its PKCS#11 URI.
pub(crate) fn stored_key(
    key: &dyn PrivateKey,
    secret: &ClusterSecret,
) -> Result<Vec<u8>, RoleError> {
    key.to_reference(secret.passphrase())
        .map(|reference| reference.to_stored())
        .map_err(RoleError::Key)
}

/// Opens a key the configuration database keeps (see [`stored_key`]).
pub(crate) fn open_stored_key(
    stored: &[u8],
    secret: &ClusterSecret,
) -> Result<Arc<dyn PrivateKey>, RoleError> {
    let reference = KeyReference::from_stored(stored).map_err(RoleError::Key)?;
    match reference.open(secret.passphrase()) {
        Ok(key) => Ok(key),
        Err(_) if !reference.is_pkcs11() => Err(RoleError::Secret(
            "the cluster secret does not decrypt the SLC private key in the configuration database: \
             give this cluster's secret (the file written when the cluster was created, or RMS_CLUSTER_SECRET)"
                .into(),
        )),
        Err(error) => Err(RoleError::Key(error)),
    }
}

//! A running node of a cluster: what it loaded from the configuration database, and the checks
//! every request goes through (authentication, the service's DACL, the audit log).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use rms_cert::{Chain, Issuer, RsaSigner};
use rms_chain::{Cert, TrustAnchor, TrustAnchors, Verifier, VerifyOptions};
use rms_dacl::{
    AccessMask, DomainSid, GenericMapping, SecurityDescriptor, Service, Sid, SidContext, Token,
    access_check,
};
use rms_policy::{Validity, ValidityPolicy, WindowPosition};
use rms_store::{
    AuthenticatedPrincipal, ClusterIdentity, NewAuditEntry, Outcome, SlcRecord, Store,
};
use time::OffsetDateTime;

use crate::secret::{ClusterSecret, hash_token};
use crate::{Clock, RoleError, SystemClock};

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
    pub(crate) key: Arc<RsaSigner>,
    pub(crate) serial: String,
    pub(crate) validity: Validity,
}

/// Who is calling: the authenticated principal and the access token its SIDs make.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The principal's name.
    pub name: String,
    /// The principal's SID.
    pub sid: Sid,
    /// The access token its SIDs make: its own, its groups', Everyone and Authenticated Users.
    pub token: Token,
    /// The configuration generation the caller was read at; its request uses descriptors of
    /// the same generation.
    generation: i64,
}

/// Most authenticated callers kept in memory; beyond that the cache starts over.
const CALLER_CACHE: usize = 100_000;

/// Principals and descriptors as of one configuration generation. The database raises the
/// generation on every change to them, so reading that one number per request is enough to
/// see any change, made on any node, at once.
#[derive(Debug, Default)]
struct AccessCache {
    generation: i64,
    callers: HashMap<Vec<u8>, Caller>,
    descriptors: HashMap<Service, Arc<SecurityDescriptor>>,
}

/// One node of a cluster, loaded from the configuration database.
#[derive(Debug)]
pub struct Cluster {
    store: Store,
    identity: ClusterIdentity,
    domain: DomainSid,
    signing: RwLock<Arc<SigningIdentity>>,
    anchor_pem: String,
    verifier: Verifier,
    options: NodeOptions,
    access: Mutex<AccessCache>,
    /// Decrypts the SLC key: kept to load a renewed SLC another node installed.
    secret: ClusterSecret,
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
        let anchor = signing.issuer.chain().anchor().clone();
        let anchor_cert = Cert::from_certificate(&anchor)
            .map_err(|e| RoleError::Internal(format!("stored trust anchor is unusable: {e}")))?;
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
            anchor_pem,
            verifier,
            options,
            access: Mutex::new(AccessCache::default()),
            secret: secret.clone(),
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
    pub fn signer(&self) -> Arc<RsaSigner> {
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
                    signing.validity.not_before()
                ),
            }),
            WindowPosition::After => Err(RoleError::NotReady {
                code: "slc_expired",
                message: format!(
                    "the cluster's server licensor certificate expired at {}; renew it before issuing again",
                    signing.validity.not_after()
                ),
            }),
        }
    }

    /// The principal holding `token`.
    pub async fn authenticate(&self, token: Option<&str>) -> Result<Caller, RoleError> {
        let token = token.ok_or_else(|| {
            RoleError::Unauthenticated(
                "this endpoint needs a bearer token (Authorization: Bearer ...)".into(),
            )
        })?;
        let token_hash = hash_token(token);
        let generation = self.current_generation().await?;
        if let Some(caller) =
            self.cached(generation, |cache| cache.callers.get(&token_hash).cloned())
        {
            return Ok(caller);
        }
        let found = self.store.authenticate(&token_hash).await?;
        let principal =
            found.ok_or_else(|| RoleError::Unauthenticated("unknown bearer token".into()))?;
        let caller = self.caller(&principal, generation)?;
        self.cache_at(generation, |cache| {
            if cache.callers.len() >= CALLER_CACHE {
                cache.callers.clear();
            }
            cache.callers.insert(token_hash, caller.clone());
        });
        Ok(caller)
    }

    /// A caller authenticated by other means than a token (a server proving it holds its SLC's
    /// key): Everyone and Authenticated Users, for the DACL check.
    pub(crate) async fn server_caller(&self, name: &str) -> Result<Caller, RoleError> {
        Ok(Caller {
            name: name.to_owned(),
            sid: Sid::AUTHENTICATED_USERS,
            token: Token::new(Sid::AUTHENTICATED_USERS).with_group(Sid::EVERYONE),
            generation: self.current_generation().await?,
        })
    }

    /// Reads the configuration generation and drops what was cached under an older one; when
    /// it moved, also picks up an SLC another node (or the CLI) installed.
    pub(crate) async fn current_generation(&self) -> Result<i64, RoleError> {
        let generation = self.store.config_generation().await?;
        let moved = {
            let mut cache = self.lock_access();
            let moved = cache.generation != generation;
            if moved {
                *cache = AccessCache {
                    generation,
                    ..AccessCache::default()
                };
            }
            moved
        };
        if moved {
            self.reload_slc().await?;
        }
        Ok(generation)
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
            }
            // Keep signing with the SLC in hand rather than stop: the operator sees why.
            Err(error) => {
                tracing::error!(%error, serial = %slc.serial, "cannot load the cluster's new SLC")
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
        key: Arc<RsaSigner>,
    ) -> Result<Validity, RoleError> {
        let leaf = chain.leaf();
        let validity = rms_policy::from_x509_validity(leaf.tbs_certificate().validity())
            .map_err(|e| RoleError::Internal(e.to_string()))?;
        let record = SlcRecord {
            serial: crate::serial_hex(leaf),
            chain_pem: chain.to_pem().map_err(RoleError::Cert)?,
            encrypted_key: key
                .to_encrypted_pkcs8_der(self.secret.passphrase())
                .map_err(RoleError::Cert)?,
            not_before: validity.not_before(),
            not_after: validity.not_after(),
            installed_at: self.now(),
        };
        let issuer = Issuer::new(key.clone(), chain.clone())
            .map_err(|e| RoleError::Internal(format!("the new SLC and its key do not match: {e}")))?
            .with_policy(self.options.policy);
        self.store.install_slc(&record).await?;
        self.set_signing(SigningIdentity {
            issuer,
            key,
            serial: record.serial,
            validity,
        });
        Ok(validity)
    }

    /// What `read` finds in the cache, if it still holds `generation`.
    fn cached<T>(
        &self,
        generation: i64,
        read: impl FnOnce(&AccessCache) -> Option<T>,
    ) -> Option<T> {
        let cache = self.lock_access();
        (cache.generation == generation)
            .then(|| read(&cache))
            .flatten()
    }

    /// Adds to the cache what was read from the database at `generation` (or later), unless the
    /// cache has moved on to another generation meanwhile.
    fn cache_at(&self, generation: i64, write: impl FnOnce(&mut AccessCache)) {
        let mut cache = self.lock_access();
        if cache.generation == generation {
            write(&mut cache);
        }
    }

    fn lock_access(&self) -> MutexGuard<'_, AccessCache> {
        crate::lock(&self.access)
    }

    fn caller(&self, found: &AuthenticatedPrincipal, generation: i64) -> Result<Caller, RoleError> {
        let parse = |text: &str| {
            text.parse::<Sid>()
                .map_err(|e| RoleError::Internal(format!("stored SID {text:?} is invalid: {e}")))
        };
        let sid = parse(&found.principal.sid)?;
        let mut token = Token::new(sid)
            .with_group(Sid::EVERYONE)
            .with_group(Sid::AUTHENTICATED_USERS);
        for group in &found.group_sids {
            token = token.with_group(parse(group)?);
        }
        Ok(Caller {
            name: found.principal.name.clone(),
            sid,
            token,
            generation,
        })
    }

    /// The descriptor of `service` as of `generation`: from the cache, or read and parsed.
    async fn descriptor(
        &self,
        service: Service,
        generation: i64,
    ) -> Result<Arc<SecurityDescriptor>, RoleError> {
        if let Some(found) =
            self.cached(generation, |cache| cache.descriptors.get(&service).cloned())
        {
            return Ok(found);
        }
        let record = self.store.descriptor(service.name()).await?;
        let descriptor =
            SecurityDescriptor::from_sddl(&record.sddl, &self.sid_context()).map_err(|e| {
                RoleError::Internal(format!(
                    "stored descriptor of {} is invalid: {e}",
                    service.name()
                ))
            })?;
        let descriptor = Arc::new(descriptor);
        self.cache_at(generation, |cache| {
            cache.descriptors.insert(service, descriptor.clone());
        });
        Ok(descriptor)
    }

    /// Checks `caller` against `service`'s descriptor (as of the configuration generation the
    /// caller was authenticated at, so a change made on any node applies to the next request).
    /// A refusal is written to the audit log before it is returned; the caller records an
    /// allowed decision with what it then does.
    pub async fn authorize(
        &self,
        caller: &Caller,
        service: Service,
        action: &str,
    ) -> Result<String, RoleError> {
        let descriptor = self.descriptor(service, caller.generation).await?;
        match access_check(
            &descriptor,
            &caller.token,
            service.required_right(),
            &GenericMapping::RMS_SERVICES,
        ) {
            Ok(granted) => Ok(format!("granted {}", granted.mask())),
            Err(denied) => {
                let reason = denied.reason().to_string();
                self.audit(&caller.name, service, action, Outcome::Denied, &reason)
                    .await?;
                Err(RoleError::Denied {
                    principal: caller.name.clone(),
                    service: service.name().to_owned(),
                    reason,
                })
            }
        }
    }

    /// Checks an unauthenticated caller (Anonymous, in Everyone) against `service`'s
    /// descriptor: the chain is public by default, and an administrator can close it.
    pub async fn authorize_anonymous(
        &self,
        service: Service,
        action: &str,
    ) -> Result<String, RoleError> {
        let caller = Caller {
            name: "anonymous".to_owned(),
            sid: Sid::ANONYMOUS,
            token: Token::new(Sid::ANONYMOUS).with_group(Sid::EVERYONE),
            generation: self.current_generation().await?,
        };
        self.authorize(&caller, service, action).await
    }

    /// Appends to the audit log.
    pub async fn audit(
        &self,
        principal: &str,
        service: Service,
        action: &str,
        outcome: Outcome,
        reason: &str,
    ) -> Result<(), RoleError> {
        Ok(self
            .store
            .audit(&self.audit_entry(principal, service, action, outcome, reason))
            .await?)
    }

    pub(crate) fn audit_entry(
        &self,
        principal: &str,
        service: Service,
        action: &str,
        outcome: Outcome,
        reason: &str,
    ) -> NewAuditEntry {
        NewAuditEntry {
            principal: principal.to_owned(),
            service: service.name().to_owned(),
            action: action.to_owned(),
            outcome,
            reason: reason.to_owned(),
            node: self.options.node_id.clone(),
        }
    }

    /// The access mask the name of a right stands for (`subenroll`, `issue-use-license`, ...).
    pub fn parse_rights(names: &[String]) -> Result<AccessMask, RoleError> {
        AccessMask::from_names(&names.join(","))
            .map_err(|e| RoleError::bad_input("unknown_right", e.to_string()))
    }
}

/// A warning when the cluster's SLC is inside its renewal window (by default its last 30
/// days) or expired but still renewable; `None` otherwise.
pub fn renewal_warning(cluster: &Cluster, now: OffsetDateTime) -> Option<String> {
    let validity = cluster.slc_validity();
    match cluster.options().policy.renewal_status(&validity, now) {
        rms_policy::RenewalStatus::Due { expires_in } => Some(format!(
            "the server licensor certificate expires at {} (in {} days): renew it",
            validity.not_after(),
            expires_in.whole_days()
        )),
        rms_policy::RenewalStatus::ExpiredInGrace { expired_for } => Some(format!(
            "the server licensor certificate expired {} days ago, at {}: renew it before the grace period ends",
            expired_for.whole_days(),
            validity.not_after()
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
    let key = RsaSigner::from_encrypted_pkcs8_der(&slc.encrypted_key, secret.passphrase()).map_err(|_| {
        RoleError::Secret(
            "the cluster secret does not decrypt the SLC private key in the configuration database: \
             give this cluster's secret (the file written at init, or RMS_CLUSTER_SECRET)"
                .into(),
        )
    })?;
    let key = Arc::new(key);
    let chain = Chain::from_pem(&slc.chain_pem)
        .map_err(|e| RoleError::Internal(format!("stored SLC chain: {e}")))?;
    let issuer = Issuer::new(key.clone(), chain)
        .map_err(|e| RoleError::Internal(format!("stored SLC and key do not match: {e}")))?
        .with_policy(policy);
    let validity = issuer.validity();
    Ok(SigningIdentity {
        issuer,
        key,
        serial: slc.serial.clone(),
        validity,
    })
}

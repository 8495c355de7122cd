//! Access checks: who is calling (bearer token to principal and groups), whether the service's
//! DACL lets them, and the cache that keeps both off the database.
//!
//! The cache holds principals and descriptors as of one configuration generation, a number the
//! database raises (by trigger) on every change to principals, memberships, tokens, descriptors
//! or SLCs, made on any node or by the CLI. A decision stands on a generation:
//!
//! - a decision that stands on its own (the chain endpoint, a refusal) is made on the
//!   generation read from the database after the request arrived;
//! - a decision that allows an issuance may be made on the cached generation: the issuance's
//!   commit checks that the generation has not moved (once per batch of records) and otherwise
//!   records nothing, and the request is decided again on the current configuration
//!   ([`Cluster::retry_if_stale`]).
//!
//! Either way no request is served on a configuration older than the one committed before it
//! arrived, and the common case, an allowed issuance, reads nothing before it signs.

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, MutexGuard};

use rms_cert::Chain;
use rms_dacl::{SecurityDescriptor, Sid, Token, access_check};
use rms_store::{AuthenticatedPrincipal, PrincipalKind, StoreError};

use super::{Cluster, ContentControls, Directory};
use crate::context::Credentials;
use crate::secret::hash_token;
use crate::services::{SERVICE_MAPPING, ServiceRights, describe_denial};
use crate::{RequestContext, RoleError, Service};

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
    /// How to read the caller again when the configuration moved.
    source: CallerSource,
    /// The token it authenticated with (its id), and when that stops working.
    pub(super) token_id: Option<String>,
    pub(super) expires_at: Option<time::OffsetDateTime>,
}

#[cfg(test)]
impl Caller {
    /// A caller with `token`, for unit tests of what reads callers.
    pub(crate) fn for_tests(name: &str, token: Token) -> Self {
        Self {
            name: name.to_owned(),
            sid: *token.user(),
            token,
            generation: 1,
            source: CallerSource::Fixed,
            token_id: None,
            expires_at: None,
        }
    }
}

/// Where a caller's identity comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CallerSource {
    /// The hash of the bearer token it authenticated with.
    Token(Vec<u8>),
    /// A principal of the cluster that the embedding service authenticated itself.
    Principal(String),
    /// A fixed identity: the anonymous caller, or a server proving it holds its SLC's key.
    Fixed,
}

/// An access check that allowed: why, and on which configuration generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    reason: String,
    generation: i64,
}

impl Decision {
    /// Why access was granted (`granted 0x...`), as the audit log records it.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The configuration generation the decision was made on.
    pub(crate) fn generation(&self) -> i64 {
        self.generation
    }
}

impl Decision {
    /// The same decision with `note` added to its reason (what the audit entry says).
    pub(crate) fn noting(&self, note: &str) -> Self {
        Self {
            reason: format!("{}; {note}", self.reason),
            generation: self.generation,
        }
    }
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Most authenticated callers kept in memory; beyond that the cache starts over.
pub(super) const CALLER_CACHE: usize = 100_000;

/// How many times an issuance is decided again when the configuration keeps moving under it.
const STALE_RETRIES: usize = 3;

/// Principals and descriptors as of one configuration generation (0: nothing read yet).
#[derive(Debug, Default)]
pub(crate) struct AccessCache {
    generation: i64,
    callers: HashMap<Vec<u8>, Caller>,
    descriptors: HashMap<Service, Arc<SecurityDescriptor>>,
    /// Every principal and group, read once per generation when a request needs them.
    directory: Option<Arc<Directory>>,
    /// The super users and revocations, read once per generation by use-license requests.
    controls: Option<Arc<ContentControls>>,
}

impl Cluster {
    /// The principal holding the bearer token `token`, with its groups: the caller of a request
    /// that carries it. Reads the database only for a token not seen since the configuration
    /// last changed; a decision made for such a caller is checked against the configuration
    /// current when it takes effect (see the module's documentation).
    pub async fn authenticate(&self, token: &str) -> Result<Caller, RoleError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(missing_token());
        }
        let generation = self.cached_generation().await?;
        self.caller_at(hash_token(token), generation).await
    }

    /// The caller for the principal (user) called `name`, with its groups, for a service that
    /// authenticated the user by its own means: no token of ours is involved.
    pub async fn caller_for_principal(&self, name: &str) -> Result<Caller, RoleError> {
        let generation = self.cached_generation().await?;
        self.principal_caller_at(name, generation).await
    }

    /// The caller of `ctx`, as of the cached configuration: for a request whose issuance
    /// record checks the generation at its commit (see the module's documentation). A request
    /// without credentials is refused (401).
    pub(crate) async fn caller_for_issuance(
        &self,
        ctx: &RequestContext,
    ) -> Result<Caller, RoleError> {
        let generation = self.cached_generation().await?;
        match &ctx.credentials {
            Credentials::None => Err(missing_token()),
            Credentials::Bearer(token) => self.authenticate(token).await,
            Credentials::Caller(caller) => self.caller_again(caller, generation).await,
        }
    }

    /// The caller of `ctx` (anonymous when it has no credentials), as of the configuration now
    /// in the database: for a decision that stands on its own.
    pub(crate) async fn current_caller(&self, ctx: &RequestContext) -> Result<Caller, RoleError> {
        let generation = self.current_generation().await?;
        match &ctx.credentials {
            Credentials::None => Ok(anonymous(generation)),
            Credentials::Bearer(token) => {
                let token = token.trim();
                if token.is_empty() {
                    return Err(missing_token());
                }
                self.caller_at(hash_token(token), generation).await
            }
            Credentials::Caller(caller) => self.caller_again(caller, generation).await,
        }
    }

    /// `caller` as of `generation`: itself when read at that generation, else read again.
    async fn caller_again(&self, caller: &Caller, generation: i64) -> Result<Caller, RoleError> {
        if caller.generation == generation {
            return Ok(caller.clone());
        }
        match &caller.source {
            CallerSource::Token(token_hash) => self.caller_at(token_hash.clone(), generation).await,
            CallerSource::Principal(name) => self.principal_caller_at(name, generation).await,
            CallerSource::Fixed => Ok(Caller {
                generation,
                ..caller.clone()
            }),
        }
    }

    /// The caller holding the token `token_hash`, from the cache if it holds `generation`,
    /// else from the database (an unknown token is never cached: it is looked up each time).
    async fn caller_at(&self, token_hash: Vec<u8>, generation: i64) -> Result<Caller, RoleError> {
        if let Some(caller) =
            self.cached(generation, |cache| cache.callers.get(&token_hash).cloned())
        {
            self.check_token_time(&caller)?;
            self.note_token_use(&caller).await;
            return Ok(caller);
        }
        let found = self.store.authenticate(&token_hash).await?;
        let principal =
            found.ok_or_else(|| RoleError::Unauthenticated("unknown bearer token".into()))?;
        let caller = self.caller(
            &principal,
            generation,
            CallerSource::Token(token_hash.clone()),
        )?;
        self.check_token_time(&caller)?;
        self.note_token_use(&caller).await;
        self.cache_at(generation, |cache| {
            if cache.callers.len() >= CALLER_CACHE {
                cache.callers.clear();
            }
            cache.callers.insert(token_hash, caller.clone());
        });
        Ok(caller)
    }

    pub(super) async fn principal_caller_at(
        &self,
        name: &str,
        generation: i64,
    ) -> Result<Caller, RoleError> {
        let found = match self.store.principal_with_groups(name).await {
            Ok(found) => found,
            Err(StoreError::NotFound { .. }) => {
                return Err(RoleError::Unauthenticated(format!(
                    "no principal {name:?} in this cluster"
                )));
            }
            Err(other) => return Err(other.into()),
        };
        if found.principal.kind != PrincipalKind::User {
            return Err(RoleError::Unauthenticated(format!(
                "{name:?} is a group, not a user"
            )));
        }
        self.caller(&found, generation, CallerSource::Principal(name.to_owned()))
    }

    /// A caller authenticated by other means than a token (a server proving it holds its SLC's
    /// key): Everyone and Authenticated Users, for the DACL check.
    pub(crate) async fn server_caller(&self, name: &str) -> Result<Caller, RoleError> {
        Ok(Caller {
            name: name.to_owned(),
            sid: Sid::AUTHENTICATED_USERS,
            token: Token::new(Sid::AUTHENTICATED_USERS).with_group(Sid::EVERYONE),
            generation: self.current_generation().await?,
            source: CallerSource::Fixed,
            token_id: None,
            expires_at: None,
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

    /// The generation the cache holds, read from the database only when nothing was yet.
    pub(super) async fn cached_generation(&self) -> Result<i64, RoleError> {
        let cached = self.lock_access().generation;
        if cached != 0 {
            return Ok(cached);
        }
        self.current_generation().await
    }

    /// Runs `issue` (an issuance from access check to record) again, on the current
    /// configuration, when its record found that the configuration moved since its access
    /// check; a few times at most, then the refusal is the caller's to retry.
    pub(crate) async fn retry_if_stale<T, F, Fut>(&self, mut issue: F) -> Result<T, RoleError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, RoleError>>,
    {
        let mut attempts = 0;
        loop {
            match issue().await {
                Err(RoleError::Store(StoreError::StaleConfiguration { .. }))
                    if attempts < STALE_RETRIES =>
                {
                    attempts += 1;
                    self.current_generation().await?;
                }
                outcome => return outcome,
            }
        }
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

    fn caller(
        &self,
        found: &AuthenticatedPrincipal,
        generation: i64,
        source: CallerSource,
    ) -> Result<Caller, RoleError> {
        let parse = |text: &str| {
            text.parse::<Sid>().map_err(|e| {
                RoleError::Internal(format!(
                    "stored SID {text:?} is invalid: {}",
                    crate::describe_error(&e)
                ))
            })
        };
        if found.principal.disabled {
            return Err(RoleError::Unauthenticated(format!(
                "principal {} is disabled",
                found.principal.name
            )));
        }
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
            source,
            token_id: found.token.as_ref().map(|t| t.id.clone()),
            expires_at: found.token.as_ref().and_then(|t| t.expires_at),
        })
    }

    /// The cluster's principals and groups as of the generation `caller` was read at: from the
    /// cache, or read from the database once for that generation.
    pub(crate) async fn directory_for(&self, caller: &Caller) -> Result<Arc<Directory>, RoleError> {
        let generation = caller.generation;
        if let Some(found) = self.cached(generation, |cache| cache.directory.clone()) {
            return Ok(found);
        }
        let directory = Arc::new(Directory::new(self.store.principals().await?));
        self.cache_at(generation, |cache| {
            cache.directory = Some(directory.clone());
        });
        Ok(directory)
    }

    /// The cluster's super users and revocations as of the generation `caller` was read at.
    pub(crate) async fn controls_for(
        &self,
        caller: &Caller,
    ) -> Result<Arc<ContentControls>, RoleError> {
        let generation = caller.generation;
        if let Some(found) = self.cached(generation, |cache| cache.controls.clone()) {
            return Ok(found);
        }
        let controls = Arc::new(ContentControls::load(&self.store).await?);
        self.cache_at(generation, |cache| {
            cache.controls = Some(controls.clone());
        });
        Ok(controls)
    }

    /// Refusing `caller` on what was cached stands only on the current configuration: when the
    /// generation moved since `caller` was read, the request is to be decided again
    /// ([`Cluster::retry_if_stale`] does) instead of refused.
    pub(crate) async fn confirm_refusal(&self, caller: &Caller) -> Result<(), RoleError> {
        let current = self.current_generation().await?;
        if current != caller.generation {
            return Err(RoleError::Store(StoreError::StaleConfiguration { current }));
        }
        Ok(())
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
        let descriptor = self.stored_descriptor(service).await?;
        let descriptor = Arc::new(descriptor);
        self.cache_at(generation, |cache| {
            cache.descriptors.insert(service, descriptor.clone());
        });
        Ok(descriptor)
    }

    /// `service`'s descriptor as the database holds it. One that does not read (written by
    /// another build, or by hand) leaves the service unable to decide: 503, never a guess.
    pub(crate) async fn stored_descriptor(
        &self,
        service: Service,
    ) -> Result<SecurityDescriptor, RoleError> {
        let record = self.store.descriptor(service.name()).await?;
        SecurityDescriptor::from_sddl(&record.sddl, &self.sid_context()).map_err(|e| {
            RoleError::NotReady {
                code: "descriptor_unreadable",
                message: format!(
                    "the stored descriptor of {} cannot be read ({}): set it again with a valid SDDL",
                    service.name(), crate::describe_error(&e)),
            }
        })
    }

    /// Checks `caller` against `service`'s descriptor as of the configuration generation the
    /// caller was read at. A refusal is final only on the current configuration: when the
    /// generation moved, the caller and the descriptor are read again and the check repeated.
    /// A refusal is written to the audit log (at its source's bounded rate) before it is
    /// returned; the caller records an allowed decision with what it then does.
    pub async fn authorize(
        &self,
        ctx: &RequestContext,
        caller: &Caller,
        service: Service,
        action: &str,
    ) -> Result<Decision, RoleError> {
        let mut caller = Cow::Borrowed(caller);
        loop {
            let descriptor = self.descriptor(service, caller.generation).await?;
            let denied = match access_check(
                &descriptor,
                &caller.token,
                service.required_right(),
                &SERVICE_MAPPING,
            ) {
                Ok(granted) => {
                    return Ok(Decision {
                        reason: format!("granted {}", ServiceRights::from(granted.mask())),
                        generation: caller.generation,
                    });
                }
                Err(denied) => denied,
            };
            let current = self.current_generation().await?;
            if current != caller.generation {
                caller = Cow::Owned(self.caller_again(&caller, current).await?);
                continue;
            }
            let reason = describe_denial(&denied);
            self.audit_refusal(ctx, &caller.name, service, action, &reason)
                .await?;
            return Err(RoleError::Denied {
                principal: caller.name.clone(),
                service: service.name().to_owned(),
                reason,
            });
        }
    }

    /// The cluster's chain, for the chain endpoint: ChainService's DACL decides, on the
    /// configuration now in the database, for the caller of `ctx` or, without credentials, the
    /// anonymous caller (the chain is public by default; an administrator can close it).
    pub async fn chain_for(&self, ctx: &RequestContext) -> Result<Chain, RoleError> {
        let caller = self.current_caller(ctx).await?;
        self.authorize(ctx, &caller, Service::Chain, "chain")
            .await?;
        Ok(self.chain())
    }
}

/// The anonymous caller (in Everyone) at `generation`.
fn anonymous(generation: i64) -> Caller {
    Caller {
        name: "anonymous".to_owned(),
        sid: Sid::ANONYMOUS,
        token: Token::new(Sid::ANONYMOUS).with_group(Sid::EVERYONE),
        generation,
        source: CallerSource::Fixed,
        token_id: None,
        expires_at: None,
    }
}

/// The refusal of a request that needs a bearer token and has none.
fn missing_token() -> RoleError {
    RoleError::Unauthenticated(
        "this endpoint needs a bearer token (Authorization: Bearer ...)".into(),
    )
}

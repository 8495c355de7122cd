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

use rms_dacl::{GenericMapping, SecurityDescriptor, Service, Sid, Token, access_check};
use rms_store::{AuthenticatedPrincipal, Outcome, StoreError};

use super::Cluster;
use crate::RoleError;
use crate::secret::hash_token;

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
    /// The hash of the bearer token it authenticated with, to read it again when the
    /// configuration moved; `None` for callers without a token (anonymous, servers).
    token_hash: Option<Vec<u8>>,
}

/// An access check that allowed: why, and on which configuration generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    reason: String,
    generation: i64,
}

impl Decision {
    /// Why access was granted (`granted 0x...`), as the audit log records it.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The configuration generation the decision was made on.
    pub(crate) fn generation(&self) -> i64 {
        self.generation
    }
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Most authenticated callers kept in memory; beyond that the cache starts over.
const CALLER_CACHE: usize = 100_000;

/// How many times an issuance is decided again when the configuration keeps moving under it.
const STALE_RETRIES: usize = 3;

/// Principals and descriptors as of one configuration generation (0: nothing read yet).
#[derive(Debug, Default)]
pub(crate) struct AccessCache {
    generation: i64,
    callers: HashMap<Vec<u8>, Caller>,
    descriptors: HashMap<Service, Arc<SecurityDescriptor>>,
}

impl Cluster {
    /// The principal holding `token`, as of the configuration now in the database.
    pub async fn authenticate(&self, token: Option<&str>) -> Result<Caller, RoleError> {
        let token_hash = hash_token(bearer(token)?);
        let generation = self.current_generation().await?;
        self.caller_at(token_hash, generation).await
    }

    /// The principal holding `token`, as of the cached configuration: for a request whose
    /// issuance record checks the generation at its commit (see the module's documentation).
    pub(crate) async fn authenticate_for_issuance(
        &self,
        token: Option<&str>,
    ) -> Result<Caller, RoleError> {
        let token_hash = hash_token(bearer(token)?);
        let generation = self.cached_generation().await?;
        self.caller_at(token_hash, generation).await
    }

    /// The caller holding the token `token_hash`, from the cache if it holds `generation`,
    /// else from the database (an unknown token is never cached: it is looked up each time).
    async fn caller_at(&self, token_hash: Vec<u8>, generation: i64) -> Result<Caller, RoleError> {
        if let Some(caller) =
            self.cached(generation, |cache| cache.callers.get(&token_hash).cloned())
        {
            return Ok(caller);
        }
        let found = self.store.authenticate(&token_hash).await?;
        let principal =
            found.ok_or_else(|| RoleError::Unauthenticated("unknown bearer token".into()))?;
        let caller = self.caller(&principal, generation, token_hash.clone())?;
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
            token_hash: None,
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
    async fn cached_generation(&self) -> Result<i64, RoleError> {
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
        token_hash: Vec<u8>,
    ) -> Result<Caller, RoleError> {
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
            token_hash: Some(token_hash),
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

    /// Checks `caller` against `service`'s descriptor as of the configuration generation the
    /// caller was read at. A refusal is final only on the current configuration: when the
    /// generation moved, the caller and the descriptor are read again and the check repeated.
    /// A refusal is written to the audit log before it is returned; the caller records an
    /// allowed decision with what it then does.
    pub async fn authorize(
        &self,
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
                &GenericMapping::RMS_SERVICES,
            ) {
                Ok(granted) => {
                    return Ok(Decision {
                        reason: format!("granted {}", granted.mask()),
                        generation: caller.generation,
                    });
                }
                Err(denied) => denied,
            };
            let current = self.current_generation().await?;
            if current != caller.generation {
                caller = Cow::Owned(match &caller.token_hash {
                    Some(token_hash) => self.caller_at(token_hash.clone(), current).await?,
                    None => Caller {
                        generation: current,
                        ..caller.into_owned()
                    },
                });
                continue;
            }
            let reason = denied.reason().to_string();
            self.audit(&caller.name, service, action, Outcome::Denied, &reason)
                .await?;
            return Err(RoleError::Denied {
                principal: caller.name.clone(),
                service: service.name().to_owned(),
                reason,
            });
        }
    }

    /// Checks an unauthenticated caller (Anonymous, in Everyone) against `service`'s
    /// descriptor: the chain is public by default, and an administrator can close it.
    pub async fn authorize_anonymous(
        &self,
        service: Service,
        action: &str,
    ) -> Result<Decision, RoleError> {
        let caller = Caller {
            name: "anonymous".to_owned(),
            sid: Sid::ANONYMOUS,
            token: Token::new(Sid::ANONYMOUS).with_group(Sid::EVERYONE),
            generation: self.current_generation().await?,
            token_hash: None,
        };
        self.authorize(&caller, service, action).await
    }
}

/// The bearer token, or the refusal of a request without one.
fn bearer(token: Option<&str>) -> Result<&str, RoleError> {
    token.ok_or_else(|| {
        RoleError::Unauthenticated(
            "this endpoint needs a bearer token (Authorization: Bearer ...)".into(),
        )
    })
}

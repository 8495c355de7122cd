//! [`Verifier`]: trust anchors and options held together, with a cache of verified paths.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rms_policy::Validity;
use time::OffsetDateTime;

use crate::build::build;
use crate::{
    Cert, ChainError, Purpose, RevocationPolicy, TrustAnchors, VerifiedPath, VerifyOptions,
};

/// How many verified paths a [`Verifier`] keeps by default.
pub const DEFAULT_CACHE_CAPACITY: usize = 1024;

/// Verifies paths (and licenses) against a fixed set of trust anchors and options, caching the
/// paths it has verified.
///
/// A cached path records what does not depend on time: that its signatures verify, its names
/// chain, its constraints and rights hold for the purpose. It is keyed by the SHA-256
/// fingerprints of its certificates and reused only when every one of them is among the
/// inputs of the new call (the leaf, the pool, the anchors); the validity windows, and the
/// revocations when the options have some, are checked again on every call, under the model,
/// at the time given. Verifying a second license from
/// the same signer therefore costs the license's own signature check and little else.
///
/// The verdict is the same as that of [`verify_path`](crate::verify_path) with the same
/// inputs; when several valid paths exist, the one returned may differ. The cache holds at
/// most its capacity of paths, dropping the oldest first. A `Verifier` can be shared between
/// threads.
#[derive(Debug)]
pub struct Verifier {
    anchors: TrustAnchors,
    options: VerifyOptions,
    cache: Mutex<Cache>,
}

impl Verifier {
    /// A verifier trusting `anchors`, with `options` and a cache of
    /// [`DEFAULT_CACHE_CAPACITY`] paths.
    #[must_use]
    pub fn new(anchors: TrustAnchors, options: VerifyOptions) -> Self {
        Self {
            anchors,
            options,
            cache: Mutex::new(Cache::new(DEFAULT_CACHE_CAPACITY)),
        }
    }

    /// Sets how many verified paths are kept (0 turns caching off).
    pub fn with_cache_capacity(self, capacity: usize) -> Self {
        Self {
            cache: Mutex::new(Cache::new(capacity)),
            ..self
        }
    }

    /// The trust anchors.
    pub fn anchors(&self) -> &TrustAnchors {
        &self.anchors
    }

    /// The options.
    pub fn options(&self) -> &VerifyOptions {
        &self.options
    }

    /// How many verified paths the cache holds.
    pub fn cached_paths(&self) -> usize {
        self.lock().len
    }

    /// Empties the cache.
    pub fn clear_cache(&self) {
        let mut cache = self.lock();
        let capacity = cache.capacity;
        *cache = Cache::new(capacity);
    }

    /// Like [`verify_path`](crate::verify_path) with this verifier's anchors and options.
    pub fn verify_path(
        &self,
        leaf: &Cert,
        pool: &[Cert],
        at: OffsetDateTime,
    ) -> Result<VerifiedPath, ChainError> {
        self.verify_cached(leaf, pool, at, self.options.purpose(), None)
    }

    /// Verifies the path of `leaf` for `purpose`, with the validity window of a license it
    /// signed when there is one; uses and fills the cache.
    pub(crate) fn verify_cached(
        &self,
        leaf: &Cert,
        pool: &[Cert],
        at: OffsetDateTime,
        purpose: Purpose,
        license: Option<Validity>,
    ) -> Result<VerifiedPath, ChainError> {
        if matches!(
            self.options.revocation_policy(),
            RevocationPolicy::RequireCurrent(_)
        ) {
            // The status of every certificate depends on the lists current at `at`, whose
            // issuers' paths are part of the verification: nothing of it can be reused.
            return build(
                leaf,
                pool,
                &self.anchors,
                at,
                &self.options,
                purpose,
                license,
            );
        }
        let key = CacheKey {
            purpose,
            min_rsa_bits: self.options.min_rsa_bits(),
            max_intermediates: self.options.max_intermediates(),
        };
        let cached = self.lock().lookup(leaf.fingerprint(), &key);
        for path in cached {
            let available = path
                .intermediates()
                .iter()
                .all(|c| pool.iter().any(|p| p.fingerprint() == c.fingerprint()))
                && self.anchors.contains(path.anchor().cert().fingerprint());
            if available
                && path.check_times(license, at, &self.options).is_ok()
                && path.check_revocations(license, at, &self.options).is_ok()
            {
                return Ok(path);
            }
        }
        let path = build(
            leaf,
            pool,
            &self.anchors,
            at,
            &self.options,
            purpose,
            license,
        )?;
        self.lock().insert(key, path.clone());
        Ok(path)
    }

    /// A certificate of a cached path, by fingerprint: reusing it saves reading it again and
    /// parsing its public key.
    pub(crate) fn known_cert(&self, fingerprint: &[u8; 32]) -> Option<Cert> {
        self.lock()
            .known
            .get(fingerprint)
            .map(|(cert, _)| cert.clone())
    }

    fn lock(&self) -> MutexGuard<'_, Cache> {
        // The cache holds no invariant a panic elsewhere could break half-way.
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What a cached path was verified for, besides time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CacheKey {
    purpose: Purpose,
    min_rsa_bits: usize,
    max_intermediates: usize,
}

#[derive(Debug)]
struct Cache {
    capacity: usize,
    len: usize,
    /// Paths by the fingerprint of their leaf.
    by_leaf: HashMap<[u8; 32], Vec<(CacheKey, VerifiedPath)>>,
    /// Insertion order, for eviction: leaf fingerprint, key and the path's fingerprints.
    order: VecDeque<([u8; 32], CacheKey, Vec<[u8; 32]>)>,
    /// Every certificate of the cached paths, with the number of paths holding it.
    known: HashMap<[u8; 32], (Cert, usize)>,
}

impl Cache {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            len: 0,
            by_leaf: HashMap::new(),
            order: VecDeque::new(),
            known: HashMap::new(),
        }
    }

    fn lookup(&self, leaf: &[u8; 32], key: &CacheKey) -> Vec<VerifiedPath> {
        self.by_leaf
            .get(leaf)
            .map(|paths| {
                paths
                    .iter()
                    .filter(|(k, _)| k == key)
                    .map(|(_, p)| p.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn insert(&mut self, key: CacheKey, path: VerifiedPath) {
        if self.capacity == 0 {
            return;
        }
        let leaf = *path.leaf().fingerprint();
        let prints = fingerprints(&path);
        let entries = self.by_leaf.entry(leaf).or_default();
        if entries
            .iter()
            .any(|(k, p)| *k == key && fingerprints(p) == prints)
        {
            return;
        }
        for cert in path_certs(&path) {
            self.known
                .entry(*cert.fingerprint())
                .or_insert((cert.clone(), 0))
                .1 += 1;
        }
        entries.push((key, path));
        self.order.push_back((leaf, key, prints));
        self.len += 1;
        while self.len > self.capacity {
            let Some((leaf, key, oldest)) = self.order.pop_front() else {
                break;
            };
            if let Some(entries) = self.by_leaf.get_mut(&leaf) {
                if let Some(i) = entries
                    .iter()
                    .position(|(k, p)| *k == key && fingerprints(p) == oldest)
                {
                    let (_, path) = entries.remove(i);
                    self.len -= 1;
                    for cert in path_certs(&path) {
                        if let Some((_, count)) = self.known.get_mut(cert.fingerprint()) {
                            *count = count.saturating_sub(1);
                            if *count == 0 {
                                self.known.remove(cert.fingerprint());
                            }
                        }
                    }
                }
                if entries.is_empty() {
                    self.by_leaf.remove(&leaf);
                }
            }
        }
    }
}

/// A path's certificates and anchor.
fn path_certs(path: &VerifiedPath) -> impl Iterator<Item = &Cert> {
    path.certificates()
        .iter()
        .chain(std::iter::once(path.anchor().cert()))
}

/// The fingerprints of a path's certificates and anchor.
fn fingerprints(path: &VerifiedPath) -> Vec<[u8; 32]> {
    path_certs(path).map(|c| *c.fingerprint()).collect()
}

//! A user's use licenses on disk, so that a document opens again without the licensing server
//! for as long as its use license is valid.
//!
//! One PEM file per (content id, user key), named by a digest of both: the name says nothing
//! about the document or the user. Nothing read back is trusted: whoever opens a document
//! verifies the license again (signature, chain, validity, that it is this user's and this
//! document's), so a file changed on disk is merely not used. The store is bounded in entries
//! and in the size of each file; when full, the least recently written licenses go first.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rms_cert::SignedLicense;
use rms_cert::spki::SubjectPublicKeyInfoOwned;
use sha2::{Digest, Sha256};

use crate::RoleError;

/// Licenses a store keeps unless told otherwise.
pub const DEFAULT_LICENSE_STORE_ENTRIES: usize = 1024;
/// Longest license file read back (a use license carrying its chain is about 4 KiB).
pub const MAX_STORED_LICENSE_LEN: u64 = 64 * 1024;

/// Longest revocation list kept or read back: as long as the longest answer the HTTP client
/// reads (`rms-transport`'s default), so that every list a client fetched can be kept.
pub const MAX_STORED_REVOCATION_LIST_LEN: u64 = 16 << 20;

const PREFIX: &str = "ul-";
const LIST_PREFIX: &str = "rl-";
const LIST_SUFFIX: &str = ".der";
const SUFFIX: &str = ".pem";

/// A directory of one user's (or several users') use licenses.
///
/// ```
/// # fn demo() -> Result<(), rms_roles::RoleError> {
/// let dir = tempfile::tempdir().map_err(|e| rms_roles::RoleError::Internal(e.to_string()))?;
/// let store = rms_roles::client::LicenseStore::open(dir.path())?.with_max_entries(100);
/// assert_eq!(store.len()?, 0);
/// # Ok(()) }
/// # demo().map_err(|e| e.to_string())?;
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone)]
pub struct LicenseStore {
    dir: PathBuf,
    max_entries: usize,
}

impl LicenseStore {
    /// The store in `dir`, created (mode 0700) if missing.
    pub fn open(dir: &Path) -> Result<Self, RoleError> {
        fs::create_dir_all(dir).map_err(RoleError::local_file(format!(
            "cannot create the license store {}",
            dir.display()
        )))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(
                RoleError::local_file(format!(
                    "cannot restrict the license store {}",
                    dir.display()
                )),
            )?;
        }
        Ok(Self {
            dir: dir.to_owned(),
            max_entries: DEFAULT_LICENSE_STORE_ENTRIES,
        })
    }

    /// Keeps at most `max_entries` licenses (at least one).
    #[must_use]
    pub fn with_max_entries(mut self, max_entries: usize) -> Self {
        self.max_entries = max_entries.max(1);
        self
    }

    /// The directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The license stored for `content_id` and `user_key`, if any. A file that is too long or
    /// does not decode is removed and reported as absent. The license is not verified: that
    /// is the caller's to do, every time.
    pub fn get(
        &self,
        content_id: &str,
        user_key: &SubjectPublicKeyInfoOwned,
    ) -> Result<Option<SignedLicense>, RoleError> {
        let path = self.path_of(content_id, user_key)?;
        let license = match read_bounded(&path, MAX_STORED_LICENSE_LEN) {
            Ok(None) => return Ok(None),
            Ok(Some(bytes)) => String::from_utf8(bytes)
                .ok()
                .and_then(|text| SignedLicense::from_pem(&text).ok()),
            // Too long, or unreadable once open: dropped like a damaged license.
            Err(Bounded::TooLong | Bounded::ReadFailed(_)) => None,
            Err(Bounded::OpenFailed(error)) => return Err(error),
        };
        if license.is_none() {
            self.remove_path(&path)?;
        }
        Ok(license)
    }

    /// Stores `license` for `content_id` and `user_key`, replacing any before it: written to a
    /// temporary file (mode 0600) renamed into place, then the oldest licenses beyond the
    /// store's bound are removed.
    pub fn put(
        &self,
        content_id: &str,
        user_key: &SubjectPublicKeyInfoOwned,
        license: &SignedLicense,
    ) -> Result<(), RoleError> {
        let path = self.path_of(content_id, user_key)?;
        let pem = license.to_pem().map_err(RoleError::Cert)?;
        self.write_atomically(&path, pem.as_bytes(), "the use license")?;
        self.prune(&path)
    }

    /// Removes the license stored for `content_id` and `user_key`, if any.
    pub fn remove(
        &self,
        content_id: &str,
        user_key: &SubjectPublicKeyInfoOwned,
    ) -> Result<(), RoleError> {
        let path = self.path_of(content_id, user_key)?;
        self.remove_path(&path)
    }

    /// How many licenses are stored.
    pub fn len(&self) -> Result<usize, RoleError> {
        Ok(self.entries()?.len())
    }

    /// Whether no license is stored.
    pub fn is_empty(&self) -> Result<bool, RoleError> {
        Ok(self.len()? == 0)
    }

    /// Keeps `der`, the signed revocation list of the cluster whose SLC subject is
    /// `issuer_der`, replacing the one before (one list per cluster, not counted among the
    /// licenses). Not verified here: the caller verified it, and verifies it again when it
    /// reads it back.
    pub fn put_revocation_list(&self, issuer_der: &[u8], der: &[u8]) -> Result<(), RoleError> {
        if der.len() as u64 > MAX_STORED_REVOCATION_LIST_LEN {
            return Err(RoleError::bad_input(
                "revocation_list_too_long",
                format!(
                    "a revocation list of {} octets is longer than the {MAX_STORED_REVOCATION_LIST_LEN} a store keeps",
                    der.len()
                ),
            ));
        }
        let path = self.list_path(issuer_der);
        self.write_atomically(&path, der, "the revocation list")
    }

    /// The revocation list kept for the cluster whose SLC subject is `issuer_der`, if any
    /// (not verified; one too long is reported as absent).
    pub fn revocation_list(&self, issuer_der: &[u8]) -> Result<Option<Vec<u8>>, RoleError> {
        match read_bounded(&self.list_path(issuer_der), MAX_STORED_REVOCATION_LIST_LEN) {
            Ok(found) => Ok(found),
            Err(Bounded::TooLong) => Ok(None),
            Err(Bounded::OpenFailed(error) | Bounded::ReadFailed(error)) => Err(error),
        }
    }

    /// Writes `bytes` to `path` through a temporary file (mode 0600) in the store, renamed
    /// into place once complete; `what` names the file in errors.
    fn write_atomically(&self, path: &Path, bytes: &[u8], what: &str) -> Result<(), RoleError> {
        let what = || format!("cannot write {what} {}", path.display());
        let mut temporary = tempfile::Builder::new()
            .prefix(".rms-")
            .suffix(".partial")
            .tempfile_in(&self.dir)
            .map_err(RoleError::local_file(what()))?;
        temporary
            .write_all(bytes)
            .and_then(|()| temporary.flush())
            .map_err(RoleError::local_file(what()))?;
        temporary.persist(path).map_err(|e| RoleError::LocalFile {
            what: what(),
            source: e.error,
        })?;
        Ok(())
    }

    fn list_path(&self, issuer_der: &[u8]) -> PathBuf {
        let name: String = Sha256::digest(issuer_der)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.dir.join(format!("{LIST_PREFIX}{name}{LIST_SUFFIX}"))
    }

    fn path_of(
        &self,
        content_id: &str,
        user_key: &SubjectPublicKeyInfoOwned,
    ) -> Result<PathBuf, RoleError> {
        let key_der = der::Encode::to_der(user_key).map_err(|e| {
            RoleError::bad_input(
                "malformed_key",
                format!("the user's public key does not encode: {e}"),
            )
        })?;
        // Length-prefixed so that no two (id, key) pairs hash the same input.
        let mut hash = Sha256::new();
        hash.update((content_id.len() as u64).to_be_bytes());
        hash.update(content_id.as_bytes());
        hash.update(&key_der);
        let name: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok(self.dir.join(format!("{PREFIX}{name}{SUFFIX}")))
    }

    fn remove_path(&self, path: &Path) -> Result<(), RoleError> {
        match fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(RoleError::LocalFile {
                what: format!("cannot remove {}", path.display()),
                source: e,
            }),
        }
    }

    /// The store's license files with when each was written.
    fn entries(&self) -> Result<Vec<(std::time::SystemTime, PathBuf)>, RoleError> {
        let listing = fs::read_dir(&self.dir).map_err(RoleError::local_file(format!(
            "cannot list the license store {}",
            self.dir.display()
        )))?;
        let mut entries = Vec::new();
        for entry in listing.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !(name.starts_with(PREFIX) && name.ends_with(SUFFIX)) {
                continue;
            }
            let written = entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            entries.push((written, entry.path()));
        }
        Ok(entries)
    }

    /// Removes the oldest licenses beyond the bound, never `keep` (the one just written).
    fn prune(&self, keep: &Path) -> Result<(), RoleError> {
        let mut entries = self.entries()?;
        if entries.len() <= self.max_entries {
            return Ok(());
        }
        let excess = entries.len() - self.max_entries;
        entries.retain(|(_, path)| path != keep);
        entries.sort();
        for (_, path) in entries.into_iter().take(excess) {
            self.remove_path(&path)?;
        }
        Ok(())
    }
}

/// Why a bounded read gave no contents.
enum Bounded {
    /// The file is longer than the bound.
    TooLong,
    /// It exists but could not be opened.
    OpenFailed(RoleError),
    /// It was opened but could not be read.
    ReadFailed(RoleError),
}

/// The contents of `path` if it is at most `max` octets long; `None` when there is no such
/// file.
fn read_bounded(path: &Path, max: u64) -> Result<Option<Vec<u8>>, Bounded> {
    let cannot_read = |source| RoleError::LocalFile {
        what: format!("cannot read {}", path.display()),
        source,
    };
    let file = match fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Bounded::OpenFailed(cannot_read(e))),
    };
    let mut bytes = Vec::new();
    let read = file
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Bounded::ReadFailed(cannot_read(e)))?;
    if read as u64 > max {
        return Err(Bounded::TooLong);
    }
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn revocation_lists_are_kept_per_issuer_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let store = LicenseStore::open(dir.path()).unwrap();
        assert_eq!(store.revocation_list(b"issuer-a").unwrap(), None);
        store.put_revocation_list(b"issuer-a", b"list a").unwrap();
        store.put_revocation_list(b"issuer-b", b"list b").unwrap();
        store
            .put_revocation_list(b"issuer-a", b"list a, later")
            .unwrap();
        assert_eq!(
            store.revocation_list(b"issuer-a").unwrap().as_deref(),
            Some(&b"list a, later"[..])
        );
        assert_eq!(
            store.revocation_list(b"issuer-b").unwrap().as_deref(),
            Some(&b"list b"[..])
        );
        // Lists are not licenses: they neither count nor get pruned as such.
        assert_eq!(store.len().unwrap(), 0);

        let too_long = usize::try_from(MAX_STORED_REVOCATION_LIST_LEN + 1).unwrap();
        let e = store
            .put_revocation_list(b"issuer-a", &vec![0u8; too_long])
            .unwrap_err();
        assert_eq!(e.code(), "revocation_list_too_long", "{e}");
        // A file grown too long behind the store's back is not read.
        fs::write(store.list_path(b"issuer-b"), vec![0u8; too_long]).unwrap();
        assert_eq!(store.revocation_list(b"issuer-b").unwrap(), None);
        assert_eq!(
            store.revocation_list(b"issuer-a").unwrap().as_deref(),
            Some(&b"list a, later"[..])
        );
    }
}

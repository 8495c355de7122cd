//! Secrets: the cluster secret that protects the SLC private key at rest, and bearer tokens.

use std::fmt;
use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::RoleError;

/// The environment variable that may hold the cluster secret instead of a file.
pub const CLUSTER_SECRET_ENV: &str = "RMS_CLUSTER_SECRET";

/// The file in the data directory that holds the cluster secret by default.
pub const CLUSTER_SECRET_FILE: &str = "cluster-secret";

/// The passphrase that encrypts the cluster's SLC private key (PKCS#8 PBES2) in the
/// configuration database. Every node of a cluster needs the same one.
#[derive(Clone, PartialEq, Eq)]
pub struct ClusterSecret(String);

impl fmt::Debug for ClusterSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClusterSecret(***)")
    }
}

impl ClusterSecret {
    /// A new random secret (256 bits, hex).
    pub fn generate() -> Result<Self, RoleError> {
        Ok(Self(random_hex(32)?))
    }

    /// A secret given as text (at least 16 characters; surrounding white space is ignored).
    pub fn from_text(text: &str) -> Result<Self, RoleError> {
        let text = text.trim();
        if text.len() < 16 {
            return Err(RoleError::Secret(
                "the cluster secret must be at least 16 characters long".into(),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// The secret from the environment variable [`CLUSTER_SECRET_ENV`] if set, else from
    /// `file`.
    pub fn load(file: &Path) -> Result<Self, RoleError> {
        if let Ok(text) = std::env::var(CLUSTER_SECRET_ENV) {
            return Self::from_text(&text);
        }
        let text = std::fs::read_to_string(file).map_err(|e| {
            RoleError::Secret(format!(
                "cannot read the cluster secret from {} ({}); set {CLUSTER_SECRET_ENV} or give --secret-file",
                file.display(), crate::describe_error(&e)))
        })?;
        Self::from_text(&text)
    }

    /// Writes the secret to a new file readable by its owner only (mode 0600); refuses to
    /// overwrite an existing file.
    pub fn write_new_file(&self, file: &Path) -> Result<(), RoleError> {
        write_private_file(file, format!("{}\n", self.0).as_bytes())
    }

    /// The bytes that serve as the PKCS#8 passphrase.
    #[must_use]
    pub fn passphrase(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The secret's text, to show an operator once.
    #[must_use]
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

/// Writes `contents` to a new file with mode 0600, refusing to overwrite.
pub fn write_private_file(file: &Path, contents: &[u8]) -> Result<(), RoleError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut handle = options.open(file).map_err(|e| {
        RoleError::Secret(format!(
            "cannot create {}: {}",
            file.display(),
            crate::describe_error(&e)
        ))
    })?;
    handle
        .write_all(contents)
        .and_then(|()| handle.sync_all())
        .map_err(|e| {
            RoleError::Secret(format!(
                "cannot write {}: {}",
                file.display(),
                crate::describe_error(&e)
            ))
        })
}

/// A new bearer token: `rms_` and 256 random bits in hex.
pub fn new_token() -> Result<String, RoleError> {
    Ok(format!("rms_{}", random_hex(32)?))
}

/// What the store keeps of a token: its SHA-256.
#[must_use]
pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], RoleError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| {
        RoleError::Internal(format!(
            "the system's random source failed: {}",
            crate::describe_error(&e)
        ))
    })?;
    Ok(bytes)
}

fn random_hex(len: usize) -> Result<String, RoleError> {
    let bytes: [u8; 64] = random_bytes()?;
    Ok(bytes.iter().take(len).map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secrets_and_tokens() {
        let a = ClusterSecret::generate().unwrap();
        assert_eq!(a.reveal().len(), 64);
        assert_ne!(a, ClusterSecret::generate().unwrap());
        assert!(ClusterSecret::from_text("short").is_err());
        assert_eq!(format!("{a:?}"), "ClusterSecret(***)");
        let token = new_token().unwrap();
        assert!(token.starts_with("rms_") && token.len() == 68);
        assert_eq!(hash_token(&token), hash_token(&token));
        assert_ne!(hash_token(&token), hash_token("rms_other"));
    }

    #[cfg(unix)]
    #[test]
    fn secret_file_is_private_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(CLUSTER_SECRET_FILE);
        let secret = ClusterSecret::generate().unwrap();
        secret.write_new_file(&file).unwrap();
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(secret.write_new_file(&file).is_err());
        assert_eq!(
            ClusterSecret::from_text(&std::fs::read_to_string(&file).unwrap()).unwrap(),
            secret
        );
    }
}

//! Where a key lives, as a configuration stores it, and opening or generating it there.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::{Backend, KeyError, Pkcs11Uri, PrivateKey, SoftwareKey, UriError};

/// How a stored key is found again: what a cluster's configuration database keeps for its
/// key (see [`to_stored`](Self::to_stored)).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyReference {
    /// The key itself, as PKCS#8 EncryptedPrivateKeyInfo DER (PBES2: scrypt and
    /// AES-256-CBC) under a passphrase kept elsewhere (the cluster secret).
    SoftwarePkcs8 {
        /// The encrypted key.
        encrypted_der: Vec<u8>,
    },
    /// A key inside a PKCS#11 token, by URI (with its module path and PIN source; never the
    /// PIN).
    Pkcs11 {
        /// The key's URI.
        uri: Pkcs11Uri,
    },
}

impl fmt::Debug for KeyReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SoftwarePkcs8 { encrypted_der } => f
                .debug_struct("SoftwarePkcs8")
                .field("encrypted_len", &encrypted_der.len())
                .finish(),
            Self::Pkcs11 { uri } => f
                .debug_struct("Pkcs11")
                .field("uri", &uri.to_string())
                .finish(),
        }
    }
}

/// What stored bytes start with when they hold a PKCS#11 URI.
const URI_PREFIX: &[u8] = b"pkcs11:";

impl KeyReference {
    /// The reference as one byte string, for a single column: the encrypted PKCS#8 DER as it
    /// is (so keys stored before PKCS#11 existed read unchanged), or the URI's UTF-8 text.
    #[must_use]
    pub fn to_stored(&self) -> Vec<u8> {
        match self {
            Self::SoftwarePkcs8 { encrypted_der } => encrypted_der.clone(),
            Self::Pkcs11 { uri } => uri.to_string().into_bytes(),
        }
    }

    /// Reads what [`to_stored`](Self::to_stored) wrote: `pkcs11:...` text is a URI, a DER
    /// SEQUENCE is encrypted PKCS#8; anything else is refused.
    pub fn from_stored(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.starts_with(URI_PREFIX) {
            let text = std::str::from_utf8(bytes).map_err(|_| UriError::NotUtf8 {
                name: "pkcs11".into(),
            })?;
            return Ok(Self::Pkcs11 {
                uri: Pkcs11Uri::parse(text)?,
            });
        }
        if bytes.first() == Some(&0x30) {
            return Ok(Self::SoftwarePkcs8 {
                encrypted_der: bytes.to_vec(),
            });
        }
        Err(KeyError::Pkcs8 {
            what: "read a stored key reference",
            reason: "neither encrypted PKCS#8 DER nor a pkcs11: URI".into(),
        })
    }

    /// Opens the key: decrypts a software key with `passphrase` (default software backend),
    /// or opens the token's key (the PIN comes from the URI's `pin-source`; `passphrase` is
    /// not used).
    pub fn open(&self, passphrase: &[u8]) -> Result<Arc<dyn PrivateKey>, KeyError> {
        self.open_with(Backend::software_default(), passphrase)
    }

    /// [`open`](Self::open) with a software key held by `software`.
    pub fn open_with(
        &self,
        software: Backend,
        passphrase: &[u8],
    ) -> Result<Arc<dyn PrivateKey>, KeyError> {
        match self {
            Self::SoftwarePkcs8 { encrypted_der } => Ok(Arc::new(
                SoftwareKey::from_encrypted_pkcs8_der_with(software, encrypted_der, passphrase)?,
            )),
            Self::Pkcs11 { uri } => open_pkcs11(uri),
        }
    }

    /// Whether the key is in a token.
    #[must_use]
    pub fn is_pkcs11(&self) -> bool {
        matches!(self, Self::Pkcs11 { .. })
    }
}

#[cfg(feature = "pkcs11")]
fn open_pkcs11(uri: &Pkcs11Uri) -> Result<Arc<dyn PrivateKey>, KeyError> {
    Ok(Arc::new(crate::Pkcs11Key::open(uri)?))
}

#[cfg(not(feature = "pkcs11"))]
fn open_pkcs11(_uri: &Pkcs11Uri) -> Result<Arc<dyn PrivateKey>, KeyError> {
    Err(KeyError::BackendNotBuilt {
        backend: Backend::Pkcs11,
    })
}

/// Where a new key is made: what a `--key` option names.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyLocation {
    /// In memory, with a software backend (stored encrypted by its owner).
    Software(Backend),
    /// Inside the token the URI names, labelled and identified as it says.
    Pkcs11(Pkcs11Uri),
}

impl Default for KeyLocation {
    fn default() -> Self {
        Self::Software(Backend::software_default())
    }
}

impl KeyLocation {
    /// Generates a key of `bits` bits there.
    pub fn generate(&self, bits: usize) -> Result<Arc<dyn PrivateKey>, KeyError> {
        match self {
            Self::Software(backend) => Ok(Arc::new(SoftwareKey::generate_with(*backend, bits)?)),
            Self::Pkcs11(uri) => generate_pkcs11(uri, bits),
        }
    }
}

impl FromStr for KeyLocation {
    type Err = KeyError;

    /// `software` (the default backend), `aws-lc-rs`, `rust-crypto`, or a `pkcs11:` URI.
    fn from_str(text: &str) -> Result<Self, KeyError> {
        match text {
            "software" => Ok(Self::default()),
            "aws-lc-rs" => built(Backend::AwsLc).map(Self::Software),
            "rust-crypto" => built(Backend::RustCrypto).map(Self::Software),
            uri => Ok(Self::Pkcs11(Pkcs11Uri::parse(uri)?)),
        }
    }
}

fn built(backend: Backend) -> Result<Backend, KeyError> {
    if backend.is_built() {
        Ok(backend)
    } else {
        Err(KeyError::BackendNotBuilt { backend })
    }
}

#[cfg(feature = "pkcs11")]
fn generate_pkcs11(uri: &Pkcs11Uri, bits: usize) -> Result<Arc<dyn PrivateKey>, KeyError> {
    Ok(Arc::new(crate::Pkcs11Key::generate(uri, bits)?))
}

#[cfg(not(feature = "pkcs11"))]
fn generate_pkcs11(_uri: &Pkcs11Uri, _bits: usize) -> Result<Arc<dyn PrivateKey>, KeyError> {
    Err(KeyError::BackendNotBuilt {
        backend: Backend::Pkcs11,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn stored_forms_read_back() {
        let uri = Pkcs11Uri::parse("pkcs11:token=t;object=k?module-path=/m.so&pin-source=env:PIN")
            .unwrap();
        let reference = KeyReference::Pkcs11 { uri };
        assert_eq!(
            KeyReference::from_stored(&reference.to_stored()).unwrap(),
            reference
        );
        let software = KeyReference::SoftwarePkcs8 {
            encrypted_der: vec![0x30, 0x03, 0x02, 0x01, 0x00],
        };
        assert_eq!(
            KeyReference::from_stored(&software.to_stored()).unwrap(),
            software
        );
        assert!(KeyReference::from_stored(b"").is_err());
        assert!(KeyReference::from_stored(b"file:/x").is_err());
        assert!(matches!(
            KeyReference::from_stored(b"pkcs11:object=k?module-path=/m.so"),
            Err(KeyError::Uri(UriError::MissingToken))
        ));
    }

    #[test]
    fn locations_parse() {
        assert_eq!(
            "software".parse::<KeyLocation>().unwrap(),
            KeyLocation::default()
        );
        assert!(matches!(
            "pkcs11:token=t;object=k?module-path=/m.so".parse::<KeyLocation>(),
            Ok(KeyLocation::Pkcs11(_))
        ));
        assert!(matches!(
            "hsm".parse::<KeyLocation>(),
            Err(KeyError::Uri(UriError::NotPkcs11))
        ));
    }
}

//! The software RSA key of the default backend, as a [`Signer`] with PKCS#8 in and out
//! (plain and passphrase-encrypted).

use rms_keys::{
    Backend, KeyError, KeyReference, PrivateKey, SignatureAlgorithm, SoftwareKey, Zeroizing,
};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::{CertError, Signer};

/// The RSA key sizes this crate generates, in bits. 2048 is the default.
pub const KEY_SIZES: [usize; 3] = rms_keys::KEY_SIZES;

/// An RSA private key in memory that signs with sha256WithRSAEncryption (PKCS#1 v1.5): a
/// [`SoftwareKey`] of `rms-keys` (aws-lc-rs by default) with this crate's errors.
///
/// Keys are written as PKCS#8, in the clear or encrypted with a passphrase (PBES2 with scrypt,
/// N = 2^14, r = 8, p = 1, and AES-256-CBC: what `openssl pkcs8 -topk8 -scrypt` writes, and
/// what OpenSSL reads); keys written by earlier versions (the `rsa` crate) read unchanged.
/// A key in a token is an `rms_keys::Pkcs11Key`; both are [`PrivateKey`]s.
#[derive(Debug)]
pub struct RsaSigner {
    key: SoftwareKey,
}

fn key_error(what: &'static str) -> impl Fn(KeyError) -> CertError {
    move |err| match err {
        KeyError::UnsupportedKeySize { bits } => CertError::UnsupportedKeySize { bits },
        other => CertError::Key {
            what,
            reason: other.to_string(),
        },
    }
}

impl RsaSigner {
    /// Generates a new key of `bits` bits (2048, 3072 or 4096) from the operating system's
    /// CSPRNG, with the default software backend.
    pub fn generate(bits: usize) -> Result<Self, CertError> {
        SoftwareKey::generate(bits)
            .map(Self::from)
            .map_err(key_error("generate"))
    }

    /// Generates a new key with the software backend `backend`.
    pub fn generate_with(backend: Backend, bits: usize) -> Result<Self, CertError> {
        SoftwareKey::generate_with(backend, bits)
            .map(Self::from)
            .map_err(key_error("generate"))
    }

    /// Reads an unencrypted PKCS#8 private key (DER).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CertError> {
        SoftwareKey::from_pkcs8_der(der)
            .map(Self::from)
            .map_err(key_error("read PKCS#8 DER"))
    }

    /// Reads an unencrypted PKCS#8 private key (PEM, `PRIVATE KEY`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, CertError> {
        SoftwareKey::from_pkcs8_pem(pem)
            .map(Self::from)
            .map_err(key_error("read PKCS#8 PEM"))
    }

    /// Reads a passphrase-encrypted PKCS#8 private key (DER).
    pub fn from_encrypted_pkcs8_der(der: &[u8], passphrase: &[u8]) -> Result<Self, CertError> {
        SoftwareKey::from_encrypted_pkcs8_der(der, passphrase)
            .map(Self::from)
            .map_err(key_error("decrypt PKCS#8 DER"))
    }

    /// Reads a passphrase-encrypted PKCS#8 private key (PEM, `ENCRYPTED PRIVATE KEY`).
    pub fn from_encrypted_pkcs8_pem(pem: &str, passphrase: &[u8]) -> Result<Self, CertError> {
        SoftwareKey::from_encrypted_pkcs8_pem(pem, passphrase)
            .map(Self::from)
            .map_err(key_error("decrypt PKCS#8 PEM"))
    }

    /// The key as unencrypted PKCS#8 DER. This is the secret key in the clear: prefer
    /// [`to_encrypted_pkcs8_der`](Self::to_encrypted_pkcs8_der) for anything stored.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, CertError> {
        Ok(self
            .key
            .to_pkcs8_der()
            .map_err(key_error("write PKCS#8 DER"))?
            .to_vec())
    }

    /// The key as unencrypted PKCS#8 PEM (`PRIVATE KEY`), as `openssl genpkey` writes it.
    pub fn to_pkcs8_pem(&self) -> Result<String, CertError> {
        let pem: Zeroizing<String> = self
            .key
            .to_pkcs8_pem()
            .map_err(key_error("write PKCS#8 PEM"))?;
        Ok(pem.to_string())
    }

    /// The key as PKCS#8 encrypted with `passphrase` (PBES2: scrypt and AES-256-CBC), DER.
    pub fn to_encrypted_pkcs8_der(&self, passphrase: &[u8]) -> Result<Vec<u8>, CertError> {
        self.key
            .to_encrypted_pkcs8_der(passphrase)
            .map_err(key_error("encrypt PKCS#8"))
    }

    /// The key as PKCS#8 encrypted with `passphrase`, PEM (`ENCRYPTED PRIVATE KEY`).
    pub fn to_encrypted_pkcs8_pem(&self, passphrase: &[u8]) -> Result<String, CertError> {
        self.key
            .to_encrypted_pkcs8_pem(passphrase)
            .map_err(key_error("write encrypted PKCS#8 PEM"))
    }

    /// The key as a backend-neutral [`PrivateKey`] (for unwrapping content keys, or to hand
    /// where a token's key would do as well).
    #[must_use]
    pub fn private_key(&self) -> &dyn PrivateKey {
        &self.key
    }

    /// The software key itself.
    #[must_use]
    pub fn software_key(&self) -> &SoftwareKey {
        &self.key
    }

    /// Size of the modulus in bits.
    #[must_use]
    pub fn bits(&self) -> usize {
        self.key.bits()
    }
}

impl From<SoftwareKey> for RsaSigner {
    fn from(key: SoftwareKey) -> Self {
        Self { key }
    }
}

impl Signer for RsaSigner {
    fn algorithm(&self) -> AlgorithmIdentifierOwned {
        self.key.algorithm()
    }

    fn public_key(&self) -> SubjectPublicKeyInfoOwned {
        self.key.public_key()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.key.sign(message)
    }
}

impl PrivateKey for RsaSigner {
    fn bits(&self) -> usize {
        self.key.bits()
    }

    fn backend(&self) -> Backend {
        self.key.backend()
    }

    fn sign_with(
        &self,
        algorithm: SignatureAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        self.key.sign_with(algorithm, message)
    }

    fn decrypt_oaep_sha256(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        self.key.decrypt_oaep_sha256(ciphertext)
    }

    fn to_reference(&self, passphrase: &[u8]) -> Result<KeyReference, KeyError> {
        self.key.to_reference(passphrase)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_odd_sizes() {
        assert!(matches!(
            RsaSigner::generate(1024),
            Err(CertError::UnsupportedKeySize { bits: 1024 })
        ));
    }
}

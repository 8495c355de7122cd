//! RSA keys: generation, PKCS#8 in and out (plain and passphrase-encrypted), and the default
//! [`Signer`].

use std::fmt;

use der::Decode;
use der::pem::LineEnding;
use getrandom::SysRng;
use pkcs8::{DecodePrivateKey, EncodePrivateKey, EncryptedPrivateKeyInfoRef, PrivateKeyInfoRef};
use rsa::PrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::traits::PublicKeyParts;
use sha2::Sha256;
use spki::{AlgorithmIdentifierOwned, SignatureAlgorithmIdentifier, SubjectPublicKeyInfoOwned};

use crate::{CertError, Signer};

/// The RSA key sizes this crate generates, in bits. 2048 is the default.
pub const KEY_SIZES: [usize; 3] = [2048, 3072, 4096];

/// An RSA private key that signs with sha256WithRSAEncryption (PKCS#1 v1.5): the default
/// [`Signer`].
///
/// Keys are written as PKCS#8, in the clear or encrypted with a passphrase (PBES2 with scrypt,
/// N = 2^15, r = 8, p = 1, and AES-256-CBC: what `openssl pkcs8 -topk8 -scrypt` writes, and
/// what OpenSSL reads).
#[derive(Clone)]
pub struct RsaSigner {
    key: SigningKey<Sha256>,
    public_key: SubjectPublicKeyInfoOwned,
}

impl fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaSigner")
            .field("bits", &self.bits())
            .finish_non_exhaustive()
    }
}

fn key_error(what: &'static str) -> impl Fn(pkcs8::Error) -> CertError {
    move |err| CertError::Key {
        what,
        reason: err.to_string(),
    }
}

impl RsaSigner {
    /// Generates a new key of `bits` bits (2048, 3072 or 4096) from the operating system's
    /// CSPRNG.
    pub fn generate(bits: usize) -> Result<Self, CertError> {
        if !KEY_SIZES.contains(&bits) {
            return Err(CertError::UnsupportedKeySize { bits });
        }
        let key = PrivateKey::new(&mut SysRng, bits).map_err(|err| CertError::Key {
            what: "generate",
            reason: err.to_string(),
        })?;
        Self::from_private_key(key)
    }

    /// Wraps an existing RSA private key.
    pub fn from_private_key(key: PrivateKey) -> Result<Self, CertError> {
        let key = SigningKey::<Sha256>::new(key);
        let public_key = SubjectPublicKeyInfoOwned::from_key(&signature::Keypair::verifying_key(
            &key,
        ))
        .map_err(|err| CertError::Key {
            what: "encode public key",
            reason: err.to_string(),
        })?;
        Ok(Self { key, public_key })
    }

    /// Reads an unencrypted PKCS#8 private key (DER).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CertError> {
        Self::from_private_key(
            PrivateKey::from_pkcs8_der(der).map_err(key_error("read PKCS#8 DER"))?,
        )
    }

    /// Reads an unencrypted PKCS#8 private key (PEM, `PRIVATE KEY`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, CertError> {
        Self::from_private_key(
            PrivateKey::from_pkcs8_pem(pem).map_err(key_error("read PKCS#8 PEM"))?,
        )
    }

    /// Reads a passphrase-encrypted PKCS#8 private key (DER).
    pub fn from_encrypted_pkcs8_der(der: &[u8], passphrase: &[u8]) -> Result<Self, CertError> {
        Self::from_private_key(
            PrivateKey::from_pkcs8_encrypted_der(der, passphrase)
                .map_err(key_error("decrypt PKCS#8 DER"))?,
        )
    }

    /// Reads a passphrase-encrypted PKCS#8 private key (PEM, `ENCRYPTED PRIVATE KEY`).
    pub fn from_encrypted_pkcs8_pem(pem: &str, passphrase: &[u8]) -> Result<Self, CertError> {
        Self::from_private_key(
            PrivateKey::from_pkcs8_encrypted_pem(pem, passphrase)
                .map_err(key_error("decrypt PKCS#8 PEM"))?,
        )
    }

    /// The key as unencrypted PKCS#8 DER. This is the secret key in the clear: prefer
    /// [`to_encrypted_pkcs8_der`](Self::to_encrypted_pkcs8_der) for anything stored.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, CertError> {
        Ok(self
            .private_key()
            .to_pkcs8_der()
            .map_err(key_error("write PKCS#8 DER"))?
            .as_bytes()
            .to_vec())
    }

    /// The key as unencrypted PKCS#8 PEM (`PRIVATE KEY`), as `openssl genpkey` writes it.
    pub fn to_pkcs8_pem(&self) -> Result<String, CertError> {
        Ok(self
            .private_key()
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(key_error("write PKCS#8 PEM"))?
            .to_string())
    }

    /// The key as PKCS#8 encrypted with `passphrase` (PBES2: scrypt and AES-256-CBC), DER.
    pub fn to_encrypted_pkcs8_der(&self, passphrase: &[u8]) -> Result<Vec<u8>, CertError> {
        let plain = self
            .private_key()
            .to_pkcs8_der()
            .map_err(key_error("write PKCS#8 DER"))?;
        let info = PrivateKeyInfoRef::from_der(plain.as_bytes()).map_err(|err| CertError::Key {
            what: "encrypt PKCS#8",
            reason: err.to_string(),
        })?;
        let encrypted = info
            .encrypt_with_rng(&mut SysRng, passphrase)
            .map_err(key_error("encrypt PKCS#8"))?;
        Ok(encrypted.as_bytes().to_vec())
    }

    /// The key as PKCS#8 encrypted with `passphrase`, PEM (`ENCRYPTED PRIVATE KEY`).
    pub fn to_encrypted_pkcs8_pem(&self, passphrase: &[u8]) -> Result<String, CertError> {
        let der = self.to_encrypted_pkcs8_der(passphrase)?;
        der::pem::encode_string(
            <EncryptedPrivateKeyInfoRef<'_> as der::pem::PemLabel>::PEM_LABEL,
            LineEnding::LF,
            &der,
        )
        .map_err(|err| CertError::Key {
            what: "write encrypted PKCS#8 PEM",
            reason: err.to_string(),
        })
    }

    /// The RSA private key, for decryption (unwrapping content keys).
    pub fn private_key(&self) -> &PrivateKey {
        self.key.as_ref()
    }

    /// Size of the modulus in bits.
    pub fn bits(&self) -> usize {
        self.private_key().size().saturating_mul(8)
    }
}

impl Signer for RsaSigner {
    fn algorithm(&self) -> AlgorithmIdentifierOwned {
        let id =
            <SigningKey<Sha256> as SignatureAlgorithmIdentifier>::SIGNATURE_ALGORITHM_IDENTIFIER;
        AlgorithmIdentifierOwned {
            oid: id.oid,
            parameters: id.parameters.map(Into::into),
        }
    }

    fn public_key(&self) -> SubjectPublicKeyInfoOwned {
        self.public_key.clone()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CertError> {
        let signature: rsa::pkcs1v15::Signature = signature::Signer::try_sign(&self.key, message)
            .map_err(|err| CertError::Signing {
            reason: err.to_string(),
        })?;
        Ok(signature::SignatureEncoding::to_vec(&signature))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn refuses_odd_sizes() {
        assert!(matches!(
            RsaSigner::generate(1024),
            Err(CertError::UnsupportedKeySize { bits: 1024 })
        ));
    }
}

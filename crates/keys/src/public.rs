//! Public keys: parsed once from a SubjectPublicKeyInfo, then verifying signatures and
//! encrypting content keys as often as wanted.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::Decode;
use der::asn1::Any;
use spki::SubjectPublicKeyInfoOwned;

use crate::algorithm::null_or_absent;
use crate::{Backend, KeyError, SignatureAlgorithm};

/// RSA moduli accepted for verification, in bits.
pub const RSA_VERIFY_BITS: std::ops::RangeInclusive<usize> = 1024..=8192;

/// What a public key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PublicKeyKind {
    /// RSA; `pss_only` when published under id-RSASSA-PSS (RFC 4055 §1.2), which allows PSS
    /// signatures only.
    Rsa {
        /// Size of the modulus in bits.
        bits: usize,
        /// Whether only RSASSA-PSS signatures are accepted.
        pss_only: bool,
    },
    /// ECDSA on NIST P-256.
    EcP256,
    /// ECDSA on NIST P-384.
    EcP384,
}

#[derive(Debug)]
enum Inner {
    #[cfg(feature = "aws-lc-rs")]
    AwsLc(Box<crate::aws_lc::Public>),
    #[cfg(feature = "rust-crypto")]
    RustCrypto(crate::rust_crypto::Public),
}

/// A public key, parsed and checked once: RSA (1024 to 8192 bits), ECDSA P-256 or P-384.
#[derive(Debug)]
pub struct PublicKey {
    spki: SubjectPublicKeyInfoOwned,
    kind: PublicKeyKind,
    inner: Inner,
}

const EC_PUBLIC_KEY: ObjectIdentifier = rfc5912::ID_EC_PUBLIC_KEY;
const P256: ObjectIdentifier = rfc5912::SECP_256_R_1;
const P384: ObjectIdentifier = rfc5912::SECP_384_R_1;

impl PublicKey {
    /// Parses `spki` with the default software backend.
    pub fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, KeyError> {
        Self::from_spki_with(Backend::software_default(), spki)
    }

    /// Parses a DER SubjectPublicKeyInfo with the default software backend.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let spki =
            SubjectPublicKeyInfoOwned::from_der(der).map_err(|err| KeyError::InvalidPublicKey {
                reason: format!("not a SubjectPublicKeyInfo: {err}"),
            })?;
        Self::from_spki(&spki)
    }

    /// Parses `spki` with `backend` (a software backend: a token's public key is used in
    /// software).
    pub fn from_spki_with(
        backend: Backend,
        spki: &SubjectPublicKeyInfoOwned,
    ) -> Result<Self, KeyError> {
        let params = spki.algorithm.parameters.as_ref().map(Any::to_ref);
        let invalid = |reason: &str| KeyError::InvalidPublicKey {
            reason: reason.to_owned(),
        };
        match spki.algorithm.oid {
            rfc5912::RSA_ENCRYPTION | rfc5912::ID_RSASSA_PSS => {
                let pss_only = spki.algorithm.oid == rfc5912::ID_RSASSA_PSS;
                if !pss_only && !null_or_absent(params) {
                    return Err(invalid("rsaEncryption parameters must be NULL"));
                }
                let bytes = spki
                    .subject_public_key
                    .as_bytes()
                    .ok_or_else(|| invalid("the key BIT STRING has unused bits"))?;
                let parts = pkcs1::RsaPublicKey::<der::asn1::UintRef<'_>>::from_der(bytes)
                    .map_err(|err| KeyError::InvalidPublicKey {
                        reason: format!("not an RSAPublicKey: {err}"),
                    })?;
                let bits = unsigned_bits(parts.modulus.as_bytes());
                if !RSA_VERIFY_BITS.contains(&bits) {
                    return Err(KeyError::RsaKeySize { bits });
                }
                let kind = PublicKeyKind::Rsa { bits, pss_only };
                let inner = match backend {
                    #[cfg(feature = "aws-lc-rs")]
                    Backend::AwsLc => Inner::AwsLc(Box::new(crate::aws_lc::Public::new(
                        crate::aws_lc::PublicKind::Rsa { bits },
                        bytes.to_vec(),
                        spki_der(spki)?,
                    )?)),
                    #[cfg(feature = "rust-crypto")]
                    Backend::RustCrypto => {
                        Inner::RustCrypto(crate::rust_crypto::Public::rsa(bytes)?)
                    }
                    other => return Err(not_built(other)),
                };
                Ok(Self {
                    spki: spki.clone(),
                    kind,
                    inner,
                })
            }
            EC_PUBLIC_KEY => {
                let curve = params
                    .ok_or_else(|| invalid("EC key without a named curve"))?
                    .decode_as::<ObjectIdentifier>()
                    .map_err(|_| invalid("EC key parameters are not a named curve"))?;
                let kind = match curve {
                    P256 => PublicKeyKind::EcP256,
                    P384 => PublicKeyKind::EcP384,
                    oid => return Err(KeyError::UnsupportedKeyType { oid }),
                };
                let inner = match backend {
                    #[cfg(feature = "aws-lc-rs")]
                    Backend::AwsLc => {
                        let curve = if kind == PublicKeyKind::EcP256 {
                            crate::aws_lc::PublicKind::P256
                        } else {
                            crate::aws_lc::PublicKind::P384
                        };
                        let der = spki_der(spki)?;
                        Inner::AwsLc(Box::new(
                            crate::aws_lc::Public::new(curve, der.clone(), der)
                                .map_err(|_| invalid("EC point is not on the curve"))?,
                        ))
                    }
                    #[cfg(feature = "rust-crypto")]
                    Backend::RustCrypto => {
                        let point = spki.subject_public_key.raw_bytes();
                        Inner::RustCrypto(if kind == PublicKeyKind::EcP256 {
                            crate::rust_crypto::Public::p256(point)?
                        } else {
                            crate::rust_crypto::Public::p384(point)?
                        })
                    }
                    other => return Err(not_built(other)),
                };
                Ok(Self {
                    spki: spki.clone(),
                    kind,
                    inner,
                })
            }
            oid => Err(KeyError::UnsupportedKeyType { oid }),
        }
    }

    /// The key as parsed.
    #[must_use]
    pub fn spki(&self) -> &SubjectPublicKeyInfoOwned {
        &self.spki
    }

    /// What the key is.
    #[must_use]
    pub fn kind(&self) -> PublicKeyKind {
        self.kind
    }

    /// The backend that verifies and encrypts with this key.
    #[must_use]
    pub fn backend(&self) -> Backend {
        match self.inner {
            #[cfg(feature = "aws-lc-rs")]
            Inner::AwsLc(_) => Backend::AwsLc,
            #[cfg(feature = "rust-crypto")]
            Inner::RustCrypto(_) => Backend::RustCrypto,
        }
    }

    /// Verifies `signature` over `message` under `algorithm`. Refuses an algorithm that does
    /// not fit the key ([`KeyError::KeyMismatch`]: ECDSA with RSA, PKCS#1 v1.5 with a PSS-only
    /// key) and a signature that does not verify ([`KeyError::BadSignature`]).
    pub fn verify(
        &self,
        algorithm: SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), KeyError> {
        if let (PublicKeyKind::Rsa { pss_only: true, .. }, SignatureAlgorithm::RsaPkcs1v15(_)) =
            (self.kind, algorithm)
        {
            return Err(KeyError::KeyMismatch);
        }
        match &self.inner {
            #[cfg(feature = "aws-lc-rs")]
            Inner::AwsLc(key) => key.verify(algorithm, message, signature),
            #[cfg(feature = "rust-crypto")]
            Inner::RustCrypto(key) => key.verify(algorithm, message, signature),
        }
    }

    /// Encrypts `plaintext` to this RSA key with RSAES-OAEP (SHA-256, MGF1-SHA-256, empty
    /// label). Refuses an EC key, a PSS-only RSA key and a plaintext too long for the key.
    pub fn encrypt_oaep_sha256(&self, plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
        if !matches!(
            self.kind,
            PublicKeyKind::Rsa {
                pss_only: false,
                ..
            }
        ) {
            return Err(KeyError::KeyMismatch);
        }
        match &self.inner {
            #[cfg(feature = "aws-lc-rs")]
            Inner::AwsLc(key) => key.encrypt_oaep_sha256(plaintext),
            #[cfg(feature = "rust-crypto")]
            Inner::RustCrypto(key) => key.encrypt_oaep_sha256(plaintext),
        }
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}

impl Eq for PublicKey {}

#[cfg(feature = "aws-lc-rs")]
fn spki_der(spki: &SubjectPublicKeyInfoOwned) -> Result<Vec<u8>, KeyError> {
    der::Encode::to_der(spki).map_err(|err| KeyError::InvalidPublicKey {
        reason: format!("cannot re-encode the key: {err}"),
    })
}

pub(crate) fn not_built(backend: Backend) -> KeyError {
    if backend.is_built() {
        KeyError::NotSupportedByBackend {
            backend,
            operation: "hold public keys (use a software backend)",
        }
    } else {
        KeyError::BackendNotBuilt { backend }
    }
}

/// Size in bits of a big-endian unsigned integer.
pub(crate) fn unsigned_bits(bytes: &[u8]) -> usize {
    let mut rest = bytes;
    while let [0, tail @ ..] = rest {
        rest = tail;
    }
    match rest.first() {
        None => 0,
        Some(first) => rest.len() * 8 - first.leading_zeros() as usize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_sizes() {
        assert_eq!(unsigned_bits(&[]), 0);
        assert_eq!(unsigned_bits(&[0, 0x01]), 1);
        assert_eq!(unsigned_bits(&[0x80, 0]), 16);
        assert_eq!(unsigned_bits(&[0, 0x7f, 0]), 15);
    }
}

//! The aws-lc-rs backend: constant-time RSA (signing, OAEP) and RSA/ECDSA verification.

use std::fmt;
use std::sync::OnceLock;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{
    KeyPair, KeySize, OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey, PublicKeyComponents, RsaParameters,
    RsaPssSaltLength,
};
use aws_lc_rs::signature::{self, KeyPair as _, ParsedPublicKey, VerificationAlgorithm};
use zeroize::Zeroizing;

use crate::{Backend, HashAlg, KeyError, SignatureAlgorithm};

const BACKEND: Backend = Backend::AwsLc;

fn failed(operation: &'static str) -> KeyError {
    KeyError::Backend {
        backend: BACKEND,
        operation,
    }
}

/// An RSA private key held by aws-lc: one EVP_PKEY for signing, one for OAEP.
pub(crate) struct RsaPrivate {
    signing: KeyPair,
    decrypting: OaepPrivateDecryptingKey,
    rng: SystemRandom,
}

impl fmt::Debug for RsaPrivate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaPrivate").finish_non_exhaustive()
    }
}

impl RsaPrivate {
    pub(crate) fn generate(bits: usize) -> Result<Self, KeyError> {
        let size = match bits {
            2048 => KeySize::Rsa2048,
            3072 => KeySize::Rsa3072,
            4096 => KeySize::Rsa4096,
            _ => return Err(KeyError::UnsupportedKeySize { bits }),
        };
        let pair = KeyPair::generate(size).map_err(|_| failed("generate an RSA key"))?;
        let der = pair
            .as_der()
            .map_err(|_| failed("encode a generated key"))?;
        Self::from_pkcs8(der.as_ref())
    }

    /// Reads an RSA key from (plain) PKCS#8 DER.
    pub(crate) fn from_pkcs8(der: &[u8]) -> Result<Self, KeyError> {
        let invalid = |err: aws_lc_rs::error::KeyRejected| KeyError::Pkcs8 {
            what: "read the RSA private key",
            reason: err.to_string(),
        };
        let signing = KeyPair::from_pkcs8(der).map_err(invalid)?;
        let decrypting =
            OaepPrivateDecryptingKey::new(PrivateDecryptingKey::from_pkcs8(der).map_err(invalid)?)
                .map_err(|_| failed("prepare RSA-OAEP decryption"))?;
        Ok(Self {
            signing,
            decrypting,
            rng: SystemRandom::new(),
        })
    }

    /// The key as plain PKCS#8 DER.
    pub(crate) fn to_pkcs8(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let der = self
            .signing
            .as_der()
            .map_err(|_| failed("encode the private key"))?;
        Ok(Zeroizing::new(der.as_ref().to_vec()))
    }

    /// The public key as SubjectPublicKeyInfo DER.
    pub(crate) fn spki_der(&self) -> Result<Vec<u8>, KeyError> {
        let public = self.signing.public_key();
        let der = public
            .as_der()
            .map_err(|_| failed("encode the public key"))?;
        Ok(der.as_ref().to_vec())
    }

    pub(crate) fn bits(&self) -> usize {
        self.signing.public_modulus_len().saturating_mul(8)
    }

    pub(crate) fn sign(
        &self,
        algorithm: SignatureAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        let encoding: &'static dyn signature::RsaEncoding = match algorithm {
            SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha256) => &signature::RSA_PKCS1_SHA256,
            SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha384) => &signature::RSA_PKCS1_SHA384,
            SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha512) => &signature::RSA_PKCS1_SHA512,
            SignatureAlgorithm::RsaPss { hash, salt_len } if salt_len == hash.output_len() => {
                match hash {
                    HashAlg::Sha256 => &signature::RSA_PSS_SHA256,
                    HashAlg::Sha384 => &signature::RSA_PSS_SHA384,
                    HashAlg::Sha512 => &signature::RSA_PSS_SHA512,
                }
            }
            SignatureAlgorithm::RsaPss { .. } => {
                return Err(KeyError::NotSupportedByBackend {
                    backend: BACKEND,
                    operation: "sign with a PSS salt other than the hash's length",
                });
            }
            SignatureAlgorithm::Ecdsa(_) => return Err(KeyError::KeyMismatch),
        };
        let mut signature = vec![0; self.signing.public_modulus_len()];
        self.signing
            .sign(encoding, &self.rng, message, &mut signature)
            .map_err(|_| failed("sign"))?;
        Ok(signature)
    }

    pub(crate) fn decrypt_oaep_sha256(
        &self,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let mut plaintext = Zeroizing::new(vec![0; self.decrypting.min_output_size()]);
        let len = self
            .decrypting
            .decrypt(&OAEP_SHA256_MGF1SHA256, ciphertext, &mut plaintext, None)
            .map_err(|_| KeyError::Decryption)?
            .len();
        plaintext.truncate(len);
        Ok(plaintext)
    }
}

/// The verification algorithms a key may be asked for, each parsed once when first used.
const SLOTS: usize = 8;

/// A public key parsed by aws-lc: an RSA key (from its RSAPublicKey DER) or an EC point.
pub(crate) struct Public {
    kind: PublicKind,
    /// RSAPublicKey DER (RSA) or SubjectPublicKeyInfo DER (EC), what aws-lc parses.
    bytes: Vec<u8>,
    /// SubjectPublicKeyInfo DER, what aws-lc's encryption parses.
    spki_der: Vec<u8>,
    parsed: [OnceLock<Option<ParsedPublicKey>>; SLOTS],
    encrypting: OnceLock<Option<OaepPublicEncryptingKey>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PublicKind {
    Rsa { bits: usize },
    P256,
    P384,
}

impl fmt::Debug for Public {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Public")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// RSA modulus and exponent, for the rare verification with no static parameters.
struct Components<'a> {
    n: &'a [u8],
    e: &'a [u8],
}

impl Public {
    /// `bytes` is the RSAPublicKey DER for RSA, the whole SubjectPublicKeyInfo DER for EC.
    pub(crate) fn new(
        kind: PublicKind,
        bytes: Vec<u8>,
        spki_der: Vec<u8>,
    ) -> Result<Self, KeyError> {
        let key = Self {
            kind,
            bytes,
            spki_der,
            parsed: Default::default(),
            encrypting: OnceLock::new(),
        };
        // Parse once now so that a key aws-lc refuses is refused here, not at first use.
        let probe: (usize, &'static dyn VerificationAlgorithm) = match kind {
            PublicKind::Rsa { bits } if bits < 2048 => (
                1,
                &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
            ),
            PublicKind::Rsa { .. } => (0, &signature::RSA_PKCS1_2048_8192_SHA256),
            PublicKind::P256 => (0, &signature::ECDSA_P256_SHA256_ASN1),
            PublicKind::P384 => (1, &signature::ECDSA_P384_SHA384_ASN1),
        };
        if key.parsed(probe.0, probe.1).is_none() {
            return Err(KeyError::InvalidPublicKey {
                reason: "aws-lc refuses the key".into(),
            });
        }
        Ok(key)
    }

    fn parsed(
        &self,
        slot: usize,
        algorithm: &'static dyn VerificationAlgorithm,
    ) -> Option<&ParsedPublicKey> {
        self.parsed
            .get(slot)?
            .get_or_init(|| ParsedPublicKey::new(algorithm, &self.bytes).ok())
            .as_ref()
    }

    pub(crate) fn verify(
        &self,
        algorithm: SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), KeyError> {
        let (slot, params): (usize, &'static dyn VerificationAlgorithm) =
            match (self.kind, algorithm) {
                (PublicKind::Rsa { bits }, SignatureAlgorithm::RsaPkcs1v15(hash)) => {
                    if bits < 2048 {
                        match hash {
                            HashAlg::Sha256 => (
                                1,
                                &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
                            ),
                            HashAlg::Sha512 => (
                                2,
                                &signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
                            ),
                            HashAlg::Sha384 => return Err(small_key()),
                        }
                    } else {
                        match hash {
                            HashAlg::Sha256 => (0, &signature::RSA_PKCS1_2048_8192_SHA256),
                            HashAlg::Sha384 => (3, &signature::RSA_PKCS1_2048_8192_SHA384),
                            HashAlg::Sha512 => (4, &signature::RSA_PKCS1_2048_8192_SHA512),
                        }
                    }
                }
                (PublicKind::Rsa { bits }, SignatureAlgorithm::RsaPss { hash, salt_len }) => {
                    if bits < 2048 {
                        return Err(small_key());
                    }
                    if salt_len != hash.output_len() {
                        return self.verify_pss_salt(hash, salt_len, message, signature);
                    }
                    match hash {
                        HashAlg::Sha256 => (5, &signature::RSA_PSS_2048_8192_SHA256),
                        HashAlg::Sha384 => (6, &signature::RSA_PSS_2048_8192_SHA384),
                        HashAlg::Sha512 => (7, &signature::RSA_PSS_2048_8192_SHA512),
                    }
                }
                (PublicKind::P256, SignatureAlgorithm::Ecdsa(hash)) => match hash {
                    HashAlg::Sha256 => (0, &signature::ECDSA_P256_SHA256_ASN1),
                    HashAlg::Sha384 => (2, &signature::ECDSA_P256_SHA384_ASN1),
                    HashAlg::Sha512 => (3, &signature::ECDSA_P256_SHA512_ASN1),
                },
                (PublicKind::P384, SignatureAlgorithm::Ecdsa(hash)) => match hash {
                    HashAlg::Sha256 => (2, &signature::ECDSA_P384_SHA256_ASN1),
                    HashAlg::Sha384 => (1, &signature::ECDSA_P384_SHA384_ASN1),
                    HashAlg::Sha512 => (3, &signature::ECDSA_P384_SHA512_ASN1),
                },
                _ => return Err(KeyError::KeyMismatch),
            };
        let parsed = self
            .parsed(slot, params)
            .ok_or(KeyError::InvalidPublicKey {
                reason: "aws-lc refuses the key".into(),
            })?;
        parsed
            .verify_sig(message, signature)
            .map_err(|_| KeyError::BadSignature)
    }

    /// PSS with a salt length other than the hash's: no static parameters, so the key is
    /// built from its components for this one verification.
    fn verify_pss_salt(
        &self,
        hash: HashAlg,
        salt_len: usize,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), KeyError> {
        let salt = RsaPssSaltLength::Custom(u16::try_from(salt_len).map_err(|_| {
            KeyError::AlgorithmParameters {
                reason: "the PSS salt is longer than any key",
            }
        })?);
        let params: RsaParameters = match hash {
            HashAlg::Sha256 => signature::RSA_PSS_2048_8192_SHA256.with_pss_salt_length(salt),
            HashAlg::Sha384 => signature::RSA_PSS_2048_8192_SHA384.with_pss_salt_length(salt),
            HashAlg::Sha512 => signature::RSA_PSS_2048_8192_SHA512.with_pss_salt_length(salt),
        };
        let components = self.components()?;
        PublicKeyComponents {
            n: components.n,
            e: components.e,
        }
        .verify(&params, message, signature)
        .map_err(|_| KeyError::BadSignature)
    }

    fn components(&self) -> Result<Components<'_>, KeyError> {
        let parts = pkcs1::RsaPublicKey::<der::asn1::UintRef<'_>>::try_from(self.bytes.as_slice())
            .map_err(|err| KeyError::InvalidPublicKey {
                reason: err.to_string(),
            })?;
        Ok(Components {
            n: parts.modulus.as_bytes(),
            e: parts.public_exponent.as_bytes(),
        })
    }

    pub(crate) fn encrypt_oaep_sha256(&self, plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
        let PublicKind::Rsa { .. } = self.kind else {
            return Err(KeyError::KeyMismatch);
        };
        let key = self
            .encrypting
            .get_or_init(|| {
                PublicEncryptingKey::from_der(&self.spki_der)
                    .ok()
                    .and_then(|key| OaepPublicEncryptingKey::new(key).ok())
            })
            .as_ref()
            .ok_or(KeyError::InvalidPublicKey {
                reason: "aws-lc refuses the key for encryption".into(),
            })?;
        let max = key.max_plaintext_size(&OAEP_SHA256_MGF1SHA256);
        if plaintext.len() > max {
            return Err(KeyError::PlaintextTooLong {
                len: plaintext.len(),
                max,
            });
        }
        let mut ciphertext = vec![0; key.ciphertext_size()];
        let len = key
            .encrypt(&OAEP_SHA256_MGF1SHA256, plaintext, &mut ciphertext, None)
            .map_err(|_| failed("encrypt with RSA-OAEP"))?
            .len();
        ciphertext.truncate(len);
        Ok(ciphertext)
    }
}

fn small_key() -> KeyError {
    KeyError::NotSupportedByBackend {
        backend: BACKEND,
        operation: "verify with an RSA key under 2048 bits other than PKCS#1 v1.5 with SHA-256 or SHA-512",
    }
}

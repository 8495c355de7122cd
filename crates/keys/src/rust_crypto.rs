//! The RustCrypto backend: the pure-Rust `rsa`, `p256` and `p384` crates.
//!
//! `rsa` carries RUSTSEC-2023-0071 (Marvin: its private-key operations are not constant-time),
//! so this backend is for builds without a C compiler, never the default.

use std::fmt;

use getrandom::SysRng;
use pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, Pss};
use sha2::{Sha256, Sha384, Sha512};
use signature::hazmat::PrehashVerifier;
use zeroize::Zeroizing;

use crate::{Backend, HashAlg, KeyError, SignatureAlgorithm};

const BACKEND: Backend = Backend::RustCrypto;

fn failed(operation: &'static str) -> KeyError {
    KeyError::Backend {
        backend: BACKEND,
        operation,
    }
}

/// An RSA private key of the `rsa` crate.
pub(crate) struct RsaPrivate {
    key: rsa::PrivateKey,
}

impl fmt::Debug for RsaPrivate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaPrivate").finish_non_exhaustive()
    }
}

fn pkcs1v15(hash: HashAlg) -> Pkcs1v15Sign {
    match hash {
        HashAlg::Sha256 => Pkcs1v15Sign::new::<Sha256>(),
        HashAlg::Sha384 => Pkcs1v15Sign::new::<Sha384>(),
        HashAlg::Sha512 => Pkcs1v15Sign::new::<Sha512>(),
    }
}

impl RsaPrivate {
    pub(crate) fn generate(bits: usize) -> Result<Self, KeyError> {
        if !crate::KEY_SIZES.contains(&bits) {
            return Err(KeyError::UnsupportedKeySize { bits });
        }
        let key =
            rsa::PrivateKey::new(&mut SysRng, bits).map_err(|_| failed("generate an RSA key"))?;
        Ok(Self { key })
    }

    pub(crate) fn from_pkcs8(der: &[u8]) -> Result<Self, KeyError> {
        let key = rsa::PrivateKey::from_pkcs8_der(der).map_err(|err| KeyError::Pkcs8 {
            what: "read the RSA private key",
            reason: err.to_string(),
        })?;
        Ok(Self { key })
    }

    pub(crate) fn to_pkcs8(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let doc = self
            .key
            .to_pkcs8_der()
            .map_err(|_| failed("encode the private key"))?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    pub(crate) fn spki_der(&self) -> Result<Vec<u8>, KeyError> {
        use spki::EncodePublicKey;
        let public = rsa::PublicKey::from(&self.key);
        Ok(public
            .to_public_key_der()
            .map_err(|_| failed("encode the public key"))?
            .into_vec())
    }

    pub(crate) fn bits(&self) -> usize {
        self.key.size().saturating_mul(8)
    }

    pub(crate) fn sign(
        &self,
        algorithm: SignatureAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        match algorithm {
            SignatureAlgorithm::RsaPkcs1v15(hash) => self
                .key
                .sign(pkcs1v15(hash), &hash.digest(message))
                .map_err(|_| failed("sign")),
            SignatureAlgorithm::RsaPss { hash, salt_len } => {
                let digest = hash.digest(message);
                let result = match hash {
                    HashAlg::Sha256 => self.key.sign_with_rng(
                        &mut SysRng,
                        Pss::<Sha256>::new_with_salt(salt_len),
                        &digest,
                    ),
                    HashAlg::Sha384 => self.key.sign_with_rng(
                        &mut SysRng,
                        Pss::<Sha384>::new_with_salt(salt_len),
                        &digest,
                    ),
                    HashAlg::Sha512 => self.key.sign_with_rng(
                        &mut SysRng,
                        Pss::<Sha512>::new_with_salt(salt_len),
                        &digest,
                    ),
                };
                result.map_err(|_| failed("sign"))
            }
            SignatureAlgorithm::Ecdsa(_) => Err(KeyError::KeyMismatch),
        }
    }

    pub(crate) fn decrypt_oaep_sha256(
        &self,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        self.key
            .oaep_decrypt::<Sha256>(ciphertext)
            .map(|plain| Zeroizing::new(plain.to_vec()))
            .map_err(|_| KeyError::Decryption)
    }
}

/// A public key of the RustCrypto crates.
#[derive(Debug)]
pub(crate) enum Public {
    Rsa(rsa::PublicKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

impl Public {
    /// An RSA key from its RSAPublicKey DER.
    pub(crate) fn rsa(rsa_public_key: &[u8]) -> Result<Self, KeyError> {
        let parsed = pkcs1::RsaPublicKey::<der::asn1::UintRef<'_>>::try_from(rsa_public_key)
            .map_err(|err| KeyError::InvalidPublicKey {
                reason: format!("RSA key: {err}"),
            })?;
        let key = rsa::PublicKey::try_from(parsed).map_err(|err| KeyError::InvalidPublicKey {
            reason: format!("RSA key: {err}"),
        })?;
        Ok(Self::Rsa(key))
    }

    pub(crate) fn p256(point: &[u8]) -> Result<Self, KeyError> {
        p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
            .map(Self::P256)
            .map_err(|_| KeyError::InvalidPublicKey {
                reason: "EC point is not on the curve".into(),
            })
    }

    pub(crate) fn p384(point: &[u8]) -> Result<Self, KeyError> {
        p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
            .map(Self::P384)
            .map_err(|_| KeyError::InvalidPublicKey {
                reason: "EC point is not on the curve".into(),
            })
    }

    pub(crate) fn verify(
        &self,
        algorithm: SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), KeyError> {
        let digest = algorithm.hash().digest(message);
        let verified = match (self, algorithm) {
            (Self::Rsa(key), SignatureAlgorithm::RsaPkcs1v15(hash)) => key
                .verify(pkcs1v15(hash), &digest, signature)
                .map_err(|_| ()),
            (Self::Rsa(key), SignatureAlgorithm::RsaPss { hash, salt_len }) => match hash {
                HashAlg::Sha256 => {
                    key.verify(Pss::<Sha256>::new_with_salt(salt_len), &digest, signature)
                }
                HashAlg::Sha384 => {
                    key.verify(Pss::<Sha384>::new_with_salt(salt_len), &digest, signature)
                }
                HashAlg::Sha512 => {
                    key.verify(Pss::<Sha512>::new_with_salt(salt_len), &digest, signature)
                }
            }
            .map_err(|_| ()),
            (Self::P256(key), SignatureAlgorithm::Ecdsa(_)) => {
                p256::ecdsa::Signature::from_der(signature)
                    .map_err(|_| ())
                    .and_then(|sig| key.verify_prehash(&digest, &sig).map_err(|_| ()))
            }
            (Self::P384(key), SignatureAlgorithm::Ecdsa(_)) => {
                p384::ecdsa::Signature::from_der(signature)
                    .map_err(|_| ())
                    .and_then(|sig| key.verify_prehash(&digest, &sig).map_err(|_| ()))
            }
            _ => return Err(KeyError::KeyMismatch),
        };
        verified.map_err(|()| KeyError::BadSignature)
    }

    pub(crate) fn encrypt_oaep_sha256(&self, plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
        let Self::Rsa(key) = self else {
            return Err(KeyError::KeyMismatch);
        };
        let max = key.size().saturating_sub(2 * 32 + 2);
        if plaintext.len() > max {
            return Err(KeyError::PlaintextTooLong {
                len: plaintext.len(),
                max,
            });
        }
        key.oaep_encrypt_with_rng::<Sha256, _>(&mut SysRng, plaintext)
            .map_err(|_| failed("encrypt with RSA-OAEP"))
    }
}

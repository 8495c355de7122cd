//! Public keys and signature verification: RSA PKCS#1 v1.5 and RSASSA-PSS with SHA-2, ECDSA on
//! P-256 and P-384 with SHA-2.
//!
//! | signature algorithm | OID | parameters |
//! | --- | --- | --- |
//! | sha256/384/512WithRSAEncryption | 1.2.840.113549.1.1.11/12/13 | NULL or absent |
//! | rsaEncryption (CMS only, hash from the digest algorithm) | 1.2.840.113549.1.1.1 | NULL or absent |
//! | id-RSASSA-PSS | 1.2.840.113549.1.1.10 | SHA-256/384/512, MGF1 with the same hash, any salt length, trailer 1 |
//! | ecdsa-with-SHA256/384/512 | 1.2.840.10045.4.3.2/3/4 | absent (NULL tolerated) |
//!
//! SHA-1 and DSA are refused as unsupported. The cryptography is `rms-keys`'s (aws-lc-rs by
//! default); with it, RSA keys under 2048 bits verify PKCS#1 v1.5 with SHA-256 or SHA-512
//! only.

use const_oid::ObjectIdentifier;
use rms_keys::{PublicKeyKind, SignatureAlgorithm};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// A digest algorithm of the SHA-2 family (`rms-keys`'s).
pub(crate) use rms_keys::HashAlg;

/// A public key that can verify signatures: parsed once by the default backend of
/// `rms-keys` (aws-lc-rs), RSA from 1024 bits (the options set the floor that applies).
#[derive(Debug)]
pub(crate) struct PublicKey(rms_keys::PublicKey);

/// Why a public key could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyError {
    Unsupported(ObjectIdentifier),
    Invalid(String),
    RsaTooSmall(usize),
}

impl PublicKey {
    /// Reads a key from its SubjectPublicKeyInfo.
    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, KeyError> {
        rms_keys::PublicKey::from_spki(spki)
            .map(Self)
            .map_err(|err| match err {
                rms_keys::KeyError::UnsupportedKeyType { oid } => KeyError::Unsupported(oid),
                rms_keys::KeyError::RsaKeySize { bits }
                    if bits < *rms_keys::RSA_VERIFY_BITS.start() =>
                {
                    KeyError::RsaTooSmall(bits)
                }
                rms_keys::KeyError::InvalidPublicKey { reason } => KeyError::Invalid(reason),
                other => KeyError::Invalid(other.to_string()),
            })
    }
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SigError {
    UnsupportedAlgorithm(ObjectIdentifier),
    BadParameters(&'static str),
    KeyMismatch,
    RsaTooSmall { bits: usize, min: usize },
    Invalid,
}

fn parse_sig_alg(
    alg: &AlgorithmIdentifierOwned,
    digest: Option<&AlgorithmIdentifierOwned>,
) -> Result<SignatureAlgorithm, SigError> {
    SignatureAlgorithm::from_cms_identifiers(alg, digest).map_err(|err| match err {
        rms_keys::KeyError::UnsupportedAlgorithm { oid } => SigError::UnsupportedAlgorithm(oid),
        rms_keys::KeyError::AlgorithmParameters { reason } => SigError::BadParameters(reason),
        _ => SigError::UnsupportedAlgorithm(alg.oid),
    })
}

/// Verifies `signature` over `message` with `key`, under `algorithm` (and, for CMS signatures
/// naming plain rsaEncryption, the hash of `digest`).
pub(crate) fn verify_signature(
    key: &PublicKey,
    algorithm: &AlgorithmIdentifierOwned,
    digest: Option<&AlgorithmIdentifierOwned>,
    message: &[u8],
    signature: &[u8],
    min_rsa_bits: usize,
) -> Result<(), SigError> {
    let alg = parse_sig_alg(algorithm, digest)?;
    match (key.0.kind(), alg) {
        (
            PublicKeyKind::Rsa { bits, .. },
            SignatureAlgorithm::RsaPkcs1v15(_) | SignatureAlgorithm::RsaPss { .. },
        ) if bits < min_rsa_bits => {
            return Err(SigError::RsaTooSmall {
                bits,
                min: min_rsa_bits,
            });
        }
        (PublicKeyKind::Rsa { .. }, SignatureAlgorithm::Ecdsa(_))
        | (
            PublicKeyKind::EcP256 | PublicKeyKind::EcP384,
            SignatureAlgorithm::RsaPkcs1v15(_) | SignatureAlgorithm::RsaPss { .. },
        ) => return Err(SigError::KeyMismatch),
        _ => {}
    }
    key.0
        .verify(alg, message, signature)
        .map_err(|err| match err {
            rms_keys::KeyError::KeyMismatch => SigError::KeyMismatch,
            rms_keys::KeyError::NotSupportedByBackend { operation, .. } => {
                SigError::BadParameters(operation)
            }
            _ => SigError::Invalid,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_and_pss_defaults_are_unsupported() {
        let sha1_rsa = AlgorithmIdentifierOwned {
            oid: ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5"),
            parameters: None,
        };
        assert!(matches!(
            parse_sig_alg(&sha1_rsa, None),
            Err(SigError::UnsupportedAlgorithm(_))
        ));
        let pss_default = AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::ID_RSASSA_PSS,
            parameters: None,
        };
        assert!(matches!(
            parse_sig_alg(&pss_default, None),
            Err(SigError::BadParameters(_))
        ));
    }
}

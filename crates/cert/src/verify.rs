//! Checking an RSA public key against our key policy, and RSA signatures on requests.

use const_oid::db::rfc5912::RSA_ENCRYPTION;
use der::Decode;
use der::asn1::UintRef;
use rms_keys::{KeyError, PublicKey, SignatureAlgorithm};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::RequestError;

/// Smallest RSA modulus we accept, in bits.
pub(crate) const MIN_MODULUS_BITS: usize = 2048;
/// Largest RSA modulus we accept, in bits.
pub(crate) const MAX_MODULUS_BITS: usize = 8192;
/// The only public exponent we accept, big-endian.
const EXPONENT_65537: [u8; 3] = [0x01, 0x00, 0x01];

/// Checks that `spki` is an RSA key of 2048 to 8192 bits with exponent 65537, and returns it
/// parsed by the default backend.
pub(crate) fn checked_rsa_key(spki: &SubjectPublicKeyInfoOwned) -> Result<PublicKey, RequestError> {
    if spki.algorithm.oid != RSA_ENCRYPTION {
        return Err(RequestError::KeyNotRsa {
            oid: spki.algorithm.oid,
        });
    }
    let invalid = |reason: String| RequestError::InvalidKey { reason };
    let key_bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| invalid("the key BIT STRING has unused bits".to_owned()))?;
    let parts = pkcs1::RsaPublicKey::<UintRef<'_>>::from_der(key_bits)
        .map_err(|err| invalid(format!("not an RSAPublicKey: {err}")))?;
    let modulus = parts.modulus.as_bytes();
    let bits = modulus.first().map_or(0, |top| {
        (modulus.len() - 1) * 8 + (8 - top.leading_zeros() as usize)
    });
    if !(MIN_MODULUS_BITS..=MAX_MODULUS_BITS).contains(&bits) {
        return Err(RequestError::KeySize { bits });
    }
    let exponent = parts.public_exponent.as_bytes();
    if exponent != EXPONENT_65537 {
        return Err(RequestError::Exponent {
            exponent: exponent.to_vec(),
        });
    }
    PublicKey::from_spki(spki).map_err(|err| invalid(err.to_string()))
}

/// Verifies `signature` over `message` with `key` under `algorithm` (PKCS#1 v1.5 or PSS with
/// SHA-256, -384 or -512).
pub(crate) fn verify_signature(
    key: &PublicKey,
    algorithm: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<(), RequestError> {
    let unsupported = || RequestError::UnsupportedSignatureAlgorithm { oid: algorithm.oid };
    let scheme = SignatureAlgorithm::from_identifier(algorithm).map_err(|_| unsupported())?;
    if matches!(scheme, SignatureAlgorithm::Ecdsa(_)) {
        return Err(unsupported());
    }
    key.verify(scheme, message, signature)
        .map_err(|err| match err {
            KeyError::AlgorithmParameters { .. } | KeyError::NotSupportedByBackend { .. } => {
                unsupported()
            }
            _ => RequestError::BadSignature,
        })
}

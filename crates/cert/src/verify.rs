//! Checking an RSA public key against our key policy, and RSA signatures on requests.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{
    ID_RSASSA_PSS, ID_SHA_256, ID_SHA_384, ID_SHA_512, RSA_ENCRYPTION, SHA_256_WITH_RSA_ENCRYPTION,
    SHA_384_WITH_RSA_ENCRYPTION, SHA_512_WITH_RSA_ENCRYPTION,
};
use der::asn1::UintRef;
use der::{Decode, Encode};
use rsa::PublicKey;
use rsa::pkcs1::RsaPssParamsOwned;
use sha2::{Sha256, Sha384, Sha512};
use signature::Verifier;
use spki::{AlgorithmIdentifierOwned, DecodePublicKey, SubjectPublicKeyInfoOwned};

use crate::RequestError;

/// Smallest RSA modulus we accept, in bits.
pub(crate) const MIN_MODULUS_BITS: usize = 2048;
/// Largest RSA modulus we accept, in bits.
pub(crate) const MAX_MODULUS_BITS: usize = 8192;
/// The only public exponent we accept, big-endian.
const EXPONENT_65537: [u8; 3] = [0x01, 0x00, 0x01];

/// Checks that `spki` is an RSA key of 2048 to 8192 bits with exponent 65537, and returns it.
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
    let parts = rsa::pkcs1::RsaPublicKey::<UintRef<'_>>::from_der(key_bits)
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
    let der = spki
        .to_der()
        .map_err(|err| invalid(format!("cannot re-encode the key: {err}")))?;
    PublicKey::from_public_key_der(&der).map_err(|err| invalid(err.to_string()))
}

/// The digest of a supported RSA signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Digest {
    Sha256,
    Sha384,
    Sha512,
}

impl Digest {
    fn from_hash_oid(oid: ObjectIdentifier) -> Option<Self> {
        match oid {
            ID_SHA_256 => Some(Digest::Sha256),
            ID_SHA_384 => Some(Digest::Sha384),
            ID_SHA_512 => Some(Digest::Sha512),
            _ => None,
        }
    }
}

/// A signature scheme we verify: PKCS#1 v1.5 or PSS (with its salt length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Pkcs1v15(Digest),
    Pss(Digest, usize),
}

fn scheme(algorithm: &AlgorithmIdentifierOwned) -> Result<Scheme, RequestError> {
    let unsupported = || RequestError::UnsupportedSignatureAlgorithm { oid: algorithm.oid };
    let pkcs1 = |digest| {
        // RFC 4055: parameters are NULL; some encoders omit them.
        match &algorithm.parameters {
            None => Ok(Scheme::Pkcs1v15(digest)),
            Some(p) if p.is_null() => Ok(Scheme::Pkcs1v15(digest)),
            Some(_) => Err(unsupported()),
        }
    };
    match algorithm.oid {
        SHA_256_WITH_RSA_ENCRYPTION => pkcs1(Digest::Sha256),
        SHA_384_WITH_RSA_ENCRYPTION => pkcs1(Digest::Sha384),
        SHA_512_WITH_RSA_ENCRYPTION => pkcs1(Digest::Sha512),
        ID_RSASSA_PSS => {
            let params = algorithm.parameters.as_ref().ok_or_else(unsupported)?;
            let params: RsaPssParamsOwned = params.decode_as().map_err(|_| unsupported())?;
            let digest = Digest::from_hash_oid(params.hash.oid).ok_or_else(unsupported)?;
            // MGF1 with the same hash, as RFC 4055 recommends and every producer does.
            let mgf_hash = params.mask_gen.parameters.as_ref().map(|p| p.oid);
            if params.mask_gen.oid != const_oid::db::rfc5912::ID_MGF_1
                || mgf_hash != Some(params.hash.oid)
            {
                return Err(unsupported());
            }
            Ok(Scheme::Pss(digest, usize::from(params.salt_len)))
        }
        _ => Err(unsupported()),
    }
}

/// Verifies `signature` over `message` with `key` under `algorithm`.
pub(crate) fn verify_signature(
    key: &PublicKey,
    algorithm: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<(), RequestError> {
    let scheme = scheme(algorithm)?;
    let ok =
        match scheme {
            Scheme::Pkcs1v15(digest) => {
                let sig = rsa::pkcs1v15::Signature::try_from(signature)
                    .map_err(|_| RequestError::BadSignature)?;
                match digest {
                    Digest::Sha256 => rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key.clone())
                        .verify(message, &sig),
                    Digest::Sha384 => rsa::pkcs1v15::VerifyingKey::<Sha384>::new(key.clone())
                        .verify(message, &sig),
                    Digest::Sha512 => rsa::pkcs1v15::VerifyingKey::<Sha512>::new(key.clone())
                        .verify(message, &sig),
                }
            }
            Scheme::Pss(digest, salt) => {
                let sig = rsa::pss::Signature::try_from(signature)
                    .map_err(|_| RequestError::BadSignature)?;
                match digest {
                    Digest::Sha256 => {
                        rsa::pss::VerifyingKey::<Sha256>::new_with_salt_len(key.clone(), salt)
                            .verify(message, &sig)
                    }
                    Digest::Sha384 => {
                        rsa::pss::VerifyingKey::<Sha384>::new_with_salt_len(key.clone(), salt)
                            .verify(message, &sig)
                    }
                    Digest::Sha512 => {
                        rsa::pss::VerifyingKey::<Sha512>::new_with_salt_len(key.clone(), salt)
                            .verify(message, &sig)
                    }
                }
            }
        };
    ok.map_err(|_| RequestError::BadSignature)
}

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
//! SHA-1 and DSA are refused as unsupported.

use const_oid::ObjectIdentifier;
use der::asn1::AnyRef;
use der::{Decode, Encode};
use rsa::pkcs1::{RsaPssParams, RsaPublicKeyRef};
use rsa::{Pkcs1v15Sign, Pss};
use sha2::{Digest, Sha256, Sha384, Sha512};
use signature::hazmat::PrehashVerifier;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// Object identifiers used here (RFC 8017, RFC 5758, RFC 5480, FIPS 180-4 arcs).
pub(crate) mod oids {
    use const_oid::ObjectIdentifier as Oid;

    pub(crate) const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    pub(crate) const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
    pub(crate) const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
    pub(crate) const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
    pub(crate) const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
    pub(crate) const MGF1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.8");
    pub(crate) const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
    pub(crate) const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
    pub(crate) const ECDSA_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
    pub(crate) const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    pub(crate) const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    pub(crate) const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
    pub(crate) const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
    pub(crate) const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
    pub(crate) const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
}

/// RSA moduli under this size are refused whatever the options say (the `rsa` crate's floor).
const RSA_FLOOR_BITS: usize = 1024;

/// A digest algorithm of the SHA-2 family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HashAlg {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    /// The hash identified by `oid`, if supported.
    pub(crate) fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match *oid {
            oids::SHA256 => Some(Self::Sha256),
            oids::SHA384 => Some(Self::Sha384),
            oids::SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    /// The hash of a digest AlgorithmIdentifier, whose parameters must be NULL or absent.
    pub(crate) fn from_algorithm(alg: &AlgorithmIdentifierOwned) -> Option<Self> {
        if !null_or_absent(alg.parameters.as_ref().map(|p| p.to_ref())) {
            return None;
        }
        Self::from_oid(&alg.oid)
    }

    /// Digest of `data`.
    pub(crate) fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => Sha256::digest(data).to_vec(),
            Self::Sha384 => Sha384::digest(data).to_vec(),
            Self::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    fn pkcs1v15(self) -> Pkcs1v15Sign {
        match self {
            Self::Sha256 => Pkcs1v15Sign::new::<Sha256>(),
            Self::Sha384 => Pkcs1v15Sign::new::<Sha384>(),
            Self::Sha512 => Pkcs1v15Sign::new::<Sha512>(),
        }
    }

    fn verify_pss(
        self,
        key: &rsa::PublicKey,
        salt_len: usize,
        message: &[u8],
        signature: &[u8],
    ) -> rsa::Result<()> {
        let hashed = self.digest(message);
        match self {
            Self::Sha256 => key.verify(Pss::<Sha256>::new_with_salt(salt_len), &hashed, signature),
            Self::Sha384 => key.verify(Pss::<Sha384>::new_with_salt(salt_len), &hashed, signature),
            Self::Sha512 => key.verify(Pss::<Sha512>::new_with_salt(salt_len), &hashed, signature),
        }
    }
}

/// A public key that can verify signatures.
#[derive(Debug, Clone)]
pub(crate) enum PublicKey {
    /// RSA; `pss_only` when the key was published under id-RSASSA-PSS (RFC 4055 §1.2).
    Rsa {
        key: rsa::PublicKey,
        bits: usize,
        pss_only: bool,
    },
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

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
        let params = spki.algorithm.parameters.as_ref().map(|p| p.to_ref());
        match spki.algorithm.oid {
            oids::RSA_ENCRYPTION | oids::RSASSA_PSS => {
                let pss_only = spki.algorithm.oid == oids::RSASSA_PSS;
                if !pss_only && !null_or_absent(params) {
                    return Err(KeyError::Invalid(
                        "rsaEncryption parameters must be NULL".into(),
                    ));
                }
                let bytes = spki
                    .subject_public_key
                    .as_bytes()
                    .ok_or_else(|| KeyError::Invalid("key bit string has unused bits".into()))?;
                let parsed = RsaPublicKeyRef::from_der(bytes)
                    .map_err(|e| KeyError::Invalid(format!("RSA key: {e}")))?;
                let bits = unsigned_bits(parsed.modulus.as_bytes());
                if bits < RSA_FLOOR_BITS {
                    return Err(KeyError::RsaTooSmall(bits));
                }
                let key = rsa::PublicKey::try_from(parsed)
                    .map_err(|e| KeyError::Invalid(format!("RSA key: {e}")))?;
                Ok(Self::Rsa {
                    key,
                    bits,
                    pss_only,
                })
            }
            oids::EC_PUBLIC_KEY => {
                let curve = params
                    .ok_or_else(|| KeyError::Invalid("EC key without a named curve".into()))?
                    .decode_as::<ObjectIdentifier>()
                    .map_err(|_| {
                        KeyError::Invalid("EC key parameters are not a named curve".into())
                    })?;
                let point = spki.subject_public_key.raw_bytes();
                let invalid = |_| KeyError::Invalid("EC point is not on the curve".into());
                match curve {
                    oids::P256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                        .map(Self::P256)
                        .map_err(invalid),
                    oids::P384 => p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
                        .map(Self::P384)
                        .map_err(invalid),
                    other => Err(KeyError::Unsupported(other)),
                }
            }
            other => Err(KeyError::Unsupported(other)),
        }
    }
}

/// A parsed signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SigAlg {
    RsaPkcs1(HashAlg),
    RsaPss { hash: HashAlg, salt_len: usize },
    Ecdsa(HashAlg),
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
) -> Result<SigAlg, SigError> {
    let params = alg.parameters.as_ref().map(|p| p.to_ref());
    let hash = match alg.oid {
        oids::SHA256_WITH_RSA | oids::ECDSA_WITH_SHA256 => HashAlg::Sha256,
        oids::SHA384_WITH_RSA | oids::ECDSA_WITH_SHA384 => HashAlg::Sha384,
        oids::SHA512_WITH_RSA | oids::ECDSA_WITH_SHA512 => HashAlg::Sha512,
        oids::RSA_ENCRYPTION => {
            // CMS (RFC 5754 §3.2) lets a SignerInfo name rsaEncryption and take the hash from
            // its digestAlgorithm.
            let digest = digest.ok_or(SigError::UnsupportedAlgorithm(alg.oid))?;
            if !null_or_absent(params) {
                return Err(SigError::BadParameters(
                    "rsaEncryption parameters must be NULL",
                ));
            }
            let hash = HashAlg::from_algorithm(digest)
                .ok_or(SigError::BadParameters("unsupported digest algorithm"))?;
            return Ok(SigAlg::RsaPkcs1(hash));
        }
        oids::RSASSA_PSS => return parse_pss(params),
        other => return Err(SigError::UnsupportedAlgorithm(other)),
    };
    if !null_or_absent(params) {
        return Err(SigError::BadParameters("parameters must be absent or NULL"));
    }
    if matches!(
        alg.oid,
        oids::ECDSA_WITH_SHA256 | oids::ECDSA_WITH_SHA384 | oids::ECDSA_WITH_SHA512
    ) {
        Ok(SigAlg::Ecdsa(hash))
    } else {
        Ok(SigAlg::RsaPkcs1(hash))
    }
}

/// RSASSA-PSS-params (RFC 4055 §3.1, RFC 8017 A.2.3): the hash must be SHA-256, -384 or -512,
/// the mask generation MGF1 with the same hash, the trailer field 1 (checked by the decoder);
/// the salt length is taken as stated and enforced when verifying.
fn parse_pss(params: Option<AnyRef<'_>>) -> Result<SigAlg, SigError> {
    let params = params.ok_or(SigError::BadParameters(
        "RSASSA-PSS without parameters means SHA-1, which is not supported",
    ))?;
    let der = params
        .to_der()
        .map_err(|_| SigError::BadParameters("RSASSA-PSS parameters cannot be read"))?;
    let pss = RsaPssParams::<der::Any>::from_der(&der)
        .map_err(|_| SigError::BadParameters("RSASSA-PSS parameters cannot be read"))?;
    if !null_or_absent(pss.hash.parameters.as_ref().map(|p| p.to_ref())) {
        return Err(SigError::BadParameters(
            "RSASSA-PSS hash parameters must be NULL",
        ));
    }
    let hash = HashAlg::from_oid(&pss.hash.oid).ok_or(SigError::BadParameters(
        "RSASSA-PSS hash must be SHA-256, SHA-384 or SHA-512",
    ))?;
    if pss.mask_gen.oid != oids::MGF1 {
        return Err(SigError::BadParameters(
            "RSASSA-PSS mask generation must be MGF1",
        ));
    }
    let mgf_hash = pss
        .mask_gen
        .parameters
        .as_ref()
        .ok_or(SigError::BadParameters("MGF1 without a hash"))?;
    let mgf_params = mgf_hash.parameters.as_ref().map(|p| p.to_ref());
    if HashAlg::from_oid(&mgf_hash.oid) != Some(hash) || !null_or_absent(mgf_params) {
        return Err(SigError::BadParameters(
            "MGF1 must use the same hash as the signature",
        ));
    }
    Ok(SigAlg::RsaPss {
        hash,
        salt_len: usize::from(pss.salt_len),
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
    match (key, alg) {
        (
            PublicKey::Rsa {
                key,
                bits,
                pss_only,
            },
            SigAlg::RsaPkcs1(_) | SigAlg::RsaPss { .. },
        ) => {
            if *bits < min_rsa_bits {
                return Err(SigError::RsaTooSmall {
                    bits: *bits,
                    min: min_rsa_bits,
                });
            }
            let result = match alg {
                SigAlg::RsaPkcs1(hash) if !pss_only => {
                    key.verify(hash.pkcs1v15(), &hash.digest(message), signature)
                }
                SigAlg::RsaPss { hash, salt_len } => {
                    hash.verify_pss(key, salt_len, message, signature)
                }
                _ => return Err(SigError::KeyMismatch),
            };
            result.map_err(|_| SigError::Invalid)
        }
        (PublicKey::P256(key), SigAlg::Ecdsa(hash)) => {
            let sig = p256::ecdsa::Signature::from_der(signature).map_err(|_| SigError::Invalid)?;
            key.verify_prehash(&hash.digest(message), &sig)
                .map_err(|_| SigError::Invalid)
        }
        (PublicKey::P384(key), SigAlg::Ecdsa(hash)) => {
            let sig = p384::ecdsa::Signature::from_der(signature).map_err(|_| SigError::Invalid)?;
            key.verify_prehash(&hash.digest(message), &sig)
                .map_err(|_| SigError::Invalid)
        }
        _ => Err(SigError::KeyMismatch),
    }
}

fn null_or_absent(params: Option<AnyRef<'_>>) -> bool {
    params.is_none_or(|p| p.is_null())
}

/// Size in bits of a big-endian unsigned integer.
fn unsigned_bits(bytes: &[u8]) -> usize {
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

    #[test]
    fn sha1_and_dsa_are_unsupported() {
        let sha1_rsa = AlgorithmIdentifierOwned {
            oid: ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5"),
            parameters: None,
        };
        assert!(matches!(
            parse_sig_alg(&sha1_rsa, None),
            Err(SigError::UnsupportedAlgorithm(_))
        ));
        let pss_default = AlgorithmIdentifierOwned {
            oid: oids::RSASSA_PSS,
            parameters: None,
        };
        assert!(matches!(
            parse_sig_alg(&pss_default, None),
            Err(SigError::BadParameters(_))
        ));
    }
}

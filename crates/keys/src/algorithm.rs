//! Signature algorithms as they appear in certificates, CRLs and SignerInfos, and the one
//! key-encryption algorithm (RSA-OAEP with SHA-256).
//!
//! | signature algorithm | OID | parameters |
//! | --- | --- | --- |
//! | sha256/384/512WithRSAEncryption | 1.2.840.113549.1.1.11/12/13 | NULL or absent |
//! | rsaEncryption (CMS only, hash from the digest algorithm) | 1.2.840.113549.1.1.1 | NULL or absent |
//! | id-RSASSA-PSS | 1.2.840.113549.1.1.10 | SHA-256/384/512, MGF1 with the same hash, any salt length, trailer 1 |
//! | ecdsa-with-SHA256/384/512 | 1.2.840.10045.4.3.2/3/4 | absent (NULL tolerated) |
//!
//! SHA-1, MD5 and DSA are refused as unsupported.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::asn1::{Any, AnyRef};
use der::{Decode, Encode};
use pkcs1::{RsaOaepParamsRef, RsaPssParams, RsaPssParamsRef};
use spki::AlgorithmIdentifierOwned;

use crate::KeyError;

/// A digest of the SHA-2 family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlg {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlg {
    /// The hash identified by `oid`, if supported.
    #[must_use]
    pub fn from_oid(oid: ObjectIdentifier) -> Option<Self> {
        match oid {
            rfc5912::ID_SHA_256 => Some(Self::Sha256),
            rfc5912::ID_SHA_384 => Some(Self::Sha384),
            rfc5912::ID_SHA_512 => Some(Self::Sha512),
            _ => None,
        }
    }

    /// The hash of a digest AlgorithmIdentifier, whose parameters must be NULL or absent.
    #[must_use]
    pub fn from_identifier(algorithm: &AlgorithmIdentifierOwned) -> Option<Self> {
        if !null_or_absent(algorithm.parameters.as_ref().map(Any::to_ref)) {
            return None;
        }
        Self::from_oid(algorithm.oid)
    }

    /// The hash's object identifier.
    #[must_use]
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha256 => rfc5912::ID_SHA_256,
            Self::Sha384 => rfc5912::ID_SHA_384,
            Self::Sha512 => rfc5912::ID_SHA_512,
        }
    }

    /// Length of the digest in octets.
    #[must_use]
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The digest of `data`.
    #[must_use]
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        use sha2::Digest;
        match self {
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

/// A signature algorithm: what a key signs or verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 (RFC 8017 §8.2) with the hash.
    RsaPkcs1v15(HashAlg),
    /// RSASSA-PSS (RFC 8017 §8.1) with the hash, MGF1 with the same hash, and the salt length
    /// in octets.
    RsaPss {
        /// The message hash (and MGF1's hash).
        hash: HashAlg,
        /// The salt length in octets.
        salt_len: usize,
    },
    /// ECDSA with the hash, the signature DER-encoded (`Ecdsa-Sig-Value`).
    Ecdsa(HashAlg),
}

impl SignatureAlgorithm {
    /// sha256WithRSAEncryption: what every key of ours signs with unless asked otherwise.
    pub const RSA_PKCS1_SHA256: Self = Self::RsaPkcs1v15(HashAlg::Sha256);

    /// RSASSA-PSS with `hash` and a salt as long as the hash (what RFC 4055 recommends and
    /// every backend here makes).
    #[must_use]
    pub fn rsa_pss(hash: HashAlg) -> Self {
        Self::RsaPss {
            hash,
            salt_len: hash.output_len(),
        }
    }

    /// The hash the algorithm uses.
    #[must_use]
    pub fn hash(self) -> HashAlg {
        match self {
            Self::RsaPkcs1v15(hash) | Self::RsaPss { hash, .. } | Self::Ecdsa(hash) => hash,
        }
    }

    /// Reads a signature AlgorithmIdentifier (of a certificate, CRL or request).
    pub fn from_identifier(algorithm: &AlgorithmIdentifierOwned) -> Result<Self, KeyError> {
        Self::from_cms_identifiers(algorithm, None)
    }

    /// Reads the signature algorithm of a CMS SignerInfo: as
    /// [`from_identifier`](Self::from_identifier), and also plain rsaEncryption, whose hash
    /// is the SignerInfo's `digest` algorithm (RFC 5754 §3.2).
    pub fn from_cms_identifiers(
        algorithm: &AlgorithmIdentifierOwned,
        digest: Option<&AlgorithmIdentifierOwned>,
    ) -> Result<Self, KeyError> {
        let params = algorithm.parameters.as_ref().map(Any::to_ref);
        let hash = match algorithm.oid {
            rfc5912::SHA_256_WITH_RSA_ENCRYPTION | rfc5912::ECDSA_WITH_SHA_256 => HashAlg::Sha256,
            rfc5912::SHA_384_WITH_RSA_ENCRYPTION | rfc5912::ECDSA_WITH_SHA_384 => HashAlg::Sha384,
            rfc5912::SHA_512_WITH_RSA_ENCRYPTION | rfc5912::ECDSA_WITH_SHA_512 => HashAlg::Sha512,
            rfc5912::RSA_ENCRYPTION => {
                let digest = digest.ok_or(KeyError::UnsupportedAlgorithm { oid: algorithm.oid })?;
                if !null_or_absent(params) {
                    return Err(KeyError::AlgorithmParameters {
                        reason: "rsaEncryption parameters must be NULL",
                    });
                }
                let hash =
                    HashAlg::from_identifier(digest).ok_or(KeyError::AlgorithmParameters {
                        reason: "unsupported digest algorithm",
                    })?;
                return Ok(Self::RsaPkcs1v15(hash));
            }
            rfc5912::ID_RSASSA_PSS => return parse_pss(params),
            oid => return Err(KeyError::UnsupportedAlgorithm { oid }),
        };
        if !null_or_absent(params) {
            return Err(KeyError::AlgorithmParameters {
                reason: "parameters must be absent or NULL",
            });
        }
        if matches!(
            algorithm.oid,
            rfc5912::ECDSA_WITH_SHA_256 | rfc5912::ECDSA_WITH_SHA_384 | rfc5912::ECDSA_WITH_SHA_512
        ) {
            Ok(Self::Ecdsa(hash))
        } else {
            Ok(Self::RsaPkcs1v15(hash))
        }
    }

    /// The AlgorithmIdentifier to write in a certificate or SignerInfo: NULL parameters for
    /// PKCS#1 v1.5 (RFC 4055), RSASSA-PSS-params for PSS, none for ECDSA (RFC 5758).
    pub fn identifier(self) -> Result<AlgorithmIdentifierOwned, KeyError> {
        let null = || Some(Any::from(AnyRef::NULL));
        let (oid, parameters) = match self {
            Self::RsaPkcs1v15(HashAlg::Sha256) => (rfc5912::SHA_256_WITH_RSA_ENCRYPTION, null()),
            Self::RsaPkcs1v15(HashAlg::Sha384) => (rfc5912::SHA_384_WITH_RSA_ENCRYPTION, null()),
            Self::RsaPkcs1v15(HashAlg::Sha512) => (rfc5912::SHA_512_WITH_RSA_ENCRYPTION, null()),
            Self::Ecdsa(HashAlg::Sha256) => (rfc5912::ECDSA_WITH_SHA_256, None),
            Self::Ecdsa(HashAlg::Sha384) => (rfc5912::ECDSA_WITH_SHA_384, None),
            Self::Ecdsa(HashAlg::Sha512) => (rfc5912::ECDSA_WITH_SHA_512, None),
            Self::RsaPss { hash, salt_len } => {
                let salt_len =
                    u8::try_from(salt_len).map_err(|_| KeyError::AlgorithmParameters {
                        reason: "a PSS salt longer than 255 octets",
                    })?;
                let params = match hash {
                    HashAlg::Sha256 => RsaPssParamsRef::new::<sha2::Sha256>(salt_len),
                    HashAlg::Sha384 => RsaPssParamsRef::new::<sha2::Sha384>(salt_len),
                    HashAlg::Sha512 => RsaPssParamsRef::new::<sha2::Sha512>(salt_len),
                };
                let any = Any::encode_from(&params).map_err(|_| KeyError::AlgorithmParameters {
                    reason: "cannot encode RSASSA-PSS parameters",
                })?;
                (rfc5912::ID_RSASSA_PSS, Some(any))
            }
        };
        Ok(AlgorithmIdentifierOwned { oid, parameters })
    }
}

/// sha256WithRSAEncryption with NULL parameters (RFC 4055 §5), the identifier of
/// [`SignatureAlgorithm::RSA_PKCS1_SHA256`].
#[must_use]
pub fn rsa_pkcs1_sha256_identifier() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
        parameters: Some(Any::from(AnyRef::NULL)),
    }
}

/// RSASSA-PSS-params (RFC 4055 §3.1, RFC 8017 A.2.3): the hash must be SHA-256, -384 or -512,
/// the mask generation MGF1 with the same hash, the trailer field 1 (checked by the decoder);
/// the salt length is taken as stated and enforced when verifying.
fn parse_pss(params: Option<AnyRef<'_>>) -> Result<SignatureAlgorithm, KeyError> {
    let bad = |reason| KeyError::AlgorithmParameters { reason };
    let params = params.ok_or(bad(
        "RSASSA-PSS without parameters means SHA-1, which is not supported",
    ))?;
    let der = params
        .to_der()
        .map_err(|_| bad("RSASSA-PSS parameters cannot be read"))?;
    let pss = RsaPssParams::<Any>::from_der(&der)
        .map_err(|_| bad("RSASSA-PSS parameters cannot be read"))?;
    if !null_or_absent(pss.hash.parameters.as_ref().map(Any::to_ref)) {
        return Err(bad("RSASSA-PSS hash parameters must be NULL"));
    }
    let hash = HashAlg::from_oid(pss.hash.oid)
        .ok_or(bad("RSASSA-PSS hash must be SHA-256, SHA-384 or SHA-512"))?;
    if pss.mask_gen.oid != rfc5912::ID_MGF_1 {
        return Err(bad("RSASSA-PSS mask generation must be MGF1"));
    }
    let mgf_hash = pss
        .mask_gen
        .parameters
        .as_ref()
        .ok_or(bad("MGF1 without a hash"))?;
    let mgf_params = mgf_hash.parameters.as_ref().map(Any::to_ref);
    if HashAlg::from_oid(mgf_hash.oid) != Some(hash) || !null_or_absent(mgf_params) {
        return Err(bad("MGF1 must use the same hash as the signature"));
    }
    Ok(SignatureAlgorithm::RsaPss {
        hash,
        salt_len: usize::from(pss.salt_len),
    })
}

/// The key-encryption algorithm of every wrapped content key: id-RSAES-OAEP with SHA-256 and
/// MGF1-SHA-256, empty label (RFC 8017, parameters as RFC 4055 encodes them).
pub fn oaep_sha256_identifier() -> Result<AlgorithmIdentifierOwned, KeyError> {
    let params = Any::encode_from(&RsaOaepParamsRef::new::<sha2::Sha256>()).map_err(|_| {
        KeyError::AlgorithmParameters {
            reason: "cannot encode RSA-OAEP parameters",
        }
    })?;
    Ok(AlgorithmIdentifierOwned {
        oid: rfc5912::ID_RSAES_OAEP,
        parameters: Some(params),
    })
}

pub(crate) fn null_or_absent(params: Option<AnyRef<'_>>) -> bool {
    params.is_none_or(|p| p.is_null())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn identifiers_read_back() {
        for alg in [
            SignatureAlgorithm::RSA_PKCS1_SHA256,
            SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha384),
            SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha512),
            SignatureAlgorithm::rsa_pss(HashAlg::Sha256),
            SignatureAlgorithm::RsaPss {
                hash: HashAlg::Sha512,
                salt_len: 0,
            },
            SignatureAlgorithm::Ecdsa(HashAlg::Sha384),
        ] {
            let id = alg.identifier().unwrap();
            assert_eq!(SignatureAlgorithm::from_identifier(&id).unwrap(), alg);
        }
    }

    #[test]
    fn sha1_and_pss_defaults_are_refused() {
        let sha1_rsa = AlgorithmIdentifierOwned {
            oid: ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5"),
            parameters: None,
        };
        assert!(matches!(
            SignatureAlgorithm::from_identifier(&sha1_rsa),
            Err(KeyError::UnsupportedAlgorithm { .. })
        ));
        let pss_default = AlgorithmIdentifierOwned {
            oid: rfc5912::ID_RSASSA_PSS,
            parameters: None,
        };
        assert!(matches!(
            SignatureAlgorithm::from_identifier(&pss_default),
            Err(KeyError::AlgorithmParameters { .. })
        ));
        let rsa_encryption = AlgorithmIdentifierOwned {
            oid: rfc5912::RSA_ENCRYPTION,
            parameters: None,
        };
        assert!(SignatureAlgorithm::from_identifier(&rsa_encryption).is_err());
        let sha256 = AlgorithmIdentifierOwned {
            oid: rfc5912::ID_SHA_256,
            parameters: None,
        };
        assert_eq!(
            SignatureAlgorithm::from_cms_identifiers(&rsa_encryption, Some(&sha256)).unwrap(),
            SignatureAlgorithm::RSA_PKCS1_SHA256
        );
    }
}

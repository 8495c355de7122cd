//! The CMS SignedData of a license, assembled around a certificate set encoded once per issuer.
//!
//! Every license an issuer signs carries the same chain. Encoding it with each license (and
//! sorting it, since a DER `SET OF` is sorted by encoding) cost more than anything else in a
//! license but the signature, so an [`Issuer`](crate::Issuer) encodes and sorts its chain once
//! and each license copies those octets. The result is byte for byte what encoding `cms`'s
//! own `ContentInfo` and `SignedData` from the same parts gives (a test below checks it).

use std::sync::Arc;

use sha2::Digest;

use cms::content_info::CmsVersion;
use cms::signed_data::{
    DigestAlgorithmIdentifiers, EncapsulatedContentInfo, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use der::asn1::AnyRef;
use der::{Encode, Sequence, Tag, TagNumber};
use x509_cert::Certificate;

use crate::CertError;

/// A chain as a CMS `CertificateSet`: the certificates sorted by their encoding, and the
/// concatenation of those encodings (the set's contents octets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EncodedCertificates {
    sorted: Arc<[Certificate]>,
    /// SHA-256 of each certificate's DER, in the same order.
    fingerprints: Arc<[[u8; 32]]>,
    contents: Vec<u8>,
}

impl EncodedCertificates {
    /// Encodes and sorts `chain`.
    pub(crate) fn new(chain: &[Certificate]) -> Result<Self, CertError> {
        let mut encoded = chain
            .iter()
            .map(|c| {
                c.to_der()
                    .map(|der| (der, c.clone()))
                    .map_err(|source| CertError::Encode {
                        what: "certificate",
                        source,
                    })
            })
            .collect::<Result<Vec<_>, CertError>>()?;
        encoded.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Self {
            fingerprints: encoded
                .iter()
                .map(|(der, _)| sha2::Sha256::digest(der).into())
                .collect(),
            contents: encoded
                .iter()
                .flat_map(|(der, _)| der.iter().copied())
                .collect(),
            sorted: encoded.into_iter().map(|(_, c)| c).collect(),
        })
    }

    /// The certificates in the order a decoder of the license finds them.
    pub(crate) fn sorted(&self) -> Arc<[Certificate]> {
        self.sorted.clone()
    }

    /// SHA-256 of each certificate's DER, in the order of [`EncodedCertificates::sorted`].
    pub(crate) fn fingerprints(&self) -> Arc<[[u8; 32]]> {
        self.fingerprints.clone()
    }
}

/// `SignedData` (RFC 5652 §5.1) with its `certificates [0] IMPLICIT` field given as encoded
/// octets; no CRLs.
#[derive(Sequence)]
struct SignedDataWire<'a> {
    version: CmsVersion,
    digest_algorithms: DigestAlgorithmIdentifiers,
    encap_content_info: EncapsulatedContentInfo,
    certificates: AnyRef<'a>,
    signer_infos: SignerInfos,
}

/// `ContentInfo` (RFC 5652 §3) around a [`SignedDataWire`].
#[derive(Sequence)]
struct ContentInfoWire<'a> {
    content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    content: SignedDataWire<'a>,
}

/// The DER of a `ContentInfo` of type signed-data: one signer, the given certificates.
pub(crate) fn signed_data_der(
    digest_algorithms: DigestAlgorithmIdentifiers,
    encap_content_info: EncapsulatedContentInfo,
    certificates: &EncodedCertificates,
    signer_info: SignerInfo,
) -> Result<Vec<u8>, CertError> {
    let encode = |source| CertError::Encode {
        what: "license",
        source,
    };
    let certificate_set = AnyRef::new(
        Tag::ContextSpecific {
            constructed: true,
            number: TagNumber(0),
        },
        &certificates.contents,
    )
    .map_err(encode)?;
    let signer_infos = SignerInfos::try_from(vec![signer_info]).map_err(encode)?;
    ContentInfoWire {
        content_type: const_oid::db::rfc5911::ID_SIGNED_DATA,
        content: SignedDataWire {
            // RFC 5652 §5.1: 3, because the eContentType is not id-data.
            version: CmsVersion::V3,
            digest_algorithms,
            encap_content_info,
            certificates: certificate_set,
            signer_infos,
        },
    }
    .to_der()
    .map_err(encode)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
    use cms::content_info::ContentInfo;
    use cms::signed_data::{CertificateSet, SignedData, SignerIdentifier};
    use der::asn1::{Any, OctetString, SetOfVec};
    use spki::AlgorithmIdentifierOwned;
    use time::macros::datetime;

    use super::*;
    use crate::{Issuer, RsaSigner};

    #[test]
    fn the_same_bytes_as_cms_own_types() {
        let now = datetime!(2026-03-10 09:30 UTC);
        let issuer = Issuer::create_authority(
            "CN=Wire Test".parse().unwrap(),
            Arc::new(RsaSigner::generate(2048).unwrap()),
            rms_policy::ValidityPolicy::default(),
            now,
        )
        .unwrap();
        let chain = issuer.chain().certificates().to_vec();
        let sha256 = AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::ID_SHA_256,
            parameters: None,
        };
        let digest_algorithms = SetOfVec::try_from(vec![sha256.clone()]).unwrap();
        let econtent = EncapsulatedContentInfo {
            econtent_type: crate::oid::USE_LICENSE,
            econtent: Some(Any::new(Tag::OctetString, vec![1, 2, 3]).unwrap()),
        };
        let leaf = issuer.certificate().tbs_certificate();
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: leaf.issuer().clone(),
                serial_number: leaf.serial_number().clone(),
            }),
            digest_alg: sha256,
            signed_attrs: None,
            signature_algorithm: rms_keys::rsa_pkcs1_sha256_identifier(),
            signature: OctetString::new(vec![0x55; 256]).unwrap(),
            unsigned_attrs: None,
        };
        let ours = signed_data_der(
            digest_algorithms.clone(),
            econtent.clone(),
            &EncodedCertificates::new(&chain).unwrap(),
            signer_info.clone(),
        )
        .unwrap();
        let certificates = SetOfVec::try_from(
            chain
                .into_iter()
                .map(CertificateChoices::Certificate)
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let signed = SignedData {
            version: CmsVersion::V3,
            digest_algorithms,
            encap_content_info: econtent,
            certificates: Some(CertificateSet(certificates)),
            crls: None,
            signer_infos: SignerInfos::try_from(vec![signer_info]).unwrap(),
        };
        let theirs = ContentInfo {
            content_type: const_oid::db::rfc5911::ID_SIGNED_DATA,
            content: Any::encode_from(&signed).unwrap(),
        }
        .to_der()
        .unwrap();
        assert_eq!(ours, theirs);
    }
}

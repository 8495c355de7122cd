//! The CMS SignedData of a license, assembled around a certificate set encoded once per issuer.
//!
//! Every license an issuer signs carries the same chain. Encoding it with each license (and
//! sorting it, since a DER `SET OF` is sorted by encoding) cost more than anything else in a
//! license but the signature, so an [`Issuer`](crate::Issuer) encodes and sorts its chain once
//! and each license copies those octets. The result is byte for byte what `cms`'s
//! `SignedDataBuilder` makes from the same parts (a test below checks it).

use std::sync::Arc;

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

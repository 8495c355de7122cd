//! Signed licenses: CMS SignedData (RFC 5652) around a license body, signed by the issuing
//! server's SLC key, carrying the signer's chain.

use std::sync::Arc;

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_MESSAGE_DIGEST, ID_SIGNED_DATA, ID_SIGNING_TIME};
use der::asn1::{Any, OctetString, SetOfVec};
use der::{Encode, Tag, Tagged};
use rms_policy::{Validity, to_x509_time};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::name::Name;

use crate::codec::{Strict, decode_strict, der_to_pem, pem_to_der};
use crate::license_wire::{EncodedCertificates, signed_data_der};
use crate::{CertError, LicenseBody, LicenseError, LicenseKind, Signer, oid};

/// The PEM label of a CMS structure, as `openssl cms -outform PEM` writes it.
const PEM_LABEL: &str = "CMS";

/// What signature verification of a license needs, as decoded (nothing here is verified).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignerView {
    /// Issuer name of the signer's certificate (from issuerAndSerialNumber).
    pub issuer: Name,
    /// Serial number of the signer's certificate (from issuerAndSerialNumber).
    pub serial: x509_cert::serial_number::SerialNumber,
    /// The SignerInfo's digestAlgorithm.
    pub digest_algorithm: AlgorithmIdentifierOwned,
    /// The SignerInfo's signatureAlgorithm.
    pub signature_algorithm: AlgorithmIdentifierOwned,
    /// The signature value.
    pub signature: Vec<u8>,
    /// DER of the signed attributes as a SET OF Attribute (tag 0x31): exactly what the
    /// signature covers.
    pub signed_attributes_der: Vec<u8>,
    /// Value of the message-digest signed attribute.
    pub message_digest: Vec<u8>,
    /// The eContent octets (the DER license body) whose digest must equal `message_digest`.
    pub content: Vec<u8>,
}

/// A license as signed CMS: its typed body, the certificates it carries and what signature
/// verification needs. Decoding checks the structure strictly and never panics, but does
/// **not** verify the signature or the chain: that is the chain crate's job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedLicense {
    der: Vec<u8>,
    body: LicenseBody,
    certificates: Arc<[Certificate]>,
    /// SHA-256 of each carried certificate's DER as it was received (or made), in the order
    /// of `certificates`: what verifiers look certificates they read before up by.
    certificate_fingerprints: Arc<[[u8; 32]]>,
    signer: SignerView,
}

fn not_signed_data(reason: impl Into<String>) -> LicenseError {
    LicenseError::NotSignedData {
        reason: reason.into(),
    }
}

impl SignedLicense {
    /// Decodes a license from DER (a CMS ContentInfo holding SignedData) and checks its
    /// structure: exactly one SignerInfo identified by issuerAndSerialNumber; signed attributes
    /// with exactly one content-type (equal to eContentType), one message-digest and at most
    /// one signing-time; eContentType one of our license types; a body that decodes with no
    /// trailing data and a known version.
    pub fn from_der(bytes: &[u8]) -> Result<Self, CertError> {
        let info: ContentInfo = decode_strict(bytes).map_err(|err| match err {
            Strict::Der(err) => not_signed_data(format!("not a CMS ContentInfo: {err}")),
            Strict::Trailing(extra) => not_signed_data(format!("{extra} bytes of trailing data")),
        })?;
        if info.content_type != ID_SIGNED_DATA {
            return Err(not_signed_data(format!(
                "content type {} is not signedData",
                info.content_type
            ))
            .into());
        }
        let signed: SignedData = info
            .content
            .decode_as()
            .map_err(|err| not_signed_data(format!("cannot decode SignedData: {err}")))?;
        let econtent_type = signed.encap_content_info.econtent_type;
        let kind = if econtent_type == oid::PUBLISHING_LICENSE {
            LicenseKind::Publishing
        } else if econtent_type == oid::USE_LICENSE {
            LicenseKind::Use
        } else if econtent_type == oid::TEMPLATE_LIST {
            LicenseKind::TemplateList
        } else if econtent_type == oid::CONTENT_REVOCATIONS {
            LicenseKind::ContentRevocations
        } else {
            return Err(LicenseError::UnknownContentType { oid: econtent_type }.into());
        };
        let content = signed
            .encap_content_info
            .econtent
            .as_ref()
            .ok_or(LicenseError::NoContent)?;
        if content.tag() != Tag::OctetString {
            return Err(not_signed_data("eContent is not an OCTET STRING").into());
        }
        let content = content.value().to_vec();
        let body = LicenseBody::from_der(kind, &content)?;

        let signer_infos = signed.signer_infos.0.as_slice();
        let [signer_info] = signer_infos else {
            return Err(LicenseError::SignerCount {
                count: signer_infos.len(),
            }
            .into());
        };
        let SignerIdentifier::IssuerAndSerialNumber(sid) = &signer_info.sid else {
            return Err(LicenseError::SignerIdentifier.into());
        };
        let attributes = signer_info
            .signed_attrs
            .as_ref()
            .ok_or(LicenseError::NoSignedAttributes)?;
        let content_type: ObjectIdentifier =
            single_value(attributes, ID_CONTENT_TYPE, "content-type")?
                .ok_or(LicenseError::SignedAttribute {
                    name: "content-type",
                })?
                .decode_as()
                .map_err(|_| LicenseError::SignedAttribute {
                    name: "content-type",
                })?;
        if content_type != econtent_type {
            return Err(LicenseError::ContentTypeMismatch {
                attribute: content_type,
                econtent_type,
            }
            .into());
        }
        let message_digest: OctetString =
            single_value(attributes, ID_MESSAGE_DIGEST, "message-digest")?
                .ok_or(LicenseError::SignedAttribute {
                    name: "message-digest",
                })?
                .decode_as()
                .map_err(|_| LicenseError::SignedAttribute {
                    name: "message-digest",
                })?;
        if let Some(time) = single_value(attributes, ID_SIGNING_TIME, "signing-time")? {
            time.decode_as::<x509_cert::time::Time>().map_err(|_| {
                LicenseError::SignedAttribute {
                    name: "signing-time",
                }
            })?;
        }
        let signed_attributes_der = attributes
            .to_der()
            .map_err(|err| not_signed_data(format!("cannot re-encode signed attributes: {err}")))?;

        let mut certificates = Vec::new();
        for choice in signed.certificates.iter().flat_map(|set| set.0.iter()) {
            match choice {
                CertificateChoices::Certificate(certificate) => {
                    certificates.push(certificate.clone());
                }
                CertificateChoices::Other(_) => {
                    return Err(
                        not_signed_data("certificates other than X.509 are not accepted").into(),
                    );
                }
            }
        }
        let signer = SignerView {
            issuer: sid.issuer.clone(),
            serial: sid.serial_number.clone(),
            digest_algorithm: signer_info.digest_alg.clone(),
            signature_algorithm: signer_info.signature_algorithm.clone(),
            signature: signer_info.signature.as_bytes().to_vec(),
            signed_attributes_der,
            message_digest: message_digest.as_bytes().to_vec(),
            content,
        };
        let certificate_fingerprints = carried_fingerprints(bytes, &certificates)?;
        Ok(Self {
            der: bytes.to_vec(),
            body,
            certificates: certificates.into(),
            certificate_fingerprints,
            signer,
        })
    }

    /// Decodes a license from one PEM block (`CMS`), as `openssl cms -outform PEM` writes.
    pub fn from_pem(text: &str) -> Result<Self, CertError> {
        let der = pem_to_der(text, PEM_LABEL)
            .map_err(|err| not_signed_data(format!("not a PEM CMS block: {err}")))?;
        Self::from_der(&der)
    }

    /// The license as DER, exactly as made or received.
    pub fn to_der(&self) -> Result<Vec<u8>, CertError> {
        Ok(self.der.clone())
    }

    /// The license's DER, exactly as made or received, without copying it.
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The license as PEM (`CMS`).
    pub fn to_pem(&self) -> Result<String, CertError> {
        der_to_pem(PEM_LABEL, &self.der, "license")
    }

    /// The typed body.
    #[must_use]
    pub fn body(&self) -> &LicenseBody {
        &self.body
    }

    /// Publishing or use license.
    #[must_use]
    pub fn kind(&self) -> LicenseKind {
        self.body.kind()
    }

    /// Issue time to expiry, from the body.
    #[must_use]
    pub fn validity(&self) -> Validity {
        self.body.validity()
    }

    /// The certificates the SignedData carries, in the order they are encoded. DER sorts a
    /// SET OF, so this is not necessarily leaf first: build the path from the signer's
    /// issuer and serial number.
    #[must_use]
    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    /// SHA-256 of each certificate the SignedData carries, over its DER as received, in the
    /// order of [`SignedLicense::certificates`]: a verifier that read a certificate before finds
    /// it by this without encoding it again.
    #[must_use]
    pub fn certificate_fingerprints(&self) -> &[[u8; 32]] {
        &self.certificate_fingerprints
    }

    /// What signature verification needs.
    #[must_use]
    pub fn signer(&self) -> &SignerView {
        &self.signer
    }
}

/// The value of the attribute `oid` when it appears once with one value; `None` when absent;
/// an error when repeated or multi-valued.
fn single_value<'a>(
    attributes: &'a SetOfVec<Attribute>,
    oid: ObjectIdentifier,
    name: &'static str,
) -> Result<Option<&'a Any>, LicenseError> {
    let mut found = attributes.iter().filter(|a| a.oid == oid);
    let Some(attribute) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() {
        return Err(LicenseError::SignedAttribute { name });
    }
    match attribute.values.as_slice() {
        [value] => Ok(Some(value)),
        _ => Err(LicenseError::SignedAttribute { name }),
    }
}

/// Signs `body` as CMS SignedData with `signer`, whose certificate is `leaf`, carrying
/// `certificates` (the signer's chain, encoded once per issuer); signing-time is `issued_at`.
pub(crate) fn sign(
    body: &LicenseBody,
    signer: &dyn Signer,
    leaf: &Certificate,
    certificates: &EncodedCertificates,
    issued_at: OffsetDateTime,
) -> Result<SignedLicense, CertError> {
    let encode = |what| move |source| CertError::Encode { what, source };
    let body_der = body.to_der()?;
    let econtent = EncapsulatedContentInfo {
        econtent_type: body.kind().content_type(),
        econtent: Some(
            Any::new(Tag::OctetString, body_der.as_slice()).map_err(encode("license body"))?,
        ),
    };
    let digest_algorithm = AlgorithmIdentifierOwned {
        oid: const_oid::db::rfc5912::ID_SHA_256,
        parameters: None,
    };
    let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer: leaf.tbs_certificate().issuer().clone(),
        serial_number: leaf.tbs_certificate().serial_number().clone(),
    });
    // The signed attributes (RFC 5652 §5.3): content-type, message-digest, signing-time, a
    // DER SET OF (sorted by encoding), whose encoding with the SET tag is what is signed.
    let message_digest = Sha256::digest(&body_der).to_vec();
    let attribute = |oid, value: Any| -> Result<Attribute, CertError> {
        Ok(Attribute {
            oid,
            values: SetOfVec::try_from(vec![value]).map_err(encode("signed attribute"))?,
        })
    };
    let time = to_x509_time(issued_at)?;
    let attributes = SetOfVec::try_from(vec![
        attribute(
            ID_CONTENT_TYPE,
            Any::encode_from(&body.kind().content_type()).map_err(encode("content-type"))?,
        )?,
        attribute(
            ID_MESSAGE_DIGEST,
            Any::encode_from(
                &OctetString::new(message_digest.clone()).map_err(encode("message-digest"))?,
            )
            .map_err(encode("message-digest"))?,
        )?,
        attribute(
            ID_SIGNING_TIME,
            Any::encode_from(&time).map_err(encode("signing-time"))?,
        )?,
    ])
    .map_err(encode("signed attributes"))?;
    let signed_attributes_der = attributes.to_der().map_err(encode("signed attributes"))?;
    let signature = signer.sign(&signed_attributes_der)?;
    let signature_algorithm = signer.algorithm();
    let signer_info = SignerInfo {
        // RFC 5652 §5.3: 1, because the signer is identified by issuerAndSerialNumber.
        version: CmsVersion::V1,
        sid,
        digest_alg: digest_algorithm.clone(),
        signed_attrs: Some(attributes),
        signature_algorithm: signature_algorithm.clone(),
        signature: OctetString::new(signature.clone()).map_err(encode("signature"))?,
        unsigned_attrs: None,
    };
    let mut digest_algorithms = SetOfVec::new();
    digest_algorithms
        .insert(digest_algorithm.clone())
        .map_err(encode("digest algorithms"))?;
    let der = signed_data_der(digest_algorithms, econtent, certificates, signer_info)?;
    // What decoding `der` would give, from the parts in hand (decoding the certificates again
    // costs more than anything here but the signature).
    let signer_view = SignerView {
        issuer: leaf.tbs_certificate().issuer().clone(),
        serial: leaf.tbs_certificate().serial_number().clone(),
        digest_algorithm,
        signature_algorithm,
        signature,
        signed_attributes_der,
        message_digest,
        content: body_der,
    };
    Ok(SignedLicense {
        der,
        body: body.clone(),
        certificates: certificates.sorted(),
        certificate_fingerprints: certificates.fingerprints(),
        signer: signer_view,
    })
}

/// The fingerprints of the certificates a SignedData carries, over their octets in `der` (a
/// ContentInfo that decoded into `certificates`): found by walking the DER to the
/// `certificates [0] IMPLICIT SET OF` field, or, should that walk not find exactly as many
/// X.509 certificates, over each certificate encoded again.
fn carried_fingerprints(
    der: &[u8],
    certificates: &[Certificate],
) -> Result<Arc<[[u8; 32]]>, CertError> {
    if let Some(raw) = carried_certificate_octets(der)
        && raw.len() == certificates.len()
    {
        return Ok(raw.iter().map(|c| Sha256::digest(c).into()).collect());
    }
    certificates
        .iter()
        .map(|c| {
            c.to_der()
                .map(|d| Sha256::digest(&d).into())
                .map_err(|source| CertError::Encode {
                    what: "certificate",
                    source,
                })
        })
        .collect()
}

/// The octets of each element of SignedData's `certificates` field in a ContentInfo, by a
/// walk over DER headers (the structure was decoded and checked before this is called).
fn carried_certificate_octets(der: &[u8]) -> Option<Vec<&[u8]>> {
    let (content_info, _) = tlv(der, 0x30)?;
    let (_content_type, rest) = tlv_any(content_info)?;
    let (explicit, _) = tlv(rest, 0xa0)?;
    let (signed_data, _) = tlv(explicit, 0x30)?;
    let (_version, rest) = tlv_any(signed_data)?;
    let (_digest_algorithms, rest) = tlv_any(rest)?;
    let (_encap_content_info, rest) = tlv_any(rest)?;
    let Some((mut set, _)) = tlv(rest, 0xa0) else {
        return Some(Vec::new());
    };
    let mut found = Vec::new();
    while !set.is_empty() {
        let (whole, rest) = element(set)?;
        if whole.first() != Some(&0x30) {
            return None;
        }
        found.push(whole);
        set = rest;
    }
    Some(found)
}

/// The content of the element of tag `tag` at the start of `input`, and what follows it.
fn tlv(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    if input.first() != Some(&tag) {
        return None;
    }
    tlv_any(input)
}

/// The content of the element at the start of `input` (one-octet tags only), and what follows.
fn tlv_any(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let (header, len) = header(input)?;
    let end = header.checked_add(len)?;
    Some((input.get(header..end)?, input.get(end..)?))
}

/// The whole element (header and content) at the start of `input`, and what follows.
fn element(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let (header, len) = header(input)?;
    let end = header.checked_add(len)?;
    Some((input.get(..end)?, input.get(end..)?))
}

/// The length of the header of the element at the start of `input`, and of its content.
fn header(input: &[u8]) -> Option<(usize, usize)> {
    let tag = *input.first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let first = *input.get(1)?;
    if first < 0x80 {
        return Some((2, usize::from(first)));
    }
    let count = usize::from(first & 0x7f);
    if count == 0 || count > size_of::<usize>() {
        return None;
    }
    let octets = input.get(2..2 + count)?;
    let len = octets.iter().try_fold(0usize, |len, &b| {
        len.checked_mul(256)?.checked_add(usize::from(b))
    })?;
    Some((2 + count, len))
}

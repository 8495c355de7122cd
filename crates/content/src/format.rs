//! The file's DER, written by hand around the streamed ciphertext (the structures are definite
//! length, so every length is computed before the first byte is written), and the parts that
//! `der` and `cms` encode and decode for us: the recipient infos and the encrypted header.
//! `docs/protected-file.md` has the layout and the ASN.1 module.

use cms::content_info::CmsVersion;
use cms::enveloped_data::{
    KeyTransRecipientInfo, OtherRecipientInfo, RecipientIdentifier, RecipientInfo,
};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::{ID_AES_256_GCM, ID_CT_AUTH_ENVELOPED_DATA, ID_DATA};
use der::asn1::{Any, OctetString, SetOfVec};
use der::{Decode, Encode, Sequence};
use sha2::{Digest, Sha256};
use x509_cert::ext::pkix::SubjectKeyIdentifier;

use crate::gcm::{NONCE_LEN, TAG_LEN};
use crate::{ContentError, Envelope, FileMetadata, oid};

/// The only header version written and read.
pub(crate) const HEADER_VERSION: u8 = 1;
/// Longest encrypted header that can be valid (a 255-octet name and media type and the rest).
pub(crate) const MAX_HEADER_LEN: usize = 1024;
/// Length of the clear-part digest in the header (SHA-256).
pub(crate) const DIGEST_LEN: usize = 32;
/// GCMParameters' aes-ICVlen: the full 16-octet tag.
#[allow(clippy::cast_possible_truncation, reason = "TAG_LEN is 16")]
const ICV_LEN: u8 = TAG_LEN as u8;

pub(crate) const TAG_SEQUENCE: u8 = 0x30;
pub(crate) const TAG_SET: u8 = 0x31;
pub(crate) const TAG_INTEGER: u8 = 0x02;
pub(crate) const TAG_OCTET_STRING: u8 = 0x04;
pub(crate) const TAG_OID: u8 = 0x06;
/// `[0] EXPLICIT` around the ContentInfo's content.
pub(crate) const TAG_EXPLICIT_0: u8 = 0xa0;
/// `[0] IMPLICIT OCTET STRING`, primitive: the encryptedContent.
pub(crate) const TAG_ENCRYPTED_CONTENT: u8 = 0x80;

/// Appends a DER tag and definite length.
#[allow(
    clippy::cast_possible_truncation,
    reason = "the short form is below 0x80, and a u64 has at most 8 length octets"
)]
pub(crate) fn push_header(out: &mut Vec<u8>, tag: u8, len: u64) {
    out.push(tag);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Length of a DER tag and length for `len` octets of content.
pub(crate) fn header_len(len: u64) -> u64 {
    if len < 0x80 {
        2
    } else {
        2 + u64::from((64 - len.leading_zeros()).div_ceil(8))
    }
}

fn encode_err(what: &'static str) -> impl FnOnce(der::Error) -> ContentError {
    move |source| ContentError::Encode { what, source }
}

/// `LicenseAcquisition`, the oriValue of our recipient info.
#[derive(Sequence)]
pub(crate) struct RawLicenseAcquisition {
    pub(crate) licensing_server: String,
    pub(crate) publishing_license: Any,
}

/// The encrypted header, `ProtectedContentHeader`.
#[derive(Sequence)]
pub(crate) struct RawHeader {
    pub(crate) content_type: ObjectIdentifier,
    pub(crate) version: u8,
    pub(crate) file_name: String,
    pub(crate) media_type: String,
    pub(crate) clear_digest: OctetString,
}

/// The DER of the recipient infos: the key-transport recipient (the publishing license's
/// wrapped key, for OpenSSL) and our license-acquisition recipient (the URL and the license).
pub(crate) fn encode_recipient_infos(envelope: &Envelope) -> Result<Vec<u8>, ContentError> {
    let wrapped = envelope.publishing().content_key();
    let ktri = KeyTransRecipientInfo {
        version: CmsVersion::V2,
        rid: RecipientIdentifier::SubjectKeyIdentifier(SubjectKeyIdentifier(
            OctetString::new(wrapped.recipient_key_id()).map_err(encode_err("recipient id"))?,
        )),
        key_enc_alg: wrapped.algorithm().clone(),
        enc_key: OctetString::new(wrapped.encrypted_key()).map_err(encode_err("encrypted key"))?,
    };
    let license_der = envelope
        .publishing_license()
        .to_der()
        .map_err(|_| ContentError::Crypto {
            what: "reading the publishing license's DER",
        })?;
    let acquisition = RawLicenseAcquisition {
        licensing_server: envelope.server_url().to_owned(),
        publishing_license: Any::from_der(&license_der)
            .map_err(encode_err("publishing license"))?,
    };
    let ori = OtherRecipientInfo {
        ori_type: oid::LICENSE_ACQUISITION,
        ori_value: Any::encode_from(&acquisition).map_err(encode_err("license acquisition"))?,
    };
    let mut infos = SetOfVec::new();
    infos
        .insert(RecipientInfo::Ktri(ktri))
        .map_err(encode_err("recipient infos"))?;
    infos
        .insert(RecipientInfo::Ori(ori))
        .map_err(encode_err("recipient infos"))?;
    infos.to_der().map_err(encode_err("recipient infos"))
}

/// SHA-256 of the recipient infos' DER: what the encrypted header binds the clear part with.
pub(crate) fn clear_digest(recipient_infos: &[u8]) -> [u8; DIGEST_LEN] {
    Sha256::digest(recipient_infos).into()
}

/// The DER of the encrypted header.
pub(crate) fn encode_header(
    metadata: &FileMetadata,
    recipient_infos: &[u8],
) -> Result<Vec<u8>, ContentError> {
    RawHeader {
        content_type: oid::PROTECTED_CONTENT,
        version: HEADER_VERSION,
        file_name: metadata.file_name().to_owned(),
        media_type: metadata.media_type().to_owned(),
        clear_digest: OctetString::new(clear_digest(recipient_infos).to_vec())
            .map_err(encode_err("header"))?,
    }
    .to_der()
    .map_err(encode_err("header"))
}

/// The contentEncryptionAlgorithm: id-aes256-GCM with GCMParameters { nonce, 16 }.
pub(crate) fn encode_algorithm(nonce: &[u8; NONCE_LEN]) -> Vec<u8> {
    let mut params = Vec::with_capacity(19);
    push_header(&mut params, TAG_SEQUENCE, 17);
    push_header(&mut params, TAG_OCTET_STRING, NONCE_LEN as u64);
    params.extend_from_slice(nonce);
    params.extend_from_slice(&[TAG_INTEGER, 1, ICV_LEN]);
    let mut oid = Vec::new();
    push_oid(&mut oid, ID_AES_256_GCM);
    let mut out = Vec::with_capacity(32);
    push_header(&mut out, TAG_SEQUENCE, (oid.len() + params.len()) as u64);
    out.extend_from_slice(&oid);
    out.extend_from_slice(&params);
    out
}

fn push_oid(out: &mut Vec<u8>, oid: ObjectIdentifier) {
    let body = oid.as_bytes();
    push_header(out, TAG_OID, body.len() as u64);
    out.extend_from_slice(body);
}

/// Everything before the ciphertext, for `ciphertext_len` octets of it. What follows the
/// ciphertext is the mac: `04 10` and the tag ([`mac_header`]).
pub(crate) fn encode_prefix(
    recipient_infos: &[u8],
    nonce: &[u8; NONCE_LEN],
    ciphertext_len: u64,
) -> Vec<u8> {
    let algorithm = encode_algorithm(nonce);
    let mut eci_start = Vec::new();
    push_oid(&mut eci_start, ID_DATA);
    eci_start.extend_from_slice(&algorithm);
    push_header(&mut eci_start, TAG_ENCRYPTED_CONTENT, ciphertext_len);
    let eci_len = eci_start.len() as u64 + ciphertext_len;
    let mac_len = 2 + TAG_LEN as u64;
    let aed_len = 3 + recipient_infos.len() as u64 + header_len(eci_len) + eci_len + mac_len;
    let explicit_len = header_len(aed_len) + aed_len;
    let mut content_type = Vec::new();
    push_oid(&mut content_type, ID_CT_AUTH_ENVELOPED_DATA);
    let info_len = content_type.len() as u64 + header_len(explicit_len) + explicit_len;

    let mut out = Vec::with_capacity(recipient_infos.len() + 96);
    push_header(&mut out, TAG_SEQUENCE, info_len);
    out.extend_from_slice(&content_type);
    push_header(&mut out, TAG_EXPLICIT_0, explicit_len);
    push_header(&mut out, TAG_SEQUENCE, aed_len);
    out.extend_from_slice(&[TAG_INTEGER, 1, 0]); // version 0 (RFC 5083)
    out.extend_from_slice(recipient_infos);
    push_header(&mut out, TAG_SEQUENCE, eci_len);
    out.extend_from_slice(&eci_start);
    out
}

/// The mac's tag and length, which precede the 16 octets of the GCM tag.
pub(crate) const MAC_HEADER: [u8; 2] = [TAG_OCTET_STRING, ICV_LEN];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn lengths_are_minimal_der() {
        for (len, expected) in [
            (0u64, vec![0x30, 0x00]),
            (0x7f, vec![0x30, 0x7f]),
            (0x80, vec![0x30, 0x81, 0x80]),
            (0x100, vec![0x30, 0x82, 0x01, 0x00]),
            (1 << 36, vec![0x30, 0x85, 0x10, 0, 0, 0, 0]),
        ] {
            let mut out = Vec::new();
            push_header(&mut out, TAG_SEQUENCE, len);
            assert_eq!(out, expected, "{len}");
            assert_eq!(header_len(len), out.len() as u64, "{len}");
        }
    }

    #[test]
    fn the_algorithm_is_aes_256_gcm_with_a_16_octet_icv() {
        let der = encode_algorithm(&[0xab; 12]);
        let parsed = spki::AlgorithmIdentifierOwned::from_der(&der).unwrap_or_else(|e| {
            panic!("{e}");
        });
        assert_eq!(parsed.oid, ID_AES_256_GCM);
        let params = parsed.parameters.map(|p| p.to_der().unwrap_or_default());
        let mut expected = vec![0x30, 0x11, 0x04, 0x0c];
        expected.extend_from_slice(&[0xab; 12]);
        expected.extend_from_slice(&[0x02, 0x01, 0x10]);
        assert_eq!(params, Some(expected));
    }
}

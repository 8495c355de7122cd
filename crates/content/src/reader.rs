//! Reading the clear part of a protected file from a `Read + Seek`, without reading the
//! ciphertext: every field is checked against the DER we write, each failure with its offset.

use std::io::{self, Read, Seek, SeekFrom};

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::{ID_AES_256_GCM, ID_CT_AUTH_ENVELOPED_DATA, ID_DATA};
use der::asn1::OctetString;
use der::{Decode, Sequence};
use spki::AlgorithmIdentifierOwned;

use crate::format::{
    TAG_ENCRYPTED_CONTENT, TAG_EXPLICIT_0, TAG_INTEGER, TAG_OCTET_STRING, TAG_OID, TAG_SEQUENCE,
    TAG_SET,
};
use crate::gcm::{NONCE_LEN, TAG_LEN};
use crate::{ContentError, Envelope};

/// Largest recipient infos read (a publishing license with its certificates is a few KiB).
pub(crate) const MAX_RECIPIENT_INFOS_LEN: u64 = 1 << 20;
/// Largest object identifier or algorithm identifier read.
const MAX_SMALL_FIELD_LEN: u64 = 256;

/// The clear part of a protected file, as read and checked.
#[derive(Debug)]
pub(crate) struct ClearPart {
    pub(crate) envelope: Envelope,
    /// The recipient infos' DER (the encrypted header holds its digest) and its offset.
    pub(crate) recipient_infos: Vec<u8>,
    pub(crate) recipient_infos_at: u64,
    pub(crate) nonce: [u8; NONCE_LEN],
    pub(crate) ciphertext_at: u64,
    pub(crate) ciphertext_len: u64,
    pub(crate) tag: [u8; TAG_LEN],
    pub(crate) tag_at: u64,
    pub(crate) total_len: u64,
}

/// GCMParameters (RFC 5084), with the ICV length kept optional to name its default.
#[derive(Sequence)]
struct RawGcmParameters {
    nonce: OctetString,
    #[asn1(optional = "true")]
    icv_len: Option<u8>,
}

/// A cursor over the file that knows its length and names what it reads.
struct Scanner<'a, R> {
    source: &'a mut R,
    pos: u64,
    len: u64,
}

impl<'a, R: Read + Seek> Scanner<'a, R> {
    fn new(source: &'a mut R) -> Result<Self, ContentError> {
        let len = source
            .seek(SeekFrom::End(0))
            .map_err(ContentError::io("finding the protected file's length"))?;
        source
            .seek(SeekFrom::Start(0))
            .map_err(ContentError::io("reading the protected file"))?;
        Ok(Self {
            source,
            pos: 0,
            len,
        })
    }

    fn read_into(&mut self, buf: &mut [u8], what: &'static str) -> Result<(), ContentError> {
        let end = self.pos.saturating_add(buf.len() as u64);
        if end > self.len {
            return Err(ContentError::Truncated { at: self.len, what });
        }
        self.source
            .read_exact(buf)
            .map_err(|err| match err.kind() {
                io::ErrorKind::UnexpectedEof => ContentError::Truncated { at: self.len, what },
                _ => ContentError::Io {
                    what: "reading the protected file",
                    source: err,
                },
            })?;
        self.pos = end;
        Ok(())
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, ContentError> {
        let mut b = [0u8; 1];
        self.read_into(&mut b, what)?;
        Ok(b[0])
    }

    /// Reads a tag and a definite DER length; returns (tag, length, offset of the tag).
    fn header(&mut self, what: &'static str) -> Result<(u8, u64, u64), ContentError> {
        let at = self.pos;
        let tag = self.byte(what)?;
        let first = self.byte(what)?;
        let malformed = |reason: &str| ContentError::Malformed {
            at,
            what,
            reason: reason.to_owned(),
        };
        let len = match first {
            0..=0x7f => u64::from(first),
            0x80 => return Err(malformed("indefinite length (BER), not DER")),
            0x81..=0x88 => {
                let n = usize::from(first & 0x7f);
                let mut bytes = [0u8; 8];
                self.read_into(&mut bytes[8 - n..], what)?;
                let len = u64::from_be_bytes(bytes);
                if bytes[8 - n] == 0 || len < 0x80 {
                    return Err(malformed("length not in its shortest form (not DER)"));
                }
                len
            }
            _ => return Err(malformed("length of more than 8 octets")),
        };
        Ok((tag, len, at))
    }

    /// Reads a header whose tag must be `tag` and whose content must end by `parent_end`;
    /// returns (length, offset).
    fn expect(
        &mut self,
        tag: u8,
        what: &'static str,
        parent_end: u64,
    ) -> Result<(u64, u64), ContentError> {
        let (found, len, at) = self.header(what)?;
        if found != tag {
            return Err(ContentError::Malformed {
                at,
                what,
                reason: format!("expected tag 0x{tag:02x}, found 0x{found:02x}"),
            });
        }
        self.within(at, len, what, parent_end)?;
        Ok((len, at))
    }

    fn within(
        &self,
        at: u64,
        len: u64,
        what: &'static str,
        parent_end: u64,
    ) -> Result<(), ContentError> {
        if self.pos.checked_add(len).is_none_or(|end| end > parent_end) {
            return Err(ContentError::Malformed {
                at,
                what,
                reason: "its length runs past the end of the structure around it".to_owned(),
            });
        }
        Ok(())
    }

    /// Reads a whole small TLV (header included) of tag `tag`.
    fn small_tlv(
        &mut self,
        tag: u8,
        what: &'static str,
        parent_end: u64,
        cap: u64,
    ) -> Result<(Vec<u8>, u64), ContentError> {
        let (len, at) = self.expect(tag, what, parent_end)?;
        let too_long = || ContentError::Unsupported {
            at,
            what,
            found: format!("{len} octets (at most {cap} are read)"),
        };
        if len > cap {
            return Err(too_long());
        }
        let body_len = usize::try_from(len).map_err(|_| too_long())?;
        if self.pos.saturating_add(len) > self.len {
            return Err(ContentError::Truncated { at: self.len, what });
        }
        // The header is re-encoded from what was read: DER has one form of it.
        let mut der = Vec::new();
        crate::format::push_header(&mut der, tag, len);
        let body_at = der.len();
        der.resize(body_at + body_len, 0);
        self.read_into(&mut der[body_at..], what)?;
        Ok((der, at))
    }

    fn oid(
        &mut self,
        what: &'static str,
        parent_end: u64,
    ) -> Result<(ObjectIdentifier, u64), ContentError> {
        let (der, at) = self.small_tlv(TAG_OID, what, parent_end, MAX_SMALL_FIELD_LEN)?;
        let oid = ObjectIdentifier::from_der(&der).map_err(|err| ContentError::Malformed {
            at,
            what,
            reason: err.to_string(),
        })?;
        Ok((oid, at))
    }

    /// Checks that a structure read up to here ends exactly at `end`.
    fn ends_at(&self, end: u64, what: &'static str) -> Result<(), ContentError> {
        if self.pos != end {
            return Err(ContentError::Malformed {
                at: self.pos,
                what,
                reason: format!("{} unexpected octets before its end", end - self.pos),
            });
        }
        Ok(())
    }
}

pub(crate) fn der_error(at: u64, what: &'static str) -> impl Fn(der::Error) -> ContentError {
    move |err| ContentError::Malformed {
        at: at + err.position().map_or(0, |p| u64::from(u32::from(p))),
        what,
        reason: err.kind().to_string(),
    }
}

/// Reads and checks the clear part of the protected file in `source`, seeking over the
/// ciphertext.
pub(crate) fn read_clear_part<R: Read + Seek>(source: &mut R) -> Result<ClearPart, ContentError> {
    let mut s = Scanner::new(source)?;
    let (info_len, _) = s.expect(TAG_SEQUENCE, "the ContentInfo", u64::MAX)?;
    let info_end = s.pos + info_len;
    let (content_type, _) = s.oid("the ContentInfo's content type", info_end)?;
    if content_type != ID_CT_AUTH_ENVELOPED_DATA {
        return Err(ContentError::NotAuthEnvelopedData { content_type });
    }
    let (explicit_len, _) = s.expect(TAG_EXPLICIT_0, "the ContentInfo's content", info_end)?;
    let explicit_end = s.pos + explicit_len;
    let (aed_len, _) = s.expect(TAG_SEQUENCE, "the AuthEnvelopedData", explicit_end)?;
    let aed_end = s.pos + aed_len;

    let (version, at) = s.small_tlv(TAG_INTEGER, "the AuthEnvelopedData version", aed_end, 8)?;
    if version != [TAG_INTEGER, 1, 0] {
        return Err(ContentError::Unsupported {
            at,
            what: "AuthEnvelopedData version",
            found: format!("{version:02x?} (RFC 5083 has only 0)"),
        });
    }

    let recipient_infos_at = s.pos;
    let (tag, _, _) = peek_header(&mut s, "the recipient infos")?;
    if tag == TAG_EXPLICIT_0 {
        return Err(ContentError::Unsupported {
            at: recipient_infos_at,
            what: "originatorInfo",
            found: "present (protected files carry none)".to_owned(),
        });
    }
    let (recipient_infos, _) = s.small_tlv(
        TAG_SET,
        "the recipient infos",
        aed_end,
        MAX_RECIPIENT_INFOS_LEN,
    )?;
    let envelope = crate::recipients::read_recipient_infos(&recipient_infos, recipient_infos_at)?;

    let (eci_len, _) = s.expect(TAG_SEQUENCE, "the authEncryptedContentInfo", aed_end)?;
    let eci_end = s.pos + eci_len;
    let (content_type, at) = s.oid("the encrypted content type", eci_end)?;
    if content_type != ID_DATA {
        return Err(ContentError::Unsupported {
            at,
            what: "encrypted content type",
            found: format!("{content_type} (protected files encrypt id-data)"),
        });
    }
    let nonce = read_algorithm(&mut s, eci_end)?;
    let (tag, ciphertext_len, at) = s.header("the encrypted content")?;
    if tag != TAG_ENCRYPTED_CONTENT {
        return Err(if tag == TAG_ENCRYPTED_CONTENT | 0x20 {
            ContentError::Unsupported {
                at,
                what: "encrypted content",
                found: "a constructed (BER) OCTET STRING".to_owned(),
            }
        } else {
            ContentError::Malformed {
                at,
                what: "the encrypted content",
                reason: format!("expected tag 0x80, found 0x{tag:02x}"),
            }
        });
    }
    s.within(at, ciphertext_len, "the encrypted content", eci_end)?;
    let ciphertext_at = s.pos;
    let ciphertext_end = ciphertext_at + ciphertext_len;
    if ciphertext_end != eci_end {
        return Err(ContentError::Malformed {
            at: ciphertext_end,
            what: "the authEncryptedContentInfo",
            reason: format!(
                "{} unexpected octets after the ciphertext",
                eci_end - ciphertext_end
            ),
        });
    }
    if ciphertext_end > s.len {
        return Err(ContentError::Truncated {
            at: s.len,
            what: "the ciphertext",
        });
    }
    s.source
        .seek(SeekFrom::Start(ciphertext_end))
        .map_err(ContentError::io("seeking over the ciphertext"))?;
    s.pos = ciphertext_end;

    if s.pos == aed_end {
        return Err(ContentError::Malformed {
            at: aed_end,
            what: "the mac",
            reason: "the AuthEnvelopedData ends after the ciphertext, without one".to_owned(),
        });
    }
    let (tag, _, at) = peek_header(&mut s, "the mac")?;
    if tag == 0xa1 {
        return Err(ContentError::Unsupported {
            at,
            what: "authAttrs",
            found: "present (protected files carry none)".to_owned(),
        });
    }
    let (mac_len, tag_at_header) = s.expect(TAG_OCTET_STRING, "the mac", aed_end)?;
    if mac_len != TAG_LEN as u64 {
        return Err(ContentError::Unsupported {
            at: tag_at_header,
            what: "mac",
            found: format!("{mac_len} octets (AES-GCM tags here are 16)"),
        });
    }
    let tag_at = s.pos;
    let mut tag = [0u8; TAG_LEN];
    s.read_into(&mut tag, "the mac")?;
    if s.pos < aed_end {
        let (found, _, at) = peek_header(&mut s, "the AuthEnvelopedData")?;
        return Err(if found == 0xa2 {
            ContentError::Unsupported {
                at,
                what: "unauthAttrs",
                found: "present (protected files carry their license in a recipient info)"
                    .to_owned(),
            }
        } else {
            ContentError::Malformed {
                at,
                what: "the AuthEnvelopedData",
                reason: format!("unexpected field of tag 0x{found:02x} after the mac"),
            }
        });
    }
    s.ends_at(explicit_end, "the ContentInfo's content")?;
    s.ends_at(info_end, "the ContentInfo")?;
    if s.len > info_end {
        return Err(ContentError::TrailingData {
            at: info_end,
            extra: s.len - info_end,
        });
    }
    Ok(ClearPart {
        envelope,
        recipient_infos,
        recipient_infos_at,
        nonce,
        ciphertext_at,
        ciphertext_len,
        tag,
        tag_at,
        total_len: s.len,
    })
}

/// The tag and length of the next field, without consuming it.
fn peek_header<R: Read + Seek>(
    s: &mut Scanner<'_, R>,
    what: &'static str,
) -> Result<(u8, u64, u64), ContentError> {
    let start = s.pos;
    let header = s.header(what)?;
    s.source
        .seek(SeekFrom::Start(start))
        .map_err(ContentError::io("reading the protected file"))?;
    s.pos = start;
    Ok(header)
}

/// The contentEncryptionAlgorithm must be id-aes256-GCM with a 12-octet nonce and a 16-octet
/// ICV; returns the nonce.
fn read_algorithm<R: Read + Seek>(
    s: &mut Scanner<'_, R>,
    parent_end: u64,
) -> Result<[u8; NONCE_LEN], ContentError> {
    let what = "the content-encryption algorithm";
    let (der, at) = s.small_tlv(TAG_SEQUENCE, what, parent_end, MAX_SMALL_FIELD_LEN)?;
    let algorithm = AlgorithmIdentifierOwned::from_der(&der).map_err(der_error(at, what))?;
    if algorithm.oid != ID_AES_256_GCM {
        return Err(ContentError::Unsupported {
            at,
            what: "content-encryption algorithm",
            found: format!("{} (protected files use id-aes256-GCM)", algorithm.oid),
        });
    }
    let params: RawGcmParameters = algorithm
        .parameters
        .as_ref()
        .ok_or_else(|| ContentError::Malformed {
            at,
            what,
            reason: "GCMParameters are missing".to_owned(),
        })?
        .decode_as()
        .map_err(der_error(at, "the GCM parameters"))?;
    match params.icv_len {
        Some(16) => {}
        None => {
            return Err(ContentError::Unsupported {
                at,
                what: "GCM tag length",
                found: "12 octets (the default; protected files use 16)".to_owned(),
            });
        }
        Some(other) => {
            return Err(ContentError::Unsupported {
                at,
                what: "GCM tag length",
                found: format!("{other} octets (protected files use 16)"),
            });
        }
    }
    params
        .nonce
        .as_bytes()
        .try_into()
        .map_err(|_| ContentError::Unsupported {
            at,
            what: "GCM nonce length",
            found: format!("{} octets (protected files use 12)", params.nonce.len()),
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn non_der_lengths_are_refused_with_their_offset() {
        for (bytes, reason) in [
            (&[0x30, 0x80][..], "indefinite"),
            (&[0x30, 0x81, 0x10], "shortest"),
            (&[0x30, 0x82, 0x00, 0x90], "shortest"),
            (&[0x30, 0x89, 1, 1, 1, 1, 1, 1, 1, 1, 1], "more than 8"),
        ] {
            let mut cursor = io::Cursor::new(bytes.to_vec());
            let err = read_clear_part(&mut cursor).unwrap_err();
            match err {
                ContentError::Malformed {
                    at: 0, reason: r, ..
                } => {
                    assert!(r.contains(reason), "{r}");
                }
                other => panic!("{bytes:02x?}: {other}"),
            }
        }
    }

    #[test]
    fn empty_and_foreign_inputs_are_named() {
        let err = read_clear_part(&mut io::Cursor::new(Vec::new())).unwrap_err();
        assert!(
            matches!(err, ContentError::Truncated { at: 0, .. }),
            "{err}"
        );
        // A ContentInfo of type id-data.
        let mut der = vec![0x30, 0x0d, 0x06, 0x09];
        der.extend_from_slice(ID_DATA.as_bytes());
        der.extend_from_slice(&[0xa0, 0x00]);
        let err = read_clear_part(&mut io::Cursor::new(der)).unwrap_err();
        assert!(
            matches!(err, ContentError::NotAuthEnvelopedData { content_type } if content_type == ID_DATA),
            "{err}"
        );
    }
}

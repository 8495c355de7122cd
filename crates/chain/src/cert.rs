//! [`Cert`]: a certificate read once for path validation.

use std::fmt;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use der::{Decode, Encode, Header, Reader, SliceReader, Tag, TagNumber};
use rms_cert::Rights;
use rms_policy::Validity;
use sha2::{Digest, Sha256};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime};
use x509_cert::Certificate;
use x509_cert::name::Name;

use crate::error::{CertRef, ChainError, Position};
use crate::ext::{Extensions, read_extensions};
use crate::name::NormalizedName;
use crate::signature::{KeyError, PublicKey};

/// A certificate read for path validation: its DER, the decoded certificate, its SHA-256
/// fingerprint and the extensions path validation looks at, read once. Cloning is cheap (the
/// contents are shared).
///
/// Reading checks the structure only (DER, no trailing data, the extensions we process well
/// formed and not repeated, the validity window not inverted, the two signature algorithm
/// fields equal); whether the certificate is acceptable is decided when a path is verified.
///
/// UTCTime years 1950 to 1969, which RFC 5280 allows but the `der` crate refuses, are read
/// through a fallback: the validity is taken from the original bytes, and the decoded
/// [`Certificate`] returned by [`Cert::certificate`] shows such a time as 1970-01-01 00:00:00.
/// Signatures and fingerprints always use the original bytes.
#[derive(Clone)]
pub struct Cert(Arc<Inner>);

struct Inner {
    der: Vec<u8>,
    tbs: Range<usize>,
    cert: Certificate,
    fingerprint: [u8; 32],
    subject_text: String,
    subject: NormalizedName,
    issuer: NormalizedName,
    validity: Validity,
    ext: Extensions,
    key: OnceLock<Result<PublicKey, KeyError>>,
}

impl Cert {
    /// Reads a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, ChainError> {
        match Certificate::from_der(der) {
            Ok(cert) => Self::build(der.to_vec(), cert, None),
            Err(error) => match lenient::decode(der) {
                Some((cert, validity)) => Self::build(der.to_vec(), cert, Some(validity)),
                None if matches!(error.kind(), der::ErrorKind::TrailingData { .. }) => {
                    Err(ChainError::TrailingData)
                }
                None => Err(ChainError::Decode(error)),
            },
        }
    }

    /// Reads one PEM certificate (`-----BEGIN CERTIFICATE-----`).
    pub fn from_pem(text: &str) -> Result<Self, ChainError> {
        let mut certs = Self::from_pem_chain(text)?;
        match (certs.pop(), certs.is_empty()) {
            (Some(cert), true) => Ok(cert),
            (Some(_), false) => Err(ChainError::Pem("more than one certificate".into())),
            (None, _) => Err(ChainError::Pem("no CERTIFICATE block".into())),
        }
    }

    /// Reads every `CERTIFICATE` block of a PEM text, in order (other blocks are skipped).
    pub fn from_pem_chain(text: &str) -> Result<Vec<Self>, ChainError> {
        const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
        const END: &str = "-----END CERTIFICATE-----";
        let mut certs = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find(BEGIN) {
            let block = &rest[start..];
            let end = block
                .find(END)
                .ok_or_else(|| ChainError::Pem("CERTIFICATE block without its END line".into()))?
                + END.len();
            let (label, der) = der::pem::decode_vec(&block.as_bytes()[..end])
                .map_err(|e| ChainError::Pem(e.to_string()))?;
            if label != "CERTIFICATE" {
                return Err(ChainError::Pem(format!("unexpected label {label}")));
            }
            certs.push(Self::from_der(&der)?);
            rest = &block[end..];
        }
        Ok(certs)
    }

    /// Takes a decoded certificate (it is encoded again to DER, which for a certificate that
    /// was decoded from DER gives back the same bytes).
    pub fn from_certificate(cert: &Certificate) -> Result<Self, ChainError> {
        let der = cert.to_der().map_err(ChainError::Decode)?;
        Self::build(der, cert.clone(), None)
    }

    /// Like [`Cert::from_certificate`], but returns the already-read certificate `known` gives
    /// for the fingerprint, when it knows one (whose public key may already be parsed).
    /// `fingerprint`, when given, is the SHA-256 of the certificate's DER as it arrived (which
    /// saves encoding it again); a certificate found by it is used only if it is `cert`.
    pub(crate) fn from_certificate_or_known(
        cert: &Certificate,
        fingerprint: Option<&[u8; 32]>,
        known: &dyn Fn(&[u8; 32]) -> Option<Cert>,
    ) -> Result<Self, ChainError> {
        if let Some(found) = fingerprint.and_then(known)
            && found.certificate() == cert
        {
            return Ok(found);
        }
        let der = cert.to_der().map_err(ChainError::Decode)?;
        let fingerprint: [u8; 32] = Sha256::digest(&der).into();
        match known(&fingerprint) {
            Some(known) => Ok(known),
            None => Self::build(der, cert.clone(), None),
        }
    }

    fn build(
        der: Vec<u8>,
        cert: Certificate,
        validity: Option<Validity>,
    ) -> Result<Self, ChainError> {
        let tbs = lenient::layout(&der)
            .map(|layout| layout.tbs)
            .ok_or(ChainError::Decode(Tag::Sequence.value_error().into()))?;
        let tbs_cert = cert.tbs_certificate();
        let subject_text = tbs_cert.subject().to_string();
        let input = || CertRef::new(Position::Input, subject_text.clone());
        if tbs_cert.signature() != cert.signature_algorithm() {
            return Err(ChainError::SignatureAlgorithmMismatch { cert: input() });
        }
        let validity = match validity {
            Some(v) => v,
            None => rms_policy::from_x509_validity(tbs_cert.validity())
                .map_err(|_| ChainError::InvalidValidity { cert: input() })?,
        };
        let ext = read_extensions(&cert, &input)?;
        let fingerprint = Sha256::digest(&der).into();
        Ok(Self(Arc::new(Inner {
            subject: NormalizedName::new(tbs_cert.subject()),
            issuer: NormalizedName::new(tbs_cert.issuer()),
            der,
            tbs,
            fingerprint,
            subject_text,
            validity,
            ext,
            cert,
            key: OnceLock::new(),
        })))
    }

    /// The certificate's DER encoding, as given.
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.0.der
    }

    /// The decoded certificate.
    #[must_use]
    pub fn certificate(&self) -> &Certificate {
        &self.0.cert
    }

    /// SHA-256 of the DER encoding.
    #[must_use]
    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.0.fingerprint
    }

    /// The subject name.
    #[must_use]
    pub fn subject(&self) -> &Name {
        self.0.cert.tbs_certificate().subject()
    }

    /// The issuer name.
    #[must_use]
    pub fn issuer(&self) -> &Name {
        self.0.cert.tbs_certificate().issuer()
    }

    /// The validity window.
    #[must_use]
    pub fn validity(&self) -> Validity {
        self.0.validity
    }

    /// The rights granted by our rights extension, if the certificate carries it.
    #[must_use]
    pub fn rights(&self) -> Option<Rights> {
        self.0.ext.rights
    }

    /// The subject key identifier, if the certificate carries one.
    #[must_use]
    pub fn subject_key_id(&self) -> Option<&[u8]> {
        self.extensions().subject_key_id.as_deref()
    }

    /// Whether issuer and subject are the same name (RFC 5280 §7.1 comparison): a self-issued
    /// certificate, such as a self-signed root or a key-rollover certificate.
    #[must_use]
    pub fn is_self_issued(&self) -> bool {
        self.0.subject == self.0.issuer
    }

    pub(crate) fn normalized_subject(&self) -> &NormalizedName {
        &self.0.subject
    }

    pub(crate) fn normalized_issuer(&self) -> &NormalizedName {
        &self.0.issuer
    }

    pub(crate) fn tbs_der(&self) -> &[u8] {
        self.0.der.get(self.0.tbs.clone()).unwrap_or_default()
    }

    pub(crate) fn extensions(&self) -> &Extensions {
        &self.0.ext
    }

    pub(crate) fn same_key_and_subject(&self, other: &Cert) -> bool {
        self.0.subject == other.0.subject
            && self.0.cert.tbs_certificate().subject_public_key_info()
                == other.0.cert.tbs_certificate().subject_public_key_info()
    }

    pub(crate) fn public_key(&self) -> Result<&PublicKey, KeyError> {
        self.0
            .key
            .get_or_init(|| {
                PublicKey::from_spki(self.0.cert.tbs_certificate().subject_public_key_info())
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    pub(crate) fn at(&self, position: Position) -> CertRef {
        CertRef::new(position, self.0.subject_text.clone())
    }
}

impl TryFrom<&Certificate> for Cert {
    type Error = ChainError;

    fn try_from(cert: &Certificate) -> Result<Self, Self::Error> {
        Self::from_certificate(cert)
    }
}

impl PartialEq for Cert {
    fn eq(&self, other: &Self) -> bool {
        self.0.fingerprint == other.0.fingerprint
    }
}

impl Eq for Cert {}

impl std::hash::Hash for Cert {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.fingerprint.hash(state);
    }
}

impl fmt::Debug for Cert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fp: String = self.0.fingerprint[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        f.debug_struct("Cert")
            .field("subject", &self.0.subject_text)
            .field("fingerprint", &format_args!("{fp}…"))
            .finish()
    }
}

/// Reading certificates whose validity uses UTCTime years 1950 to 1969.
mod lenient {
    use super::*;

    /// Where the parts we need sit in a certificate's DER.
    pub(super) struct Layout {
        pub(super) tbs: Range<usize>,
        pub(super) validity: Range<usize>,
    }

    /// Finds the TBSCertificate and its validity in `der` without decoding anything else.
    pub(super) fn layout(der: &[u8]) -> Option<Layout> {
        let mut reader = SliceReader::new(der).ok()?;
        let outer = Header::decode(&mut reader).ok()?;
        if outer.tag() != Tag::Sequence {
            return None;
        }
        let tbs_start = offset(&reader)?;
        let tbs_header = Header::decode(&mut reader).ok()?;
        if tbs_header.tag() != Tag::Sequence {
            return None;
        }
        let tbs_end = offset(&reader)?.checked_add(usize::try_from(tbs_header.length()).ok()?)?;
        let version = Tag::ContextSpecific {
            constructed: true,
            number: TagNumber(0),
        };
        if Tag::peek(&reader).ok()? == version {
            reader.tlv_bytes().ok()?;
        }
        for _serial_signature_issuer in 0..3 {
            reader.tlv_bytes().ok()?;
        }
        let validity_start = offset(&reader)?;
        reader.tlv_bytes().ok()?;
        let validity_end = offset(&reader)?;
        if tbs_end > der.len() {
            return None;
        }
        Some(Layout {
            tbs: tbs_start..tbs_end,
            validity: validity_start..validity_end,
        })
    }

    fn offset(reader: &SliceReader<'_>) -> Option<usize> {
        usize::try_from(reader.position()).ok()
    }

    /// Decodes a certificate that `der` refused only because a UTCTime of its validity lies in
    /// 1950–1969: such times are replaced by a same-length placeholder for decoding, and the
    /// true validity is read from the original bytes.
    pub(super) fn decode(der: &[u8]) -> Option<(Certificate, Validity)> {
        let layout = layout(der)?;
        let mut patched = der.to_vec();
        let validity = der.get(layout.validity.clone())?;
        let mut reader = SliceReader::new(validity).ok()?;
        let header = Header::decode(&mut reader).ok()?;
        if header.tag() != Tag::Sequence {
            return None;
        }
        let mut times = [OffsetDateTime::UNIX_EPOCH; 2];
        let mut any_patched = false;
        for time in &mut times {
            let header = Header::decode(&mut reader).ok()?;
            let value_offset = offset(&reader)?;
            let len = usize::try_from(header.length()).ok()?;
            let value = reader.read_slice(header.length()).ok()?;
            let (parsed, pre_1970) = match header.tag() {
                Tag::UtcTime => parse_utc_time(value)?,
                Tag::GeneralizedTime => (parse_generalized_time(value)?, false),
                _ => return None,
            };
            *time = parsed;
            if pre_1970 {
                let at = layout.validity.start.checked_add(value_offset)?;
                patched
                    .get_mut(at..at.checked_add(len)?)?
                    .copy_from_slice(b"700101000000Z");
                any_patched = true;
            }
        }
        if !any_patched {
            return None;
        }
        let cert = Certificate::from_der(&patched).ok()?;
        let validity = Validity::new(times[0], times[1]).ok()?;
        Some((cert, validity))
    }

    /// `YYMMDDHHMMSSZ`, years 50–99 meaning 19xx (RFC 5280 §4.1.2.5.1). Also says whether the
    /// year lies before 1970.
    fn parse_utc_time(value: &[u8]) -> Option<(OffsetDateTime, bool)> {
        if value.len() != 13 || value.get(12) != Some(&b'Z') {
            return None;
        }
        let yy = i32::from(two_digits(value, 0)?);
        let year = if yy >= 50 { 1900 + yy } else { 2000 + yy };
        Some((datetime(year, &value[2..12])?, year < 1970))
    }

    /// `YYYYMMDDHHMMSSZ` (RFC 5280 §4.1.2.5.2).
    fn parse_generalized_time(value: &[u8]) -> Option<OffsetDateTime> {
        if value.len() != 15 || value.get(14) != Some(&b'Z') {
            return None;
        }
        let year = i32::from(two_digits(value, 0)?) * 100 + i32::from(two_digits(value, 2)?);
        datetime(year, &value[4..14])
    }

    /// `MMDDHHMMSS` after the year.
    fn datetime(year: i32, rest: &[u8]) -> Option<OffsetDateTime> {
        let month = Month::try_from(two_digits(rest, 0)?).ok()?;
        let date = Date::from_calendar_date(year, month, two_digits(rest, 2)?).ok()?;
        let time = time::Time::from_hms(
            two_digits(rest, 4)?,
            two_digits(rest, 6)?,
            two_digits(rest, 8)?,
        )
        .ok()?;
        Some(PrimitiveDateTime::new(date, time).assume_utc())
    }

    fn two_digits(bytes: &[u8], at: usize) -> Option<u8> {
        let tens = bytes.get(at)?.checked_sub(b'0').filter(|d| *d < 10)?;
        let units = bytes.get(at + 1)?.checked_sub(b'0').filter(|d| *d < 10)?;
        Some(tens * 10 + units)
    }

    #[cfg(test)]
    mod tests {
        #![allow(clippy::unwrap_used)]
        use super::*;
        use time::macros::datetime;

        #[test]
        fn utc_times_cover_1950_to_2049() {
            assert_eq!(
                parse_utc_time(b"500101120100Z").unwrap(),
                (datetime!(1950-01-01 12:01 UTC), true)
            );
            assert_eq!(
                parse_utc_time(b"491231235959Z").unwrap(),
                (datetime!(2049-12-31 23:59:59 UTC), false)
            );
            assert!(parse_utc_time(b"5001011201Z").is_none());
            assert!(parse_utc_time(b"501301120100Z").is_none());
            assert_eq!(
                parse_generalized_time(b"20500101000000Z").unwrap(),
                datetime!(2050-01-01 00:00 UTC)
            );
        }
    }
}

//! Strict DER decoding (trailing data is its own error) and single-block PEM, shared by every
//! type of the crate; plus the public helpers for X.509 certificates.

use der::asn1::AnyRef;
use der::pem::LineEnding;
use der::{Decode, Encode, Header, Reader, SliceReader};
use x509_cert::Certificate;

use crate::CertError;

/// Why strict decoding failed.
pub(crate) enum Strict {
    /// Not DER, or not the expected structure.
    Der(der::Error),
    /// A complete value followed by `extra` bytes.
    Trailing(usize),
}

/// Decodes exactly one `T` from `bytes`, with nothing after it.
pub(crate) fn decode_strict<'a, T>(bytes: &'a [u8]) -> Result<T, Strict>
where
    T: Decode<'a, Error = der::Error>,
{
    let mut reader = SliceReader::new(bytes).map_err(Strict::Der)?;
    let value = T::decode(&mut reader).map_err(Strict::Der)?;
    let extra = usize::try_from(u32::from(reader.remaining_len())).unwrap_or(usize::MAX);
    if extra != 0 {
        return Err(Strict::Trailing(extra));
    }
    Ok(value)
}

/// [`decode_strict`] with the errors as [`CertError`]s naming `what`.
pub(crate) fn decode<'a, T>(bytes: &'a [u8], what: &'static str) -> Result<T, CertError>
where
    T: Decode<'a, Error = der::Error>,
{
    decode_strict(bytes).map_err(|err| match err {
        Strict::Der(source) => CertError::Decode { what, source },
        Strict::Trailing(extra) => CertError::TrailingData { what, extra },
    })
}

/// The DER bytes inside one PEM block labelled `label`.
pub(crate) fn pem_to_der(text: &str, label: &str) -> Result<Vec<u8>, der::Error> {
    let (found, der) = der::pem::decode_vec(text.trim().as_bytes())?;
    if found != label {
        return Err(der::Error::from(der::ErrorKind::Pem(
            der::pem::Error::UnexpectedTypeLabel {
                expected: label_static(label),
            },
        )));
    }
    Ok(der)
}

/// The labels we use, as `'static` strings for error values.
fn label_static(label: &str) -> &'static str {
    const LABELS: [&str; 7] = [
        "CERTIFICATE",
        "CERTIFICATE REQUEST",
        "CMS",
        "PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "X509 CRL",
        "RMS RENEWAL REQUEST",
    ];
    LABELS.into_iter().find(|l| *l == label).unwrap_or("")
}

/// The exact DER of the first field of the SEQUENCE in `der`: the to-be-signed part of a
/// signed structure (a request's CertificationRequestInfo, a CRL's TBSCertList), which the
/// signature covers byte for byte.
pub(crate) fn raw_first_field(der: &[u8]) -> Result<Vec<u8>, der::Error> {
    let mut reader = SliceReader::new(der)?;
    let _outer = Header::decode(&mut reader)?;
    let first = AnyRef::decode(&mut reader)?;
    first.to_der()
}

/// One PEM block with `label` around `der`, LF line endings.
pub(crate) fn der_to_pem(
    label: &'static str,
    der: &[u8],
    what: &'static str,
) -> Result<String, CertError> {
    der::pem::encode_string(label, LineEnding::LF, der).map_err(|source| CertError::Encode {
        what,
        source: source.into(),
    })
}

/// DER-encodes `value`.
pub(crate) fn encode<T: Encode>(value: &T, what: &'static str) -> Result<Vec<u8>, CertError> {
    value
        .to_der()
        .map_err(|source| CertError::Encode { what, source })
}

/// Reads an X.509 certificate from DER, refusing trailing data. Never panics.
pub fn certificate_from_der(der: &[u8]) -> Result<Certificate, CertError> {
    decode(der, "certificate")
}

/// Reads an X.509 certificate from one PEM block (`CERTIFICATE`). Never panics.
pub fn certificate_from_pem(pem: &str) -> Result<Certificate, CertError> {
    let der = pem_to_der(pem, "CERTIFICATE").map_err(|source| CertError::Decode {
        what: "certificate PEM",
        source,
    })?;
    certificate_from_der(&der)
}

/// The DER encoding of a certificate.
pub fn certificate_to_der(certificate: &Certificate) -> Result<Vec<u8>, CertError> {
    encode(certificate, "certificate")
}

/// A certificate as PEM (`CERTIFICATE`), as OpenSSL writes it.
pub fn certificate_to_pem(certificate: &Certificate) -> Result<String, CertError> {
    der_to_pem(
        "CERTIFICATE",
        &certificate_to_der(certificate)?,
        "certificate",
    )
}

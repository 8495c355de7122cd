//! Renewal requests: a server asks its issuer for a new SLC (renewal, same key; or rekey, new
//! key), proving that it holds the key of its current SLC. The ASN.1 is in
//! `docs/certificates.md`:
//!
//! ```text
//! RenewalRequest ::= SEQUENCE {
//!   tbs SEQUENCE {
//!     version INTEGER (0),
//!     currentSerial INTEGER,
//!     currentIssuer Name,
//!     request CertificationRequest,
//!     requestedAt GeneralizedTime },
//!   signatureAlgorithm AlgorithmIdentifier,
//!   signature BIT STRING }
//! ```

use der::asn1::{Any, BitString, GeneralizedTime};
use der::{Decode, Sequence};
use rms_policy::{from_generalized_time, to_generalized_time};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::name::Name;

use crate::codec::{decode, der_to_pem, encode, pem_to_der, raw_first_field};
use crate::verify::{checked_rsa_key, verify_signature};
use crate::{
    CertError, CheckedRequest, EnrollmentRequest, RequestError, SerialNumber, ServerIdentity,
    Signer,
};

/// The PEM label of a renewal request.
const PEM_LABEL: &str = "RMS RENEWAL REQUEST";
/// The only version defined.
const VERSION: u8 = 0;

#[derive(Sequence)]
struct TbsRenewal {
    version: u8,
    current_serial: x509_cert::serial_number::SerialNumber,
    current_issuer: Name,
    // Kept as the TLV received so the inner request's own signature is checked over its own
    // bytes; `EnrollmentRequest::from_der` reads it.
    request: Any,
    requested_at: GeneralizedTime,
}

#[derive(Sequence)]
struct RenewalAsn1 {
    tbs: TbsRenewal,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: BitString,
}

/// A request to renew or rekey an SLC: a PKCS#10 [`EnrollmentRequest`] for the new SLC (signed
/// by the key it asks to certify, which may be the current key or a new one), wrapped with the
/// serial number and issuer of the current SLC and signed by the current SLC's key.
///
/// Decoding checks the structure only; [`verify`](Self::verify) against the current SLC gives
/// the [`CheckedRenewal`] an issuer needs. In and out as DER or PEM (`RMS RENEWAL REQUEST`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewalRequest {
    der: Vec<u8>,
    /// The DER of `tbs` exactly as received: what the outer signature covers.
    tbs_der: Vec<u8>,
    current_serial: SerialNumber,
    current_issuer: Name,
    request: EnrollmentRequest,
    requested_at: OffsetDateTime,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: Vec<u8>,
}

impl RenewalRequest {
    /// Makes a renewal request for `current_slc`, signed by `current_key` (its key: refused
    /// otherwise with [`CertError::SignerMismatch`]), asking for a new SLC from `new_request`
    /// (made with [`EnrollmentRequest::new`] for the same identity, with the current key for a
    /// renewal or a new key for a rekey), at time `at`.
    pub fn new(
        current_slc: &Certificate,
        current_key: &dyn Signer,
        new_request: &EnrollmentRequest,
        at: OffsetDateTime,
    ) -> Result<Self, CertError> {
        let tbs_cert = current_slc.tbs_certificate();
        if current_key.public_key() != *tbs_cert.subject_public_key_info() {
            return Err(CertError::SignerMismatch {
                subject: tbs_cert.subject().to_string(),
            });
        }
        let request =
            Any::from_der(&new_request.to_der()?).map_err(|source| CertError::Encode {
                what: "renewal request",
                source,
            })?;
        let tbs = TbsRenewal {
            version: VERSION,
            current_serial: tbs_cert.serial_number().clone(),
            current_issuer: tbs_cert.issuer().clone(),
            request,
            requested_at: to_generalized_time(at)?,
        };
        let tbs_der = encode(&tbs, "renewal request")?;
        let signature = BitString::from_bytes(&current_key.sign(&tbs_der)?).map_err(|source| {
            CertError::Encode {
                what: "renewal request signature",
                source,
            }
        })?;
        let outer = RenewalAsn1 {
            tbs,
            signature_algorithm: current_key.algorithm(),
            signature,
        };
        Self::from_der(&encode(&outer, "renewal request")?)
    }

    /// Reads a renewal request from DER: exactly one `RenewalRequest` of version 0 whose
    /// currentSerial is a valid serial number and whose request is a PKCS#10 request. Checks no
    /// signature. Never panics.
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        let outer: RenewalAsn1 = decode(der, "renewal request")?;
        let tbs_der = raw_first_field(der).map_err(|source| CertError::Decode {
            what: "renewal request",
            source,
        })?;
        let invalid = |reason: String| CertError::InvalidRenewal { reason };
        let tbs = outer.tbs;
        if tbs.version != VERSION {
            return Err(invalid(format!("version {} is not 0", tbs.version)));
        }
        let current_serial = SerialNumber::from_x509(&tbs.current_serial)
            .map_err(|err| invalid(format!("currentSerial: {err}")))?;
        let request_der = encode(&tbs.request, "renewal request")?;
        let request = EnrollmentRequest::from_der(&request_der).map_err(|err| match err {
            CertError::Request(inner) => CertError::RenewalInnerRequest(inner),
            other => other,
        })?;
        let signature = outer
            .signature
            .as_bytes()
            .ok_or_else(|| invalid("the signature BIT STRING has unused bits".to_owned()))?
            .to_vec();
        Ok(Self {
            der: der.to_vec(),
            tbs_der,
            current_serial,
            current_issuer: tbs.current_issuer,
            request,
            requested_at: from_generalized_time(&tbs.requested_at),
            signature_algorithm: outer.signature_algorithm,
            signature,
        })
    }

    /// Reads a renewal request from one PEM block (`RMS RENEWAL REQUEST`).
    pub fn from_pem(pem: &str) -> Result<Self, CertError> {
        let der = pem_to_der(pem, PEM_LABEL).map_err(|source| CertError::Decode {
            what: "renewal request PEM",
            source,
        })?;
        Self::from_der(&der)
    }

    /// The request as DER, exactly as made or received.
    pub fn to_der(&self) -> Result<Vec<u8>, CertError> {
        Ok(self.der.clone())
    }

    /// The request as PEM (`RMS RENEWAL REQUEST`).
    pub fn to_pem(&self) -> Result<String, CertError> {
        der_to_pem(PEM_LABEL, &self.der, "renewal request")
    }

    /// Serial number of the SLC to renew.
    #[must_use]
    pub fn current_serial(&self) -> &SerialNumber {
        &self.current_serial
    }

    /// Issuer of the SLC to renew.
    #[must_use]
    pub fn current_issuer(&self) -> &Name {
        &self.current_issuer
    }

    /// The PKCS#10 request for the new SLC (not yet checked).
    #[must_use]
    pub fn request(&self) -> &EnrollmentRequest {
        &self.request
    }

    /// When the requester says it made the request (its freshness is the issuer's policy).
    #[must_use]
    pub fn requested_at(&self) -> OffsetDateTime {
        self.requested_at
    }

    /// The algorithm of the outer signature.
    #[must_use]
    pub fn signature_algorithm(&self) -> &AlgorithmIdentifierOwned {
        &self.signature_algorithm
    }

    /// Checks the request against `current_slc`, the SLC it asks to renew (which the issuer
    /// looks up by [`current_serial`](Self::current_serial)), each failure its own error:
    ///
    /// 1. the serial number and issuer name are those of `current_slc`
    ///    ([`CertError::RenewalCertificateMismatch`]);
    /// 2. the outer signature verifies with `current_slc`'s public key: the requester holds the
    ///    current key ([`CertError::RenewalNotSignedByCurrentKey`]);
    /// 3. the inner request passes [`EnrollmentRequest::check`], so its own key signed it
    ///    ([`CertError::RenewalInnerRequest`]);
    /// 4. it asks for the identity `current_slc` certifies: same subject, role, server id and
    ///    service URL ([`CertError::RenewalIdentityChanged`]).
    ///
    /// Whether the current SLC may still be renewed (expired, revoked, too early) and how fresh
    /// [`requested_at`](Self::requested_at) must be are the issuer's policy, not checked here.
    pub fn verify(&self, current_slc: &Certificate) -> Result<CheckedRenewal, CertError> {
        let tbs = current_slc.tbs_certificate();
        let subject = tbs.subject().to_string();
        let serial = SerialNumber::from_x509(tbs.serial_number());
        if serial.as_ref().ok() != Some(&self.current_serial)
            || *tbs.issuer() != self.current_issuer
        {
            return Err(CertError::RenewalCertificateMismatch {
                subject,
                requested_serial: self.current_serial.to_string(),
                requested_issuer: self.current_issuer.to_string(),
                current_serial: serial.map_or_else(|e| e.to_string(), |s| s.to_string()),
                current_issuer: tbs.issuer().to_string(),
            });
        }
        let not_signed = |reason: String| CertError::RenewalNotSignedByCurrentKey {
            subject: subject.clone(),
            reason,
        };
        let key = checked_rsa_key(tbs.subject_public_key_info())
            .map_err(|err| not_signed(format!("the SLC's key is not usable: {err}")))?;
        verify_signature(
            &key,
            &self.signature_algorithm,
            &self.tbs_der,
            &self.signature,
        )
        .map_err(|err| {
            not_signed(match err {
                RequestError::BadSignature => "the signature does not verify".to_owned(),
                other => other.to_string(),
            })
        })?;
        let checked = self
            .request
            .check()
            .map_err(CertError::RenewalInnerRequest)?;
        check_same_identity(
            &ServerIdentity::from_certificate(current_slc)?,
            checked.identity(),
        )?;
        Ok(CheckedRenewal {
            rekey: checked.public_key() != tbs.subject_public_key_info(),
            request: checked,
            current_serial: self.current_serial.clone(),
            requested_at: self.requested_at,
        })
    }
}

/// Refuses a request whose identity differs from the current SLC's in any field.
fn check_same_identity(
    current: &ServerIdentity,
    requested: &ServerIdentity,
) -> Result<(), CertError> {
    // The subject is compared as a Name, not as text: two encodings may print alike.
    let differences = [
        (
            "subject",
            current.subject() != requested.subject(),
            current.subject().to_string(),
            requested.subject().to_string(),
        ),
        (
            "role",
            current.role() != requested.role(),
            current.role().to_string(),
            requested.role().to_string(),
        ),
        (
            "server id",
            current.id() != requested.id(),
            current.id().to_string(),
            requested.id().to_string(),
        ),
        (
            "service URL",
            current.url() != requested.url(),
            current.url().to_owned(),
            requested.url().to_owned(),
        ),
    ];
    match differences.into_iter().find(|(_, differs, _, _)| *differs) {
        Some((field, _, was, asked)) => Err(CertError::RenewalIdentityChanged {
            subject: current.subject().to_string(),
            field,
            current: was,
            requested: asked,
        }),
        None => Ok(()),
    }
}

/// A renewal request that passed [`RenewalRequest::verify`]: the requester holds the current
/// SLC's key, and asks for the same identity. Issue the new SLC from
/// [`request`](Self::request) with [`Issuer::issue_slc`](crate::Issuer::issue_slc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRenewal {
    request: CheckedRequest,
    rekey: bool,
    current_serial: SerialNumber,
    requested_at: OffsetDateTime,
}

impl CheckedRenewal {
    /// Whether the new SLC certifies a new key (a rekey) rather than the current one.
    #[must_use]
    pub fn is_rekey(&self) -> bool {
        self.rekey
    }

    /// The checked request for the new SLC.
    #[must_use]
    pub fn request(&self) -> &CheckedRequest {
        &self.request
    }

    /// Serial number of the SLC being renewed (which the new one supersedes).
    #[must_use]
    pub fn current_serial(&self) -> &SerialNumber {
        &self.current_serial
    }

    /// When the requester says it made the request.
    #[must_use]
    pub fn requested_at(&self) -> OffsetDateTime {
        self.requested_at
    }
}

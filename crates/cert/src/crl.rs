//! Certificate revocation lists: X.509 CRL v2 (RFC 5280 §5) signed by an issuer, with the
//! revocation reason of each entry. Decoding checks the structure only; the signature is
//! verified by `rms-chain` when a list is added to its revocations.

use std::collections::HashSet;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280::{
    ID_CE_AUTHORITY_KEY_IDENTIFIER, ID_CE_CRL_NUMBER, ID_CE_CRL_REASONS, ID_CE_INVALIDITY_DATE,
};
use der::Decode;
use der::asn1::{BitString, OctetString};
use rms_policy::{from_x509_time, to_x509_time};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert::Version;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::CrlNumber;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlReason, KeyUsage};
use x509_cert::name::Name;

use crate::codec::{decode, der_to_pem, encode, pem_to_der, raw_first_field};
use crate::profile::subject_key_id_of;
use crate::{CertError, Issuer, RevocationReason, RevokedEntry, SerialNumber};

/// The PEM label of a CRL, as OpenSSL writes it.
const PEM_LABEL: &str = "X509 CRL";

impl Issuer {
    /// Issues a certificate revocation list (X.509 CRL v2) listing `entries`, signed with this
    /// issuer's key and signature algorithm, named after its subject, numbered `crl_number`, valid
    /// from `this_update` to `next_update`. It carries the cRLNumber and authorityKeyIdentifier
    /// (the issuer certificate's subject key identifier) extensions, and each entry a reasonCode
    /// unless the reason is unspecified.
    ///
    /// Refuses: an issuer whose keyUsage does not allow cRLSign (a licensing server, which
    /// issues no certificates); an issuer not valid at `this_update`; `next_update` not after
    /// `this_update`; an entry revoked after `this_update`; a serial number listed twice.
    pub fn issue_crl(
        &self,
        entries: &[RevokedEntry],
        crl_number: u64,
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> Result<RevocationList, CertError> {
        let subject = self.subject().to_string();
        let can_sign = self
            .certificate()
            .tbs_certificate()
            .get_extension::<KeyUsage>()
            .map_err(|_| CertError::IssuerCertificate {
                subject: subject.clone(),
                reason: "unreadable keyUsage",
            })?
            .is_none_or(|(_, usage)| usage.crl_sign());
        if !can_sign {
            return Err(CertError::IssuerCertificate {
                subject,
                reason: "its keyUsage does not allow cRLSign, so it cannot sign revocation lists",
            });
        }
        self.check_valid_at(this_update)?;
        if next_update <= this_update {
            return Err(CertError::CrlInput {
                reason: format!("nextUpdate {next_update} is not after thisUpdate {this_update}"),
            });
        }
        let mut seen = HashSet::new();
        let mut revoked = Vec::with_capacity(entries.len());
        for entry in entries {
            if !seen.insert(&entry.serial) {
                return Err(CertError::CrlInput {
                    reason: format!("serial {} is listed twice", entry.serial),
                });
            }
            if entry.revoked_at > this_update {
                return Err(CertError::CrlInput {
                    reason: format!(
                        "serial {} is revoked at {}, after thisUpdate {this_update}",
                        entry.serial, entry.revoked_at
                    ),
                });
            }
            // RFC 5280 §5.3.1: the reasonCode unspecified SHOULD be absent.
            let extensions = match entry.reason {
                RevocationReason::Unspecified => None,
                reason => Some(vec![extension(
                    ID_CE_CRL_REASONS,
                    encode(&reason.to_x509(), "reasonCode")?,
                )?]),
            };
            revoked.push(RevokedCert {
                serial_number: entry.serial.to_x509()?,
                revocation_date: to_x509_time(entry.revoked_at)?,
                crl_entry_extensions: extensions,
            });
        }
        let number = CrlNumber::try_from(crl_number).map_err(|source| CertError::Encode {
            what: "cRLNumber",
            source,
        })?;
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(
                OctetString::new(subject_key_id_of(self.certificate())?).map_err(|source| {
                    CertError::Encode {
                        what: "authority key identifier",
                        source,
                    }
                })?,
            ),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        };
        let signer = self.signer();
        let tbs = TbsCertList {
            version: Version::V2,
            signature: signer.algorithm(),
            issuer: self.subject().clone(),
            this_update: to_x509_time(this_update)?,
            next_update: Some(to_x509_time(next_update)?),
            // RFC 5280 §5.1.2.6: with no revoked certificate the list is absent, not empty.
            revoked_certificates: (!revoked.is_empty()).then_some(revoked),
            crl_extensions: Some(vec![
                extension(ID_CE_CRL_NUMBER, encode(&number, "cRLNumber")?)?,
                extension(
                    ID_CE_AUTHORITY_KEY_IDENTIFIER,
                    encode(&aki, "authority key identifier")?,
                )?,
            ]),
        };
        let tbs_der = encode(&tbs, "revocation list")?;
        let signature =
            BitString::from_bytes(&signer.sign(&tbs_der)?).map_err(|source| CertError::Encode {
                what: "revocation list signature",
                source,
            })?;
        let list = CertificateList {
            signature_algorithm: tbs.signature.clone(),
            tbs_cert_list: tbs,
            signature,
        };
        RevocationList::from_der(&encode(&list, "revocation list")?)
    }
}

fn extension(extn_id: ObjectIdentifier, value: Vec<u8>) -> Result<Extension, CertError> {
    Ok(Extension {
        extn_id,
        critical: false,
        extn_value: OctetString::new(value).map_err(|source| CertError::Encode {
            what: "extension value",
            source,
        })?,
    })
}

/// A certificate revocation list, decoded and structurally checked (not its signature: see
/// `rms_chain::Revocations`).
///
/// Accepted: X.509 CRL v2 with nextUpdate, a cRLNumber that fits 64 bits, entries with positive
/// serial numbers listed once, reasonCodes among [`RevocationReason`]. Refused, each with an
/// [`CertError::InvalidCrl`] that says where: other versions, an unknown critical extension
/// of the list (delta lists and issuing distribution points are not supported) or of an entry
/// (indirect lists are not supported), a repeated extension, certificateHold. In and out as
/// DER or PEM (`X509 CRL`, as OpenSSL writes it). Decoding never panics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationList {
    der: Vec<u8>,
    tbs_der: Vec<u8>,
    crl: CertificateList,
    entries: Vec<RevokedEntry>,
    crl_number: u64,
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    authority_key_id: Option<Vec<u8>>,
}

fn invalid(reason: impl Into<String>) -> CertError {
    CertError::InvalidCrl {
        reason: reason.into(),
    }
}

impl RevocationList {
    /// Reads a CRL from DER, refusing trailing data and what the type does not accept.
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        let crl: CertificateList = decode(der, "revocation list")?;
        let tbs_der = raw_first_field(der).map_err(|source| CertError::Decode {
            what: "revocation list",
            source,
        })?;
        let tbs = &crl.tbs_cert_list;
        if tbs.version != Version::V2 {
            return Err(invalid(format!(
                "version {:?} is not v2 (the only version with extensions)",
                tbs.version
            )));
        }
        if tbs.signature != crl.signature_algorithm {
            return Err(invalid(
                "signatureAlgorithm differs from the signature field of tbsCertList",
            ));
        }
        if crl.signature.as_bytes().is_none() {
            return Err(invalid("the signature BIT STRING has unused bits"));
        }
        let this_update = from_x509_time(&tbs.this_update);
        let next_update = from_x509_time(
            tbs.next_update
                .as_ref()
                .ok_or_else(|| invalid("nextUpdate is missing (RFC 5280 §5.1.2.5 requires it)"))?,
        );
        if next_update < this_update {
            return Err(invalid(format!(
                "nextUpdate {next_update} is before thisUpdate {this_update}"
            )));
        }
        let (crl_number, authority_key_id) = list_extensions(tbs)?;
        let mut entries = Vec::new();
        let mut seen = HashSet::new();
        for (index, revoked) in tbs.revoked_certificates.iter().flatten().enumerate() {
            let entry = read_entry(index, revoked)?;
            if !seen.insert(entry.serial.clone()) {
                return Err(invalid(format!(
                    "entry {index}: serial {} is listed twice",
                    entry.serial
                )));
            }
            entries.push(entry);
        }
        Ok(Self {
            der: der.to_vec(),
            tbs_der,
            entries,
            crl_number,
            this_update,
            next_update,
            authority_key_id,
            crl,
        })
    }

    /// Reads a CRL from one PEM block (`X509 CRL`).
    pub fn from_pem(pem: &str) -> Result<Self, CertError> {
        let der = pem_to_der(pem, PEM_LABEL).map_err(|source| CertError::Decode {
            what: "revocation list PEM",
            source,
        })?;
        Self::from_der(&der)
    }

    /// The CRL as DER, exactly as made or received.
    pub fn to_der(&self) -> Result<Vec<u8>, CertError> {
        Ok(self.der.clone())
    }

    /// The CRL as PEM (`X509 CRL`).
    pub fn to_pem(&self) -> Result<String, CertError> {
        der_to_pem(PEM_LABEL, &self.der, "revocation list")
    }

    /// The revoked certificates, in the order listed.
    #[must_use]
    pub fn entries(&self) -> &[RevokedEntry] {
        &self.entries
    }

    /// The entry for `serial`, if the list revokes it.
    #[must_use]
    pub fn entry(&self, serial: &SerialNumber) -> Option<&RevokedEntry> {
        self.entries.iter().find(|e| e.serial == *serial)
    }

    /// When the list was issued.
    #[must_use]
    pub fn this_update(&self) -> OffsetDateTime {
        self.this_update
    }

    /// When the next list is due; after it this one is stale.
    #[must_use]
    pub fn next_update(&self) -> OffsetDateTime {
        self.next_update
    }

    /// The list's number: a later list of the same issuer has a larger one.
    #[must_use]
    pub fn crl_number(&self) -> u64 {
        self.crl_number
    }

    /// The issuer's name.
    #[must_use]
    pub fn issuer(&self) -> &Name {
        &self.crl.tbs_cert_list.issuer
    }

    /// The authorityKeyIdentifier's key identifier, when present: the subject key identifier of
    /// the certificate whose key signed the list.
    #[must_use]
    pub fn authority_key_id(&self) -> Option<&[u8]> {
        self.authority_key_id.as_deref()
    }

    /// The signature algorithm.
    #[must_use]
    pub fn signature_algorithm(&self) -> &AlgorithmIdentifierOwned {
        &self.crl.signature_algorithm
    }

    /// The signature value (checked at decoding to be whole octets).
    #[must_use]
    pub fn signature(&self) -> &[u8] {
        self.crl.signature.as_bytes().unwrap_or_default()
    }

    /// The DER of the TBSCertList exactly as received: what the signature covers.
    #[must_use]
    pub fn tbs_der(&self) -> &[u8] {
        &self.tbs_der
    }

    /// The decoded X.509 structure.
    #[must_use]
    pub fn as_certificate_list(&self) -> &CertificateList {
        &self.crl
    }
}

/// The cRLNumber and the authority key identifier of a list, its extensions checked.
fn list_extensions(tbs: &TbsCertList) -> Result<(u64, Option<Vec<u8>>), CertError> {
    let extensions = tbs.crl_extensions.as_deref().unwrap_or_default();
    refuse_repeated(extensions, "the list")?;
    let mut number = None;
    let mut key_id = None;
    for e in extensions {
        let value = e.extn_value.as_bytes();
        match e.extn_id {
            ID_CE_CRL_NUMBER => {
                let n = CrlNumber::from_der(value)
                    .map_err(|err| invalid(format!("cRLNumber cannot be read: {err}")))?;
                number = Some(u64_of(n.0.as_bytes()).ok_or_else(|| {
                    invalid("cRLNumber does not fit 64 bits (larger numbers are not supported)")
                })?);
            }
            ID_CE_AUTHORITY_KEY_IDENTIFIER => {
                let aki = AuthorityKeyIdentifier::from_der(value).map_err(|err| {
                    invalid(format!("authorityKeyIdentifier cannot be read: {err}"))
                })?;
                key_id = aki.key_identifier.map(|id| id.as_bytes().to_vec());
            }
            oid if e.critical => {
                return Err(invalid(format!(
                    "unsupported critical extension {oid} on the list (delta lists and issuing \
                     distribution points are not supported)"
                )));
            }
            _ => {}
        }
    }
    let number =
        number.ok_or_else(|| invalid("cRLNumber is missing (RFC 5280 §5.2.3 requires it)"))?;
    Ok((number, key_id))
}

/// Entry `index` of a list, its extensions checked.
fn read_entry(index: usize, revoked: &RevokedCert) -> Result<RevokedEntry, CertError> {
    let serial = SerialNumber::from_x509(&revoked.serial_number)
        .map_err(|err| invalid(format!("entry {index}: {err}")))?;
    let extensions = revoked.crl_entry_extensions.as_deref().unwrap_or_default();
    refuse_repeated(extensions, &format!("entry {index} (serial {serial})"))?;
    let mut reason = RevocationReason::Unspecified;
    for e in extensions {
        match e.extn_id {
            ID_CE_CRL_REASONS => {
                let code = CrlReason::from_der(e.extn_value.as_bytes()).map_err(|err| {
                    invalid(format!(
                        "entry {index} (serial {serial}): reasonCode cannot be read: {err}"
                    ))
                })?;
                reason = RevocationReason::from_x509(code).ok_or_else(|| {
                    invalid(format!(
                        "entry {index} (serial {serial}): reasonCode {code:?} is not supported \
                         (certificateHold, removeFromCRL and aACompromise are refused)"
                    ))
                })?;
            }
            // invalidityDate only informs (when the key was suspected); the revocation time rules.
            ID_CE_INVALIDITY_DATE => {}
            oid if e.critical => {
                return Err(invalid(format!(
                    "entry {index} (serial {serial}): unsupported critical extension {oid} \
                     (indirect lists are not supported)"
                )));
            }
            _ => {}
        }
    }
    Ok(RevokedEntry {
        serial,
        revoked_at: from_x509_time(&revoked.revocation_date),
        reason,
    })
}

fn refuse_repeated(extensions: &[Extension], place: &str) -> Result<(), CertError> {
    for (i, e) in extensions.iter().enumerate() {
        if extensions
            .iter()
            .skip(i + 1)
            .any(|o| o.extn_id == e.extn_id)
        {
            return Err(invalid(format!(
                "extension {} appears more than once on {place}",
                e.extn_id
            )));
        }
    }
    Ok(())
}

/// The value of a non-negative DER INTEGER's magnitude, if it fits 64 bits.
fn u64_of(magnitude: &[u8]) -> Option<u64> {
    let start = magnitude
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(magnitude.len());
    let digits = magnitude.get(start..)?;
    if digits.len() > 8 {
        return None;
    }
    Some(digits.iter().fold(0, |acc, b| (acc << 8) | u64::from(*b)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn crl_numbers_fit_64_bits() {
        assert_eq!(u64_of(&[0x00, 0xff]), Some(255));
        assert_eq!(u64_of(&[]), Some(0));
        assert_eq!(u64_of(&[0xff; 8]), Some(u64::MAX));
        assert_eq!(u64_of(&[0x01; 9]), None);
    }
}

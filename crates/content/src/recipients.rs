//! The recipient infos of a protected file: our license-acquisition recipient (the licensing
//! server's URL and the publishing license) and one key-transport recipient that must repeat
//! the publishing license's wrapped content key.

use cms::content_info::CmsVersion;
use cms::enveloped_data::{KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo};
use der::asn1::SetOfVec;
use der::{Decode, Encode};
use rms_cert::SignedLicense;

use crate::format::RawLicenseAcquisition;
use crate::reader::der_error;
use crate::{ContentError, Envelope, oid};

/// Decodes the recipient infos: our license-acquisition recipient (the server URL and the
/// publishing license) and one key-transport recipient repeating the license's wrapped key.
pub(crate) fn read_recipient_infos(der: &[u8], at: u64) -> Result<Envelope, ContentError> {
    let what = "the recipient infos";
    let infos = SetOfVec::<RecipientInfo>::from_der(der).map_err(der_error(at, what))?;
    let mut acquisitions = infos.iter().filter_map(|info| match info {
        RecipientInfo::Ori(ori) if ori.ori_type == oid::LICENSE_ACQUISITION => Some(ori),
        _ => None,
    });
    let acquisition = acquisitions
        .next()
        .ok_or(ContentError::NoLicenseAcquisition)?;
    if acquisitions.next().is_some() {
        return Err(ContentError::Unsupported {
            at,
            what: "recipient infos",
            found: "two license-acquisition recipients".to_owned(),
        });
    }
    let mut ktri: Option<&KeyTransRecipientInfo> = None;
    for info in infos.iter() {
        let found = match info {
            RecipientInfo::Ori(ori) if ori.ori_type == oid::LICENSE_ACQUISITION => continue,
            RecipientInfo::Ktri(k) if ktri.is_none() => {
                ktri = Some(k);
                continue;
            }
            RecipientInfo::Ktri(_) => "a second key-transport recipient",
            RecipientInfo::Kari(_) => "a key-agreement recipient",
            RecipientInfo::Kekri(_) => "a key-encryption-key recipient",
            RecipientInfo::Pwri(_) => "a password recipient",
            RecipientInfo::Ori(_) => "another kind of recipient",
        };
        return Err(ContentError::Unsupported {
            at,
            what: "recipient infos",
            found: found.to_owned(),
        });
    }
    let ktri = ktri.ok_or_else(|| ContentError::Malformed {
        at,
        what,
        reason: "no key-transport recipient info".to_owned(),
    })?;

    let raw: RawLicenseAcquisition = acquisition
        .ori_value
        .decode_as()
        .map_err(der_error(at, "the license-acquisition recipient info"))?;
    let license_der = raw
        .publishing_license
        .to_der()
        .map_err(der_error(at, "the publishing license"))?;
    let license = SignedLicense::from_der(&license_der).map_err(|source| {
        ContentError::InvalidPublishingLicense {
            at,
            source: Box::new(source),
        }
    })?;
    let envelope = Envelope::new(license, &raw.licensing_server).map_err(|err| match err {
        ContentError::InvalidServerUrl { reason } => ContentError::Malformed {
            at,
            what: "the licensing server URL",
            reason: reason.to_owned(),
        },
        ContentError::NotPublishingLicense => ContentError::Malformed {
            at,
            what: "the publishing license",
            reason: "it is a use license".to_owned(),
        },
        ContentError::UnsupportedKeyEncryption { oid } => ContentError::Unsupported {
            at,
            what: "key-encryption algorithm of the publishing license",
            found: oid.to_string(),
        },
        other => other,
    })?;
    check_key_transport(ktri, &envelope, at)?;
    Ok(envelope)
}

fn check_key_transport(
    ktri: &KeyTransRecipientInfo,
    envelope: &Envelope,
    at: u64,
) -> Result<(), ContentError> {
    let RecipientIdentifier::SubjectKeyIdentifier(ski) = &ktri.rid else {
        return Err(ContentError::Unsupported {
            at,
            what: "recipient identifier",
            found: "issuerAndSerialNumber (protected files name the key by subjectKeyIdentifier)"
                .to_owned(),
        });
    };
    if ktri.version != CmsVersion::V2 {
        return Err(ContentError::Malformed {
            at,
            what: "the key-transport recipient info",
            reason: format!("version {:?}, not 2 (RFC 5652 §6.2.1)", ktri.version),
        });
    }
    let wrapped = envelope.publishing().content_key();
    let mismatch = |field| ContentError::RecipientMismatch { at, field };
    if ski.0.as_bytes() != wrapped.recipient_key_id() {
        return Err(mismatch("key identifier"));
    }
    if ktri.key_enc_alg != *wrapped.algorithm() {
        return Err(mismatch("key-encryption algorithm"));
    }
    if ktri.enc_key.as_bytes() != wrapped.encrypted_key() {
        return Err(mismatch("encrypted key"));
    }
    Ok(())
}

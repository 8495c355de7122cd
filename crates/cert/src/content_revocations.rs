//! The list of content and use licenses a licensing cluster has revoked, signed with its SLC
//! like a license (CMS SignedData, eContentType
//! [`oid::CONTENT_REVOCATIONS`](crate::oid::CONTENT_REVOCATIONS)), so that a client holding a
//! use license it got earlier refuses to open revoked content offline. ASN.1 in
//! `docs/license-format.md`.
//!
//! Revoking content stops new use licenses at the servers at once; the list is how the
//! clients that already hold one learn of it.

use der::Sequence;
use der::asn1::{GeneralizedTime, Uint};
use rms_policy::{Validity, from_generalized_time, whole_seconds_utc};
use time::OffsetDateTime;
use x509_cert::name::Name;

use crate::license_body::{VERSION_1, check_text, gtime, text, validity_of, version};
use crate::template_list::check_description;
use crate::{CertError, LicenseError, SerialNumber};

/// Content whose use licenses the cluster no longer honours, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedContent {
    content_id: String,
    revoked_at: OffsetDateTime,
    reason: String,
}

impl RevokedContent {
    /// `content_id` (1 to 256 characters, no control characters) revoked at `revoked_at`
    /// (whole seconds are kept) for `reason` (at most 1,024 characters, may be empty).
    pub fn new(
        content_id: &str,
        revoked_at: OffsetDateTime,
        reason: &str,
    ) -> Result<Self, CertError> {
        let input = |reason| CertError::LicenseInput { reason };
        check_text(content_id).map_err(input)?;
        check_description(reason).map_err(|_| input(REASON_RULE))?;
        Ok(Self {
            content_id: content_id.to_owned(),
            revoked_at: whole_seconds_utc(revoked_at),
            reason: reason.to_owned(),
        })
    }

    /// The content's identifier (as its publishing license names it).
    #[must_use]
    pub fn content_id(&self) -> &str {
        &self.content_id
    }

    /// When access was revoked.
    #[must_use]
    pub fn revoked_at(&self) -> OffsetDateTime {
        self.revoked_at
    }

    /// Why, as the administrator wrote it.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// One use license the cluster revoked, by serial number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedUseLicense {
    serial: SerialNumber,
    revoked_at: OffsetDateTime,
    reason: String,
}

impl RevokedUseLicense {
    /// The use license `serial` revoked at `revoked_at` for `reason` (at most 1,024
    /// characters, may be empty).
    pub fn new(
        serial: SerialNumber,
        revoked_at: OffsetDateTime,
        reason: &str,
    ) -> Result<Self, CertError> {
        check_description(reason).map_err(|_| CertError::LicenseInput {
            reason: REASON_RULE,
        })?;
        Ok(Self {
            serial,
            revoked_at: whole_seconds_utc(revoked_at),
            reason: reason.to_owned(),
        })
    }

    /// The use license's serial number.
    #[must_use]
    pub fn serial(&self) -> &SerialNumber {
        &self.serial
    }

    /// When it was revoked.
    #[must_use]
    pub fn revoked_at(&self) -> OffsetDateTime {
        self.revoked_at
    }

    /// Why.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

const REASON_RULE: &str =
    "a revocation reason is at most 1024 characters without control characters";

/// What a licensing cluster revoked as of `this_update`, to be fetched again by
/// `next_update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentRevocationList {
    pub(crate) issuer: Name,
    pub(crate) validity: Validity,
    pub(crate) content: Vec<RevokedContent>,
    pub(crate) use_licenses: Vec<RevokedUseLicense>,
}

impl ContentRevocationList {
    /// The list of `issuer` (the subject of the SLC that signs it). Refuses a content id or a
    /// serial listed twice, and a next update before this update.
    pub fn new(
        issuer: Name,
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
        content: Vec<RevokedContent>,
        use_licenses: Vec<RevokedUseLicense>,
    ) -> Result<Self, CertError> {
        let input = |reason| CertError::LicenseInput { reason };
        check_unique(&content, &use_licenses).map_err(input)?;
        let validity = Validity::new(this_update, next_update)
            .map_err(|_| input("the list's next update is before its this update"))?;
        Ok(Self {
            issuer,
            validity,
            content,
            use_licenses,
        })
    }

    /// The subject of the SLC that signed the list.
    #[must_use]
    pub fn issuer(&self) -> &Name {
        &self.issuer
    }

    /// When the list was made.
    #[must_use]
    pub fn this_update(&self) -> OffsetDateTime {
        self.validity.not_before()
    }

    /// When a client should fetch it again.
    #[must_use]
    pub fn next_update(&self) -> OffsetDateTime {
        self.validity.not_after()
    }

    /// This update to next update.
    #[must_use]
    pub fn validity(&self) -> Validity {
        self.validity
    }

    /// The revoked content.
    #[must_use]
    pub fn content(&self) -> &[RevokedContent] {
        &self.content
    }

    /// The revoked use licenses.
    #[must_use]
    pub fn use_licenses(&self) -> &[RevokedUseLicense] {
        &self.use_licenses
    }

    /// The revocation of `content_id`, if it is listed.
    #[must_use]
    pub fn content_revocation(&self, content_id: &str) -> Option<&RevokedContent> {
        self.content.iter().find(|c| c.content_id == content_id)
    }

    /// The revocation of the use license `serial`, if it is listed.
    #[must_use]
    pub fn use_license_revocation(&self, serial: &SerialNumber) -> Option<&RevokedUseLicense> {
        self.use_licenses.iter().find(|l| &l.serial == serial)
    }

    pub(crate) fn to_raw(&self) -> der::Result<RawContentRevocationList> {
        Ok(RawContentRevocationList {
            version: VERSION_1,
            issuer: self.issuer.clone(),
            this_update: gtime(self.this_update())?,
            next_update: gtime(self.next_update())?,
            content: self
                .content
                .iter()
                .map(|c| {
                    Ok(RawRevokedContent {
                        content_id: c.content_id.clone(),
                        revoked_at: gtime(c.revoked_at)?,
                        reason: c.reason.clone(),
                    })
                })
                .collect::<der::Result<_>>()?,
            use_licenses: self
                .use_licenses
                .iter()
                .map(|l| {
                    Ok(RawRevokedUseLicense {
                        serial: Uint::new(l.serial.as_bytes())?,
                        revoked_at: gtime(l.revoked_at)?,
                        reason: l.reason.clone(),
                    })
                })
                .collect::<der::Result<_>>()?,
        })
    }
}

fn check_unique(
    content: &[RevokedContent],
    use_licenses: &[RevokedUseLicense],
) -> Result<(), &'static str> {
    for (i, entry) in content.iter().enumerate() {
        if content[..i]
            .iter()
            .any(|c| c.content_id == entry.content_id)
        {
            return Err("a content id appears twice in the revocation list");
        }
    }
    for (i, entry) in use_licenses.iter().enumerate() {
        if use_licenses[..i].iter().any(|l| l.serial == entry.serial) {
            return Err("a use-license serial appears twice in the revocation list");
        }
    }
    Ok(())
}

#[derive(Sequence)]
struct RawRevokedContent {
    content_id: String,
    revoked_at: GeneralizedTime,
    reason: String,
}

#[derive(Sequence)]
struct RawRevokedUseLicense {
    serial: Uint,
    revoked_at: GeneralizedTime,
    reason: String,
}

#[derive(Sequence)]
pub(crate) struct RawContentRevocationList {
    version: u64,
    issuer: Name,
    this_update: GeneralizedTime,
    next_update: GeneralizedTime,
    content: Vec<RawRevokedContent>,
    use_licenses: Vec<RawRevokedUseLicense>,
}

impl RawContentRevocationList {
    pub(crate) fn into_typed(self) -> Result<ContentRevocationList, LicenseError> {
        let invalid = |reason| LicenseError::InvalidBody { reason };
        version(self.version)?;
        let reason = |text: String| {
            check_description(&text).map_err(|_| invalid(REASON_RULE))?;
            Ok::<_, LicenseError>(text)
        };
        let content = self
            .content
            .into_iter()
            .map(|raw| {
                Ok(RevokedContent {
                    content_id: text(raw.content_id)?,
                    revoked_at: from_generalized_time(&raw.revoked_at),
                    reason: reason(raw.reason)?,
                })
            })
            .collect::<Result<Vec<_>, LicenseError>>()?;
        let use_licenses = self
            .use_licenses
            .into_iter()
            .map(|raw| {
                Ok(RevokedUseLicense {
                    serial: SerialNumber::from_be_bytes(raw.serial.as_bytes()).map_err(|_| {
                        invalid("a serial number must be positive and at most 20 octets")
                    })?,
                    revoked_at: from_generalized_time(&raw.revoked_at),
                    reason: reason(raw.reason)?,
                })
            })
            .collect::<Result<Vec<_>, LicenseError>>()?;
        check_unique(&content, &use_licenses).map_err(invalid)?;
        Ok(ContentRevocationList {
            issuer: self.issuer,
            validity: validity_of(&self.this_update, &self.next_update)?,
            content,
            use_licenses,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use der::{Decode, Encode};
    use time::macros::datetime;

    use super::*;

    fn sample() -> ContentRevocationList {
        let serial = SerialNumber::generate(datetime!(2026-11-30 10:00 UTC)).unwrap();
        ContentRevocationList::new(
            "CN=licensing-1".parse().unwrap(),
            datetime!(2026-12-01 08:00:00.5 UTC),
            datetime!(2026-12-01 09:00 UTC),
            vec![
                RevokedContent::new("report-2026", datetime!(2026-12-01 07:00 UTC), "leaked")
                    .unwrap(),
            ],
            vec![RevokedUseLicense::new(serial, datetime!(2026-12-01 07:30 UTC), "").unwrap()],
        )
        .unwrap()
    }

    #[test]
    fn round_trips_and_finds_entries() {
        let list = sample();
        let der = list.to_raw().unwrap().to_der().unwrap();
        let back = RawContentRevocationList::from_der(&der)
            .unwrap()
            .into_typed()
            .unwrap();
        assert_eq!(back, list);
        assert_eq!(back.this_update(), datetime!(2026-12-01 08:00 UTC));
        assert_eq!(
            back.content_revocation("report-2026")
                .map(RevokedContent::reason),
            Some("leaked")
        );
        assert!(back.content_revocation("other").is_none());
        let serial = list.use_licenses()[0].serial().clone();
        assert!(back.use_license_revocation(&serial).is_some());
    }

    #[test]
    fn refuses_duplicates_bad_reasons_and_reversed_times() {
        let list = sample();
        let mut twice = list.content.clone();
        twice.push(list.content[0].clone());
        let issuer = list.issuer.clone();
        let (this, next) = (list.this_update(), list.next_update());
        assert!(ContentRevocationList::new(issuer.clone(), this, next, twice, vec![]).is_err());
        let mut twice = list.use_licenses.clone();
        twice.push(list.use_licenses[0].clone());
        assert!(ContentRevocationList::new(issuer.clone(), this, next, vec![], twice).is_err());
        assert!(ContentRevocationList::new(issuer, next, this, vec![], vec![]).is_err());
        assert!(RevokedContent::new("x", this, "line\nbreak").is_err());
        assert!(RevokedContent::new(" ", this, "").is_err());
    }
}

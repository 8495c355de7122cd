//! The license bodies: our own DER, whose ASN.1 module is in `docs/license-format.md`.

use der::asn1::{BitString, GeneralizedTime, OctetString, Uint};
use der::{Decode, Encode, Sequence};
use rms_policy::{Validity, from_generalized_time, to_generalized_time, whole_seconds_utc};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use time::OffsetDateTime;
use x509_cert::name::Name;

use crate::codec::{Strict, decode_strict};
use crate::{CertError, LicenseError, SerialNumber, UsageRights};

/// The only body version this implementation writes and reads.
pub(crate) const VERSION_1: u64 = 1;
/// Longest content id or principal, in characters.
pub(crate) const MAX_TEXT_CHARS: usize = 256;

/// One entry of a rights policy: a principal (a user's email, SID or other identifier text),
/// the rights granted, and an optional expiry of the grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    principal: String,
    rights: UsageRights,
    expires: Option<OffsetDateTime>,
}

impl Grant {
    /// Grants `rights` to `principal` (1 to 256 characters, no control characters) with no
    /// expiry of its own. Refuses an empty set of rights.
    pub fn new(principal: &str, rights: UsageRights) -> Result<Self, CertError> {
        check_text(principal).map_err(|reason| CertError::LicenseInput { reason })?;
        if rights.is_empty() {
            return Err(CertError::LicenseInput {
                reason: "a grant must give at least one right",
            });
        }
        Ok(Self {
            principal: principal.to_owned(),
            rights,
            expires: None,
        })
    }

    /// The same grant, ending at `expires` (whole seconds, UTC).
    #[must_use]
    pub fn with_expiry(mut self, expires: OffsetDateTime) -> Self {
        self.expires = Some(whole_seconds_utc(expires));
        self
    }

    /// Who the grant is for.
    #[must_use]
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The rights granted.
    #[must_use]
    pub fn rights(&self) -> UsageRights {
        self.rights
    }

    /// When the grant ends, if before the license does.
    #[must_use]
    pub fn expires(&self) -> Option<OffsetDateTime> {
        self.expires
    }
}

/// Longest use-license lifetime a template may set, in seconds (seven years of 366 days).
pub const MAX_USE_LICENSE_LIFETIME_SECONDS: u64 = 7 * 366 * 86_400;

/// The rights policy template a publishing license was made from: its id, and how long a use
/// license issued from the publishing license lasts (copied from the template when it was
/// published, so that changing the template later changes nothing already issued).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRef {
    id: String,
    use_license_lifetime: Option<time::Duration>,
}

impl TemplateRef {
    /// The template `id` (1 to 256 characters, no control characters); use licenses last
    /// `use_license_lifetime` (whole seconds, 1 s to seven years) or, when `None`, the issuer's
    /// license lifetime.
    pub fn new(id: &str, use_license_lifetime: Option<time::Duration>) -> Result<Self, CertError> {
        check_text(id).map_err(|reason| CertError::LicenseInput { reason })?;
        if let Some(lifetime) = use_license_lifetime {
            check_lifetime(lifetime.whole_seconds())
                .map_err(|reason| CertError::LicenseInput { reason })?;
        }
        Ok(Self {
            id: id.to_owned(),
            use_license_lifetime: use_license_lifetime
                .map(|d| time::Duration::seconds(d.whole_seconds())),
        })
    }

    /// The template's id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// How long a use license lasts, when the template says.
    #[must_use]
    pub fn use_license_lifetime(&self) -> Option<time::Duration> {
        self.use_license_lifetime
    }
}

/// A use-license lifetime in seconds: positive and at most seven years.
pub(crate) fn check_lifetime(seconds: i64) -> Result<u64, &'static str> {
    match u64::try_from(seconds) {
        Ok(s) if (1..=MAX_USE_LICENSE_LIFETIME_SECONDS).contains(&s) => Ok(s),
        _ => Err("a use-license lifetime is 1 second to 7 years"),
    }
}

/// A content key encrypted with RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) to one public
/// key, named by its key identifier (SHA-1 of the key bits, as in a subjectKeyIdentifier).
#[derive(Debug, Clone, PartialEq, Eq, Sequence)]
pub struct WrappedKey {
    algorithm: AlgorithmIdentifierOwned,
    recipient_key_id: OctetString,
    encrypted_key: OctetString,
}

impl WrappedKey {
    pub(crate) fn new(
        algorithm: AlgorithmIdentifierOwned,
        recipient_key_id: Vec<u8>,
        encrypted_key: Vec<u8>,
    ) -> Result<Self, CertError> {
        let encode = |source| CertError::Encode {
            what: "wrapped content key",
            source,
        };
        Ok(Self {
            algorithm,
            recipient_key_id: OctetString::new(recipient_key_id).map_err(encode)?,
            encrypted_key: OctetString::new(encrypted_key).map_err(encode)?,
        })
    }

    /// The key-encryption algorithm (id-RSAES-OAEP with SHA-256 parameters).
    #[must_use]
    pub fn algorithm(&self) -> &AlgorithmIdentifierOwned {
        &self.algorithm
    }

    /// Key identifier of the public key the content key is encrypted to.
    #[must_use]
    pub fn recipient_key_id(&self) -> &[u8] {
        self.recipient_key_id.as_bytes()
    }

    /// The encrypted content key.
    #[must_use]
    pub fn encrypted_key(&self) -> &[u8] {
        self.encrypted_key.as_bytes()
    }
}

/// A publishing license: binds content (its id and its key, encrypted to the licensing
/// cluster's key) to a rights policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishingLicense {
    pub(crate) serial: SerialNumber,
    pub(crate) issuer: Name,
    pub(crate) validity: Validity,
    pub(crate) content_id: String,
    pub(crate) grants: Vec<Grant>,
    pub(crate) content_key: WrappedKey,
    pub(crate) template: Option<TemplateRef>,
}

impl PublishingLicense {
    /// The license's serial number.
    #[must_use]
    pub fn serial(&self) -> &SerialNumber {
        &self.serial
    }
    /// The issuer: subject of the licensing SLC that signed it.
    #[must_use]
    pub fn issuer(&self) -> &Name {
        &self.issuer
    }
    /// Issue time to expiry.
    #[must_use]
    pub fn validity(&self) -> Validity {
        self.validity
    }
    /// The protected content's id.
    #[must_use]
    pub fn content_id(&self) -> &str {
        &self.content_id
    }
    /// The rights policy: who may do what.
    #[must_use]
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }
    /// The grant for `principal`, if any.
    #[must_use]
    pub fn grant_for(&self, principal: &str) -> Option<&Grant> {
        self.grants.iter().find(|g| g.principal == principal)
    }
    /// The content key, encrypted to the licensing cluster's key.
    #[must_use]
    pub fn content_key(&self) -> &WrappedKey {
        &self.content_key
    }
    /// The rights policy template the license was made from, if any.
    #[must_use]
    pub fn template(&self) -> Option<&TemplateRef> {
        self.template.as_ref()
    }
}

/// A use license: grants one principal the rights a publishing license gives them, with the
/// content key re-encrypted to the principal's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseLicense {
    pub(crate) serial: SerialNumber,
    pub(crate) issuer: Name,
    pub(crate) validity: Validity,
    pub(crate) publishing_license_serial: SerialNumber,
    pub(crate) content_id: String,
    pub(crate) principal: String,
    pub(crate) grantee_key: SubjectPublicKeyInfoOwned,
    pub(crate) rights: UsageRights,
    pub(crate) content_key: WrappedKey,
}

impl UseLicense {
    /// The license's serial number.
    #[must_use]
    pub fn serial(&self) -> &SerialNumber {
        &self.serial
    }
    /// The issuer: subject of the licensing SLC that signed it.
    #[must_use]
    pub fn issuer(&self) -> &Name {
        &self.issuer
    }
    /// Issue time to expiry.
    #[must_use]
    pub fn validity(&self) -> Validity {
        self.validity
    }
    /// Serial number of the publishing license it was issued from.
    #[must_use]
    pub fn publishing_license_serial(&self) -> &SerialNumber {
        &self.publishing_license_serial
    }
    /// The protected content's id.
    #[must_use]
    pub fn content_id(&self) -> &str {
        &self.content_id
    }
    /// The grantee's principal identifier.
    #[must_use]
    pub fn principal(&self) -> &str {
        &self.principal
    }
    /// The grantee's public key.
    #[must_use]
    pub fn grantee_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.grantee_key
    }
    /// The rights granted.
    #[must_use]
    pub fn rights(&self) -> UsageRights {
        self.rights
    }
    /// The content key, encrypted to the grantee's key.
    #[must_use]
    pub fn content_key(&self) -> &WrappedKey {
        &self.content_key
    }
}

/// The body of a license, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LicenseBody {
    /// A publishing license.
    Publishing(PublishingLicense),
    /// A use license.
    Use(UseLicense),
    /// The list of a licensing cluster's rights policy templates.
    TemplateList(crate::TemplateList),
    /// The list of the content and use licenses a licensing cluster revoked.
    ContentRevocations(crate::ContentRevocationList),
}

/// The kind of a license.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LicenseKind {
    /// A publishing license (`eContentType` [`oid::PUBLISHING_LICENSE`](crate::oid::PUBLISHING_LICENSE)).
    Publishing,
    /// A use license (`eContentType` [`oid::USE_LICENSE`](crate::oid::USE_LICENSE)).
    Use,
    /// A template list (`eContentType` [`oid::TEMPLATE_LIST`](crate::oid::TEMPLATE_LIST)).
    TemplateList,
    /// A list of revoked content (`eContentType`
    /// [`oid::CONTENT_REVOCATIONS`](crate::oid::CONTENT_REVOCATIONS)).
    ContentRevocations,
}

impl LicenseKind {
    /// The CMS eContentType of this kind.
    #[must_use]
    pub fn content_type(self) -> const_oid::ObjectIdentifier {
        match self {
            LicenseKind::Publishing => crate::oid::PUBLISHING_LICENSE,
            LicenseKind::Use => crate::oid::USE_LICENSE,
            LicenseKind::TemplateList => crate::oid::TEMPLATE_LIST,
            LicenseKind::ContentRevocations => crate::oid::CONTENT_REVOCATIONS,
        }
    }
}

impl LicenseBody {
    /// The kind.
    #[must_use]
    pub fn kind(&self) -> LicenseKind {
        match self {
            LicenseBody::Publishing(_) => LicenseKind::Publishing,
            LicenseBody::Use(_) => LicenseKind::Use,
            LicenseBody::TemplateList(_) => LicenseKind::TemplateList,
            LicenseBody::ContentRevocations(_) => LicenseKind::ContentRevocations,
        }
    }

    /// Issue time to expiry.
    #[must_use]
    pub fn validity(&self) -> Validity {
        match self {
            LicenseBody::Publishing(l) => l.validity,
            LicenseBody::Use(l) => l.validity,
            LicenseBody::TemplateList(l) => l.validity,
            LicenseBody::ContentRevocations(l) => l.validity,
        }
    }

    /// The body's DER.
    pub fn to_der(&self) -> Result<Vec<u8>, CertError> {
        let encode = |source| CertError::Encode {
            what: "license body",
            source,
        };
        match self {
            LicenseBody::Publishing(l) => RawPublishing::from_typed(l).map_err(encode)?.to_der(),
            LicenseBody::Use(l) => RawUse::from_typed(l).map_err(encode)?.to_der(),
            LicenseBody::TemplateList(l) => l.to_raw().map_err(encode)?.to_der(),
            LicenseBody::ContentRevocations(l) => l.to_raw().map_err(encode)?.to_der(),
        }
        .map_err(encode)
    }

    /// Decodes a body of `kind` strictly: no trailing data, known version, sane fields.
    pub fn from_der(kind: LicenseKind, der: &[u8]) -> Result<Self, LicenseError> {
        fn strict<'a, T: Decode<'a, Error = der::Error>>(der: &'a [u8]) -> Result<T, LicenseError> {
            decode_strict(der).map_err(|err| match err {
                Strict::Der(err) => LicenseError::Body(err),
                Strict::Trailing(extra) => LicenseError::BodyTrailingData { extra },
            })
        }
        match kind {
            LicenseKind::Publishing => strict::<RawPublishing>(der)?
                .into_typed()
                .map(LicenseBody::Publishing),
            LicenseKind::Use => strict::<RawUse>(der)?.into_typed().map(LicenseBody::Use),
            LicenseKind::TemplateList => strict::<crate::template_list::RawTemplateList>(der)?
                .into_typed()
                .map(LicenseBody::TemplateList),
            LicenseKind::ContentRevocations => {
                strict::<crate::content_revocations::RawContentRevocationList>(der)?
                    .into_typed()
                    .map(LicenseBody::ContentRevocations)
            }
        }
    }
}

/// A content id or principal: 1 to 256 characters, not blank, no control characters.
pub(crate) fn check_text(text: &str) -> Result<(), &'static str> {
    if text.trim().is_empty() {
        return Err("content ids and principals must not be empty");
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err("content ids and principals are at most 256 characters");
    }
    if text.chars().any(char::is_control) {
        return Err("content ids and principals must not contain control characters");
    }
    Ok(())
}

fn uint(serial: &SerialNumber) -> der::Result<Uint> {
    Uint::new(serial.as_bytes())
}

fn serial_of(value: &Uint) -> Result<SerialNumber, LicenseError> {
    SerialNumber::from_be_bytes(value.as_bytes()).map_err(|_| LicenseError::InvalidBody {
        reason: "a serial number must be positive and at most 20 octets",
    })
}

pub(crate) fn gtime(t: OffsetDateTime) -> der::Result<GeneralizedTime> {
    to_generalized_time(t).map_err(|_| der::Error::from(der::ErrorKind::DateTime))
}

pub(crate) fn validity_of(
    issued: &GeneralizedTime,
    expires: &GeneralizedTime,
) -> Result<Validity, LicenseError> {
    Validity::new(
        from_generalized_time(issued),
        from_generalized_time(expires),
    )
    .map_err(|_| LicenseError::InvalidBody {
        reason: "the license expires before it is issued",
    })
}

pub(crate) fn text(value: String) -> Result<String, LicenseError> {
    check_text(&value).map_err(|reason| LicenseError::InvalidBody { reason })?;
    Ok(value)
}

pub(crate) fn version(value: u64) -> Result<(), LicenseError> {
    if value == VERSION_1 {
        Ok(())
    } else {
        Err(LicenseError::UnknownVersion { version: value })
    }
}

#[derive(Sequence)]
struct RawGrant {
    principal: String,
    rights: BitString,
    #[asn1(optional = "true")]
    expires: Option<GeneralizedTime>,
}

#[derive(Sequence)]
struct RawTemplateRef {
    id: String,
    #[asn1(optional = "true")]
    use_license_lifetime: Option<u64>,
}

#[derive(Sequence)]
struct RawPublishing {
    version: u64,
    serial: Uint,
    issuer: Name,
    issued: GeneralizedTime,
    expires: GeneralizedTime,
    content_id: String,
    grants: Vec<RawGrant>,
    content_key: WrappedKey,
    // Absent unless made from a template: a license without one is encoded as before.
    #[asn1(context_specific = "0", optional = "true", tag_mode = "IMPLICIT")]
    template: Option<RawTemplateRef>,
}

impl RawPublishing {
    fn from_typed(l: &PublishingLicense) -> der::Result<Self> {
        Ok(Self {
            version: VERSION_1,
            serial: uint(&l.serial)?,
            issuer: l.issuer.clone(),
            issued: gtime(l.validity.not_before())?,
            expires: gtime(l.validity.not_after())?,
            content_id: l.content_id.clone(),
            grants: l
                .grants
                .iter()
                .map(|g| {
                    Ok(RawGrant {
                        principal: g.principal.clone(),
                        rights: g.rights.to_bit_string()?,
                        expires: g.expires.map(gtime).transpose()?,
                    })
                })
                .collect::<der::Result<_>>()?,
            content_key: l.content_key.clone(),
            template: l.template.as_ref().map(|t| RawTemplateRef {
                id: t.id.clone(),
                use_license_lifetime: t
                    .use_license_lifetime
                    .and_then(|d| u64::try_from(d.whole_seconds()).ok()),
            }),
        })
    }

    fn into_typed(self) -> Result<PublishingLicense, LicenseError> {
        version(self.version)?;
        if self.grants.is_empty() {
            return Err(LicenseError::InvalidBody {
                reason: "the rights policy grants nothing",
            });
        }
        let mut grants = Vec::with_capacity(self.grants.len());
        for raw in self.grants {
            let rights = UsageRights::from_bit_string(&raw.rights)?;
            if rights.is_empty() {
                return Err(LicenseError::InvalidBody {
                    reason: "a grant gives no right",
                });
            }
            let principal = text(raw.principal)?;
            if grants.iter().any(|g: &Grant| g.principal == principal) {
                return Err(LicenseError::InvalidBody {
                    reason: "a principal appears twice in the rights policy",
                });
            }
            grants.push(Grant {
                principal,
                rights,
                expires: raw.expires.as_ref().map(from_generalized_time),
            });
        }
        Ok(PublishingLicense {
            serial: serial_of(&self.serial)?,
            issuer: self.issuer,
            validity: validity_of(&self.issued, &self.expires)?,
            content_id: text(self.content_id)?,
            grants,
            content_key: self.content_key,
            template: self.template.map(RawTemplateRef::into_typed).transpose()?,
        })
    }
}

impl RawTemplateRef {
    fn into_typed(self) -> Result<TemplateRef, LicenseError> {
        let lifetime = match self.use_license_lifetime {
            None => None,
            Some(seconds) => {
                let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
                check_lifetime(seconds).map_err(|reason| LicenseError::InvalidBody { reason })?;
                Some(time::Duration::seconds(seconds))
            }
        };
        Ok(TemplateRef {
            id: text(self.id)?,
            use_license_lifetime: lifetime,
        })
    }
}

#[derive(Sequence)]
struct RawGrantee {
    principal: String,
    public_key: SubjectPublicKeyInfoOwned,
}

#[derive(Sequence)]
struct RawUse {
    version: u64,
    serial: Uint,
    issuer: Name,
    issued: GeneralizedTime,
    expires: GeneralizedTime,
    publishing_license_serial: Uint,
    content_id: String,
    grantee: RawGrantee,
    rights: BitString,
    content_key: WrappedKey,
}

impl RawUse {
    fn from_typed(l: &UseLicense) -> der::Result<Self> {
        Ok(Self {
            version: VERSION_1,
            serial: uint(&l.serial)?,
            issuer: l.issuer.clone(),
            issued: gtime(l.validity.not_before())?,
            expires: gtime(l.validity.not_after())?,
            publishing_license_serial: uint(&l.publishing_license_serial)?,
            content_id: l.content_id.clone(),
            grantee: RawGrantee {
                principal: l.principal.clone(),
                public_key: l.grantee_key.clone(),
            },
            rights: l.rights.to_bit_string()?,
            content_key: l.content_key.clone(),
        })
    }

    fn into_typed(self) -> Result<UseLicense, LicenseError> {
        version(self.version)?;
        let rights = UsageRights::from_bit_string(&self.rights)?;
        if rights.is_empty() {
            return Err(LicenseError::InvalidBody {
                reason: "the use license grants no right",
            });
        }
        Ok(UseLicense {
            serial: serial_of(&self.serial)?,
            issuer: self.issuer,
            validity: validity_of(&self.issued, &self.expires)?,
            publishing_license_serial: serial_of(&self.publishing_license_serial)?,
            content_id: text(self.content_id)?,
            principal: text(self.grantee.principal)?,
            grantee_key: self.grantee.public_key,
            rights,
            content_key: self.content_key,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn grants_refuse_bad_input() {
        assert!(Grant::new("", UsageRights::ALL).is_err());
        assert!(Grant::new("a\u{0}b", UsageRights::ALL).is_err());
        assert!(Grant::new(&"x".repeat(257), UsageRights::ALL).is_err());
        assert!(Grant::new("alice@example.com", UsageRights::NONE).is_err());
        assert!(Grant::new("alice@example.com", UsageRights::ALL).is_ok());
    }
}

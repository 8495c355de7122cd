//! Issuing licenses, and wrapping content keys with RSA-OAEP.

use std::sync::Arc;

use rms_keys::{PrivateKey, PublicKey};
use rms_policy::{Issued, Validity};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use time::OffsetDateTime;

use crate::license_body::check_text;
use crate::license_signed::sign;
use crate::profile::key_identifier;
use crate::{
    CertError, Grant, Issuer, LicenseBody, PublishingLicense, Right, SerialNumber, SignedLicense,
    TemplateRef, UsageRights, UseLicense, WrappedKey,
};

/// Shortest content key accepted, in octets (AES-128).
pub const MIN_CONTENT_KEY_LEN: usize = 16;
/// Longest content key accepted, in octets.
pub const MAX_CONTENT_KEY_LEN: usize = 64;

/// What a publishing license protects and who may do what with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentPolicy {
    content_id: String,
    grants: Vec<Grant>,
    template: Option<TemplateRef>,
}

impl ContentPolicy {
    /// A policy for the content `content_id` (a GUID or other text, 1 to 256 characters)
    /// granting `grants`. Refuses an empty policy and a principal granted twice.
    pub fn new(content_id: &str, grants: Vec<Grant>) -> Result<Self, CertError> {
        check_text(content_id).map_err(|reason| CertError::LicenseInput { reason })?;
        if grants.is_empty() {
            return Err(CertError::LicenseInput {
                reason: "a rights policy must grant something to someone",
            });
        }
        for (i, grant) in grants.iter().enumerate() {
            if grants
                .iter()
                .skip(i + 1)
                .any(|g| g.principal() == grant.principal())
            {
                return Err(CertError::LicenseInput {
                    reason: "a principal appears twice in the rights policy",
                });
            }
        }
        Ok(Self {
            content_id: content_id.to_owned(),
            grants,
            template: None,
        })
    }

    /// The same policy, recorded as made from `template`.
    #[must_use]
    pub fn with_template(mut self, template: TemplateRef) -> Self {
        self.template = Some(template);
        self
    }

    /// The template the policy was made from, if any.
    #[must_use]
    pub fn template(&self) -> Option<&TemplateRef> {
        self.template.as_ref()
    }

    /// The content id.
    #[must_use]
    pub fn content_id(&self) -> &str {
        &self.content_id
    }

    /// The grants.
    #[must_use]
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }
}

/// Who a use license is for: a principal and their public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grantee {
    principal: String,
    key: Arc<RecipientKey>,
}

impl Grantee {
    /// The grantee `principal`, holding the RSA key `public_key`.
    pub fn new(principal: &str, public_key: SubjectPublicKeyInfoOwned) -> Result<Self, CertError> {
        Self::with_key(principal, Arc::new(RecipientKey::new(public_key)?))
    }

    /// The grantee `principal`, holding `key` (parsed once for all their licenses).
    pub fn with_key(principal: &str, key: Arc<RecipientKey>) -> Result<Self, CertError> {
        check_text(principal).map_err(|reason| CertError::LicenseInput { reason })?;
        Ok(Self {
            principal: principal.to_owned(),
            key,
        })
    }

    /// The principal.
    #[must_use]
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// Their public key.
    #[must_use]
    pub fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        self.key.public_key()
    }
}

/// An RSA public key content keys are wrapped to, parsed and checked once: a user presents the
/// same key with every use license request, and parsing it (its Montgomery parameters) costs a
/// sixth of wrapping to it.
#[derive(Debug, Clone)]
pub struct RecipientKey {
    spki: SubjectPublicKeyInfoOwned,
    key: Arc<PublicKey>,
    key_id: Vec<u8>,
}

impl RecipientKey {
    /// Parses `spki`, refusing anything but a usable RSA key.
    pub fn new(spki: SubjectPublicKeyInfoOwned) -> Result<Self, CertError> {
        let key = PublicKey::from_spki(&spki).map_err(|e| {
            key_err("wrap")(format!("the recipient key is not a usable RSA key: {e}"))
        })?;
        if !matches!(
            key.kind(),
            rms_keys::PublicKeyKind::Rsa {
                pss_only: false,
                ..
            }
        ) {
            return Err(key_err("wrap")(
                "the recipient key is not a usable RSA key: not rsaEncryption".to_owned(),
            ));
        }
        let key_id = key_identifier(&spki)?;
        Ok(Self {
            spki,
            key: Arc::new(key),
            key_id,
        })
    }

    /// The key as a SubjectPublicKeyInfo.
    #[must_use]
    pub fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.spki
    }
}

impl PartialEq for RecipientKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}

impl Eq for RecipientKey {}

/// The key-encryption algorithm of every wrapped content key: id-RSAES-OAEP with SHA-256 and
/// MGF1-SHA-256, empty label (RFC 8017, parameters as RFC 4055 encodes them).
pub fn oaep_sha256_algorithm() -> Result<AlgorithmIdentifierOwned, CertError> {
    Ok(rms_keys::oaep_sha256_identifier()?)
}

fn key_err(what: &'static str) -> impl Fn(String) -> CertError {
    move |reason| CertError::ContentKey { what, reason }
}

/// Encrypts `content_key` (16 to 64 octets) to the RSA key `recipient` with RSA-OAEP SHA-256.
pub fn wrap_content_key(
    recipient: &SubjectPublicKeyInfoOwned,
    content_key: &[u8],
) -> Result<WrappedKey, CertError> {
    wrap_content_key_to(&RecipientKey::new(recipient.clone())?, content_key)
}

/// [`wrap_content_key`] to a key parsed before.
pub fn wrap_content_key_to(
    recipient: &RecipientKey,
    content_key: &[u8],
) -> Result<WrappedKey, CertError> {
    if !(MIN_CONTENT_KEY_LEN..=MAX_CONTENT_KEY_LEN).contains(&content_key.len()) {
        return Err(CertError::LicenseInput {
            reason: "a content key is 16 to 64 octets",
        });
    }
    let encrypted = recipient
        .key
        .encrypt_oaep_sha256(content_key)
        .map_err(|e| key_err("wrap")(e.to_string()))?;
    WrappedKey::new(
        oaep_sha256_algorithm()?,
        recipient.key_id.clone(),
        encrypted,
    )
}

/// Decrypts a wrapped content key with `key` (in software or in a token). Refuses a key
/// wrapped to another key (by key identifier) or with another algorithm; every way the
/// ciphertext can be wrong gives the same error. A token that is unavailable gives
/// [`CertError::Keys`] with [`rms_keys::KeyError::TokenUnavailable`].
pub fn unwrap_content_key(
    key: &dyn PrivateKey,
    wrapped: &WrappedKey,
) -> Result<Vec<u8>, CertError> {
    if *wrapped.algorithm() != oaep_sha256_algorithm()? {
        return Err(key_err("unwrap")(format!(
            "unsupported key-encryption algorithm {}",
            wrapped.algorithm().oid
        )));
    }
    if key_identifier(&key.public_key())? != wrapped.recipient_key_id() {
        return Err(key_err("unwrap")(
            "the content key is encrypted to another key".to_owned(),
        ));
    }
    let content_key =
        key.decrypt_oaep_sha256(wrapped.encrypted_key())
            .map_err(|err| match err {
                rms_keys::KeyError::Decryption => key_err("unwrap")("decryption failed".to_owned()),
                other => CertError::Keys(other),
            })?;
    Ok(content_key.to_vec())
}

/// Issues a publishing license at `now`: `policy` and `content_key` encrypted to the issuer's
/// own (cluster) key, valid for the issuer's license lifetime (7 years by default), signed as
/// CMS with the issuer's chain.
///
/// Refuses an issuer without the issue-publishing-license right or not valid at `now`.
pub fn issue_publishing_license(
    issuer: &Issuer,
    policy: &ContentPolicy,
    content_key: &[u8],
    now: OffsetDateTime,
) -> Result<SignedLicense, CertError> {
    issuer.require(Right::IssuePublishingLicense)?;
    issuer.check_valid_at(now)?;
    let cluster_key = issuer
        .certificate()
        .tbs_certificate()
        .subject_public_key_info();
    let validity = issuer.policy().validity(Issued::License, now)?;
    let body = LicenseBody::Publishing(PublishingLicense {
        serial: SerialNumber::generate(now)?,
        issuer: issuer.subject().clone(),
        validity,
        content_id: policy.content_id.clone(),
        grants: policy.grants.clone(),
        content_key: wrap_content_key(cluster_key, content_key)?,
        template: policy.template.clone(),
    });
    sign(
        &body,
        issuer.signer().as_ref(),
        issuer.certificate(),
        issuer.encoded_certificates(),
        validity.not_before(),
    )
}

/// Issues a use license at `now` for `grantee`, from a decoded publishing license: decrypts
/// the content key with `cluster_key` (the licensing cluster's private key, to which the
/// publishing license encrypted it) and re-encrypts it to the grantee, who gets the rights the
/// policy grants them. Expires at the earliest of the issuer's license lifetime, the grant's
/// expiry and the publishing license's expiry.
///
/// Refuses a grantee the policy does not name, a grant or publishing license already expired
/// at `now`, and an issuer without the issue-use-license right or not valid at `now`. (That the
/// publishing license is genuine is for the caller to verify first, with the chain crate.)
pub fn issue_use_license(
    issuer: &Issuer,
    cluster_key: &dyn PrivateKey,
    publishing: &PublishingLicense,
    grantee: &Grantee,
    now: OffsetDateTime,
) -> Result<SignedLicense, CertError> {
    let content_key = unwrap_content_key(cluster_key, publishing.content_key())?;
    issue_use_license_with_content_key(issuer, publishing, &content_key, grantee, now)
}

/// What a use license gives its grantee, as the licensing server decided it: the rights, and
/// the end of the grant they come from, if it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UseTerms {
    rights: UsageRights,
    expires: Option<OffsetDateTime>,
}

impl UseTerms {
    /// `rights` (never empty), ending at `expires` when given.
    pub fn new(rights: UsageRights, expires: Option<OffsetDateTime>) -> Result<Self, CertError> {
        if rights.is_empty() {
            return Err(CertError::LicenseInput {
                reason: "a use license must give at least one right",
            });
        }
        Ok(Self { rights, expires })
    }

    /// The terms of `grant`.
    #[must_use]
    pub fn of_grant(grant: &Grant) -> Self {
        Self {
            rights: grant.rights(),
            expires: grant.expires(),
        }
    }

    /// The rights.
    #[must_use]
    pub fn rights(&self) -> UsageRights {
        self.rights
    }

    /// When the grant they come from ends, if it does.
    #[must_use]
    pub fn expires(&self) -> Option<OffsetDateTime> {
        self.expires
    }
}

/// [`issue_use_license`] for a caller that already unwrapped the publishing license's content
/// key (a server that caches content keys, since unwrapping is a private-key operation as
/// costly as signing). `content_key` must be the key the publishing license carries.
pub fn issue_use_license_with_content_key(
    issuer: &Issuer,
    publishing: &PublishingLicense,
    content_key: &[u8],
    grantee: &Grantee,
    now: OffsetDateTime,
) -> Result<SignedLicense, CertError> {
    let grant =
        publishing
            .grant_for(grantee.principal())
            .ok_or_else(|| CertError::GranteeNotInPolicy {
                principal: grantee.principal().to_owned(),
            })?;
    issue_use_license_with_terms(
        issuer,
        publishing,
        content_key,
        grantee,
        &UseTerms::of_grant(grant),
        now,
    )
}

/// Issues a use license at `now` giving `grantee` exactly `terms` (the caller decided them:
/// a grant to the grantee, to one of its groups, or a super user's every right), with the
/// content key of `publishing` (`content_key`, already unwrapped) re-encrypted to the grantee.
/// Expires at the earliest of the issuer's license lifetime, the end of the terms, the
/// publishing license's expiry, and the use-license lifetime of the template the publishing
/// license was made from.
///
/// Refuses terms or a publishing license already expired at `now`, and an issuer without the
/// issue-use-license right or not valid at `now`.
pub fn issue_use_license_with_terms(
    issuer: &Issuer,
    publishing: &PublishingLicense,
    content_key: &[u8],
    grantee: &Grantee,
    terms: &UseTerms,
    now: OffsetDateTime,
) -> Result<SignedLicense, CertError> {
    issuer.require(Right::IssueUseLicense)?;
    issuer.check_valid_at(now)?;
    let lifetime = issuer.policy().validity(Issued::License, now)?;
    let mut end = lifetime.not_after().min(publishing.validity().not_after());
    if let Some(terms_end) = terms.expires {
        end = end.min(terms_end);
    }
    if let Some(limit) = publishing
        .template()
        .and_then(TemplateRef::use_license_lifetime)
        && let Some(limit_end) = lifetime.not_before().checked_add(limit)
    {
        end = end.min(limit_end);
    }
    let validity =
        Validity::new(lifetime.not_before(), end).map_err(|_| CertError::LicenseInput {
            reason: "the grant or the publishing license has already expired",
        })?;
    let body = LicenseBody::Use(UseLicense {
        serial: SerialNumber::generate(now)?,
        issuer: issuer.subject().clone(),
        validity,
        publishing_license_serial: publishing.serial().clone(),
        content_id: publishing.content_id().to_owned(),
        principal: grantee.principal().to_owned(),
        grantee_key: grantee.public_key().clone(),
        rights: terms.rights,
        content_key: wrap_content_key_to(&grantee.key, content_key)?,
    });
    sign(
        &body,
        issuer.signer().as_ref(),
        issuer.certificate(),
        issuer.encoded_certificates(),
        validity.not_before(),
    )
}

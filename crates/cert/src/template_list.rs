//! The list of a licensing cluster's rights policy templates, signed with its SLC like a
//! license (CMS SignedData, eContentType [`oid::TEMPLATE_LIST`](crate::oid::TEMPLATE_LIST)),
//! so that a client can check it offline. ASN.1 in `docs/license-format.md`.

use der::Sequence;
use der::asn1::{BitString, GeneralizedTime};
use rms_policy::Validity;
use time::{Duration, OffsetDateTime};
use x509_cert::name::Name;

use crate::license_body::{
    VERSION_1, check_lifetime, check_text, gtime, text, validity_of, version,
};
use crate::{CertError, LicenseError, UsageRights};

/// Longest template description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;

/// One grant of a template: a principal or group and the rights it gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateGrant {
    principal: String,
    rights: UsageRights,
}

impl TemplateGrant {
    /// `rights` (never empty) for `principal` (1 to 256 characters, no control characters).
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
        })
    }

    /// Who.
    #[must_use]
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// What.
    #[must_use]
    pub fn rights(&self) -> UsageRights {
        self.rights
    }
}

/// A rights policy template as the list publishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedTemplate {
    /// Its id (what a publishing license made from it records).
    pub id: String,
    /// Its name (what a client publishes with).
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Who gets what.
    pub grants: Vec<TemplateGrant>,
    /// How long after publishing the grants end, if they do before the license.
    pub content_validity: Option<Duration>,
    /// How long a use license lasts, if less than the license lifetime.
    pub use_license_lifetime: Option<Duration>,
}

/// The templates of a licensing cluster at `this_update`, valid until `next_update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateList {
    pub(crate) issuer: Name,
    pub(crate) validity: Validity,
    pub(crate) templates: Vec<ListedTemplate>,
}

impl TemplateList {
    /// The list `templates` of `issuer` (the subject of the SLC that signs it), made at
    /// `this_update` and to be fetched again by `next_update`. Refuses a template without
    /// grants, out-of-range texts or durations, and a name used twice.
    pub fn new(
        issuer: Name,
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
        templates: Vec<ListedTemplate>,
    ) -> Result<Self, CertError> {
        let input = |reason| CertError::LicenseInput { reason };
        for (i, template) in templates.iter().enumerate() {
            check_template(template).map_err(input)?;
            if templates[..i]
                .iter()
                .any(|t| t.name == template.name || t.id == template.id)
            {
                return Err(input("a template name or id appears twice in the list"));
            }
        }
        let validity = Validity::new(this_update, next_update)
            .map_err(|_| input("the list's next update is before its this update"))?;
        Ok(Self {
            issuer,
            validity,
            templates,
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

    /// When a client should fetch it again; it is stale after.
    #[must_use]
    pub fn next_update(&self) -> OffsetDateTime {
        self.validity.not_after()
    }

    /// This update to next update.
    #[must_use]
    pub fn validity(&self) -> Validity {
        self.validity
    }

    /// The templates, by name.
    #[must_use]
    pub fn templates(&self) -> &[ListedTemplate] {
        &self.templates
    }

    /// The template called `name`.
    #[must_use]
    pub fn template(&self, name: &str) -> Option<&ListedTemplate> {
        self.templates.iter().find(|t| t.name == name)
    }

    pub(crate) fn to_raw(&self) -> der::Result<RawTemplateList> {
        Ok(RawTemplateList {
            version: VERSION_1,
            issuer: self.issuer.clone(),
            this_update: gtime(self.this_update())?,
            next_update: gtime(self.next_update())?,
            templates: self
                .templates
                .iter()
                .map(|t| {
                    Ok(RawTemplate {
                        id: t.id.clone(),
                        name: t.name.clone(),
                        description: t.description.clone(),
                        grants: t
                            .grants
                            .iter()
                            .map(|g| {
                                Ok(RawTemplateGrant {
                                    principal: g.principal.clone(),
                                    rights: g.rights.to_bit_string()?,
                                })
                            })
                            .collect::<der::Result<_>>()?,
                        content_validity: seconds(t.content_validity),
                        use_license_lifetime: seconds(t.use_license_lifetime),
                    })
                })
                .collect::<der::Result<_>>()?,
        })
    }
}

fn seconds(d: Option<Duration>) -> Option<u64> {
    d.and_then(|d| u64::try_from(d.whole_seconds()).ok())
}

fn check_template(template: &ListedTemplate) -> Result<(), &'static str> {
    check_text(&template.id)?;
    check_text(&template.name)?;
    check_description(&template.description)?;
    if template.grants.is_empty() {
        return Err("a template must grant something to someone");
    }
    for (i, grant) in template.grants.iter().enumerate() {
        if template.grants[..i]
            .iter()
            .any(|g| g.principal == grant.principal)
        {
            return Err("a principal appears twice in a template");
        }
    }
    for d in [template.content_validity, template.use_license_lifetime]
        .into_iter()
        .flatten()
    {
        check_lifetime(d.whole_seconds())?;
    }
    Ok(())
}

/// A description: at most 1024 characters, no control characters (may be empty).
pub(crate) fn check_description(text: &str) -> Result<(), &'static str> {
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err("a template description is at most 1024 characters");
    }
    if text.chars().any(char::is_control) {
        return Err("a template description must not contain control characters");
    }
    Ok(())
}

#[derive(Sequence)]
struct RawTemplateGrant {
    principal: String,
    rights: BitString,
}

#[derive(Sequence)]
struct RawTemplate {
    id: String,
    name: String,
    description: String,
    grants: Vec<RawTemplateGrant>,
    #[asn1(context_specific = "0", optional = "true", tag_mode = "IMPLICIT")]
    content_validity: Option<u64>,
    #[asn1(context_specific = "1", optional = "true", tag_mode = "IMPLICIT")]
    use_license_lifetime: Option<u64>,
}

#[derive(Sequence)]
pub(crate) struct RawTemplateList {
    version: u64,
    issuer: Name,
    this_update: GeneralizedTime,
    next_update: GeneralizedTime,
    templates: Vec<RawTemplate>,
}

impl RawTemplateList {
    pub(crate) fn into_typed(self) -> Result<TemplateList, LicenseError> {
        let invalid = |reason| LicenseError::InvalidBody { reason };
        version(self.version)?;
        let duration = |value: Option<u64>| -> Result<Option<Duration>, LicenseError> {
            value
                .map(|s| {
                    let s = i64::try_from(s).unwrap_or(i64::MAX);
                    check_lifetime(s).map_err(invalid)?;
                    Ok(Duration::seconds(s))
                })
                .transpose()
        };
        let mut templates = Vec::with_capacity(self.templates.len());
        for raw in self.templates {
            let mut grants = Vec::with_capacity(raw.grants.len());
            for grant in raw.grants {
                let rights = UsageRights::from_bit_string(&grant.rights)?;
                if rights.is_empty() {
                    return Err(invalid("a template grant gives no right"));
                }
                grants.push(TemplateGrant {
                    principal: text(grant.principal)?,
                    rights,
                });
            }
            check_description(&raw.description).map_err(invalid)?;
            let template = ListedTemplate {
                id: text(raw.id)?,
                name: text(raw.name)?,
                description: raw.description,
                grants,
                content_validity: duration(raw.content_validity)?,
                use_license_lifetime: duration(raw.use_license_lifetime)?,
            };
            check_template(&template).map_err(invalid)?;
            if templates
                .iter()
                .any(|t: &ListedTemplate| t.name == template.name || t.id == template.id)
            {
                return Err(invalid("a template name or id appears twice in the list"));
            }
            templates.push(template);
        }
        Ok(TemplateList {
            issuer: self.issuer,
            validity: validity_of(&self.this_update, &self.next_update)?,
            templates,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use der::{Decode, Encode};
    use time::macros::datetime;

    use super::*;
    use crate::UsageRight;

    fn sample() -> TemplateList {
        TemplateList::new(
            "CN=licensing-1".parse().unwrap(),
            datetime!(2026-12-01 08:00 UTC),
            datetime!(2026-12-02 08:00 UTC),
            vec![ListedTemplate {
                id: "0f3c".into(),
                name: "confidential".into(),
                description: "Employees may view".into(),
                grants: vec![
                    TemplateGrant::new("employees", UsageRights::from_rights([UsageRight::View]))
                        .unwrap(),
                ],
                content_validity: Some(Duration::days(90)),
                use_license_lifetime: Some(Duration::days(30)),
            }],
        )
        .unwrap()
    }

    #[test]
    fn round_trips_and_refuses_duplicates() {
        let list = sample();
        let der = list.to_raw().unwrap().to_der().unwrap();
        let back = RawTemplateList::from_der(&der)
            .unwrap()
            .into_typed()
            .unwrap();
        assert_eq!(back, list);
        let mut twice = list.templates.clone();
        twice.push(list.templates[0].clone());
        assert!(
            TemplateList::new(
                list.issuer.clone(),
                list.this_update(),
                list.next_update(),
                twice
            )
            .is_err()
        );
    }
}

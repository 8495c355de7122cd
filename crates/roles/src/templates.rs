//! Rights policy templates: named policies an administrator defines on a licensing cluster,
//! which clients publish with by name and fetch as a list signed with the cluster's SLC.
//!
//! A publishing license made from a template carries the template's grants as they were when
//! it was published, and records the template's id and use-license lifetime: changing or
//! removing the template later changes nothing already issued.

use rms_cert::{
    Grant, LicenseBody, ListedTemplate, SignedLicense, TemplateGrant, TemplateList, TemplateRef,
    UsageRights,
};
use rms_policy::Lifetime;
use rms_store::{NewAuditEntry, Outcome, StoreError, TemplateGrantRecord, TemplateRecord};
use time::{Duration, OffsetDateTime};

use crate::admin::check_name;
use crate::error::cert_refused;
use crate::secret::random_bytes;
use crate::{Admin, LicensingRole, RequestContext, RoleError, Service};

/// How long a template list is good for: clients fetch it again after a day.
pub const TEMPLATE_LIST_LIFETIME: Duration = Duration::DAY;

/// A rights policy template as an administrator defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSpec {
    /// Its name, unique in the cluster (1 to 64 letters, digits, `.`, `_`, `-`, `@`).
    pub name: String,
    /// What it is for (at most 1,024 characters).
    pub description: String,
    /// Who gets what: principals or groups of the cluster.
    pub grants: Vec<TemplateGrant>,
    /// When given, the grants of content published with the template end this long after
    /// publishing.
    pub content_validity: Option<Lifetime>,
    /// When given, a use license issued from such content lasts this long (e.g. 30 days), so
    /// that users ask again; otherwise the license lifetime (seven years).
    pub use_license_lifetime: Option<Lifetime>,
}

impl Admin {
    /// Adds a template; refused when the name is taken, a grant names a principal or group
    /// that does not exist, or a field is out of range.
    pub async fn add_template(&self, spec: &TemplateSpec) -> Result<ListedTemplate, RoleError> {
        let now = OffsetDateTime::now_utc();
        let id: String = random_bytes::<16>()?
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let record = self.checked_record(spec, id, now, now).await?;
        let entry = self.entry("template add", &record);
        self.store()
            .add_template(&record, &entry)
            .await
            .map_err(|e| match e {
                StoreError::AlreadyExists { .. } => RoleError::refused(
                    "already_exists",
                    format!("template {:?} already exists", spec.name),
                ),
                other => other.into(),
            })?;
        listed(&record)
    }

    /// Replaces the template called `spec.name`, keeping its id: content published with it
    /// from now on gets the new policy; content published before keeps the old one.
    pub async fn replace_template(&self, spec: &TemplateSpec) -> Result<ListedTemplate, RoleError> {
        let current = self.store().template(&spec.name).await?;
        let record = self
            .checked_record(
                spec,
                current.id,
                current.created_at,
                OffsetDateTime::now_utc(),
            )
            .await?;
        let entry = self.entry("template replace", &record);
        self.store().replace_template(&record, &entry).await?;
        listed(&record)
    }

    /// Removes the template called `name`; content published with it keeps its policy.
    pub async fn remove_template(&self, name: &str) -> Result<(), RoleError> {
        let entry = NewAuditEntry::new(
            self.actor(),
            "Administration",
            "template remove",
            Outcome::Allowed,
            format!("template {name:?}"),
            "cli",
        );
        Ok(self.store().remove_template(name, &entry).await?)
    }

    /// The template called `name`.
    pub async fn template(&self, name: &str) -> Result<ListedTemplate, RoleError> {
        listed(&self.store().template(name).await?)
    }

    /// Every template, by name.
    pub async fn templates(&self) -> Result<Vec<ListedTemplate>, RoleError> {
        self.store().templates().await?.iter().map(listed).collect()
    }

    async fn checked_record(
        &self,
        spec: &TemplateSpec,
        id: String,
        created_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<TemplateRecord, RoleError> {
        check_name(&spec.name)?;
        let seconds = |lifetime: Option<Lifetime>, what: &str| -> Result<Option<i64>, RoleError> {
            lifetime
                .map(|l| {
                    let end = l
                        .end_from(now)
                        .map_err(|e| RoleError::bad_input("invalid_template", e.to_string()))?;
                    Ok((end - now).whole_seconds())
                })
                .transpose()
                .map_err(|e: RoleError| {
                    RoleError::bad_input("invalid_template", format!("{what}: {e}"))
                })
        };
        let record = TemplateRecord {
            id,
            name: spec.name.clone(),
            description: spec.description.clone(),
            grants: spec
                .grants
                .iter()
                .map(|g| TemplateGrantRecord {
                    principal: g.principal().to_owned(),
                    rights: rights_text(g.rights()),
                })
                .collect(),
            content_validity: seconds(spec.content_validity, "content validity")?,
            use_license_lifetime: seconds(spec.use_license_lifetime, "use-license lifetime")?,
            created_at,
            updated_at: now,
        };
        // The same checks a signed list applies, so that every stored template can be listed.
        listed(&record).map_err(|e| RoleError::bad_input("invalid_template", e.to_string()))?;
        for grant in &spec.grants {
            match self.store().principal(grant.principal()).await {
                Ok(_) => {}
                Err(StoreError::NotFound { .. }) => {
                    return Err(RoleError::refused(
                        "unknown_principal",
                        format!(
                            "template {:?} grants {:?}, which is neither a principal nor a group of this licensing cluster: add it first, or correct the name",
                            spec.name,
                            grant.principal()
                        ),
                    ));
                }
                Err(other) => return Err(other.into()),
            }
        }
        Ok(record)
    }

    fn entry(&self, action: &str, record: &TemplateRecord) -> NewAuditEntry {
        let grants: Vec<String> = record
            .grants
            .iter()
            .map(|g| format!("{}:{}", g.principal, g.rights))
            .collect();
        NewAuditEntry::new(
            self.actor(),
            "Administration",
            action,
            Outcome::Allowed,
            format!(
                "template {:?} ({}) grants {}",
                record.name,
                record.id,
                grants.join(" ")
            ),
            "cli",
        )
    }
}

fn rights_text(rights: UsageRights) -> String {
    rights
        .iter()
        .map(|r| r.name())
        .collect::<Vec<_>>()
        .join(",")
}

/// A stored template as the signed list carries it.
fn listed(record: &TemplateRecord) -> Result<ListedTemplate, RoleError> {
    let corrupt = |what: String| {
        RoleError::Internal(format!(
            "stored template {:?} is invalid: {what}",
            record.name
        ))
    };
    let grants = record
        .grants
        .iter()
        .map(|g| {
            let rights: UsageRights = g
                .rights
                .parse()
                .map_err(|e: rms_cert::CertError| corrupt(e.to_string()))?;
            TemplateGrant::new(&g.principal, rights).map_err(|e| corrupt(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let template = ListedTemplate {
        id: record.id.clone(),
        name: record.name.clone(),
        description: record.description.clone(),
        grants,
        content_validity: record.content_validity.map(Duration::seconds),
        use_license_lifetime: record.use_license_lifetime.map(Duration::seconds),
    };
    // A list of one checks the template as every list will.
    TemplateList::new(
        rms_cert::x509_cert::name::Name::default(),
        record.updated_at,
        record.updated_at,
        vec![template.clone()],
    )
    .map_err(|e| RoleError::bad_input("invalid_template", crate::describe_error(&e)))?;
    Ok(template)
}

/// The policy content published with the template `name` gets at `now`: the template's
/// grants (ending `content_validity` after `now` when it says) and the reference a publishing
/// license records.
pub(crate) async fn resolve_template(
    role: &LicensingRole,
    name: &str,
    now: OffsetDateTime,
) -> Result<(Vec<Grant>, TemplateRef), RoleError> {
    let record = match role.cluster().store().template(name).await {
        Ok(record) => record,
        Err(StoreError::NotFound { .. }) => {
            return Err(RoleError::refused(
                "unknown_template",
                format!("this licensing cluster has no rights policy template {name:?}"),
            ));
        }
        Err(other) => return Err(other.into()),
    };
    let template = listed(&record)?;
    let ends = template
        .content_validity
        .and_then(|validity| now.checked_add(validity));
    let grants = template
        .grants
        .iter()
        .map(|g| {
            let grant = Grant::new(g.principal(), g.rights()).map_err(cert_refused)?;
            Ok(match ends {
                Some(end) => grant.with_expiry(end),
                None => grant,
            })
        })
        .collect::<Result<Vec<_>, RoleError>>()?;
    let reference =
        TemplateRef::new(&template.id, template.use_license_lifetime).map_err(cert_refused)?;
    Ok((grants, reference))
}

impl LicensingRole {
    /// The cluster's templates as a list signed with its SLC (CMS SignedData, like a
    /// license), valid for [`TEMPLATE_LIST_LIFETIME`]: for the callers PublishingService's
    /// DACL lets publish.
    pub async fn template_list(&self, ctx: &RequestContext) -> Result<SignedLicense, RoleError> {
        let cluster = self.cluster();
        let caller = cluster.current_caller(ctx).await?;
        cluster
            .authorize(ctx, &caller, Service::Publishing, "templates")
            .await?;
        let now = cluster.now();
        let signing = cluster.signing();
        cluster.require_valid_slc(&signing, now)?;
        let templates = cluster
            .store()
            .templates()
            .await?
            .iter()
            .map(listed)
            .collect::<Result<Vec<_>, _>>()?;
        let list = TemplateList::new(
            signing.issuer.subject().clone(),
            now,
            now + TEMPLATE_LIST_LIFETIME,
            templates,
        )
        .map_err(cert_refused)?;
        signing
            .issuer
            .sign_license(&LicenseBody::TemplateList(list), now)
            .map_err(RoleError::Cert)
    }
}

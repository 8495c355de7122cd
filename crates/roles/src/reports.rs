//! What administration shows an operator: pages of the audit log chosen by time, principal,
//! service and decision; a service's DACL entry by entry with the names of the principals and
//! groups it grants; the records of what was issued, marked when revoked; the revocations.

use std::collections::HashMap;

use rms_dacl::{AceType, SecurityDescriptor, Sid};
use rms_store::{AuditFilter, AuditPage, IssuedFilter, IssuedRecord, Outcome, RevocationRecord};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, Time};

use crate::{Admin, RoleError, Service, ServiceRights};

/// The service name under which administration (principals, groups, pruning) is audited.
pub const ADMINISTRATION: &str = "Administration";

/// Which end of a period a time given as a bare date stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodEnd {
    /// The period starts then: a date means its first second (00:00:00 UTC).
    Start,
    /// The period ends then: a date means its last second (23:59:59 UTC), so that
    /// `--until 2026-12-01` includes that day.
    End,
}

/// Reads a time given by an operator: an RFC 3339 time (`2026-12-01T08:00:00Z`) or a date
/// (`2026-12-01`, in UTC, its start or its end as `end` says).
///
/// ```
/// use rms_roles::{PeriodEnd, parse_time_or_date, rfc3339};
///
/// let start = parse_time_or_date("2026-12-01", PeriodEnd::Start)?;
/// assert_eq!(rfc3339(start), "2026-12-01T00:00:00Z");
/// let end = parse_time_or_date("2026-12-01", PeriodEnd::End)?;
/// assert_eq!(rfc3339(end), "2026-12-01T23:59:59Z");
/// let exact = parse_time_or_date("2026-12-01T08:30:00+01:00", PeriodEnd::End)?;
/// assert_eq!(rfc3339(exact), "2026-12-01T08:30:00+01:00");
/// # Ok::<(), rms_roles::RoleError>(())
/// ```
pub fn parse_time_or_date(text: &str, end: PeriodEnd) -> Result<OffsetDateTime, RoleError> {
    let text = text.trim();
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(at);
    }
    let date = Date::parse(text, format_description!("[year]-[month]-[day]")).map_err(|_| {
        RoleError::bad_input(
            "invalid_time",
            format!(
                "{text:?} is neither a date (2026-12-01) nor an RFC 3339 time (2026-12-01T08:00:00Z)"
            ),
        )
    })?;
    let time = match end {
        PeriodEnd::Start => Time::MIDNIGHT,
        PeriodEnd::End => Time::from_hms(23, 59, 59)
            .map_err(|e| RoleError::Internal(format!("end of day: {e}")))?,
    };
    Ok(date.with_time(time).assume_utc())
}

/// What an operator asks of the audit log, as given (the words are read by [`Admin::audit`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only entries at or after this date or RFC 3339 time.
    pub since: Option<String>,
    /// Only entries at or before this date (the whole day) or RFC 3339 time.
    pub until: Option<String>,
    /// Only entries of this principal.
    pub principal: Option<String>,
    /// Only entries of this service (a service name, with or without `Service`, or
    /// `Administration`).
    pub service: Option<String>,
    /// Only `allowed` (or `allow`) or only `denied` (or `deny`) entries.
    pub decision: Option<String>,
    /// At most this many entries, newest first.
    pub limit: i64,
}

impl Default for AuditQuery {
    fn default() -> Self {
        Self {
            since: None,
            until: None,
            principal: None,
            service: None,
            decision: None,
            limit: 100,
        }
    }
}

impl AuditQuery {
    /// The store's filter for this query, or why a word of it is not understood.
    pub fn filter(&self) -> Result<AuditFilter, RoleError> {
        let since = self
            .since
            .as_deref()
            .map(|t| parse_time_or_date(t, PeriodEnd::Start))
            .transpose()?;
        let until = self
            .until
            .as_deref()
            .map(|t| parse_time_or_date(t, PeriodEnd::End))
            .transpose()?;
        if let (Some(since), Some(until)) = (since, until)
            && since > until
        {
            return Err(RoleError::bad_input(
                "invalid_period",
                format!(
                    "the period starts at {} after it ends at {}",
                    crate::rfc3339(since),
                    crate::rfc3339(until)
                ),
            ));
        }
        if self.limit < 1 {
            return Err(RoleError::bad_input(
                "invalid_limit",
                format!(
                    "a limit of {} entries shows nothing: give 1 or more",
                    self.limit
                ),
            ));
        }
        Ok(AuditFilter {
            since,
            until,
            principal: self.principal.clone(),
            service: self.service.as_deref().map(audited_service).transpose()?,
            outcome: self.decision.as_deref().map(parse_decision).transpose()?,
            limit: self.limit,
            ..AuditFilter::default()
        })
    }
}

/// The service name the audit log records for `name`.
fn audited_service(name: &str) -> Result<String, RoleError> {
    if name.trim().eq_ignore_ascii_case(ADMINISTRATION) {
        return Ok(ADMINISTRATION.to_owned());
    }
    name.parse::<Service>()
        .map(|service| service.name().to_owned())
        .map_err(|_| {
            RoleError::bad_input(
                "unknown_service",
                format!(
                    "unknown service {name:?} (known: {}, {ADMINISTRATION})",
                    Service::ALL.map(Service::name).join(", ")
                ),
            )
        })
}

fn parse_decision(word: &str) -> Result<Outcome, RoleError> {
    match word.trim().to_ascii_lowercase().as_str() {
        "allowed" | "allow" => Ok(Outcome::Allowed),
        "denied" | "deny" => Ok(Outcome::Denied),
        _ => Err(RoleError::bad_input(
            "unknown_decision",
            format!("unknown decision {word:?} (known: allowed, denied)"),
        )),
    }
}

/// One entry of a DACL, with the name of whom it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AceView {
    /// `allow`, `deny`, or the SDDL type of another kind of entry (`OA`, `XA`, ...).
    pub kind: String,
    /// The SID the entry is for.
    pub sid: String,
    /// Its name: the cluster's principal or group, or a well-known SID's name; `None` when
    /// the SID is neither (for example a principal since removed).
    pub name: Option<String>,
    /// The rights, with our names (`sub-enroll`, ...).
    pub rights: String,
    /// The entry as SDDL.
    pub sddl: String,
}

/// A service's descriptor: its SDDL and its DACL entry by entry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AclView {
    /// The service.
    pub service: Service,
    /// The descriptor as SDDL.
    pub sddl: String,
    /// Its DACL's entries, in order (empty for an empty DACL).
    pub entries: Vec<AceView>,
}

/// Names of the well-known SIDs our default descriptors and operators use.
fn well_known_name(sid: &Sid) -> Option<&'static str> {
    [
        (Sid::EVERYONE, "Everyone"),
        (Sid::AUTHENTICATED_USERS, "Authenticated Users"),
        (Sid::LOCAL_SYSTEM, "Local System"),
        (Sid::BUILTIN_ADMINISTRATORS, "Administrators"),
    ]
    .into_iter()
    .find(|(known, _)| known == sid)
    .map(|(_, name)| name)
}

/// An issued item's record, with its revocation if it was revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IssuedView {
    /// The record.
    pub record: IssuedRecord,
    /// Its revocation, if any.
    pub revocation: Option<RevocationRecord>,
}

impl Admin {
    /// The newest audit entries `query` selects, and how many more it selects.
    pub async fn audit(&self, query: &AuditQuery) -> Result<AuditPage, RoleError> {
        Ok(self.store().audit_page(&query.filter()?).await?)
    }

    /// `service`'s descriptor with its entries and whom each is for.
    pub async fn acl_view(&self, service: Service) -> Result<AclView, RoleError> {
        let record = self.acl_show(service).await?;
        let names = self.names_by_sid().await?;
        self.view_of(service, &record.sddl, &names)
    }

    /// Every service's descriptor with its entries and whom each is for.
    pub async fn acl_views(&self) -> Result<Vec<AclView>, RoleError> {
        let names = self.names_by_sid().await?;
        let mut views = Vec::new();
        for record in self.acl_list().await? {
            match record.service.parse::<Service>() {
                Ok(service) => views.push(self.view_of(service, &record.sddl, &names)?),
                // A descriptor of a service this build does not know: nothing to show by name.
                Err(_) => {
                    tracing::debug!(service = %record.service, "descriptor of an unknown service skipped")
                }
            }
        }
        Ok(views)
    }

    async fn names_by_sid(&self) -> Result<HashMap<String, String>, RoleError> {
        Ok(self
            .principals()
            .await?
            .into_iter()
            .map(|p| (p.sid, p.name))
            .collect())
    }

    fn view_of(
        &self,
        service: Service,
        sddl: &str,
        names: &HashMap<String, String>,
    ) -> Result<AclView, RoleError> {
        let context = self.sid_context();
        let descriptor = SecurityDescriptor::from_sddl(sddl, &context).map_err(|e| {
            RoleError::Internal(format!(
                "stored descriptor of {service} is invalid: {}",
                crate::describe_error(&e)
            ))
        })?;
        let entries = descriptor
            .dacl()
            .acl()
            .map(|acl| acl.aces().to_vec())
            .unwrap_or_default()
            .into_iter()
            .map(|ace| {
                let sid = ace.sid().to_string();
                let name = names
                    .get(&sid)
                    .cloned()
                    .or_else(|| well_known_name(ace.sid()).map(str::to_owned));
                let kind = match ace.ace_type() {
                    AceType::AccessAllowed => "allow".to_owned(),
                    AceType::AccessDenied => "deny".to_owned(),
                    other => other.sddl().to_owned(),
                };
                AceView {
                    kind,
                    sid,
                    name,
                    rights: ServiceRights::from(ace.mask()).to_string(),
                    sddl: ace.to_sddl(&context),
                }
            })
            .collect();
        Ok(AclView {
            service,
            sddl: sddl.to_owned(),
            entries,
        })
    }

    /// What `filter` selects of the records of issued items, newest first, each with its
    /// revocation if it was revoked.
    pub async fn issued(&self, filter: &IssuedFilter) -> Result<Vec<IssuedView>, RoleError> {
        let revocations: HashMap<(String, String), RevocationRecord> = self
            .revocations()
            .await?
            .into_iter()
            .map(|r| ((r.issuer_serial.clone(), r.serial.clone()), r))
            .collect();
        Ok(self
            .store()
            .issued(filter)
            .await?
            .into_iter()
            .map(|record| IssuedView {
                revocation: revocations
                    .get(&(record.issuer_serial.clone(), record.serial.clone()))
                    .cloned(),
                record,
            })
            .collect())
    }

    /// Every revocation the cluster recorded, oldest first.
    pub async fn revocations(&self) -> Result<Vec<RevocationRecord>, RoleError> {
        Ok(self.store().revocations().await?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dates_and_times() {
        let until = parse_time_or_date("2026-12-01", PeriodEnd::End).unwrap();
        assert_eq!(crate::rfc3339(until), "2026-12-01T23:59:59Z");
        assert_eq!(
            parse_time_or_date("2026-13-01", PeriodEnd::Start)
                .unwrap_err()
                .code(),
            "invalid_time"
        );
        assert!(parse_time_or_date("yesterday", PeriodEnd::Start).is_err());
    }

    #[test]
    fn queries_are_read_or_refused() {
        let query = AuditQuery {
            since: Some("2026-12-02".into()),
            until: Some("2026-12-01".into()),
            ..AuditQuery::default()
        };
        assert_eq!(query.filter().unwrap_err().code(), "invalid_period");
        let query = AuditQuery {
            service: Some("subenroll".into()),
            decision: Some("Deny".into()),
            ..AuditQuery::default()
        };
        let filter = query.filter().unwrap();
        assert_eq!(filter.service.as_deref(), Some("SubEnrollService"));
        assert_eq!(filter.outcome, Some(Outcome::Denied));
        let query = AuditQuery {
            decision: Some("maybe".into()),
            ..AuditQuery::default()
        };
        assert_eq!(query.filter().unwrap_err().code(), "unknown_decision");
        let query = AuditQuery {
            limit: 0,
            ..AuditQuery::default()
        };
        assert_eq!(query.filter().unwrap_err().code(), "invalid_limit");
    }
}

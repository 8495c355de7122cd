//! The rows of the configuration database, as typed values.

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

use crate::StoreError;

/// The role of a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClusterRole {
    /// A root certification cluster, which sub-enrolls licensing clusters.
    Root,
    /// A licensing-only cluster, which issues licenses.
    Licensing,
}

impl ClusterRole {
    /// The name stored in the database and shown to operators.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            ClusterRole::Root => "root",
            ClusterRole::Licensing => "licensing",
        }
    }
}

impl fmt::Display for ClusterRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ClusterRole {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "root" => Ok(ClusterRole::Root),
            "licensing" => Ok(ClusterRole::Licensing),
            other => Err(StoreError::Corrupt(format!(
                "unknown cluster role {other:?}"
            ))),
        }
    }
}

/// Who the cluster is: written once, when the cluster is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterIdentity {
    /// Root or licensing.
    pub role: ClusterRole,
    /// The cluster's name (its SLC subject common name).
    pub name: String,
    /// The cluster's identifier (the server id its SLC carries).
    pub cluster_id: String,
    /// The domain SID under which the cluster's principals get their SIDs (`S-1-5-21-a-b-c`).
    pub domain_sid: String,
    /// When the cluster was created.
    pub created_at: OffsetDateTime,
}

/// One server licensor certificate the cluster has held, with its encrypted private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlcRecord {
    /// Serial number of the SLC (hex).
    pub serial: String,
    /// The chain as PEM, leaf (this SLC) first, trust anchor last.
    pub chain_pem: String,
    /// The private key as encrypted PKCS#8 (DER); never stored in the clear.
    pub encrypted_key: Vec<u8>,
    /// Start of the SLC's validity.
    pub not_before: OffsetDateTime,
    /// End of the SLC's validity.
    pub not_after: OffsetDateTime,
    /// When it was installed in the cluster.
    pub installed_at: OffsetDateTime,
}

/// A user or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// Something that authenticates with a token.
    User,
    /// A set of principals, used in DACLs.
    Group,
}

impl PrincipalKind {
    pub(crate) const fn name(self) -> &'static str {
        match self {
            PrincipalKind::User => "user",
            PrincipalKind::Group => "group",
        }
    }
}

impl FromStr for PrincipalKind {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "user" => Ok(PrincipalKind::User),
            "group" => Ok(PrincipalKind::Group),
            other => Err(StoreError::Corrupt(format!(
                "unknown principal kind {other:?}"
            ))),
        }
    }
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A principal of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Its SID, under the cluster's domain SID.
    pub sid: String,
    /// Its unique name.
    pub name: String,
    /// User or group.
    pub kind: PrincipalKind,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// A disabled principal is refused, whatever its tokens (a group's flag is not used).
    pub disabled: bool,
}

/// A principal with the groups it belongs to: what an access check needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedPrincipal {
    /// The principal itself.
    pub principal: Principal,
    /// The SIDs of the groups it is a direct member of.
    pub group_sids: Vec<String>,
    /// The token it authenticated with, when it did with one.
    pub token: Option<TokenGrant>,
}

/// What an access check needs of a token: its id and when it stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    /// Its id (the hex of the first 8 octets of its hash): how operators name it.
    pub id: String,
    /// When it stops being accepted, if it does.
    pub expires_at: Option<OffsetDateTime>,
}

/// A principal's token as operators see it: never the token itself, nor its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Its id.
    pub id: String,
    /// Whose it is.
    pub principal: String,
    /// When it was issued.
    pub created_at: OffsetDateTime,
    /// When it stops being accepted, if it does.
    pub expires_at: Option<OffsetDateTime>,
    /// When it was last used, to the hour (`None`: not since it was issued, or not recorded).
    pub last_used: Option<OffsetDateTime>,
}

/// A service's security descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptorRecord {
    /// The service's name, e.g. `SubEnrollService`.
    pub service: String,
    /// The descriptor as SDDL.
    pub sddl: String,
    /// Incremented on every change, so nodes can tell a stale copy.
    pub version: i64,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
    /// Who changed it last.
    pub updated_by: String,
}

/// What was issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IssuedKind {
    /// A server licensor certificate (of a root or a licensing server).
    Slc,
    /// A publishing license.
    PublishingLicense,
    /// A use license.
    UseLicense,
}

impl IssuedKind {
    /// The name stored in the database.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            IssuedKind::Slc => "slc",
            IssuedKind::PublishingLicense => "publishing-license",
            IssuedKind::UseLicense => "use-license",
        }
    }
}

impl fmt::Display for IssuedKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for IssuedKind {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "slc" => Ok(IssuedKind::Slc),
            "publishing-license" => Ok(IssuedKind::PublishingLicense),
            "use-license" => Ok(IssuedKind::UseLicense),
            other => Err(StoreError::Corrupt(format!(
                "unknown issued kind {other:?}"
            ))),
        }
    }
}

/// The record of one certificate or license issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedRecord {
    /// Serial number of the issuing SLC (hex): serials are unique per issuer.
    pub issuer_serial: String,
    /// Serial number of the item (hex).
    pub serial: String,
    /// What it is.
    pub kind: IssuedKind,
    /// Its subject (an SLC's subject) or grantee (a use license's principal), or the content
    /// id of a publishing license.
    pub subject: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// The principal that asked for it.
    pub requester: String,
    /// The node that issued it.
    pub issued_by: String,
    /// When it was recorded.
    pub issued_at: OffsetDateTime,
    /// The item itself, DER.
    pub der: Vec<u8>,
}

/// Whether an access was allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Allowed, or done.
    Allowed,
    /// Denied, or refused.
    Denied,
}

impl Outcome {
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Outcome {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "allowed" => Ok(Outcome::Allowed),
            "denied" => Ok(Outcome::Denied),
            other => Err(StoreError::Corrupt(format!("unknown outcome {other:?}"))),
        }
    }
}

/// An entry to append to the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// Who acted (a principal's name, or `-` when unauthenticated).
    pub principal: String,
    /// The service acted on.
    pub service: String,
    /// What was attempted, e.g. `subenroll`, `acl set`, `issue use-license`.
    pub action: String,
    /// Allowed or denied.
    pub outcome: Outcome,
    /// Why: the deciding ACE, the refusal, or what was issued.
    pub reason: String,
    /// The node that decided.
    pub node: String,
    /// The address the request came from, when it came over a network.
    pub peer: Option<String>,
    /// The request's identifier (as the server logged it and answered it in `x-request-id`).
    pub request_id: Option<String>,
}

impl NewAuditEntry {
    /// An entry of `node` for `principal`'s `action` on `service`; no peer or request id.
    pub fn new(
        principal: impl Into<String>,
        service: impl Into<String>,
        action: impl Into<String>,
        outcome: Outcome,
        reason: impl Into<String>,
        node: impl Into<String>,
    ) -> Self {
        Self {
            principal: principal.into(),
            service: service.into(),
            action: action.into(),
            outcome,
            reason: reason.into(),
            node: node.into(),
            peer: None,
            request_id: None,
        }
    }
}

/// An entry of the audit log, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Position in the log (increasing).
    pub id: i64,
    /// When it was written.
    pub at: OffsetDateTime,
    /// The entry.
    pub entry: NewAuditEntry,
}

/// A node of the cluster, as seen through its heartbeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    /// The node's identifier.
    pub node_id: String,
    /// The address it serves on.
    pub address: String,
    /// The software version it runs.
    pub version: String,
    /// When it started.
    pub started_at: OffsetDateTime,
    /// Its last heartbeat.
    pub last_seen: OffsetDateTime,
}

/// The revocation of a certificate the cluster issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationRecord {
    /// Serial (hex) of the SLC that issued the revoked certificate.
    pub issuer_serial: String,
    /// Serial (hex) of the revoked certificate.
    pub serial: String,
    /// From when it is revoked.
    pub revoked_at: OffsetDateTime,
    /// The RFC 5280 reason name, e.g. `keyCompromise`.
    pub reason: String,
    /// Who revoked it.
    pub revoked_by: String,
}

/// One grant of a rights policy template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateGrantRecord {
    /// The principal or group granted.
    pub principal: String,
    /// The rights, by name, comma-separated (e.g. `view,print`).
    pub rights: String,
}

/// A rights policy template of a licensing cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRecord {
    /// Its id (kept when the template is changed; publishing licenses record it).
    pub id: String,
    /// Its name, unique in the cluster.
    pub name: String,
    /// What it is for, for people choosing one.
    pub description: String,
    /// Who gets what.
    pub grants: Vec<TemplateGrantRecord>,
    /// Seconds after publishing at which the grants end; `None`: they end with the license.
    pub content_validity: Option<i64>,
    /// Seconds a use license issued under it lasts; `None`: the license lifetime (7 years).
    pub use_license_lifetime: Option<i64>,
    /// When it was added.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

/// A licensing cluster's super users: whether they are enabled, and who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuperUsers {
    /// Whether members get use licenses for any content the cluster published.
    pub enabled: bool,
    /// When the switch last changed (the Unix epoch when it never did).
    pub changed_at: OffsetDateTime,
    /// The members, users or groups, by name.
    pub members: Vec<Principal>,
}

/// The revocation of access to a piece of content: no new use license for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentRevocationRecord {
    /// The content's identifier, as its publishing license names it.
    pub content_id: String,
    /// Why, as the administrator wrote it (may be empty).
    pub reason: String,
    /// When.
    pub revoked_at: OffsetDateTime,
    /// Who revoked it.
    pub revoked_by: String,
}

/// The revocation of one use license the cluster issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseLicenseRevocationRecord {
    /// The use license's serial (hex).
    pub serial: String,
    /// The content it is for.
    pub content_id: String,
    /// Whom it was issued to.
    pub principal: String,
    /// Why (may be empty).
    pub reason: String,
    /// When.
    pub revoked_at: OffsetDateTime,
    /// Who revoked it.
    pub revoked_by: String,
}

//! Local administration of a cluster: principals, groups and service DACLs. Whoever can open
//! the configuration database administers the cluster, as on the original product's console;
//! these operations need no cluster secret and no token.

use rms_cert::Chain;
use rms_dacl::{AccessMask, DomainSid, SecurityDescriptor, Sid, SidContext};
use rms_keys::PrivateKey;
use rms_store::{
    ClusterIdentity, ClusterRole, DescriptorRecord, NewAuditEntry, Outcome, Principal,
    PrincipalKind, SlcRecord, Store, StoreError,
};
use time::OffsetDateTime;

use crate::secret::{ClusterSecret, hash_token, new_token, random_bytes};
use crate::{RoleError, Service};

/// The group that administers a cluster and, once granted, may sub-enroll.
pub const ADMINS_GROUP: &str = "rms-admins";
/// The administrator principal created with a cluster.
pub const ADMIN_PRINCIPAL: &str = "admin";
/// The shortest margin after expiry for which [`Admin::prune_issued`] keeps records.
pub const MIN_PRUNE_MARGIN: time::Duration = time::Duration::DAY;
const ADMINS_RID: u32 = 1000;
const ADMIN_RID: u32 = 1001;

/// The credentials created with a cluster; the token is shown once and stored only as a hash.
#[derive(Debug, Clone)]
pub struct AdminCredentials {
    /// The administrators' group.
    pub group: String,
    /// The administrator principal.
    pub principal: String,
    /// Its bearer token.
    pub token: String,
}

/// Administration of one cluster's principals and DACLs.
#[derive(Debug, Clone)]
pub struct Admin {
    store: Store,
    identity: ClusterIdentity,
    domain: DomainSid,
    actor: String,
}

impl Admin {
    /// Opens the administration of the cluster in `store`; `actor` names the operator in the
    /// audit log.
    pub async fn open(store: Store, actor: &str) -> Result<Self, RoleError> {
        let identity = store.cluster().await?;
        let domain = identity
            .domain_sid
            .parse::<Sid>()
            .ok()
            .and_then(|sid| DomainSid::from_sid(sid).ok())
            .ok_or_else(|| {
                RoleError::Internal(format!(
                    "stored domain SID {:?} is invalid",
                    identity.domain_sid
                ))
            })?;
        Ok(Self {
            store,
            identity,
            domain,
            actor: actor.to_owned(),
        })
    }

    /// The cluster's identity.
    #[must_use]
    pub fn identity(&self) -> &ClusterIdentity {
        &self.identity
    }

    /// The configuration database.
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Who the audit log names as the operator.
    pub(crate) fn actor(&self) -> &str {
        &self.actor
    }

    fn context(&self) -> SidContext {
        SidContext::domain(self.domain)
    }

    /// The SID context the cluster's SDDL is read and printed in.
    #[must_use]
    pub fn sid_context(&self) -> SidContext {
        self.context()
    }

    /// Adds a group.
    pub async fn add_group(&self, name: &str) -> Result<Principal, RoleError> {
        check_name(name)?;
        self.insert_with_fresh_sid(name, PrincipalKind::Group, &[])
            .await
            .map(|(p, _)| p)
    }

    /// Adds a user in `groups`, returning it and its token (shown once).
    pub async fn add_principal(
        &self,
        name: &str,
        groups: &[String],
    ) -> Result<(Principal, String), RoleError> {
        check_name(name)?;
        self.insert_with_fresh_sid(name, PrincipalKind::User, groups)
            .await
    }

    async fn insert_with_fresh_sid(
        &self,
        name: &str,
        kind: PrincipalKind,
        groups: &[String],
    ) -> Result<(Principal, String), RoleError> {
        // Random RIDs need no coordination between nodes; a collision (one in two billion) is
        // caught by the SID's uniqueness and retried.
        for _ in 0..4 {
            let rid = 10_000 + u32::from_be_bytes(random_bytes()?) % 1_000_000_000;
            let principal = Principal {
                sid: self
                    .domain
                    .principal(rid)
                    .map_err(|e| RoleError::Internal(e.to_string()))?
                    .to_string(),
                name: name.to_owned(),
                kind,
                created_at: OffsetDateTime::now_utc(),
                disabled: false,
            };
            let token = new_token()?;
            let result = match kind {
                PrincipalKind::User => {
                    self.store
                        .add_user(&principal, groups, &hash_token(&token))
                        .await
                }
                PrincipalKind::Group => self.store.add_principal(&principal).await,
            };
            match result {
                Ok(()) => {
                    self.log(
                        "principal add",
                        &format!("{kind} {name} ({})", principal.sid),
                    )
                    .await?;
                    return Ok((principal, token));
                }
                Err(StoreError::AlreadyExists { .. })
                    if self.store.principal(name).await.is_err() =>
                {
                    continue;
                }
                Err(StoreError::AlreadyExists { .. }) => {
                    return Err(RoleError::refused(
                        "already_exists",
                        format!("principal {name:?} already exists"),
                    ));
                }
                Err(StoreError::NotFound { what }) => {
                    return Err(RoleError::NotFound(format!("{what} does not exist")));
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(RoleError::Internal("could not find a free SID".into()))
    }

    /// Every principal.
    pub async fn principals(&self) -> Result<Vec<Principal>, RoleError> {
        Ok(self.store.principals().await?)
    }

    /// Makes `member` a member of `group`.
    pub async fn add_member(&self, member: &str, group: &str) -> Result<(), RoleError> {
        self.store.add_membership(member, group).await?;
        self.log("group add-member", &format!("{member} in {group}"))
            .await
    }

    /// The descriptor of `service`, as stored.
    pub async fn acl_show(&self, service: Service) -> Result<DescriptorRecord, RoleError> {
        Ok(self.store.descriptor(service.name()).await?)
    }

    /// Every service's descriptor.
    pub async fn acl_list(&self) -> Result<Vec<DescriptorRecord>, RoleError> {
        Ok(self.store.descriptors().await?)
    }

    /// Replaces the descriptor of `service`; returns the canonical SDDL stored.
    pub async fn acl_set(&self, service: Service, sddl: &str) -> Result<String, RoleError> {
        let descriptor = SecurityDescriptor::from_sddl(sddl, &self.context()).map_err(|e| {
            RoleError::bad_input(
                "invalid_sddl",
                format!("invalid SDDL: {}", crate::describe_error(&e)),
            )
        })?;
        self.store_descriptor(service, &descriptor, "acl set").await
    }

    /// Grants `rights` (by default the right the service requires) on `service` to `principal`
    /// (a principal or group name, a SID, or an SDDL alias such as `BA`).
    pub async fn acl_grant(
        &self,
        service: Service,
        principal: &str,
        rights: Option<AccessMask>,
    ) -> Result<String, RoleError> {
        self.edit(service, principal, rights, "acl grant", |sd, sid, mask| {
            sd.grant(sid, mask)
        })
        .await
    }

    /// Denies `rights` (by default the right the service requires) on `service` to
    /// `principal`; an explicit deny wins over any allow.
    pub async fn acl_deny(
        &self,
        service: Service,
        principal: &str,
        rights: Option<AccessMask>,
    ) -> Result<String, RoleError> {
        self.edit(service, principal, rights, "acl deny", |sd, sid, mask| {
            sd.deny(sid, mask)
        })
        .await
    }

    /// Removes every explicit entry for `principal` from `service`'s DACL.
    pub async fn acl_revoke(&self, service: Service, principal: &str) -> Result<String, RoleError> {
        let sid = self.resolve(principal).await?;
        let mut descriptor = self.descriptor(service).await?;
        descriptor
            .revoke(&sid)
            .map_err(|e| RoleError::refused("acl_edit", e.to_string()))?;
        self.store_descriptor(service, &descriptor, "acl revoke")
            .await
    }

    async fn edit(
        &self,
        service: Service,
        principal: &str,
        rights: Option<AccessMask>,
        action: &str,
        apply: impl FnOnce(&mut SecurityDescriptor, Sid, AccessMask) -> Result<(), rms_dacl::Error>,
    ) -> Result<String, RoleError> {
        let sid = self.resolve(principal).await?;
        let mask = rights.unwrap_or_else(|| service.required_right());
        let mut descriptor = self.descriptor(service).await?;
        apply(&mut descriptor, sid, mask)
            .map_err(|e| RoleError::refused("acl_edit", e.to_string()))?;
        self.store_descriptor(service, &descriptor, action).await
    }

    async fn descriptor(&self, service: Service) -> Result<SecurityDescriptor, RoleError> {
        let record = self.store.descriptor(service.name()).await?;
        SecurityDescriptor::from_sddl(&record.sddl, &self.context()).map_err(|e| {
            RoleError::Internal(format!(
                "stored descriptor of {service} is invalid: {}",
                crate::describe_error(&e)
            ))
        })
    }

    async fn store_descriptor(
        &self,
        service: Service,
        descriptor: &SecurityDescriptor,
        action: &str,
    ) -> Result<String, RoleError> {
        let sddl = descriptor.to_sddl(&self.context());
        check_reads_back(descriptor, &self.context())?;
        let entry = NewAuditEntry::new(
            self.actor.as_str(),
            service.name(),
            action,
            Outcome::Allowed,
            sddl.as_str(),
            "cli",
        );
        self.store
            .set_descriptor(service.name(), &sddl, &entry)
            .await?;
        Ok(sddl)
    }

    /// Deletes the records of items that expired more than `margin` before `now` (at least
    /// [`MIN_PRUNE_MARGIN`]: a record must outlive what it records, so that a verifier's
    /// question about a recent expiry can still be answered), writing the count to the audit
    /// log in the same transaction. Returns the cutoff and how many records went.
    pub async fn prune_issued(
        &self,
        margin: rms_policy::Lifetime,
        now: OffsetDateTime,
    ) -> Result<(OffsetDateTime, u64), RoleError> {
        let cutoff = margin
            .start_before(now)
            .map_err(|e| RoleError::bad_input("invalid_margin", e.to_string()))?;
        if now - cutoff < MIN_PRUNE_MARGIN {
            return Err(RoleError::bad_input(
                "margin_too_short",
                format!(
                    "a margin of {margin} is too short: keep records at least one day after expiry"
                ),
            ));
        }
        let entry = NewAuditEntry::new(
            self.actor.as_str(),
            crate::ADMINISTRATION,
            "certs prune",
            Outcome::Allowed,
            format!(
                "records of items expired before {} (margin {margin})",
                crate::rfc3339(cutoff)
            ),
            "cli",
        );
        let deleted = self.store.prune_issued(cutoff, &entry).await?;
        Ok((cutoff, deleted))
    }

    /// The SID of a principal or group name, a SID string, or an SDDL alias.
    pub async fn resolve(&self, principal: &str) -> Result<Sid, RoleError> {
        match self.store.principal(principal).await {
            Ok(found) => found.sid.parse().map_err(|_| RoleError::Internal(format!("stored SID {:?} is invalid", found.sid))),
            Err(StoreError::NotFound { .. }) => self.context().parse_sid(principal).map_err(|_| {
                RoleError::NotFound(format!(
                    "{principal:?} is neither a principal or group of this cluster nor a SID or SDDL alias"
                ))
            }),
            Err(other) => Err(other.into()),
        }
    }

    async fn log(&self, action: &str, reason: &str) -> Result<(), RoleError> {
        let entry = NewAuditEntry::new(
            self.actor.as_str(),
            crate::ADMINISTRATION,
            action,
            Outcome::Allowed,
            reason,
            "cli",
        );
        Ok(self.store.audit(&entry).await?)
    }
}

/// Refuses a descriptor that would not read back as itself: every node parses the stored SDDL
/// on every change, so what cannot be read back must never be stored.
fn check_reads_back(
    descriptor: &SecurityDescriptor,
    context: &SidContext,
) -> Result<(), RoleError> {
    descriptor.read_back(context).map(drop).map_err(|e| {
        RoleError::refused(
            "descriptor_not_storable",
            format!(
                "the descriptor would not read back as written ({}); nothing was stored",
                crate::describe_error(&e)
            ),
        )
    })
}

pub(crate) fn check_name(name: &str) -> Result<(), RoleError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(RoleError::bad_input(
            "invalid_name",
            format!(
                "invalid principal name {name:?}: use 1 to 64 letters, digits, '.', '_', '-' or '@'"
            ),
        ))
    }
}

/// Creates a cluster in `store`: identity, first SLC (key encrypted with `secret`), the default
/// descriptors of `services`, the admins group and one administrator.
pub(crate) async fn create_cluster(
    store: &Store,
    role: ClusterRole,
    chain: &Chain,
    key: &dyn PrivateKey,
    secret: &ClusterSecret,
    services: &[Service],
    now: OffsetDateTime,
) -> Result<AdminCredentials, RoleError> {
    let leaf = chain.leaf();
    let server = rms_cert::ServerIdentity::from_certificate(leaf).map_err(RoleError::Cert)?;
    let [a, b, c]: [u32; 3] = {
        let bytes: [u8; 12] = random_bytes()?;
        let word =
            |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]) | 1;
        [word(0), word(4), word(8)]
    };
    let domain = DomainSid::new(a, b, c);
    let validity = rms_policy::from_x509_validity(leaf.tbs_certificate().validity())
        .map_err(|e| RoleError::Internal(e.to_string()))?;
    let slc = SlcRecord {
        serial: crate::serial_hex(leaf),
        chain_pem: chain.to_pem().map_err(RoleError::Cert)?,
        encrypted_key: crate::cluster::stored_key(key, secret)?,
        not_before: validity.not_before(),
        not_after: validity.not_after(),
        installed_at: now,
    };
    let identity = ClusterIdentity {
        role,
        name: server.common_name().to_owned(),
        cluster_id: server.id().to_string(),
        domain_sid: domain.as_sid().to_string(),
        created_at: now,
    };
    store.create_cluster(&identity, &slc).await?;
    let context = SidContext::domain(domain);
    for service in services {
        let entry = NewAuditEntry::new(
            "init",
            service.name(),
            "acl init",
            Outcome::Allowed,
            service.default_sddl(),
            "cli",
        );
        let sddl = service.default_descriptor()?.to_sddl(&context);
        store.set_descriptor(service.name(), &sddl, &entry).await?;
    }
    let sid = |rid| {
        domain
            .principal(rid)
            .map(|s| s.to_string())
            .map_err(|e| RoleError::Internal(e.to_string()))
    };
    store
        .add_principal(&Principal {
            sid: sid(ADMINS_RID)?,
            name: ADMINS_GROUP.into(),
            kind: PrincipalKind::Group,
            created_at: now,
            disabled: false,
        })
        .await?;
    let token = new_token()?;
    let admin = Principal {
        sid: sid(ADMIN_RID)?,
        name: ADMIN_PRINCIPAL.into(),
        kind: PrincipalKind::User,
        created_at: now,
        disabled: false,
    };
    store
        .add_user(&admin, &[ADMINS_GROUP.to_owned()], &hash_token(&token))
        .await?;
    Ok(AdminCredentials {
        group: ADMINS_GROUP.into(),
        principal: ADMIN_PRINCIPAL.into(),
        token,
    })
}

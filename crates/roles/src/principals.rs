//! The life of principals and their tokens, administered locally: several tokens per user,
//! each with an id, an optional expiry and when it was last used; disabling, enabling and
//! removing principals; removing groups and members.
//!
//! Every change is audited, and every change but the last-used time raises the configuration
//! generation, so every node of the cluster refuses a revoked or expired token, or a disabled
//! or removed principal, on its very next request (401). Whether a token still works is
//! decided here (`Cluster::caller`), not by the store.

use rms_policy::Lifetime;
use rms_store::{NewAuditEntry, Outcome, Principal, PrincipalKind, StoreError, TokenRecord};
use time::OffsetDateTime;

use crate::admin::ADMINS_GROUP;
use crate::secret::{hash_token, new_token};
use crate::{Admin, RoleError};

/// A token just issued: its id, and the token itself (shown once, stored only as a hash).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IssuedToken {
    /// How operators and the audit log name it.
    pub id: String,
    /// The bearer token.
    pub token: String,
    /// When it stops working, if it does.
    pub expires_at: Option<OffsetDateTime>,
}

impl Admin {
    /// Gives the user `principal` another token, valid for `lifetime` (for ever when `None`).
    pub async fn issue_token(
        &self,
        principal: &str,
        lifetime: Option<Lifetime>,
    ) -> Result<IssuedToken, RoleError> {
        let now = OffsetDateTime::now_utc();
        let expires_at = lifetime
            .map(|l| l.end_from(now))
            .transpose()
            .map_err(|e| RoleError::bad_input("invalid_lifetime", e.to_string()))?
            .map(rms_policy::whole_seconds_utc);
        let token = new_token()?;
        let until = expires_at.map_or("no expiry".to_owned(), |t| {
            format!("expires {}", crate::rfc3339(t))
        });
        let entry = self.principal_entry(
            "token issue",
            format!(
                "token {} for {principal} ({until})",
                rms_store::token_id_of(&hash_token(&token))
            ),
        );
        let id = self
            .store()
            .issue_token(principal, &hash_token(&token), expires_at, &entry)
            .await
            .map_err(not_found_is_unknown)?;
        Ok(IssuedToken {
            id,
            token,
            expires_at,
        })
    }

    /// Revokes the token `id`: refused (401) on every node from now on.
    pub async fn revoke_token(&self, id: &str) -> Result<TokenRecord, RoleError> {
        let id = id.trim().to_ascii_lowercase();
        let entry = self.principal_entry("token revoke", format!("token {id}"));
        let revoked = self.store().revoke_token(&id, &entry).await?;
        Ok(revoked)
    }

    /// The tokens of `principal` (everyone's when `None`), newest first.
    pub async fn tokens(&self, principal: Option<&str>) -> Result<Vec<TokenRecord>, RoleError> {
        if let Some(name) = principal {
            self.store()
                .principal(name)
                .await
                .map_err(not_found_is_unknown)?;
        }
        Ok(self.store().tokens(principal).await?)
    }

    /// Disables the user `name`: every request with any of its tokens is refused until it is
    /// enabled again. Returns whether that changed anything.
    pub async fn disable_principal(&self, name: &str) -> Result<bool, RoleError> {
        self.set_disabled(name, true).await
    }

    /// Enables the user `name` again. Returns whether that changed anything.
    pub async fn enable_principal(&self, name: &str) -> Result<bool, RoleError> {
        self.set_disabled(name, false).await
    }

    async fn set_disabled(&self, name: &str, disabled: bool) -> Result<bool, RoleError> {
        let found = self
            .store()
            .principal(name)
            .await
            .map_err(not_found_is_unknown)?;
        if found.kind != PrincipalKind::User {
            return Err(RoleError::refused(
                "not_a_user",
                format!("{name:?} is a group: only users are disabled (remove the group instead)"),
            ));
        }
        let action = if disabled {
            "principal disable"
        } else {
            "principal enable"
        };
        let entry = self.principal_entry(action, format!("user {name}"));
        Ok(self
            .store()
            .set_principal_disabled(name, disabled, &entry)
            .await?)
    }

    /// Removes the user `name` with its tokens and memberships.
    pub async fn remove_principal(&self, name: &str) -> Result<Principal, RoleError> {
        self.remove_kind(name, PrincipalKind::User).await
    }

    /// Removes the group `name` and its memberships (its members stay). The administrators'
    /// group, which the default descriptors name, cannot be removed.
    pub async fn remove_group(&self, name: &str) -> Result<Principal, RoleError> {
        if name == ADMINS_GROUP {
            return Err(RoleError::refused(
                "protected_group",
                format!("{ADMINS_GROUP} administers the cluster and cannot be removed"),
            ));
        }
        self.remove_kind(name, PrincipalKind::Group).await
    }

    async fn remove_kind(&self, name: &str, kind: PrincipalKind) -> Result<Principal, RoleError> {
        let found = self
            .store()
            .principal(name)
            .await
            .map_err(not_found_is_unknown)?;
        if found.kind != kind {
            return Err(RoleError::refused(
                "wrong_kind",
                format!("{name:?} is a {}, not a {kind}", found.kind),
            ));
        }
        let entry = self.principal_entry(
            &format!(
                "{} remove",
                if kind == PrincipalKind::User {
                    "principal"
                } else {
                    "group"
                }
            ),
            format!("{kind} {name} ({})", found.sid),
        );
        Ok(self.store().remove_principal(name, &entry).await?)
    }

    /// Takes `member` out of `group`.
    pub async fn remove_member(&self, member: &str, group: &str) -> Result<(), RoleError> {
        let entry = self.principal_entry("group remove-member", format!("{member} from {group}"));
        Ok(self
            .store()
            .remove_membership(member, group, &entry)
            .await?)
    }

    /// The direct members of `group`.
    pub async fn group_members(&self, group: &str) -> Result<Vec<Principal>, RoleError> {
        Ok(self.store().group_members(group).await?)
    }

    fn principal_entry(&self, action: &str, reason: String) -> NewAuditEntry {
        NewAuditEntry::new(
            self.actor(),
            crate::ADMINISTRATION,
            action,
            Outcome::Allowed,
            reason,
            "cli",
        )
    }
}

fn not_found_is_unknown(error: StoreError) -> RoleError {
    match error {
        StoreError::NotFound { what } => RoleError::NotFound(format!("{what} does not exist")),
        other => other.into(),
    }
}

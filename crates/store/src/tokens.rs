//! Bearer tokens (several per principal, each with an id, an optional expiry and when it was
//! last used) and the principal life cycle: disable, enable, remove, group membership.
//! Every change to principals, memberships or tokens raises the configuration generation (by
//! trigger), so every node refuses a revoked token or a disabled principal on its next
//! request; when a token was last used is kept apart, in a table that raises nothing.

use sqlx::Row;

use crate::error::classify;
use crate::records::{NewAuditEntry, Principal, PrincipalKind, TokenRecord};
use crate::rows::{insert_audit, principal_from_row};
use crate::store::{from_unix, now_unix, to_unix};
use crate::{Store, StoreError};

/// A token's id: the hex of the first 8 octets of its hash. It names the token to operators
/// and in the audit log and says nothing that helps to guess it.
#[must_use]
pub fn token_id_of(token_hash: &[u8]) -> String {
    token_hash
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Store {
    /// Gives the user `principal` another token (its hash), with its audit entry; returns
    /// its id.
    pub async fn issue_token(
        &self,
        principal: &str,
        token_hash: &[u8],
        expires_at: Option<time::OffsetDateTime>,
        audit: &NewAuditEntry,
    ) -> Result<String, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT sid, kind FROM principals WHERE name = $1")
            .bind(principal)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: format!("principal {principal:?}"),
            })?;
        let kind: PrincipalKind = row.try_get::<String, _>("kind")?.parse()?;
        if kind != PrincipalKind::User {
            return Err(StoreError::NotFound {
                what: format!("user {principal:?} ({principal:?} is a group)"),
            });
        }
        let sid: String = row.try_get("sid")?;
        let id = token_id_of(token_hash);
        let now = now_unix();
        sqlx::query(
            "INSERT INTO tokens (token_hash, principal_sid, created_at, id, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash.to_vec())
        .bind(&sid)
        .bind(now)
        .bind(&id)
        .bind(expires_at.map(to_unix))
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, || format!("token {id}")))?;
        insert_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Revokes the token `id`, with its audit entry; returns what it was.
    pub async fn revoke_token(
        &self,
        id: &str,
        audit: &NewAuditEntry,
    ) -> Result<TokenRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let found = sqlx::query(TOKEN_SELECT_BY_ID)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: format!("token {id}"),
            })?;
        let record = token_from_row(&found)?;
        sqlx::query("DELETE FROM tokens WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM token_usage WHERE token_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, audit, now_unix()).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// The tokens of `principal` (every principal's when `None`), newest first.
    pub async fn tokens(&self, principal: Option<&str>) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.id, p.name, t.created_at, t.expires_at, u.last_used FROM tokens t
             JOIN principals p ON p.sid = t.principal_sid
             LEFT JOIN token_usage u ON u.token_id = t.id
             WHERE ($1 = '' OR p.name = $1) ORDER BY t.created_at DESC, t.id",
        )
        .bind(principal.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// Records that the token `id` was used at `at` (callers record it coarsely, about once an
    /// hour per token: this is for operators, not for access decisions).
    pub async fn record_token_use(
        &self,
        id: &str,
        at: time::OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO token_usage (token_id, last_used) VALUES ($1, $2)
             ON CONFLICT (token_id) DO UPDATE SET last_used = excluded.last_used",
        )
        .bind(id)
        .bind(to_unix(at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Disables (or enables again) the principal `name`, with its audit entry. Returns whether
    /// that changed anything (an unchanged flag writes nothing).
    pub async fn set_principal_disabled(
        &self,
        name: &str,
        disabled: bool,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let principal = principal_in(&mut tx, name).await?;
        if principal.disabled == disabled {
            return Ok(false);
        }
        sqlx::query("UPDATE principals SET disabled = $1 WHERE sid = $2")
            .bind(i64::from(disabled))
            .bind(&principal.sid)
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, audit, now_unix()).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Removes the principal or group `name`: its tokens, its memberships (as a member, and
    /// as a group its members'), its super-user membership and itself, with its audit entry,
    /// in one transaction. Entries of security descriptors that name its SID stay (they grant
    /// or deny nobody now).
    pub async fn remove_principal(
        &self,
        name: &str,
        audit: &NewAuditEntry,
    ) -> Result<Principal, StoreError> {
        let mut tx = self.begin_write().await?;
        let principal = principal_in(&mut tx, name).await?;
        for statement in [
            "DELETE FROM token_usage WHERE token_id IN
             (SELECT id FROM tokens WHERE principal_sid = $1)",
            "DELETE FROM tokens WHERE principal_sid = $1",
            "DELETE FROM memberships WHERE member_sid = $1 OR group_sid = $1",
            "DELETE FROM super_user_members WHERE sid = $1",
            "DELETE FROM principals WHERE sid = $1",
        ] {
            sqlx::query(statement)
                .bind(&principal.sid)
                .execute(&mut *tx)
                .await?;
        }
        insert_audit(&mut tx, audit, now_unix()).await?;
        tx.commit().await?;
        Ok(principal)
    }

    /// Takes `member` out of `group`, with its audit entry.
    pub async fn remove_membership(
        &self,
        member: &str,
        group: &str,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let member_p = principal_in(&mut tx, member).await?;
        let group_p = principal_in(&mut tx, group).await?;
        let removed =
            sqlx::query("DELETE FROM memberships WHERE member_sid = $1 AND group_sid = $2")
                .bind(&member_p.sid)
                .bind(&group_p.sid)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if removed == 0 {
            return Err(StoreError::NotFound {
                what: format!("membership of {member:?} in {group:?}"),
            });
        }
        insert_audit(&mut tx, audit, now_unix()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The direct members of the group `group`, by name.
    pub async fn group_members(&self, group: &str) -> Result<Vec<Principal>, StoreError> {
        let found = self.principal(group).await?;
        if found.kind != PrincipalKind::Group {
            return Err(StoreError::NotFound {
                what: format!("group {group:?} ({group:?} is a user)"),
            });
        }
        let rows = sqlx::query(
            "SELECT p.sid, p.name, p.kind, p.created_at, p.disabled FROM memberships m
             JOIN principals p ON p.sid = m.member_sid WHERE m.group_sid = $1 ORDER BY p.name",
        )
        .bind(&found.sid)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(principal_from_row).collect()
    }
}

const TOKEN_SELECT_BY_ID: &str =
    "SELECT t.id, p.name, t.created_at, t.expires_at, u.last_used FROM tokens t
     JOIN principals p ON p.sid = t.principal_sid
     LEFT JOIN token_usage u ON u.token_id = t.id WHERE t.id = $1";

async fn principal_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    name: &str,
) -> Result<Principal, StoreError> {
    let row =
        sqlx::query("SELECT sid, name, kind, created_at, disabled FROM principals WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: format!("principal {name:?}"),
            })?;
    principal_from_row(&row)
}

fn token_from_row(row: &sqlx::any::AnyRow) -> Result<TokenRecord, StoreError> {
    let expires_at: Option<i64> = row.try_get("expires_at")?;
    let last_used: Option<i64> = row.try_get("last_used")?;
    Ok(TokenRecord {
        id: row.try_get("id")?,
        principal: row.try_get("name")?,
        created_at: from_unix(row.try_get("created_at")?)?,
        expires_at: expires_at.map(from_unix).transpose()?,
        last_used: last_used.map(from_unix).transpose()?,
    })
}

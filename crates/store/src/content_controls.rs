//! A licensing cluster's controls over its content: the super users, and the revocations of
//! content and of single use licenses. Every change raises the configuration generation (the
//! tables have its triggers), so every node sees it on its next request.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::classify;
use crate::records::{
    ContentRevocationRecord, NewAuditEntry, SuperUsers, UseLicenseRevocationRecord,
};
use crate::rows::{insert_audit, principal_from_row};
use crate::store::{from_unix, now_unix, to_unix};
use crate::{Store, StoreError};

impl Store {
    // ----- super users -----

    /// The super users: the switch and the members.
    pub async fn super_users(&self) -> Result<SuperUsers, StoreError> {
        let row = sqlx::query("SELECT enabled, changed_at FROM super_users WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        let enabled: i64 = row.try_get("enabled")?;
        let members = sqlx::query(
            "SELECT p.sid, p.name, p.kind, p.created_at, p.disabled FROM super_user_members m
             JOIN principals p ON p.sid = m.sid ORDER BY p.name",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(SuperUsers {
            enabled: enabled != 0,
            changed_at: from_unix(row.try_get("changed_at")?)?,
            members: members
                .iter()
                .map(principal_from_row)
                .collect::<Result<_, _>>()?,
        })
    }

    /// Turns the super users on or off, with its audit entry. Returns whether the switch
    /// changed (setting it as it is changes nothing and writes nothing).
    pub async fn set_super_users_enabled(
        &self,
        enabled: bool,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let now = now_unix();
        let changed = sqlx::query(
            "UPDATE super_users SET enabled = $1, changed_at = $2 WHERE id = 1 AND enabled <> $1",
        )
        .bind(i64::from(enabled))
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if changed {
            insert_audit(&mut tx, audit, now).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Makes the principal or group `name` a super user, with its audit entry.
    pub async fn add_super_user(
        &self,
        name: &str,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let sid = principal_sid(&mut tx, name).await?;
        let now = now_unix();
        sqlx::query("INSERT INTO super_user_members (sid, added_at) VALUES ($1, $2)")
            .bind(&sid)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(e, || format!("super user {name:?}")))?;
        insert_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes `name` from the super users, with its audit entry.
    pub async fn remove_super_user(
        &self,
        name: &str,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let sid = principal_sid(&mut tx, name).await?;
        let removed = sqlx::query("DELETE FROM super_user_members WHERE sid = $1")
            .bind(&sid)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if removed == 0 {
            return Err(StoreError::NotFound {
                what: format!("super user {name:?}"),
            });
        }
        insert_audit(&mut tx, audit, now_unix()).await?;
        tx.commit().await?;
        Ok(())
    }

    // ----- revocations of content and use licenses -----

    /// Whether this cluster issued a publishing license for `content_id` (that has not been
    /// pruned).
    pub async fn has_published(&self, content_id: &str) -> Result<bool, StoreError> {
        // The kind is written out (it is IssuedKind::PublishingLicense's name) so that the
        // partial index `issued_published_content` serves the query.
        let found: Option<String> = sqlx::query_scalar(
            "SELECT serial FROM issued WHERE kind = 'publishing-license' AND subject = $1 LIMIT 1",
        )
        .bind(content_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// Revokes access to a piece of content, with its audit entry (refused when it is
    /// revoked already).
    pub async fn revoke_content(
        &self,
        revocation: &ContentRevocationRecord,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO content_revocations (content_id, reason, revoked_at, revoked_by)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&revocation.content_id)
        .bind(&revocation.reason)
        .bind(to_unix(revocation.revoked_at))
        .bind(&revocation.revoked_by)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            classify(e, || {
                format!("revocation of content {:?}", revocation.content_id)
            })
        })?;
        insert_audit(&mut tx, audit, now_unix()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Revokes one use license, with its audit entry (refused when it is revoked already).
    pub async fn revoke_use_license(
        &self,
        revocation: &UseLicenseRevocationRecord,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO use_license_revocations
             (serial, content_id, principal, reason, revoked_at, revoked_by)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&revocation.serial)
        .bind(&revocation.content_id)
        .bind(&revocation.principal)
        .bind(&revocation.reason)
        .bind(to_unix(revocation.revoked_at))
        .bind(&revocation.revoked_by)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            classify(e, || {
                format!("revocation of use license {}", revocation.serial)
            })
        })?;
        insert_audit(&mut tx, audit, now_unix()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every revoked piece of content, oldest revocation first.
    pub async fn content_revocations(&self) -> Result<Vec<ContentRevocationRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT content_id, reason, revoked_at, revoked_by FROM content_revocations
             ORDER BY revoked_at, content_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(content_revocation_from_row).collect()
    }

    /// Every revoked use license, oldest revocation first.
    pub async fn use_license_revocations(
        &self,
    ) -> Result<Vec<UseLicenseRevocationRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT serial, content_id, principal, reason, revoked_at, revoked_by
             FROM use_license_revocations ORDER BY revoked_at, serial",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(UseLicenseRevocationRecord {
                    serial: row.try_get("serial")?,
                    content_id: row.try_get("content_id")?,
                    principal: row.try_get("principal")?,
                    reason: row.try_get("reason")?,
                    revoked_at: from_unix(row.try_get("revoked_at")?)?,
                    revoked_by: row.try_get("revoked_by")?,
                })
            })
            .collect()
    }
}

async fn principal_sid(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    name: &str,
) -> Result<String, StoreError> {
    let sid: Option<String> = sqlx::query_scalar("SELECT sid FROM principals WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?;
    sid.ok_or_else(|| StoreError::NotFound {
        what: format!("principal {name:?}"),
    })
}

fn content_revocation_from_row(row: &AnyRow) -> Result<ContentRevocationRecord, StoreError> {
    Ok(ContentRevocationRecord {
        content_id: row.try_get("content_id")?,
        reason: row.try_get("reason")?,
        revoked_at: from_unix(row.try_get("revoked_at")?)?,
        revoked_by: row.try_get("revoked_by")?,
    })
}

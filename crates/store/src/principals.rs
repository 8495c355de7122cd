//! Principals (users and groups), memberships and token hashes, and the configuration
//! generation that every change to them raises.

use crate::error::classify;
use crate::records::*;
use crate::rows::*;
use sqlx::Row;

use crate::store::{from_unix, to_unix};
use crate::tokens::token_id_of;
use crate::{Store, StoreError};

impl Store {
    // ----- principals, groups, tokens -----

    /// Adds a user or group.
    pub async fn add_principal(&self, principal: &Principal) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO principals (sid, name, kind, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&principal.sid)
            .bind(&principal.name)
            .bind(principal.kind.to_string())
            .bind(to_unix(principal.created_at))
            .execute(&self.pool)
            .await
            .map_err(|e| {
                classify(e, || {
                    format!("principal {:?} or SID {}", principal.name, principal.sid)
                })
            })?;
        Ok(())
    }

    /// The principal called `name`.
    pub async fn principal(&self, name: &str) -> Result<Principal, StoreError> {
        let row = sqlx::query(
            "SELECT sid, name, kind, created_at, disabled FROM principals WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: format!("principal {name:?}"),
        })?;
        principal_from_row(&row)
    }

    /// Every principal, by name.
    pub async fn principals(&self) -> Result<Vec<Principal>, StoreError> {
        let rows = sqlx::query(
            "SELECT sid, name, kind, created_at, disabled FROM principals ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(principal_from_row).collect()
    }

    /// Makes user `member` a member of group `group`.
    pub async fn add_membership(&self, member: &str, group: &str) -> Result<(), StoreError> {
        let member = self.principal(member).await?;
        let group = self.principal(group).await?;
        if group.kind != PrincipalKind::Group {
            return Err(StoreError::NotFound {
                what: format!("group {:?} ({:?} is a user)", group.name, group.name),
            });
        }
        sqlx::query("INSERT INTO memberships (member_sid, group_sid) VALUES ($1, $2)")
            .bind(&member.sid)
            .bind(&group.sid)
            .execute(&self.pool)
            .await
            .map_err(|e| {
                classify(e, || {
                    format!("membership of {:?} in {:?}", member.name, group.name)
                })
            })?;
        Ok(())
    }

    /// Adds a principal and its memberships and token in one transaction, so a failure leaves no
    /// half-created principal behind.
    pub async fn add_user(
        &self,
        principal: &Principal,
        groups: &[String],
        token_hash: &[u8],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO principals (sid, name, kind, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&principal.sid)
            .bind(&principal.name)
            .bind(principal.kind.to_string())
            .bind(to_unix(principal.created_at))
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                classify(e, || {
                    format!("principal {:?} or SID {}", principal.name, principal.sid)
                })
            })?;
        for group in groups {
            let group_sid: Option<String> =
                sqlx::query_scalar("SELECT sid FROM principals WHERE name = $1 AND kind = 'group'")
                    .bind(group)
                    .fetch_optional(&mut *tx)
                    .await?;
            let group_sid = group_sid.ok_or_else(|| StoreError::NotFound {
                what: format!("group {group:?}"),
            })?;
            sqlx::query("INSERT INTO memberships (member_sid, group_sid) VALUES ($1, $2)")
                .bind(&principal.sid)
                .bind(group_sid)
                .execute(&mut *tx)
                .await
                .map_err(|e| classify(e, || format!("membership in {group:?}")))?;
        }
        sqlx::query(
            "INSERT INTO tokens (token_hash, principal_sid, created_at, id) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash.to_vec())
        .bind(&principal.sid)
        .bind(to_unix(principal.created_at))
        .bind(token_id_of(token_hash))
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, || "token".to_owned()))?;
        tx.commit().await?;
        Ok(())
    }

    /// The principal whose token hashes to `token_hash`, with its groups and the token's id
    /// and expiry; `None` for an unknown (or revoked) token. Whether a disabled principal or
    /// an expired token may still call is not the store's to say.
    pub async fn authenticate(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<AuthenticatedPrincipal>, StoreError> {
        let row = sqlx::query(
            "SELECT p.sid, p.name, p.kind, p.created_at, p.disabled, t.id, t.expires_at
             FROM tokens t JOIN principals p ON p.sid = t.principal_sid WHERE t.token_hash = $1",
        )
        .bind(token_hash.to_vec())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut found = self.with_groups(principal_from_row(&row)?).await?;
        let id: Option<String> = row.try_get("id")?;
        let expires_at: Option<i64> = row.try_get("expires_at")?;
        found.token = Some(TokenGrant {
            id: id.unwrap_or_else(|| token_id_of(token_hash)),
            expires_at: expires_at.map(from_unix).transpose()?,
        });
        Ok(Some(found))
    }

    /// The principal called `name`, with its groups, for a caller that was authenticated by
    /// other means than one of our tokens.
    pub async fn principal_with_groups(
        &self,
        name: &str,
    ) -> Result<AuthenticatedPrincipal, StoreError> {
        let principal = self.principal(name).await?;
        self.with_groups(principal).await
    }

    async fn with_groups(
        &self,
        principal: Principal,
    ) -> Result<AuthenticatedPrincipal, StoreError> {
        let group_sids: Vec<String> = sqlx::query_scalar(
            "SELECT group_sid FROM memberships WHERE member_sid = $1 ORDER BY group_sid",
        )
        .bind(&principal.sid)
        .fetch_all(&self.pool)
        .await?;
        Ok(AuthenticatedPrincipal {
            principal,
            group_sids,
            token: None,
        })
    }

    /// The names of the groups `name` belongs to.
    pub async fn groups_of(&self, name: &str) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT g.name FROM memberships m JOIN principals u ON u.sid = m.member_sid
             JOIN principals g ON g.sid = m.group_sid WHERE u.name = $1 ORDER BY g.name",
        )
        .bind(name)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The configuration generation: a counter the database itself raises (by trigger) on
    /// every change to principals, memberships, tokens or descriptors, whoever makes it. A node
    /// that caches those reads this one number per request and drops its cache when it moved.
    ///
    /// Concurrent callers share reads: a caller waits for the next read that starts after it
    /// called, so it never misses a change committed before, and one query serves everyone
    /// waiting.
    pub async fn config_generation(&self) -> Result<i64, StoreError> {
        let (sender, shared) = tokio::sync::oneshot::channel();
        if let Some(mut reader) = self.generations.push(sender) {
            let store = self.clone();
            tokio::spawn(async move {
                while let Some(waiters) = reader.next_round(usize::MAX) {
                    let read = store
                        .read_generation()
                        .await
                        .map_err(|e| crate::error::cause_text(&e));
                    for waiter in waiters {
                        let _ = waiter.send(read.clone());
                    }
                }
            });
        }
        match shared.await {
            Ok(Ok(generation)) => Ok(generation),
            // Everyone waiting learns of a failure at once: none of them tries again alone.
            Ok(Err(error)) => Err(StoreError::UnavailableShared(error)),
            // The reader stopped without answering (its runtime shut down): read alone.
            Err(_) => self.read_generation().await,
        }
    }

    async fn read_generation(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT generation FROM config_generation WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

//! The append-only audit log.

use sqlx::{AssertSqlSafe, Row};
use time::OffsetDateTime;

use crate::records::*;
use crate::rows::*;
use crate::store::{from_unix, now_unix, to_unix};
use crate::{Store, StoreError};

impl Store {
    // ----- audit log -----

    /// Appends an entry to the audit log.
    pub async fn audit(&self, entry: &NewAuditEntry) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        insert_audit(&mut tx, entry, now_unix()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Audit entries written at or after `since`, oldest first, at most `limit`.
    pub async fn audit_log(
        &self,
        since: Option<OffsetDateTime>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, principal, service, action, outcome, reason, node, peer, request_id
             FROM audit WHERE at >= $1 ORDER BY id LIMIT $2",
        )
        .bind(since.map(to_unix).unwrap_or(i64::MIN))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(audit_entry).collect()
    }

    /// The newest audit entries that `filter` selects, newest first, at most `filter.limit`,
    /// and how many more it selects beyond those, counted up to `filter.count_limit`.
    ///
    /// Both reads walk the log from its newest entry and stop once they have what they need, so
    /// a page costs the same on a log of a thousand entries and of a billion (an exact count of
    /// everything older would read the whole log: every issuance writes an entry). A filter that
    /// few entries match still reads back until it has found them: the log has no index but its
    /// order, since any other would cost every issuance.
    pub async fn audit_page(&self, filter: &AuditFilter) -> Result<AuditPage, StoreError> {
        let mut conditions = vec!["at >= $1".to_owned(), "at <= $2".to_owned()];
        let mut texts = Vec::new();
        for (column, value) in [
            ("principal", filter.principal.as_deref()),
            ("service", filter.service.as_deref()),
            ("outcome", filter.outcome.map(|o| o.name())),
        ] {
            if let Some(value) = value {
                texts.push(value.to_owned());
                conditions.push(format!("{column} = ${}", texts.len() + 2));
            }
        }
        let condition = conditions.join(" AND ");
        let since = filter.since.map(to_unix).unwrap_or(i64::MIN);
        let until = filter.until.map(to_unix).unwrap_or(i64::MAX);
        let limit = filter.limit.max(0);
        // One more than the bound, to tell "exactly the bound" from "beyond it".
        let count_limit = i64::try_from(filter.count_limit)
            .unwrap_or(i64::MAX)
            .saturating_add(1);
        // One read transaction, so that the page and the count agree.
        let mut tx = self.pool.begin().await?;
        let page_sql = format!(
            "SELECT id, at, principal, service, action, outcome, reason, node, peer, request_id
             FROM audit WHERE {condition} ORDER BY id DESC LIMIT ${}",
            texts.len() + 3
        );
        let mut page = sqlx::query(AssertSqlSafe(page_sql)).bind(since).bind(until);
        for text in &texts {
            page = page.bind(text.clone());
        }
        let rows = page.bind(limit).fetch_all(&mut *tx).await?;
        // The entries past the page: the same walk, skipping the page's entries.
        let count_sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM audit WHERE {condition}
                                   ORDER BY id DESC LIMIT ${} OFFSET ${}) AS older",
            texts.len() + 3,
            texts.len() + 4
        );
        let mut count = sqlx::query_scalar(AssertSqlSafe(count_sql))
            .bind(since)
            .bind(until);
        for text in &texts {
            count = count.bind(text.clone());
        }
        let older: i64 = count
            .bind(count_limit)
            .bind(limit)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        let entries = rows
            .iter()
            .map(audit_entry)
            .collect::<Result<Vec<_>, _>>()?;
        let older = u64::try_from(older).unwrap_or(0);
        let more = if older > filter.count_limit {
            MoreEntries::AtLeast(filter.count_limit)
        } else {
            MoreEntries::Exactly(older)
        };
        Ok(AuditPage { entries, more })
    }
}

fn audit_entry(row: &sqlx::any::AnyRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        id: row.try_get("id")?,
        at: from_unix(row.try_get("at")?)?,
        entry: NewAuditEntry {
            principal: row.try_get("principal")?,
            service: row.try_get("service")?,
            action: row.try_get("action")?,
            outcome: row.try_get::<String, _>("outcome")?.parse()?,
            reason: row.try_get("reason")?,
            node: row.try_get("node")?,
            peer: row.try_get("peer")?,
            request_id: row.try_get("request_id")?,
        },
    })
}

/// Which audit entries [`Store::audit_page`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only entries written at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Only entries written at or before this time.
    pub until: Option<OffsetDateTime>,
    /// Only entries of this principal (its name, or `-` for unauthenticated callers).
    pub principal: Option<String>,
    /// Only entries of this service (as recorded, e.g. `SubEnrollService`, `Administration`).
    pub service: Option<String>,
    /// Only allowed, or only denied, entries.
    pub outcome: Option<Outcome>,
    /// At most this many entries.
    pub limit: i64,
    /// Count the entries beyond the page up to this many, and say "at least this many" past
    /// it: what bounds the read of a long log.
    pub count_limit: u64,
}

impl AuditFilter {
    /// How far past a page the entries left are counted unless a filter says otherwise.
    pub const DEFAULT_COUNT_LIMIT: u64 = 10_000;
}

impl Default for AuditFilter {
    fn default() -> Self {
        Self {
            since: None,
            until: None,
            principal: None,
            service: None,
            outcome: None,
            limit: 100,
            count_limit: AuditFilter::DEFAULT_COUNT_LIMIT,
        }
    }
}

/// A page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    /// The entries, newest first.
    pub entries: Vec<AuditEntry>,
    /// How many more entries the filter selects, older than these.
    pub more: MoreEntries,
}

/// How many entries a filter selects beyond a page, counted no further than a bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoreEntries {
    /// Exactly this many (none: the page holds every entry the filter selects).
    Exactly(u64),
    /// This many or more: the count stopped at the filter's bound.
    AtLeast(u64),
}

impl MoreEntries {
    /// The count: exact, or the bound it stopped at.
    #[must_use]
    pub const fn count(self) -> u64 {
        match self {
            MoreEntries::Exactly(count) | MoreEntries::AtLeast(count) => count,
        }
    }

    /// Whether the count is exact.
    #[must_use]
    pub const fn is_exact(self) -> bool {
        matches!(self, MoreEntries::Exactly(_))
    }
}

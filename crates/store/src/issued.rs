//! Issuance records (group-committed), their pruning, and revocations.

use sqlx::AssertSqlSafe;
use time::OffsetDateTime;

use crate::batch::{Job, MAX_BATCH, gather_under_load};
use crate::error::classify;
use crate::records::*;
use crate::rows::*;
use crate::store::{Store, now_unix, to_unix};
use crate::{Backend, StoreError};

impl Store {
    // ----- issuance records -----

    /// Records an issued item and its audit entry, committed in one transaction, and returns
    /// only once they are committed. A serial already issued by the same issuer is refused with
    /// [`StoreError::AlreadyExists`] and nothing is written.
    ///
    /// Concurrent calls are committed together (group commit): records that arrive while a
    /// transaction commits share the next one, and under load on PostgreSQL the writer lets
    /// them gather a few milliseconds first. Each caller still learns its own outcome.
    pub async fn record_issued(
        &self,
        record: &IssuedRecord,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        self.record(record, audit, None).await
    }

    /// [`Store::record_issued`] for an issuance allowed by an access decision made on the
    /// configuration as of generation `decided_at` (possibly from a cache): the commit checks
    /// that the generation is still `decided_at` and otherwise writes nothing and returns
    /// [`StoreError::StaleConfiguration`]. Checking at the commit, once per batch, replaces
    /// reading the generation before every decision.
    pub async fn record_issued_checked(
        &self,
        record: &IssuedRecord,
        audit: &NewAuditEntry,
        decided_at: i64,
    ) -> Result<(), StoreError> {
        self.record(record, audit, Some(decided_at)).await
    }

    async fn record(
        &self,
        record: &IssuedRecord,
        audit: &NewAuditEntry,
        decided_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let (done, outcome) = tokio::sync::oneshot::channel();
        let job = Job {
            record: record.clone(),
            audit: audit.clone(),
            decided_at,
            done,
        };
        if let Some(mut writer) = self.group.push(job) {
            let store = self.clone();
            tokio::spawn(async move {
                let gather = gather_under_load(store.backend());
                let mut under_load = false;
                loop {
                    if let (true, Some(gather)) = (under_load, gather) {
                        tokio::time::sleep(gather).await;
                    }
                    let Some(batch) = writer.next_round(MAX_BATCH) else {
                        break;
                    };
                    under_load = batch.len() > 1;
                    store.commit_batch(batch).await;
                }
            });
        }
        outcome.await.map_err(|_| {
            StoreError::Interrupted("the issuance writer stopped before committing".into())
        })?
    }

    /// Commits `batch` in one transaction; if the database refuses it, commits each record alone
    /// so that one bad record (a duplicate serial) fails only its own request, with its own
    /// error.
    async fn commit_batch(&self, mut batch: Vec<Job>) {
        while batch.len() > 1 {
            match self.insert_issued(&batch).await {
                Ok(()) => {
                    for job in batch {
                        let _ = job.done.send(Ok(()));
                    }
                    return;
                }
                // The database is out of reach: retrying each record alone would only make
                // every caller wait again. They all learn it now.
                Err(error) if error.is_unavailable() => {
                    let text = crate::error::cause_text(&error);
                    for job in batch {
                        let _ = job
                            .done
                            .send(Err(StoreError::UnavailableShared(text.clone())));
                    }
                    return;
                }
                // Some decisions predate a configuration change: those callers decide again;
                // the others' records go in without them.
                Err(StoreError::StaleConfiguration { current }) => {
                    let (stale, fresh): (Vec<Job>, Vec<Job>) =
                        batch.into_iter().partition(|job| job.is_stale(current));
                    for job in stale {
                        let _ = job
                            .done
                            .send(Err(StoreError::StaleConfiguration { current }));
                    }
                    batch = fresh;
                }
                // A refusal (a duplicate serial): find whose, each record in its own transaction.
                Err(_) => break,
            }
        }
        for job in batch {
            let outcome = self.insert_issued(std::slice::from_ref(&job)).await;
            // The caller may have gone away; its record's fate is in the audit log either way.
            let _ = job.done.send(outcome);
        }
    }

    /// Inserts the records of `jobs` and their audit entries in one transaction, with one
    /// statement for the records and one for the entries (each statement is a round trip to the
    /// database, which matters more than its size).
    async fn insert_issued(&self, jobs: &[Job]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let records = values_clause(self.backend(), jobs.len(), 10);
        let sql = format!(
            "INSERT INTO issued (issuer_serial, serial, kind, subject, not_before, not_after,
                                 requester, issued_by, issued_at, der) VALUES {records}"
        );
        let mut insert = sqlx::query(AssertSqlSafe(sql));
        for job in jobs {
            let record = &job.record;
            insert = insert
                .bind(record.issuer_serial.clone())
                .bind(record.serial.clone())
                .bind(record.kind.name())
                .bind(record.subject.clone())
                .bind(to_unix(record.not_before))
                .bind(to_unix(record.not_after))
                .bind(record.requester.clone())
                .bind(record.issued_by.clone())
                .bind(to_unix(record.issued_at))
                .bind(record.der.clone());
        }
        insert.execute(&mut *tx).await.map_err(|e| {
            classify(e, || match jobs {
                [job] => format!(
                    "serial {} of issuer {}",
                    job.record.serial, job.record.issuer_serial
                ),
                _ => "a serial of this batch".to_owned(),
            })
        })?;
        let entries = values_clause(self.backend(), jobs.len(), 9);
        let sql = format!(
            "INSERT INTO audit (at, principal, service, action, outcome, reason, node, peer, request_id)
             VALUES {entries}"
        );
        let mut insert = sqlx::query(AssertSqlSafe(sql));
        for job in jobs {
            let entry = &job.audit;
            insert = insert
                .bind(to_unix(job.record.issued_at))
                .bind(entry.principal.clone())
                .bind(entry.service.clone())
                .bind(entry.action.clone())
                .bind(entry.outcome.to_string())
                .bind(entry.reason.clone())
                .bind(entry.node.clone())
                .bind(entry.peer.clone())
                .bind(entry.request_id.clone());
        }
        insert.execute(&mut *tx).await?;
        // Read after the inserts: the transaction then holds the write lock (SQLite), so the
        // generation cannot move before the commit; PostgreSQL reads the latest committed one.
        if jobs.iter().any(|job| job.decided_at.is_some()) {
            let current: i64 =
                sqlx::query_scalar("SELECT generation FROM config_generation WHERE id = 1")
                    .fetch_one(&mut *tx)
                    .await?;
            if jobs.iter().any(|job| job.is_stale(current)) {
                // Dropping the transaction rolls it back.
                return Err(StoreError::StaleConfiguration { current });
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Issued items, newest first, optionally only those of `kind` or expiring before
    /// `expiring_before`, at most `limit`.
    ///
    /// Without an expiry bound the newest are read through the index of issuance times
    /// (`issued_by_time`) from its end, so listing the last hundred costs the same however many
    /// items are recorded (a kind that few items are of reads further back). With one, the
    /// items expiring before it are found through the index of expiry times and only they are
    /// sorted: few expire soon among licenses that last seven years.
    pub async fn issued(&self, filter: &IssuedFilter) -> Result<Vec<IssuedRecord>, StoreError> {
        let mut conditions = Vec::new();
        if filter.kind.is_some() {
            conditions.push(format!("kind = ${}", conditions.len() + 1));
        }
        if filter.expiring_before.is_some() {
            conditions.push(format!("not_after <= ${}", conditions.len() + 1));
        }
        let condition = match conditions.is_empty() {
            true => String::new(),
            false => format!("WHERE {}", conditions.join(" AND ")),
        };
        // `issued_at + 0` is not the indexed column, so that SQLite, which keeps no statistics
        // here, does not walk the whole time index past every item expiring later.
        let newest_first = match filter.expiring_before {
            Some(_) => "issued_at + 0 DESC, serial DESC",
            None => "issued_at DESC, serial DESC",
        };
        let sql = format!(
            "SELECT issuer_serial, serial, kind, subject, not_before, not_after, requester,
                    issued_by, issued_at, der
             FROM issued {condition}
             ORDER BY {newest_first} LIMIT ${}",
            conditions.len() + 1
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        if let Some(kind) = filter.kind {
            query = query.bind(kind.name());
        }
        if let Some(before) = filter.expiring_before {
            query = query.bind(to_unix(before));
        }
        let rows = query
            .bind(filter.limit.unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(issued_from_row).collect()
    }

    /// The item with `serial` that one of this cluster's SLCs (the current one or any held
    /// before) issued, if recorded: a lookup in the primary key per SLC, however many items are
    /// recorded.
    pub async fn issued_by_cluster(
        &self,
        serial: &str,
    ) -> Result<Option<IssuedRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT issuer_serial, serial, kind, subject, not_before, not_after, requester,
                    issued_by, issued_at, der
             FROM issued WHERE serial = $1 AND issuer_serial IN (SELECT serial FROM slcs)",
        )
        .bind(serial)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(issued_from_row).transpose()
    }

    /// Deletes the records of items whose validity ended before `expired_before`, recording
    /// how many in the audit log, in one transaction. Returns how many were deleted. (Choosing
    /// a cutoff well before now, so that nothing still valid or recently expired goes, is the
    /// caller's job.)
    pub async fn prune_issued(
        &self,
        expired_before: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM issued WHERE not_after < $1")
            .bind(to_unix(expired_before))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let entry = NewAuditEntry {
            reason: format!("{}; {deleted} records deleted", audit.reason),
            ..audit.clone()
        };
        insert_audit(&mut tx, &entry, now_unix()).await?;
        tx.commit().await?;
        Ok(deleted)
    }

    /// How many items of `kind` have been issued.
    pub async fn count_issued(&self, kind: IssuedKind) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM issued WHERE kind = $1")
                .bind(kind.name())
                .fetch_one(&self.pool)
                .await?,
        )
    }

    // ----- revocations -----

    /// Records the revocation of a certificate and its audit entry, in one transaction; a
    /// certificate revoked before is refused with [`StoreError::AlreadyExists`].
    pub async fn revoke(
        &self,
        revocation: &RevocationRecord,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let now = now_unix();
        sqlx::query(
            "INSERT INTO revocations (issuer_serial, serial, revoked_at, reason, revoked_by,
                                      recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&revocation.issuer_serial)
        .bind(&revocation.serial)
        .bind(to_unix(revocation.revoked_at))
        .bind(&revocation.reason)
        .bind(&revocation.revoked_by)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, || format!("revocation of serial {}", revocation.serial)))?;
        insert_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every revocation, oldest first.
    pub async fn revocations(&self) -> Result<Vec<RevocationRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT issuer_serial, serial, revoked_at, reason, revoked_by FROM revocations
             ORDER BY revoked_at, serial",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(revocation_from_row).collect()
    }

    /// The revocation of the certificate with `serial`, if it is revoked.
    pub async fn revocation(&self, serial: &str) -> Result<Option<RevocationRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT issuer_serial, serial, revoked_at, reason, revoked_by FROM revocations
             WHERE serial = $1",
        )
        .bind(serial)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(revocation_from_row).transpose()
    }

    /// The next CRL number: one more than the last one handed out, on any node.
    pub async fn next_crl_number(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "UPDATE crl_counter SET number = number + 1 WHERE id = 1 RETURNING number",
        )
        .fetch_one(&self.pool)
        .await?)
    }
}

/// The placeholders of a multi-row `VALUES` clause of `rows` rows of `columns` each, bound in
/// order: `(?, ?), (?, ?)` on SQLite, `($1, $2), ($3, $4)` on PostgreSQL (which has no anonymous
/// placeholder).
///
/// On SQLite anonymous placeholders are what keep binding linear: for numbered ones, sqlx looks
/// up each parameter's name, which SQLite finds by walking the statement's list of names, so a
/// batch of 128 records (1,280 parameters) took some 800,000 steps to bind.
fn values_clause(backend: Backend, rows: usize, columns: usize) -> String {
    let mut clause = String::with_capacity(rows * columns * 6);
    for row in 0..rows {
        clause.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            if column > 0 {
                clause.push_str(", ");
            }
            match backend {
                Backend::Sqlite => clause.push('?'),
                Backend::Postgres => {
                    clause.push('$');
                    clause.push_str(&(row * columns + column + 1).to_string());
                }
            }
        }
        clause.push(')');
    }
    clause
}

/// Which issued items to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssuedFilter {
    /// Only items of this kind.
    pub kind: Option<IssuedKind>,
    /// Only items whose validity ends at or before this time.
    pub expiring_before: Option<OffsetDateTime>,
    /// At most this many.
    pub limit: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_clauses_bind_in_order_anonymously_on_sqlite_and_numbered_on_postgres() {
        assert_eq!(values_clause(Backend::Sqlite, 1, 1), "(?)");
        assert_eq!(values_clause(Backend::Sqlite, 2, 3), "(?, ?, ?), (?, ?, ?)");
        assert_eq!(values_clause(Backend::Postgres, 1, 1), "($1)");
        assert_eq!(
            values_clause(Backend::Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
        let large = values_clause(Backend::Postgres, MAX_BATCH, 10);
        assert!(large.ends_with(&format!("${})", MAX_BATCH * 10)));
        assert_eq!(large.matches('$').count(), MAX_BATCH * 10);
    }
}

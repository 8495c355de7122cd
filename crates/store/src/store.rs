use std::path::Path;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor, Row};
use time::OffsetDateTime;

use crate::batch::GroupCommit;
use crate::error::classify;
use crate::generation::SharedReads;
use crate::records::*;
use crate::rows::*;
use crate::{StoreError, schema};

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// A SQLite file: the embedded default, one server.
    Sqlite,
    /// PostgreSQL: several servers of one cluster share it.
    Postgres,
}

impl Backend {
    /// The backend a database URL names.
    pub fn of_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl { url: redact(url) })
        }
    }
}

/// Removes a password from a URL before it is shown.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

pub(crate) fn now_unix() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

pub(crate) fn to_unix(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

pub(crate) fn from_unix(seconds: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(seconds)
        .map_err(|_| StoreError::Corrupt(format!("timestamp {seconds} out of range")))
}

/// Settings of the connection pool.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most connections held open at once; `None` for the backend's default: 2 for SQLite (it
    /// writes one transaction at a time, and each connection is a thread), 8 for PostgreSQL.
    pub max_connections: Option<u32>,
    /// How long an operation waits for a free connection before the database counts as
    /// unavailable.
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: None,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// The configuration database of one cluster.
///
/// Every method is one statement or one transaction: it either happens entirely or not at
/// all. Methods that record an issuance return only after the record is committed.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
    pub(crate) group: GroupCommit,
    generations: SharedReads,
}

impl Store {
    /// Opens the SQLite database at `path` (created if missing) and migrates it.
    pub async fn open_sqlite(path: &Path) -> Result<Self, StoreError> {
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Self::open(&url, StoreOptions::default()).await
    }

    /// Opens the database at `url` (`sqlite://PATH?mode=rwc` or `postgres://...`) and brings its
    /// schema up to date, refusing one written by a newer build.
    pub async fn open(url: &str, options: StoreOptions) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let mut conn = schema::connect_one(url).await?;
        schema::migrate(&mut conn, backend).await?;
        drop(conn);
        let pool = AnyPoolOptions::new()
            .max_connections(options.max_connections.unwrap_or(match backend {
                Backend::Sqlite => 2,
                Backend::Postgres => 8,
            }))
            .acquire_timeout(options.acquire_timeout)
            // A PostgreSQL connection can die with its server (a restart, a failover); checking
            // it before use turns that into a reconnection instead of a failed request. A
            // SQLite connection cannot die that way, and the check would cost a round trip on
            // every query.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // SQLite's default page cache (2 MB, 125 pages of 16 KiB) is too small
                        // for the issuance table's and its indexes' hot pages: inserts read
                        // pages back from the file and spill dirty ones before the commit.
                        conn.execute("PRAGMA cache_size = -16384").await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        Ok(Self {
            pool,
            backend,
            group: GroupCommit::default(),
            generations: SharedReads::default(),
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ----- cluster and SLCs -----

    /// Creates the cluster with its first SLC, in one transaction.
    pub async fn create_cluster(
        &self,
        identity: &ClusterIdentity,
        slc: &SlcRecord,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO cluster (id, role, name, cluster_id, domain_sid, created_at)
             VALUES (1, $1, $2, $3, $4, $5)",
        )
        .bind(identity.role.name())
        .bind(&identity.name)
        .bind(&identity.cluster_id)
        .bind(&identity.domain_sid)
        .bind(to_unix(identity.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, || "a cluster in this database".to_owned()))?;
        insert_slc(&mut tx, slc).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The cluster's identity.
    pub async fn cluster(&self) -> Result<ClusterIdentity, StoreError> {
        let row = sqlx::query(
            "SELECT role, name, cluster_id, domain_sid, created_at FROM cluster WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NoCluster)?;
        Ok(ClusterIdentity {
            role: row.try_get::<String, _>("role")?.parse()?,
            name: row.try_get("name")?,
            cluster_id: row.try_get("cluster_id")?,
            domain_sid: row.try_get("domain_sid")?,
            created_at: from_unix(row.try_get("created_at")?)?,
        })
    }

    /// Adds an SLC (after a renewal); the newest installed becomes the current one.
    pub async fn install_slc(&self, slc: &SlcRecord) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_slc(&mut tx, slc).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The SLC the cluster signs with now: the one installed last.
    pub async fn current_slc(&self) -> Result<SlcRecord, StoreError> {
        let row = sqlx::query(
            "SELECT serial, chain_pem, encrypted_key, not_before, not_after, installed_at FROM slcs
             ORDER BY installed_at DESC, not_before DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NoCluster)?;
        slc_from_row(&row)
    }

    /// Every SLC the cluster has held, newest first.
    pub async fn slcs(&self) -> Result<Vec<SlcRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT serial, chain_pem, encrypted_key, not_before, not_after, installed_at FROM slcs
             ORDER BY installed_at DESC, not_before DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(slc_from_row).collect()
    }

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
        let row = sqlx::query("SELECT sid, name, kind, created_at FROM principals WHERE name = $1")
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
        let rows = sqlx::query("SELECT sid, name, kind, created_at FROM principals ORDER BY name")
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
        let mut tx = self.pool.begin().await?;
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
            "INSERT INTO tokens (token_hash, principal_sid, created_at) VALUES ($1, $2, $3)",
        )
        .bind(token_hash.to_vec())
        .bind(&principal.sid)
        .bind(to_unix(principal.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, || "token".to_owned()))?;
        tx.commit().await?;
        Ok(())
    }

    /// The principal whose token hashes to `token_hash`, with its groups; `None` for an unknown
    /// token.
    pub async fn authenticate(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<AuthenticatedPrincipal>, StoreError> {
        let row = sqlx::query(
            "SELECT p.sid, p.name, p.kind, p.created_at FROM tokens t
             JOIN principals p ON p.sid = t.principal_sid WHERE t.token_hash = $1",
        )
        .bind(token_hash.to_vec())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let principal = principal_from_row(&row)?;
        let group_sids: Vec<String> = sqlx::query_scalar(
            "SELECT group_sid FROM memberships WHERE member_sid = $1 ORDER BY group_sid",
        )
        .bind(&principal.sid)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(AuthenticatedPrincipal {
            principal,
            group_sids,
        }))
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
                    let read = store.read_generation().await.map_err(|e| e.to_string());
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

    // ----- security descriptors -----

    /// The descriptor of `service`.
    pub async fn descriptor(&self, service: &str) -> Result<DescriptorRecord, StoreError> {
        let row = sqlx::query(
            "SELECT service, sddl, version, updated_at, updated_by FROM descriptors WHERE service = $1",
        )
        .bind(service)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: format!("security descriptor of service {service:?}"),
        })?;
        descriptor_from_row(&row)
    }

    /// Every service's descriptor, by service name.
    pub async fn descriptors(&self) -> Result<Vec<DescriptorRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT service, sddl, version, updated_at, updated_by FROM descriptors ORDER BY service",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(descriptor_from_row).collect()
    }

    /// Sets the descriptor of `service` and records the change in the audit log, in one
    /// transaction. Returns the new version.
    pub async fn set_descriptor(
        &self,
        service: &str,
        sddl: &str,
        audit: &NewAuditEntry,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let now = now_unix();
        let current: Option<i64> =
            sqlx::query_scalar("SELECT version FROM descriptors WHERE service = $1")
                .bind(service)
                .fetch_optional(&mut *tx)
                .await?;
        let version = current.unwrap_or(0) + 1;
        if current.is_some() {
            sqlx::query(
                "UPDATE descriptors SET sddl = $1, version = $2, updated_at = $3, updated_by = $4
                 WHERE service = $5",
            )
            .bind(sddl)
            .bind(version)
            .bind(now)
            .bind(&audit.principal)
            .bind(service)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query(
                "INSERT INTO descriptors (service, sddl, version, updated_at, updated_by)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(service)
            .bind(sddl)
            .bind(version)
            .bind(now)
            .bind(&audit.principal)
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(e, || format!("descriptor of {service:?}")))?;
        }
        insert_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(version)
    }

    // ----- audit log -----

    /// Appends an entry to the audit log.
    pub async fn audit(&self, entry: &NewAuditEntry) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
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
            "SELECT id, at, principal, service, action, outcome, reason, node FROM audit
             WHERE at >= $1 ORDER BY id LIMIT $2",
        )
        .bind(since.map(to_unix).unwrap_or(i64::MIN))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
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
                    },
                })
            })
            .collect()
    }

    // ----- nodes -----

    /// Records that a node is alive.
    pub async fn heartbeat(&self, node: &NodeRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO nodes (node_id, address, version, started_at, last_seen)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (node_id) DO UPDATE SET address = $2, version = $3, started_at = $4,
                                                 last_seen = $5",
        )
        .bind(&node.node_id)
        .bind(&node.address)
        .bind(&node.version)
        .bind(to_unix(node.started_at))
        .bind(to_unix(node.last_seen))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Nodes seen at or after `since`, most recent first.
    pub async fn nodes(&self, since: OffsetDateTime) -> Result<Vec<NodeRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT node_id, address, version, started_at, last_seen FROM nodes
             WHERE last_seen >= $1 ORDER BY last_seen DESC, node_id",
        )
        .bind(to_unix(since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(NodeRecord {
                    node_id: row.try_get("node_id")?,
                    address: row.try_get("address")?,
                    version: row.try_get("version")?,
                    started_at: from_unix(row.try_get("started_at")?)?,
                    last_seen: from_unix(row.try_get("last_seen")?)?,
                })
            })
            .collect()
    }
}

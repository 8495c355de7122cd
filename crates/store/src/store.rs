use std::path::Path;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};
use time::OffsetDateTime;

use crate::batch::GroupCommit;
use crate::generation::SharedReads;
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
#[must_use]
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
    pub(crate) generations: SharedReads,
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
                        // A multi-row insert inside a transaction keeps a statement journal (the
                        // pages it changed, to undo it alone if it fails). Past 64 KiB, four of
                        // our 16 KiB pages, SQLite spills that journal into a new temporary file,
                        // created, written and unlinked by every batch of records (20 to 30 %
                        // more records per second in memory: docs/performance.md). In memory it
                        // is bounded by what one batch changes (MAX_BATCH records). The other
                        // temporary storage this moves into memory, sorting for an ORDER BY
                        // without an index, holds the rows of a listing whose LIMIT its caller
                        // sets, and which it returns in full anyway; nothing here runs VACUUM.
                        conn.execute("PRAGMA temp_store = MEMORY").await?;
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

    /// A transaction that will write. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), waiting for it as long as the busy timeout allows: a transaction that reads
    /// first and writes later cannot take the lock once another connection has written since its
    /// read began (SQLite answers `SQLITE_BUSY` at once then, to avoid a deadlock), which a CLI
    /// command run beside a serving node would meet.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Which database this is.
    #[must_use]
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
}

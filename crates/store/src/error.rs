/// Everything the configuration database can refuse or fail at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL names no database this build supports.
    #[error("unsupported database URL {url:?}: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl {
        /// The URL given, with any password removed.
        url: String,
    },
    /// The database cannot be reached or failed mid-operation; the operation changed nothing.
    #[error("configuration database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// The database was written by a newer version of this software.
    #[error(
        "configuration database has schema version {found}, but this build knows versions up to {supported}: upgrade this server before pointing it at that database"
    )]
    NewerSchema {
        /// The schema version found in the database.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },
    /// The database is out of reach, as several concurrent callers sharing one read or one
    /// commit learned together (the driver's error, as text).
    #[error("configuration database unavailable: {0}")]
    UnavailableShared(String),
    /// A write whose outcome the store cannot report: the task committing it stopped (its
    /// runtime shut down). Treat it as not done; retrying is safe.
    #[error("configuration database write interrupted: {0}")]
    Interrupted(String),
    /// A PostgreSQL schema name we refuse (it would need quoting).
    #[error(
        "invalid schema name {name:?}: use lowercase letters, digits and _, starting with a letter, at most 63"
    )]
    InvalidSchemaName {
        /// The name given.
        name: String,
    },
    /// The database holds no cluster yet.
    #[error(
        "the configuration database holds no cluster: run `init` (root) or `enroll` (licensing) first"
    )]
    NoCluster,
    /// Something that must be unique already exists.
    #[error("{what} already exists")]
    AlreadyExists {
        /// What was duplicated, e.g. `principal "alice"`.
        what: String,
    },
    /// Something looked up does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// The access configuration changed (principals, groups, tokens, descriptors or the SLC:
    /// the configuration generation moved) between the access decision behind an issuance and
    /// its commit; nothing was written. Decide again on the current configuration.
    #[error(
        "the access configuration changed (now generation {current}) while the request was served; nothing was recorded"
    )]
    StaleConfiguration {
        /// The configuration generation at the commit.
        current: i64,
    },
    /// A stored value that this build cannot read.
    #[error("corrupt configuration database: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the error is the database being out of reach (worth a retry, HTTP 503), rather
    /// than a refusal of the operation.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable(_)
                | StoreError::UnavailableShared(_)
                | StoreError::Interrupted(_)
        )
    }
}

/// Maps a driver error, turning unique-constraint violations into [`StoreError::AlreadyExists`].
pub(crate) fn classify(error: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    if let sqlx::Error::Database(db) = &error
        && db.is_unique_violation()
    {
        return StoreError::AlreadyExists { what: what() };
    }
    StoreError::Unavailable(error)
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::ColumnDecode { .. }
            | sqlx::Error::Decode(_)
            | sqlx::Error::ColumnNotFound(_) => StoreError::Corrupt(error.to_string()),
            other => StoreError::Unavailable(other),
        }
    }
}

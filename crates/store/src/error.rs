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
    #[error("configuration database unavailable")]
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
    /// The PostgreSQL server answered, but the database the URL names does not exist on it.
    #[error(
        "the PostgreSQL database {database:?} does not exist on that server: create it (e.g. createdb {database}) or correct the URL"
    )]
    NoSuchDatabase {
        /// The database's name, as the server reported it.
        database: String,
    },
    /// The database holds no cluster yet.
    #[error("the configuration database holds no cluster yet")]
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
    #[must_use]
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

/// Maps a failure to connect: a PostgreSQL database that does not exist becomes
/// [`StoreError::NoSuchDatabase`] (the server's own message names the line of its source it
/// came from, which tells an operator nothing).
pub(crate) fn connect_error(error: sqlx::Error, url: &str) -> StoreError {
    if let sqlx::Error::Database(db) = &error
        && db.code().as_deref() == Some(INVALID_CATALOG_NAME)
    {
        return StoreError::NoSuchDatabase {
            database: postgres_database_name(url).unwrap_or_else(|| db.message().to_owned()),
        };
    }
    error.into()
}

/// PostgreSQL's SQLSTATE for a database that does not exist.
const INVALID_CATALOG_NAME: &str = "3D000";

/// The database part of a `postgres://user@host:port/DATABASE?options` URL.
fn postgres_database_name(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let path = rest.split_once('/')?.1;
    let name = path.split(['?', '#']).next()?;
    (!name.is_empty()).then(|| name.to_owned())
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

/// What went wrong underneath `error`, for the text of an error shared by several waiters
/// ([`StoreError::UnavailableShared`]): its causes' messages, since its own message is the
/// shared error's.
pub(crate) fn cause_text(error: &StoreError) -> String {
    let mut text = String::new();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    if text.is_empty() {
        text = error.to_string();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_comes_from_the_url() {
        assert_eq!(
            postgres_database_name("postgres://rms:pw@db:5432/rms_eu?options=-c").as_deref(),
            Some("rms_eu")
        );
        assert_eq!(postgres_database_name("postgres://db").as_deref(), None);
    }
}

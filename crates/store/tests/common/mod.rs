//! Opens a fresh store on every backend available: a SQLite file always, and PostgreSQL when
//! `RMS_TEST_POSTGRES_URL` names a server (CI sets it), each test in a schema of its own.

use rms_store::{Store, StoreOptions};
use sqlx::{Connection, Executor};

/// A store under test, and what keeps it alive.
pub(crate) struct TestStore {
    pub(crate) store: Store,
    pub(crate) label: &'static str,
    /// A URL that opens the same database (for tests that reopen it or go around the API).
    pub(crate) url: String,
    _dir: Option<tempfile::TempDir>,
}

fn random_suffix() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("random bytes");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("cluster.db").display()
    );
    let store = Store::open(&url, StoreOptions::default())
        .await
        .expect("open sqlite");
    TestStore {
        store,
        label: "sqlite",
        url,
        _dir: Some(dir),
    }
}

/// A URL for a new, empty schema on the test PostgreSQL server, or `None` (with the reason
/// printed) when no server is configured.
pub(crate) async fn postgres_url() -> Option<String> {
    let Ok(base) = std::env::var("RMS_TEST_POSTGRES_URL") else {
        eprintln!("skipping the PostgreSQL backend: RMS_TEST_POSTGRES_URL is not set (CI sets it)");
        return None;
    };
    sqlx::any::install_default_drivers();
    let schema = format!("rms_test_{}", random_suffix());
    let mut conn = sqlx::AnyConnection::connect(&base)
        .await
        .expect("connect to RMS_TEST_POSTGRES_URL");
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .await
        .expect("create schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    Some(format!(
        "{base}{separator}options=-c%20search_path%3D{schema}"
    ))
}

pub(crate) async fn postgres() -> Option<TestStore> {
    let url = postgres_url().await?;
    let store = Store::open(&url, StoreOptions::default())
        .await
        .expect("open postgres");
    Some(TestStore {
        store,
        label: "postgres",
        url,
        _dir: None,
    })
}

/// Every backend available here.
pub(crate) async fn all() -> Vec<TestStore> {
    let mut stores = vec![sqlite().await];
    stores.extend(postgres().await);
    stores
}

//! Opens a fresh store on every backend available: a SQLite file always, and PostgreSQL when
//! `RMS_TEST_POSTGRES_URL` names a server (CI sets it), each test in a schema of its own.

use rms_store::{Store, StoreOptions};

/// A store under test, and what keeps it alive.
pub(crate) struct TestStore {
    pub(crate) store: Store,
    pub(crate) label: &'static str,
    /// A URL that opens the same database (for tests that reopen it or go around the API).
    pub(crate) url: String,
    _dir: Option<tempfile::TempDir>,
    /// The PostgreSQL server and the schema to drop at the end.
    schema: Option<(String, String)>,
}

impl Drop for TestStore {
    /// Drops the test's PostgreSQL schema, so runs leave nothing behind on the shared server.
    fn drop(&mut self) {
        if let Some((base, schema)) = self.schema.take() {
            // The test's runtime may be shutting down: use one of our own, on a thread of its own.
            let dropped = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|rt| rt.block_on(rms_store::drop_postgres_schema(&base, &schema)))
            })
            .join();
            if !matches!(dropped, Ok(Ok(Ok(())))) {
                eprintln!("could not drop a test schema: {dropped:?}");
            }
        }
    }
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
        schema: None,
    }
}

/// A new, empty schema on the test PostgreSQL server (its server URL, name and URL), or
/// `None` (with the reason printed) when no server is configured.
pub(crate) async fn postgres_schema() -> Option<(String, String, String)> {
    let Ok(base) = std::env::var("RMS_TEST_POSTGRES_URL") else {
        eprintln!("skipping the PostgreSQL backend: RMS_TEST_POSTGRES_URL is not set (CI sets it)");
        return None;
    };
    let schema = format!("rms_test_{}", random_suffix());
    let url = rms_store::create_postgres_schema(&base, &schema)
        .await
        .expect("create a schema on RMS_TEST_POSTGRES_URL");
    Some((base, schema, url))
}

pub(crate) async fn postgres() -> Option<TestStore> {
    let (base, schema, url) = postgres_schema().await?;
    let store = Store::open(&url, StoreOptions::default())
        .await
        .expect("open postgres");
    Some(TestStore {
        store,
        label: "postgres",
        url,
        _dir: None,
        schema: Some((base, schema)),
    })
}

/// Every backend available here.
pub(crate) async fn all() -> Vec<TestStore> {
    let mut stores = vec![sqlite().await];
    stores.extend(postgres().await);
    stores
}

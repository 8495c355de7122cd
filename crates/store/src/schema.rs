//! Versioned schema migrations, one list per backend, applied under a lock so that several
//! nodes starting at once migrate exactly once.

use sqlx::{AnyConnection, AssertSqlSafe, Connection, Executor};

use crate::{Backend, StoreError};

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = 3;

/// The statements of version 1, for each backend. Types differ (BLOB/BYTEA, identity
/// columns); the tables and their meaning do not.
fn version_1(backend: Backend) -> Vec<String> {
    let (blob, serial_pk) = match backend {
        Backend::Sqlite => ("BLOB", "INTEGER PRIMARY KEY AUTOINCREMENT"),
        Backend::Postgres => ("BYTEA", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
    };
    let mut statements = vec![
        "CREATE TABLE cluster (
            id BIGINT PRIMARY KEY CHECK (id = 1),
            role TEXT NOT NULL CHECK (role IN ('root', 'licensing')),
            name TEXT NOT NULL,
            cluster_id TEXT NOT NULL,
            domain_sid TEXT NOT NULL,
            created_at BIGINT NOT NULL)"
            .to_owned(),
        format!(
            "CREATE TABLE slcs (
            serial TEXT PRIMARY KEY,
            chain_pem TEXT NOT NULL,
            encrypted_key {blob} NOT NULL,
            not_before BIGINT NOT NULL,
            not_after BIGINT NOT NULL,
            installed_at BIGINT NOT NULL)"
        ),
        "CREATE TABLE principals (
            sid TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('user', 'group')),
            created_at BIGINT NOT NULL)"
            .to_owned(),
        "CREATE TABLE memberships (
            member_sid TEXT NOT NULL REFERENCES principals (sid),
            group_sid TEXT NOT NULL REFERENCES principals (sid),
            PRIMARY KEY (member_sid, group_sid))"
            .to_owned(),
        format!(
            "CREATE TABLE tokens (
            token_hash {blob} PRIMARY KEY,
            principal_sid TEXT NOT NULL REFERENCES principals (sid),
            created_at BIGINT NOT NULL)"
        ),
        "CREATE TABLE descriptors (
            service TEXT PRIMARY KEY,
            sddl TEXT NOT NULL,
            version BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            updated_by TEXT NOT NULL)"
            .to_owned(),
        format!(
            "CREATE TABLE issued (
            issuer_serial TEXT NOT NULL,
            serial TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            not_before BIGINT NOT NULL,
            not_after BIGINT NOT NULL,
            requester TEXT NOT NULL,
            issued_by TEXT NOT NULL,
            issued_at BIGINT NOT NULL,
            der {blob} NOT NULL,
            PRIMARY KEY (issuer_serial, serial))"
        ),
        "CREATE INDEX issued_by_expiry ON issued (not_after)".to_owned(),
        format!(
            "CREATE TABLE audit (
            id {serial_pk},
            at BIGINT NOT NULL,
            principal TEXT NOT NULL,
            service TEXT NOT NULL,
            action TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('allowed', 'denied')),
            reason TEXT NOT NULL,
            node TEXT NOT NULL)"
        ),
        "CREATE TABLE nodes (
            node_id TEXT PRIMARY KEY,
            address TEXT NOT NULL,
            version TEXT NOT NULL,
            started_at BIGINT NOT NULL,
            last_seen BIGINT NOT NULL)"
            .to_owned(),
    ];
    // The audit log is append-only: the database itself refuses to change or remove an entry.
    match backend {
        Backend::Sqlite => {
            for event in ["UPDATE", "DELETE"] {
                statements.push(format!(
                    "CREATE TRIGGER audit_append_only_{event} BEFORE {event} ON audit
                     BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
                ));
            }
        }
        Backend::Postgres => {
            statements.push(
                "CREATE FUNCTION rms_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
                 $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$"
                    .to_owned(),
            );
            statements.push(
                "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
                 FOR EACH ROW EXECUTE FUNCTION rms_audit_append_only()"
                    .to_owned(),
            );
        }
    }
    statements
}

/// The tables whose changes alter who may do what; every change to them raises the
/// configuration generation.
const ACCESS_TABLES: [&str; 4] = ["principals", "memberships", "tokens", "descriptors"];

/// Version 2: the configuration generation, raised by the database on every change to the
/// access tables, so that nodes can cache them and still see every change at once.
fn version_2(backend: Backend) -> Vec<String> {
    let mut statements = vec![
        "CREATE TABLE config_generation (
            id BIGINT PRIMARY KEY CHECK (id = 1),
            generation BIGINT NOT NULL)"
            .to_owned(),
        "INSERT INTO config_generation (id, generation) VALUES (1, 1)".to_owned(),
    ];
    match backend {
        Backend::Sqlite => {
            for table in ACCESS_TABLES {
                for event in ["INSERT", "UPDATE", "DELETE"] {
                    statements.push(format!(
                        "CREATE TRIGGER {table}_{event}_generation AFTER {event} ON {table}
                         BEGIN UPDATE config_generation SET generation = generation + 1
                         WHERE id = 1; END"
                    ));
                }
            }
        }
        Backend::Postgres => {
            statements.push(
                "CREATE FUNCTION rms_config_changed() RETURNS trigger LANGUAGE plpgsql AS
                 $$ BEGIN UPDATE config_generation SET generation = generation + 1 WHERE id = 1;
                 RETURN NULL; END $$"
                    .to_owned(),
            );
            for table in ACCESS_TABLES {
                statements.push(format!(
                    "CREATE TRIGGER {table}_generation AFTER INSERT OR UPDATE OR DELETE ON {table}
                     FOR EACH STATEMENT EXECUTE FUNCTION rms_config_changed()"
                ));
            }
        }
    }
    statements
}

/// Version 3: revocations of issued certificates, the CRL number counter, and the SLCs among
/// the tables whose changes raise the configuration generation (so that every node of a
/// cluster notices a renewed SLC).
fn version_3(backend: Backend) -> Vec<String> {
    let mut statements = vec![
        "CREATE TABLE revocations (
            issuer_serial TEXT NOT NULL,
            serial TEXT NOT NULL,
            revoked_at BIGINT NOT NULL,
            reason TEXT NOT NULL,
            revoked_by TEXT NOT NULL,
            recorded_at BIGINT NOT NULL,
            PRIMARY KEY (issuer_serial, serial))"
            .to_owned(),
        "CREATE TABLE crl_counter (
            id BIGINT PRIMARY KEY CHECK (id = 1),
            number BIGINT NOT NULL)"
            .to_owned(),
        "INSERT INTO crl_counter (id, number) VALUES (1, 0)".to_owned(),
    ];
    match backend {
        Backend::Sqlite => {
            for event in ["INSERT", "UPDATE", "DELETE"] {
                statements.push(format!(
                    "CREATE TRIGGER slcs_{event}_generation AFTER {event} ON slcs
                     BEGIN UPDATE config_generation SET generation = generation + 1
                     WHERE id = 1; END"
                ));
            }
        }
        Backend::Postgres => statements.push(
            "CREATE TRIGGER slcs_generation AFTER INSERT OR UPDATE OR DELETE ON slcs
             FOR EACH STATEMENT EXECUTE FUNCTION rms_config_changed()"
                .to_owned(),
        ),
    }
    statements
}

fn migrations(backend: Backend) -> Vec<(i64, Vec<String>)> {
    vec![
        (1, version_1(backend)),
        (2, version_2(backend)),
        (3, version_3(backend)),
    ]
}

/// Brings the schema up to [`SCHEMA_VERSION`], or refuses a database written by a newer build.
pub(crate) async fn migrate(conn: &mut AnyConnection, backend: Backend) -> Result<i64, StoreError> {
    match backend {
        // BEGIN IMMEDIATE takes SQLite's write lock at once: concurrent starters queue on it.
        Backend::Sqlite => {
            // Takes effect only on a database with no table yet, and only before WAL mode: a
            // license record (about 4 KB with its certificates) then fits on one page instead of
            // spilling onto two overflow pages, which halves the pages each commit writes.
            conn.execute("PRAGMA page_size = 16384").await?;
            conn.execute("PRAGMA journal_mode = WAL").await?;
            conn.execute("BEGIN IMMEDIATE").await?;
        }
        Backend::Postgres => {
            conn.execute("BEGIN").await?;
            // The key is arbitrary; it names our migration lock among advisory locks.
            conn.execute("SELECT pg_advisory_xact_lock(8245373346479957874)")
                .await?;
        }
    }
    let outcome = migrate_locked(conn, backend).await;
    let end = if outcome.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    let ended = conn.execute(end).await;
    let version = outcome?;
    ended?;
    Ok(version)
}

async fn migrate_locked(conn: &mut AnyConnection, backend: Backend) -> Result<i64, StoreError> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS rms_schema (
            version BIGINT NOT NULL,
            applied_at BIGINT NOT NULL,
            software TEXT NOT NULL)",
    )
    .await?;
    let current: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM rms_schema")
        .fetch_one(&mut *conn)
        .await?;
    let current = current.unwrap_or(0);
    if current > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found: current,
            supported: SCHEMA_VERSION,
        });
    }
    for (version, statements) in migrations(backend) {
        if version <= current {
            continue;
        }
        for statement in statements {
            conn.execute(AssertSqlSafe(statement)).await?;
        }
        sqlx::query("INSERT INTO rms_schema (version, applied_at, software) VALUES ($1, $2, $3)")
            .bind(version)
            .bind(crate::store::now_unix())
            .bind(concat!("rms ", env!("CARGO_PKG_VERSION")))
            .execute(&mut *conn)
            .await?;
    }
    Ok(SCHEMA_VERSION)
}

/// Opens a single connection (outside the pool) for migrating.
pub(crate) async fn connect_one(url: &str) -> Result<AnyConnection, StoreError> {
    Ok(AnyConnection::connect(url).await?)
}

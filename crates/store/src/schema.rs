//! Versioned schema migrations, one list per backend, applied under a lock so that several
//! nodes starting at once migrate exactly once.

use std::time::Duration;

use sqlx::{AnyConnection, AssertSqlSafe, Connection, Executor};

use crate::{Backend, StoreError};

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = 8;

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

/// Version 4: where a request came from and its identifier, in every audit entry written
/// for a request (empty for entries written before, and for local administration).
fn version_4() -> Vec<String> {
    vec![
        "ALTER TABLE audit ADD COLUMN peer TEXT".to_owned(),
        "ALTER TABLE audit ADD COLUMN request_id TEXT".to_owned(),
    ]
}

/// Statements that make every change to `tables` raise the configuration generation (the
/// function `rms_config_changed` exists on PostgreSQL from version 2 on).
fn generation_triggers(backend: Backend, tables: &[&str]) -> Vec<String> {
    let mut statements = Vec::new();
    for table in tables {
        match backend {
            Backend::Sqlite => {
                for event in ["INSERT", "UPDATE", "DELETE"] {
                    statements.push(format!(
                        "CREATE TRIGGER {table}_{event}_generation AFTER {event} ON {table}
                         BEGIN UPDATE config_generation SET generation = generation + 1
                         WHERE id = 1; END"
                    ));
                }
            }
            Backend::Postgres => statements.push(format!(
                "CREATE TRIGGER {table}_generation AFTER INSERT OR UPDATE OR DELETE ON {table}
                 FOR EACH STATEMENT EXECUTE FUNCTION rms_config_changed()"
            )),
        }
    }
    statements
}

/// Version 5: rights policy templates (a licensing cluster's named policies), among the
/// tables whose changes raise the configuration generation, so that every node publishes with
/// a template as it is now.
fn version_5(backend: Backend) -> Vec<String> {
    let mut statements = vec![
        "CREATE TABLE templates (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL,
            content_validity BIGINT,
            use_license_lifetime BIGINT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL)"
            .to_owned(),
        "CREATE TABLE template_grants (
            template_id TEXT NOT NULL REFERENCES templates (id),
            principal TEXT NOT NULL,
            rights TEXT NOT NULL,
            PRIMARY KEY (template_id, principal))"
            .to_owned(),
    ];
    statements.extend(generation_triggers(
        backend,
        &["templates", "template_grants"],
    ));
    statements
}

/// Version 6: a licensing cluster's super users (one switch, disabled, and members, none)
/// and its revocations of content and of use licenses, among the tables whose changes raise
/// the configuration generation, so that every node refuses revoked content at once.
fn version_6(backend: Backend) -> Vec<String> {
    let mut statements = vec![
        "CREATE TABLE super_users (
            id BIGINT PRIMARY KEY CHECK (id = 1),
            enabled BIGINT NOT NULL CHECK (enabled IN (0, 1)),
            changed_at BIGINT NOT NULL)"
            .to_owned(),
        "INSERT INTO super_users (id, enabled, changed_at) VALUES (1, 0, 0)".to_owned(),
        "CREATE TABLE super_user_members (
            sid TEXT PRIMARY KEY REFERENCES principals (sid),
            added_at BIGINT NOT NULL)"
            .to_owned(),
        "CREATE TABLE content_revocations (
            content_id TEXT PRIMARY KEY,
            reason TEXT NOT NULL,
            revoked_at BIGINT NOT NULL,
            revoked_by TEXT NOT NULL)"
            .to_owned(),
        // Revoking content checks that the cluster published it; only publishing licenses are
        // indexed, so that issuing use licenses (the hot path) maintains nothing more.
        "CREATE INDEX issued_published_content ON issued (subject)
            WHERE kind = 'publishing-license'"
            .to_owned(),
        "CREATE TABLE use_license_revocations (
            serial TEXT PRIMARY KEY,
            content_id TEXT NOT NULL,
            principal TEXT NOT NULL,
            reason TEXT NOT NULL,
            revoked_at BIGINT NOT NULL,
            revoked_by TEXT NOT NULL)"
            .to_owned(),
    ];
    statements.extend(generation_triggers(
        backend,
        &[
            "super_users",
            "super_user_members",
            "content_revocations",
            "use_license_revocations",
        ],
    ));
    statements
}

/// Version 7: principals that can be disabled, and tokens with an id (what operators name a
/// token by; existing tokens get the hex of their hash's first 8 octets), an optional expiry
/// and, in a table of its own that does not raise the configuration generation, when each was
/// last used.
fn version_7(backend: Backend) -> Vec<String> {
    let prefix = match backend {
        Backend::Sqlite => "lower(hex(substr(token_hash, 1, 8)))",
        Backend::Postgres => "encode(substring(token_hash from 1 for 8), 'hex')",
    };
    vec![
        "ALTER TABLE principals ADD COLUMN disabled BIGINT NOT NULL DEFAULT 0".to_owned(),
        "ALTER TABLE tokens ADD COLUMN id TEXT".to_owned(),
        "ALTER TABLE tokens ADD COLUMN expires_at BIGINT".to_owned(),
        format!("UPDATE tokens SET id = {prefix}"),
        "CREATE UNIQUE INDEX tokens_by_id ON tokens (id)".to_owned(),
        "CREATE TABLE token_usage (
            token_id TEXT PRIMARY KEY,
            last_used BIGINT NOT NULL)"
            .to_owned(),
    ]
}

/// Version 8: issued items indexed by when they were issued, so that listing the newest reads
/// only them instead of sorting every record (each holds a license's DER: a licensing cluster
/// keeps millions).
fn version_8() -> Vec<String> {
    vec!["CREATE INDEX issued_by_time ON issued (issued_at, serial)".to_owned()]
}

fn migrations(backend: Backend) -> Vec<(i64, Vec<String>)> {
    vec![
        (1, version_1(backend)),
        (2, version_2(backend)),
        (3, version_3(backend)),
        (4, version_4()),
        (5, version_5(backend)),
        (6, version_6(backend)),
        (7, version_7(backend)),
        (8, version_8()),
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
            while_busy(conn, "PRAGMA journal_mode = WAL").await?;
            while_busy(conn, "BEGIN IMMEDIATE").await?;
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

/// How long a starting node waits for other starters' locks on a SQLite database.
const SQLITE_START_PATIENCE: Duration = Duration::from_secs(10);

/// Runs `statement`, again while SQLite answers `SQLITE_BUSY`. Switching a new database to WAL
/// takes an exclusive lock without calling the busy handler, so a node that starts while
/// another one reads the same new file is refused at once instead of waiting its turn.
async fn while_busy(conn: &mut AnyConnection, statement: &'static str) -> Result<(), StoreError> {
    let deadline = tokio::time::Instant::now() + SQLITE_START_PATIENCE;
    let mut pause = Duration::from_millis(2);
    loop {
        match conn.execute(statement).await {
            Ok(_) => return Ok(()),
            Err(e) if is_sqlite_busy(&e) && tokio::time::Instant::now() + pause < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// `SQLITE_BUSY` and its extended codes (recovery, snapshot, timeout) share the low octet 5.
fn is_sqlite_busy(error: &sqlx::Error) -> bool {
    const SQLITE_BUSY: i64 = 5;
    match error {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i64>().ok())
            .is_some_and(|code| code & 0xff == SQLITE_BUSY),
        _ => false,
    }
}

async fn migrate_locked(conn: &mut AnyConnection, backend: Backend) -> Result<i64, StoreError> {
    // Looked up rather than `CREATE TABLE IF NOT EXISTS`: on PostgreSQL that answers an
    // existing table with a notice ("already exists, skipping") on every start of every
    // command. The migration lock is held, so nobody creates it in between.
    let exists_sql = match backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'rms_schema'"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_name = 'rms_schema'"
        }
    };
    let exists: i64 = sqlx::query_scalar(exists_sql).fetch_one(&mut *conn).await?;
    if exists == 0 {
        conn.execute(
            "CREATE TABLE rms_schema (
                version BIGINT NOT NULL,
                applied_at BIGINT NOT NULL,
                software TEXT NOT NULL)",
        )
        .await?;
    }
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
    AnyConnection::connect(url)
        .await
        .map_err(|e| crate::error::connect_error(e, url))
}

//! PostgreSQL schemas: several clusters (or test runs) can share one database, each in a
//! schema of its own, named in the URL.

use sqlx::{AnyConnection, AssertSqlSafe, Connection, Executor};

use crate::{Backend, StoreError, redact};

/// Checks a schema name: lowercase letters, digits and `_`, starting with a letter, at most 63
/// bytes (PostgreSQL's limit), so that it never needs quoting.
fn check_schema_name(schema: &str) -> Result<(), StoreError> {
    let valid = !schema.is_empty()
        && schema.len() <= 63
        && schema.starts_with(|c: char| c.is_ascii_lowercase())
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(StoreError::InvalidSchemaName {
            name: schema.to_owned(),
        })
    }
}

/// The URL of `schema` in the PostgreSQL database at `base_url`: every connection made with it
/// works in that schema (`search_path`).
pub fn postgres_schema_url(base_url: &str, schema: &str) -> Result<String, StoreError> {
    if Backend::of_url(base_url)? != Backend::Postgres {
        return Err(StoreError::UnsupportedUrl {
            url: redact(base_url),
        });
    }
    check_schema_name(schema)?;
    let separator = if base_url.contains('?') { '&' } else { '?' };
    Ok(format!(
        "{base_url}{separator}options=-c%20search_path%3D{schema}"
    ))
}

/// Creates `schema` (if missing) in the PostgreSQL database at `base_url` and returns its URL
/// (see [`postgres_schema_url`]).
pub async fn create_postgres_schema(base_url: &str, schema: &str) -> Result<String, StoreError> {
    let url = postgres_schema_url(base_url, schema)?;
    sqlx::any::install_default_drivers();
    let mut conn = AnyConnection::connect(base_url).await?;
    conn.execute(AssertSqlSafe(format!(
        "CREATE SCHEMA IF NOT EXISTS {schema}"
    )))
    .await?;
    conn.close().await?;
    Ok(url)
}

/// Drops `schema` and everything in it from the PostgreSQL database at `base_url`.
pub async fn drop_postgres_schema(base_url: &str, schema: &str) -> Result<(), StoreError> {
    postgres_schema_url(base_url, schema)?;
    sqlx::any::install_default_drivers();
    let mut conn = AnyConnection::connect(base_url).await?;
    conn.execute(AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE"
    )))
    .await?;
    conn.close().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_urls() {
        assert_eq!(
            postgres_schema_url("postgres://u@h/db", "rms_a1")
                .ok()
                .as_deref(),
            Some("postgres://u@h/db?options=-c%20search_path%3Drms_a1")
        );
        assert_eq!(
            postgres_schema_url("postgres://u@h/db?sslmode=disable", "x")
                .ok()
                .as_deref(),
            Some("postgres://u@h/db?sslmode=disable&options=-c%20search_path%3Dx")
        );
        for bad in ["", "1abc", "a-b", "A", "a;drop", &"a".repeat(64)] {
            assert!(
                matches!(
                    postgres_schema_url("postgres://u@h/db", bad),
                    Err(StoreError::InvalidSchemaName { .. })
                ),
                "{bad:?}"
            );
        }
        assert!(postgres_schema_url("sqlite://x.db", "a").is_err());
    }
}

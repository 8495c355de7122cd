//! The services' security descriptors.

use crate::error::classify;
use crate::records::*;
use crate::rows::*;
use crate::store::now_unix;
use crate::{Store, StoreError};

impl Store {
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
        let mut tx = self.begin_write().await?;
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
}

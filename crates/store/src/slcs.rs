//! The cluster's identity and the SLCs it has held.

use sqlx::Row;

use crate::error::classify;
use crate::records::*;
use crate::rows::*;
use crate::store::{from_unix, to_unix};
use crate::{Store, StoreError};

impl Store {
    // ----- cluster and SLCs -----

    /// Creates the cluster with its first SLC, in one transaction.
    pub async fn create_cluster(
        &self,
        identity: &ClusterIdentity,
        slc: &SlcRecord,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
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
        let mut tx = self.begin_write().await?;
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
}

//! The heartbeats of the cluster's nodes.

use sqlx::Row;
use time::OffsetDateTime;

use crate::records::*;
use crate::store::{from_unix, to_unix};
use crate::{Store, StoreError};

impl Store {
    // ----- nodes -----

    /// Records that a node is alive.
    pub async fn heartbeat(&self, node: &NodeRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO nodes (node_id, address, version, started_at, last_seen)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (node_id) DO UPDATE SET address = $2, version = $3, started_at = $4,
                                                 last_seen = $5",
        )
        .bind(&node.node_id)
        .bind(&node.address)
        .bind(&node.version)
        .bind(to_unix(node.started_at))
        .bind(to_unix(node.last_seen))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Nodes seen at or after `since`, most recent first.
    pub async fn nodes(&self, since: OffsetDateTime) -> Result<Vec<NodeRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT node_id, address, version, started_at, last_seen FROM nodes
             WHERE last_seen >= $1 ORDER BY last_seen DESC, node_id",
        )
        .bind(to_unix(since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(NodeRecord {
                    node_id: row.try_get("node_id")?,
                    address: row.try_get("address")?,
                    version: row.try_get("version")?,
                    started_at: from_unix(row.try_get("started_at")?)?,
                    last_seen: from_unix(row.try_get("last_seen")?)?,
                })
            })
            .collect()
    }
}

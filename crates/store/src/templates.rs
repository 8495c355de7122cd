//! Rights policy templates: named sets of grants a licensing cluster publishes with.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::classify;
use crate::records::{NewAuditEntry, TemplateGrantRecord, TemplateRecord};
use crate::rows::insert_audit;
use crate::store::{from_unix, now_unix, to_unix};
use crate::{Store, StoreError};

const TEMPLATE_COLUMNS: &str =
    "id, name, description, content_validity, use_license_lifetime, created_at, updated_at";

impl Store {
    // ----- rights policy templates -----

    /// Adds a template (refused when its name or id is taken), with its audit entry, in one
    /// transaction.
    pub async fn add_template(
        &self,
        template: &TemplateRecord,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO templates (id, name, description, content_validity, use_license_lifetime,
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&template.id)
        .bind(&template.name)
        .bind(&template.description)
        .bind(template.content_validity)
        .bind(template.use_license_lifetime)
        .bind(to_unix(template.created_at))
        .bind(to_unix(template.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, || format!("template {:?}", template.name)))?;
        insert_grants(&mut tx, template).await?;
        insert_audit(&mut tx, audit, now_unix()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the template called `template.name` (keeping its id and creation time), with
    /// its audit entry, in one transaction.
    pub async fn replace_template(
        &self,
        template: &TemplateRecord,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE templates SET description = $1, content_validity = $2,
             use_license_lifetime = $3, updated_at = $4 WHERE id = $5 AND name = $6",
        )
        .bind(&template.description)
        .bind(template.content_validity)
        .bind(template.use_license_lifetime)
        .bind(to_unix(template.updated_at))
        .bind(&template.id)
        .bind(&template.name)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: format!("template {:?}", template.name),
            });
        }
        sqlx::query("DELETE FROM template_grants WHERE template_id = $1")
            .bind(&template.id)
            .execute(&mut *tx)
            .await?;
        insert_grants(&mut tx, template).await?;
        insert_audit(&mut tx, audit, now_unix()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes the template called `name` and its grants, with its audit entry.
    pub async fn remove_template(
        &self,
        name: &str,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let id: Option<String> = sqlx::query_scalar("SELECT id FROM templates WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        let id = id.ok_or_else(|| StoreError::NotFound {
            what: format!("template {name:?}"),
        })?;
        sqlx::query("DELETE FROM template_grants WHERE template_id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM templates WHERE id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, audit, now_unix()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The template called `name`.
    pub async fn template(&self, name: &str) -> Result<TemplateRecord, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE name = $1"
        )))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: format!("template {name:?}"),
        })?;
        self.with_grants(template_from_row(&row)?).await
    }

    /// Every template, by name.
    pub async fn templates(&self) -> Result<Vec<TemplateRecord>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TEMPLATE_COLUMNS} FROM templates ORDER BY name"
        )))
        .fetch_all(&self.pool)
        .await?;
        let mut templates = Vec::with_capacity(rows.len());
        for row in &rows {
            templates.push(self.with_grants(template_from_row(row)?).await?);
        }
        Ok(templates)
    }

    async fn with_grants(
        &self,
        mut template: TemplateRecord,
    ) -> Result<TemplateRecord, StoreError> {
        let rows = sqlx::query(
            "SELECT principal, rights FROM template_grants WHERE template_id = $1 ORDER BY principal",
        )
        .bind(&template.id)
        .fetch_all(&self.pool)
        .await?;
        template.grants = rows
            .iter()
            .map(|row| {
                Ok(TemplateGrantRecord {
                    principal: row.try_get("principal")?,
                    rights: row.try_get("rights")?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(template)
    }
}

async fn insert_grants(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    template: &TemplateRecord,
) -> Result<(), StoreError> {
    for grant in &template.grants {
        sqlx::query(
            "INSERT INTO template_grants (template_id, principal, rights) VALUES ($1, $2, $3)",
        )
        .bind(&template.id)
        .bind(&grant.principal)
        .bind(&grant.rights)
        .execute(&mut **tx)
        .await
        .map_err(|e| {
            classify(e, || {
                format!(
                    "grant to {:?} in template {:?}",
                    grant.principal, template.name
                )
            })
        })?;
    }
    Ok(())
}

fn template_from_row(row: &AnyRow) -> Result<TemplateRecord, StoreError> {
    Ok(TemplateRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        grants: Vec::new(),
        content_validity: row.try_get("content_validity")?,
        use_license_lifetime: row.try_get("use_license_lifetime")?,
        created_at: from_unix(row.try_get("created_at")?)?,
        updated_at: from_unix(row.try_get("updated_at")?)?,
    })
}

//! Reading rows into records, and the inserts several operations share.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::StoreError;
use crate::error::classify;
use crate::records::*;
use crate::store::{from_unix, to_unix};

pub(crate) async fn insert_slc(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    slc: &SlcRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO slcs (serial, chain_pem, encrypted_key, not_before, not_after, installed_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&slc.serial)
    .bind(&slc.chain_pem)
    .bind(slc.encrypted_key.clone())
    .bind(to_unix(slc.not_before))
    .bind(to_unix(slc.not_after))
    .bind(to_unix(slc.installed_at))
    .execute(&mut **tx)
    .await
    .map_err(|e| classify(e, || format!("SLC with serial {}", slc.serial)))?;
    Ok(())
}

pub(crate) async fn insert_audit(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    entry: &NewAuditEntry,
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit (at, principal, service, action, outcome, reason, node, peer, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(at)
    .bind(&entry.principal)
    .bind(&entry.service)
    .bind(&entry.action)
    .bind(entry.outcome.to_string())
    .bind(&entry.reason)
    .bind(&entry.node)
    .bind(entry.peer.clone())
    .bind(entry.request_id.clone())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) fn slc_from_row(row: &AnyRow) -> Result<SlcRecord, StoreError> {
    Ok(SlcRecord {
        serial: row.try_get("serial")?,
        chain_pem: row.try_get("chain_pem")?,
        encrypted_key: row.try_get("encrypted_key")?,
        not_before: from_unix(row.try_get("not_before")?)?,
        not_after: from_unix(row.try_get("not_after")?)?,
        installed_at: from_unix(row.try_get("installed_at")?)?,
    })
}

pub(crate) fn principal_from_row(row: &AnyRow) -> Result<Principal, StoreError> {
    Ok(Principal {
        sid: row.try_get("sid")?,
        name: row.try_get("name")?,
        kind: row.try_get::<String, _>("kind")?.parse()?,
        created_at: from_unix(row.try_get("created_at")?)?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
    })
}

pub(crate) fn descriptor_from_row(row: &AnyRow) -> Result<DescriptorRecord, StoreError> {
    Ok(DescriptorRecord {
        service: row.try_get("service")?,
        sddl: row.try_get("sddl")?,
        version: row.try_get("version")?,
        updated_at: from_unix(row.try_get("updated_at")?)?,
        updated_by: row.try_get("updated_by")?,
    })
}

pub(crate) fn issued_from_row(row: &AnyRow) -> Result<IssuedRecord, StoreError> {
    Ok(IssuedRecord {
        issuer_serial: row.try_get("issuer_serial")?,
        serial: row.try_get("serial")?,
        kind: row.try_get::<String, _>("kind")?.parse()?,
        subject: row.try_get("subject")?,
        not_before: from_unix(row.try_get("not_before")?)?,
        not_after: from_unix(row.try_get("not_after")?)?,
        requester: row.try_get("requester")?,
        issued_by: row.try_get("issued_by")?,
        issued_at: from_unix(row.try_get("issued_at")?)?,
        der: row.try_get("der")?,
    })
}

pub(crate) fn revocation_from_row(row: &AnyRow) -> Result<RevocationRecord, StoreError> {
    Ok(RevocationRecord {
        issuer_serial: row.try_get("issuer_serial")?,
        serial: row.try_get("serial")?,
        revoked_at: from_unix(row.try_get("revoked_at")?)?,
        reason: row.try_get("reason")?,
        revoked_by: row.try_get("revoked_by")?,
    })
}

//! How the administration commands print what rms-roles found: text for an operator, or JSON
//! for scripts (`--json`; times in RFC 3339).

use rms_roles::store::{AuditPage, MoreEntries, RevocationRecord, Store};
use rms_roles::{AclView, IssuedView};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::{CliResult, outln, time_text};

fn print_json(value: &Value) -> CliResult {
    let text = serde_json::to_string_pretty(value).map_err(crate::report)?;
    outln!("{text}");
    Ok(())
}

/// `acl show`: each service's SDDL (after its name, when `named`) and, below it, its entries
/// with whom they are for.
pub(crate) fn print_acls(views: &[AclView], named: bool, json: bool) -> CliResult {
    if json {
        let services: Vec<Value> = views
            .iter()
            .map(|view| {
                json!({
                    "service": view.service.name(),
                    "sddl": view.sddl,
                    "entries": view.entries.iter().map(|ace| json!({
                        "type": ace.kind,
                        "sid": ace.sid,
                        "name": ace.name,
                        "rights": ace.rights,
                        "sddl": ace.sddl,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        return print_json(&json!(services));
    }
    for view in views {
        match named {
            true => outln!("{} {}", view.service, view.sddl),
            false => outln!("{}", view.sddl),
        }
        if view.entries.is_empty() {
            outln!("  (empty DACL: everyone is refused)");
        }
        for ace in &view.entries {
            let name = ace.name.as_deref().unwrap_or("(unknown SID)");
            outln!(
                "  {:<5} {:<24} {:<48} {}",
                ace.kind,
                name,
                ace.sid,
                ace.rights
            );
        }
    }
    Ok(())
}

/// `certs list`: what was issued, revoked items marked.
pub(crate) fn print_issued(issued: &[IssuedView], json: bool) -> CliResult {
    if json {
        let items: Vec<Value> = issued
            .iter()
            .map(|view| {
                let r = &view.record;
                json!({
                    "kind": r.kind.to_string(),
                    "serial": r.serial,
                    "issuer_serial": r.issuer_serial,
                    "subject": r.subject,
                    "not_before": time_text(r.not_before),
                    "not_after": time_text(r.not_after),
                    "requester": r.requester,
                    "issued_by": r.issued_by,
                    "issued_at": time_text(r.issued_at),
                    "revoked": view.revocation.as_ref().map(revocation_json),
                })
            })
            .collect();
        return print_json(&json!(items));
    }
    for view in issued {
        let r = &view.record;
        let revoked = match &view.revocation {
            Some(revocation) => format!(
                "  REVOKED {} ({})",
                time_text(revocation.revoked_at),
                revocation.reason
            ),
            None => String::new(),
        };
        outln!(
            "{:<18} {:<34} {:<28} {} .. {}  by {} for {}{revoked}",
            r.kind,
            r.serial,
            r.subject,
            time_text(r.not_before),
            time_text(r.not_after),
            r.issued_by,
            r.requester
        );
    }
    Ok(())
}

fn revocation_json(revocation: &RevocationRecord) -> Value {
    json!({
        "serial": revocation.serial,
        "issuer_serial": revocation.issuer_serial,
        "revoked_at": time_text(revocation.revoked_at),
        "reason": revocation.reason,
        "revoked_by": revocation.revoked_by,
    })
}

/// `revocations list`.
pub fn print_revocations(revocations: &[RevocationRecord], json: bool) -> CliResult {
    if json {
        let items: Vec<Value> = revocations.iter().map(revocation_json).collect();
        return print_json(&json!(items));
    }
    if revocations.is_empty() {
        outln!("no revocations");
    }
    for r in revocations {
        outln!(
            "{:<34} revoked from {} ({}) by {}, issued by SLC {}",
            r.serial,
            time_text(r.revoked_at),
            r.reason,
            r.revoked_by,
            r.issuer_serial
        );
    }
    Ok(())
}

/// `audit`: newest first, then how many more entries the filter selects.
pub(crate) fn print_audit(page: &AuditPage, json: bool) -> CliResult {
    if json {
        let entries: Vec<Value> = page
            .entries
            .iter()
            .map(|e| {
                let x = &e.entry;
                json!({
                    "id": e.id,
                    "at": time_text(e.at),
                    "decision": x.outcome.to_string(),
                    "service": x.service,
                    "action": x.action,
                    "principal": x.principal,
                    "node": x.node,
                    "peer": x.peer,
                    "request_id": x.request_id,
                    "reason": x.reason,
                })
            })
            .collect();
        return print_json(&json!({
            "entries": entries,
            "more": page.more.count(),
            "more_is_exact": page.more.is_exact(),
        }));
    }
    for e in &page.entries {
        let x = &e.entry;
        outln!(
            "{} {:<8} {:<18} {:<20} {:<12} node={} {}",
            time_text(e.at),
            x.outcome,
            x.service,
            x.action,
            x.principal,
            x.node,
            x.reason
        );
    }
    match page.more {
        MoreEntries::Exactly(0) => {}
        MoreEntries::Exactly(1) => {
            outln!("1 more entry, older: raise --limit or narrow --since/--until to see it");
        }
        MoreEntries::Exactly(more) => outln!(
            "{more} more entries, older: raise --limit or narrow --since/--until to see them"
        ),
        MoreEntries::AtLeast(more) => outln!(
            "at least {more} more entries, older: raise --limit or narrow --since/--until to see them"
        ),
    }
    Ok(())
}

/// `status`: identity, SLC, days left, nodes seen in the last five minutes.
pub(crate) async fn print_status(store: &Store, json: bool) -> CliResult {
    let identity = store.cluster().await.map_err(crate::report)?;
    let slc = store.current_slc().await.map_err(crate::report)?;
    let chain = rms_roles::cert::Chain::from_pem(&slc.chain_pem).map_err(crate::report)?;
    let now = OffsetDateTime::now_utc();
    let subject = chain.leaf().tbs_certificate().subject().to_string();
    let issuer = chain.leaf().tbs_certificate().issuer().to_string();
    let days_left = (slc.not_after - now).whole_days();
    let nodes = store
        .nodes(now - time::Duration::minutes(5))
        .await
        .map_err(crate::report)?;
    if json {
        return print_json(&json!({
            "cluster": {
                "name": identity.name,
                "role": identity.role.to_string(),
                "id": identity.cluster_id,
                "created_at": time_text(identity.created_at),
            },
            "database": format!("{:?}", store.backend()).to_lowercase(),
            "slc": {
                "subject": subject,
                "issuer": issuer,
                "serial": slc.serial,
                "not_before": time_text(slc.not_before),
                "not_after": time_text(slc.not_after),
                "days_left": days_left,
            },
            "nodes": nodes.iter().map(|node| json!({
                "node_id": node.node_id,
                "address": node.address,
                "version": node.version,
                "started_at": time_text(node.started_at),
                "last_seen": time_text(node.last_seen),
            })).collect::<Vec<_>>(),
        }));
    }
    outln!(
        "cluster:    {} ({} cluster, id {})",
        identity.name,
        identity.role,
        identity.cluster_id
    );
    outln!("database:   {:?} backend", store.backend());
    outln!("SLC:        {subject}");
    outln!("issuer:     {issuer}");
    outln!("serial:     {}", slc.serial);
    outln!(
        "valid:      {} .. {}",
        time_text(slc.not_before),
        time_text(slc.not_after)
    );
    outln!("days left:  {days_left}");
    outln!("nodes seen in the last 5 minutes: {}", nodes.len());
    for node in nodes {
        outln!(
            "  {:<24} {:<28} v{} last seen {}",
            node.node_id,
            node.address,
            node.version,
            time_text(node.last_seen)
        );
    }
    Ok(())
}

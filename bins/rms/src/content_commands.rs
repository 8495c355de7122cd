//! The licensing server's commands over the content it published: super users, and revoking
//! access to content or to one use license.

use clap::Subcommand;
use serde_json::json;

use crate::licensing_commands::open_admin;
use crate::{CliResult, ClusterArgs, outln, report, time_text};

/// Super-user commands.
#[derive(Debug, Clone, Subcommand)]
pub enum SuperUsersCommand {
    /// Let the super users in: each member then gets a use license with every right for any
    /// content this cluster published (not revoked), audited as super-user access.
    ///
    /// Example: rms-licensing superusers enable --data-dir ./lic
    Enable,
    /// Keep the super users out (the default); members stay listed.
    ///
    /// Example: rms-licensing superusers disable --data-dir ./lic
    Disable,
    /// Make a principal or group a super user.
    ///
    /// Example: rms-licensing superusers add compliance --data-dir ./lic
    Add {
        /// A principal or group of this cluster.
        name: String,
    },
    /// Remove a super user.
    ///
    /// Example: rms-licensing superusers remove compliance --data-dir ./lic
    Remove {
        /// The principal or group.
        name: String,
    },
    /// Whether super users are enabled, and who they are.
    ///
    /// Example: rms-licensing superusers list --data-dir ./lic --json
    List {
        /// Print JSON (for scripts; times in RFC 3339).
        #[arg(long)]
        json: bool,
    },
}

/// Content commands.
#[derive(Debug, Clone, Subcommand)]
pub enum ContentCommand {
    /// Revoke access to content this cluster published: no node issues a use license for it
    /// from now on, and clients that hold one refuse to open it once they have fetched the
    /// revocation list (`GET /licensing/revocations`, at most an hour old). Not undone.
    ///
    /// Example: rms-licensing content revoke urn:uuid:0c3e...-9f2a --reason "sent to the wrong list" --data-dir ./lic
    Revoke {
        /// The content id (`rms-client info FILE.rms` prints it).
        content_id: String,
        /// Why (recorded, listed, and shown to users who are refused).
        #[arg(long, default_value = "")]
        reason: String,
    },
}

/// Use-license commands.
#[derive(Debug, Clone, Subcommand)]
pub enum LicenseCommand {
    /// Revoke one use license this cluster issued: clients refuse it once they have fetched
    /// the revocation list, and its holder gets no new use license for that content.
    ///
    /// Example: rms-licensing license revoke 40a1b2c3d4e5f60718293a4b5c6d7e8f --reason "laptop lost" --data-dir ./lic
    Revoke {
        /// The use license's serial number (hex, as `rms-client inspect` prints it).
        serial: String,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
}

/// Runs a super-user command.
pub async fn run_super_users(args: &ClusterArgs, command: SuperUsersCommand) -> CliResult {
    let admin = open_admin(args).await?;
    match command {
        SuperUsersCommand::Enable | SuperUsersCommand::Disable => {
            let enable = matches!(command, SuperUsersCommand::Enable);
            let changed = admin
                .set_super_users_enabled(enable)
                .await
                .map_err(report)?;
            let state = if enable { "enabled" } else { "disabled" };
            match changed {
                true => outln!("super users {state}"),
                false => outln!("super users were {state} already"),
            }
        }
        SuperUsersCommand::Add { name } => {
            admin.add_super_user(&name).await.map_err(report)?;
            outln!("{name} is a super user");
        }
        SuperUsersCommand::Remove { name } => {
            admin.remove_super_user(&name).await.map_err(report)?;
            outln!("{name} is no longer a super user");
        }
        SuperUsersCommand::List { json } => {
            let super_users = admin.super_users().await.map_err(report)?;
            if json {
                let members: Vec<_> = super_users
                    .members
                    .iter()
                    .map(|p| json!({"name": p.name, "kind": p.kind.to_string(), "sid": p.sid}))
                    .collect();
                let value = json!({"enabled": super_users.enabled, "members": members});
                outln!("{}", serde_json::to_string_pretty(&value).map_err(report)?);
                return Ok(());
            }
            outln!(
                "super users: {}",
                if super_users.enabled {
                    "enabled"
                } else {
                    "disabled"
                }
            );
            if super_users.members.is_empty() {
                outln!("no members");
            }
            for member in &super_users.members {
                outln!("{:<24} {:<6} {}", member.name, member.kind, member.sid);
            }
        }
    }
    Ok(())
}

/// Runs a content command.
pub async fn run_content(args: &ClusterArgs, command: ContentCommand) -> CliResult {
    let admin = open_admin(args).await?;
    match command {
        ContentCommand::Revoke { content_id, reason } => {
            let revoked = admin
                .revoke_content(&content_id, &reason)
                .await
                .map_err(report)?;
            outln!(
                "access to {} revoked at {}",
                revoked.content_id,
                time_text(revoked.revoked_at)
            );
        }
    }
    Ok(())
}

/// Runs a use-license command.
pub async fn run_license(args: &ClusterArgs, command: LicenseCommand) -> CliResult {
    let admin = open_admin(args).await?;
    match command {
        LicenseCommand::Revoke { serial, reason } => {
            let revoked = admin
                .revoke_use_license(&serial, &reason)
                .await
                .map_err(report)?;
            outln!(
                "use license {} of {} issued to {} revoked at {}",
                revoked.serial,
                revoked.content_id,
                revoked.principal,
                time_text(revoked.revoked_at)
            );
        }
    }
    Ok(())
}

/// `revocations list`: revoked content, then revoked use licenses.
pub async fn print_content_revocations(args: &ClusterArgs, json: bool) -> CliResult {
    let admin = open_admin(args).await?;
    let revocations = admin.content_revocations().await.map_err(report)?;
    if json {
        let value = json!({
            "content": revocations.content.iter().map(|r| json!({
                "content_id": r.content_id,
                "revoked_at": time_text(r.revoked_at),
                "reason": r.reason,
                "revoked_by": r.revoked_by,
            })).collect::<Vec<_>>(),
            "use_licenses": revocations.use_licenses.iter().map(|r| json!({
                "serial": r.serial,
                "content_id": r.content_id,
                "principal": r.principal,
                "revoked_at": time_text(r.revoked_at),
                "reason": r.reason,
                "revoked_by": r.revoked_by,
            })).collect::<Vec<_>>(),
        });
        outln!("{}", serde_json::to_string_pretty(&value).map_err(report)?);
        return Ok(());
    }
    if revocations.content.is_empty() && revocations.use_licenses.is_empty() {
        outln!("nothing revoked");
    }
    for r in &revocations.content {
        outln!(
            "content     {}  {}  by {}  {}",
            time_text(r.revoked_at),
            r.content_id,
            r.revoked_by,
            r.reason
        );
    }
    for r in &revocations.use_licenses {
        outln!(
            "use-license {}  {} of {} for {}  by {}  {}",
            time_text(r.revoked_at),
            r.serial,
            r.content_id,
            r.principal,
            r.revoked_by,
            r.reason
        );
    }
    Ok(())
}

//! Principals, groups and tokens: the commands root and licensing servers share.

use clap::Subcommand;
use rms_roles::Admin;
use rms_roles::store::TokenRecord;
use serde_json::json;

use crate::{CliResult, outln, report, time_text};

/// Principal commands.
#[derive(Debug, Clone, Subcommand)]
pub enum PrincipalCommand {
    /// Add a principal and print its first token (shown once).
    ///
    /// Example: {bin} principal add alice --group rms-admins --data-dir ./data
    Add {
        /// The principal's name.
        name: String,
        /// A group to put it in (repeatable).
        #[arg(long = "group")]
        groups: Vec<String>,
    },
    /// List principals and groups: kind, name, SID, groups, and whether disabled.
    ///
    /// Example: {bin} principal list --data-dir ./data --json
    List {
        /// Print JSON (for scripts; times in RFC 3339).
        #[arg(long)]
        json: bool,
    },
    /// Disable a user: every request with any of its tokens is refused (401) on every node,
    /// until it is enabled again.
    ///
    /// Example: {bin} principal disable alice --data-dir ./data
    Disable {
        /// The user.
        name: String,
    },
    /// Enable a disabled user again.
    ///
    /// Example: {bin} principal enable alice --data-dir ./data
    Enable {
        /// The user.
        name: String,
    },
    /// Remove a user with its tokens and group memberships.
    ///
    /// Example: {bin} principal remove alice --data-dir ./data
    Remove {
        /// The user.
        name: String,
    },
}

/// Group commands.
#[derive(Debug, Clone, Subcommand)]
pub enum GroupCommand {
    /// Add a group.
    ///
    /// Example: {bin} group add authors --data-dir ./data
    Add {
        /// The group's name.
        name: String,
    },
    /// Put a principal in a group.
    ///
    /// Example: {bin} group add-member alice authors --data-dir ./data
    AddMember {
        /// The principal.
        member: String,
        /// The group.
        group: String,
    },
    /// Take a principal out of a group.
    ///
    /// Example: {bin} group remove-member alice authors --data-dir ./data
    RemoveMember {
        /// The principal.
        member: String,
        /// The group.
        group: String,
    },
    /// List a group's direct members.
    ///
    /// Example: {bin} group list-members authors --data-dir ./data
    ListMembers {
        /// The group.
        group: String,
        /// Print JSON (for scripts).
        #[arg(long)]
        json: bool,
    },
    /// Remove a group and its memberships (its members stay).
    ///
    /// Example: {bin} group remove authors --data-dir ./data
    Remove {
        /// The group.
        name: String,
    },
}

/// Token commands.
#[derive(Debug, Clone, Subcommand)]
pub enum TokenCommand {
    /// Issue another token to a user and print it (shown once); the user's other tokens keep
    /// working. Rotate by issuing a new one, then revoking the old.
    ///
    /// Example: {bin} token issue alice --expires 90d --data-dir ./data
    Issue {
        /// The user.
        principal: String,
        /// The token stops working this long from now, e.g. 90d (default: never).
        #[arg(long)]
        expires: Option<rms_roles::policy::Lifetime>,
    },
    /// Revoke a token by its id: refused (401) on every node from now on.
    ///
    /// Example: {bin} token revoke 3f9a1c0b5d2e4f60 --data-dir ./data
    Revoke {
        /// The token's id (`token list` prints it).
        id: String,
    },
    /// List tokens by id (never the tokens themselves): whose, created, expiry, last used (to
    /// the hour).
    ///
    /// Example: {bin} token list --principal alice --data-dir ./data --json
    List {
        /// Only this principal's tokens.
        #[arg(long)]
        principal: Option<String>,
        /// Print JSON (for scripts; times in RFC 3339).
        #[arg(long)]
        json: bool,
    },
}

/// Runs a principal command.
pub(crate) async fn run_principal(admin: &Admin, command: PrincipalCommand) -> CliResult {
    match command {
        PrincipalCommand::Add { name, groups } => {
            let (principal, token) = admin.add_principal(&name, &groups).await.map_err(report)?;
            outln!("principal {} ({})", principal.name, principal.sid);
            outln!("token: {token}");
            eprintln!("the token is shown only now; the server keeps only its hash");
        }
        PrincipalCommand::List { json } => {
            let mut rows = Vec::new();
            for p in admin.principals().await.map_err(report)? {
                let groups = admin.store().groups_of(&p.name).await.map_err(report)?;
                rows.push((p, groups));
            }
            if json {
                let items: Vec<_> = rows
                    .iter()
                    .map(|(p, groups)| {
                        json!({
                            "kind": p.kind.to_string(),
                            "name": p.name,
                            "sid": p.sid,
                            "groups": groups,
                            "disabled": p.disabled,
                            "created_at": time_text(p.created_at),
                        })
                    })
                    .collect();
                outln!("{}", serde_json::to_string_pretty(&items).map_err(report)?);
                return Ok(());
            }
            for (p, groups) in rows {
                outln!(
                    "{:<6} {:<24} {:<48} {}{}",
                    p.kind,
                    p.name,
                    p.sid,
                    groups.join(","),
                    if p.disabled { " (disabled)" } else { "" }
                );
            }
        }
        PrincipalCommand::Disable { name } => {
            let changed = admin.disable_principal(&name).await.map_err(report)?;
            match changed {
                true => outln!("{name} disabled: its tokens are refused"),
                false => outln!("{name} was disabled already"),
            }
        }
        PrincipalCommand::Enable { name } => {
            let changed = admin.enable_principal(&name).await.map_err(report)?;
            match changed {
                true => outln!("{name} enabled"),
                false => outln!("{name} was enabled already"),
            }
        }
        PrincipalCommand::Remove { name } => {
            let removed = admin.remove_principal(&name).await.map_err(report)?;
            outln!("principal {} ({}) removed", removed.name, removed.sid);
        }
    }
    Ok(())
}

/// Runs a group command.
pub(crate) async fn run_group(admin: &Admin, command: GroupCommand) -> CliResult {
    match command {
        GroupCommand::Add { name } => {
            let group = admin.add_group(&name).await.map_err(report)?;
            outln!("group {} ({})", group.name, group.sid);
        }
        GroupCommand::AddMember { member, group } => {
            admin.add_member(&member, &group).await.map_err(report)?;
            outln!("{member} is now a member of {group}");
        }
        GroupCommand::RemoveMember { member, group } => {
            admin.remove_member(&member, &group).await.map_err(report)?;
            outln!("{member} is no longer a member of {group}");
        }
        GroupCommand::ListMembers { group, json } => {
            let members = admin.group_members(&group).await.map_err(report)?;
            if json {
                let items: Vec<_> = members
                    .iter()
                    .map(|p| json!({"kind": p.kind.to_string(), "name": p.name, "sid": p.sid}))
                    .collect();
                outln!("{}", serde_json::to_string_pretty(&items).map_err(report)?);
                return Ok(());
            }
            if members.is_empty() {
                outln!("{group} has no members");
            }
            for p in members {
                outln!("{:<6} {:<24} {}", p.kind, p.name, p.sid);
            }
        }
        GroupCommand::Remove { name } => {
            let removed = admin.remove_group(&name).await.map_err(report)?;
            outln!("group {} ({}) removed", removed.name, removed.sid);
        }
    }
    Ok(())
}

/// Runs a token command.
pub(crate) async fn run_token(admin: &Admin, command: TokenCommand) -> CliResult {
    match command {
        TokenCommand::Issue { principal, expires } => {
            let issued = admin
                .issue_token(&principal, expires)
                .await
                .map_err(report)?;
            outln!(
                "token {} for {principal}, {}",
                issued.id,
                issued
                    .expires_at
                    .map_or("no expiry".to_owned(), |t| format!(
                        "expires {}",
                        time_text(t)
                    ))
            );
            outln!("token: {}", issued.token);
            eprintln!("the token is shown only now; the server keeps only its hash");
        }
        TokenCommand::Revoke { id } => {
            let revoked = admin.revoke_token(&id).await.map_err(report)?;
            outln!("token {} of {} revoked", revoked.id, revoked.principal);
        }
        TokenCommand::List { principal, json } => {
            let tokens = admin.tokens(principal.as_deref()).await.map_err(report)?;
            if json {
                let items: Vec<_> = tokens.iter().map(token_json).collect();
                outln!("{}", serde_json::to_string_pretty(&items).map_err(report)?);
                return Ok(());
            }
            if tokens.is_empty() {
                outln!("no tokens");
            }
            for t in &tokens {
                outln!(
                    "{}  {:<24} created {}  expires {}  last used {}",
                    t.id,
                    t.principal,
                    time_text(t.created_at),
                    t.expires_at.map_or("never".to_owned(), time_text),
                    t.last_used.map_or("never".to_owned(), time_text)
                );
            }
        }
    }
    Ok(())
}

fn token_json(t: &TokenRecord) -> serde_json::Value {
    json!({
        "id": t.id,
        "principal": t.principal,
        "created_at": time_text(t.created_at),
        "expires_at": t.expires_at.map(time_text),
        "last_used": t.last_used.map(time_text),
    })
}

//! The commands every server has besides its own setup command, and the administration
//! commands root and licensing servers share.

use std::sync::Arc;

use clap::Subcommand;
use rms_roles::{Admin, Cluster, Service};
use rms_store::{ClusterRole, IssuedFilter};
use rms_transport::{Metrics, Router};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{
    CliResult, ClusterArgs, ServeArgs, fail, init_logging, open_cluster, print_chain, time_text,
};

/// The administration commands root and licensing servers share.
#[derive(Debug, Clone, Subcommand)]
pub enum AdminCommand {
    /// Manage principals (users with bearer tokens).
    #[command(subcommand)]
    Principal(PrincipalCommand),
    /// Manage groups.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Show and change the services' DACLs.
    #[command(subcommand)]
    Acl(AclCommand),
    /// List issued certificates and licenses.
    #[command(subcommand)]
    Certs(CertsCommand),
    /// Show the audit log.
    Audit {
        /// Only entries at or after this time (RFC 3339, e.g. 2026-11-25T00:00:00Z).
        #[arg(long)]
        since: Option<String>,
        /// At most this many entries.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
}

/// The commands every server has besides its own setup command: serve, status, chain, and
/// administration.
#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// Serve this server's endpoints, health and metrics over HTTP(S).
    ///
    /// Example: serve --data-dir ./data --listen 127.0.0.1:0
    Serve {
        /// Where the cluster is.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// How to serve.
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Join an existing cluster as a new node: no enrollment; the node reads the cluster's SLC
    /// chain and encrypted key from the shared database and checks that the cluster secret
    /// decrypts the key, then remembers the database in the data directory.
    ///
    /// Example: RMS_CLUSTER_SECRET=... join --data-dir ./node-2 --database postgres://rms@db/rms
    Join {
        /// Where the node keeps its settings, and the cluster's database (--database).
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Show the cluster: SLC subject, serial, validity, days left, nodes seen.
    Status {
        /// Where the cluster is.
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Print the cluster's chain (PEM, leaf first).
    Chain {
        /// Where the cluster is.
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Principals, groups, DACLs, records and the audit log.
    #[command(flatten)]
    Admin(AdminWithCluster),
}

impl ServerCommand {
    /// Runs the command for a server of `role`; `router` builds the server's routes for a
    /// loaded cluster.
    pub async fn run(
        self,
        role: ClusterRole,
        router: impl FnOnce(Arc<Cluster>, Arc<Metrics>) -> Result<Router, String>,
    ) -> CliResult {
        match self {
            ServerCommand::Join { cluster } => crate::join::join(&cluster, role).await,
            ServerCommand::Serve { cluster, serve } => {
                init_logging(serve.log_json);
                if role == ClusterRole::Root && serve.renew_from.is_some() {
                    return Err(
                        "--renew-from is for licensing servers: a root renews with its enrollment authority (rms-root renew)"
                            .into(),
                    );
                }
                let node = open_cluster(&cluster, serve.node_options()).await?;
                let metrics = Arc::new(Metrics::new());
                let routes = router(node.clone(), metrics.clone())?;
                serve.serve(routes, metrics, node).await
            }
            ServerCommand::Status { cluster } => print_status(&cluster).await,
            ServerCommand::Chain { cluster } => print_chain(&cluster).await,
            ServerCommand::Admin(admin) => {
                let (cluster, command) = admin.split();
                run_admin(&cluster, command).await
            }
        }
    }
}

/// The administration subcommands, each with the options that locate the cluster.
#[derive(Debug, Subcommand)]
pub enum AdminWithCluster {
    /// Manage principals (users with bearer tokens).
    Principal {
        /// Where the cluster is.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// What to do.
        #[command(subcommand)]
        command: PrincipalCommand,
    },
    /// Manage groups.
    Group {
        /// Where the cluster is.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// What to do.
        #[command(subcommand)]
        command: GroupCommand,
    },
    /// Show and change the services' DACLs.
    Acl {
        /// Where the cluster is.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// What to do.
        #[command(subcommand)]
        command: AclCommand,
    },
    /// List issued certificates.
    Certs {
        /// Where the cluster is.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// What to do.
        #[command(subcommand)]
        command: CertsCommand,
    },
    /// Show the audit log.
    Audit {
        /// Where the cluster is.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// Only entries at or after this time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// At most this many entries.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
}

impl AdminWithCluster {
    /// The cluster options and the command.
    pub fn split(self) -> (ClusterArgs, AdminCommand) {
        match self {
            AdminWithCluster::Principal { cluster, command } => {
                (cluster, AdminCommand::Principal(command))
            }
            AdminWithCluster::Group { cluster, command } => (cluster, AdminCommand::Group(command)),
            AdminWithCluster::Acl { cluster, command } => (cluster, AdminCommand::Acl(command)),
            AdminWithCluster::Certs { cluster, command } => (cluster, AdminCommand::Certs(command)),
            AdminWithCluster::Audit {
                cluster,
                since,
                limit,
            } => (cluster, AdminCommand::Audit { since, limit }),
        }
    }
}

/// Principal commands.
#[derive(Debug, Clone, Subcommand)]
pub enum PrincipalCommand {
    /// Add a principal and print its token (shown once).
    ///
    /// Example: rms-root principal add alice --group rms-admins
    Add {
        /// The principal's name.
        name: String,
        /// A group to put it in (repeatable).
        #[arg(long = "group")]
        groups: Vec<String>,
    },
    /// List principals and groups.
    List,
}

/// Group commands.
#[derive(Debug, Clone, Subcommand)]
pub enum GroupCommand {
    /// Add a group.
    Add {
        /// The group's name.
        name: String,
    },
    /// Put a principal in a group.
    AddMember {
        /// The principal.
        member: String,
        /// The group.
        group: String,
    },
}

/// DACL commands.
#[derive(Debug, Clone, Subcommand)]
pub enum AclCommand {
    /// Print a service's descriptor as SDDL (all services without an argument).
    Show {
        /// SubEnrollService, ChainService, PublishingService, LicensingService or RenewalService.
        service: Option<String>,
    },
    /// Replace a service's descriptor.
    ///
    /// Example: rms-root acl set SubEnrollService 'O:SYG:SYD:P(A;;CC;;;BA)'
    Set {
        /// The service.
        service: String,
        /// The new descriptor, SDDL.
        sddl: String,
    },
    /// Allow a principal, group, SID or SDDL alias rights on a service (its own right if none
    /// given).
    ///
    /// Example: rms-root acl grant SubEnrollService rms-admins subenroll
    Grant {
        /// The service.
        service: String,
        /// The principal, group, SID or alias.
        principal: String,
        /// Rights: subenroll, read-chain, issue-publishing-license, issue-use-license, renew, ...
        rights: Vec<String>,
    },
    /// Deny rights; an explicit deny wins over every allow.
    Deny {
        /// The service.
        service: String,
        /// The principal, group, SID or alias.
        principal: String,
        /// Rights (the service's own right if none given).
        rights: Vec<String>,
    },
    /// Remove every explicit entry of a principal.
    Revoke {
        /// The service.
        service: String,
        /// The principal, group, SID or alias.
        principal: String,
    },
}

/// Certificate listing commands.
#[derive(Debug, Clone, Subcommand)]
pub enum CertsCommand {
    /// List what was issued, newest first.
    List {
        /// Only items expiring within this period, e.g. 30d.
        #[arg(long)]
        expiring: Option<rms_policy::Lifetime>,
        /// Only items of this kind: slc, publishing-license, use-license.
        #[arg(long)]
        kind: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Delete the records of items that expired more than MARGIN ago (30 days by default, at
    /// least one day): nothing still valid, or expired within the margin, is touched. The
    /// audit log keeps the issuance entries and records the pruning.
    ///
    /// Example: certs prune --margin 90d
    Prune {
        /// How long after expiry a record is kept, e.g. 30d or 1y.
        #[arg(long, default_value = "30d")]
        margin: rms_policy::Lifetime,
    },
}

/// The smallest margin `certs prune` accepts.
const MIN_PRUNE_MARGIN: time::Duration = time::Duration::DAY;

fn parse_service(name: &str) -> CliResult<Service> {
    name.parse::<Service>().map_err(|e| e.to_string())
}

/// Runs an administration command against the cluster in `args`.
pub async fn run_admin(args: &ClusterArgs, command: AdminCommand) -> CliResult {
    let store = args.open_store().await?;
    let actor = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    let admin = Admin::open(store, &actor)
        .await
        .map_err(|e| e.to_string())?;
    let err = |e: rms_roles::RoleError| e.to_string();
    match command {
        AdminCommand::Principal(PrincipalCommand::Add { name, groups }) => {
            let (principal, token) = admin.add_principal(&name, &groups).await.map_err(err)?;
            println!("principal {} ({})", principal.name, principal.sid);
            println!("token: {token}");
            eprintln!("the token is shown only now; the server keeps only its hash");
        }
        AdminCommand::Principal(PrincipalCommand::List) => {
            for p in admin.principals().await.map_err(err)? {
                let groups = admin
                    .store()
                    .groups_of(&p.name)
                    .await
                    .map_err(|e| e.to_string())?;
                println!(
                    "{:<6} {:<24} {:<48} {}",
                    p.kind,
                    p.name,
                    p.sid,
                    groups.join(",")
                );
            }
        }
        AdminCommand::Group(GroupCommand::Add { name }) => {
            let group = admin.add_group(&name).await.map_err(err)?;
            println!("group {} ({})", group.name, group.sid);
        }
        AdminCommand::Group(GroupCommand::AddMember { member, group }) => {
            admin.add_member(&member, &group).await.map_err(err)?;
            println!("{member} is now a member of {group}");
        }
        AdminCommand::Acl(AclCommand::Show {
            service: Some(service),
        }) => {
            let record = admin
                .acl_show(parse_service(&service)?)
                .await
                .map_err(err)?;
            println!("{}", record.sddl);
        }
        AdminCommand::Acl(AclCommand::Show { service: None }) => {
            for record in admin.acl_list().await.map_err(err)? {
                println!("{:<18} {}", record.service, record.sddl);
            }
        }
        AdminCommand::Acl(AclCommand::Set { service, sddl }) => {
            println!(
                "{}",
                admin
                    .acl_set(parse_service(&service)?, &sddl)
                    .await
                    .map_err(err)?
            );
        }
        AdminCommand::Acl(AclCommand::Grant {
            service,
            principal,
            rights,
        }) => {
            println!(
                "{}",
                admin
                    .acl_grant(parse_service(&service)?, &principal, &rights)
                    .await
                    .map_err(err)?
            );
        }
        AdminCommand::Acl(AclCommand::Deny {
            service,
            principal,
            rights,
        }) => {
            println!(
                "{}",
                admin
                    .acl_deny(parse_service(&service)?, &principal, &rights)
                    .await
                    .map_err(err)?
            );
        }
        AdminCommand::Acl(AclCommand::Revoke { service, principal }) => {
            println!(
                "{}",
                admin
                    .acl_revoke(parse_service(&service)?, &principal)
                    .await
                    .map_err(err)?
            );
        }
        AdminCommand::Certs(CertsCommand::Prune { margin }) => {
            let now = OffsetDateTime::now_utc();
            let cutoff = margin.start_before(now).map_err(|e| e.to_string())?;
            if now - cutoff < MIN_PRUNE_MARGIN {
                return Err(format!(
                    "a margin of {margin} is too short: keep records at least one day after expiry"
                ));
            }
            let entry = rms_store::NewAuditEntry {
                principal: actor.clone(),
                service: "admin".into(),
                action: "certs prune".into(),
                outcome: rms_store::Outcome::Allowed,
                reason: format!(
                    "records of items expired before {} (margin {margin})",
                    time_text(cutoff)
                ),
                node: "cli".into(),
            };
            let deleted = admin
                .store()
                .prune_issued(cutoff, &entry)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "deleted {deleted} records of items expired before {}",
                time_text(cutoff)
            );
        }
        AdminCommand::Certs(CertsCommand::List {
            expiring,
            kind,
            limit,
        }) => {
            let now = OffsetDateTime::now_utc();
            let expiring_before = match expiring {
                Some(lifetime) => Some(lifetime.end_from(now).map_err(|e| e.to_string())?),
                None => None,
            };
            let kind = match kind {
                Some(k) => Some(
                    k.parse()
                        .map_err(|e: rms_store::StoreError| e.to_string())?,
                ),
                None => None,
            };
            let filter = IssuedFilter {
                kind,
                expiring_before,
                serial: None,
                limit: Some(limit),
            };
            for r in admin
                .store()
                .issued(&filter)
                .await
                .map_err(|e| e.to_string())?
            {
                println!(
                    "{:<18} {:<34} {:<28} {} .. {}  by {} for {}",
                    r.kind,
                    r.serial,
                    r.subject,
                    time_text(r.not_before),
                    time_text(r.not_after),
                    r.issued_by,
                    r.requester
                );
            }
        }
        AdminCommand::Audit { since, limit } => {
            let since = match since {
                Some(text) => Some(
                    OffsetDateTime::parse(&text, &Rfc3339)
                        .map_err(fail("--since is not an RFC 3339 time"))?,
                ),
                None => None,
            };
            for e in admin
                .store()
                .audit_log(since, limit)
                .await
                .map_err(|e| e.to_string())?
            {
                let x = &e.entry;
                println!(
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
        }
    }
    Ok(())
}

/// Prints the cluster's status: identity, SLC, days left, nodes seen recently.
pub async fn print_status(args: &ClusterArgs) -> CliResult {
    let store = args.open_store().await?;
    let identity = store.cluster().await.map_err(|e| e.to_string())?;
    let slc = store.current_slc().await.map_err(|e| e.to_string())?;
    let chain = rms_cert::Chain::from_pem(&slc.chain_pem).map_err(|e| e.to_string())?;
    let now = OffsetDateTime::now_utc();
    println!(
        "cluster:    {} ({} cluster, id {})",
        identity.name, identity.role, identity.cluster_id
    );
    println!("database:   {:?} backend", store.backend());
    println!("SLC:        {}", chain.leaf().tbs_certificate().subject());
    println!("issuer:     {}", chain.leaf().tbs_certificate().issuer());
    println!("serial:     {}", slc.serial);
    println!(
        "valid:      {} .. {}",
        time_text(slc.not_before),
        time_text(slc.not_after)
    );
    println!("days left:  {}", (slc.not_after - now).whole_days());
    let nodes = store
        .nodes(now - time::Duration::minutes(5))
        .await
        .map_err(|e| e.to_string())?;
    println!("nodes seen in the last 5 minutes: {}", nodes.len());
    for node in nodes {
        println!(
            "  {:<24} {:<28} v{} last seen {}",
            node.node_id,
            node.address,
            node.version,
            time_text(node.last_seen)
        );
    }
    Ok(())
}

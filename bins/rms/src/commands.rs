//! The commands every server has besides its own setup command, and the administration
//! commands root and licensing servers share.

use std::sync::Arc;

use clap::Subcommand;
use rms_roles::store::{ClusterRole, IssuedFilter};
use rms_roles::{Admin, AuditQuery, Cluster, Service};
use rms_transport::{Metrics, Router};
use time::OffsetDateTime;

pub use crate::principal_commands::{GroupCommand, PrincipalCommand, TokenCommand};
use crate::{
    CliResult, ClusterArgs, ServeArgs, init_logging, open_cluster, print_chain, time_text,
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
    /// Manage bearer tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Show and change the services' DACLs.
    #[command(subcommand)]
    Acl(AclCommand),
    /// List issued certificates and licenses.
    #[command(subcommand)]
    Certs(CertsCommand),
    /// Show the audit log.
    Audit(AuditArgs),
}

/// Options of `audit`.
#[derive(Debug, Clone, clap::Args)]
pub struct AuditArgs {
    /// Only entries at or after this date (2026-12-01, from its start, UTC) or RFC 3339 time
    /// (2026-12-01T08:00:00Z).
    #[arg(long)]
    pub since: Option<String>,
    /// Only entries at or before this date (2026-12-01, to its end, UTC) or RFC 3339 time.
    #[arg(long)]
    pub until: Option<String>,
    /// Only entries of this principal (`-` for callers without a token).
    #[arg(long)]
    pub principal: Option<String>,
    /// Only entries of this service (SubEnrollService, ..., or Administration).
    #[arg(long)]
    pub service: Option<String>,
    /// Only allowed or only denied entries.
    #[arg(long, value_name = "allowed|denied")]
    pub decision: Option<String>,
    /// At most this many entries, newest first; the output says how many more there are.
    #[arg(long, default_value_t = 100)]
    pub limit: i64,
    /// Print JSON (for scripts): {"entries": [...], "more": N, "more_is_exact": true}.
    #[arg(long)]
    pub json: bool,
}

/// The commands every server has besides its own setup command: serve, status, chain, and
/// administration.
#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// Serve this server's endpoints, health and metrics over HTTP(S).
    ///
    /// Example: {bin} serve --data-dir ./data --listen 127.0.0.1:0
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
    /// Example: RMS_CLUSTER_SECRET=... {bin} join --data-dir ./node-2 --database postgres://rms@db/rms
    Join {
        /// Where the node keeps its settings, and the cluster's database (--database).
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Show the cluster: SLC subject, serial, validity, days left, nodes seen.
    ///
    /// Example: {bin} status --data-dir ./data --json
    Status {
        /// Where the cluster is.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// Print JSON (for scripts; times in RFC 3339).
        #[arg(long)]
        json: bool,
    },
    /// Print the cluster's chain (PEM, leaf first): the SLC, its issuers, the authority last.
    /// `openssl crl -verify -CAfile` and `openssl verify -untrusted` read it as it is.
    ///
    /// Example: {bin} chain --data-dir ./data > chain.pem
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
            ServerCommand::Status { cluster, json } => print_status(&cluster, json).await,
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
    /// Manage principals (users with bearer tokens): add, list, disable, enable, remove.
    ///
    /// Example: {bin} principal list --data-dir ./data
    Principal {
        /// Where the cluster is.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// What to do.
        #[command(subcommand)]
        command: PrincipalCommand,
    },
    /// Manage groups.
    ///
    /// Example: {bin} group add authors --data-dir ./data
    Group {
        /// Where the cluster is.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// What to do.
        #[command(subcommand)]
        command: GroupCommand,
    },
    /// Manage bearer tokens: several per user, each with an id, an optional expiry and when
    /// it was last used.
    ///
    /// Example: {bin} token list --principal alice --data-dir ./data
    Token {
        /// Where the cluster is.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// What to do.
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Show and change the services' DACLs.
    ///
    /// Example: {bin} acl show --data-dir ./data
    Acl {
        /// Where the cluster is.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// What to do.
        #[command(subcommand)]
        command: AclCommand,
    },
    /// List issued certificates and licenses, and prune their records.
    ///
    /// Example: {bin} certs list --expiring 30d --data-dir ./data
    Certs {
        /// Where the cluster is.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// What to do.
        #[command(subcommand)]
        command: CertsCommand,
    },
    /// Show the audit log, newest first: every access decision (allowed or denied, with the
    /// deciding ACE) and every issuance and change.
    ///
    /// Example: {bin} audit --since 2026-12-01 --decision denied --limit 20 --data-dir ./data
    Audit {
        /// Where the cluster is.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// What to show.
        #[command(flatten)]
        args: AuditArgs,
    },
}

impl AdminWithCluster {
    /// The cluster options and the command.
    #[must_use]
    pub fn split(self) -> (ClusterArgs, AdminCommand) {
        match self {
            AdminWithCluster::Principal { cluster, command } => {
                (cluster, AdminCommand::Principal(command))
            }
            AdminWithCluster::Group { cluster, command } => (cluster, AdminCommand::Group(command)),
            AdminWithCluster::Token { cluster, command } => (cluster, AdminCommand::Token(command)),
            AdminWithCluster::Acl { cluster, command } => (cluster, AdminCommand::Acl(command)),
            AdminWithCluster::Certs { cluster, command } => (cluster, AdminCommand::Certs(command)),
            AdminWithCluster::Audit { cluster, args } => (cluster, AdminCommand::Audit(args)),
        }
    }
}

/// DACL commands.
#[derive(Debug, Clone, Subcommand)]
pub enum AclCommand {
    /// Print a service's descriptor as SDDL (all services without an argument) and, below
    /// it, each entry of its DACL with the name of the principal or group it is for.
    ///
    /// Example: {bin} acl show SubEnrollService --data-dir ./data
    Show {
        /// SubEnrollService, ChainService, PublishingService, LicensingService or RenewalService.
        service: Option<String>,
        /// Print JSON (for scripts).
        #[arg(long)]
        json: bool,
    },
    /// Replace a service's descriptor.
    ///
    /// Example: {bin} acl set SubEnrollService 'O:SYG:SYD:P(A;;CC;;;BA)' --data-dir ./data
    Set {
        /// The service.
        service: String,
        /// The new descriptor, SDDL.
        sddl: String,
    },
    /// Allow a principal, group, SID or SDDL alias rights on a service (its own right if none
    /// given).
    ///
    /// Example: {bin} acl grant SubEnrollService rms-admins sub-enroll --data-dir ./data
    Grant {
        /// The service.
        service: String,
        /// The principal, group, SID or alias.
        principal: String,
        /// Rights: sub-enroll, read-chain, issue-publishing-license, issue-use-license, renew, ...
        rights: Vec<String>,
    },
    /// Deny rights; an explicit deny wins over every allow.
    ///
    /// Example: {bin} acl deny PublishingService mallory --data-dir ./data
    Deny {
        /// The service.
        service: String,
        /// The principal, group, SID or alias.
        principal: String,
        /// Rights (the service's own right if none given).
        rights: Vec<String>,
    },
    /// Remove every explicit entry of a principal.
    ///
    /// Example: {bin} acl revoke PublishingService mallory --data-dir ./data
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
    /// List what was issued, newest first; revoked items are marked.
    ///
    /// Example: {bin} certs list --kind slc --expiring 30d --data-dir ./data
    List {
        /// Only items expiring within this period, e.g. 30d.
        #[arg(long)]
        expiring: Option<rms_roles::policy::Lifetime>,
        /// Only items of this kind: slc, publishing-license, use-license.
        #[arg(long)]
        kind: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: i64,
        /// Print JSON (for scripts; times in RFC 3339).
        #[arg(long)]
        json: bool,
    },
    /// Delete the records of items that expired more than MARGIN ago (30 days by default, at
    /// least one day): nothing still valid, or expired within the margin, is touched. The
    /// audit log keeps the issuance entries and records the pruning.
    ///
    /// Example: {bin} certs prune --margin 90d --data-dir ./data
    Prune {
        /// How long after expiry a record is kept, e.g. 30d or 1y.
        #[arg(long, default_value = "30d")]
        margin: rms_roles::policy::Lifetime,
    },
}

fn parse_service(name: &str) -> CliResult<Service> {
    name.parse::<Service>().map_err(crate::report)
}

/// The rights named on the command line; `None` when none are (the service's own right).
fn parse_rights(names: &[String]) -> CliResult<Option<rms_roles::AccessMask>> {
    if names.is_empty() {
        return Ok(None);
    }
    let rights: rms_roles::ServiceRights = names.join(",").parse().map_err(crate::report)?;
    Ok(Some(rights.mask()))
}

/// Runs an administration command against the cluster in `args`.
pub async fn run_admin(args: &ClusterArgs, command: AdminCommand) -> CliResult {
    let store = args.open_store().await?;
    let actor = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    let admin = Admin::open(store, &actor).await.map_err(crate::report)?;
    let err = crate::report::<rms_roles::RoleError>;
    match command {
        AdminCommand::Principal(command) => {
            crate::principal_commands::run_principal(&admin, command).await?;
        }
        AdminCommand::Group(command) => {
            crate::principal_commands::run_group(&admin, command).await?;
        }
        AdminCommand::Token(command) => {
            crate::principal_commands::run_token(&admin, command).await?;
        }
        AdminCommand::Acl(AclCommand::Show { service, json }) => {
            let named = service.is_none();
            let views = match service {
                Some(service) => vec![
                    admin
                        .acl_view(parse_service(&service)?)
                        .await
                        .map_err(err)?,
                ],
                None => admin.acl_views().await.map_err(err)?,
            };
            crate::reports::print_acls(&views, named, json)?;
        }
        AdminCommand::Acl(AclCommand::Set { service, sddl }) => {
            crate::outln!(
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
            crate::outln!(
                "{}",
                admin
                    .acl_grant(parse_service(&service)?, &principal, parse_rights(&rights)?)
                    .await
                    .map_err(err)?
            );
        }
        AdminCommand::Acl(AclCommand::Deny {
            service,
            principal,
            rights,
        }) => {
            crate::outln!(
                "{}",
                admin
                    .acl_deny(parse_service(&service)?, &principal, parse_rights(&rights)?)
                    .await
                    .map_err(err)?
            );
        }
        AdminCommand::Acl(AclCommand::Revoke { service, principal }) => {
            crate::outln!(
                "{}",
                admin
                    .acl_revoke(parse_service(&service)?, &principal)
                    .await
                    .map_err(err)?
            );
        }
        AdminCommand::Certs(CertsCommand::Prune { margin }) => {
            let (cutoff, deleted) = admin
                .prune_issued(margin, OffsetDateTime::now_utc())
                .await
                .map_err(err)?;
            crate::outln!(
                "deleted {deleted} records of items expired before {}",
                time_text(cutoff)
            );
        }
        AdminCommand::Certs(CertsCommand::List {
            expiring,
            kind,
            limit,
            json,
        }) => {
            let now = OffsetDateTime::now_utc();
            let expiring_before = match expiring {
                Some(lifetime) => Some(lifetime.end_from(now).map_err(crate::report)?),
                None => None,
            };
            let kind = match kind {
                Some(k) => Some(
                    k.parse()
                        .map_err(|e: rms_roles::store::StoreError| e.to_string())?,
                ),
                None => None,
            };
            let filter = IssuedFilter {
                kind,
                expiring_before,
                limit: Some(limit),
            };
            let issued = admin.issued(&filter).await.map_err(err)?;
            crate::reports::print_issued(&issued, json)?;
        }
        AdminCommand::Audit(args) => {
            let query = AuditQuery {
                since: args.since,
                until: args.until,
                principal: args.principal,
                service: args.service,
                decision: args.decision,
                limit: args.limit,
            };
            let page = admin.audit(&query).await.map_err(err)?;
            crate::reports::print_audit(&page, args.json)?;
        }
    }
    Ok(())
}

/// Prints the cluster's status: identity, SLC, days left, nodes seen recently.
pub async fn print_status(args: &ClusterArgs, json: bool) -> CliResult {
    let store = args.open_store().await?;
    crate::reports::print_status(&store, json).await
}

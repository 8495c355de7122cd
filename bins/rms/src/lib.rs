//! # rms-cli: what the `rms-root`, `rms-licensing` and `rms-client` commands share
//!
//! Argument types, the data directory's layout, logging, and the administration subcommands
//! that root and licensing servers both have. The commands themselves are in `src/bin/`; all
//! the logic is in the libraries (`rms-roles`, `rms-transport`, ...).
//!
//! ```
//! let dir = rms_cli::DataDir::new("/var/lib/rms".into());
//! assert!(dir.database_url(None).starts_with("sqlite://"));
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use rms_roles::{
    Admin, CLUSTER_SECRET_ENV, CLUSTER_SECRET_FILE, Cluster, ClusterSecret, NodeOptions, Service,
};
use rms_store::{IssuedFilter, Store, StoreOptions};
use rms_transport::{Limits, Metrics, Router, ServerConfig, TlsIdentity};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A command's failure: a one-line reason for stderr.
pub type CliResult<T = ()> = Result<T, String>;

/// Turns any displayable error into a command failure.
pub fn fail<E: std::fmt::Display>(context: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{context}: {e}")
}

/// Runs `main`'s work on a multi-threaded runtime and turns the outcome into an exit code,
/// printing a failure as one line on stderr.
pub fn run<F: Future<Output = CliResult>>(work: impl FnOnce() -> F) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(work()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Starts structured logging to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Where a server keeps its files.
#[derive(Debug, Clone)]
pub struct DataDir(PathBuf);

impl DataDir {
    /// The data directory at `path`.
    pub fn new(path: PathBuf) -> Self {
        Self(path)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Creates it (mode 0700) if missing.
    pub fn create(&self) -> CliResult {
        std::fs::create_dir_all(&self.0)
            .map_err(fail(&format!("cannot create {}", self.0.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o700))
                .map_err(fail(&format!("cannot restrict {}", self.0.display())))?;
        }
        Ok(())
    }

    /// The database URL: the one given, or the SQLite file `rms.db` in the directory.
    pub fn database_url(&self, given: Option<&str>) -> String {
        match given {
            Some(url) => url.to_owned(),
            None => format!("sqlite://{}?mode=rwc", self.0.join("rms.db").display()),
        }
    }

    /// The cluster secret file.
    pub fn secret_file(&self) -> PathBuf {
        self.0.join(CLUSTER_SECRET_FILE)
    }

    /// A file in the directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

/// Options every command that opens a cluster takes.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// The server's data directory.
    #[arg(
        long,
        env = "RMS_DATA_DIR",
        default_value = "./rms-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// The configuration database (default: SQLite in the data directory), e.g.
    /// postgres://user@host/db.
    #[arg(long, env = "RMS_DATABASE_URL", global = true)]
    pub database: Option<String>,
    /// File holding the cluster secret (default: DATA_DIR/cluster-secret); the environment
    /// variable RMS_CLUSTER_SECRET takes precedence.
    #[arg(long, global = true)]
    pub secret_file: Option<PathBuf>,
}

impl ClusterArgs {
    /// The data directory.
    pub fn dir(&self) -> DataDir {
        DataDir::new(self.data_dir.clone())
    }

    /// Opens the configuration database (migrating it).
    pub async fn open_store(&self) -> CliResult<Store> {
        let url = self.dir().database_url(self.database.as_deref());
        Store::open(&url, StoreOptions::default())
            .await
            .map_err(fail(&format!(
                "cannot open the configuration database {}",
                rms_store::redact(&url)
            )))
    }

    /// The cluster secret, from the environment or the secret file.
    pub fn secret(&self) -> CliResult<ClusterSecret> {
        let file = self
            .secret_file
            .clone()
            .unwrap_or_else(|| self.dir().secret_file());
        ClusterSecret::load(&file).map_err(|e| e.to_string())
    }

    /// The secret for a new cluster: from the environment if set (then nothing is written),
    /// else a new one written to the secret file (mode 0600). Returns it and where it went.
    pub fn new_secret(&self) -> CliResult<(ClusterSecret, String)> {
        if std::env::var(CLUSTER_SECRET_ENV).is_ok() {
            let file = self.dir().secret_file();
            return ClusterSecret::load(&file)
                .map(|s| (s, format!("taken from {CLUSTER_SECRET_ENV}")))
                .map_err(|e| e.to_string());
        }
        let file = self
            .secret_file
            .clone()
            .unwrap_or_else(|| self.dir().secret_file());
        let secret = ClusterSecret::generate().map_err(|e| e.to_string())?;
        secret.write_new_file(&file).map_err(|e| e.to_string())?;
        Ok((
            secret,
            format!(
                "written to {} (mode 0600): every node of the cluster needs it",
                file.display()
            ),
        ))
    }

    /// After creating a cluster failed (the root's chain did not verify against the anchor,
    /// the authority name was invalid, ...): removes the secret file [`ClusterArgs::new_secret`]
    /// just wrote, unless the database holds a cluster it protects, so that the same command
    /// can simply be run again.
    pub async fn discard_unused_secret(&self, store: &Store) {
        if std::env::var(CLUSTER_SECRET_ENV).is_ok() || store.cluster().await.is_ok() {
            return;
        }
        let file = self
            .secret_file
            .clone()
            .unwrap_or_else(|| self.dir().secret_file());
        if let Err(error) = std::fs::remove_file(&file)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(%error, file = %file.display(), "unused cluster secret not removed");
        }
    }
}

/// Options of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port. The address bound is printed on stdout.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// TLS certificate chain (PEM); serves HTTPS together with --tls-key.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Allow plain HTTP on an address other than loopback (behind a TLS-terminating proxy).
    #[arg(long)]
    pub insecure_http: bool,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = 64 * 1024)]
    pub max_body: usize,
    /// Most concurrent connections.
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// Log as JSON lines instead of text.
    #[arg(long)]
    pub log_json: bool,
    /// This node's name in logs, audit entries and heartbeats (default: host-pid).
    #[arg(long)]
    pub node_id: Option<String>,
}

impl ServeArgs {
    /// The node's options.
    pub fn node_options(&self) -> NodeOptions {
        NodeOptions {
            node_id: self
                .node_id
                .clone()
                .unwrap_or_else(rms_roles::default_node_id),
            ..NodeOptions::default()
        }
    }

    /// Serves `router` until SIGINT/SIGTERM, printing the bound address and keeping a
    /// heartbeat in the database.
    pub async fn serve(
        &self,
        router: Router,
        metrics: Arc<Metrics>,
        cluster: Arc<Cluster>,
    ) -> CliResult {
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => {
                Some(TlsIdentity::from_files(cert, key).map_err(|e| e.to_string())?)
            }
            _ => None,
        };
        let config = ServerConfig {
            listen: self.listen,
            tls,
            allow_insecure_http: self.insecure_http,
            limits: Limits {
                max_body_bytes: self.max_body,
                max_connections: self.max_connections,
                ..Limits::default()
            },
        };
        let server = rms_transport::serve(config, router, metrics)
            .await
            .map_err(|e| e.to_string())?;
        println!("listening on {}", server.url());
        let heartbeat = tokio::spawn(heartbeat(cluster, server.url()));
        server.run_until_signal().await;
        heartbeat.abort();
        tracing::info!("stopped");
        Ok(())
    }
}

async fn heartbeat(cluster: Arc<Cluster>, address: String) {
    let started_at = OffsetDateTime::now_utc();
    loop {
        let node = rms_store::NodeRecord {
            node_id: cluster.options().node_id.clone(),
            address: address.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at,
            last_seen: OffsetDateTime::now_utc(),
        };
        if let Err(error) = cluster.store().heartbeat(&node).await {
            tracing::warn!(%error, "heartbeat not recorded");
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
}

/// Opens a node of the cluster for serving.
pub async fn open_cluster(args: &ClusterArgs, options: NodeOptions) -> CliResult<Arc<Cluster>> {
    let store = args.open_store().await?;
    let secret = args.secret()?;
    let cluster = Cluster::open(store, &secret, options)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(cluster))
}

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
    /// Runs the command; `router` builds the server's routes for a loaded cluster.
    pub async fn run(
        self,
        router: impl FnOnce(Arc<Cluster>, Arc<Metrics>) -> Result<Router, String>,
    ) -> CliResult {
        match self {
            ServerCommand::Serve { cluster, serve } => {
                init_logging(serve.log_json);
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
}

fn parse_service(name: &str) -> CliResult<Service> {
    name.parse::<Service>().map_err(|e| e.to_string())
}

fn time_text(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
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

/// Prints the cluster's chain as PEM, leaf first.
pub async fn print_chain(args: &ClusterArgs) -> CliResult {
    let store = args.open_store().await?;
    let slc = store.current_slc().await.map_err(|e| e.to_string())?;
    print!("{}", slc.chain_pem);
    Ok(())
}

/// Reads a bearer token from `--token-file` or the environment variable `RMS_TOKEN`.
pub fn read_token(file: Option<&Path>) -> CliResult<Option<String>> {
    if let Some(file) = file {
        let text = std::fs::read_to_string(file)
            .map_err(fail(&format!("cannot read {}", file.display())))?;
        return Ok(Some(text.trim().to_owned()));
    }
    Ok(std::env::var("RMS_TOKEN")
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty()))
}

/// Reads a file as text, naming it in the error.
pub fn read_text(path: &Path) -> CliResult<String> {
    std::fs::read_to_string(path).map_err(fail(&format!("cannot read {}", path.display())))
}

/// Writes a file, naming it in the error.
pub fn write_text(path: &Path, text: &str) -> CliResult {
    std::fs::write(path, text).map_err(fail(&format!("cannot write {}", path.display())))
}

/// A client of `url`, trusting `tls_ca` for HTTPS, sending `token`.
pub fn client(
    url: &str,
    tls_ca: Option<&Path>,
    token: Option<String>,
) -> CliResult<rms_transport::api::ApiClient> {
    let tls_roots_pem = match tls_ca {
        Some(path) => {
            Some(std::fs::read(path).map_err(fail(&format!("cannot read {}", path.display())))?)
        }
        None => None,
    };
    let client = rms_transport::Client::new(
        url,
        rms_transport::ClientOptions {
            tls_roots_pem,
            token,
            timeout: None,
        },
    )
    .map_err(|e| e.to_string())?;
    Ok(rms_transport::api::ApiClient::new(client))
}

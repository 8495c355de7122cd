//! # rms-cli: what the `rms-root`, `rms-licensing` and `rms-client` commands share
//!
//! Argument types, the data directory's layout, logging, the administration subcommands that
//! root and licensing servers both have, and how the commands present their results (`offline`
//! for `rms-client verify` and `inspect`). The commands' arguments are in `src/bin/`; all the
//! logic is in the libraries (`rms-roles`, `rms-transport`, ...).
//!
//! ```
//! let dir = rms_cli::DataDir::new("/nonexistent/rms".into());
//! // No --database and no node.json in the directory: the embedded SQLite default.
//! assert!(dir.database_url(None).unwrap().starts_with("sqlite://"));
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use rms_roles::store::{Store, StoreOptions};
use rms_roles::{
    CLUSTER_SECRET_ENV, CLUSTER_SECRET_FILE, Cluster, ClusterSecret, NodeOptions,
    write_private_file,
};
use rms_transport::{Limits, Metrics, Router, ServerConfig, ShutdownSignal, TlsIdentity};
use time::OffsetDateTime;

pub use crate::commands::{
    AclCommand, AdminCommand, AdminWithCluster, CertsCommand, GroupCommand, PrincipalCommand,
    ServerCommand, TokenCommand, print_status, run_admin,
};
pub use crate::remote::{TLS_CLIENT_CERT_ENV, TLS_CLIENT_KEY_ENV, client};
pub use crate::reports::print_revocations;

mod commands;
pub mod content_commands;
pub mod help;
mod join;
pub mod licensing_commands;
pub mod offline;
pub mod principal_commands;
mod remote;
mod reports;

/// A command's failure: a one-line reason for stderr.
pub type CliResult<T = ()> = Result<T, String>;

/// An error as a command prints it: its message and its causes' (see
/// [`rms_roles::describe_error`]), and what to run when a command can help (the libraries do
/// not name commands).
pub fn report<E: std::error::Error + 'static>(error: E) -> String {
    let text = rms_roles::describe_error(&error);
    match advice(&error) {
        Some(advice) => format!("{text}: {advice}"),
        None => text,
    }
}

/// The command that helps with `error`, if one does.
fn advice(error: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    use rms_roles::RoleError;
    use rms_roles::store::StoreError;
    let no_cluster = matches!(
        error.downcast_ref::<RoleError>(),
        Some(RoleError::Store(StoreError::NoCluster))
    ) || matches!(
        error.downcast_ref::<StoreError>(),
        Some(StoreError::NoCluster)
    );
    no_cluster.then_some(
        "run `rms-root init` (a root) or `rms-licensing enroll` (a licensing server) first",
    )
}

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
    let outcome = runtime.block_on(work()).and_then(|()| flush_stdout());
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        // The reader (`head`, a pager) has read what it wanted: nothing failed.
        Err(message) if message == STDOUT_CLOSED => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// What is logged when `RUST_LOG` is not set: our `info`, and the database driver's notices
/// only from `warn` (PostgreSQL's notices are the server talking to itself).
pub const DEFAULT_LOG_FILTER: &str = "info,sqlx::postgres::notice=warn";

/// The failure [`write_out`] reports when standard output was closed by its reader (a
/// `head` that read enough): [`run`] ends the command quietly and successfully.
pub const STDOUT_CLOSED: &str = "standard output closed by its reader";

/// Writes to standard output; a closed pipe is [`STDOUT_CLOSED`] instead of a panic.
/// Commands print with [`out!`] and [`outln!`], which call this and return its failure.
pub fn write_out(text: std::fmt::Arguments<'_>) -> CliResult {
    use std::io::Write;
    let written = std::io::stdout().lock().write_fmt(text);
    written.map_err(stdout_failure)
}

fn flush_stdout() -> CliResult {
    use std::io::Write;
    std::io::stdout().lock().flush().map_err(stdout_failure)
}

fn stdout_failure(error: std::io::Error) -> String {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        STDOUT_CLOSED.to_owned()
    } else {
        format!("cannot write to standard output: {error}")
    }
}

/// `print!` that returns [`STDOUT_CLOSED`] from the enclosing function (returning a
/// [`CliResult`]) when standard output is a closed pipe, instead of panicking.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::write_out(format_args!($($arg)*))?
    };
}

/// `println!` that returns [`STDOUT_CLOSED`] from the enclosing function (returning a
/// [`CliResult`]) when standard output is a closed pipe, instead of panicking.
#[macro_export]
macro_rules! outln {
    () => {
        $crate::write_out(format_args!("\n"))?
    };
    ($($arg:tt)*) => {
        $crate::write_out(format_args!("{}\n", format_args!($($arg)*)))?
    };
}

/// Starts structured logging to stderr, filtered by `RUST_LOG` (default
/// [`DEFAULT_LOG_FILTER`]), in colour only when stderr is a terminal.
pub fn init_logging(json: bool) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// The node settings file in a data directory.
pub const NODE_FILE: &str = "node.json";

/// What `node.json` holds.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeSettings {
    /// The configuration database's URL.
    database: String,
}

/// Where a server keeps its files.
#[derive(Debug, Clone)]
pub struct DataDir(PathBuf);

impl DataDir {
    /// The data directory at `path`.
    #[must_use]
    pub fn new(path: PathBuf) -> Self {
        Self(path)
    }

    /// Its path.
    #[must_use]
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

    /// The database URL: the one given (`--database` or `RMS_DATABASE_URL`), else the one
    /// `init`, `enroll` or `join` remembered in `node.json`, else the SQLite file `rms.db` in
    /// the directory.
    pub fn database_url(&self, given: Option<&str>) -> CliResult<String> {
        if let Some(url) = given {
            return Ok(url.to_owned());
        }
        if let Some(url) = self.remembered_database()? {
            return Ok(url);
        }
        Ok(format!(
            "sqlite://{}?mode=rwc",
            self.0.join("rms.db").display()
        ))
    }

    /// The node settings file: which database the node's cluster lives in.
    #[must_use]
    pub fn node_file(&self) -> PathBuf {
        self.0.join(NODE_FILE)
    }

    fn remembered_database(&self) -> CliResult<Option<String>> {
        let file = self.node_file();
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
        };
        let settings: NodeSettings = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not valid node settings: {e}", file.display()))?;
        Ok(Some(settings.database))
    }

    /// Remembers `url` in `node.json` (mode 0600: the URL may hold a password), so that later
    /// commands on this directory need no `--database`.
    pub fn remember_database(&self, url: &str) -> CliResult {
        let settings = NodeSettings {
            database: url.to_owned(),
        };
        let text = serde_json::to_string_pretty(&settings).map_err(report)?;
        let file = self.node_file();
        write_private_file(&file, format!("{text}\n").as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", file.display()))
    }

    /// The cluster secret file.
    #[must_use]
    pub fn secret_file(&self) -> PathBuf {
        self.0.join(CLUSTER_SECRET_FILE)
    }

    /// A file in the directory.
    #[must_use]
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
    #[must_use]
    pub fn dir(&self) -> DataDir {
        DataDir::new(self.data_dir.clone())
    }

    /// The configuration database's URL (see [`DataDir::database_url`]).
    pub fn database_url(&self) -> CliResult<String> {
        self.dir().database_url(self.database.as_deref())
    }

    /// After a cluster was created or joined with `--database`: remembers the URL in the data
    /// directory for later commands.
    pub fn remember_database(&self) -> CliResult {
        match &self.database {
            Some(url) if self.dir().remembered_database()?.as_deref() != Some(url) => {
                self.dir().remember_database(url)
            }
            _ => Ok(()),
        }
    }

    /// Opens the configuration database of an existing server (migrating it). Without
    /// `--database` and `node.json`, the data directory's `rms.db` must exist: a directory
    /// that holds no server is refused with what to give, and nothing is created in it.
    pub async fn open_store(&self) -> CliResult<Store> {
        if self.database.is_none() && self.dir().remembered_database()?.is_none() {
            let dir = self.dir();
            let file = dir.file("rms.db");
            if !file.exists() {
                return Err(format!(
                    "no server in the data directory {} ({} does not exist): give --data-dir (or RMS_DATA_DIR) the directory init, enroll or join made, or --database for a cluster on PostgreSQL",
                    dir.path().display(),
                    file.display()
                ));
            }
        }
        self.create_store().await
    }

    /// Opens the configuration database, creating the SQLite file if missing (for `init`,
    /// `enroll` and `join`, which make a server).
    pub async fn create_store(&self) -> CliResult<Store> {
        let url = self.database_url()?;
        Store::open(&url, StoreOptions::default())
            .await
            .map_err(fail(&format!(
                "cannot open the configuration database {}",
                rms_roles::store::redact(&url)
            )))
    }

    /// The cluster secret, from the environment or the secret file.
    pub fn secret(&self) -> CliResult<ClusterSecret> {
        let file = self
            .secret_file
            .clone()
            .unwrap_or_else(|| self.dir().secret_file());
        ClusterSecret::load(&file).map_err(report)
    }

    /// The secret for a new cluster: from the environment if set (then nothing is written),
    /// else a new one written to the secret file (mode 0600). Returns it and where it went.
    pub fn new_secret(&self) -> CliResult<(ClusterSecret, String)> {
        if std::env::var(CLUSTER_SECRET_ENV).is_ok() {
            let file = self.dir().secret_file();
            return ClusterSecret::load(&file)
                .map(|s| (s, format!("taken from {CLUSTER_SECRET_ENV}")))
                .map_err(report);
        }
        let file = self
            .secret_file
            .clone()
            .unwrap_or_else(|| self.dir().secret_file());
        let secret = ClusterSecret::generate().map_err(report)?;
        secret.write_new_file(&file).map_err(report)?;
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

/// Which key a renewal certifies (`renew` of both servers).
#[derive(Debug, Clone, Args)]
pub struct RekeyArgs {
    /// Certify a new key instead of the current one.
    #[arg(long)]
    pub rekey: bool,
    /// RSA key size of the new key.
    #[arg(long, default_value_t = 2048)]
    pub key_bits: usize,
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
    /// Ask clients for a TLS certificate and accept those issued by a CA in this file (PEM):
    /// a certificate whose subject common name is a user of the cluster authenticates as that
    /// user, with no bearer token. Clients without one still use tokens.
    #[arg(long, requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Allow plain HTTP on an address other than loopback (behind a TLS-terminating proxy).
    #[arg(long)]
    pub insecure_http: bool,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = 64 * 1024)]
    pub max_body: usize,
    /// Most concurrent connections.
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// Most concurrent connections from one peer address (a share of --max-connections, so
    /// that one peer cannot take them all).
    #[arg(long, default_value_t = 256)]
    pub max_connections_per_peer: usize,
    /// Log as JSON lines instead of text.
    #[arg(long)]
    pub log_json: bool,
    /// This node's name in logs, audit entries and heartbeats (default: host-pid).
    #[arg(long)]
    pub node_id: Option<String>,
    /// Renew the SLC automatically with this root once inside the renewal window (the last 30
    /// days; checked hourly, retried with back-off on failure). Licensing servers only.
    #[arg(long, value_name = "ROOT_URL")]
    pub renew_from: Option<String>,
    /// A certificate to trust for an https:// --renew-from besides the system's roots (a
    /// private CA, or the root's self-signed TLS certificate).
    #[arg(long, requires = "renew_from")]
    pub renew_tls_ca: Option<PathBuf>,
    /// Certify a new key at each automatic renewal.
    #[arg(long, requires = "renew_from")]
    pub renew_rekey: bool,
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
        // Before the address is announced, so that a signal sent as soon as it is known stops
        // the server gracefully instead of killing it.
        let signal = ShutdownSignal::install().map_err(report)?;
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => {
                let identity = TlsIdentity::from_files(cert, key).map_err(report)?;
                Some(match &self.tls_client_ca {
                    Some(path) => identity.with_client_ca(
                        std::fs::read(path)
                            .map_err(fail(&format!("cannot read {}", path.display())))?,
                    ),
                    None => identity,
                })
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
                max_connections_per_peer: self.max_connections_per_peer,
                ..Limits::default()
            },
        };
        let server = rms_transport::serve(config, router, metrics)
            .await
            .map_err(report)?;
        let maintenance = rms_roles::Maintenance::new(cluster, server.url());
        let background = match &self.renew_from {
            Some(root) => {
                let api = client(root, self.renew_tls_ca.as_deref(), None)?;
                tokio::spawn(maintenance.run_with_renewal(api, self.renew_rekey))
            }
            None => tokio::spawn(maintenance.run_without_renewal()),
        };
        outln!("listening on {}", server.url());
        server.run_until(signal).await;
        background.abort();
        tracing::info!("stopped");
        Ok(())
    }
}

/// Opens a node of the cluster for serving.
pub async fn open_cluster(args: &ClusterArgs, options: NodeOptions) -> CliResult<Arc<Cluster>> {
    let store = args.open_store().await?;
    let secret = args.secret()?;
    let cluster = Cluster::open(store, &secret, options)
        .await
        .map_err(report)?;
    Ok(Arc::new(cluster))
}

/// Prints the cluster's chain as PEM, leaf first.
pub async fn print_chain(args: &ClusterArgs) -> CliResult {
    let store = args.open_store().await?;
    let slc = store.current_slc().await.map_err(report)?;
    out!("{}", slc.chain_pem);
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

/// Reads an RFC 3339 time given on the command line.
pub fn parse_time(text: &str) -> CliResult<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{text:?} is not an RFC 3339 time (e.g. 2026-11-25T00:00:00Z): {e}"))
}

/// A time as RFC 3339.
#[must_use]
pub fn time_text(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// Reads a file as text, naming it in the error.
pub fn read_text(path: &Path) -> CliResult<String> {
    std::fs::read_to_string(path).map_err(fail(&format!("cannot read {}", path.display())))
}

/// Writes a file, naming it in the error.
pub fn write_text(path: &Path, text: &str) -> CliResult {
    std::fs::write(path, text).map_err(fail(&format!("cannot write {}", path.display())))
}

#[cfg(test)]
mod tests {
    use rms_roles::RoleError;
    use rms_roles::store::StoreError;

    #[test]
    fn a_missing_cluster_is_reported_with_the_commands_that_make_one() {
        let text = super::report(RoleError::Store(StoreError::NoCluster));
        assert!(
            text.starts_with(
                "the configuration database holds no cluster yet: run `rms-root init`"
            ),
            "{text}"
        );
        let plain = super::report(StoreError::Interrupted("disk full".into()));
        assert!(!plain.contains("rms-root"), "{plain}");
    }
}

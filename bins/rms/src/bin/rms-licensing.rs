//! `rms-licensing`: a licensing server.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rms_cli::{CliResult, ClusterArgs, client, read_text, read_token, run};
use rms_roles::{EnrollmentPlan, LicensingRole, NodeOptions};
use sha2::{Digest, Sha256};

/// A licensing server: sub-enrolled by a root certification server, it issues publishing and
/// use licenses signed with its cluster's SLC.
///
/// Start here (the root's administrator gives you a token and the authority):
///   RMS_TOKEN=... rms-licensing enroll --data-dir ./lic --root http://127.0.0.1:8080 \
///       --anchor authority.pem --name licensing-1 --url http://127.0.0.1:8081
///   rms-licensing serve --data-dir ./lic --listen 127.0.0.1:8081
#[derive(Debug, Parser)]
#[command(version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a licensing cluster by sub-enrolling with a root: makes the key, sends the
    /// request with the token from --token-file or RMS_TOKEN, verifies the returned chain
    /// against the authority (a file, or its SHA-256 fingerprint), and stores it.
    ///
    /// Example: RMS_TOKEN=rms_... rms-licensing enroll --data-dir ./lic --root http://127.0.0.1:8080 --anchor authority.pem --name licensing-1 --url http://127.0.0.1:8081
    Enroll {
        #[command(flatten)]
        cluster: ClusterArgs,
        /// The root certification server's URL.
        #[arg(long)]
        root: String,
        /// The enrollment authority's certificate (PEM).
        #[arg(
            long,
            required_unless_present = "anchor_fingerprint",
            conflicts_with = "anchor_fingerprint"
        )]
        anchor: Option<PathBuf>,
        /// The enrollment authority's SHA-256 fingerprint (hex, colons allowed): the root's
        /// chain is fetched and its last certificate must match.
        #[arg(long)]
        anchor_fingerprint: Option<String>,
        /// This server's name (its SLC's common name).
        #[arg(long)]
        name: String,
        /// The URL clients reach this server at.
        #[arg(long)]
        url: String,
        /// File holding the bearer token (default: the RMS_TOKEN environment variable).
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// Certificate that signed the root's TLS certificate, for an https:// root.
        #[arg(long)]
        tls_ca: Option<PathBuf>,
        /// RSA key size: 2048, 3072 or 4096.
        #[arg(long, default_value_t = 2048)]
        key_bits: usize,
    },
    /// Renew the cluster's SLC with the root that issued it, inside the renewal window (its
    /// last 30 days) or the 30-day grace period after expiry. The request is signed with the
    /// current SLC key: no token is needed. Serving nodes switch to the renewed SLC on their
    /// next request. (`serve --renew-from URL` does this automatically.)
    ///
    /// Example: rms-licensing renew --data-dir ./lic --root http://127.0.0.1:8080
    Renew {
        #[command(flatten)]
        cluster: ClusterArgs,
        /// The root's URL.
        #[arg(long)]
        root: String,
        /// Certificate that signed the root's TLS certificate, for an https:// root.
        #[arg(long)]
        tls_ca: Option<PathBuf>,
        #[command(flatten)]
        key: rms_cli::RekeyArgs,
    },
    #[command(flatten)]
    Server(rms_cli::ServerCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    run(|| async move { execute(cli.command).await })
}

async fn execute(command: Command) -> CliResult {
    match command {
        Command::Enroll {
            cluster,
            root,
            anchor,
            anchor_fingerprint,
            name,
            url,
            token_file,
            tls_ca,
            key_bits,
        } => {
            rms_cli::init_logging(false);
            let token = read_token(token_file.as_deref())?
                .ok_or("sub-enrollment needs the root administrator's token: set RMS_TOKEN or give --token-file")?;
            let api = client(&root, tls_ca.as_deref(), Some(token))?;
            let anchor_pem = match (anchor, anchor_fingerprint) {
                (Some(path), _) => read_text(&path)?,
                (None, Some(fingerprint)) => anchor_by_fingerprint(&api, &fingerprint).await?,
                (None, None) => return Err("give --anchor or --anchor-fingerprint".into()),
            };
            let dir = cluster.dir();
            dir.create()?;
            let store = cluster.open_store().await?;
            if store.cluster().await.is_ok() {
                return Err(format!(
                    "{} already holds a cluster: refusing to enroll again",
                    dir.path().display()
                ));
            }
            let plan = EnrollmentPlan::new(&name, &url, key_bits).map_err(|e| e.to_string())?;
            let chain_pem = api
                .sub_enroll(plan.request_pem())
                .await
                .map_err(|e| format!("sub-enrollment with {root} failed: {e}"))?;
            let (secret, where_secret) = cluster.new_secret()?;
            let completed = plan
                .complete(
                    &store,
                    &secret,
                    &chain_pem,
                    &anchor_pem,
                    &NodeOptions::default(),
                )
                .await;
            let admin = match completed {
                Ok(admin) => admin,
                Err(error) => {
                    cluster.discard_unused_secret(&store).await;
                    return Err(error.to_string());
                }
            };
            cluster.remember_database()?;
            println!(
                "licensing cluster {name} enrolled with {root}; chain verified against the enrollment authority"
            );
            println!("cluster secret: {where_secret}");
            println!(
                "administrator: {} in group {}",
                admin.principal, admin.group
            );
            println!("token: {}", admin.token);
            Ok(())
        }
        Command::Renew {
            cluster,
            root,
            tls_ca,
            key: rms_cli::RekeyArgs { rekey, key_bits },
        } => {
            rms_cli::init_logging(false);
            let node = rms_cli::open_cluster(&cluster, NodeOptions::default()).await?;
            let api = client(&root, tls_ca.as_deref(), None)?;
            let validity = rms_transport::api::renew_through(&api, &node, rekey, key_bits)
                .await
                .map_err(|e| format!("renewal with {root} failed: {e}"))?;
            println!(
                "SLC {} ({}), valid until {}",
                if rekey { "rekeyed" } else { "renewed" },
                rms_roles::serial_hex(node.chain().leaf()),
                rms_cli::time_text(validity.not_after())
            );
            Ok(())
        }
        Command::Server(command) => {
            command
                .run(rms_store::ClusterRole::Licensing, |cluster, metrics| {
                    let role = LicensingRole::new(cluster).map_err(|e| e.to_string())?;
                    Ok(rms_transport::api::licensing_router(role, metrics))
                })
                .await
        }
    }
}

/// Fetches the root's chain and returns its last certificate if its SHA-256 fingerprint is the
/// one the operator gave: the authority is never trusted on first use.
async fn anchor_by_fingerprint(
    api: &rms_transport::api::ApiClient,
    fingerprint: &str,
) -> CliResult<String> {
    let wanted: String = fingerprint
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    let chain_pem = api
        .chain()
        .await
        .map_err(|e| format!("cannot fetch the root's chain: {e}"))?;
    let chain = rms_cert::Chain::from_pem(&chain_pem).map_err(|e| e.to_string())?;
    let anchor = chain.anchor();
    let der = rms_cert::certificate_to_der(anchor).map_err(|e| e.to_string())?;
    let found: String = Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if found != wanted {
        return Err(format!(
            "the root's authority has fingerprint {found}, not the {wanted} you gave: refusing to trust it"
        ));
    }
    rms_cert::certificate_to_pem(anchor).map_err(|e| e.to_string())
}

//! `rms-licensing`: a licensing server.
// Doc comments here are clap's --help text, read in a terminal: URLs in them stay bare.
#![allow(rustdoc::bare_urls)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rms_cli::outln;
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
        /// A certificate to trust for an https:// root besides the system's roots: the private CA
        /// that signed its TLS certificate, or that certificate itself if self-signed (PEM).
        #[arg(long)]
        tls_ca: Option<PathBuf>,
        /// RSA key size: 2048, 3072 or 4096.
        #[arg(long, default_value_t = 2048)]
        key_bits: usize,
        /// Where the SLC key is made: `software` (the default: in memory, stored encrypted under
        /// the cluster secret) or a PKCS#11 URI, e.g.
        /// pkcs11:token=rms;object=slc?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=env:RMS_PKCS11_PIN
        /// (made inside the token, never extractable; the PIN comes from the file or environment
        /// variable the URI's pin-source names, never from the command line).
        #[arg(long, default_value = "software")]
        key: rms_roles::keys::KeyLocation,
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
        /// A certificate to trust for an https:// root besides the system's roots: the private CA
        /// that signed its TLS certificate, or that certificate itself if self-signed (PEM).
        #[arg(long)]
        tls_ca: Option<PathBuf>,
        #[command(flatten)]
        key: rms_cli::RekeyArgs,
    },
    /// Rights policy templates: add, list, show, remove.
    ///
    /// Example: rms-licensing template list --data-dir ./lic
    Template {
        /// Where the cluster is.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// What to do.
        #[command(subcommand)]
        command: rms_cli::licensing_commands::TemplateCommand,
    },
    /// Super users (for recovery and compliance): enable, disable, add, remove, list.
    /// Disabled and empty until an administrator changes that.
    ///
    /// Example: rms-licensing superusers list --data-dir ./lic
    Superusers {
        /// Where the cluster is.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// What to do.
        #[command(subcommand)]
        command: rms_cli::content_commands::SuperUsersCommand,
    },
    /// Content this cluster published: revoke access to it.
    ///
    /// Example: rms-licensing content revoke urn:uuid:0c3e...-9f2a --data-dir ./lic
    Content {
        /// Where the cluster is.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// What to do.
        #[command(subcommand)]
        command: rms_cli::content_commands::ContentCommand,
    },
    /// Use licenses this cluster issued: revoke one.
    ///
    /// Example: rms-licensing license revoke 40a1b2c3d4e5f60718293a4b5c6d7e8f --data-dir ./lic
    License {
        /// Where the cluster is.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// What to do.
        #[command(subcommand)]
        command: rms_cli::content_commands::LicenseCommand,
    },
    /// What this cluster revoked (content and use licenses), as clients get it signed from
    /// `GET /licensing/revocations`.
    ///
    /// Example: rms-licensing revocations list --data-dir ./lic --json
    #[command(subcommand)]
    Revocations(RevocationsCommand),
    #[command(flatten)]
    Server(rms_cli::ServerCommand),
}

#[derive(Debug, Subcommand)]
enum RevocationsCommand {
    /// List revoked content and use licenses: when, what, by whom, why.
    ///
    /// Example: rms-licensing revocations list --data-dir ./lic --json
    List {
        #[command(flatten)]
        cluster: ClusterArgs,
        /// Print JSON (for scripts; times in RFC 3339).
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli: Cli = rms_cli::help::parse("rms-licensing");
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
            key,
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
            let store = cluster.create_store().await?;
            if store.cluster().await.is_ok() {
                return Err(format!(
                    "{} already holds a cluster: refusing to enroll again",
                    dir.path().display()
                ));
            }
            let key = key.generate(key_bits).map_err(rms_cli::report)?;
            let plan = EnrollmentPlan::with_key(&name, &url, key).map_err(rms_cli::report)?;
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
            outln!(
                "licensing cluster {name} enrolled with {root}; chain verified against the enrollment authority"
            );
            outln!("cluster secret: {where_secret}");
            outln!(
                "administrator: {} in group {}",
                admin.principal,
                admin.group
            );
            outln!("token: {}", admin.token);
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
            let validity = node
                .renew_through(&api, rekey, key_bits)
                .await
                .map_err(|e| {
                    format!(
                        "renewal with {root} failed: {}",
                        rms_roles::describe_error(&e)
                    )
                })?;
            outln!(
                "SLC {} ({}), valid until {}",
                if rekey { "rekeyed" } else { "renewed" },
                rms_roles::serial_hex(node.chain().leaf()),
                rms_cli::time_text(validity.not_after())
            );
            Ok(())
        }
        Command::Template { cluster, command } => {
            rms_cli::licensing_commands::run_template(&cluster, command).await
        }
        Command::Superusers { cluster, command } => {
            rms_cli::content_commands::run_super_users(&cluster, command).await
        }
        Command::Content { cluster, command } => {
            rms_cli::content_commands::run_content(&cluster, command).await
        }
        Command::License { cluster, command } => {
            rms_cli::content_commands::run_license(&cluster, command).await
        }
        Command::Revocations(RevocationsCommand::List { cluster, json }) => {
            rms_cli::content_commands::print_content_revocations(&cluster, json).await
        }
        Command::Server(command) => {
            command
                .run(
                    rms_roles::store::ClusterRole::Licensing,
                    |cluster, metrics| {
                        let role = LicensingRole::new(cluster).map_err(rms_cli::report)?;
                        Ok(rms_transport::api::licensing_router(role, metrics))
                    },
                )
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
    let chain = rms_roles::cert::Chain::from_pem(&chain_pem).map_err(rms_cli::report)?;
    let anchor = chain.anchor();
    let der = rms_roles::cert::certificate_to_der(anchor).map_err(rms_cli::report)?;
    let found: String = Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if found != wanted {
        return Err(format!(
            "the root's authority has fingerprint {found}, not the {wanted} you gave: refusing to trust it"
        ));
    }
    rms_roles::cert::certificate_to_pem(anchor).map_err(rms_cli::report)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every subcommand's help has an example that starts with `rms-licensing` and parses.
    #[test]
    fn every_command_has_an_example_that_parses() {
        let command = rms_cli::help::with_binary_name(super::Cli::command(), "rms-licensing");
        let problems = rms_cli::help::example_problems(&command, "rms-licensing");
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}

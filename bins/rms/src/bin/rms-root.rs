//! `rms-root`: a root certification server.
// Doc comments here are clap's --help text, read in a terminal: URLs in them stay bare.
#![allow(rustdoc::bare_urls)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rms_cli::outln;
use rms_cli::{CliResult, ClusterArgs, run, write_text};
use rms_roles::{RootInit, RootRole, init_root_with_key, write_private_file};

/// A root certification server: enrolled with an enrollment authority, it sub-enrolls licensing
/// servers. Its SubEnrollService denies everyone until an administrator grants access.
///
/// Start here:
///   rms-root init --data-dir ./root --name root-1 --url http://127.0.0.1:8080
///   rms-root acl grant SubEnrollService rms-admins sub-enroll --data-dir ./root
///   rms-root serve --data-dir ./root --listen 127.0.0.1:8080
#[derive(Debug, Parser)]
#[command(version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a root certification cluster: a new enrollment authority (DATA_DIR/authority.pem,
    /// the trust anchor clients need), the root's key and SLC, and an administrator in
    /// rms-admins whose token is printed once.
    ///
    /// Example: rms-root init --data-dir ./root --name root-1 --url https://rms.example.com
    Init {
        #[command(flatten)]
        cluster: ClusterArgs,
        /// The root's name (its SLC's common name).
        #[arg(long)]
        name: String,
        /// The URL licensing servers reach this root at.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// The distinguished name of the new enrollment authority.
        #[arg(long, default_value = "CN=RMS Enrollment Authority")]
        authority_name: String,
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
    /// Revoke an SLC this root issued (a licensing server's): its renewal is refused from now
    /// on, and the revocation list (GET /certification/crl, `rms-root crl`) lists it. With
    /// reason keyCompromise, verifiers refuse everything it ever signed; with another reason,
    /// what it signed after the revocation time.
    ///
    /// Example: rms-root revoke 3f9a...c2 --reason keyCompromise --data-dir ./root
    Revoke {
        #[command(flatten)]
        cluster: ClusterArgs,
        /// The SLC's serial number (hex, as `certs list` prints it).
        serial: String,
        /// Why: keyCompromise, superseded, cessationOfOperation, affiliationChanged,
        /// privilegeWithdrawn or unspecified.
        #[arg(long)]
        reason: rms_roles::cert::RevocationReason,
        /// From when (RFC 3339; default now; never in the future).
        #[arg(long)]
        at: Option<String>,
    },
    /// Write the root's current revocation list (X.509 CRL v2, PEM), signed with its SLC key.
    ///
    /// Example: rms-root crl --data-dir ./root --out root.crl.pem
    Crl {
        #[command(flatten)]
        cluster: ClusterArgs,
        /// Where to write it (default: stdout).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Renew the root's own SLC with its enrollment authority (DATA_DIR/authority.pem and
    /// authority-key.pem), inside the renewal window (its last 30 days) or the 30-day grace
    /// period after expiry. Serving nodes switch to the renewed SLC on their next request.
    ///
    /// Example: rms-root renew --data-dir ./root --rekey
    Renew {
        #[command(flatten)]
        cluster: ClusterArgs,
        #[command(flatten)]
        key: rms_cli::RekeyArgs,
    },
    /// The revocations this root recorded (what its revocation list holds).
    ///
    /// Example: rms-root revocations list --data-dir ./root
    #[command(subcommand)]
    Revocations(RevocationsCommand),
    #[command(flatten)]
    Server(rms_cli::ServerCommand),
}

#[derive(Debug, Subcommand)]
enum RevocationsCommand {
    /// List every revocation: serial, from when, reason, who revoked it, the issuing SLC.
    ///
    /// Example: rms-root revocations list --data-dir ./root --json
    List {
        #[command(flatten)]
        cluster: ClusterArgs,
        /// Print JSON (for scripts; times in RFC 3339).
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli: Cli = rms_cli::help::parse("rms-root");
    run(|| async move { execute(cli.command).await })
}

async fn execute(command: Command) -> CliResult {
    match command {
        Command::Init {
            cluster,
            name,
            url,
            authority_name,
            key_bits,
            key,
        } => {
            rms_cli::init_logging(false);
            let dir = cluster.dir();
            dir.create()?;
            let store = cluster.create_store().await?;
            if store.cluster().await.is_ok() {
                return Err(format!(
                    "{} already holds a cluster: refusing to create another",
                    dir.path().display()
                ));
            }
            let (secret, where_secret) = cluster.new_secret()?;
            let init = RootInit {
                name,
                url,
                authority_name,
                key_bits,
            };
            let root_key = key.generate(key_bits).map_err(rms_cli::report)?;
            let options = rms_roles::NodeOptions::default();
            let made = match init_root_with_key(&store, &secret, &init, root_key, &options).await {
                Ok(made) => made,
                Err(error) => {
                    cluster.discard_unused_secret(&store).await;
                    return Err(error.to_string());
                }
            };
            cluster.remember_database()?;
            write_text(&dir.file("authority.pem"), &made.authority_pem)?;
            write_private_file(
                &dir.file("authority-key.pem"),
                made.authority_key_pem.as_bytes(),
            )
            .map_err(rms_cli::report)?;
            outln!(
                "root certification cluster created in {}",
                dir.path().display()
            );
            outln!(
                "enrollment authority: {} (give it to licensing servers and clients)",
                dir.file("authority.pem").display()
            );
            outln!("cluster secret: {where_secret}");
            outln!(
                "administrator: {} in group {}",
                made.admin.principal,
                made.admin.group
            );
            outln!("token: {}", made.admin.token);
            outln!();
            outln!(
                "SubEnrollService denies everyone, administrators included. To let {} sub-enroll:",
                made.admin.group
            );
            outln!(
                "  rms-root acl grant SubEnrollService {} sub-enroll --data-dir {}",
                made.admin.group,
                dir.path().display()
            );
            Ok(())
        }
        Command::Revoke {
            cluster,
            serial,
            reason,
            at,
        } => {
            let at = at.as_deref().map(rms_cli::parse_time).transpose()?;
            let root = open_root(&cluster).await?;
            let actor = std::env::var("USER").unwrap_or_else(|_| "operator".into());
            let revoked = root
                .revoke(&actor, &serial, reason, at)
                .await
                .map_err(rms_cli::report)?;
            outln!(
                "revoked SLC {} from {} ({})",
                revoked.serial,
                rms_cli::time_text(revoked.revoked_at),
                revoked.reason
            );
            Ok(())
        }
        Command::Crl { cluster, out } => {
            let root = open_root(&cluster).await?;
            let crl = root.crl().await.map_err(rms_cli::report)?;
            let pem = crl.to_pem().map_err(rms_cli::report)?;
            match out {
                Some(path) => {
                    write_text(&path, &pem)?;
                    outln!(
                        "revocation list number {} with {} entries, valid until {}, written to {}",
                        crl.crl_number(),
                        crl.entries().len(),
                        rms_cli::time_text(crl.next_update()),
                        path.display()
                    );
                }
                None => rms_cli::out!("{pem}"),
            }
            Ok(())
        }
        Command::Renew {
            cluster,
            key: rms_cli::RekeyArgs { rekey, key_bits },
        } => {
            rms_cli::init_logging(false);
            let root = open_root(&cluster).await?;
            let dir = cluster.dir();
            let authority_pem = rms_cli::read_text(&dir.file("authority.pem"))?;
            let authority_key_pem = rms_cli::read_text(&dir.file("authority-key.pem"))?;
            let secret = cluster.secret()?;
            let validity = rms_roles::renew_root_with_authority(
                &root,
                &authority_pem,
                &authority_key_pem,
                secret.passphrase(),
                rekey,
                key_bits,
            )
            .await
            .map_err(rms_cli::report)?;
            outln!(
                "root SLC {} ({}), valid until {}",
                if rekey { "rekeyed" } else { "renewed" },
                rms_roles::serial_hex(root.cluster().chain().leaf()),
                rms_cli::time_text(validity.not_after())
            );
            Ok(())
        }
        Command::Revocations(RevocationsCommand::List { cluster, json }) => {
            let store = cluster.open_store().await?;
            let actor = std::env::var("USER").unwrap_or_else(|_| "operator".into());
            let admin = rms_roles::Admin::open(store, &actor)
                .await
                .map_err(rms_cli::report)?;
            let revocations = admin.revocations().await.map_err(rms_cli::report)?;
            rms_cli::print_revocations(&revocations, json)
        }
        Command::Server(command) => {
            command
                .run(rms_roles::store::ClusterRole::Root, |cluster, metrics| {
                    let role = RootRole::new(cluster).map_err(rms_cli::report)?;
                    Ok(rms_transport::api::root_router(role, metrics))
                })
                .await
        }
    }
}

/// Opens the root cluster in `cluster` (for one-shot commands).
async fn open_root(cluster: &ClusterArgs) -> CliResult<RootRole> {
    let node = rms_cli::open_cluster(cluster, rms_roles::NodeOptions::default()).await?;
    RootRole::new(node).map_err(rms_cli::report)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every subcommand's help has an example that starts with `rms-root` and parses.
    #[test]
    fn every_command_has_an_example_that_parses() {
        let command = rms_cli::help::with_binary_name(super::Cli::command(), "rms-root");
        let problems = rms_cli::help::example_problems(&command, "rms-root");
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}

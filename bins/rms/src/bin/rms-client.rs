//! `rms-client`: a user's tools: keys, protected documents, publishing, use licenses, offline
//! verification.
// Doc comments here are clap's --help text, read in a terminal: URLs in them stay bare.
#![allow(rustdoc::bare_urls)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rms_cli::{
    CliResult, client, fail, offline, read_text, read_token, run, time_text, write_text,
};
use rms_cli::{out, outln};
use rms_roles::cert::{LicenseBody, RsaSigner, Signer};
use rms_roles::client::{
    Authority, DocumentClient, LicenseSource, LicenseStore, Protection, Publication, document_info,
};
use rms_transport::api::{GrantBody, UseLicenseBody};

/// A user's tools for the rights-management PKI: make a key pair, protect and open documents,
/// publish content, get use licenses, and verify licenses offline against the enrollment
/// authority.
///
/// A whole round (RMS_TOKEN holds the caller's bearer token):
///   rms-client keygen --out alice-key.pem
///   rms-client protect report.pdf --server http://127.0.0.1:8081 --anchor authority.pem --grant alice:view,export
///   rms-client info report.pdf.rms
///   rms-client open report.pdf.rms --server http://127.0.0.1:8081 --anchor authority.pem --key alice-key.pem --out report-copy.pdf
///
/// The licenses themselves:
///   rms-client publish --server http://127.0.0.1:8081 --anchor authority.pem --content-id doc-1 --grant alice:view,print --out doc-1.pl.pem
///   rms-client uselicense --server http://127.0.0.1:8081 --publishing-license doc-1.pl.pem --key alice-key.pem --out doc-1.ul.pem
///   rms-client verify --anchor authority.pem --key alice-key.pem doc-1.ul.pem
#[derive(Debug, Parser)]
#[command(version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The rights policy of a new publishing license: grants, or a template of the cluster.
#[derive(Debug, clap::Args)]
struct PolicyArgs {
    /// A grant, PRINCIPAL:RIGHT[,RIGHT...] with rights view, edit, print, export, forward
    /// (repeatable; PRINCIPAL may be a group).
    #[arg(
        long = "grant",
        required_unless_present = "template",
        conflicts_with = "template"
    )]
    grants: Vec<String>,
    /// The cluster's rights policy template of this name, instead of grants
    /// (`rms-licensing template list` shows them).
    #[arg(long)]
    template: Option<String>,
}

impl PolicyArgs {
    /// The grants, parsed.
    fn grants(&self) -> CliResult<Vec<rms_roles::cert::Grant>> {
        self.grants
            .iter()
            .map(|g| parse_grant(g)?.to_grant().map_err(|e| e.message))
            .collect()
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Protect a document: asks the licensing server for a publishing license granting the
    /// rights given (the cluster's chain verified against --anchor first) and writes the
    /// document encrypted for it, with the license, to FILE.rms (or --out).
    ///
    /// Example: rms-client protect report.pdf --server http://127.0.0.1:8081 --anchor authority.pem --grant alice:view,export --grant bob:view
    Protect {
        /// The document.
        file: PathBuf,
        /// The licensing server.
        #[arg(long)]
        server: String,
        /// The enrollment authority (PEM) the cluster's chain must verify against.
        #[arg(long)]
        anchor: PathBuf,
        #[command(flatten)]
        policy: PolicyArgs,
        /// Where to write the protected document (default: FILE.rms).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The content's identifier (default: a new urn:uuid:...).
        #[arg(long)]
        content_id: Option<String>,
        /// File holding the bearer token (default: RMS_TOKEN).
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// Certificate that signed the server's TLS certificate, for https://.
        #[arg(long)]
        tls_ca: Option<PathBuf>,
    },
    /// Open a protected document: gets a use license for your key from the licensing server,
    /// or reuses the one in your license store while it is valid (no server needed then),
    /// verifies it against --anchor, and writes the document out, which needs the export or
    /// edit right. When the server answers, its signed revocation list is fetched first (and
    /// kept in the license store for offline use): a revoked document or use license is
    /// refused, even one already in the store.
    ///
    /// Example: rms-client open report.pdf.rms --server http://127.0.0.1:8081 --anchor authority.pem --key alice-key.pem --out report-copy.pdf
    Open {
        /// The protected document.
        file: PathBuf,
        /// The licensing server.
        #[arg(long)]
        server: String,
        /// The enrollment authority (PEM) the use license must verify against.
        #[arg(long, env = "RMS_ANCHOR")]
        anchor: PathBuf,
        /// Your private key (PKCS#8 PEM).
        #[arg(long)]
        key: PathBuf,
        /// Where to write the document (default: FILE without its .rms).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Your license store (default: RMS_LICENSE_STORE, else ~/.rms/licenses).
        #[arg(long, env = "RMS_LICENSE_STORE")]
        license_store: Option<PathBuf>,
        /// File holding the bearer token (default: RMS_TOKEN).
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// Certificate that signed the server's TLS certificate, for https://.
        #[arg(long)]
        tls_ca: Option<PathBuf>,
    },
    /// Print what a protected document says in the clear, without opening it: content id,
    /// issuer, licensing server, grants and expiry (nothing of it is verified).
    ///
    /// Example: rms-client info report.pdf.rms
    Info {
        /// The protected document.
        file: PathBuf,
    },
    /// Make an RSA key pair (PKCS#8 PEM, mode 0600) and print its public key.
    ///
    /// Example: rms-client keygen --out alice-key.pem --public-out alice-pub.pem
    Keygen {
        /// Where to write the private key.
        #[arg(long)]
        out: PathBuf,
        /// Where to write the public key (default: print it).
        #[arg(long)]
        public_out: Option<PathBuf>,
        /// RSA key size: 2048, 3072 or 4096.
        #[arg(long, default_value_t = 2048)]
        bits: usize,
    },
    /// Ask a licensing server for a publishing license: makes a content key, wraps it to the
    /// cluster's key taken from the cluster's chain (verified against --anchor), and sends the
    /// rights policy.
    ///
    /// Example: rms-client publish --server http://127.0.0.1:8081 --anchor authority.pem --content-id doc-1 --grant alice:view,print --out doc-1.pl.pem
    ///
    /// Example: rms-client publish --server http://127.0.0.1:8081 --anchor authority.pem --content-id doc-2 --template confidential --out doc-2.pl.pem
    Publish {
        /// The licensing server.
        #[arg(long)]
        server: String,
        /// The enrollment authority (PEM) the cluster's chain must verify against.
        #[arg(long)]
        anchor: PathBuf,
        /// The content's identifier.
        #[arg(long)]
        content_id: String,
        #[command(flatten)]
        policy: PolicyArgs,
        /// Where to write the publishing license.
        #[arg(long)]
        out: PathBuf,
        /// Where to write the content key (hex, mode 0600), to encrypt the content with.
        #[arg(long)]
        content_key_out: Option<PathBuf>,
        /// File holding the bearer token (default: RMS_TOKEN).
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// A certificate to trust for an https:// server besides the system's roots: the private
        /// CA that signed its TLS certificate, or that certificate itself if self-signed (PEM).
        #[arg(long)]
        tls_ca: Option<PathBuf>,
    },
    /// Ask a licensing server for a use license: presents the publishing license and your
    /// public key; the content key comes back wrapped to that key.
    ///
    /// Example: rms-client uselicense --server http://127.0.0.1:8081 --publishing-license doc-1.pl.pem --key alice-key.pem --out doc-1.ul.pem
    Uselicense {
        /// The licensing server.
        #[arg(long)]
        server: String,
        /// The publishing license (PEM).
        #[arg(long)]
        publishing_license: PathBuf,
        /// Your private key (PKCS#8 PEM) or public key (PEM).
        #[arg(long)]
        key: PathBuf,
        /// Where to write the use license.
        #[arg(long)]
        out: PathBuf,
        /// File holding the bearer token (default: RMS_TOKEN).
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// A certificate to trust for an https:// server besides the system's roots: the private
        /// CA that signed its TLS certificate, or that certificate itself if self-signed (PEM).
        #[arg(long)]
        tls_ca: Option<PathBuf>,
    },
    /// Verify a license or an SLC chain offline against the enrollment authority, under the
    /// chain model, and print who granted what to whom until when.
    ///
    /// Example: rms-client verify --anchor authority.pem --key alice-key.pem doc-1.ul.pem
    Verify {
        /// The enrollment authority (PEM).
        #[arg(long)]
        anchor: PathBuf,
        /// The license (CMS PEM) or certificate chain (PEM) to verify.
        file: PathBuf,
        /// Verify as of this time (RFC 3339) instead of now.
        #[arg(long)]
        at: Option<String>,
        /// Your private key: also prove that the license's content key unwraps.
        #[arg(long)]
        key: Option<PathBuf>,
        /// A revocation list (PEM, as `rms-root crl` writes it or DER from
        /// GET /certification/crl) to apply; may be repeated. Its issuer must verify to the
        /// anchor.
        #[arg(long)]
        crl: Vec<PathBuf>,
    },
    /// Print any of our PEM artifacts readably: certificates, requests, licenses, keys.
    ///
    /// Example: rms-client inspect doc-1.pl.pem
    Inspect {
        /// The file.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli: Cli = rms_cli::help::parse("rms-client");
    run(|| async move { execute(cli.command).await })
}

async fn execute(command: Command) -> CliResult {
    match command {
        Command::Protect {
            file,
            server,
            anchor,
            policy,
            out,
            content_id,
            token_file,
            tls_ca,
        } => {
            let api = client(
                &server,
                tls_ca.as_deref(),
                read_token(token_file.as_deref())?,
            )?;
            let authority = Authority::from_pem(&read_text(&anchor)?).map_err(rms_cli::report)?;
            let protection = Protection {
                content_id,
                grants: policy.grants()?,
                template: policy.template,
                ..Protection::default()
            };
            let out = out.unwrap_or_else(|| with_suffix(&file, ".rms"));
            let progress = progress_bar(&file);
            let documents = DocumentClient::new(api, authority);
            let protected = documents
                .protect(&server, &protection, &file, &out, &mut |p| progress.show(p))
                .await
                .map_err(|e| format!("{} not protected: {}", file.display(), rms_cli::report(e)))?;
            progress.finish();
            println!(
                "protected {} into {} ({} bytes), content id {}",
                file.display(),
                out.display(),
                protected.len,
                protected.content_id
            );
            Ok(())
        }
        Command::Open {
            file,
            server,
            anchor,
            key,
            out,
            license_store,
            token_file,
            tls_ca,
        } => {
            let out = match out {
                Some(out) => out,
                None => without_rms_suffix(&file)?,
            };
            let api = client(
                &server,
                tls_ca.as_deref(),
                read_token(token_file.as_deref())?,
            )?;
            let authority = Authority::from_pem(&read_text(&anchor)?).map_err(rms_cli::report)?;
            let signer = RsaSigner::from_pkcs8_pem(&read_text(&key)?)
                .map_err(|e| format!("{}: {}", key.display(), rms_cli::report(e)))?;
            let store_dir = match license_store {
                Some(dir) => dir,
                None => default_license_store()?,
            };
            let store = LicenseStore::open(&store_dir).map_err(rms_cli::report)?;
            let progress = progress_bar(&file);
            let documents = DocumentClient::new(api, authority);
            let opened = documents
                .open(&file, &out, signer.private_key(), Some(&store), &mut |p| {
                    progress.show(p)
                })
                .await
                .map_err(|e| format!("{} not opened: {}", file.display(), rms_cli::report(e)))?;
            progress.finish();
            let rights = opened.license.rights();
            let from = match opened.license.source() {
                LicenseSource::Store => "the license store",
                _ => "the licensing server",
            };
            println!(
                "opened {} into {} ({} bytes; {:?}, {})",
                file.display(),
                out.display(),
                opened.opened.len(),
                opened.opened.metadata().file_name(),
                opened.opened.metadata().media_type()
            );
            println!(
                "use license from {from}: {} may {} until {}",
                rights.principal,
                rights.rights,
                time_text(rights.expires)
            );
            Ok(())
        }
        Command::Info { file } => {
            let info = document_info(&file)
                .map_err(|e| format!("{}: {}", file.display(), rms_cli::report(e)))?;
            println!("content id:       {}", info.content_id);
            println!("issuer:           {}", info.issuer);
            println!("licensing server: {}", info.server_url);
            println!(
                "publishing license {} valid until {}",
                info.publishing_serial,
                time_text(info.expires)
            );
            for grant in &info.grants {
                println!("{}", offline::grant_line(grant));
            }
            println!(
                "{} bytes protected (not verified: open verifies)",
                info.protected_len
            );
            Ok(())
        }
        Command::Keygen {
            out,
            public_out,
            bits,
        } => {
            let key = RsaSigner::generate(bits).map_err(rms_cli::report)?;
            let pem = key.to_pkcs8_pem().map_err(rms_cli::report)?;
            rms_roles::write_private_file(&out, pem.as_bytes()).map_err(rms_cli::report)?;
            let public = public_key_pem(&key)?;
            match public_out {
                Some(path) => write_text(&path, &public)?,
                None => out!("{public}"),
            }
            eprintln!("private key written to {} (mode 0600)", out.display());
            Ok(())
        }
        Command::Publish {
            server,
            anchor,
            content_id,
            policy,
            out,
            content_key_out,
            token_file,
            tls_ca,
        } => {
            let api = client(
                &server,
                tls_ca.as_deref(),
                read_token(token_file.as_deref())?,
            )?;
            let authority = Authority::from_pem(&read_text(&anchor)?).map_err(rms_cli::report)?;
            let content_key: [u8; 32] = random()?;
            let publication = Publication {
                content_id,
                grants: policy.grants()?,
                template: policy.template,
                content_key: content_key.to_vec(),
            };
            let license = rms_roles::client::publish(&api, &authority, &publication)
                .await
                .map_err(|e| format!("publishing refused: {}", rms_cli::report(e)))?;
            let serial = match license.body() {
                LicenseBody::Publishing(pl) => pl.serial().to_string(),
                _ => String::new(),
            };
            write_text(&out, &license.to_pem().map_err(rms_cli::report)?)?;
            if let Some(path) = content_key_out {
                let hex: String = content_key.iter().map(|b| format!("{b:02x}")).collect();
                rms_roles::write_private_file(&path, format!("{hex}\n").as_bytes())
                    .map_err(rms_cli::report)?;
            }
            outln!("publishing license {serial} written to {}", out.display());
            Ok(())
        }
        Command::Uselicense {
            server,
            publishing_license,
            key,
            out,
            token_file,
            tls_ca,
        } => {
            let api = client(
                &server,
                tls_ca.as_deref(),
                read_token(token_file.as_deref())?,
            )?;
            let key_text = read_text(&key)?;
            let public_key_pem = if key_text.contains("PRIVATE KEY") {
                public_key_pem(&RsaSigner::from_pkcs8_pem(&key_text).map_err(rms_cli::report)?)?
            } else {
                key_text
            };
            let body = UseLicenseBody {
                publishing_license_pem: read_text(&publishing_license)?,
                public_key_pem,
            };
            let answer = api
                .use_license(&body)
                .await
                .map_err(fail("use license refused"))?;
            write_text(&out, &answer.license_pem)?;
            outln!("use license {} written to {}", answer.serial, out.display());
            Ok(())
        }
        Command::Verify {
            anchor,
            file,
            at,
            key,
            crl,
        } => offline::verify(&anchor, &file, at.as_deref(), key.as_deref(), &crl),
        Command::Inspect { file } => offline::inspect(&read_text(&file)?),
    }
}

/// `path` with `suffix` added to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// `FILE.rms` without its `.rms`.
fn without_rms_suffix(path: &Path) -> CliResult<PathBuf> {
    let text = path.to_string_lossy();
    match text.strip_suffix(".rms") {
        Some(stem) if !stem.is_empty() && !stem.ends_with('/') => Ok(PathBuf::from(stem)),
        _ => Err(format!(
            "{} does not end in .rms: say where to write the document with --out",
            path.display()
        )),
    }
}

/// `~/.rms/licenses`.
fn default_license_store() -> CliResult<PathBuf> {
    match std::env::var_os("HOME") {
        Some(home) if !home.is_empty() => Ok(PathBuf::from(home).join(".rms").join("licenses")),
        _ => Err("HOME is not set: say where your license store is with --license-store".into()),
    }
}

/// Files at least this long get a progress bar (when stderr is a terminal).
const PROGRESS_FROM: u64 = 64 << 20;

/// A progress bar on stderr for a large file when stderr is a terminal; nothing otherwise.
struct Progress(Option<indicatif::ProgressBar>);

fn progress_bar(file: &Path) -> Progress {
    use std::io::IsTerminal;
    let large = std::fs::metadata(file).is_ok_and(|m| m.len() >= PROGRESS_FROM);
    if !large || !std::io::stderr().is_terminal() {
        return Progress(None);
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
    ) {
        bar.set_style(style);
    }
    Progress(Some(bar))
}

impl Progress {
    fn show(&self, progress: rms_roles::content::Progress) {
        if let Some(bar) = &self.0 {
            bar.set_length(progress.total);
            bar.set_position(progress.done);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

fn random<const N: usize>() -> CliResult<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| format!("the system's random source failed: {e}"))?;
    Ok(bytes)
}

fn public_key_pem(key: &RsaSigner) -> CliResult<String> {
    use der::EncodePem;
    key.public_key()
        .to_pem(der::pem::LineEnding::LF)
        .map_err(rms_cli::report)
}

fn parse_grant(text: &str) -> CliResult<GrantBody> {
    let (principal, rights) = text
        .split_once(':')
        .ok_or_else(|| format!("grant {text:?} is not PRINCIPAL:RIGHT[,RIGHT...]"))?;
    let rights: Vec<String> = rights
        .split(',')
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect();
    rms_roles::cert::UsageRights::from_names(&rights)
        .map_err(|e| format!("grant {text:?}: {e}"))?;
    Ok(GrantBody {
        principal: principal.to_owned(),
        rights,
        expires: None,
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every subcommand's help has an example that starts with `rms-client` and parses.
    #[test]
    fn every_command_has_an_example_that_parses() {
        let command = rms_cli::help::with_binary_name(super::Cli::command(), "rms-client");
        let problems = rms_cli::help::example_problems(&command, "rms-client");
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}

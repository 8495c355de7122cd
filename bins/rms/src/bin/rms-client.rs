//! `rms-client`: a user's tools: keys, publishing, use licenses, offline verification.

use std::path::PathBuf;
use std::process::ExitCode;

use base64ct::{Base64, Encoding};
use clap::{Parser, Subcommand};
use rms_cert::{LicenseBody, RsaSigner, SignedLicense, Signer, wrap_content_key};
use rms_chain::{Cert, Purpose, TrustAnchor, TrustAnchors, Verifier, VerifyOptions, verify_path};
use rms_cli::{CliResult, client, fail, read_text, read_token, run, time_text, write_text};
use rms_policy::ValidationModel;
use rms_transport::api::{GrantBody, PublishBody, UseLicenseBody};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A user's tools for the rights-management PKI: make a key pair, publish content, get use
/// licenses, and verify licenses offline against the enrollment authority.
///
/// A whole round:
///   rms-client keygen --out alice-key.pem
///   RMS_TOKEN=... rms-client publish --server http://127.0.0.1:8081 --anchor authority.pem \\
///       --content-id doc-1 --grant alice:view,print --out doc-1.pl.pem
///   RMS_TOKEN=... rms-client uselicense --server http://127.0.0.1:8081 \\
///       --publishing-license doc-1.pl.pem --key alice-key.pem --out doc-1.ul.pem
///   rms-client verify --anchor authority.pem --key alice-key.pem doc-1.ul.pem
#[derive(Debug, Parser)]
#[command(version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
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
        /// A grant, PRINCIPAL:RIGHT[,RIGHT...] with rights view, edit, print, export, forward
        /// (repeatable).
        #[arg(long = "grant", required = true)]
        grants: Vec<String>,
        /// Where to write the publishing license.
        #[arg(long)]
        out: PathBuf,
        /// Where to write the content key (hex, mode 0600), to encrypt the content with.
        #[arg(long)]
        content_key_out: Option<PathBuf>,
        /// File holding the bearer token (default: RMS_TOKEN).
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// Certificate that signed the server's TLS certificate, for https://.
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
        /// Certificate that signed the server's TLS certificate, for https://.
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
    Inspect {
        /// The file.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    run(|| async move { execute(cli.command).await })
}

async fn execute(command: Command) -> CliResult {
    match command {
        Command::Keygen {
            out,
            public_out,
            bits,
        } => {
            let key = RsaSigner::generate(bits).map_err(|e| e.to_string())?;
            let pem = key.to_pkcs8_pem().map_err(|e| e.to_string())?;
            rms_roles::write_private_file(&out, pem.as_bytes()).map_err(|e| e.to_string())?;
            let public = public_key_pem(&key)?;
            match public_out {
                Some(path) => write_text(&path, &public)?,
                None => print!("{public}"),
            }
            eprintln!("private key written to {} (mode 0600)", out.display());
            Ok(())
        }
        Command::Publish {
            server,
            anchor,
            content_id,
            grants,
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
            let anchor_pem = read_text(&anchor)?;
            let chain_pem = api
                .chain()
                .await
                .map_err(fail("cannot fetch the cluster's chain"))?;
            let now = OffsetDateTime::now_utc();
            let cluster_key = verified_cluster_key(&chain_pem, &anchor_pem, now)?;
            let content_key: [u8; 32] = random()?;
            let wrapped =
                wrap_content_key(&cluster_key, &content_key).map_err(|e| e.to_string())?;
            let wrapped_der = der::Encode::to_der(&wrapped).map_err(|e| e.to_string())?;
            let body = PublishBody {
                content_id,
                grants: grants
                    .iter()
                    .map(|g| parse_grant(g))
                    .collect::<CliResult<_>>()?,
                content_key_wrapped: Base64::encode_string(&wrapped_der),
            };
            let answer = api
                .publish(&body)
                .await
                .map_err(fail("publishing refused"))?;
            write_text(&out, &answer.license_pem)?;
            if let Some(path) = content_key_out {
                let hex: String = content_key.iter().map(|b| format!("{b:02x}")).collect();
                rms_roles::write_private_file(&path, format!("{hex}\n").as_bytes())
                    .map_err(|e| e.to_string())?;
            }
            println!(
                "publishing license {} written to {}",
                answer.serial,
                out.display()
            );
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
                public_key_pem(&RsaSigner::from_pkcs8_pem(&key_text).map_err(|e| e.to_string())?)?
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
            println!("use license {} written to {}", answer.serial, out.display());
            Ok(())
        }
        Command::Verify {
            anchor,
            file,
            at,
            key,
            crl,
        } => verify(&anchor, &file, at.as_deref(), key.as_deref(), &crl),
        Command::Inspect { file } => inspect(&read_text(&file)?),
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
        .map_err(|e| e.to_string())
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
    rms_transport::api::parse_usage_rights(&rights).map_err(|e| format!("grant {text:?}: {e}"))?;
    Ok(GrantBody {
        principal: principal.to_owned(),
        rights,
        expires: None,
    })
}

fn anchors(anchor_pem: &str) -> CliResult<TrustAnchors> {
    let mut anchors = TrustAnchors::new();
    anchors.add(
        TrustAnchor::from_pem(anchor_pem).map_err(fail("the anchor is not a PEM certificate"))?,
    );
    Ok(anchors)
}

/// The licensing cluster's public key, from its chain verified against the anchor now.
fn verified_cluster_key(
    chain_pem: &str,
    anchor_pem: &str,
    now: OffsetDateTime,
) -> CliResult<rms_cert::spki::SubjectPublicKeyInfoOwned> {
    let certs = Cert::from_pem_chain(chain_pem).map_err(|e| e.to_string())?;
    let (leaf, pool) = certs
        .split_first()
        .ok_or("the server returned an empty chain")?;
    let options = VerifyOptions::new()
        .with_model(ValidationModel::Shell)
        .with_purpose(Purpose::ServerLicensor);
    verify_path(leaf, pool, &anchors(anchor_pem)?, now, &options).map_err(fail(
        "the cluster's chain does not verify against the anchor",
    ))?;
    Ok(leaf
        .certificate()
        .tbs_certificate()
        .subject_public_key_info()
        .clone())
}

fn verify(
    anchor: &std::path::Path,
    file: &std::path::Path,
    at: Option<&str>,
    key: Option<&std::path::Path>,
    crls: &[PathBuf],
) -> CliResult {
    let at = match at {
        Some(text) => {
            OffsetDateTime::parse(text, &Rfc3339).map_err(fail("--at is not an RFC 3339 time"))?
        }
        None => OffsetDateTime::now_utc(),
    };
    let text = read_text(file)?;
    let anchors = anchors(&read_text(anchor)?)?;
    if text.contains("BEGIN CERTIFICATE") {
        let certs = Cert::from_pem_chain(&text).map_err(|e| e.to_string())?;
        let (leaf, pool) = certs.split_first().ok_or("no certificate in the file")?;
        let mut options = VerifyOptions::new().with_model(ValidationModel::Shell);
        if !crls.is_empty() {
            options = options.with_revocations(revocations(crls, &anchors, &certs, at)?);
        }
        let path = verify_path(leaf, pool, &anchors, at, &options)
            .map_err(fail("chain does not verify"))?;
        println!(
            "valid at {}: {} (path of {} certificates to the anchor)",
            time_text(at),
            leaf.subject(),
            path.intermediates().len() + 2
        );
        return Ok(());
    }
    let license =
        SignedLicense::from_pem(&text).map_err(fail("not a license or certificate chain"))?;
    let mut options = VerifyOptions::new();
    if !crls.is_empty() {
        let carried = license
            .certificates()
            .iter()
            .map(Cert::from_certificate)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        options = options.with_revocations(revocations(crls, &anchors, &carried, at)?);
    }
    let verifier = Verifier::new(anchors, options);
    let verified = verifier
        .verify_license(&license, &[], at)
        .map_err(fail("license does not verify"))?;
    println!("valid at {} (chain model)", time_text(at));
    if !crls.is_empty() {
        println!("not revoked by the {} revocation list(s) given", crls.len());
    }
    println!("signed by: {}", verified.signer().subject());
    describe_license(&license);
    if let Some(key_path) = key {
        let signer = RsaSigner::from_pkcs8_pem(&read_text(key_path)?).map_err(|e| e.to_string())?;
        let wrapped = match license.body() {
            LicenseBody::Use(ul) => ul.content_key(),
            LicenseBody::Publishing(pl) => pl.content_key(),
            _ => return Err("unknown license kind".into()),
        };
        let content_key = rms_cert::unwrap_content_key(signer.private_key(), wrapped)
            .map_err(fail("the content key does not unwrap with this key"))?;
        let digest: String = Sha256::digest(&content_key)
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        println!(
            "content key unwraps with {}: {} bytes, SHA-256 {digest}...",
            key_path.display(),
            content_key.len()
        );
    }
    Ok(())
}

/// The revocation lists in `files`, each checked against its issuer: the anchor, or a
/// certificate among `pool` (the ones the license or chain carries) that itself verifies to the
/// anchor at the list's thisUpdate.
fn revocations(
    files: &[PathBuf],
    anchors: &TrustAnchors,
    pool: &[Cert],
    at: OffsetDateTime,
) -> CliResult<std::sync::Arc<rms_chain::Revocations>> {
    let mut revocations = rms_chain::Revocations::new();
    for file in files {
        let bytes =
            std::fs::read(file).map_err(fail(&format!("cannot read {}", file.display())))?;
        let crl = match std::str::from_utf8(&bytes) {
            Ok(text) if text.contains("-----BEGIN") => rms_cert::RevocationList::from_pem(text),
            _ => rms_cert::RevocationList::from_der(&bytes),
        }
        .map_err(fail(&format!(
            "{} is not a revocation list",
            file.display()
        )))?;
        let issuer = crl_issuer(&crl, anchors, pool).ok_or_else(|| {
            format!(
                "the issuer of {} ({}) is neither the anchor nor a certificate that verifies to it",
                file.display(),
                crl.issuer()
            )
        })?;
        revocations
            .add(&crl, &issuer)
            .map_err(fail(&format!("{} is not usable", file.display())))?;
        if at > crl.next_update() {
            eprintln!(
                "warning: {} was due to be replaced at {}: fetch a newer one",
                file.display(),
                time_text(crl.next_update())
            );
        }
    }
    Ok(std::sync::Arc::new(revocations))
}

fn crl_issuer(
    crl: &rms_cert::RevocationList,
    anchors: &TrustAnchors,
    pool: &[Cert],
) -> Option<Cert> {
    // The issuer by name and, when both say, by key (a renewed issuer keeps its name).
    let named = |cert: &Cert| {
        cert.certificate().tbs_certificate().subject() == crl.issuer()
            && match (crl.authority_key_id(), cert.subject_key_id()) {
                (Some(aki), Some(ski)) => aki == ski,
                _ => true,
            }
    };
    if let Some(anchor) = anchors.iter().map(TrustAnchor::cert).find(|c| named(c)) {
        return Some(anchor.clone());
    }
    let options = VerifyOptions::new().with_model(ValidationModel::Shell);
    pool.iter()
        .filter(|c| named(c))
        .find(|c| verify_path(c, pool, anchors, crl.this_update(), &options).is_ok())
        .cloned()
}

fn describe_license(license: &SignedLicense) {
    let validity = license.validity();
    match license.body() {
        LicenseBody::Publishing(pl) => {
            println!(
                "publishing license {} for content {:?}",
                pl.serial(),
                pl.content_id()
            );
            println!(
                "issued by {} on {}, valid until {}",
                pl.issuer(),
                time_text(validity.not_before()),
                time_text(validity.not_after())
            );
            for grant in pl.grants() {
                let until = grant
                    .expires()
                    .map(time_text)
                    .unwrap_or_else(|| "the license's end".into());
                println!(
                    "  grants {} to {:?} until {until}",
                    grant.rights(),
                    grant.principal()
                );
            }
        }
        LicenseBody::Use(ul) => {
            println!(
                "use license {} for content {:?}",
                ul.serial(),
                ul.content_id()
            );
            println!(
                "issued by {} on {}",
                ul.issuer(),
                time_text(validity.not_before())
            );
            println!(
                "grants {} to {:?} until {}",
                ul.rights(),
                ul.principal(),
                time_text(validity.not_after())
            );
            println!("from publishing license {}", ul.publishing_license_serial());
        }
        _ => println!("a license of a kind this version does not know"),
    }
}

fn inspect(text: &str) -> CliResult {
    if text.contains("BEGIN CMS") || text.contains("BEGIN PKCS7") {
        let license = SignedLicense::from_pem(text).map_err(|e| e.to_string())?;
        describe_license(&license);
        println!("{} certificates embedded", license.certificates().len());
    } else if text.contains("BEGIN CERTIFICATE REQUEST") {
        let request = rms_cert::EnrollmentRequest::from_pem(text).map_err(|e| e.to_string())?;
        match request.check() {
            Ok(checked) => {
                let id = checked.identity();
                println!(
                    "enrollment request from {:?}: role {}, id {}, url {}",
                    id.common_name(),
                    id.role(),
                    id.id(),
                    id.url()
                );
                println!("well formed: signature, key and fields check");
            }
            Err(e) => println!("enrollment request that would be refused: {e}"),
        }
    } else if text.contains("BEGIN CERTIFICATE") {
        for cert in Cert::from_pem_chain(text).map_err(|e| e.to_string())? {
            let v = cert.validity();
            println!("certificate {}", cert.subject());
            println!("  issuer:  {}", cert.issuer());
            println!("  serial:  {}", rms_roles::serial_hex(cert.certificate()));
            println!(
                "  valid:   {} .. {}",
                time_text(v.not_before()),
                time_text(v.not_after())
            );
            println!(
                "  rights:  {}",
                cert.rights()
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "(none: not an SLC)".into())
            );
            let fp: String = cert
                .fingerprint()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            println!("  sha256:  {fp}");
        }
    } else if text.contains("BEGIN PRIVATE KEY") {
        let key = RsaSigner::from_pkcs8_pem(text).map_err(|e| e.to_string())?;
        println!("RSA private key, {} bits (PKCS#8)", key.bits());
    } else if text.contains("BEGIN ENCRYPTED PRIVATE KEY") {
        println!("encrypted private key (PKCS#8): needs its passphrase to read");
    } else if text.contains("BEGIN PUBLIC KEY") {
        println!("public key (SubjectPublicKeyInfo)");
    } else {
        return Err("not one of our PEM artifacts (certificate, request, license, key)".into());
    }
    Ok(())
}

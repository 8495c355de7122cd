//! The enrollment flow of the rights-management PKI, end to end, in one process.
//!
//! An enrollment authority enrolls a root certification server; a licensing server
//! sub-enrolls with the root using the same request form and gets back the chain
//! `[licensing SLC, root SLC, authority]`; the licensing server issues a publishing license and
//! a use license; a client verifies the use license now, two years later (the one-year
//! licensing SLC has expired, the seven-year license is still valid under the chain model) and
//! eight years later (the license has expired).
//!
//! ```text
//! cargo run --release --example enrollment_flow              # library calls, no network
//! cargo run --release --example enrollment_flow -- --out DIR # and every artifact as PEM
//! cargo run --release --example enrollment_flow -- --http    # the same story over HTTP
//! ```
//!
//! The default mode drives `rms-cert` and `rms-chain` directly. `--http` runs a root and a
//! licensing server (`rms-roles` on `rms-transport`) with SQLite configuration databases and
//! talks to them with the API client, showing that sub-enrollment is refused (403) until an
//! administrator grants it on `SubEnrollService`'s DACL.
//!
//! Every time is passed explicitly: the flow starts at the current time (whole seconds) and
//! the later checks add two and eight years to it.

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use rms::cert::der::pem::LineEnding;
use rms::cert::der::{Encode, EncodePem};
use rms::cert::spki::SubjectPublicKeyInfoOwned;
use rms::cert::x509_cert::Certificate;
use rms::cert::{
    Chain, ContentPolicy, EnrollmentRequest, Grant, Grantee, Issuer, LicenseBody,
    PublishingLicense, Rights, RsaSigner, ServerId, ServerIdentity, ServerRole, SignedLicense,
    Signer, UsageRight, UsageRights, UseLicense, certificate_to_pem, issue_publishing_license,
    issue_use_license, unwrap_content_key, wrap_content_key,
};
use rms::chain::{Cert, Purpose, TrustAnchor, TrustAnchors, Verifier, VerifyOptions, verify_path};
use rms::policy::{ValidationModel, Validity, ValidityPolicy, from_x509_validity};
use time::{Duration, OffsetDateTime};

type Result<T = (), E = Box<dyn Error>> = std::result::Result<T, E>;

/// RSA key size of every key the example makes.
const KEY_BITS: usize = 2048;
const AUTHORITY_NAME: &str = "CN=Example Enrollment Authority,O=RMS Example";
const CONTENT_ID: &str = "urn:example:document:quarterly-report";
/// The author of the document, and the reader who gets a use license.
const AUTHOR: &str = "alice";
const READER: &str = "bob";

/// Walk through enrollment, sub-enrollment, licensing and offline verification.
#[derive(Debug, Parser)]
#[command(name = "enrollment_flow", version)]
struct Args {
    /// Write every artifact as PEM into DIR (created if needed): authority.pem, root-slc.pem,
    /// licensing-slc.pem, chain.pem, publishing-license.pem, use-license.pem and, without
    /// --http, root-key.pem and licensing-key.pem. With --http the SQLite configuration
    /// databases go there too.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Run the story through real root and licensing servers on loopback ports.
    #[arg(long)]
    http: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = if args.http {
        http::run(args.out.as_deref())
    } else {
        offline(args.out.as_deref())
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("enrollment_flow: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Creates the `--out` directory first, so that a bad path fails before the story starts.
fn create_out_dir(dir: &Path) -> Result {
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()).into())
}

/// The current time in whole seconds (certificates and licenses carry whole seconds).
fn start_time() -> Result<OffsetDateTime> {
    Ok(OffsetDateTime::now_utc().replace_nanosecond(0)?)
}

/// The default mode: every party is a few library calls, no network.
fn offline(out: Option<&Path>) -> Result {
    if let Some(dir) = out {
        create_out_dir(dir)?;
    }
    let start = start_time()?;
    println!("Enrollment flow, in one process without network");
    println!(
        "start time {} (passed explicitly to every call)",
        when(start)
    );

    step(
        1,
        "The enrollment authority is created (a self-signed trust anchor)",
    );
    let authority = Issuer::create_authority(
        AUTHORITY_NAME.parse()?,
        Arc::new(RsaSigner::generate(KEY_BITS)?),
        ValidityPolicy::default(),
        start,
    )?;
    describe_certificate(authority.certificate())?;

    step(
        2,
        "The root certification server enrolls with the authority",
    );
    let root_key = Arc::new(RsaSigner::generate(KEY_BITS)?);
    let root_identity = ServerIdentity::new(
        "root-1",
        ServerRole::RootCertificationServer,
        ServerId::random()?,
        "https://root.example.com/_wmcs/certification",
    )?;
    let root_request = EnrollmentRequest::new(&root_identity, root_key.as_ref())?.to_pem()?;
    describe_request("root-1", &root_identity, &root_request);
    // The authority reads the request as it would arrive, checks it, and issues.
    let checked = EnrollmentRequest::from_pem(&root_request)?.check()?;
    println!("  the authority checked it: well formed, signature verifies, key and fields valid");
    let root_chain = authority.issue_slc(&checked, start)?;
    println!(
        "  the authority issued the root SLC (chain of {}):",
        root_chain.len()
    );
    describe_certificate(root_chain.leaf())?;
    let root = Issuer::new(root_key.clone(), root_chain)?;

    step(
        3,
        "The licensing server sub-enrolls with the root (same request form)",
    );
    let licensing_key = Arc::new(RsaSigner::generate(KEY_BITS)?);
    let licensing_identity = ServerIdentity::new(
        "licensing-1",
        ServerRole::LicensingServer,
        ServerId::random()?,
        "https://licensing.example.com/_wmcs/licensing",
    )?;
    let licensing_request =
        EnrollmentRequest::new(&licensing_identity, licensing_key.as_ref())?.to_pem()?;
    describe_request("licensing-1", &licensing_identity, &licensing_request);
    let checked = EnrollmentRequest::from_pem(&licensing_request)?.check()?;
    println!("  the root checked it: well formed, signature verifies, key and fields valid");
    let chain = root.issue_slc(&checked, start)?;
    println!("  the root returned the chain, leaf first:");
    describe_chain(&chain);
    println!("  the licensing SLC:");
    describe_certificate(chain.leaf())?;
    let authority_pem = certificate_to_pem(authority.certificate())?;
    licensing_checks_chain(&chain, &authority_pem, start)?;
    let licensing = Issuer::new(licensing_key.clone(), chain.clone())?;

    step(4, "The licensing server issues a publishing license");
    let content_key = random_content_key()?;
    let cluster_key = chain.leaf().tbs_certificate().subject_public_key_info();
    let wrapped = wrap_content_key(cluster_key, &content_key)?;
    println!(
        "  {AUTHOR} wraps a fresh {}-bit content key to the licensing server's public key \
         (RSA-OAEP SHA-256, {} octets) and sends it with the rights policy",
        content_key.len() * 8,
        wrapped.encrypted_key().len()
    );
    // The server proves the key was wrapped for it by unwrapping it, then signs the policy.
    let unwrapped = unwrap_content_key(licensing_key.private_key(), &wrapped)?;
    println!(
        "  the licensing server unwrapped it with its private key (so it was meant for this \
         server) and signs the policy, the key wrapped to itself:"
    );
    let policy = ContentPolicy::new(CONTENT_ID, grants()?)?;
    let publishing = issue_publishing_license(&licensing, &policy, &unwrapped, start)?;
    describe_license(&publishing)?;

    step(5, "The licensing server issues a use license to the reader");
    let reader_key = RsaSigner::generate(KEY_BITS)?;
    let anchors = anchors(&authority_pem)?;
    let server_verifier = Verifier::new(anchors, VerifyOptions::new());
    server_verifier.verify_license(&publishing, &[], start)?;
    println!("  the server verified the publishing license first (signature, chain, validity)");
    let LicenseBody::Publishing(publishing_body) = publishing.body() else {
        return Err("the publishing license has an unexpected body".into());
    };
    let grantee = Grantee::new(READER, reader_key.public_key())?;
    let use_license = issue_use_license(
        &licensing,
        licensing_key.private_key(),
        publishing_body,
        &grantee,
        start,
    )?;
    describe_license(&use_license)?;
    reader_unwraps(&use_license, &reader_key, &content_key)?;

    step(
        6,
        "A client verifies the use license offline against the authority",
    );
    client_verifies(&authority_pem, &use_license, start)?;
    let later = start + Duration::days(730);
    match issue_use_license(
        &licensing,
        licensing_key.private_key(),
        publishing_body,
        &grantee,
        later,
    ) {
        Ok(_) => return Err("the licensing server issued with an expired SLC".into()),
        Err(error) => println!(
            "  meanwhile, at +2 years the licensing server refuses to issue until its SLC is \
             renewed: {error}"
        ),
    }

    if let Some(dir) = out {
        step(7, "Artifacts written as PEM");
        let artifacts = Artifacts {
            authority_pem,
            root_slc_pem: certificate_to_pem(root.certificate())?,
            chain,
            publishing,
            use_license,
        };
        artifacts.write(dir)?;
        write_private(dir, "root-key.pem", &root_key.to_pkcs8_pem()?)?;
        write_private(dir, "licensing-key.pem", &licensing_key.to_pkcs8_pem()?)?;
        println!("  keys (PKCS#8, unencrypted, mode 0600): root-key.pem licensing-key.pem");
    }
    println!();
    println!("Done.");
    Ok(())
}

/// The rights policy: the author may do everything but forward, the reader may view and print.
fn grants() -> Result<Vec<Grant>> {
    Ok(vec![
        Grant::new(
            AUTHOR,
            UsageRights::from_rights([
                UsageRight::View,
                UsageRight::Edit,
                UsageRight::Print,
                UsageRight::Export,
            ]),
        )?,
        Grant::new(
            READER,
            UsageRights::from_rights([UsageRight::View, UsageRight::Print]),
        )?,
    ])
}

fn random_content_key() -> Result<[u8; 32]> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| format!("the system's random source failed: {e}"))?;
    Ok(key)
}

fn anchors(authority_pem: &str) -> Result<TrustAnchors> {
    let mut anchors = TrustAnchors::new();
    anchors.add(TrustAnchor::from_pem(authority_pem)?);
    Ok(anchors)
}

/// What the licensing server does with the root's answer before trusting it: verify it against
/// the authority it was given (never the chain's own last certificate).
fn licensing_checks_chain(chain: &Chain, authority_pem: &str, at: OffsetDateTime) -> Result {
    let certs = chain
        .certificates()
        .iter()
        .map(Cert::from_certificate)
        .collect::<Result<Vec<_>, _>>()?;
    let (leaf, pool) = certs
        .split_first()
        .ok_or("the root returned an empty chain")?;
    let options = VerifyOptions::new().with_purpose(Purpose::ServerLicensor);
    let path = verify_path(leaf, pool, &anchors(authority_pem)?, at, &options)?;
    println!(
        "  the licensing server verified the chain against the authority it trusts: {}",
        path_text(&path)
    );
    Ok(())
}

/// The reader decrypts the content key the use license carries.
fn reader_unwraps(license: &SignedLicense, key: &RsaSigner, expected: &[u8]) -> Result {
    let LicenseBody::Use(body) = license.body() else {
        return Err("the use license has an unexpected body".into());
    };
    let content_key = unwrap_content_key(key.private_key(), body.content_key())?;
    if content_key != expected {
        return Err("the content key in the use license is not the author's".into());
    }
    println!(
        "  {} unwraps the content key with their private key: it is the author's key",
        body.principal()
    );
    Ok(())
}

/// The client's check, as a reader's application would make it: the use license against the
/// enrollment authority, under the chain model, now and later; and the shell model for
/// comparison.
fn client_verifies(authority_pem: &str, license: &SignedLicense, start: OffsetDateTime) -> Result {
    let chain_model = Verifier::new(anchors(authority_pem)?, VerifyOptions::new());
    let shell_model = Verifier::new(
        anchors(authority_pem)?,
        VerifyOptions::new().with_model(ValidationModel::Shell),
    );
    // The signer's certificate among those the license carries (a CMS SET, in no given order).
    let view = license.signer();
    let signer_validity = license
        .certificates()
        .iter()
        .find(|c| {
            let tbs = c.tbs_certificate();
            *tbs.issuer() == view.issuer && *tbs.serial_number() == view.serial
        })
        .map(|c| from_x509_validity(c.tbs_certificate().validity()))
        .transpose()?;
    println!(
        "  use license valid {}; licensing SLC valid {}",
        window(license.validity()),
        signer_validity.map_or_else(|| "?".to_owned(), window)
    );
    let checks = [
        ("now", start, &chain_model, "chain model"),
        (
            "+2 years",
            start + Duration::days(730),
            &chain_model,
            "chain model",
        ),
        (
            "+2 years",
            start + Duration::days(730),
            &shell_model,
            "shell model",
        ),
        (
            "+8 years",
            start + Duration::days(8 * 365),
            &chain_model,
            "chain model",
        ),
    ];
    let mut verdicts = Vec::new();
    for (label, at, verifier, model) in checks {
        let verdict = verifier.verify_license(license, &[], at);
        match &verdict {
            Ok(verified) => println!(
                "  {label:<9}{}  {model}: VALID    path {}",
                when(at),
                path_text(verified.path())
            ),
            Err(error) => println!("  {label:<9}{}  {model}: INVALID  {error}", when(at)),
        }
        verdicts.push(verdict.is_ok());
    }
    println!(
        "  under the chain model each signer must have been valid when it signed: the licensing \
         SLC expires after one year, the licenses it signed live seven; the shell model (RFC \
         5280, OpenSSL) wants every certificate valid at the time of the check"
    );
    if verdicts != [true, true, false, false] {
        return Err("the use license did not verify as expected (see above)".into());
    }
    Ok(())
}

/// What both modes write with `--out`.
struct Artifacts {
    authority_pem: String,
    root_slc_pem: String,
    chain: Chain,
    publishing: SignedLicense,
    use_license: SignedLicense,
}

impl Artifacts {
    fn write(&self, dir: &Path) -> Result {
        let files = [
            ("authority.pem", self.authority_pem.clone()),
            ("root-slc.pem", self.root_slc_pem.clone()),
            ("licensing-slc.pem", certificate_to_pem(self.chain.leaf())?),
            ("chain.pem", self.chain.to_pem()?),
            ("publishing-license.pem", self.publishing.to_pem()?),
            ("use-license.pem", self.use_license.to_pem()?),
        ];
        for (name, contents) in &files {
            let path = dir.join(name);
            fs::write(&path, contents)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        println!("  into {}:", dir.display());
        let names: Vec<&str> = files.iter().map(|(name, _)| *name).collect();
        println!("  {}", names.join(" "));
        Ok(())
    }
}

/// Writes a private key readable by its owner only, replacing an older file.
fn write_private(dir: &Path, name: &str, contents: &str) -> Result {
    let path = dir.join(name);
    match fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot replace {}: {e}", path.display()).into()),
    }
    rms::roles::write_private_file(&path, contents.as_bytes())?;
    Ok(())
}

// ----------------------------------------------------------------------------------------
// Printing.

fn step(number: u32, title: &str) {
    println!();
    println!("[{number}] {title}");
}

fn when(t: OffsetDateTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    t.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_else(|_| t.to_string())
}

fn window(validity: Validity) -> String {
    let days = (validity.not_after() - validity.not_before()).whole_days();
    format!(
        "{} -> {} ({days} days)",
        when(validity.not_before()),
        when(validity.not_after())
    )
}

fn serial_of(certificate: &Certificate) -> String {
    rms::roles::serial_hex(certificate)
}

fn subject_of(certificate: &Certificate) -> String {
    certificate.tbs_certificate().subject().to_string()
}

fn describe_request(who: &str, identity: &ServerIdentity, pem: &str) {
    println!(
        "  {who} made a new RSA-{KEY_BITS} key and a PKCS#10 enrollment request ({} bytes of PEM):",
        pem.len()
    );
    println!("    subject    {}", identity.subject());
    println!("    role       {}", identity.role());
    println!("    server id  {}", identity.id().to_braced_string());
    println!("    url        {}", identity.url());
}

fn describe_certificate(certificate: &Certificate) -> Result {
    let tbs = certificate.tbs_certificate();
    println!("    subject    {}", tbs.subject());
    println!("    issuer     {}", tbs.issuer());
    println!("    serial     {}", serial_of(certificate));
    println!(
        "    valid      {}",
        window(from_x509_validity(tbs.validity())?)
    );
    let extensions = tbs.extensions().map(Vec::as_slice).unwrap_or_default();
    match ServerIdentity::from_certificate(certificate) {
        Ok(identity) => {
            println!("    role       {} ({})", identity.role(), identity.url());
            let rights = Rights::from_extensions(extensions)?.unwrap_or(Rights::NONE);
            println!("    rights     {rights}");
        }
        Err(_) => println!("    role       trust anchor (enrollment authority)"),
    }
    Ok(())
}

fn describe_chain(chain: &Chain) {
    for (i, certificate) in chain.certificates().iter().enumerate() {
        println!(
            "    [{i}] {}  serial {}",
            subject_of(certificate),
            serial_of(certificate)
        );
    }
}

fn path_text(path: &rms::chain::VerifiedPath) -> String {
    let mut names: Vec<String> = path
        .certificates()
        .iter()
        .map(|c| c.subject().to_string())
        .collect();
    names.push(path.anchor().cert().subject().to_string());
    names.join(" <- ")
}

fn describe_license(license: &SignedLicense) -> Result {
    match license.body() {
        LicenseBody::Publishing(body) => describe_publishing(body),
        LicenseBody::Use(body) => describe_use(body),
        _ => return Err("a license of an unknown kind".into()),
    }
    let signer = license.signer();
    let serial: String = signer
        .serial
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    println!(
        "    signed     CMS SignedData, {} bytes DER, by the key of certificate {serial} \
         (issued by {}); {} certificates enclosed",
        license.to_der()?.len(),
        signer.issuer,
        license.certificates().len()
    );
    Ok(())
}

fn describe_publishing(body: &PublishingLicense) {
    println!("    kind       publishing license");
    println!("    serial     {}", body.serial());
    println!("    issuer     {}", body.issuer());
    println!("    valid      {}", window(body.validity()));
    println!("    content    {}", body.content_id());
    for grant in body.grants() {
        println!("    grant      {}: {}", grant.principal(), grant.rights());
    }
    println!(
        "    key        content key wrapped to the licensing server's key ({} octets)",
        body.content_key().encrypted_key().len()
    );
}

fn describe_use(body: &UseLicense) {
    println!("    kind       use license");
    println!("    serial     {}", body.serial());
    println!("    issuer     {}", body.issuer());
    println!("    valid      {}", window(body.validity()));
    println!("    content    {}", body.content_id());
    println!("    for        {}", body.principal());
    println!("    rights     {}", body.rights());
    println!(
        "    from       publishing license {}",
        body.publishing_license_serial()
    );
    println!(
        "    key        content key re-wrapped to {}'s key ({} octets)",
        body.principal(),
        body.content_key().encrypted_key().len()
    );
}

fn public_key_pem(key: &SubjectPublicKeyInfoOwned) -> Result<String> {
    Ok(key.to_pem(LineEnding::LF)?)
}

// ----------------------------------------------------------------------------------------
// The --http mode.

mod http {
    use base64ct::{Base64, Encoding};
    use rms::roles::{
        ADMINS_GROUP, Admin, Cluster, ClusterSecret, EnrollmentPlan, LicensingRole, ManualClock,
        NodeOptions, RootInit, RootRole, Service, init_root,
    };
    use rms::store::Store;
    use rms::transport::api::{
        ApiClient, GrantBody, PublishBody, UseLicenseBody, licensing_router, root_router,
    };
    use rms::transport::{
        Client, ClientOptions, Metrics, Router, RunningServer, ServerConfig, StatusCode,
        TransportError, serve,
    };

    use super::*;

    /// Runs the story through HTTP servers on loopback ports.
    pub(super) fn run(out: Option<&Path>) -> Result {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(flow(out))
    }

    /// Where the configuration databases go: under `--out`, or a temporary directory removed at
    /// the end.
    enum Databases {
        Kept(PathBuf),
        Temporary(tempfile::TempDir),
    }

    impl Databases {
        fn path(&self) -> &Path {
            match self {
                Databases::Kept(dir) => dir,
                Databases::Temporary(dir) => dir.path(),
            }
        }
    }

    async fn flow(out: Option<&Path>) -> Result {
        let start = start_time()?;
        let databases = match out {
            Some(dir) => {
                create_out_dir(dir)?;
                Databases::Kept(dir.to_path_buf())
            }
            None => Databases::Temporary(tempfile::tempdir()?),
        };
        let root_db = databases.path().join("root.db");
        let licensing_db = databases.path().join("licensing.db");
        for db in [&root_db, &licensing_db] {
            if db.exists() {
                return Err(format!(
                    "{} already exists: remove it or choose another --out directory",
                    db.display()
                )
                .into());
            }
        }
        // Both servers run on this clock, set to the start time.
        let clock = Arc::new(ManualClock::new(start));
        let options = |node: &str| NodeOptions {
            node_id: node.to_owned(),
            clock: clock.clone(),
            policy: ValidityPolicy::default(),
        };

        println!("Enrollment flow over HTTP, root and licensing servers on loopback ports");
        println!("start time {} (the servers' clock)", when(start));
        println!(
            "configuration databases (SQLite): {} and {}",
            root_db.display(),
            licensing_db.display()
        );

        step(
            1,
            "The root certification server is initialised and started",
        );
        let root_store = Store::open_sqlite(&root_db).await?;
        let root_secret = ClusterSecret::generate()?;
        let init = RootInit {
            name: "root-1".into(),
            url: "https://root.example.com/_wmcs/certification".into(),
            authority_name: AUTHORITY_NAME.into(),
            key_bits: KEY_BITS,
        };
        let made = init_root(&root_store, &root_secret, &init, &options("root-node")).await?;
        println!("  init_root created an enrollment authority:");
        describe_certificate(&rms::cert::certificate_from_pem(&made.authority_pem)?)?;
        let root_chain = Chain::from_pem(&made.chain_pem)?;
        println!("  and enrolled the root with it (the same request form as below):");
        describe_certificate(root_chain.leaf())?;
        println!(
            "  administrator {:?} (group {:?}) got a bearer token",
            made.admin.principal, made.admin.group
        );
        let root_cluster =
            Cluster::open(root_store.clone(), &root_secret, options("root-node")).await?;
        let root_server = start_server(|metrics| {
            Ok(root_router(RootRole::new(Arc::new(root_cluster))?, metrics))
        })
        .await?;
        println!("  root server listening on {}", root_server.url());

        step(2, "The licensing server asks the root to sub-enroll it");
        let plan = EnrollmentPlan::new(
            "licensing-1",
            "https://licensing.example.com/_wmcs/licensing",
            KEY_BITS,
        )?;
        println!(
            "  licensing-1 made a new RSA-{KEY_BITS} key and a PKCS#10 request ({} bytes of PEM)",
            plan.request_pem().len()
        );
        let root_api = api(&root_server, Some(made.admin.token.clone()))?;
        match root_api.sub_enroll(plan.request_pem()).await {
            Err(TransportError::Api(refusal)) if refusal.status == StatusCode::FORBIDDEN => {
                println!(
                    "  POST /certification/subenroll -> refused, HTTP {} ({}): {}",
                    refusal.status, refusal.code, refusal.message
                );
            }
            Ok(_) => return Err("a fresh root granted sub-enrollment: it must deny".into()),
            Err(other) => return Err(other.into()),
        }
        let root_admin = Admin::open(root_store.clone(), "example-operator").await?;
        let before = root_admin.acl_show(Service::SubEnroll).await?.sddl;
        let after = root_admin
            .acl_grant(Service::SubEnroll, ADMINS_GROUP, None)
            .await?;
        println!(
            "  an administrator grants {ADMINS_GROUP} the subenroll right on SubEnrollService:"
        );
        println!("    DACL before  {before}");
        println!("    DACL after   {after}");
        let chain_pem = root_api.sub_enroll(plan.request_pem()).await?;
        let chain = Chain::from_pem(&chain_pem)?;
        println!("  POST /certification/subenroll -> granted, HTTP 200, the chain, leaf first:");
        describe_chain(&chain);
        println!("  the licensing SLC:");
        describe_certificate(chain.leaf())?;
        for entry in root_store.audit_log(None, 100).await? {
            if entry.entry.action == "subenroll" {
                println!(
                    "  root audit log: subenroll by {} {}",
                    entry.entry.principal, entry.entry.outcome
                );
            }
        }

        step(3, "The licensing server completes enrollment and starts");
        let licensing_store = Store::open_sqlite(&licensing_db).await?;
        let licensing_secret = ClusterSecret::generate()?;
        plan.complete(
            &licensing_store,
            &licensing_secret,
            &chain_pem,
            &made.authority_pem,
            &options("licensing-node"),
        )
        .await?;
        println!(
            "  it verified the chain against the authority it trusts and stored its SLC and \
             key (encrypted) in its configuration database"
        );
        let licensing_cluster = Cluster::open(
            licensing_store.clone(),
            &licensing_secret,
            options("licensing-node"),
        )
        .await?;
        let licensing_server = start_server(|metrics| {
            Ok(licensing_router(
                LicensingRole::new(Arc::new(licensing_cluster))?,
                metrics,
            ))
        })
        .await?;
        println!("  licensing server listening on {}", licensing_server.url());
        let licensing_admin = Admin::open(licensing_store.clone(), "example-operator").await?;
        let (_, author_token) = licensing_admin.add_principal(AUTHOR, &[]).await?;
        let (_, reader_token) = licensing_admin.add_principal(READER, &[]).await?;
        println!("  users {AUTHOR:?} and {READER:?} were added, each with a bearer token");

        step(4, "The author publishes over HTTP");
        let author_api = api(&licensing_server, Some(author_token))?;
        let cluster_chain = author_api.chain().await?;
        let cluster_key = cluster_key(&cluster_chain, &made.authority_pem, start)?;
        println!(
            "  {AUTHOR} fetched GET /certification/chain and verified it against the authority"
        );
        let content_key = random_content_key()?;
        let wrapped = wrap_content_key(&cluster_key, &content_key)?;
        let body = PublishBody {
            content_id: CONTENT_ID.into(),
            grants: grants()?
                .iter()
                .map(|g| GrantBody {
                    principal: g.principal().to_owned(),
                    rights: g.rights().iter().map(|r| r.name().to_owned()).collect(),
                    expires: None,
                })
                .collect(),
            template: None,
            content_key_wrapped: Base64::encode_string(&wrapped.to_der()?),
        };
        println!(
            "  {AUTHOR} wrapped a fresh {}-bit content key to the cluster key (RSA-OAEP SHA-256)",
            content_key.len() * 8
        );
        let answer = author_api.publish(&body).await?;
        println!("  POST /licensing/publish -> HTTP 200, publishing license:");
        let publishing = SignedLicense::from_pem(&answer.license_pem)?;
        describe_license(&publishing)?;

        step(5, "The reader asks for a use license over HTTP");
        let reader_key = RsaSigner::generate(KEY_BITS)?;
        let reader_api = api(&licensing_server, Some(reader_token))?;
        let request = UseLicenseBody {
            publishing_license_pem: answer.license_pem.clone(),
            public_key_pem: public_key_pem(&reader_key.public_key())?,
        };
        let answer = reader_api.use_license(&request).await?;
        println!("  POST /licensing/uselicense -> HTTP 200, use license:");
        let use_license = SignedLicense::from_pem(&answer.license_pem)?;
        describe_license(&use_license)?;
        reader_unwraps(&use_license, &reader_key, &content_key)?;

        step(
            6,
            "A client verifies the use license offline against the authority",
        );
        client_verifies(&made.authority_pem, &use_license, start)?;
        clock.set(start + Duration::days(730));
        match reader_api.use_license(&request).await {
            Ok(_) => return Err("the licensing server issued with an expired SLC".into()),
            Err(error) => println!(
                "  meanwhile, with its clock at +2 years the licensing server refuses to issue \
                 until its SLC is renewed: {error}"
            ),
        }

        root_server.shutdown().await;
        licensing_server.shutdown().await;
        root_store.close().await;
        licensing_store.close().await;
        println!();
        println!("Both servers stopped.");

        if let Some(dir) = out {
            step(7, "Artifacts written as PEM");
            let artifacts = Artifacts {
                authority_pem: made.authority_pem,
                root_slc_pem: certificate_to_pem(root_chain.leaf())?,
                chain,
                publishing,
                use_license,
            };
            artifacts.write(dir)?;
            println!(
                "  the server keys stay encrypted in root.db and licensing.db (cluster secrets \
                 were generated for this run only)"
            );
        }
        println!();
        println!("Done.");
        Ok(())
    }

    /// Serves the router `make` builds (given the server's metrics) on a free loopback port.
    async fn start_server(
        make: impl FnOnce(Arc<Metrics>) -> Result<Router>,
    ) -> Result<RunningServer> {
        let metrics = Arc::new(Metrics::new());
        let router = make(metrics.clone())?;
        let config = ServerConfig::plain("127.0.0.1:0".parse()?);
        Ok(serve(config, router, metrics).await?)
    }

    fn api(server: &RunningServer, token: Option<String>) -> Result<ApiClient> {
        let options = ClientOptions {
            token,
            ..ClientOptions::default()
        };
        Ok(ApiClient::new(Client::new(&server.url(), options)?))
    }

    /// The licensing cluster's public key, from its chain verified against the authority.
    fn cluster_key(
        chain_pem: &str,
        authority_pem: &str,
        at: OffsetDateTime,
    ) -> Result<SubjectPublicKeyInfoOwned> {
        let certs = Cert::from_pem_chain(chain_pem)?;
        let (leaf, pool) = certs
            .split_first()
            .ok_or("the server returned an empty chain")?;
        let options = VerifyOptions::new()
            .with_model(ValidationModel::Shell)
            .with_purpose(Purpose::ServerLicensor);
        verify_path(leaf, pool, &anchors(authority_pem)?, at, &options)?;
        Ok(leaf
            .certificate()
            .tbs_certificate()
            .subject_public_key_info()
            .clone())
    }
}

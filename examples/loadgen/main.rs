//! Load generator: use licenses and sub-enrollments per second over HTTP keep-alive, each
//! beside the raw RSA signing rate of the same key measured in the same run.
//!
//! ```sh
//! cargo run --release --example loadgen -- --clients 32 --seconds 10
//! cargo run --release --example loadgen -- --database postgres://postgres@127.0.0.1/test --nodes 3
//! ```
//!
//! It creates a root and a licensing cluster (the licensing one on `--database`: SQLite in a
//! temporary directory by default; for PostgreSQL a schema of its own, dropped at the end),
//! starts `--nodes` licensing servers on loopback ports, each with `--server-threads` worker
//! threads, and drives them with `--clients` concurrent keep-alive clients. The raw rate is the
//! same key signing on as many threads as the servers have in all; clients and raw signers take
//! turns in rounds (see `measure.rs`). After each phase it checks that every success is recorded
//! in the configuration database and that a sample license verifies. At the end it runs
//! `openssl speed -multi THREADS rsa2048` (when `openssl` is on the PATH) and prints each rate as
//! a ratio to OpenSSL's too.
//!
//! With `--in-process` the clients call the roles themselves, on the runtimes the servers would
//! run on, with no HTTP exchange, JSON, PEM or client runtime: the rate the service layer alone
//! reaches (authentication, the DACL, issuance and the record), which tells how much of the
//! distance to the raw rate is the HTTP exchange and how much the issuance around the signature.

mod calls;
mod measure;

use calls::{Node, sub_enroll_call, use_license_call};
use measure::{Load, Pace, Phase};

use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use rms::cert::der::EncodePem;
use rms::cert::spki::SubjectPublicKeyInfoOwned;
use rms::cert::{
    Grant, RsaSigner, SignedLicense, Signer, UsageRight, UsageRights, wrap_content_key,
};
use rms::keys::PrivateKey;
use rms::roles::{
    ADMINS_GROUP, Admin, Cluster, ClusterSecret, EnrollmentPlan, LicensingRole, NodeOptions,
    PublishRequest, RequestContext, RootInit, RootRole, Service, init_root_with_key,
};
use rms::store::{
    Backend, IssuedKind, Store, StoreOptions, create_postgres_schema, drop_postgres_schema,
};
use rms::transport::api::{SubEnrollBody, UseLicenseBody, licensing_router, root_router};
use rms::transport::{Metrics, Router, RunningServer, ServerConfig, serve};

pub(crate) type Result<T = ()> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// Measures issuance throughput over HTTP against the raw signing rate.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Concurrent keep-alive clients.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Measured seconds per phase (after the warm-up), split among the rounds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Rounds per phase: in each, the clients run, then the raw signers for as long.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Warm-up seconds per phase, not counted.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Worker threads of each server (default: the machine's cores divided among the nodes,
    /// at least one).
    #[arg(long)]
    server_threads: Option<usize>,
    /// Licensing servers sharing the configuration database (more than one needs PostgreSQL).
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    /// The licensing cluster's database: a postgres:// URL (a fresh schema is created in it and
    /// dropped at the end). Default: SQLite in a temporary directory.
    #[arg(long, env = "RMS_LOADGEN_DATABASE")]
    database: Option<String>,
    /// What to measure.
    #[arg(long, value_enum, default_value_t = Mode::All)]
    mode: Mode,
    /// RSA key size of the servers' keys.
    #[arg(long, default_value_t = 2048)]
    key_bits: usize,
    /// Where the licensing cluster's SLC key is made: `software` (the default) or a PKCS#11
    /// URI (e.g. a SoftHSM2 token, `pkcs11:token=rms;object=loadgen-lic?module-path=...&pin-source=env:RMS_PKCS11_PIN`):
    /// the use-license phase then measures issuance with the key in the token against that
    /// key's own raw signing rate.
    #[arg(long, default_value = "software")]
    key: rms::roles::keys::KeyLocation,
    /// Where the root's SLC key is made (the sub-enrollment phase), likewise; it must name
    /// another object than --key.
    #[arg(long, default_value = "software")]
    root_key: rms::roles::keys::KeyLocation,
    /// Call the roles directly, on the runtimes the servers would run on, instead of over
    /// HTTP: what the service layer alone issues (authentication, the DACL, issuance, the
    /// record), without the HTTP exchange, JSON and PEM, or the clients' runtime.
    #[arg(long)]
    in_process: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Use licenses, then sub-enrollments.
    All,
    /// Use licenses only.
    UseLicense,
    /// Sub-enrollments only.
    SubEnroll,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("loadgen: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result {
    if args.nodes == 0 || args.clients == 0 || args.seconds == 0 || args.rounds == 0 {
        return Err("--nodes, --clients, --seconds and --rounds must be at least 1".into());
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let server_threads = args
        .server_threads
        .unwrap_or_else(|| (cores / args.nodes).max(1));
    let setup = runtime("loadgen-setup", 1)?;
    let world = setup.block_on(World::create(args))?;
    println!(
        "loadgen: {} core(s); {} licensing node(s) x {server_threads} thread(s) on {}; {} clients {}; \
         RSA-{}; {} s measured in {} rounds after {} s warm-up",
        cores,
        args.nodes,
        world.backend_label,
        args.clients,
        if args.in_process {
            "calling the roles in process (no HTTP)"
        } else {
            "over HTTP"
        },
        args.key_bits,
        args.seconds,
        args.rounds,
        args.warmup
    );
    let place = |location: &rms::roles::keys::KeyLocation| match location {
        rms::roles::keys::KeyLocation::Pkcs11(_) => "in a PKCS#11 token".to_owned(),
        other => format!("in software ({other:?})"),
    };
    println!(
        "loadgen: licensing key {}, root key {}",
        place(&args.key),
        place(&args.root_key)
    );
    let mut report = Vec::new();
    if args.mode != Mode::SubEnroll {
        report.push((
            "use licenses",
            world.use_license_phase(args, server_threads)?,
        ));
    }
    if args.mode != Mode::UseLicense {
        report.push((
            "sub-enrollments",
            world.sub_enroll_phase(args, server_threads)?,
        ));
    }
    // OpenSSL on as many processes as the servers have threads, in the same run.
    let total_threads = server_threads * args.nodes;
    let openssl = measure::openssl_rates(total_threads, 3, args.key_bits);
    match openssl {
        Some((sign, verify)) => println!(
            "openssl speed -multi {total_threads} rsa{}: {sign:.1} signatures/s, {verify:.1} verifications/s",
            args.key_bits
        ),
        None => println!("openssl speed: not available (openssl is not on the PATH)"),
    }
    println!();
    println!(
        "| operation | per second | raw signatures per second (threads) | ratio | ratio per round | OpenSSL signatures per second | ratio to OpenSSL | p50 ms | p99 ms | errors |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (name, phase) in &report {
        let (low, high) = phase.ratio_range();
        let (openssl_rate, openssl_ratio) = match openssl {
            Some((sign, _)) => (format!("{sign:.1}"), format!("{:.2}", phase.rate() / sign)),
            None => ("-".to_owned(), "-".to_owned()),
        };
        println!(
            "| {name} | {:.1} | {:.1} ({}) | {:.2} | {low:.2}-{high:.2} | {openssl_rate} | {openssl_ratio} | {:.1} | {:.1} | {} |",
            phase.rate(),
            phase.raw_rate(),
            phase.raw_threads,
            phase.ratio(),
            phase.percentile(50.0),
            phase.percentile(99.0),
            phase.errors
        );
    }
    setup.block_on(world.finish())
}

fn pace(args: &Args) -> Pace {
    Pace {
        clients: args.clients,
        measured: Duration::from_secs(args.seconds),
        rounds: args.rounds,
        warmup: Duration::from_secs(args.warmup),
    }
}

/// A runtime of `threads` worker threads called `name` (so that a profile tells the servers
/// from the clients).
pub(crate) fn runtime(name: &str, threads: usize) -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()?)
}

/// The clusters under test and what the clients need.
struct World {
    dir: tempfile::TempDir,
    root_store: Store,
    root_secret: ClusterSecret,
    root_key: Arc<dyn PrivateKey>,
    admin_token: String,
    licensing_url: String,
    licensing_secret: ClusterSecret,
    licensing_key: Arc<dyn PrivateKey>,
    /// The PostgreSQL base URL and schema to drop at the end.
    schema: Option<(String, String)>,
    backend_label: String,
    reader_token: String,
    use_license_body: Vec<u8>,
    authority_pem: String,
    enrollment_request_pem: String,
}

impl World {
    async fn create(args: &Args) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let options = NodeOptions::default();
        let root_store = Store::open_sqlite(&dir.path().join("root.db")).await?;
        let root_secret = ClusterSecret::generate()?;
        let init = RootInit {
            name: "loadgen-root".into(),
            url: "https://root.invalid".into(),
            authority_name: "CN=Loadgen Enrollment Authority".into(),
            key_bits: args.key_bits,
        };
        let made = init_root_with_key(
            &root_store,
            &root_secret,
            &init,
            args.root_key.generate(args.key_bits)?,
            &options,
        )
        .await?;
        Admin::open(root_store.clone(), "loadgen")
            .await?
            .acl_grant(Service::SubEnroll, ADMINS_GROUP, None)
            .await?;
        let root = RootRole::new(Arc::new(
            Cluster::open(root_store.clone(), &root_secret, options.clone()).await?,
        ))?;
        let root_key = root.cluster().signer();

        let (licensing_url, schema, backend_label) = match &args.database {
            Some(base) if Backend::of_url(base)? == Backend::Postgres => {
                let schema = format!("rms_loadgen_{}", std::process::id());
                let url = create_postgres_schema(base, &schema).await?;
                (url, Some((base.clone(), schema)), "PostgreSQL".to_owned())
            }
            Some(other) => (other.clone(), None, "SQLite".to_owned()),
            None => (
                format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("licensing.db").display()
                ),
                None,
                "SQLite".to_owned(),
            ),
        };
        if args.nodes > 1 && schema.is_none() {
            return Err(
                "several nodes share a PostgreSQL database: give --database postgres://...".into(),
            );
        }
        let plan = EnrollmentPlan::with_key(
            "loadgen-licensing",
            "https://licensing.invalid",
            args.key.generate(args.key_bits)?,
        )?;
        let chain = root
            .sub_enroll(
                &RequestContext::bearer(&made.admin.token),
                plan.request_pem().as_bytes(),
            )
            .await?;
        let licensing_store = Store::open(&licensing_url, StoreOptions::default()).await?;
        let licensing_secret = ClusterSecret::generate()?;
        plan.complete(
            &licensing_store,
            &licensing_secret,
            &chain.to_pem()?,
            &made.authority_pem,
            &options,
        )
        .await?;
        let admin = Admin::open(licensing_store.clone(), "loadgen").await?;
        let (_, author_token) = admin.add_principal("author@example.com", &[]).await?;
        let (_, reader_token) = admin.add_principal("reader@example.com", &[]).await?;
        let licensing = LicensingRole::new(Arc::new(
            Cluster::open(licensing_store.clone(), &licensing_secret, options).await?,
        ))?;
        let licensing_key = licensing.cluster().signer();

        let cluster_key = licensing_key.public_key();
        let content_key = [7u8; 32];
        let wrapped = wrap_content_key(&cluster_key, &content_key)?;
        let grants = vec![Grant::new(
            "reader@example.com",
            UsageRights::from_rights([UsageRight::View, UsageRight::Print]),
        )?];
        let publishing = licensing
            .publish(
                &RequestContext::bearer(&author_token),
                &PublishRequest {
                    content_id: "urn:loadgen:content".into(),
                    grants,
                    template: None,
                    wrapped_content_key: wrapped,
                },
            )
            .await?;
        let reader_key = RsaSigner::generate(args.key_bits)?;
        let use_license_body = serde_json::to_vec(&UseLicenseBody {
            publishing_license_pem: publishing.to_pem()?,
            public_key_pem: public_key_pem(&reader_key.public_key())?,
        })?;
        let enrollment_request_pem =
            EnrollmentPlan::new("loadgen-sub", "https://sub.invalid", args.key_bits)?
                .request_pem()
                .to_owned();
        licensing_store.close().await;
        Ok(Self {
            dir,
            root_store,
            root_secret,
            root_key,
            admin_token: made.admin.token,
            licensing_url,
            licensing_secret,
            licensing_key,
            schema,
            backend_label,
            reader_token,
            use_license_body,
            authority_pem: made.authority_pem,
            enrollment_request_pem,
        })
    }

    fn use_license_phase(&self, args: &Args, server_threads: usize) -> Result<Phase> {
        let body: UseLicenseBody = serde_json::from_slice(&self.use_license_body)?;
        let grantee_key = body.public_key().map_err(|e| e.to_string())?;
        let mut nodes = Vec::new();
        for index in 0..args.nodes {
            let runtime = runtime("rms-licensing", server_threads)?;
            let url = self.licensing_url.clone();
            let secret = self.licensing_secret.clone();
            let role = runtime.block_on(async move {
                let store = Store::open(&url, StoreOptions::default()).await?;
                let options = NodeOptions {
                    node_id: format!("loadgen-node-{index}"),
                    ..NodeOptions::default()
                };
                Ok::<_, Box<dyn Error + Send + Sync>>(LicensingRole::new(Arc::new(
                    Cluster::open(store, &secret, options).await?,
                ))?)
            })?;
            let node = if args.in_process {
                Node::Called(use_license_call(
                    Arc::new(role),
                    &self.reader_token,
                    &body.publishing_license_pem,
                    &grantee_key,
                ))
            } else {
                Node::Served(
                    runtime.block_on(start(move |metrics| Ok(licensing_router(role, metrics))))?,
                )
            };
            nodes.push((runtime, node));
        }
        let target = calls::target(
            &nodes,
            &self.reader_token,
            "/licensing/uselicense",
            &self.use_license_body,
        );
        let phase = measure::drive(&Load {
            target,
            key: self.licensing_key.as_ref(),
            raw_threads: server_threads * args.nodes,
            pace: pace(args),
        })?;
        let check = runtime("loadgen-check", 1)?;
        check.block_on(async {
            let store = Store::open(&self.licensing_url, StoreOptions::default()).await?;
            let recorded = store.count_issued(IssuedKind::UseLicense).await?;
            let sample = store
                .issued(&rms::store::IssuedFilter {
                    kind: Some(IssuedKind::UseLicense),
                    limit: Some(1),
                    ..Default::default()
                })
                .await?;
            store.close().await;
            let total = phase.all_successes;
            if u64::try_from(recorded) != Ok(total) {
                return Err(format!(
                    "{total} use licenses returned but {recorded} recorded in the database"
                )
                .into());
            }
            let der = &sample.first().ok_or("no use license recorded")?.der;
            self.verify_sample(&SignedLicense::from_der(der)?)?;
            println!("use licenses: all {total} returned are recorded; a sample verifies");
            Ok::<_, Box<dyn Error + Send + Sync>>(())
        })?;
        calls::shut_down(nodes);
        Ok(phase)
    }

    fn sub_enroll_phase(&self, args: &Args, server_threads: usize) -> Result<Phase> {
        let server_runtime = runtime("rms-root", server_threads)?;
        let root_db = self.dir.path().join("root.db");
        let secret = self.root_secret.clone();
        let root = server_runtime.block_on(async move {
            let store = Store::open_sqlite(&root_db).await?;
            Ok::<_, Box<dyn Error + Send + Sync>>(RootRole::new(Arc::new(
                Cluster::open(store, &secret, NodeOptions::default()).await?,
            ))?)
        })?;
        let node = if args.in_process {
            Node::Called(sub_enroll_call(
                root,
                &self.admin_token,
                &self.enrollment_request_pem,
            ))
        } else {
            Node::Served(
                server_runtime.block_on(start(move |metrics| Ok(root_router(root, metrics))))?,
            )
        };
        let body = serde_json::to_vec(&SubEnrollBody {
            request_pem: self.enrollment_request_pem.clone(),
        })?;
        let nodes = vec![(server_runtime, node)];
        let target = calls::target(&nodes, &self.admin_token, "/certification/subenroll", &body);
        let before =
            runtime("loadgen-check", 1)?.block_on(self.root_store.count_issued(IssuedKind::Slc))?;
        let phase = measure::drive(&Load {
            target,
            key: self.root_key.as_ref(),
            raw_threads: server_threads,
            pace: pace(args),
        })?;
        let after =
            runtime("loadgen-check", 1)?.block_on(self.root_store.count_issued(IssuedKind::Slc))?;
        if u64::try_from(after - before) != Ok(phase.all_successes) {
            return Err(format!(
                "{} sub-enrollments answered but {} recorded",
                phase.all_successes,
                after - before
            )
            .into());
        }
        println!(
            "sub-enrollments: all {} answered are recorded",
            phase.all_successes
        );
        calls::shut_down(nodes);
        Ok(phase)
    }

    fn verify_sample(&self, license: &SignedLicense) -> Result {
        let mut anchors = rms::chain::TrustAnchors::new();
        anchors.add(rms::chain::TrustAnchor::from_pem(&self.authority_pem)?);
        let verifier = rms::chain::Verifier::new(anchors, rms::chain::VerifyOptions::new());
        verifier.verify_license(license, &[], time::OffsetDateTime::now_utc())?;
        Ok(())
    }

    async fn finish(self) -> Result {
        self.root_store.close().await;
        if let Some((base, schema)) = &self.schema {
            drop_postgres_schema(base, schema).await?;
        }
        Ok(())
    }
}

/// Serves the router `make` builds on a free loopback port.
async fn start(make: impl FnOnce(Arc<Metrics>) -> Result<Router>) -> Result<RunningServer> {
    let metrics = Arc::new(Metrics::new());
    let router = make(metrics.clone())?;
    let mut config = ServerConfig::plain("127.0.0.1:0".parse()?);
    config.limits.max_connections = 4096;
    config.limits.max_connections_per_peer = 4096;
    Ok(serve(config, router, metrics).await?)
}

fn public_key_pem(key: &SubjectPublicKeyInfoOwned) -> Result<String> {
    Ok(key.to_pem(rms::cert::der::pem::LineEnding::LF)?)
}

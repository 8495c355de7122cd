//! A licensing role embedded in a service of one's own: no HTTP, no tokens of ours.
//!
//! A document service (a tokio program standing in for yours) keeps its configuration
//! database in SQLite, authenticates its users by its own means (here: API keys it issued),
//! and asks the embedded licensing role for publishing and use licenses on their behalf. The
//! role still does everything the `rms-licensing` server does: it checks the services' DACLs
//! (which deny everyone until an administrator grants them), verifies every publishing
//! license, signs with the cluster's SLC key and records each issuance and decision in the
//! audit log. The service's users then verify their use license offline against the
//! enrollment authority, exactly as `rms-client` does.
//!
//! ```text
//! cargo run --release --example embedded_licensing              # the story, in a temporary directory
//! cargo run --release --example embedded_licensing -- --dir DIR # keep the databases in DIR
//! ```
//!
//! The licensing cluster sub-enrolls with a root certification server that runs in the same
//! process, so that the example needs nothing else; a real deployment's root is remote (send
//! [`EnrollmentPlan::request_pem`] to it, or import an SLC and key obtained elsewhere with
//! `import_licensing_cluster`). `docs/embedding.md` explains each step.

use std::collections::HashMap;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use rms::content::ContentKey;
use rms::roles::cert::spki::SubjectPublicKeyInfoOwned;
use rms::roles::cert::{Grant, RsaSigner, SignedLicense, UsageRight, UsageRights};
use rms::roles::client::{self, Authority, LicensingChannel, Publication};
use rms::roles::keys::PrivateKey;
use rms::roles::{
    ADMINS_GROUP, Admin, Cluster, ClusterSecret, EnrollmentPlan, LicensingRole, NodeOptions,
    PublishRequest, RequestContext, RoleError, RootInit, RootRole, Service, Store, init_root,
};

type Result<T = (), E = Box<dyn Error + Send + Sync>> = std::result::Result<T, E>;

/// Size of every RSA key the example makes.
const KEY_BITS: usize = 2048;

/// Embed a licensing role in a tokio service and issue licenses without HTTP.
#[derive(Debug, Parser)]
#[command(name = "embedded_licensing", version)]
struct Args {
    /// Keep the configuration databases (root.db, licensing.db) in DIR instead of a temporary
    /// directory.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("embedded_licensing: cannot start tokio: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match args.dir {
            Some(dir) => {
                std::fs::create_dir_all(&dir)?;
                run(&dir).await
            }
            None => {
                let dir = tempfile::tempdir()?;
                run(dir.path()).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("embedded_licensing: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The story: set up, publish as the author, get a use license as a reader, refuse a stranger.
async fn run(dir: &Path) -> Result {
    let (service, authority) = DocumentService::set_up(dir).await?;
    println!("licensing role embedded, its database in {}", dir.display());

    // The author publishes a document for herself (every right) and a reader (view only).
    let content_key = ContentKey::generate()?;
    let publication = Publication {
        content_id: "urn:example:document:handbook".into(),
        grants: vec![
            Grant::new("alice", UsageRights::ALL)?,
            Grant::new("bob", UsageRights::from_rights([UsageRight::View]))?,
        ],
        template: None,
        content_key: content_key.as_bytes().to_vec(),
    };
    let channel = service.channel("key-of-alice")?;
    let publishing = client::publish(&channel, &authority, &publication).await?;
    println!(
        "alice published {} (publishing license, {} grants)",
        publication.content_id,
        publication.grants.len()
    );

    // Several readers ask at once: each request is a task of the service.
    let bob_key: Arc<dyn PrivateKey> = Arc::new(RsaSigner::generate(KEY_BITS)?);
    let carol_key: Arc<dyn PrivateKey> = Arc::new(RsaSigner::generate(KEY_BITS)?);
    let ask = |api_key: &'static str, key: Arc<dyn PrivateKey>| {
        let service = service.clone();
        let authority = authority.clone();
        let publishing = publishing.clone();
        tokio::spawn(async move {
            let channel = service.channel(api_key)?;
            client::request_use_license(&channel, &authority, &publishing, key.as_ref())
                .await
                .map_err(|e| Box::new(e) as Box<dyn Error + Send + Sync>)
        })
    };
    let bob = ask("key-of-bob", bob_key.clone());
    let carol = ask("key-of-carol", carol_key);

    let (_, use_license, unwrapped) = bob.await??;
    if unwrapped.as_slice() != content_key.as_bytes() {
        return Err("bob's use license does not carry the document's content key".into());
    }
    let rights = use_license.rights();
    println!(
        "bob got a use license, verified offline against the authority: rights {rights}, valid until {}",
        rms::roles::rfc3339(use_license.validity().not_after())
    );
    if rights.contains(UsageRight::Export) {
        return Err("bob was granted export, which alice did not grant".into());
    }

    match carol.await? {
        Err(error) => println!("carol was refused: {}", rms::roles::describe_error(&*error)),
        Ok(_) => return Err("carol got a use license although nobody granted her".into()),
    }
    match service.channel("key-of-mallory") {
        Err(error) => println!("an unknown API key was refused by the service: {error}"),
        Ok(_) => return Err("the service accepted an API key it never issued".into()),
    }

    Ok(())
}

/// A service of one's own that embeds a licensing role.
#[derive(Clone)]
struct DocumentService {
    licensing: Arc<LicensingRole>,
    /// The service's own authentication: API keys it issued, and whose they are.
    api_keys: Arc<HashMap<&'static str, &'static str>>,
}

impl DocumentService {
    /// Creates a root and a licensing cluster (both SQLite, in `dir`), enrolls the licensing
    /// cluster with the root, registers the service's users as principals and grants them the
    /// licensing services. Returns the service and the authority its users trust.
    async fn set_up(dir: &Path) -> Result<(Self, Authority)> {
        let options = NodeOptions::default();

        // The root certification server (in a real deployment: remote, run by `rms-root`).
        let root_store = Store::open_sqlite(&dir.join("root.db")).await?;
        let root_secret = ClusterSecret::generate()?;
        let init = RootInit {
            name: "root-1".into(),
            url: "https://root.example/_wmcs/certification".into(),
            authority_name: "CN=Example Enrollment Authority".into(),
            key_bits: KEY_BITS,
        };
        let made = init_root(&root_store, &root_secret, &init, &options).await?;
        Admin::open(root_store.clone(), "operator")
            .await?
            .acl_grant(Service::SubEnroll, ADMINS_GROUP, None)
            .await?;
        let root = RootRole::new(Arc::new(
            Cluster::open(root_store, &root_secret, options.clone()).await?,
        ))?;

        // The embedded licensing cluster: sub-enroll, verify the answer, create the database.
        let plan = EnrollmentPlan::new("documents-1", "https://documents.example", KEY_BITS)?;
        let chain = root
            .sub_enroll(
                &RequestContext::bearer(&made.admin.token),
                plan.request_pem().as_bytes(),
            )
            .await?;
        let store = Store::open_sqlite(&dir.join("licensing.db")).await?;
        let secret = ClusterSecret::generate()?;
        plan.complete(
            &store,
            &secret,
            &chain.to_pem()?,
            &made.authority_pem,
            &options,
        )
        .await?;
        let cluster = Arc::new(Cluster::open(store.clone(), &secret, options).await?);
        let licensing = Arc::new(LicensingRole::new(cluster)?);

        // The service's users become principals (without tokens of ours: the service
        // authenticates them), in a group that may publish and ask for use licenses.
        let admin = Admin::open(store, "document-service").await?;
        admin.add_group("readers").await?;
        for user in ["alice", "bob", "carol"] {
            // A user principal comes with a bearer token of ours; a service that authenticates
            // its users itself never hands it out.
            let (_principal, _unused_token) =
                admin.add_principal(user, &["readers".to_owned()]).await?;
        }
        admin
            .acl_grant(Service::Publishing, "readers", None)
            .await?;
        admin.acl_grant(Service::Licensing, "readers", None).await?;

        let api_keys = HashMap::from([
            ("key-of-alice", "alice"),
            ("key-of-bob", "bob"),
            ("key-of-carol", "carol"),
        ]);
        let service = Self {
            licensing,
            api_keys: Arc::new(api_keys),
        };
        Ok((service, Authority::from_pem(&made.authority_pem)?))
    }

    /// The channel through which the holder of `api_key` reaches the embedded role, once the
    /// service has authenticated them.
    fn channel(&self, api_key: &str) -> Result<InProcess, String> {
        let user = self
            .api_keys
            .get(api_key)
            .ok_or_else(|| "no such API key".to_owned())?;
        Ok(InProcess {
            licensing: self.licensing.clone(),
            user,
        })
    }
}

/// A [`LicensingChannel`] that calls the embedded role directly: the same client-side checks
/// (`client::publish`, `client::request_use_license`) as over HTTP, without HTTP.
struct InProcess {
    licensing: Arc<LicensingRole>,
    user: &'static str,
}

impl InProcess {
    /// The request context of this user: the caller the service authenticated, as a principal
    /// of the cluster (with its groups), and a request id for the audit log.
    async fn context(&self) -> Result<RequestContext, RoleError> {
        let caller = self
            .licensing
            .cluster()
            .caller_for_principal(self.user)
            .await?;
        Ok(RequestContext::caller(caller).with_request_id(format!("documents-{}", self.user)))
    }
}

impl LicensingChannel for InProcess {
    async fn chain(&self) -> Result<String> {
        Ok(self.licensing.cluster().chain().to_pem()?)
    }

    async fn publish(&self, request: &PublishRequest) -> Result<String> {
        let ctx = self.context().await?;
        Ok(self.licensing.publish(&ctx, request).await?.to_pem()?)
    }

    async fn use_license(
        &self,
        publishing_license_pem: &str,
        public_key: &SubjectPublicKeyInfoOwned,
    ) -> Result<String> {
        let ctx = self.context().await?;
        let license: SignedLicense = self
            .licensing
            .use_license_pem(&ctx, publishing_license_pem, public_key.clone())
            .await?;
        Ok(license.to_pem()?)
    }
}

//! Protecting a document and opening it with the rights it grants, in one process.
//!
//! A root certification cluster is initialised (with a new enrollment authority), a licensing
//! cluster sub-enrolls with it, and its administrator adds three users. The author protects a
//! document for alice (view, export) and bob (view); alice opens it into a file, bob may only
//! view it (writing it out needs export or edit, and the refusal says so), and carol, whom the
//! policy does not name, gets no use license at all. Alice's use license is kept in her license
//! store, and she opens the document again with the licensing server out of reach.
//!
//! Then the administrator's side: a rights policy template grants the board group, and dave,
//! a member, opens a document protected with it; erin, in the compliance group, is a super
//! user once super users are enabled, and gets every right to alice's document (audited as
//! super-user access); finally access to that document is revoked, and alice's client, which
//! still holds her use license, refuses it as soon as it has the cluster's revocation list.
//!
//! ```text
//! cargo run --release --example protect_and_open              # the story
//! cargo run --release --example protect_and_open -- --out DIR # and its files
//! ```
//!
//! `--out DIR` writes `document.rms` (the protected document), `licensing-key.pem` and
//! `licensing-slc.pem` (the licensing cluster's key and certificate: with them
//! `openssl cms -decrypt` recovers the document too), `authority.pem` (the anchor),
//! `use-license.pem` (alice's) and `document.txt` (the opened copy).
//!
//! Every party is a library call (`rms-roles`): the licensing role is reached through
//! [`LocalLicensing`], which goes through authentication, the DACL and the audit log exactly as
//! an HTTP request does.

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use rms::cert::{Grant, RsaSigner, UsageRights};
use rms::roles::client::{
    Authority, DocumentClient, LicenseStore, LicensingChannel, LocalLicensing, Protection,
    document_info,
};
use rms::roles::keys::PrivateKey;
use rms::roles::{
    ADMINS_GROUP, Admin, Cluster, ClusterSecret, EnrollmentPlan, LicensingRole, NodeOptions,
    PublishRequest, RequestContext, RootInit, RootRole, Service, TemplateSpec, describe_error,
    init_root, rfc3339,
};
use rms::store::Store;

type Result<T = (), E = Box<dyn Error>> = std::result::Result<T, E>;

const KEY_BITS: usize = 2048;
const SERVER_URL: &str = "https://licensing.example.com/_wmcs/licensing";
const DOCUMENT: &str = "Quarterly figures: revenue up 4 %, costs down 2 %.\n";

/// Protect a document, then open it as a granted user, a view-only user and a stranger.
#[derive(Debug, Parser)]
#[command(name = "protect_and_open", version)]
struct Args {
    /// Write the protected document, the cluster's key and certificate, the anchor, alice's
    /// use license and the opened copy into DIR (created if needed).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Box::<dyn Error>::from)
        .and_then(|runtime| runtime.block_on(story(args.out.as_deref())));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("protect_and_open: {error}");
            ExitCode::FAILURE
        }
    }
}

fn step(number: u32, title: &str) {
    println!();
    println!("{number}. {title}");
}

/// The party who holds the cluster, its administrator and its users.
struct Licensing {
    role: LicensingRole,
    admin_token: String,
    key_pem: String,
    slc_pem: String,
}

async fn story(out: Option<&Path>) -> Result {
    if let Some(dir) = out {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let work = tempfile::tempdir()?;
    println!("Protecting and opening a document, in one process");

    step(
        1,
        "A root certification cluster with a new enrollment authority",
    );
    let root_store = Store::open_sqlite(&work.path().join("root.db")).await?;
    let root_secret = ClusterSecret::generate()?;
    let init = RootInit {
        name: "root-1".into(),
        url: "https://root.example.com/_wmcs/certification".into(),
        authority_name: "CN=Example Enrollment Authority,O=RMS Example".into(),
        key_bits: KEY_BITS,
    };
    let options = |node: &str| NodeOptions {
        node_id: node.to_owned(),
        ..NodeOptions::default()
    };
    let made = init_root(&root_store, &root_secret, &init, &options("root-node")).await?;
    let root_cluster =
        Cluster::open(root_store.clone(), &root_secret, options("root-node")).await?;
    let root = RootRole::new(Arc::new(root_cluster))?;
    Admin::open(root_store, "example-operator")
        .await?
        .acl_grant(Service::SubEnroll, ADMINS_GROUP, None)
        .await?;
    println!("  the authority is the anchor every client trusts; {ADMINS_GROUP} may sub-enroll");

    step(2, "A licensing cluster sub-enrolls with the root");
    let licensing = enroll(&root, &made.admin.token, &made.authority_pem, work.path()).await?;
    let admin = Admin::open(
        Store::open_sqlite(&work.path().join("licensing.db")).await?,
        "example-operator",
    )
    .await?;
    let mut tokens = Vec::new();
    for user in ["alice", "bob", "carol"] {
        tokens.push(admin.add_principal(user, &[]).await?.1);
        println!("  user {user} added, with a bearer token");
    }
    let [alice_token, bob_token, carol_token] =
        <[String; 3]>::try_from(tokens).map_err(|_| "three tokens were made")?;
    let authority = Authority::from_pem(&made.authority_pem)?;
    let as_user = |token: &str| {
        DocumentClient::new(
            LocalLicensing::new(&licensing.role, token),
            authority.clone(),
        )
    };

    step(
        3,
        "The author protects a document for alice (view, export) and bob (view)",
    );
    let source = work.path().join("document.txt");
    fs::write(&source, DOCUMENT)?;
    let protected = work.path().join("document.rms");
    let protection = Protection {
        content_id: Some("urn:example:document:quarterly-figures".into()),
        grants: vec![
            Grant::new("alice", "view,export".parse::<UsageRights>()?)?,
            Grant::new("bob", "view".parse::<UsageRights>()?)?,
        ],
        ..Protection::default()
    };
    let done = as_user(&licensing.admin_token)
        .protect(SERVER_URL, &protection, &source, &protected, &mut |_| {})
        .await?;
    println!(
        "  {} protected: {} bytes, content id {}",
        source.display(),
        done.len,
        done.content_id
    );
    let info = document_info(&protected)?;
    println!("  in the clear (read without a key):");
    println!("    issuer            {}", info.issuer);
    println!("    licensing server  {}", info.server_url);
    for grant in &info.grants {
        println!("    grants {} to {}", grant.rights(), grant.principal());
    }
    println!("    expires           {}", rfc3339(info.expires));

    step(
        4,
        "alice opens it: a use license from the server, kept in her store",
    );
    let alice_key = RsaSigner::generate(KEY_BITS)?;
    let store = LicenseStore::open(&work.path().join("alice-licenses"))?;
    let opened_copy = work.path().join("opened.txt");
    let opened = as_user(&alice_token)
        .open(
            &protected,
            &opened_copy,
            alice_key.private_key(),
            Some(&store),
            &mut |_| {},
        )
        .await?;
    let rights = opened.license.rights();
    println!(
        "  use license: {} may {} until {}",
        rights.principal,
        rights.rights,
        rfc3339(rights.expires)
    );
    let text = fs::read_to_string(&opened_copy)?;
    if text != DOCUMENT {
        return Err("the opened copy differs from the document".into());
    }
    println!(
        "  opened {:?} ({}): {} bytes, identical to the original",
        opened.opened.metadata().file_name(),
        opened.opened.metadata().media_type(),
        opened.opened.len()
    );

    step(
        5,
        "alice opens it again with the licensing server out of reach",
    );
    let offline = DocumentClient::new(Unreachable, authority.clone());
    fs::remove_file(&opened_copy)?;
    let again = offline
        .open(
            &protected,
            &opened_copy,
            alice_key.private_key(),
            Some(&store),
            &mut |_| {},
        )
        .await?;
    println!(
        "  opened from the license store ({:?}), no request made",
        again.license.source()
    );

    step(6, "bob may view it, but not write it out");
    let bob_key = RsaSigner::generate(KEY_BITS)?;
    let bob = as_user(&bob_token)
        .license(&info, bob_key.private_key(), None)
        .await?;
    let bob_copy = work.path().join("bob-copy.txt");
    match bob.open_to_file(&protected, &bob_copy, &mut |_| {}) {
        Err(refused) => println!("  writing it out: refused ({}): {refused}", refused.code()),
        Ok(_) => return Err("bob wrote the document out without the export right".into()),
    }
    let shown = bob.open_in_memory(&fs::read(&protected)?, 1 << 20)?;
    println!(
        "  viewing it (the application enforces the rest): {:?}",
        String::from_utf8_lossy(shown.content()).trim_end()
    );

    step(
        7,
        "carol, whom the policy does not name, gets no use license",
    );
    let carol_key = RsaSigner::generate(KEY_BITS)?;
    match as_user(&carol_token)
        .license(&info, carol_key.private_key(), None)
        .await
    {
        Err(refused) => println!(
            "  refused by the licensing server: {}",
            describe_error(&refused)
        ),
        Ok(_) => return Err("carol got a use license the policy does not grant".into()),
    }

    administer(
        &admin,
        &licensing,
        &authority,
        work.path(),
        &protected,
        &store,
        &alice_key,
        &alice_token,
    )
    .await?;

    if let Some(dir) = out {
        step(11, "The files");
        let write = |name: &str, bytes: &[u8]| -> Result {
            fs::write(dir.join(name), bytes)
                .map_err(|e| format!("cannot write {}: {e}", dir.join(name).display()))?;
            println!("  {}", dir.join(name).display());
            Ok(())
        };
        write("document.rms", &fs::read(&protected)?)?;
        write_private(&dir.join("licensing-key.pem"), licensing.key_pem.as_bytes())?;
        println!("  {} (mode 0600)", dir.join("licensing-key.pem").display());
        write("licensing-slc.pem", licensing.slc_pem.as_bytes())?;
        write("authority.pem", made.authority_pem.as_bytes())?;
        write(
            "use-license.pem",
            opened.license.use_license().to_pem()?.as_bytes(),
        )?;
        write("document.txt", &fs::read(&opened_copy)?)?;
        println!(
            "  openssl cms -decrypt -inform DER -in document.rms -recip licensing-slc.pem -inkey licensing-key.pem"
        );
    }
    println!();
    println!("done");
    Ok(())
}

/// Steps 8 to 10: a template, a super user, a revocation.
#[allow(clippy::too_many_arguments)]
async fn administer(
    admin: &Admin,
    licensing: &Licensing,
    authority: &Authority,
    work: &Path,
    protected: &Path,
    alice_store: &LicenseStore,
    alice_key: &RsaSigner,
    alice_token: &str,
) -> Result {
    let as_user = |token: &str| {
        DocumentClient::new(
            LocalLicensing::new(&licensing.role, token),
            authority.clone(),
        )
    };
    step(8, "A rights policy template: the board may view");
    admin.add_group("board").await?;
    let (_, dave_token) = admin.add_principal("dave", &["board".to_owned()]).await?;
    let template = admin
        .add_template(&TemplateSpec {
            name: "board-only".into(),
            description: "Board members may view".into(),
            grants: vec![rms::cert::TemplateGrant::new("board", "view".parse()?)?],
            content_validity: None,
            use_license_lifetime: Some("30d".parse()?),
        })
        .await?;
    println!(
        "  template {} ({}) grants view to the group board",
        template.name, template.id
    );
    let minutes = work.join("minutes.txt");
    fs::write(&minutes, "Board minutes: approved.\n")?;
    let minutes_rms = work.join("minutes.rms");
    let protection = Protection {
        template: Some("board-only".into()),
        ..Protection::default()
    };
    as_user(&licensing.admin_token)
        .protect(SERVER_URL, &protection, &minutes, &minutes_rms, &mut |_| {})
        .await?;
    let dave_key = RsaSigner::generate(KEY_BITS)?;
    let dave = as_user(&dave_token)
        .license(&document_info(&minutes_rms)?, dave_key.private_key(), None)
        .await?;
    println!(
        "  dave, a member of board, gets a use license: {} may {} until {} (the template's 30 days)",
        dave.rights().principal,
        dave.rights().rights,
        rfc3339(dave.rights().expires)
    );

    step(
        9,
        "A super user: erin, of the compliance group, recovers alice's document",
    );
    admin.add_group("compliance").await?;
    let (_, erin_token) = admin
        .add_principal("erin", &["compliance".to_owned()])
        .await?;
    admin.add_super_user("compliance").await?;
    let info = document_info(protected)?;
    let erin_key = RsaSigner::generate(KEY_BITS)?;
    match as_user(&erin_token)
        .license(&info, erin_key.private_key(), None)
        .await
    {
        Err(refused) => println!(
            "  while super users are disabled: refused ({})",
            refused_code(&refused)
        ),
        Ok(_) => return Err("a super user got a license while super users are disabled".into()),
    }
    admin.set_super_users_enabled(true).await?;
    let erin = as_user(&erin_token)
        .license(&info, erin_key.private_key(), None)
        .await?;
    println!(
        "  once enabled: {} may {} (audited as super-user access)",
        erin.rights().principal,
        erin.rights().rights
    );

    step(10, "Access to alice's document is revoked");
    let revoked = admin
        .revoke_content(&info.content_id, "superseded by the audited figures")
        .await?;
    println!(
        "  {} revoked at {}: no node issues a use license for it any more",
        revoked.content_id,
        rfc3339(revoked.revoked_at)
    );
    let restored = work.join("alice-again.txt");
    match as_user(alice_token)
        .open(
            protected,
            &restored,
            alice_key.private_key(),
            Some(alice_store),
            &mut |_| {},
        )
        .await
    {
        Err(refused) => println!(
            "  alice's client, holding her use license, fetches the revocation list and refuses: {refused}"
        ),
        Ok(_) => return Err("a revoked document opened".into()),
    }
    Ok(())
}

/// The code of a refusal, the role's own when it came through the channel.
fn refused_code(error: &rms::roles::RoleError) -> String {
    if let rms::roles::RoleError::Upstream(inner) = error
        && let Some(role) = inner.downcast_ref::<rms::roles::RoleError>()
    {
        return role.code().to_owned();
    }
    error.code().to_owned()
}

/// Sub-enrolls a licensing cluster whose key the example made (so that `--out` can write it).
async fn enroll(
    root: &RootRole,
    root_token: &str,
    authority_pem: &str,
    dir: &Path,
) -> Result<Licensing> {
    let key = RsaSigner::generate(KEY_BITS)?;
    let key_pem = key.to_pkcs8_pem()?;
    let key: Arc<dyn PrivateKey> = Arc::new(key);
    let plan = EnrollmentPlan::with_key("licensing-1", SERVER_URL, key)?;
    let chain = root
        .sub_enroll(
            &RequestContext::bearer(root_token),
            plan.request_pem().as_bytes(),
        )
        .await?;
    let store = Store::open_sqlite(&dir.join("licensing.db")).await?;
    let secret = ClusterSecret::generate()?;
    let options = NodeOptions {
        node_id: "licensing-node".into(),
        ..NodeOptions::default()
    };
    let credentials = plan
        .complete(&store, &secret, &chain.to_pem()?, authority_pem, &options)
        .await?;
    let cluster = Cluster::open(store, &secret, options).await?;
    let slc_pem = rms::cert::certificate_to_pem(chain.leaf())?;
    println!(
        "  licensing-1 holds the SLC {}",
        chain.leaf().tbs_certificate().subject()
    );
    Ok(Licensing {
        role: LicensingRole::new(Arc::new(cluster))?,
        admin_token: credentials.token,
        key_pem,
        slc_pem,
    })
}

fn write_private(path: &Path, contents: &[u8]) -> Result {
    if path.exists() {
        fs::remove_file(path)?;
    }
    rms::roles::write_private_file(path, contents)?;
    Ok(())
}

/// A licensing server out of reach.
struct Unreachable;

type Answer = std::result::Result<String, Box<dyn Error + Send + Sync>>;

impl LicensingChannel for Unreachable {
    async fn chain(&self) -> Answer {
        Err("the licensing server cannot be reached".into())
    }
    async fn publish(&self, _: &PublishRequest) -> Answer {
        Err("the licensing server cannot be reached".into())
    }
    async fn use_license(&self, _: &str, _: &rms::cert::spki::SubjectPublicKeyInfoOwned) -> Answer {
        Err("the licensing server cannot be reached".into())
    }
}

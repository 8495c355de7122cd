//! Writes the seed corpus of the fuzz targets (`fuzz/corpus/TARGET/`): one valid input of
//! each kind, made by the libraries, so that the fuzzers start from inputs that reach deep.
//!
//! ```text
//! cargo run --release --example fuzz_seeds -- fuzz/corpus
//! ```
//!
//! The corpus in the repository was written by this example; rerun it when a format changes.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rms::cert::der::Encode;
use rms::cert::{
    Grant, RsaSigner, Signer, TemplateGrant, UsageRight, UsageRights, wrap_content_key,
};
use rms::content::{ContentKey, Envelope, FileMetadata, protect_to_vec};
use rms::dacl::{DomainSid, SecurityDescriptor, SidContext};
use rms::roles::{
    ADMINS_GROUP, Admin, Cluster, ClusterSecret, EnrollmentPlan, LicensingRole, NodeOptions,
    PublishRequest, RenewalPlan, RequestContext, RootInit, RootRole, Service, TemplateSpec,
    init_root,
};
use rms::store::Store;

type Result<T = (), E = Box<dyn Error>> = std::result::Result<T, E>;

/// The key the `protected_file` target opens with.
const FUZZ_CONTENT_KEY: [u8; 32] = [0x42; 32];

fn write(corpus: &Path, target: &str, name: &str, bytes: &[u8]) -> Result {
    let dir = corpus.join(target);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(name), bytes)?;
    Ok(())
}

/// The `http_request` target's input: server, path, method, token, content type, body.
fn http(server: u8, path: u8, method: u8, token: u8, body: &[u8]) -> Vec<u8> {
    let mut input = vec![server, path, method, token, 0];
    input.extend_from_slice(body);
    input
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result {
    let corpus = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: fuzz_seeds CORPUS_DIR")?,
    );
    let dir = tempfile::tempdir()?;
    let options = NodeOptions::default();
    let store = Store::open_sqlite(&dir.path().join("root.db")).await?;
    let secret = ClusterSecret::generate()?;
    let init = RootInit {
        name: "root-1".into(),
        url: "https://root.example".into(),
        authority_name: "CN=Seed Authority".into(),
        key_bits: 2048,
    };
    let made = init_root(&store, &secret, &init, &options).await?;
    Admin::open(store.clone(), "seeds")
        .await?
        .acl_grant(Service::SubEnroll, ADMINS_GROUP, None)
        .await?;
    let root = RootRole::new(Arc::new(
        Cluster::open(store, &secret, options.clone()).await?,
    ))?;
    let admin = RequestContext::bearer(&made.admin.token);

    // Enrollment requests, certificates, a chain.
    let plan = EnrollmentPlan::new("lic-1", "https://lic.example", 2048)?;
    let request = rms::cert::EnrollmentRequest::from_pem(plan.request_pem())?;
    write(
        &corpus,
        "enrollment_request",
        "request.der",
        &request.to_der()?,
    )?;
    write(
        &corpus,
        "enrollment_request",
        "request.pem",
        plan.request_pem().as_bytes(),
    )?;
    let other = EnrollmentPlan::new("lic-seed", "https://seed.example", 2048)?;
    let chain = root
        .sub_enroll(&admin, other.request_pem().as_bytes())
        .await?;
    for (i, certificate) in chain.certificates().iter().enumerate() {
        write(
            &corpus,
            "certificate",
            &format!("chain-{i}.der"),
            &certificate.to_der()?,
        )?;
    }

    // A licensing cluster, its licenses and a renewal request.
    let chain = root
        .sub_enroll(&admin, plan.request_pem().as_bytes())
        .await?;
    let lic_store = Store::open_sqlite(&dir.path().join("lic.db")).await?;
    let lic_secret = ClusterSecret::generate()?;
    let creds = plan
        .complete(
            &lic_store,
            &lic_secret,
            &chain.to_pem()?,
            &made.authority_pem,
            &options,
        )
        .await?;
    let licensing = LicensingRole::new(Arc::new(
        Cluster::open(lic_store, &lic_secret, options).await?,
    ))?;
    let renewal = RenewalPlan::new(licensing.cluster(), false, 2048)?;
    write(
        &corpus,
        "renewal_request",
        "renewal.der",
        &renewal.request().to_der()?,
    )?;

    let cluster_key = licensing.cluster().signer().public_key();
    let grants = vec![Grant::new(
        "admin",
        UsageRights::from_rights([UsageRight::View, UsageRight::Export]),
    )?];
    let publishing = licensing
        .publish(
            &RequestContext::bearer(&creds.token),
            &PublishRequest {
                content_id: "urn:seed:doc".into(),
                grants: grants.clone(),
                template: None,
                wrapped_content_key: wrap_content_key(&cluster_key, &FUZZ_CONTENT_KEY)?,
            },
        )
        .await?;
    write(&corpus, "license", "publishing.der", publishing.der())?;
    let reader = RsaSigner::generate(2048)?;
    let use_license = licensing
        .use_license(
            &RequestContext::bearer(&creds.token),
            &publishing,
            reader.public_key(),
        )
        .await?;
    write(&corpus, "license", "use.der", use_license.der())?;
    let lic_admin = Admin::open(licensing.cluster().store().clone(), "seed").await?;
    lic_admin
        .add_template(&TemplateSpec {
            name: "seed".into(),
            description: "the seed template".into(),
            grants: vec![TemplateGrant::new(
                "admin",
                UsageRights::from_rights([UsageRight::View]),
            )?],
            content_validity: Some("90d".parse()?),
            use_license_lifetime: Some("30d".parse()?),
        })
        .await?;
    let templates = licensing
        .template_list(&RequestContext::bearer(&creds.token))
        .await?;
    write(&corpus, "template_list", "templates.der", templates.der())?;
    // A revocation list naming the seed's content and its use license.
    if let rms::cert::LicenseBody::Use(body) = use_license.body() {
        lic_admin
            .revoke_use_license(&body.serial().to_string(), "seed")
            .await?;
    }
    lic_admin.revoke_content("urn:seed:doc", "seed").await?;
    let revocations = licensing
        .revocation_list(&RequestContext::bearer(&creds.token))
        .await?;
    write(
        &corpus,
        "content_revocations",
        "revocations.der",
        revocations.der(),
    )?;
    write(&corpus, "crl", "root.crl", &root.crl().await?.to_der()?)?;

    // A protected file the target can open with its key.
    let key = ContentKey::from_bytes(&FUZZ_CONTENT_KEY)?;
    let envelope = Envelope::new(publishing.clone(), "https://lic.example")?;
    let metadata = FileMetadata::new("report.txt", "text/plain")?;
    let protected = protect_to_vec(&key, &envelope, &metadata, b"quarterly figures\n")?;
    write(&corpus, "protected_file", "report.rms", &protected)?;

    // SDDL and binary descriptors.
    let ctx = SidContext::domain(DomainSid::new(1, 2, 3));
    for (i, sddl) in [
        "O:SYG:SYD:P",
        "O:SYG:SYD:P(A;;CC;;;S-1-5-21-1-2-3-1000)(D;;CC;;;S-1-5-21-1-2-3-1001)",
        "O:BAG:BAD:(XA;;RP;;;WD;(@User.Title == \"PM\" && (Member_of {SID(BA)} || @Device.l < {1, 2})))",
        "D:(OA;CI;RP;bf967aba-0de6-11d0-a285-00aa003049e2;;AU)S:(AU;SA;WP;;;WD)",
        "S:(RA;;;;;WD;(\"colour\",TS,0,\"blue\",\"red\"))",
    ]
    .iter()
    .enumerate()
    {
        write(&corpus, "sddl", &format!("sddl-{i}.txt"), sddl.as_bytes())?;
        let descriptor = SecurityDescriptor::from_sddl(sddl, &ctx)?;
        write(
            &corpus,
            "descriptor",
            &format!("descriptor-{i}.bin"),
            &descriptor.to_bytes()?,
        )?;
    }

    // Requests to the routes (see fuzz/fuzz_targets/http_request.rs for the layout).
    let subenroll = format!(
        r#"{{"request_pem":{}}}"#,
        json_string(plan_request(2048)?.as_str())
    );
    write(
        &corpus,
        "http_request",
        "subenroll",
        &http(0, 0, 1, 1, subenroll.as_bytes()),
    )?;
    let renew = format!(
        r#"{{"request_pem":{}}}"#,
        json_string(&renewal.request_pem()?)
    );
    write(
        &corpus,
        "http_request",
        "renew",
        &http(0, 1, 1, 0, renew.as_bytes()),
    )?;
    write(&corpus, "http_request", "chain", &http(0, 3, 0, 0, b""))?;
    let wrapped = wrap_content_key(&cluster_key, &FUZZ_CONTENT_KEY)?.to_der()?;
    let publish = format!(
        r#"{{"content_id":"urn:seed:2","grants":[{{"principal":"admin","rights":["view"]}}],"content_key_wrapped":"{}"}}"#,
        base64(&wrapped)
    );
    write(
        &corpus,
        "http_request",
        "publish",
        &http(1, 6, 1, 1, publish.as_bytes()),
    )?;
    let public_key_pem = rms::cert::der::EncodePem::to_pem(
        &reader.public_key(),
        rms::cert::der::pem::LineEnding::LF,
    )?;
    let uselicense = format!(
        r#"{{"publishing_license_pem":{},"public_key_pem":{}}}"#,
        json_string(&publishing.to_pem()?),
        json_string(&public_key_pem)
    );
    write(
        &corpus,
        "http_request",
        "uselicense",
        &http(1, 7, 1, 1, uselicense.as_bytes()),
    )?;
    println!("seeds written under {}", corpus.display());
    Ok(())
}

/// A fresh enrollment request, PEM.
fn plan_request(bits: usize) -> Result<String> {
    Ok(EnrollmentPlan::new("lic-2", "https://lic2.example", bits)?
        .request_pem()
        .to_owned())
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn base64(bytes: &[u8]) -> String {
    use base64ct::Encoding;
    base64ct::Base64::encode_string(bytes)
}

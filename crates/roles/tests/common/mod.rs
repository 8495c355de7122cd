//! The deployment the role tests share: a root (deny by default), a licensing cluster enrolled
//! with it, and their administrators, on a clock the tests move.

use std::sync::Arc;

use rms_cert::{Grant, SignedLicense, wrap_content_key};
use rms_chain::{TrustAnchor, TrustAnchors, Verifier, VerifyOptions};
use rms_roles::*;
use rms_store::Store;
use time::macros::datetime;

#[allow(dead_code)] // each test binary uses its own subset
pub(crate) struct World {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) root: RootRole,
    pub(crate) root_admin: Admin,
    pub(crate) root_token: String,
    pub(crate) authority_pem: String,
    pub(crate) licensing: LicensingRole,
    pub(crate) licensing_admin: Admin,
    pub(crate) licensing_token: String,
    pub(crate) licensing_secret: ClusterSecret,
    pub(crate) authority_key_pem: String,
    pub(crate) root_secret: ClusterSecret,
}

pub(crate) fn options(clock: &Arc<ManualClock>, node: &str) -> NodeOptions {
    NodeOptions {
        node_id: node.into(),
        clock: clock.clone(),
        ..NodeOptions::default()
    }
}

pub(crate) async fn root_only() -> (
    tempfile::TempDir,
    Arc<ManualClock>,
    RootRole,
    Admin,
    RootInitOutcome,
    ClusterSecret,
) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-25 10:00 UTC)));
    let store = Store::open_sqlite(&dir.path().join("root.db"))
        .await
        .unwrap();
    let secret = ClusterSecret::generate().unwrap();
    let init = RootInit {
        name: "root-1".into(),
        url: "https://root.example/certification".into(),
        authority_name: "CN=Test Enrollment Authority".into(),
        key_bits: 2048,
    };
    let made = init_root(&store, &secret, &init, &options(&clock, "root-node"))
        .await
        .unwrap();
    let cluster = Cluster::open(store.clone(), &secret, options(&clock, "root-node"))
        .await
        .unwrap();
    let root = RootRole::new(Arc::new(cluster)).unwrap();
    let admin = Admin::open(store, "operator").await.unwrap();
    (dir, clock, root, admin, made, secret)
}

pub(crate) async fn world() -> World {
    let (dir, clock, root, root_admin, made, root_secret) = root_only().await;
    root_admin
        .acl_grant(Service::SubEnroll, ADMINS_GROUP, None)
        .await
        .unwrap();
    let enrolled = enroll_licensing(
        &dir,
        &clock,
        &root,
        &made.admin.token,
        &made.authority_pem,
        "licensing-1",
    )
    .await;
    World {
        dir,
        clock,
        root,
        root_admin,
        root_token: made.admin.token,
        authority_pem: made.authority_pem,
        licensing: enrolled.role,
        licensing_admin: enrolled.admin,
        licensing_token: enrolled.token,
        licensing_secret: enrolled.secret,
        authority_key_pem: made.authority_key_pem,
        root_secret,
    }
}

/// A licensing cluster sub-enrolled with `root`.
#[allow(dead_code)]
pub(crate) struct Enrolled {
    pub(crate) role: LicensingRole,
    pub(crate) admin: Admin,
    pub(crate) token: String,
    pub(crate) secret: ClusterSecret,
}

/// Enrolls a licensing cluster called `name` (its database in `dir`) with `root`.
pub(crate) async fn enroll_licensing(
    dir: &tempfile::TempDir,
    clock: &Arc<ManualClock>,
    root: &RootRole,
    root_token: &str,
    authority_pem: &str,
    name: &str,
) -> Enrolled {
    let plan = EnrollmentPlan::new(name, &format!("https://{name}.example"), 2048).unwrap();
    let chain = root
        .sub_enroll(
            &RequestContext::bearer(root_token),
            plan.request_pem().as_bytes(),
        )
        .await
        .unwrap();
    let file = if name == "licensing-1" {
        "licensing.db".to_owned()
    } else {
        format!("{name}.db")
    };
    let store = Store::open_sqlite(&dir.path().join(file)).await.unwrap();
    let secret = ClusterSecret::generate().unwrap();
    let node = format!("{name}-node");
    let creds = plan
        .complete(
            &store,
            &secret,
            &chain.to_pem().unwrap(),
            authority_pem,
            &options(clock, &node),
        )
        .await
        .unwrap();
    let cluster = Cluster::open(store.clone(), &secret, options(clock, &node))
        .await
        .unwrap();
    Enrolled {
        role: LicensingRole::new(Arc::new(cluster)).unwrap(),
        admin: Admin::open(store, "operator").await.unwrap(),
        token: creds.token,
        secret,
    }
}

pub(crate) fn verifier(authority_pem: &str) -> Verifier {
    let mut anchors = TrustAnchors::new();
    anchors.add(TrustAnchor::from_pem(authority_pem).unwrap());
    Verifier::new(anchors, VerifyOptions::new())
}

pub(crate) async fn publish_for(w: &World, grants: Vec<Grant>) -> (SignedLicense, Vec<u8>) {
    publish_on(&w.licensing, &w.licensing_token, grants, vec![7u8; 32]).await
}

/// Publishes `content_key` on `licensing` for `grants`, as the holder of `token`.
pub(crate) async fn publish_on(
    licensing: &LicensingRole,
    token: &str,
    grants: Vec<Grant>,
    content_key: Vec<u8>,
) -> (SignedLicense, Vec<u8>) {
    let cluster_key = licensing
        .cluster()
        .chain()
        .leaf()
        .tbs_certificate()
        .subject_public_key_info()
        .clone();
    let wrapped = wrap_content_key(&cluster_key, &content_key).unwrap();
    let request = PublishRequest {
        content_id: "doc-42".into(),
        grants,
        template: None,
        wrapped_content_key: wrapped,
    };
    let license = licensing
        .publish(&RequestContext::bearer(token), &request)
        .await
        .unwrap();
    (license, content_key)
}

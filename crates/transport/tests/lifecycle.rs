//! Renewal and revocation over HTTP, in one process on a clock the test moves: `renew_if_due`
//! does nothing before the renewal window and renews inside it; the root's renewal endpoint
//! refuses malformed, unknown and revoked requests with their statuses; the CRL endpoint
//! serves a DER CRL listing what was revoked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use rms_roles::*;
use rms_store::Store;
use rms_transport::api::{ApiClient, renew_if_due, root_router};
use rms_transport::{
    Client, ClientOptions, Metrics, RunningServer, ServerConfig, StatusCode, TransportError, serve,
};
use time::Duration;
use time::macros::datetime;

struct Setup {
    _dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    root: RootRole,
    server: RunningServer,
    licensing: Arc<Cluster>,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-25 10:00 UTC)));
    let options = |node: &str| NodeOptions {
        node_id: node.into(),
        clock: clock.clone(),
        ..NodeOptions::default()
    };
    let store = Store::open_sqlite(&dir.path().join("root.db"))
        .await
        .unwrap();
    let secret = ClusterSecret::generate().unwrap();
    let init = RootInit {
        name: "root-1".into(),
        url: "https://root.example".into(),
        authority_name: "CN=Test Authority".into(),
        key_bits: 2048,
    };
    let made = init_root(&store, &secret, &init, &options("root"))
        .await
        .unwrap();
    Admin::open(store.clone(), "operator")
        .await
        .unwrap()
        .acl_grant(Service::SubEnroll, ADMINS_GROUP, &["subenroll".into()])
        .await
        .unwrap();
    let root = RootRole::new(Arc::new(
        Cluster::open(store, &secret, options("root"))
            .await
            .unwrap(),
    ))
    .unwrap();
    let plan = EnrollmentPlan::new("lic-1", "https://lic.example", 2048).unwrap();
    let chain = root
        .sub_enroll(Some(&made.admin.token), plan.request_pem().as_bytes())
        .await
        .unwrap();
    let lic_store = Store::open_sqlite(&dir.path().join("lic.db"))
        .await
        .unwrap();
    let lic_secret = ClusterSecret::generate().unwrap();
    plan.complete(
        &lic_store,
        &lic_secret,
        &chain.to_pem().unwrap(),
        &made.authority_pem,
        &options("lic"),
    )
    .await
    .unwrap();
    let licensing = Arc::new(
        Cluster::open(lic_store, &lic_secret, options("lic"))
            .await
            .unwrap(),
    );
    let metrics = Arc::new(Metrics::new());
    let server = serve(
        ServerConfig::plain("127.0.0.1:0".parse().unwrap()),
        root_router(root.clone(), metrics.clone()),
        metrics,
    )
    .await
    .unwrap();
    Setup {
        _dir: dir,
        clock,
        root,
        server,
        licensing,
    }
}

fn api(server: &RunningServer) -> ApiClient {
    ApiClient::new(Client::new(&server.url(), ClientOptions::default()).unwrap())
}

fn refusal(result: Result<impl std::fmt::Debug, TransportError>) -> (StatusCode, String) {
    match result {
        Err(TransportError::Api(e)) => (e.status, e.code),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn renewal_when_due_and_revocation_over_http() {
    let s = setup().await;
    let api = api(&s.server);
    let first = serial_hex(s.licensing.chain().leaf());
    let end = s.licensing.slc_validity().not_after();

    assert_eq!(
        renew_if_due(&api, &s.licensing, false, 2048).await.unwrap(),
        None
    );
    s.clock.set(end - Duration::days(12));
    let renewed = renew_if_due(&api, &s.licensing, false, 2048)
        .await
        .unwrap()
        .expect("due inside the window");
    assert!(renewed.not_after() > end);
    let second = serial_hex(s.licensing.chain().leaf());
    assert_ne!(second, first);
    assert_eq!(
        renew_if_due(&api, &s.licensing, false, 2048).await.unwrap(),
        None
    );

    assert_eq!(
        refusal(api.renew("not a renewal request").await),
        (StatusCode::BAD_REQUEST, "malformed_renewal".into())
    );

    // Revoke the renewed SLC: the CRL lists it, and its renewal is refused.
    s.root
        .revoke(
            "operator",
            &second,
            rms_cert::RevocationReason::KeyCompromise,
            None,
        )
        .await
        .unwrap();
    let crl = api.crl().await.unwrap();
    let listed: Vec<String> = crl.entries().iter().map(|e| e.serial.to_string()).collect();
    assert_eq!(listed, vec![second.clone()]);
    assert_eq!(
        crl.issuer(),
        s.root.cluster().chain().leaf().tbs_certificate().subject()
    );
    let renewed_end = s.licensing.slc_validity().not_after();
    s.clock.set(renewed_end - Duration::days(1));
    let plan = RenewalPlan::new(&s.licensing, false, 2048).unwrap();
    assert_eq!(
        refusal(api.renew(&plan.request_pem().unwrap()).await),
        (StatusCode::UNPROCESSABLE_ENTITY, "slc_revoked".into())
    );
    s.server.shutdown().await;
}

//! The root's API over HTTP, in one process on a clock the test moves: `Cluster::renew_if_due` does
//! nothing before the renewal window and renews inside it; the root's renewal endpoint refuses
//! malformed, unknown and revoked requests with their statuses, and checks its DACL first; the
//! CRL endpoint serves a DER CRL listing what was revoked; endpoints that need a token refuse a
//! missing or unknown one before they look at the body.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use rms_roles::store::Store;
use rms_roles::*;
use rms_transport::api::{ApiClient, root_router};
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
    root_admin: Admin,
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
    let root_admin = Admin::open(store.clone(), "operator").await.unwrap();
    root_admin
        .acl_grant(Service::SubEnroll, ADMINS_GROUP, None)
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
        .sub_enroll(
            &RequestContext::bearer(&made.admin.token),
            plan.request_pem().as_bytes(),
        )
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
        root_admin,
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
        s.licensing.renew_if_due(&api, false, 2048).await.unwrap(),
        None
    );
    s.clock.set(end - Duration::days(12));
    let renewed = s
        .licensing
        .renew_if_due(&api, false, 2048)
        .await
        .unwrap()
        .expect("due inside the window");
    assert!(renewed.not_after() > end);
    let second = serial_hex(s.licensing.chain().leaf());
    assert_ne!(second, first);
    assert_eq!(
        s.licensing.renew_if_due(&api, false, 2048).await.unwrap(),
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
            cert::RevocationReason::KeyCompromise,
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

/// Sends `body` to `path` with `token` (if any) and returns the status and error code.
async fn post_raw(
    server: &RunningServer,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: &str,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    let auth = token
        .map(|t| format!("authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: {content_type}\r\n{auth}content-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status = answer[9..12].parse().unwrap();
    let code = answer
        .split("\"code\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("")
        .to_owned();
    (status, code)
}

#[tokio::test]
async fn a_missing_or_unknown_token_is_refused_whatever_the_body() {
    let s = setup().await;
    for (token, body, content_type) in [
        (None, r#"{"request":"x"}"#, "application/json"),
        (None, "not json", "text/plain"),
        (Some("rms_unknown"), "{}", "application/json"),
        (Some("rms_unknown"), "\u{0}", "application/x-nonsense"),
    ] {
        let (status, code) = post_raw(
            &s.server,
            "/certification/subenroll",
            token,
            content_type,
            body,
        )
        .await;
        assert_eq!(
            (status, code.as_str()),
            (401, "unauthorized"),
            "{token:?} {body:?}"
        );
    }
    // Too large comes first: the body was never going to be read.
    let big = "x".repeat(70 * 1024);
    let (status, _) = post_raw(
        &s.server,
        "/certification/subenroll",
        None,
        "application/json",
        &big,
    )
    .await;
    assert_eq!(status, 413);
    s.server.shutdown().await;
}

#[tokio::test]
async fn renewal_checks_its_dacl_first_and_refusals_cannot_flood_the_audit_log() {
    let s = setup().await;
    let store = s.root.cluster().store().clone();
    let before = store.audit_log(None, 100_000).await.unwrap().len();
    // Anonymous requests whose bodies are not renewals: 400 each.
    for _ in 0..200 {
        let (status, code) = post_raw(
            &s.server,
            "/certification/renew",
            None,
            "application/json",
            r#"{"request_pem":"x"}"#,
        )
        .await;
        assert_eq!((status, code.as_str()), (400, "malformed_renewal"));
    }
    // Closed to everyone: 403 before the body is read, whatever it is.
    s.root_admin
        .acl_set(Service::Renewal, "O:SYG:SYD:P")
        .await
        .unwrap();
    for body in [r#"{"request_pem":"x"}"#, "garbage"] {
        for _ in 0..100 {
            let (status, code) = post_raw(
                &s.server,
                "/certification/renew",
                None,
                "application/json",
                body,
            )
            .await;
            assert_eq!((status, code.as_str()), (403, "forbidden"));
        }
    }
    let written: Vec<_> = store
        .audit_log(None, 100_000)
        .await
        .unwrap()
        .into_iter()
        .skip(before)
        .filter(|e| e.entry.service == "RenewalService")
        .collect();
    // One row for the DACL change, at most a burst of refusal rows from this peer.
    assert!(written.len() <= 12, "{} rows: {written:#?}", written.len());
    assert!(
        written
            .iter()
            .filter(|e| e.entry.outcome == store::Outcome::Denied)
            .all(|e| e.entry.peer.as_deref() == Some("127.0.0.1") && e.entry.request_id.is_some()),
        "{written:#?}"
    );
    // What was left out is summed up in one row.
    assert_eq!(s.root.cluster().flush_refusals().await.unwrap(), 1);
    let summary = store.audit_log(None, 100_000).await.unwrap();
    let last = &summary.last().unwrap().entry;
    assert!(
        last.reason
            .contains("refusals from this source were not written"),
        "{last:?}"
    );
    s.server.shutdown().await;
}

//! Requests handed to the routes of a real root and a real licensing server (in memory, on
//! SQLite in a temporary directory), as the server does once a body is read. Whatever the
//! request, the answer is never a 500: a client's mistake is never our fault.
#![no_main]

use std::sync::{Arc, OnceLock};

use hyper::header::{self, HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use rms_roles::{
    ADMINS_GROUP, Admin, Cluster, ClusterSecret, EnrollmentPlan, LicensingRole, NodeOptions,
    RequestContext, RootInit, RootRole, Service, ServiceRight, init_root,
};
use rms_store::Store;
use rms_transport::api::{licensing_router, root_router};
use rms_transport::{Method, Metrics, Request, Router, StatusCode};

struct World {
    runtime: tokio::runtime::Runtime,
    root: Router,
    licensing: Router,
    root_token: String,
    licensing_token: String,
    _dir: tempfile::TempDir,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        let (root, licensing, root_token, licensing_token) = runtime.block_on(async {
            let store = Store::open_sqlite(&dir.path().join("root.db")).await.expect("store");
            let secret = ClusterSecret::generate().expect("secret");
            let init = RootInit {
                name: "root-1".into(),
                url: "https://root.example".into(),
                authority_name: "CN=Fuzz Authority".into(),
                key_bits: 2048,
            };
            let options = NodeOptions::default();
            let made = init_root(&store, &secret, &init, &options).await.expect("init");
            Admin::open(store.clone(), "fuzz")
                .await
                .expect("admin")
                .acl_grant(Service::SubEnroll, ADMINS_GROUP, Some(ServiceRight::SubEnroll.mask()))
                .await
                .expect("grant");
            let root = RootRole::new(Arc::new(
                Cluster::open(store, &secret, options.clone()).await.expect("open"),
            ))
            .expect("root");
            let plan = EnrollmentPlan::new("lic-1", "https://lic.example", 2048).expect("plan");
            let chain = root
                .sub_enroll(&RequestContext::bearer(&made.admin.token), plan.request_pem().as_bytes())
                .await
                .expect("sub-enroll");
            let lic_store = Store::open_sqlite(&dir.path().join("lic.db")).await.expect("store");
            let lic_secret = ClusterSecret::generate().expect("secret");
            let creds = plan
                .complete(&lic_store, &lic_secret, &chain.to_pem().expect("pem"), &made.authority_pem, &options)
                .await
                .expect("enroll");
            let licensing = LicensingRole::new(Arc::new(
                Cluster::open(lic_store, &lic_secret, options).await.expect("open"),
            ))
            .expect("licensing");
            let metrics = Arc::new(Metrics::new());
            (
                root_router(root, metrics.clone()),
                licensing_router(licensing, metrics),
                made.admin.token,
                creds.token,
            )
        });
        World {
            runtime,
            root,
            licensing,
            root_token,
            licensing_token,
            _dir: dir,
        }
    })
}

const PATHS: [&str; 9] = [
    "/certification/subenroll",
    "/certification/renew",
    "/certification/crl",
    "/certification/chain",
    "/healthz",
    "/metrics",
    "/licensing/publish",
    "/licensing/uselicense",
    "/no/such/path",
];
const CONTENT_TYPES: [&str; 4] = [
    "application/json",
    "application/json; charset=utf-16",
    "text/plain",
    "",
];

fuzz_target!(|data: &[u8]| {
    let [server, path, method, token, content_type, body @ ..] = data else {
        return;
    };
    let world = world();
    let (router, good_token) = match server % 2 {
        0 => (&world.root, &world.root_token),
        _ => (&world.licensing, &world.licensing_token),
    };
    let method = match method % 4 {
        0 => Method::GET,
        1 => Method::POST,
        2 => Method::HEAD,
        _ => Method::PUT,
    };
    let mut headers = HeaderMap::new();
    let token = match token % 3 {
        0 => None,
        1 => Some(good_token.as_str()),
        _ => Some("rms_not_a_token"),
    };
    if let Some(token) = token
        && let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}"))
    {
        headers.insert(header::AUTHORIZATION, value);
    }
    let content_type = CONTENT_TYPES[usize::from(*content_type) % CONTENT_TYPES.len()];
    if !content_type.is_empty() {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    let request = Request {
        method,
        path: PATHS[usize::from(*path) % PATHS.len()].to_owned(),
        query: None,
        headers,
        body: bytes::Bytes::copy_from_slice(body),
        peer: Some("192.0.2.1:40000".parse().expect("address")),
        request_id: "fuzz".to_owned(),
        client_certificate: None,
    };
    let response = world.runtime.block_on(router.respond(request));
    assert_ne!(
        response.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{:?}",
        String::from_utf8_lossy(&response.body)
    );
});

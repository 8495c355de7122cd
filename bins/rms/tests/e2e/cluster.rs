//! A licensing cluster of several nodes (separate processes) on one PostgreSQL database: nodes
//! that join without enrolling, load spread across them, a DACL change seen by every node at
//! once, a node killed mid-load, and the database taken away mid-load.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rms_transport::api::ApiClient;
use rms_transport::{StatusCode, TransportError};

use crate::harness::*;
use crate::pg_cluster::*;
use crate::postgres;

#[test]
fn three_nodes_share_one_database() {
    let Some(base) = postgres::base_url() else {
        return;
    };
    let schema = postgres::Schema::create(&base);
    let mut cluster = Cluster::enroll(&schema.url);
    let first = cluster.first.clone();
    assert!(
        first.join("node.json").is_file(),
        "enroll --database remembers the database"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in ["node.json", "cluster-secret"] {
            let mode = std::fs::metadata(first.join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{file} is private to its owner");
        }
    }

    // A wrong secret: join refuses, and so does serve on a node given the wrong secret.
    let wrong = cluster.work.join("wrong-secret");
    std::fs::write(&wrong, "rms-secret-not-the-right-one-0123456789abcdef\n").unwrap();
    let refused = fails(
        LICENSING,
        &[
            "join",
            "--data-dir",
            s(&cluster.dir.path().join("bad")),
            "--database",
            &cluster.database,
            "--secret-file",
            s(&wrong),
        ],
        None,
    );
    assert!(refused.contains("does not decrypt"), "{refused}");
    assert!(
        !cluster.dir.path().join("bad").join("node.json").exists(),
        "a refused join leaves nothing"
    );
    let second = cluster.join("lic-2");
    let third = cluster.join("lic-3");
    let refused = fails(
        LICENSING,
        &[
            "serve",
            "--data-dir",
            s(&second),
            "--listen",
            "127.0.0.1:0",
            "--secret-file",
            s(&wrong),
        ],
        None,
    );
    assert!(refused.contains("does not decrypt"), "{refused}");
    let refused = fails(
        LICENSING,
        &[
            "join",
            "--data-dir",
            s(&second),
            "--database",
            &cluster.database,
            "--secret-file",
            s(&wrong),
        ],
        None,
    );
    assert!(refused.contains("already belongs to a node"), "{refused}");

    for dir in [&first, &second, &third] {
        cluster.serve(dir);
    }
    // The same chain on every node: joining copied nothing but the database's.
    let chains: BTreeSet<String> = cluster
        .nodes
        .iter()
        .map(|n| rt().block_on(n.api(None).chain()).unwrap())
        .collect();
    assert_eq!(chains.len(), 1, "every node serves the cluster's chain");
    let status = ok(LICENSING, &["status", "--data-dir", s(&second)], None);
    assert!(
        status.contains("nodes seen in the last 5 minutes: 3"),
        "{status}"
    );

    // 1,000 use licenses spread over the three nodes, concurrently.
    let (alice, body) = cluster.alice_request();
    let apis: Vec<ApiClient> = cluster.nodes.iter().map(|n| n.api(Some(&alice))).collect();
    let started = Instant::now();
    let outcomes = load(&apis, &body, 1000, 24, |_| {});
    eprintln!("1000 use licenses over 3 nodes in {:?}", started.elapsed());
    assert!(
        outcomes.other.is_empty() && outcomes.unavailable == 0 && outcomes.unreachable == 0,
        "failures: {:?}",
        &outcomes.other[..outcomes.other.len().min(5)]
    );
    let answered = check_licenses(&cluster.verifier(), &outcomes.licenses);
    assert_eq!(answered.len(), 1000);
    let recorded: BTreeSet<String> = unique(cluster.recorded());
    assert_eq!(
        recorded, answered,
        "exactly the licenses answered are recorded"
    );

    // A DACL change made through node 1's data directory binds node 3 at once.
    ok(
        LICENSING,
        &[
            "acl",
            "deny",
            "LicensingService",
            "alice",
            "issue-use-license",
            "--data-dir",
            s(&first),
        ],
        None,
    );
    let refused = rt().block_on(apis[2].use_license(&body)).unwrap_err();
    assert!(
        matches!(&refused, TransportError::Api(e) if e.status == StatusCode::FORBIDDEN),
        "{refused}"
    );
    ok(
        LICENSING,
        &[
            "acl",
            "revoke",
            "LicensingService",
            "alice",
            "--data-dir",
            s(&third),
        ],
        None,
    );
    rt().block_on(apis[1].use_license(&body)).unwrap();

    // Node 3 killed with SIGKILL in the middle of the load: the others keep serving, and
    // every license a client received is recorded.
    let before: BTreeSet<String> = cluster.recorded().into_iter().collect();
    let kill_now = Arc::new(AtomicBool::new(false));
    let victim = &mut cluster.nodes[2];
    let outcomes = std::thread::scope(|scope| {
        let signal = kill_now.clone();
        let killer = scope.spawn(move || {
            while !signal.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(5));
            }
            victim.kill();
        });
        let trigger = kill_now.clone();
        let outcomes = load(&apis, &body, 300, 12, move |n| {
            if n == 100 {
                trigger.store(true, Ordering::SeqCst);
            }
        });
        killer.join().unwrap();
        outcomes
    });
    assert!(
        outcomes.other.is_empty(),
        "unexpected failures: {:?}",
        outcomes.other
    );
    assert!(
        outcomes.unreachable > 0,
        "requests to the killed node failed"
    );
    assert!(
        outcomes.licenses.len() >= 200,
        "the other nodes kept serving: {}",
        outcomes.licenses.len()
    );
    let received = check_licenses(&cluster.verifier(), &outcomes.licenses);
    let recorded: BTreeSet<String> = cluster.recorded().into_iter().collect();
    let new: BTreeSet<String> = recorded.difference(&before).cloned().collect();
    assert!(
        received.is_subset(&new),
        "every license received is recorded"
    );
    for api in &apis[..2] {
        rt().block_on(api.use_license(&body)).unwrap();
    }
}

#[test]
fn a_database_outage_is_503_and_service_resumes() {
    let Some(base) = postgres::base_url() else {
        return;
    };
    let schema = postgres::Schema::create(&base);
    let proxy = postgres::Proxy::start(&schema.url);
    let mut cluster = Cluster::enroll(&proxy.url(&schema.url));
    let first = cluster.first.clone();
    cluster.serve(&first);
    let (alice, body) = cluster.alice_request();
    let api = cluster.nodes[0].api(Some(&alice));
    let apis = vec![api.clone()];

    // Cut the database after 50 answers, give it back once 503s have been seen for a while.
    let proxy = Arc::new(proxy);
    let cutter = proxy.clone();
    let outcomes = load(&apis, &body, 150, 6, move |n| {
        if n == 50 {
            cutter.cut();
        }
    });
    // Every request after the cut answered 503 (store unavailable), none failed otherwise.
    outcomes.assert_outage_answered_503();
    let health = rt().block_on(cluster.nodes[0].api(None).health());
    match health {
        Err(TransportError::Api(e)) => {
            assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        }
        other => panic!("/healthz during the outage: {other:?}"),
    }

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match rt().block_on(api.use_license(&body)) {
            Ok(_) => break,
            Err(e) if Instant::now() < deadline => {
                eprintln!("not yet resumed: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("service did not resume within 30 s: {e}"),
        }
    }
    let healthy = rt().block_on(cluster.nodes[0].api(None).health()).unwrap();
    assert_eq!(healthy.status, "ok");

    // Nothing half-written: every record has its audit entry (checked by `recorded`), and
    // every license a client received is recorded.
    let received = check_licenses(&cluster.verifier(), &outcomes.licenses);
    let recorded: BTreeSet<String> = cluster.recorded().into_iter().collect();
    assert!(received.is_subset(&recorded));
}

#[test]
fn root_clusters_join_too_and_roles_do_not_mix() {
    let Some(base) = postgres::base_url() else {
        return;
    };
    let schema = postgres::Schema::create(&base);
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("root-1");
    let out = ok(
        ROOT,
        &[
            "init",
            "--data-dir",
            s(&first),
            "--name",
            "root-pg",
            "--key-bits",
            "2048",
            "--database",
            &schema.url,
        ],
        None,
    );
    assert!(out.contains("root certification cluster created"), "{out}");
    let secret = first.join("cluster-secret");
    let second = dir.path().join("root-2");
    let out = ok(
        ROOT,
        &[
            "join",
            "--data-dir",
            s(&second),
            "--database",
            &schema.url,
            "--secret-file",
            s(&secret),
        ],
        None,
    );
    assert!(out.contains("joined root cluster root-pg"), "{out}");
    // The joined node needs no --database any more: node.json remembers it.
    let status = ok(ROOT, &["status", "--data-dir", s(&second)], None);
    assert!(
        status.contains("root-pg") && status.contains("Postgres"),
        "{status}"
    );
    assert_eq!(
        ok(ROOT, &["chain", "--data-dir", s(&second)], None),
        ok(ROOT, &["chain", "--data-dir", s(&first)], None),
        "both nodes hold the same chain"
    );
    let refused = fails(
        LICENSING,
        &[
            "join",
            "--data-dir",
            s(&dir.path().join("lic")),
            "--database",
            &schema.url,
            "--secret-file",
            s(&secret),
        ],
        None,
    );
    assert!(refused.contains("holds a root cluster"), "{refused}");
    let refused = fails(
        ROOT,
        &[
            "join",
            "--data-dir",
            s(&dir.path().join("root-3")),
            "--database",
            &schema.url,
        ],
        None,
    );
    assert!(refused.contains("cluster secret"), "{refused}");
}

#[test]
fn a_revoked_document_is_refused_on_every_node_at_once() {
    let Some(base) = postgres::base_url() else {
        return;
    };
    let schema = postgres::Schema::create(&base);
    let mut cluster = Cluster::enroll(&schema.url);
    let first = cluster.first.clone();
    let second = cluster.join("lic-2");
    cluster.serve(&first);
    cluster.serve(&second);
    let (alice, body) = cluster.alice_request();
    let apis: Vec<ApiClient> = cluster.nodes.iter().map(|n| n.api(Some(&alice))).collect();
    for api in &apis {
        rt().block_on(api.use_license(&body)).unwrap();
    }

    // Revoked through the second node's data directory: both nodes refuse the next request.
    let revoked = ok(
        LICENSING,
        &[
            "content",
            "revoke",
            "doc-1",
            "--reason",
            "withdrawn",
            "--data-dir",
            s(&second),
        ],
        None,
    );
    assert!(revoked.contains("access to doc-1 revoked at "), "{revoked}");
    for (i, api) in apis.iter().enumerate() {
        match rt().block_on(api.use_license(&body)) {
            Err(TransportError::Api(e)) => {
                assert_eq!(
                    e.status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "node {i}: {e:?}"
                );
                assert_eq!(e.code, "content_revoked", "node {i}: {e:?}");
                assert!(e.message.contains("withdrawn"), "node {i}: {e:?}");
            }
            other => panic!("node {}: a revoked document got {other:?}", i + 1),
        }
    }

    // Either node serves the signed list, and it names the document.
    let anchor = std::fs::read_to_string(&cluster.anchor).unwrap();
    let authority = rms_roles::client::Authority::from_pem(&anchor).unwrap();
    for api in &apis {
        let der = rt().block_on(api.revocation_list()).unwrap();
        let list = authority
            .verify_revocation_list(&der, time::OffsetDateTime::now_utc(), false)
            .unwrap();
        let entry = list.content_revocation("doc-1").expect("doc-1 is listed");
        assert_eq!(entry.reason(), "withdrawn");
    }
    // Without a token the list is refused.
    let refused = rt()
        .block_on(cluster.nodes[0].api(None).revocation_list())
        .unwrap_err();
    assert!(
        matches!(&refused, TransportError::Api(e) if e.status == StatusCode::UNAUTHORIZED),
        "{refused}"
    );
}

#[test]
fn a_revoked_token_or_a_disabled_principal_is_refused_by_every_node_at_once() {
    let Some(base) = postgres::base_url() else {
        return;
    };
    let schema = postgres::Schema::create(&base);
    let mut cluster = Cluster::enroll(&schema.url);
    let first = cluster.first.clone();
    let second = cluster.join("lic-2");
    cluster.serve(&first);
    cluster.serve(&second);
    let (alice, body) = cluster.alice_request();
    let issued = ok(
        LICENSING,
        &[
            "token",
            "issue",
            "alice",
            "--expires",
            "90d",
            "--data-dir",
            s(&first),
        ],
        None,
    );
    assert!(
        issued.contains("token ") && issued.contains(", expires "),
        "{issued}"
    );
    let spare = token_in(&issued);
    let listed = ok(
        LICENSING,
        &[
            "token",
            "list",
            "--principal",
            "alice",
            "--json",
            "--data-dir",
            s(&second),
        ],
        None,
    );
    let tokens: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let tokens = tokens.as_array().unwrap();
    assert_eq!(tokens.len(), 2, "{listed}");
    assert!(
        !listed.contains(&alice) && !listed.contains(&spare),
        "{listed}"
    );
    let spare_id = tokens
        .iter()
        .find(|t| t["expires_at"].is_string())
        .and_then(|t| t["id"].as_str())
        .unwrap()
        .to_owned();
    let first_id = tokens
        .iter()
        .find(|t| t["expires_at"].is_null())
        .and_then(|t| t["id"].as_str())
        .unwrap()
        .to_owned();

    // Both tokens work on both nodes (and each node caches the caller).
    for node in &cluster.nodes {
        for token in [&alice, &spare] {
            rt().block_on(node.api(Some(token)).use_license(&body))
                .unwrap();
        }
    }
    let refused_everywhere = |token: &str, why: &str| {
        for (i, node) in cluster.nodes.iter().enumerate() {
            match rt().block_on(node.api(Some(token)).use_license(&body)) {
                Err(TransportError::Api(e)) => {
                    assert_eq!(e.status, StatusCode::UNAUTHORIZED, "node {}: {e:?}", i + 1);
                    assert!(e.message.contains(why), "node {}: {e:?}", i + 1);
                }
                other => panic!("node {}: {other:?}", i + 1),
            }
        }
    };

    // Revoked through the first node's directory: both nodes refuse it on the next request.
    let revoked = ok(
        LICENSING,
        &["token", "revoke", &first_id, "--data-dir", s(&first)],
        None,
    );
    assert!(
        revoked.contains(&format!("token {first_id} of alice revoked")),
        "{revoked}"
    );
    refused_everywhere(&alice, "unknown bearer token");
    for node in &cluster.nodes {
        rt().block_on(node.api(Some(&spare)).use_license(&body))
            .unwrap();
    }

    // Disabled: every token of hers is refused; enabled again, the spare works again.
    ok(
        LICENSING,
        &["principal", "disable", "alice", "--data-dir", s(&second)],
        None,
    );
    refused_everywhere(&spare, "alice is disabled");
    let listed = ok(
        LICENSING,
        &["principal", "list", "--json", "--data-dir", s(&first)],
        None,
    );
    let principals: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let entry = principals
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "alice")
        .unwrap();
    assert_eq!(entry["disabled"], true, "{listed}");
    ok(
        LICENSING,
        &["principal", "enable", "alice", "--data-dir", s(&second)],
        None,
    );
    for node in &cluster.nodes {
        rt().block_on(node.api(Some(&spare)).use_license(&body))
            .unwrap();
    }
    let audit = audit(LICENSING, &first);
    for action in [
        "token issue",
        "token revoke",
        "principal disable",
        "principal enable",
    ] {
        assert!(audit.contains(action), "{action} is audited:\n{audit}");
    }
    assert!(audit.contains(&spare_id), "{audit}");
}

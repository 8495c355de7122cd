//! `/metrics` and `/healthz` of the licensing server after a flow: issuances, requests by
//! status, denials; health says ok.

use crate::harness::*;

#[test]
fn metrics_and_health_after_the_flow() {
    let d = Deployment::start();
    let alice = d.lic_principal("alice");
    let bob = d.lic_principal("bob");
    let carol = d.lic_principal("carol");
    ok(
        LICENSING,
        &[
            "acl",
            "deny",
            "LicensingService",
            "carol",
            "--data-dir",
            s(&d.lic_dir),
        ],
        None,
    );
    let (alice_key, _) = d.keygen("alice");
    let pl = d.publish("doc-1", &["alice:view", "carol:view"]);
    for i in 0..2 {
        let ul = d.file(&format!("alice-{i}.ul.pem"));
        ok(
            CLIENT,
            &d.uselicense_args(&pl, &alice_key, &ul),
            Some(&alice),
        );
    }
    // bob: not in the policy (422); carol: in the policy but denied by the DACL (403).
    let ul = d.file("refused.ul.pem");
    fails(CLIENT, &d.uselicense_args(&pl, &alice_key, &ul), Some(&bob));
    let stderr = fails(
        CLIENT,
        &d.uselicense_args(&pl, &alice_key, &ul),
        Some(&carol),
    );
    assert!(stderr.contains("403"), "{stderr}");

    let metrics = rt()
        .block_on(d.lic.client(None).get_text("/metrics"))
        .unwrap();
    for line in [
        "# TYPE rms_issued_total counter",
        "rms_issued_total{kind=\"use-license\"} 2",
        "rms_issued_total{kind=\"publishing-license\"} 1",
        "# TYPE rms_http_requests_total counter",
        "rms_http_requests_total{route=\"/licensing/uselicense\",method=\"POST\",status=\"200\"} 2",
        "rms_http_requests_total{route=\"/licensing/uselicense\",method=\"POST\",status=\"422\"} 1",
        "rms_http_requests_total{route=\"/licensing/uselicense\",method=\"POST\",status=\"403\"} 1",
        "rms_http_requests_total{route=\"/licensing/publish\",method=\"POST\",status=\"200\"} 1",
        "rms_access_denied_total{service=\"LicensingService\"} 1",
        "# TYPE rms_http_request_duration_seconds histogram",
        "rms_http_request_duration_seconds_count{route=\"/licensing/uselicense\"} 4",
        "rms_http_request_duration_seconds_bucket{route=\"/licensing/uselicense\",le=\"+Inf\"} 4",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "/metrics lacks {line:?}:\n{metrics}"
        );
    }
    // The root counted the sub-enrollment.
    let root_metrics = rt()
        .block_on(d.root.client(None).get_text("/metrics"))
        .unwrap();
    assert!(
        root_metrics
            .lines()
            .any(|l| l == "rms_issued_total{kind=\"slc\"} 1"),
        "{root_metrics}"
    );

    let health = rt().block_on(d.lic.api(None).health()).unwrap();
    assert_eq!(health.status, "ok");
    assert_eq!(health.role, "licensing");
    assert_eq!(health.cluster, "lic-1");
    assert!(health.problems.is_empty(), "{:?}", health.problems);
    assert!(
        (360..=366).contains(&health.slc_days_left),
        "a fresh one-year SLC: {}",
        health.slc_days_left
    );
    let raw: serde_json::Value = rt()
        .block_on(d.lic.client(None).get_json("/healthz"))
        .unwrap();
    assert_eq!(raw["status"], "ok", "{raw}");
    let root_health = rt().block_on(d.root.api(None).health()).unwrap();
    assert_eq!(
        (root_health.status.as_str(), root_health.role.as_str()),
        ("ok", "root")
    );
}

//! A node's health follows the cluster's SLC at once: an idle node (no request since) that
//! reported the renewal warning reports the renewed SLC right after a renewal made elsewhere
//! (the command line, another node), for licensing clusters and roots alike; past the grace
//! period it says that only a new enrollment helps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)] // the helpers other test binaries use
mod common;

use common::*;
use rms_roles::*;
use rms_store::Store;
use time::Duration;

/// Another node of the cluster whose database is `file` in the world's directory.
async fn idle_node(w: &World, file: &str, secret: &ClusterSecret, name: &str) -> Cluster {
    let store = Store::open_sqlite(&w.dir.path().join(file)).await.unwrap();
    Cluster::open(store, secret, options(&w.clock, name))
        .await
        .unwrap()
}

#[tokio::test]
async fn an_idle_licensing_node_reports_a_renewal_at_once() {
    let w = world().await;
    let idle = idle_node(&w, "licensing.db", &w.licensing_secret, "lic-idle").await;
    let cluster = w.licensing.cluster();
    w.clock
        .set(cluster.slc_validity().not_after() - Duration::days(10));
    let before = idle.health().await;
    assert!(before.is_healthy(), "{before:?}");
    assert!(
        before.warnings.iter().any(|w| w.contains("renew it")),
        "{before:?}"
    );

    // Renewed by another node (as `rms-licensing renew` does from the command line).
    let plan = RenewalPlan::new(cluster, false, 2048).unwrap();
    let chain = w
        .root
        .renew(
            &RequestContext::anonymous(),
            plan.request_pem().unwrap().as_bytes(),
        )
        .await
        .unwrap();
    plan.complete(cluster, &chain.to_pem().unwrap())
        .await
        .unwrap();
    let renewed = serial_hex(cluster.chain().leaf());

    let after = idle.health().await;
    assert_eq!(after.slc_serial, renewed, "{after:?}");
    assert!(after.warnings.is_empty(), "{after:?}");
    assert!(after.slc_days_left > 300, "{after:?}");
}

#[tokio::test]
async fn an_idle_root_node_reports_a_rekey_at_once() {
    let w = world().await;
    let idle = idle_node(&w, "root.db", &w.root_secret, "root-idle").await;
    let root = w.root.cluster();
    w.clock
        .set(root.slc_validity().not_after() - Duration::days(5));
    let before = idle.health().await;
    assert!(
        before.warnings.iter().any(|w| w.contains("renew it")),
        "{before:?}"
    );

    // As `rms-root renew --rekey` does.
    renew_root_with_authority(
        &w.root,
        &w.authority_pem,
        &w.authority_key_pem,
        w.root_secret.passphrase(),
        true,
        2048,
    )
    .await
    .unwrap();

    let after = idle.health().await;
    assert_eq!(
        after.slc_serial,
        serial_hex(root.chain().leaf()),
        "{after:?}"
    );
    assert!(after.warnings.is_empty(), "{after:?}");
    assert!(after.is_healthy(), "{after:?}");
}

#[tokio::test]
async fn past_the_grace_period_only_a_new_enrollment_is_suggested() {
    let w = world().await;
    let cluster = w.licensing.cluster();
    let end = cluster.slc_validity().not_after();

    w.clock.set(end + Duration::days(10));
    let in_grace = cluster.health().await;
    assert!(!in_grace.is_healthy());
    assert!(
        in_grace
            .problems
            .iter()
            .any(|p| p.contains("renew it before")),
        "{in_grace:?}"
    );

    w.clock.set(end + Duration::days(31));
    let beyond = cluster.health().await;
    assert!(!beyond.is_healthy());
    let said = [beyond.problems.clone(), beyond.warnings.clone()].concat();
    assert!(
        said.iter().any(|p| p.contains("only a new enrollment")),
        "{beyond:?}"
    );
    assert!(
        !said.iter().any(|p| p.contains("renew it")),
        "nothing suggests a renewal that would be refused: {beyond:?}"
    );
    assert!(renewal_warning(cluster, w.clock.now()).is_none());
}

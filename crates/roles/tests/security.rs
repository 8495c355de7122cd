//! Regression tests of the security review: a licensing cluster honours only its own publishing
//! licenses, and remembers nothing for a request it refuses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::*;
use rms_cert::{
    Grant, Issuer, LicenseBody, LicenseKind, RsaSigner, SignedLicense, UsageRight, UsageRights,
};
use rms_roles::*;

/// The body of `license` with its serial number replaced by `serial` (same length).
fn with_serial(license: &SignedLicense, serial: &[u8]) -> LicenseBody {
    let LicenseBody::Publishing(body) = license.body() else {
        panic!("not a publishing license")
    };
    let own = body.serial().as_bytes();
    assert_eq!(own.len(), serial.len(), "serials of one length");
    let mut der = license.body().to_der().unwrap();
    let at = der
        .windows(own.len())
        .position(|w| w == own)
        .expect("the serial is in the body");
    der[at..at + own.len()].copy_from_slice(serial);
    LicenseBody::from_der(LicenseKind::Publishing, &der).unwrap()
}

/// The attack of the review: a user of cluster A who controls the SLC key of cluster B (same
/// enrollment authority) asks A for a use license of a genuine publishing license they are not
/// granted, then presents a forgery with the same serial, signed by B, granting themselves.
#[tokio::test]
async fn a_forged_publishing_license_from_another_cluster_gets_no_content_key() {
    let w = world().await;
    let (_, mallory_token) = w
        .licensing_admin
        .add_principal("mallory", &[])
        .await
        .unwrap();
    w.licensing_admin.add_principal("bob", &[]).await.unwrap();
    let view = UsageRights::from_rights([UsageRight::View]);
    let secret_key = vec![0x5a; 32];
    let (genuine, _) = publish_on(
        &w.licensing,
        &w.licensing_token,
        vec![Grant::new("bob", view).unwrap()],
        secret_key.clone(),
    )
    .await;
    let LicenseBody::Publishing(genuine_body) = genuine.body() else {
        panic!("not a publishing license")
    };
    let mallory_key = RsaSigner::generate(2048).unwrap();
    let mallory_spki = rms_cert::Signer::public_key(&mallory_key);

    // 1. Refused, and nothing about the genuine license is remembered.
    let refused = w
        .licensing
        .use_license_pem(
            &RequestContext::bearer(&mallory_token),
            &genuine.to_pem().unwrap(),
            mallory_spki.clone(),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "not_granted", "{refused}");
    let stats = w.licensing.cache_stats();
    assert_eq!(
        (stats.verified_licenses, stats.content_keys),
        (0, 0),
        "a refused request fills no cache"
    );

    // 2. Cluster B, under the same authority; Mallory holds its SLC key.
    let b = enroll_licensing(
        &w.dir,
        &w.clock,
        &w.root,
        &w.root_token,
        &w.authority_pem,
        "licensing-b",
    )
    .await;
    b.admin.add_principal("mallory", &[]).await.unwrap();
    let (b_license, _) = publish_on(
        &b.role,
        &b.token,
        vec![Grant::new("mallory", view).unwrap()],
        vec![1; 32],
    )
    .await;
    let b_issuer = Issuer::new(b.role.cluster().signer(), b.role.cluster().chain()).unwrap();
    let forged = b_issuer
        .sign_license(
            &with_serial(&b_license, genuine_body.serial().as_bytes()),
            w.clock.now(),
        )
        .unwrap();
    // The forgery verifies under the authority: only "who signed it" tells it apart.
    verifier(&w.authority_pem)
        .verify_license(&forged, &[], w.clock.now())
        .unwrap();

    // 3. Presented to A, it is refused for what it is, and audited as a refusal.
    for attempt in [
        w.licensing
            .use_license_pem(
                &RequestContext::bearer(&mallory_token),
                &forged.to_pem().unwrap(),
                mallory_spki.clone(),
            )
            .await,
        w.licensing
            .use_license(
                &RequestContext::bearer(&mallory_token),
                &forged,
                mallory_spki.clone(),
            )
            .await,
    ] {
        let e = attempt.unwrap_err();
        assert_eq!(
            (e.class(), e.code()),
            (ErrorClass::Unprocessable, "foreign_publishing_license"),
            "{e}"
        );
    }
    let denied: Vec<_> = w
        .licensing
        .cluster()
        .store()
        .audit_log(None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.entry.principal == "mallory")
        .collect();
    assert_eq!(denied.len(), 3, "{denied:?}");
    assert!(
        denied
            .iter()
            .all(|e| e.entry.outcome == rms_store::Outcome::Denied),
        "{denied:?}"
    );
    assert_eq!(w.licensing.cache_stats().content_keys, 0);

    // B's own genuine license is as foreign to A as the forgery.
    let e = w
        .licensing
        .use_license(
            &RequestContext::bearer(&mallory_token),
            &b_license,
            mallory_spki,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "foreign_publishing_license", "{e}");
}

/// A publishing license of ours whose content key names another key is refused before any
/// private-key operation.
#[tokio::test]
async fn a_content_key_addressed_to_another_key_is_refused() {
    let w = world().await;
    let (_, alice_token) = w.licensing_admin.add_principal("alice", &[]).await.unwrap();
    let view = UsageRights::from_rights([UsageRight::View]);
    let (genuine, _) = publish_for(&w, vec![Grant::new("alice", view).unwrap()]).await;
    // Same signer, same policy, the content key wrapped to a stranger's key.
    let stranger = RsaSigner::generate(2048).unwrap();
    let wrapped =
        rms_cert::wrap_content_key(&rms_cert::Signer::public_key(&stranger), &[3; 32]).unwrap();
    let LicenseBody::Publishing(body) = genuine.body() else {
        panic!("not a publishing license")
    };
    let mut der = genuine.body().to_der().unwrap();
    let old = der::Encode::to_der(body.content_key()).unwrap();
    let new = der::Encode::to_der(&wrapped).unwrap();
    assert_eq!(old.len(), new.len());
    let at = der.windows(old.len()).position(|w| w == old).unwrap();
    der[at..at + old.len()].copy_from_slice(&new);
    let tampered = LicenseBody::from_der(LicenseKind::Publishing, &der).unwrap();
    let cluster = w.licensing.cluster();
    let issuer = Issuer::new(cluster.signer(), cluster.chain()).unwrap();
    let relabelled = issuer.sign_license(&tampered, w.clock.now()).unwrap();
    let alice_key = RsaSigner::generate(2048).unwrap();
    let e = w
        .licensing
        .use_license(
            &RequestContext::bearer(&alice_token),
            &relabelled,
            rms_cert::Signer::public_key(&alice_key),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "content_key_not_for_cluster", "{e}");
    assert_eq!(w.licensing.cache_stats().content_keys, 0);
    let _ = Arc::clone(cluster);
}

/// Refused requests with large publishing licenses leave the caches as they were; granted
/// ones fill them within their caps.
#[tokio::test]
async fn only_granted_requests_fill_the_caches() {
    let w = world().await;
    let (_, alice_token) = w.licensing_admin.add_principal("alice", &[]).await.unwrap();
    let (_, eve_token) = w.licensing_admin.add_principal("eve", &[]).await.unwrap();
    let view = UsageRights::from_rights([UsageRight::View]);
    // A policy padded with many grantees, none of them eve.
    let mut grants = vec![Grant::new("alice", view).unwrap()];
    for i in 0..300 {
        let name = format!("padding-principal-{i:04}");
        w.licensing_admin.add_group(&name).await.unwrap();
        grants.push(Grant::new(&name, view).unwrap());
    }
    let key = RsaSigner::generate(2048).unwrap();
    let spki = rms_cert::Signer::public_key(&key);
    let mut licenses = Vec::new();
    for i in 0..5u8 {
        let (license, _) = publish_on(
            &w.licensing,
            &w.licensing_token,
            grants.clone(),
            vec![i; 32],
        )
        .await;
        licenses.push(license.to_pem().unwrap());
    }
    for pem in &licenses {
        let e = w
            .licensing
            .use_license_pem(&RequestContext::bearer(&eve_token), pem, spki.clone())
            .await
            .unwrap_err();
        assert_eq!(e.code(), "not_granted");
    }
    let stats = w.licensing.cache_stats();
    assert_eq!(
        (
            stats.verified_licenses,
            stats.verified_bytes,
            stats.content_keys
        ),
        (0, 0, 0)
    );
    for pem in &licenses {
        w.licensing
            .use_license_pem(&RequestContext::bearer(&alice_token), pem, spki.clone())
            .await
            .unwrap();
    }
    let stats = w.licensing.cache_stats();
    assert_eq!((stats.verified_licenses, stats.content_keys), (5, 5));
    assert!(stats.verified_bytes > 5 * 300 * 20, "{stats:?}");
    assert_eq!(stats.recipient_keys, 1);
}

/// A descriptor that would not read back is never stored; one that was stored by other means
/// and cannot be read makes the service answer 503 and the node unhealthy.
#[tokio::test]
async fn descriptors_that_do_not_read_back_are_refused_and_reported() {
    let w = world().await;
    let before = w
        .licensing_admin
        .acl_show(Service::Licensing)
        .await
        .unwrap();
    let operands = vec!["(@User.a == 1)"; 256].join(" || ");
    let deep = format!("O:SYG:SYD:P(XA;;SW;;;AU;({operands}))");
    let e = w
        .licensing_admin
        .acl_set(Service::Licensing, &deep)
        .await
        .unwrap_err();
    assert!(
        matches!(e.code(), "invalid_sddl" | "descriptor_not_storable"),
        "{e}"
    );
    let after = w
        .licensing_admin
        .acl_show(Service::Licensing)
        .await
        .unwrap();
    assert_eq!(after.sddl, before.sddl, "nothing was stored");

    // Written behind the roles' back, e.g. by another build.
    let store = w.licensing.cluster().store();
    store
        .set_descriptor(
            Service::Licensing.name(),
            "D:(A;;SW;;;not-a-sid)",
            &rms_store::NewAuditEntry::new(
                "test",
                "LicensingService",
                "acl set",
                rms_store::Outcome::Allowed,
                "by hand",
                "test",
            ),
        )
        .await
        .unwrap();
    let (_, alice_token) = w.licensing_admin.add_principal("alice", &[]).await.unwrap();
    let (publishing, _) = publish_for(
        &w,
        vec![Grant::new("alice", UsageRights::from_rights([UsageRight::View])).unwrap()],
    )
    .await;
    let key = rms_cert::Signer::public_key(&RsaSigner::generate(2048).unwrap());
    let e = w
        .licensing
        .use_license(&RequestContext::bearer(&alice_token), &publishing, key)
        .await
        .unwrap_err();
    assert_eq!(
        (e.class(), e.code()),
        (ErrorClass::Unavailable, "descriptor_unreadable"),
        "{e}"
    );
    let health = w.licensing.cluster().health().await;
    assert!(!health.is_healthy());
    assert!(
        health
            .problems
            .iter()
            .any(|p| p.contains("LicensingService")),
        "{health:?}"
    );
}

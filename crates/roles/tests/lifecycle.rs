//! The SLC lifecycle on a clock the tests move: renewal inside the window, rekey, the grace
//! period, issuing refused after expiry and allowed again after renewal, licenses that outlive
//! their SLC, other nodes switching to the renewed SLC, revocation and the CRL, and forged or
//! revoked renewals refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::*;
use rms_cert::{
    Grant, RevocationReason, RsaSigner, SignedLicense, Signer, UsageRight, UsageRights,
};
use rms_roles::*;
use rms_store::Store;
use time::Duration;

/// alice, a publishing license granting her View, and her key.
async fn alice(
    w: &World,
) -> (
    String,
    SignedLicense,
    rms_cert::spki::SubjectPublicKeyInfoOwned,
) {
    let (_, token) = w.licensing_admin.add_principal("alice", &[]).await.unwrap();
    let view = UsageRights::from_rights([UsageRight::View]);
    let (publishing, _) = publish_for(w, vec![Grant::new("alice", view).unwrap()]).await;
    let key = RsaSigner::generate(2048).unwrap().public_key();
    (token, publishing, key)
}

/// Renews the licensing cluster's SLC through the root; returns the new serial.
async fn renew(w: &World, rekey: bool) -> Result<String, RoleError> {
    let cluster = w.licensing.cluster();
    let plan = RenewalPlan::new(cluster, rekey, 2048)?;
    let chain = w
        .root
        .renew(&RequestContext::anonymous(), plan.request_pem()?.as_bytes())
        .await?;
    plan.complete(cluster, &chain.to_pem().unwrap()).await?;
    Ok(serial_hex(cluster.chain().leaf()))
}

fn signer_serial(license: &SignedLicense) -> String {
    license
        .signer()
        .serial
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn renewal_inside_the_window_keeps_old_licenses_valid() {
    let w = world().await;
    let (alice, publishing, key) = alice(&w).await;
    let cluster = w.licensing.cluster();
    let old_serial = serial_hex(cluster.chain().leaf());
    let old_end = cluster.slc_validity().not_after();
    let before = w
        .licensing
        .use_license(&RequestContext::bearer(&alice), &publishing, key.clone())
        .await
        .unwrap();

    // Too early: the window opens 30 days before expiry.
    let e = renew(&w, false).await.unwrap_err();
    assert_eq!(e.code(), "renewal_too_early", "{e}");

    w.clock.set(old_end - Duration::days(10));
    let old_key = cluster.signer().public_key();
    let new_serial = renew(&w, false).await.unwrap();
    assert_ne!(new_serial, old_serial);
    assert_eq!(
        cluster.signer().public_key(),
        old_key,
        "a renewal keeps the key"
    );
    assert!(cluster.slc_validity().not_after() > old_end + Duration::days(300));
    let after = w
        .licensing
        .use_license(&RequestContext::bearer(&alice), &publishing, key)
        .await
        .unwrap();
    assert_eq!(
        signer_serial(&after),
        new_serial,
        "the cluster signs with the new SLC"
    );
    assert_eq!(signer_serial(&before), old_serial);

    // Both verify, also once the old SLC has expired (chain model).
    let verifier = verifier(&w.authority_pem);
    w.clock.set(old_end + Duration::days(30));
    for license in [&before, &after] {
        verifier
            .verify_license(license, &[], w.clock.now())
            .unwrap();
    }
    // The renewal is recorded and audited by the root.
    let audit = w
        .root
        .cluster()
        .store()
        .audit_log(None, 1000)
        .await
        .unwrap();
    assert!(audit.iter().any(|e| {
        e.entry.action == "renew"
            && e.entry
                .reason
                .contains(&format!("renewed SLC {old_serial}"))
    }));
}

#[tokio::test]
async fn rekey_certifies_a_new_key() {
    let w = world().await;
    let cluster = w.licensing.cluster();
    w.clock
        .set(cluster.slc_validity().not_after() - Duration::days(5));
    let old_key = cluster.signer().public_key();
    renew(&w, true).await.unwrap();
    assert_ne!(
        cluster.signer().public_key(),
        old_key,
        "a rekey changes the key"
    );
    let (alice, publishing, key) = alice(&w).await;
    let license = w
        .licensing
        .use_license(&RequestContext::bearer(&alice), &publishing, key)
        .await
        .unwrap();
    verifier(&w.authority_pem)
        .verify_license(&license, &[], w.clock.now())
        .unwrap();
}

#[tokio::test]
async fn what_the_old_key_published_stays_readable_after_a_rekey() {
    let w = world().await;
    let cluster = w.licensing.cluster();
    let (alice, publishing, key) = alice(&w).await;
    w.clock
        .set(cluster.slc_validity().not_after() - Duration::days(5));
    renew(&w, true).await.unwrap();
    // Signed by the previous SLC, its content key wrapped to the previous key.
    let license = w
        .licensing
        .use_license(&RequestContext::bearer(&alice), &publishing, key)
        .await
        .unwrap();
    verifier(&w.authority_pem)
        .verify_license(&license, &[], w.clock.now())
        .unwrap();
}

#[tokio::test]
async fn expiry_stops_issuing_until_renewed_within_the_grace_period() {
    let w = world().await;
    let (alice, publishing, key) = alice(&w).await;
    let cluster = w.licensing.cluster();
    let end = cluster.slc_validity().not_after();

    w.clock.set(end + Duration::days(10));
    let e = w
        .licensing
        .use_license(&RequestContext::bearer(&alice), &publishing, key.clone())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "slc_expired", "{e}");
    // The root's SLC (issued the same day) has expired too: it renews first, in its own grace
    // period, with its authority.
    let e = renew(&w, false).await.unwrap_err();
    assert_eq!(e.code(), "slc_expired", "the root cannot issue either: {e}");
    renew_root_with_authority(
        &w.root,
        &w.authority_pem,
        &w.authority_key_pem,
        w.root_secret.passphrase(),
        false,
        2048,
    )
    .await
    .unwrap();
    renew(&w, false).await.unwrap();
    let license = w
        .licensing
        .use_license(&RequestContext::bearer(&alice), &publishing, key)
        .await
        .unwrap();
    let issued = license.validity().not_before();
    let signer = cluster.slc_validity();
    assert!(
        signer.not_before() <= issued && issued <= signer.not_after(),
        "a license never claims an issue time outside its signer's validity"
    );

    // Beyond the 30-day grace period the SLC cannot be renewed.
    let w = world().await;
    let end = w.licensing.cluster().slc_validity().not_after();
    w.clock.set(end + Duration::days(31));
    let e = renew(&w, false).await.unwrap_err();
    assert_eq!(e.code(), "renewal_grace_expired", "{e}");
}

#[tokio::test]
async fn forged_unknown_and_revoked_renewals_are_refused() {
    let w = world().await;
    let cluster = w.licensing.cluster();
    w.clock
        .set(cluster.slc_validity().not_after() - Duration::days(3));
    let serial = serial_hex(cluster.chain().leaf());

    // A request whose signature was altered.
    let plan = RenewalPlan::new(cluster, false, 2048).unwrap();
    let mut der = plan.request().to_der().unwrap();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let e = w
        .root
        .renew(&RequestContext::anonymous(), &der)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "renewal_not_signed_by_slc", "{e}");
    let e = w
        .root
        .renew(&RequestContext::anonymous(), b"not a renewal")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "malformed_renewal", "{e}");

    // Revoked: refused, and the CRL lists it.
    let revocation = w
        .root
        .revoke("operator", &serial, RevocationReason::Superseded, None)
        .await
        .unwrap();
    assert_eq!(revocation.reason, "superseded");
    let e = renew(&w, false).await.unwrap_err();
    assert_eq!(e.code(), "slc_revoked", "{e}");
    let again = w
        .root
        .revoke("operator", &serial, RevocationReason::KeyCompromise, None)
        .await
        .unwrap_err();
    assert_eq!(again.code(), "already_exists", "{again}");
    let unknown = w
        .root
        .revoke("operator", "0badc0de", RevocationReason::Superseded, None)
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), "not_found", "{unknown}");
    let future = w
        .root
        .revoke(
            "operator",
            &serial,
            RevocationReason::Superseded,
            Some(w.clock.now() + Duration::days(1)),
        )
        .await
        .unwrap_err();
    assert_eq!(future.code(), "revocation_in_future", "{future}");

    let crl = w.root.crl().await.unwrap();
    let listed: Vec<String> = crl.entries().iter().map(|e| e.serial.to_string()).collect();
    assert_eq!(listed, vec![serial.clone()]);
    assert_eq!(crl.next_update() - crl.this_update(), CRL_LIFETIME);
    let next = w.root.crl().await.unwrap();
    assert!(next.crl_number() > crl.crl_number(), "CRL numbers rise");

    // The root's DACL on RenewalService can close renewal altogether.
    let w = world().await;
    w.root_admin
        .acl_set(Service::Renewal, "O:SYG:SYD:P")
        .await
        .unwrap();
    w.clock
        .set(w.licensing.cluster().slc_validity().not_after() - Duration::days(3));
    let e = renew(&w, false).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Forbidden, "{e}");
}

#[tokio::test]
async fn other_nodes_switch_to_the_renewed_slc_and_requests_in_flight_succeed() {
    let w = world().await;
    let (alice, publishing, key) = alice(&w).await;
    let store = Store::open_sqlite(&w.dir.path().join("licensing.db"))
        .await
        .unwrap();
    let other = Arc::new(
        LicensingRole::new(Arc::new(
            Cluster::open(store, &w.licensing_secret, options(&w.clock, "lic-node-2"))
                .await
                .unwrap(),
        ))
        .unwrap(),
    );
    w.clock
        .set(w.licensing.cluster().slc_validity().not_after() - Duration::days(2));
    // A second role on the same node, as a server holds it across requests.
    let licensing = Arc::new(LicensingRole::new(w.licensing.cluster().clone()).unwrap());
    let mut in_flight = Vec::new();
    for i in 0..40 {
        let role = if i % 2 == 0 {
            licensing.clone()
        } else {
            other.clone()
        };
        let (alice, publishing, key) = (alice.clone(), publishing.clone(), key.clone());
        in_flight.push(tokio::spawn(async move {
            role.use_license(&RequestContext::bearer(&alice), &publishing, key)
                .await
        }));
    }
    let new_serial = renew(&w, false).await.unwrap();
    for task in in_flight {
        task.await.unwrap().unwrap();
    }
    let license = other
        .use_license(&RequestContext::bearer(&alice), &publishing, key)
        .await
        .unwrap();
    assert_eq!(
        signer_serial(&license),
        new_serial,
        "the other node noticed the renewal without a restart"
    );
}

#[tokio::test]
async fn a_root_renews_its_own_slc_with_its_authority() {
    let w = world().await;
    let (alice, publishing, key) = alice(&w).await;
    let before = w
        .licensing
        .use_license(&RequestContext::bearer(&alice), &publishing, key.clone())
        .await
        .unwrap();
    let root = w.root.cluster();
    let end = root.slc_validity().not_after();
    let old_serial = serial_hex(root.chain().leaf());
    w.clock.set(end - Duration::days(20));
    let wrong = ClusterSecret::generate().unwrap();
    let e = renew_root_with_authority(
        &w.root,
        &w.authority_pem,
        &w.authority_key_pem,
        wrong.passphrase(),
        false,
        2048,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, RoleError::Secret(_)), "{e}");
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
    assert_ne!(serial_hex(root.chain().leaf()), old_serial);
    assert!(root.slc_validity().not_after() > end);

    // The licensing SLC the old root SLC signed still validates; renewed by the rekeyed root,
    // the licensing cluster issues licenses that validate through the new root SLC.
    let verifier = verifier(&w.authority_pem);
    verifier
        .verify_license(&before, &[], w.clock.now())
        .unwrap();
    renew(&w, false).await.unwrap();
    let after = w
        .licensing
        .use_license(&RequestContext::bearer(&alice), &publishing, key)
        .await
        .unwrap();
    let verified = verifier.verify_license(&after, &[], w.clock.now()).unwrap();
    let _ = verified;
    assert!(
        after
            .certificates()
            .iter()
            .any(|c| serial_hex(c) == serial_hex(root.chain().leaf())),
        "the new licensing chain goes through the renewed root SLC"
    );
}

/// The list served over HTTP is issued once and reused until a revocation, a renewed signing
/// SLC or half its lifetime calls for a new one.
#[tokio::test]
async fn the_published_crl_is_reused_until_something_changes() {
    let w = world().await;
    let first = w.root.published_crl().await.unwrap();
    assert!(first.entries().is_empty());
    let again = w.root.published_crl().await.unwrap();
    assert_eq!(again.crl_number(), first.crl_number(), "nothing changed");
    let serial = serial_hex(w.licensing.cluster().chain().leaf());
    w.root
        .revoke("operator", &serial, RevocationReason::Superseded, None)
        .await
        .unwrap();
    let revoked = w.root.published_crl().await.unwrap();
    assert!(revoked.crl_number() > first.crl_number());
    assert_eq!(revoked.entries().len(), 1);
    w.clock.set(w.clock.now() + CRL_LIFETIME / 2);
    let refreshed = w.root.published_crl().await.unwrap();
    assert!(
        refreshed.crl_number() > revoked.crl_number(),
        "half its lifetime is over"
    );
}

//! The roles end to end, in one process: root init, deny by default, grant, sub-enrollment,
//! licensing enrollment, publishing and use licenses, expiry, secrets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use rms_cert::{Grant, RsaSigner, UsageRight, UsageRights, wrap_content_key};
use rms_roles::*;
use rms_store::{IssuedFilter, IssuedKind, Outcome, Store};
use time::Duration;
use time::macros::datetime;

#[tokio::test]
async fn fresh_root_denies_everyone_until_granted() {
    let (_dir, _clock, root, admin, made, _) = root_only().await;
    let plan = EnrollmentPlan::new("licensing-1", "https://lic.example", 2048).unwrap();
    let refused = root
        .sub_enroll(
            &RequestContext::bearer(&made.admin.token),
            plan.request_pem().as_bytes(),
        )
        .await
        .unwrap_err();
    assert!(matches!(refused, RoleError::Denied { .. }), "{refused}");
    assert_eq!(refused.class(), ErrorClass::Forbidden);
    // The denial is in the audit log, with its reason.
    let log = admin.store().audit_log(None, 100).await.unwrap();
    let denial = log.iter().find(|e| e.entry.action == "subenroll").unwrap();
    assert_eq!(denial.entry.outcome, Outcome::Denied);
    assert!(
        denial.entry.reason.to_lowercase().contains("empty"),
        "{}",
        denial.entry.reason
    );

    admin
        .acl_grant(Service::SubEnroll, ADMINS_GROUP, None)
        .await
        .unwrap();
    let chain = root
        .sub_enroll(
            &RequestContext::bearer(&made.admin.token),
            plan.request_pem().as_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(chain.len(), 3);
    let issued = admin
        .store()
        .issued(&IssuedFilter::default())
        .await
        .unwrap();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].kind, IssuedKind::Slc);
    assert_eq!(issued[0].subject, "licensing-1");
    assert_eq!(issued[0].serial, serial_hex(chain.leaf()));
    assert_eq!(
        issued[0].not_after - issued[0].not_before,
        Duration::days(365)
    );
}

#[tokio::test]
async fn explicit_deny_wins_over_the_admins_grant() {
    let (_dir, _clock, root, admin, _made, _) = root_only().await;
    admin
        .acl_grant(Service::SubEnroll, ADMINS_GROUP, None)
        .await
        .unwrap();
    let (_, token) = admin
        .add_principal("mallory", &[ADMINS_GROUP.into()])
        .await
        .unwrap();
    admin
        .acl_deny(Service::SubEnroll, "mallory", None)
        .await
        .unwrap();
    let plan = EnrollmentPlan::new("licensing-2", "https://lic2.example", 2048).unwrap();
    let refused = root
        .sub_enroll(
            &RequestContext::bearer(&token),
            plan.request_pem().as_bytes(),
        )
        .await
        .unwrap_err();
    assert!(matches!(refused, RoleError::Denied { .. }), "{refused}");
}

#[tokio::test]
async fn unauthenticated_and_malformed_requests() {
    let (_dir, _clock, root, admin, made, _) = root_only().await;
    admin
        .acl_grant(Service::SubEnroll, ADMINS_GROUP, None)
        .await
        .unwrap();
    let plan = EnrollmentPlan::new("licensing-3", "https://lic3.example", 2048).unwrap();
    for ctx in [
        RequestContext::anonymous(),
        RequestContext::bearer("rms_not_a_token"),
        RequestContext::bearer(" "),
    ] {
        let e = root
            .sub_enroll(&ctx, plan.request_pem().as_bytes())
            .await
            .unwrap_err();
        assert_eq!(e.class(), ErrorClass::Unauthenticated, "{e}");
    }
    let e = root
        .sub_enroll(&RequestContext::bearer(&made.admin.token), b"garbage")
        .await
        .unwrap_err();
    assert_eq!(e.class(), ErrorClass::BadRequest, "{e}");
    // A request whose signature no longer matches.
    let mut der = rms_cert::EnrollmentRequest::from_pem(plan.request_pem())
        .unwrap()
        .to_der()
        .unwrap();
    let last = der.len() - 1;
    der[last] ^= 1;
    let e = root
        .sub_enroll(&RequestContext::bearer(&made.admin.token), &der)
        .await
        .unwrap_err();
    assert_eq!(
        (e.class(), e.code()),
        (ErrorClass::Unprocessable, "bad_signature"),
        "{e}"
    );
    // A root asking the root to sub-enroll it is the wrong role.
    let identity = rms_cert::ServerIdentity::new(
        "rogue-root",
        rms_cert::ServerRole::RootCertificationServer,
        rms_cert::ServerId::random().unwrap(),
        "https://rogue.example",
    )
    .unwrap();
    let key = RsaSigner::generate(2048).unwrap();
    let pem = rms_cert::EnrollmentRequest::new(&identity, &key)
        .unwrap()
        .to_pem()
        .unwrap();
    let e = root
        .sub_enroll(&RequestContext::bearer(&made.admin.token), pem.as_bytes())
        .await
        .unwrap_err();
    assert_eq!(
        (e.class(), e.code()),
        (ErrorClass::Unprocessable, "wrong_role"),
        "{e}"
    );
    // Nothing was issued by any of these.
    assert!(
        admin
            .store()
            .issued(&IssuedFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn enrollment_refuses_a_chain_from_another_authority() {
    let w = world().await;
    let (_dir2, _clock2, other_root, other_admin, other, _) = root_only().await;
    other_admin
        .acl_grant(Service::SubEnroll, ADMINS_GROUP, None)
        .await
        .unwrap();
    let plan = EnrollmentPlan::new("licensing-x", "https://lx.example", 2048).unwrap();
    let chain = other_root
        .sub_enroll(
            &RequestContext::bearer(&other.admin.token),
            plan.request_pem().as_bytes(),
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("x.db")).await.unwrap();
    let e = plan
        .complete(
            &store,
            &ClusterSecret::generate().unwrap(),
            &chain.to_pem().unwrap(),
            &w.authority_pem,
            &options(&w.clock, "x"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "untrusted_chain", "{e}");
    assert!(
        store.cluster().await.is_err(),
        "a refused enrollment must create nothing"
    );
}

#[tokio::test]
async fn publish_and_use_license_verify_under_the_authority() {
    let w = world().await;
    let (_, alice_token) = w.licensing_admin.add_principal("alice", &[]).await.unwrap();
    let (_, bob_token) = w.licensing_admin.add_principal("bob", &[]).await.unwrap();
    let view_print = UsageRights::from_rights([UsageRight::View, UsageRight::Print]);
    let (publishing, content_key) =
        publish_for(&w, vec![Grant::new("alice", view_print).unwrap()]).await;

    let alice_key = RsaSigner::generate(2048).unwrap();
    let alice_spki = rms_cert::Signer::public_key(&alice_key);
    let use_license = w
        .licensing
        .use_license(
            &RequestContext::bearer(&alice_token),
            &publishing,
            alice_spki.clone(),
        )
        .await
        .unwrap();
    let verified = verifier(&w.authority_pem)
        .verify_license(&use_license, &[], w.clock.now())
        .unwrap();
    let rms_cert::LicenseBody::Use(body) = verified.body() else {
        panic!("not a use license")
    };
    assert_eq!(body.principal(), "alice");
    assert_eq!(body.rights(), view_print);
    assert_eq!(
        rms_cert::unwrap_content_key(alice_key.private_key(), body.content_key()).unwrap(),
        content_key
    );
    // Seven years.
    assert_eq!(
        use_license.validity().not_after(),
        datetime!(2033-11-25 10:00 UTC)
    );

    // Bob is not in the policy.
    let e = w
        .licensing
        .use_license(
            &RequestContext::bearer(&bob_token),
            &publishing,
            alice_spki.clone(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (e.class(), e.code()),
        (ErrorClass::Unprocessable, "not_granted"),
        "{e}"
    );

    // Two years on, the licensing SLC has expired: the license still verifies (chain model),
    // but the cluster refuses to issue.
    w.clock.advance(Duration::days(730));
    verifier(&w.authority_pem)
        .verify_license(&use_license, &[], w.clock.now())
        .unwrap();
    let e = w
        .licensing
        .use_license(
            &RequestContext::bearer(&alice_token),
            &publishing,
            alice_spki,
        )
        .await
        .unwrap_err();
    assert_eq!(
        (e.class(), e.code()),
        (ErrorClass::Unavailable, "slc_expired"),
        "{e}"
    );
    // Eight years on, the license itself has expired.
    w.clock.advance(Duration::days(6 * 365));
    assert!(
        verifier(&w.authority_pem)
            .verify_license(&use_license, &[], w.clock.now())
            .is_err()
    );

    let store = w.licensing.cluster().store();
    assert_eq!(
        store
            .count_issued(IssuedKind::PublishingLicense)
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.count_issued(IssuedKind::UseLicense).await.unwrap(), 1);
    let _ = (&w.root, &w.root_admin, &w.root_token);
}

#[tokio::test]
async fn publishing_service_dacl_is_enforced_and_content_key_must_be_ours() {
    let w = world().await;
    w.licensing_admin
        .acl_set(Service::Publishing, "O:SYG:SYD:P")
        .await
        .unwrap();
    let request = PublishRequest {
        content_id: "x".into(),
        grants: vec![],
        template: None,
        wrapped_content_key: wrap_content_key(
            &rms_cert::Signer::public_key(&RsaSigner::generate(2048).unwrap()),
            &[1u8; 32],
        )
        .unwrap(),
    };
    let e = w
        .licensing
        .publish(&RequestContext::bearer(&w.licensing_token), &request)
        .await
        .unwrap_err();
    assert_eq!(e.class(), ErrorClass::Forbidden, "{e}");
    w.licensing_admin
        .acl_set(Service::Publishing, "O:SYG:SYD:P(A;;LC;;;AU)")
        .await
        .unwrap();
    // A content key wrapped to someone else's key.
    let stranger = RsaSigner::generate(2048).unwrap();
    let wrapped = wrap_content_key(&rms_cert::Signer::public_key(&stranger), &[1u8; 32]).unwrap();
    let request = PublishRequest {
        content_id: "x".into(),
        grants: vec![
            Grant::new(
                ADMIN_PRINCIPAL,
                UsageRights::from_rights([UsageRight::View]),
            )
            .unwrap(),
        ],
        template: None,
        wrapped_content_key: wrapped,
    };
    let e = w
        .licensing
        .publish(&RequestContext::bearer(&w.licensing_token), &request)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "content_key_not_for_cluster", "{e}");
}

#[tokio::test]
async fn a_wrong_cluster_secret_is_a_clear_error() {
    let (dir, clock, _root, _admin, _made, _) = root_only().await;
    let store = Store::open_sqlite(&dir.path().join("root.db"))
        .await
        .unwrap();
    let wrong = ClusterSecret::generate().unwrap();
    let e = Cluster::open(store, &wrong, options(&clock, "n"))
        .await
        .unwrap_err();
    assert!(matches!(e, RoleError::Secret(_)), "{e}");
    assert!(e.to_string().contains("does not decrypt"), "{e}");
}

#[tokio::test]
async fn acl_edits_are_canonical_and_resolve_names() {
    let (_dir, _clock, _root, admin, _made, _) = root_only().await;
    let sddl = admin
        .acl_grant(Service::SubEnroll, ADMINS_GROUP, None)
        .await
        .unwrap();
    assert!(sddl.starts_with("O:SYG:SYD:P(A;;CC;;;S-1-5-21-"), "{sddl}");
    let sddl = admin
        .acl_deny(Service::SubEnroll, "BG", None)
        .await
        .unwrap();
    assert!(
        sddl.contains("(D;;CC;;;BG)(A;;CC;;;S-1-5-21-"),
        "deny must come first: {sddl}"
    );
    let sddl = admin.acl_revoke(Service::SubEnroll, "BG").await.unwrap();
    assert!(!sddl.contains("BG"), "{sddl}");
    assert!(
        admin
            .acl_grant(Service::SubEnroll, "nobody-here", None)
            .await
            .is_err()
    );
    assert!(
        admin
            .acl_set(Service::SubEnroll, "D:(A;;CC;;;")
            .await
            .is_err()
    );
    assert!(admin.add_principal("bad name", &[]).await.is_err());
    assert!(
        admin
            .add_principal("x", &["no-such-group".into()])
            .await
            .is_err()
    );
}

/// Nodes cache principals, tokens and descriptors, yet a change made through another node's
/// handle on the same database (or the CLI) applies to the very next request.
#[tokio::test]
async fn changes_made_elsewhere_apply_to_the_next_request() {
    let w = world().await;
    let (_, alice_token) = w.licensing_admin.add_principal("alice", &[]).await.unwrap();
    let view = UsageRights::from_rights([UsageRight::View]);
    let (publishing, _) = publish_for(&w, vec![Grant::new("alice", view).unwrap()]).await;
    let pem = publishing.to_pem().unwrap();
    let alice_spki = rms_cert::Signer::public_key(&RsaSigner::generate(2048).unwrap());
    for _ in 0..2 {
        // The second round takes the caller, the descriptor and the license from memory.
        w.licensing
            .use_license_pem(
                &RequestContext::bearer(&alice_token),
                &pem,
                alice_spki.clone(),
            )
            .await
            .unwrap();
    }

    let other_node = Admin::open(
        Store::open_sqlite(&w.dir.path().join("licensing.db"))
            .await
            .unwrap(),
        "operator-elsewhere",
    )
    .await
    .unwrap();
    other_node
        .acl_deny(Service::Licensing, "alice", None)
        .await
        .unwrap();
    let e = w
        .licensing
        .use_license_pem(
            &RequestContext::bearer(&alice_token),
            &pem,
            alice_spki.clone(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.class(), ErrorClass::Forbidden, "{e}");
    // The node's cached decision allowed and it signed, but the commit found the configuration
    // moved: nothing was recorded, and the request was decided again (and refused).
    let store = w.licensing.cluster().store();
    assert_eq!(store.count_issued(IssuedKind::UseLicense).await.unwrap(), 2);
    other_node
        .acl_revoke(Service::Licensing, "alice")
        .await
        .unwrap();
    w.licensing
        .use_license_pem(
            &RequestContext::bearer(&alice_token),
            &pem,
            alice_spki.clone(),
        )
        .await
        .unwrap();

    // A principal added elsewhere authenticates at once.
    let (_, carol_token) = other_node.add_principal("carol", &[]).await.unwrap();
    let e = w
        .licensing
        .use_license_pem(
            &RequestContext::bearer(&carol_token),
            &pem,
            alice_spki.clone(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        "not_granted",
        "carol is known but not granted: {e}"
    );

    // A remembered publishing license is still refused once it has expired.
    w.clock
        .set(publishing.validity().not_after() + Duration::days(1));
    let e = w
        .licensing
        .use_license_pem(
            &RequestContext::bearer(&alice_token),
            &pem,
            alice_spki.clone(),
        )
        .await
        .unwrap_err();
    assert_ne!(e.class(), ErrorClass::Forbidden, "{e}");

    let e = w
        .licensing
        .use_license_pem(
            &RequestContext::bearer(&alice_token),
            "not a license",
            alice_spki,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "malformed_license", "{e}");
}

/// Inside the last 30 days of the SLC (and in the grace period after it) the node warns; before
/// that and beyond the grace period it does not (beyond it, issuing is refused instead).
#[tokio::test]
async fn renewal_warnings_follow_the_renewal_window() {
    let w = world().await;
    let cluster = w.licensing.cluster();
    let end = cluster.slc_validity().not_after();
    assert_eq!(renewal_warning(cluster, w.clock.now()), None);
    let due = renewal_warning(cluster, end - Duration::days(10)).unwrap();
    assert!(
        due.contains("in 9 days") || due.contains("in 10 days"),
        "{due}"
    );
    let grace = renewal_warning(cluster, end + Duration::days(3)).unwrap();
    assert!(grace.contains("expired 3 days ago"), "{grace}");
    assert_eq!(renewal_warning(cluster, end + Duration::days(400)), None);
}

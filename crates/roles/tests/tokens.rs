//! The life of principals and tokens: several tokens per user, each revocable by id, with an
//! expiry and a last-used time; disabled and removed principals; groups' members removed. Every
//! change is refused at once by a node that had the caller cached, and audited.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)] // the tests here use part of it
mod common;

use common::*;
use rms_roles::{Clock, RequestContext, RoleError};

/// Why a request with `token` is refused (401), on the configuration now in the database
/// (the chain endpoint decides on it; an issuance decides on the cached one and re-checks at
/// its commit).
async fn refused(cluster: &rms_roles::Cluster, token: &str) -> String {
    match cluster.chain_for(&RequestContext::bearer(token)).await {
        Err(RoleError::Unauthenticated(why)) => why,
        other => panic!("expected a 401, got {:?}", other.map(|_| "the chain")),
    }
}

#[tokio::test]
async fn tokens_are_issued_listed_and_revoked_by_id() {
    let w = world().await;
    let admin = &w.licensing_admin;
    let cluster = w.licensing.cluster();
    let (_, first) = admin.add_principal("alice", &[]).await.unwrap();
    // Cached by the node before any change.
    assert_eq!(cluster.authenticate(&first).await.unwrap().name, "alice");

    let second = admin.issue_token("alice", None).await.unwrap();
    assert_eq!(second.id.len(), 16, "{}", second.id);
    assert!(second.expires_at.is_none());
    assert_eq!(
        cluster.authenticate(&second.token).await.unwrap().name,
        "alice"
    );
    let listed = admin.tokens(Some("alice")).await.unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.iter().all(|t| t.principal == "alice"));
    let first_id = rms_roles::store::token_id_of(&rms_roles::hash_token(&first));
    assert!(listed.iter().any(|t| t.id == first_id));
    // Last used, recorded coarsely when the token authenticates.
    let used = listed.iter().find(|t| t.id == second.id).unwrap();
    assert!(used.last_used.is_some(), "{used:?}");
    // Listing never shows a token or its hash.
    let text = format!("{listed:?}");
    assert!(!text.contains(&first) && !text.contains(&second.token));

    // Revoking the first token: refused at once, the second keeps working.
    let revoked = admin.revoke_token(&first_id.to_uppercase()).await.unwrap();
    assert_eq!(
        (revoked.id.as_str(), revoked.principal.as_str()),
        (first_id.as_str(), "alice")
    );
    let why = refused(cluster, &first).await;
    assert!(why.contains("unknown bearer token"), "{why}");
    assert_eq!(
        cluster.authenticate(&second.token).await.unwrap().name,
        "alice"
    );
    let e = admin.revoke_token(&first_id).await.unwrap_err();
    assert_eq!(e.code(), "not_found", "{e}");
    let log = admin.store().audit_log(None, 1000).await.unwrap();
    assert!(
        log.iter()
            .any(|e| e.entry.action == "token revoke" && e.entry.reason.contains(&first_id)),
        "the revocation is audited"
    );

    // Bad input changes nothing.
    let e = admin.issue_token("nobody", None).await.unwrap_err();
    assert_eq!(e.code(), "not_found", "{e}");
    admin.add_group("editors").await.unwrap();
    let e = admin.issue_token("editors", None).await.unwrap_err();
    assert_eq!(e.code(), "not_found", "{e}");
    let e = admin.tokens(Some("nobody")).await.unwrap_err();
    assert_eq!(e.code(), "not_found", "{e}");
    assert_eq!(admin.tokens(Some("alice")).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_expired_token_is_refused_even_from_the_cache() {
    let w = world().await;
    let admin = &w.licensing_admin;
    let cluster = w.licensing.cluster();
    admin.add_principal("alice", &[]).await.unwrap();
    let short = admin
        .issue_token("alice", Some("2h".parse().unwrap()))
        .await
        .unwrap();
    let expires = short.expires_at.expect("an expiry");
    // The node's clock, not the administrator's, decides.
    w.clock.set(expires - time::Duration::minutes(1));
    assert_eq!(
        cluster.authenticate(&short.token).await.unwrap().name,
        "alice"
    );
    w.clock.set(expires);
    let why = refused(cluster, &short.token).await;
    assert!(
        why.contains("expired at") && why.contains(&short.id),
        "{why}"
    );
    let listed = admin.tokens(Some("alice")).await.unwrap();
    let entry = listed.iter().find(|t| t.id == short.id).unwrap();
    assert_eq!(entry.expires_at, Some(expires));
    assert!(w.clock.now() >= expires);
}

#[tokio::test]
async fn disabled_and_removed_principals_are_refused() {
    let w = world().await;
    let admin = &w.licensing_admin;
    let cluster = w.licensing.cluster();
    admin.add_group("editors").await.unwrap();
    let (_, alice) = admin
        .add_principal("alice", &["editors".to_owned()])
        .await
        .unwrap();
    let (_, bob) = admin
        .add_principal("bob", &["editors".to_owned()])
        .await
        .unwrap();
    cluster.authenticate(&alice).await.unwrap();

    assert!(admin.disable_principal("alice").await.unwrap());
    assert!(
        !admin.disable_principal("alice").await.unwrap(),
        "unchanged"
    );
    let why = refused(cluster, &alice).await;
    assert!(why.contains("alice is disabled"), "{why}");
    let listed = admin.principals().await.unwrap();
    assert!(listed.iter().any(|p| p.name == "alice" && p.disabled));
    assert!(admin.enable_principal("alice").await.unwrap());
    assert_eq!(cluster.authenticate(&alice).await.unwrap().name, "alice");
    let e = admin.disable_principal("editors").await.unwrap_err();
    assert_eq!(e.code(), "not_a_user", "{e}");

    // Members: listed, removed.
    let members = admin.group_members("editors").await.unwrap();
    let names: Vec<&str> = members.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["alice", "bob"]);
    admin.remove_member("bob", "editors").await.unwrap();
    let e = admin.remove_member("bob", "editors").await.unwrap_err();
    assert_eq!(e.code(), "not_found", "{e}");
    assert_eq!(admin.group_members("editors").await.unwrap().len(), 1);
    assert!(admin.store().groups_of("bob").await.unwrap().is_empty());

    // Removing a user takes its tokens; removing a group, its memberships.
    let removed = admin.remove_principal("bob").await.unwrap();
    assert_eq!(removed.name, "bob");
    let why = refused(cluster, &bob).await;
    assert!(why.contains("unknown bearer token"), "{why}");
    assert!(
        admin
            .tokens(None)
            .await
            .unwrap()
            .iter()
            .all(|t| t.principal != "bob")
    );
    let e = admin.remove_principal("editors").await.unwrap_err();
    assert_eq!(e.code(), "wrong_kind", "{e}");
    admin.remove_group("editors").await.unwrap();
    assert!(admin.store().groups_of("alice").await.unwrap().is_empty());
    let e = admin
        .remove_group(rms_roles::ADMINS_GROUP)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "protected_group", "{e}");
    let e = admin.remove_principal("nobody").await.unwrap_err();
    assert_eq!(e.code(), "not_found", "{e}");
    let log = admin.store().audit_log(None, 1000).await.unwrap();
    for action in [
        "principal disable",
        "principal enable",
        "group remove-member",
        "principal remove",
        "group remove",
    ] {
        assert!(
            log.iter().any(|e| e.entry.action == action),
            "{action} is audited"
        );
    }
}

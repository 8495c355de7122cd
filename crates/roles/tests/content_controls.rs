//! Super users and revocations: disabled super users refused, enabled ones given every right
//! and audited; revoked content refused for new use licenses and, once the client has the
//! signed list, for the licenses it holds (also offline, from the list it kept); a revoked use
//! license refused to its holder; the signed list verifies offline and refuses tampering;
//! bad input refused without a change.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)] // the tests here use part of it
mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use common::*;
use rms_cert::spki::SubjectPublicKeyInfoOwned;
use rms_cert::{Grant, LicenseBody, RsaSigner, UsageRights};
use rms_roles::client::{
    Authority, DocumentClient, LicenseSource, LicenseStore, LicensingChannel, LocalLicensing,
    Protection, document_info,
};
use rms_roles::{Clock, PublishRequest, RequestContext, RoleError};

const URL: &str = "https://licensing-1.example/_wmcs/licensing";

type ChannelResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// One user key for the whole binary: RSA key generation is slow.
fn user_key() -> &'static RsaSigner {
    static KEY: OnceLock<RsaSigner> = OnceLock::new();
    KEY.get_or_init(|| RsaSigner::generate(2048).unwrap())
}

/// A channel that can be cut, as a laptop goes offline.
struct Switchable<'a> {
    inner: LocalLicensing<'a>,
    online: Arc<AtomicBool>,
}

impl Switchable<'_> {
    fn check(&self) -> ChannelResult<()> {
        match self.online.load(Ordering::SeqCst) {
            true => Ok(()),
            false => Err("offline".into()),
        }
    }
}

impl LicensingChannel for Switchable<'_> {
    async fn chain(&self) -> ChannelResult<String> {
        self.check()?;
        self.inner.chain().await
    }
    async fn publish(&self, request: &PublishRequest) -> ChannelResult<String> {
        self.check()?;
        self.inner.publish(request).await
    }
    async fn revocation_list(&self) -> ChannelResult<Vec<u8>> {
        self.check()?;
        self.inner.revocation_list().await
    }
    async fn use_license(
        &self,
        publishing_license_pem: &str,
        public_key: &SubjectPublicKeyInfoOwned,
    ) -> ChannelResult<String> {
        self.check()?;
        self.inner
            .use_license(publishing_license_pem, public_key)
            .await
    }
}

fn client<'a>(
    w: &'a World,
    token: &str,
    online: &Arc<AtomicBool>,
) -> DocumentClient<Switchable<'a>> {
    let authority = Authority::from_pem(&w.authority_pem).unwrap();
    let clock: Arc<dyn Clock> = w.clock.clone();
    let channel = Switchable {
        inner: LocalLicensing::new(&w.licensing, token),
        online: online.clone(),
    };
    DocumentClient::new(channel, authority).with_clock(clock)
}

fn grant(principal: &str, rights: &str) -> Grant {
    Grant::new(principal, rights.parse().unwrap()).unwrap()
}

/// Protects `content` as the licensing administrator, granting `grants`; the file's path.
async fn protect(w: &World, dir: &tempfile::TempDir, name: &str, grants: Vec<Grant>) -> PathBuf {
    let source = dir.path().join(name);
    std::fs::write(&source, format!("the content of {name}")).unwrap();
    let destination = dir.path().join(format!("{name}.rms"));
    let protection = Protection {
        grants,
        ..Protection::default()
    };
    let online = Arc::new(AtomicBool::new(true));
    client(w, &w.licensing_token, &online)
        .protect(URL, &protection, &source, &destination, &mut |_| {})
        .await
        .unwrap();
    destination
}

/// The code of a refusal, whether the client made it or the role behind the channel did.
fn code(error: &RoleError) -> String {
    if let RoleError::Upstream(inner) = error
        && let Some(role) = inner.downcast_ref::<RoleError>()
    {
        return role.code().to_owned();
    }
    error.code().to_owned()
}

#[tokio::test]
async fn super_users_are_off_by_default_and_when_on_get_every_right_audited() {
    let w = world().await;
    let admin = &w.licensing_admin;
    admin.add_principal("alice", &[]).await.unwrap();
    admin.add_group("compliance").await.unwrap();
    let (_, carol) = admin
        .add_principal("carol", &["compliance".to_owned()])
        .await
        .unwrap();
    let (publishing, _) = publish_for(&w, vec![grant("alice", "view")]).await;
    let key = rms_cert::Signer::public_key(user_key());
    let ask = |token: String| {
        let (publishing, key) = (publishing.clone(), key.clone());
        let licensing = &w.licensing;
        async move {
            licensing
                .use_license(&RequestContext::bearer(&token), &publishing, key)
                .await
        }
    };

    let none = admin.super_users().await.unwrap();
    assert!(!none.enabled && none.members.is_empty(), "{none:?}");
    let e = ask(carol.clone()).await.unwrap_err();
    assert_eq!(e.code(), "not_granted", "{e}");

    // A member while disabled: still refused.
    admin.add_super_user("compliance").await.unwrap();
    let e = ask(carol.clone()).await.unwrap_err();
    assert_eq!(e.code(), "not_granted", "{e}");

    // Enabled: every right, and the audit log says it was super-user access.
    assert!(admin.set_super_users_enabled(true).await.unwrap());
    assert!(
        !admin.set_super_users_enabled(true).await.unwrap(),
        "unchanged"
    );
    let license = ask(carol.clone()).await.unwrap();
    let LicenseBody::Use(body) = license.body() else {
        panic!("not a use license")
    };
    assert_eq!(body.principal(), "carol");
    assert_eq!(body.rights(), UsageRights::ALL);
    verifier(&w.authority_pem)
        .verify_license(&license, &[], w.clock.now())
        .unwrap();
    let log = admin.store().audit_log(None, 1000).await.unwrap();
    let access = log
        .iter()
        .find(|e| e.entry.principal == "carol" && e.entry.reason.contains("super-user access"))
        .expect("super-user access is audited");
    assert!(
        access.entry.reason.contains("\"doc-42\""),
        "{:?}",
        access.entry
    );
    assert!(
        log.iter()
            .any(|e| e.entry.action == "superusers enable" && e.entry.principal == "operator")
    );

    // Disabled again (or the member removed): refused again, on the next request.
    assert!(admin.set_super_users_enabled(false).await.unwrap());
    let e = ask(carol.clone()).await.unwrap_err();
    assert_eq!(e.code(), "not_granted", "{e}");
    admin.set_super_users_enabled(true).await.unwrap();
    admin.remove_super_user("compliance").await.unwrap();
    let e = ask(carol).await.unwrap_err();
    assert_eq!(e.code(), "not_granted", "{e}");

    // Bad input changes nothing.
    let e = admin.add_super_user("nobody").await.unwrap_err();
    assert_eq!(e.code(), "unknown_principal", "{e}");
    admin.add_super_user("alice").await.unwrap();
    let e = admin.add_super_user("alice").await.unwrap_err();
    assert_eq!(e.code(), "already_exists", "{e}");
    let e = admin.remove_super_user("carol").await.unwrap_err();
    assert_eq!(e.code(), "not_found", "{e}");
    let listed = admin.super_users().await.unwrap();
    let names: Vec<&str> = listed.members.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["alice"]);
    let e = w.root_admin.super_users().await.unwrap_err();
    assert_eq!(e.code(), "not_a_licensing_cluster", "{e}");
}

#[tokio::test]
async fn revoked_content_is_refused_new_licenses_and_held_ones_once_the_list_arrives() {
    let w = world().await;
    let admin = &w.licensing_admin;
    let (_, alice) = admin.add_principal("alice", &[]).await.unwrap();
    let (_, bob) = admin.add_principal("bob", &[]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let grants = || vec![grant("alice", "view,export"), grant("bob", "view,export")];
    let first = protect(&w, &dir, "first.txt", grants()).await;
    let second = protect(&w, &dir, "second.txt", grants()).await;
    let store = LicenseStore::open(&dir.path().join("alice-licenses")).unwrap();
    let online = Arc::new(AtomicBool::new(true));
    let alice_client = client(&w, &alice, &online);
    let key = user_key();
    let open = |path: &PathBuf| {
        let info = document_info(path).unwrap();
        let (client, store) = (&alice_client, &store);
        async move { client.license(&info, key, Some(store)).await }
    };
    for path in [&first, &second] {
        assert_eq!(open(path).await.unwrap().source(), LicenseSource::Server);
    }

    // Bad revocations change nothing.
    let e = admin
        .revoke_content("no-such-content", "")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "not_found", "{e}");
    let e = admin
        .revoke_content(
            &document_info(&second).unwrap().content_id,
            &"x".repeat(1025),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_revocation", "{e}");
    assert!(
        admin
            .content_revocations()
            .await
            .unwrap()
            .content
            .is_empty()
    );

    let second_id = document_info(&second).unwrap().content_id;
    let revoked = admin.revoke_content(&second_id, "leaked").await.unwrap();
    assert_eq!(revoked.content_id, second_id);
    let e = admin.revoke_content(&second_id, "").await.unwrap_err();
    assert_eq!(e.code(), "already_revoked", "{e}");

    // No new use license for it, for anyone.
    let bob_client = client(&w, &bob, &online);
    let info = document_info(&second).unwrap();
    let e = bob_client.license(&info, key, None).await.unwrap_err();
    assert_eq!(code(&e), "content_revoked", "{e}");
    assert!(
        e.to_string()
            .contains("access to this document was revoked on"),
        "{e}"
    );
    let publishing = info.publishing_license.to_pem().unwrap();
    let e = w
        .licensing
        .use_license_pem(
            &RequestContext::bearer(&bob),
            &publishing,
            rms_cert::Signer::public_key(key),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "content_revoked", "{e}");
    assert!(e.to_string().contains("leaked"), "{e}");

    // Alice, offline, still holds a license and has no newer list: it opens (the list is how
    // a revocation reaches a client, and she has not had it yet).
    online.store(false, Ordering::SeqCst);
    assert_eq!(open(&second).await.unwrap().source(), LicenseSource::Store);
    // Online once: she gets the list (and keeps it); the first document still opens.
    online.store(true, Ordering::SeqCst);
    assert_eq!(open(&first).await.unwrap().source(), LicenseSource::Store);
    // Offline again: the list she kept refuses the revoked document, and its license goes.
    online.store(false, Ordering::SeqCst);
    let e = open(&second).await.unwrap_err();
    assert_eq!(code(&e), "content_revoked", "{e}");
    assert!(e.to_string().contains("(leaked)"), "{e}");
    assert_eq!(
        store.len().unwrap(),
        1,
        "only the first document's license stays"
    );
    assert_eq!(open(&first).await.unwrap().source(), LicenseSource::Store);
}

#[tokio::test]
async fn a_revoked_use_license_is_refused_to_its_holder_only() {
    let w = world().await;
    let admin = &w.licensing_admin;
    let (_, alice) = admin.add_principal("alice", &[]).await.unwrap();
    let (_, bob) = admin.add_principal("bob", &[]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let protected = protect(
        &w,
        &dir,
        "plan.txt",
        vec![grant("alice", "view,export"), grant("bob", "view,export")],
    )
    .await;
    let info = document_info(&protected).unwrap();
    let store = LicenseStore::open(&dir.path().join("alice-licenses")).unwrap();
    let online = Arc::new(AtomicBool::new(true));
    let alice_client = client(&w, &alice, &online);
    let key = user_key();
    let license = alice_client
        .license(&info, key, Some(&store))
        .await
        .unwrap();
    let LicenseBody::Use(body) = license.use_license().body() else {
        panic!("not a use license")
    };
    let serial = body.serial().to_string();

    let e = admin.revoke_use_license("not hex", "").await.unwrap_err();
    assert_eq!(e.code(), "invalid_serial", "{e}");
    let e = admin
        .revoke_use_license("4000000000000000000000000000000a", "")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "not_found", "{e}");
    let revoked = admin
        .revoke_use_license(&serial.to_uppercase(), "laptop lost")
        .await
        .unwrap();
    assert_eq!(
        (revoked.serial.as_str(), revoked.principal.as_str()),
        (serial.as_str(), "alice")
    );
    assert_eq!(revoked.content_id, info.content_id);

    // Alice's client refuses the license it holds, and the server gives her no new one.
    let e = alice_client
        .license(&info, key, Some(&store))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "use_license_revoked", "{e}");
    assert!(
        e.to_string()
            .contains("access to this document was revoked on")
            && e.to_string().contains("laptop lost"),
        "{e}"
    );
    assert!(store.is_empty().unwrap());
    let e = alice_client
        .license(&info, key, Some(&store))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "use_license_revoked", "{e}");
    // Bob still opens.
    let bob_license = client(&w, &bob, &online)
        .license(&info, key, None)
        .await
        .unwrap();
    assert_eq!(bob_license.rights().principal, "bob");
    let listed = admin.content_revocations().await.unwrap();
    assert!(listed.content.is_empty());
    assert_eq!(listed.use_licenses.len(), 1);
}

#[tokio::test]
async fn the_revocation_list_is_signed_and_verifies_offline() {
    let w = world().await;
    let admin = &w.licensing_admin;
    let (_, alice) = admin.add_principal("alice", &[]).await.unwrap();
    publish_for(&w, vec![grant("alice", "view")]).await;
    admin.revoke_content("doc-42", "gone").await.unwrap();
    let authority = Authority::from_pem(&w.authority_pem).unwrap();

    let signed = w
        .licensing
        .revocation_list(&RequestContext::bearer(&alice))
        .await
        .unwrap();
    let der = signed.der().to_vec();
    let list = authority
        .verify_revocation_list(&der, w.clock.now(), false)
        .unwrap();
    // Asked again while nothing changed, the node serves the list it signed; once that is
    // older than the reuse period, it signs a new one. (A change raises the configuration
    // generation, and the next request gets a new list at once: the test above.)
    let again = w
        .licensing
        .revocation_list(&RequestContext::bearer(&alice))
        .await
        .unwrap();
    assert_eq!(again.der(), der.as_slice());
    w.clock.advance(rms_roles::REVOCATION_LIST_REUSE);
    let later = w
        .licensing
        .revocation_list(&RequestContext::bearer(&alice))
        .await
        .unwrap();
    assert_ne!(later.der(), der.as_slice());
    w.clock.advance(-rms_roles::REVOCATION_LIST_REUSE);
    assert_eq!(list.content_revocation("doc-42").unwrap().reason(), "gone");
    assert!(list.use_licenses().is_empty());
    assert_eq!(
        list.next_update() - list.this_update(),
        rms_roles::REVOCATION_LIST_LIFETIME
    );

    // Stale after its next update, unless the caller accepts an old list (offline).
    let later = list.next_update() + time::Duration::hours(1);
    let e = authority
        .verify_revocation_list(&der, later, false)
        .unwrap_err();
    assert_eq!(e.code(), "stale_revocation_list", "{e}");
    authority.verify_revocation_list(&der, later, true).unwrap();

    // Any flipped byte is refused.
    for at in [der.len() / 3, der.len() / 2, der.len() - 10] {
        let mut tampered = der.clone();
        tampered[at] ^= 0x01;
        assert!(
            authority
                .verify_revocation_list(&tampered, w.clock.now(), false)
                .is_err(),
            "flipped byte {at}"
        );
    }
    // A template list is not a revocation list.
    let templates = w
        .licensing
        .template_list(&RequestContext::bearer(&w.licensing_token))
        .await
        .unwrap();
    let e = authority
        .verify_revocation_list(templates.der(), w.clock.now(), false)
        .unwrap_err();
    assert_eq!(e.code(), "malformed_revocation_list", "{e}");
    // Without credentials the list is refused like a use license.
    let e = w
        .licensing
        .revocation_list(&RequestContext::anonymous())
        .await
        .unwrap_err();
    assert!(matches!(e.code(), "unauthorized" | "forbidden"), "{e}");
}

mod properties {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn decoding_arbitrary_bytes_as_a_revocation_list_never_panics(
            bytes in proptest::collection::vec(any::<u8>(), 0..2048)
        ) {
            let _ = rms_cert::LicenseBody::from_der(
                rms_cert::LicenseKind::ContentRevocations,
                &bytes,
            );
            let _ = rms_cert::SignedLicense::from_der(&bytes);
        }
    }
}

//! Protected documents through the client module: protect and open round trips, the rights a
//! use license grants enforced, licenses for someone else or expired refused, the license
//! store reused offline, bad files refused leaving no plaintext.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)] // the tests here use part of it
mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::*;
use rms_cert::spki::SubjectPublicKeyInfoOwned;
use rms_cert::{Grant, RsaSigner, UsageRight, UsageRights};
use rms_roles::client::{
    DocumentClient, DocumentLicense, LicenseSource, LicenseStore, LicensingChannel, LocalLicensing,
    Protection, document_info,
};
use rms_roles::{Clock, PublishRequest, RoleError};
use time::Duration;

const URL: &str = "https://licensing-1.example/_wmcs/licensing";

fn rights(names: &str) -> UsageRights {
    names.parse().unwrap()
}

fn grant(principal: &str, names: &str) -> Grant {
    Grant::new(principal, rights(names)).unwrap()
}

/// A client of `w`'s licensing cluster as the holder of `token`, on the world's clock.
fn client<'a>(w: &'a World, token: &str) -> DocumentClient<LocalLicensing<'a>> {
    let authority = rms_roles::client::Authority::from_pem(&w.authority_pem).unwrap();
    let clock: Arc<dyn Clock> = w.clock.clone();
    DocumentClient::new(LocalLicensing::new(&w.licensing, token), authority).with_clock(clock)
}

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn write(&self, name: &str, content: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, content).unwrap();
        path
    }
    /// Names in the directory, sorted: no temporary file may be left behind.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

async fn protect(
    w: &World,
    files: &Files,
    name: &str,
    content: &[u8],
    grants: Vec<Grant>,
) -> PathBuf {
    let source = files.write(name, content);
    let destination = files.path(&format!("{name}.rms"));
    let protection = Protection {
        grants,
        ..Protection::default()
    };
    let made = client(w, &w.licensing_token)
        .protect(URL, &protection, &source, &destination, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(made.len, std::fs::metadata(&destination).unwrap().len());
    assert!(
        made.content_id.starts_with("urn:uuid:"),
        "{}",
        made.content_id
    );
    destination
}

#[allow(clippy::cast_possible_truncation, reason = "i * 31 % 251 is below 251")]
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn refused_code(error: &RoleError) -> String {
    // A refusal by the role behind the channel is the source of the client's Upstream error.
    if let RoleError::Upstream(inner) = error
        && let Some(role) = inner.downcast_ref::<RoleError>()
    {
        return role.code().to_owned();
    }
    error.code().to_owned()
}

#[tokio::test]
async fn round_trips_of_empty_small_and_multi_chunk_files() {
    let w = world().await;
    let (_, alice_token) = w.licensing_admin.add_principal("alice", &[]).await.unwrap();
    let alice = RsaSigner::generate(2048).unwrap();
    let files = Files::new();
    let sizes = [0, 1, 1 << 20, (2 << 20) + 12_345];
    for (i, size) in sizes.into_iter().enumerate() {
        let content = pattern(size);
        let name = format!("file-{i}.bin");
        let protected = protect(
            &w,
            &files,
            &name,
            &content,
            vec![grant("alice", "view,export")],
        )
        .await;
        let info = document_info(&protected).unwrap();
        assert_eq!(info.server_url, URL);
        assert_eq!(info.grants, vec![grant("alice", "view,export")]);
        assert!(info.issuer.contains("licensing-1"), "{}", info.issuer);

        let out = files.path(&format!("opened-{i}.bin"));
        let mut last = None;
        let opened = client(&w, &alice_token)
            .open(&protected, &out, alice.private_key(), None, &mut |p| {
                last = Some(p)
            })
            .await
            .unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), content, "size {size}");
        assert_eq!(opened.opened.len(), size as u64);
        assert_eq!(opened.opened.metadata().file_name(), name);
        assert_eq!(
            opened.opened.metadata().media_type(),
            "application/octet-stream"
        );
        assert_eq!(opened.license.source(), LicenseSource::Server);
        assert_eq!(opened.license.rights().principal, "alice");
        assert_eq!(opened.license.rights().rights, rights("view,export"));
        assert_eq!(
            opened.license.rights().expires,
            w.clock.now() + Duration::days(7 * 365 + 2)
        );
        if size > 0 {
            assert_eq!(
                last.map(|p| (p.done, p.total)),
                Some((size as u64, size as u64))
            );
        }
    }
    assert!(
        files.names().iter().all(|n| !n.starts_with(".rms-")),
        "{:?}",
        files.names()
    );
}

#[tokio::test]
async fn rights_are_enforced_and_exposed() {
    let w = world().await;
    let (_, viewer_token) = w
        .licensing_admin
        .add_principal("viewer", &[])
        .await
        .unwrap();
    let (_, editor_token) = w
        .licensing_admin
        .add_principal("editor", &[])
        .await
        .unwrap();
    let (_, bob_token) = w.licensing_admin.add_principal("bob", &[]).await.unwrap();
    let key = RsaSigner::generate(2048).unwrap();
    let files = Files::new();
    let protected = protect(
        &w,
        &files,
        "notes.txt",
        b"confidential",
        vec![grant("viewer", "view,print"), grant("editor", "view,edit")],
    )
    .await;
    let info = document_info(&protected).unwrap();

    // A view-only user gets a license, cannot write the plaintext out, but can view it.
    let out = files.path("notes-out.txt");
    let refused = client(&w, &viewer_token)
        .open(&protected, &out, key.private_key(), None, &mut |_| {})
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "right_not_granted");
    let message = refused.to_string();
    assert!(
        message.contains("export or edit right") && message.contains("view, print"),
        "{message}"
    );
    assert!(!out.exists());
    let license = client(&w, &viewer_token)
        .license(&info, key.private_key(), None)
        .await
        .unwrap();
    assert!(license.rights().allows(UsageRight::Print));
    assert!(!license.rights().allows(UsageRight::Export));
    let shown = license
        .open_in_memory(&std::fs::read(&protected).unwrap(), 1 << 20)
        .unwrap();
    assert_eq!(shown.content(), b"confidential");
    assert_eq!(shown.metadata().media_type(), "text/plain");

    // Edit is enough to write it out.
    client(&w, &editor_token)
        .open(&protected, &out, key.private_key(), None, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), b"confidential");

    // A user the policy does not name is refused by the server.
    let refused = client(&w, &bob_token)
        .license(&info, key.private_key(), None)
        .await
        .unwrap_err();
    assert_eq!(refused_code(&refused), "not_granted", "{refused}");
}

#[tokio::test]
async fn a_use_license_for_another_user_or_document_is_refused() {
    let w = world().await;
    let (_, alice_token) = w.licensing_admin.add_principal("alice", &[]).await.unwrap();
    let alice = RsaSigner::generate(2048).unwrap();
    let mallory = RsaSigner::generate(2048).unwrap();
    let files = Files::new();
    let first = protect(
        &w,
        &files,
        "a.txt",
        b"a",
        vec![grant("alice", "view,export")],
    )
    .await;
    let second = protect(
        &w,
        &files,
        "b.txt",
        b"b",
        vec![grant("alice", "view,export")],
    )
    .await;
    let (first, second) = (
        document_info(&first).unwrap(),
        document_info(&second).unwrap(),
    );
    let authority = rms_roles::client::Authority::from_pem(&w.authority_pem).unwrap();
    let license = client(&w, &alice_token)
        .license(&first, alice.private_key(), None)
        .await
        .unwrap();
    let use_license = license.use_license();

    let refused = DocumentLicense::verify(
        &authority,
        &first,
        use_license,
        mallory.private_key(),
        w.clock.now(),
    )
    .unwrap_err();
    assert_eq!(refused.code(), "use_license_not_for_key", "{refused}");
    let refused = DocumentLicense::verify(
        &authority,
        &second,
        use_license,
        alice.private_key(),
        w.clock.now(),
    )
    .unwrap_err();
    assert_eq!(refused.code(), "wrong_use_license", "{refused}");
    let refused = DocumentLicense::verify(
        &authority,
        &first,
        &first.publishing_license,
        alice.private_key(),
        w.clock.now(),
    )
    .unwrap_err();
    assert_eq!(refused.code(), "not_a_use_license", "{refused}");

    // Under another authority nothing verifies.
    let other = root_only().await;
    let stranger = rms_roles::client::Authority::from_pem(&other.4.authority_pem).unwrap();
    let refused = DocumentLicense::verify(
        &stranger,
        &first,
        use_license,
        alice.private_key(),
        w.clock.now(),
    )
    .unwrap_err();
    assert_eq!(refused.code(), "untrusted", "{refused}");
}

#[tokio::test]
async fn an_expired_use_license_is_refused() {
    let w = world().await;
    let (_, alice_token) = w.licensing_admin.add_principal("alice", &[]).await.unwrap();
    let alice = RsaSigner::generate(2048).unwrap();
    let files = Files::new();
    let ends = w.clock.now() + Duration::days(1);
    let protected = protect(
        &w,
        &files,
        "short.txt",
        b"for a day",
        vec![grant("alice", "view,export").with_expiry(ends)],
    )
    .await;
    let info = document_info(&protected).unwrap();
    let store_dir = files.path("licenses");
    let store = LicenseStore::open(&store_dir).unwrap();
    let license = client(&w, &alice_token)
        .license(&info, alice.private_key(), Some(&store))
        .await
        .unwrap();
    assert_eq!(license.rights().expires, ends);
    assert_eq!(store.len().unwrap(), 1);

    w.clock.advance(Duration::days(2));
    let authority = rms_roles::client::Authority::from_pem(&w.authority_pem).unwrap();
    let refused = DocumentLicense::verify(
        &authority,
        &info,
        license.use_license(),
        alice.private_key(),
        w.clock.now(),
    )
    .unwrap_err();
    assert_eq!(refused.code(), "use_license_expired");
    assert!(
        refused.to_string().contains(&rms_roles::rfc3339(ends)),
        "{refused}"
    );
    // The stored license is not used, and the server gives no new one (the grant ended).
    let out = files.path("short-out.txt");
    let refused = client(&w, &alice_token)
        .open(
            &protected,
            &out,
            alice.private_key(),
            Some(&store),
            &mut |_| {},
        )
        .await
        .unwrap_err();
    let message = rms_roles::describe_error(&refused);
    assert_eq!(refused.code(), "no_valid_use_license", "{message}");
    assert!(
        message.contains("expired at") && message.contains("ended at"),
        "{message}"
    );
    assert!(!out.exists());
    assert_eq!(store.len().unwrap(), 0, "an unusable license is dropped");
}

/// A licensing server that cannot be reached.
struct Unreachable;

impl LicensingChannel for Unreachable {
    async fn chain(&self) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        Err("connection refused".into())
    }
    async fn publish(
        &self,
        _: &PublishRequest,
    ) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        Err("connection refused".into())
    }
    async fn use_license(
        &self,
        _: &str,
        _: &SubjectPublicKeyInfoOwned,
    ) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        Err("connection refused".into())
    }
}

#[tokio::test]
async fn a_stored_license_reopens_offline_while_valid() {
    let w = world().await;
    let (_, alice_token) = w.licensing_admin.add_principal("alice", &[]).await.unwrap();
    let alice = RsaSigner::generate(2048).unwrap();
    let bob = RsaSigner::generate(2048).unwrap();
    let files = Files::new();
    let protected = protect(
        &w,
        &files,
        "r.txt",
        b"offline",
        vec![grant("alice", "view,export")],
    )
    .await;
    let store = LicenseStore::open(&files.path("licenses")).unwrap();
    let out = files.path("r-out.txt");
    let first = client(&w, &alice_token)
        .open(
            &protected,
            &out,
            alice.private_key(),
            Some(&store),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert_eq!(first.license.source(), LicenseSource::Server);

    let authority = rms_roles::client::Authority::from_pem(&w.authority_pem).unwrap();
    let clock: Arc<dyn Clock> = w.clock.clone();
    let offline = DocumentClient::new(Unreachable, authority).with_clock(clock);
    std::fs::remove_file(&out).unwrap();
    let again = offline
        .open(
            &protected,
            &out,
            alice.private_key(),
            Some(&store),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert_eq!(again.license.source(), LicenseSource::Store);
    assert_eq!(std::fs::read(&out).unwrap(), b"offline");

    // The store is keyed by the user's key: bob finds nothing, and offline gets nothing.
    let refused = offline
        .open(
            &protected,
            &out,
            bob.private_key(),
            Some(&store),
            &mut |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "upstream_unavailable", "{refused}");

    // A changed file in the store is not trusted: it is dropped, not used. (Beside the
    // license, the store keeps the cluster's revocation list, `rl-*.der`.)
    let stored: Vec<PathBuf> = std::fs::read_dir(store.dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pem"))
        .collect();
    assert_eq!(stored.len(), 1);
    let text = std::fs::read_to_string(&stored[0]).unwrap();
    let flipped = text.replacen("MII", "MIJ", 1);
    std::fs::write(&stored[0], flipped).unwrap();
    assert!(
        offline
            .open(
                &protected,
                &out,
                alice.private_key(),
                Some(&store),
                &mut |_| {}
            )
            .await
            .is_err()
    );
    assert_eq!(store.len().unwrap(), 0);

    // Seven years on, the stored license has expired.
    client(&w, &alice_token)
        .license(
            &document_info(&protected).unwrap(),
            alice.private_key(),
            Some(&store),
        )
        .await
        .unwrap();
    w.clock.advance(Duration::days(8 * 365));
    let refused = offline
        .open(
            &protected,
            &out,
            alice.private_key(),
            Some(&store),
            &mut |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "no_valid_use_license", "{refused}");
}

#[tokio::test]
async fn the_license_store_is_bounded() {
    let w = world().await;
    let (_, alice_token) = w.licensing_admin.add_principal("alice", &[]).await.unwrap();
    let alice = RsaSigner::generate(2048).unwrap();
    let files = Files::new();
    let store = LicenseStore::open(&files.path("licenses"))
        .unwrap()
        .with_max_entries(2);
    for i in 0..4 {
        let name = format!("d{i}.txt");
        let protected = protect(&w, &files, &name, b"x", vec![grant("alice", "view")]).await;
        client(&w, &alice_token)
            .license(
                &document_info(&protected).unwrap(),
                alice.private_key(),
                Some(&store),
            )
            .await
            .unwrap();
        assert_eq!(store.len().unwrap(), (i + 1).min(2));
    }
}

#[tokio::test]
async fn bad_files_are_refused_leaving_no_plaintext() {
    let w = world().await;
    let (_, alice_token) = w.licensing_admin.add_principal("alice", &[]).await.unwrap();
    let alice = RsaSigner::generate(2048).unwrap();
    let files = Files::new();
    let content = pattern((1 << 20) + 100);
    let protected = protect(
        &w,
        &files,
        "big.bin",
        &content,
        vec![grant("alice", "view,export")],
    )
    .await;
    let bytes = std::fs::read(&protected).unwrap();
    let len = bytes.len();
    let before = files.names();

    // A flipped byte in the ciphertext's second chunk, near the end, in the tag; truncation.
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for at in [len / 2, len - 40, len - 1] {
        let mut changed = bytes.clone();
        changed[at] ^= 0x01;
        cases.push((format!("byte {at} flipped"), changed));
    }
    cases.push(("truncated".into(), bytes[..len - 10].to_vec()));
    for (what, changed) in cases {
        let path = files.write("tampered.rms", &changed);
        let out = files.path("tampered-out.bin");
        let refused = client(&w, &alice_token)
            .open(&path, &out, alice.private_key(), None, &mut |_| {})
            .await
            .unwrap_err();
        assert!(
            matches!(refused, RoleError::Content(_)),
            "{what}: {}",
            rms_roles::describe_error(&refused)
        );
        assert_eq!(refused.code(), "protected_file_refused", "{what}");
        assert!(!out.exists(), "{what}: no plaintext");
        std::fs::remove_file(&path).unwrap();
        assert_eq!(files.names(), before, "{what}: nothing left behind");
    }

    // Not a protected file at all.
    let path = files.write("plain.rms", b"just text");
    assert!(matches!(
        document_info(&path).unwrap_err(),
        RoleError::Content(_)
    ));
    let missing = document_info(Path::new("/nonexistent/file.rms")).unwrap_err();
    assert_eq!(missing.code(), "local_file");
}

#[tokio::test]
async fn a_file_protected_for_another_cluster_is_refused_by_this_one() {
    let w = world().await;
    let (_, alice_token) = w.licensing_admin.add_principal("alice", &[]).await.unwrap();
    let alice = RsaSigner::generate(2048).unwrap();
    let other = enroll_licensing(
        &w.dir,
        &w.clock,
        &w.root,
        &w.root_token,
        &w.authority_pem,
        "licensing-2",
    )
    .await;
    // The same name exists on the other cluster, which must not make its documents open here.
    other.admin.add_principal("alice", &[]).await.unwrap();
    let files = Files::new();
    let source = files.write("elsewhere.txt", b"elsewhere");
    let protected = files.path("elsewhere.txt.rms");
    let authority = rms_roles::client::Authority::from_pem(&w.authority_pem).unwrap();
    let clock: Arc<dyn Clock> = w.clock.clone();
    DocumentClient::new(LocalLicensing::new(&other.role, &other.token), authority)
        .with_clock(clock)
        .protect(
            "https://licensing-2.example/_wmcs/licensing",
            &Protection {
                grants: vec![grant("alice", "view,export")],
                ..Protection::default()
            },
            &source,
            &protected,
            &mut |_| {},
        )
        .await
        .unwrap();
    let out = files.path("elsewhere-out.txt");
    let refused = client(&w, &alice_token)
        .open(&protected, &out, alice.private_key(), None, &mut |_| {})
        .await
        .unwrap_err();
    assert_eq!(
        refused_code(&refused),
        "foreign_publishing_license",
        "{}",
        rms_roles::describe_error(&refused)
    );
    assert!(!out.exists());
}

#[tokio::test]
async fn a_document_protected_with_a_template_opens_for_a_member_of_its_granted_group() {
    let w = world().await;
    w.licensing_admin.add_group("employees").await.unwrap();
    let (_, alice_token) = w
        .licensing_admin
        .add_principal("alice", &["employees".to_owned()])
        .await
        .unwrap();
    let (_, bob_token) = w.licensing_admin.add_principal("bob", &[]).await.unwrap();
    w.licensing_admin
        .add_template(&rms_roles::TemplateSpec {
            name: "confidential".into(),
            description: "employees may view and export".into(),
            grants: vec![rms_cert::TemplateGrant::new("employees", rights("view,export")).unwrap()],
            content_validity: None,
            use_license_lifetime: None,
        })
        .await
        .unwrap();
    let files = Files::new();
    let source = files.write("memo.txt", b"for employees only");
    let protected = files.path("memo.txt.rms");
    let protection = Protection {
        template: Some("confidential".into()),
        ..Protection::default()
    };
    client(&w, &w.licensing_token)
        .protect(URL, &protection, &source, &protected, &mut |_| {})
        .await
        .unwrap();
    let info = document_info(&protected).unwrap();
    assert_eq!(info.grants, vec![grant("employees", "view,export")]);

    let alice = RsaSigner::generate(2048).unwrap();
    let out = files.path("memo-alice.txt");
    client(&w, &alice_token)
        .open(&protected, &out, alice.private_key(), None, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), b"for employees only");

    let bob = RsaSigner::generate(2048).unwrap();
    let refused = client(&w, &bob_token)
        .open(
            &protected,
            &files.path("memo-bob.txt"),
            bob.private_key(),
            None,
            &mut |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(refused_code(&refused), "not_granted");
    assert!(!files.path("memo-bob.txt").exists());

    let unknown = client(&w, &w.licensing_token)
        .protect(
            URL,
            &Protection {
                template: Some("no-such-template".into()),
                ..Protection::default()
            },
            &source,
            &files.path("memo-2.rms"),
            &mut |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(refused_code(&unknown), "unknown_template");
    assert!(!files.path("memo-2.rms").exists());
}

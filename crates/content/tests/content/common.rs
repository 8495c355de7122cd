//! Shared fixtures: a licensing cluster (authority, root, licensing server) made once per test
//! binary, publishing licenses from it, and helpers.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, LazyLock};

use rms_cert::{
    ContentPolicy, EnrollmentRequest, Grant, Issuer, RsaSigner, ServerId, ServerIdentity,
    ServerRole, SignedLicense, UsageRights, issue_publishing_license,
};
use rms_content::{ContentKey, Envelope, FileMetadata, protect_to_vec};
use rms_policy::ValidityPolicy;
use time::OffsetDateTime;
use time::macros::datetime;

pub(crate) const NOW: OffsetDateTime = datetime!(2026-03-10 09:30:00 UTC);
pub(crate) const SERVER_URL: &str = "https://licensing.example.com/_wmcs/licensing";

pub(crate) struct Cluster {
    pub licensing: Issuer,
    /// The licensing cluster's key (the SLC's).
    pub key: Arc<RsaSigner>,
    /// A user's key, for use licenses.
    pub user: Arc<RsaSigner>,
}

fn enroll(issuer: &Issuer, name: &str, role: ServerRole, key: &Arc<RsaSigner>) -> Issuer {
    let identity = ServerIdentity::new(
        name,
        role,
        ServerId::random().unwrap(),
        &format!("https://{name}.example.com/_wmcs/certification"),
    )
    .unwrap();
    let checked = EnrollmentRequest::new(&identity, key.as_ref())
        .unwrap()
        .check()
        .unwrap();
    Issuer::new(
        Arc::clone(key) as Arc<dyn rms_cert::Signer>,
        issuer.issue_slc(&checked, NOW).unwrap(),
    )
    .unwrap()
}

pub(crate) static CLUSTER: LazyLock<Cluster> = LazyLock::new(|| {
    let keys: Vec<Arc<RsaSigner>> = (0..4)
        .map(|_| Arc::new(RsaSigner::generate(2048).unwrap()))
        .collect();
    let authority = Issuer::create_authority(
        "CN=Test Enrollment Authority,O=RMS Tests".parse().unwrap(),
        Arc::clone(&keys[0]) as Arc<dyn rms_cert::Signer>,
        ValidityPolicy::default(),
        NOW,
    )
    .unwrap();
    let root = enroll(
        &authority,
        "root",
        ServerRole::RootCertificationServer,
        &keys[1],
    );
    let licensing = enroll(&root, "licensing", ServerRole::LicensingServer, &keys[2]);
    Cluster {
        licensing,
        key: Arc::clone(&keys[2]),
        user: Arc::clone(&keys[3]),
    }
});

/// A publishing license from the cluster for `key`.
pub(crate) fn publishing_license(key: &ContentKey) -> SignedLicense {
    let policy = ContentPolicy::new(
        "0f8fad5b-d9cb-469f-a165-70867728950e",
        vec![Grant::new("alice@example.com", UsageRights::ALL).unwrap()],
    )
    .unwrap();
    issue_publishing_license(&CLUSTER.licensing, &policy, key.as_bytes(), NOW).unwrap()
}

pub(crate) fn envelope(key: &ContentKey) -> Envelope {
    Envelope::new(publishing_license(key), SERVER_URL).unwrap()
}

pub(crate) fn metadata() -> FileMetadata {
    FileMetadata::new("quarterly report.txt", "text/plain; charset=utf-8").unwrap()
}

/// Deterministic test content of `len` octets.
pub(crate) fn content(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64 ^ len as u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24).to_le_bytes()[0]
        })
        .collect()
}

/// A key, and a file protected with it.
pub(crate) fn protected(len: usize) -> (ContentKey, Vec<u8>, Vec<u8>) {
    let key = ContentKey::generate().unwrap();
    let plaintext = content(len);
    let file = protect_to_vec(&key, &envelope(&key), &metadata(), &plaintext).unwrap();
    (key, plaintext, file)
}

/// The names in `dir`.
pub(crate) fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Whether `openssl` can run; prints why a test skips when it cannot.
pub(crate) fn have_openssl(test: &str) -> bool {
    match Command::new("openssl").arg("version").output() {
        Ok(out) if out.status.success() => true,
        _ => {
            eprintln!("SKIPPED {test}: `openssl` is not installed");
            false
        }
    }
}

/// Runs openssl with `args` in `dir`.
pub(crate) fn openssl(dir: &Path, args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl")
}

#[track_caller]
pub(crate) fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

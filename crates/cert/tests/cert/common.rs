//! Shared fixtures: keys generated once per test binary, and a three-level PKI.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, LazyLock};

use rms_cert::{
    CheckedRequest, EnrollmentRequest, Issuer, RsaSigner, ServerId, ServerIdentity, ServerRole,
};
use rms_policy::ValidityPolicy;
use time::OffsetDateTime;
use time::macros::datetime;

/// Keys: 0 authority, 1 root, 2 licensing, 3 grantee, 4 spare.
pub(crate) static KEYS: LazyLock<Vec<Arc<RsaSigner>>> = LazyLock::new(|| {
    (0..5)
        .map(|_| Arc::new(RsaSigner::generate(2048).unwrap()))
        .collect()
});

pub(crate) fn key(i: usize) -> Arc<RsaSigner> {
    Arc::clone(&KEYS[i])
}

/// The issue time most tests use.
pub(crate) const NOW: OffsetDateTime = datetime!(2026-03-10 09:30:00 UTC);

pub(crate) fn identity(name: &str, role: ServerRole) -> ServerIdentity {
    let url = format!("https://{name}.example.com/_wmcs/certification");
    ServerIdentity::new(name, role, ServerId::random().unwrap(), &url).unwrap()
}

pub(crate) fn checked(name: &str, role: ServerRole, signer: &RsaSigner) -> CheckedRequest {
    EnrollmentRequest::new(&identity(name, role), signer)
        .unwrap()
        .check()
        .unwrap()
}

pub(crate) struct Pki {
    pub authority: Issuer,
    pub root: Issuer,
    pub licensing: Issuer,
}

/// Authority -> root SLC -> licensing SLC, all issued at `now`.
pub(crate) fn pki_at(now: OffsetDateTime) -> Pki {
    let authority = Issuer::create_authority(
        "CN=Test Enrollment Authority,O=RMS Tests".parse().unwrap(),
        key(0),
        ValidityPolicy::default(),
        now,
    )
    .unwrap();
    let root_chain = authority
        .issue_slc(
            &checked("root", ServerRole::RootCertificationServer, &key(1)),
            now,
        )
        .unwrap();
    let root = Issuer::new(key(1), root_chain).unwrap();
    let licensing_chain = root
        .issue_slc(
            &checked("licensing", ServerRole::LicensingServer, &key(2)),
            now,
        )
        .unwrap();
    let licensing = Issuer::new(key(2), licensing_chain).unwrap();
    Pki {
        authority,
        root,
        licensing,
    }
}

pub(crate) static PKI: LazyLock<Pki> = LazyLock::new(|| pki_at(NOW));

/// Whether `openssl` can run; prints why a test skips when it cannot.
pub(crate) fn have_openssl(test: &str) -> bool {
    match Command::new("openssl").arg("version").output() {
        Ok(out) if out.status.success() => true,
        _ => {
            eprintln!("SKIPPED {test}: `openssl` is not installed (CI installs it)");
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

/// The same key in the `rsa` crate: an independent implementation, for fixtures.
pub(crate) fn rsa_key(key: &RsaSigner) -> rsa::PrivateKey {
    use rsa::pkcs8::DecodePrivateKey;
    rsa::PrivateKey::from_pkcs8_der(&key.to_pkcs8_der().unwrap()).unwrap()
}

/// A signer of the `rsa` crate, for keys rms-keys will not hold (1024 bits, exponent 3).
pub(crate) struct RsaCrateSigner {
    key: rsa::pkcs1v15::SigningKey<sha2::Sha256>,
    public_key: spki::SubjectPublicKeyInfoOwned,
}

impl RsaCrateSigner {
    pub(crate) fn new(key: rsa::PrivateKey) -> Self {
        let public_key =
            spki::SubjectPublicKeyInfoOwned::from_key(&rsa::PublicKey::from(&key)).unwrap();
        Self {
            key: rsa::pkcs1v15::SigningKey::new(key),
            public_key,
        }
    }
}

impl rms_cert::Signer for RsaCrateSigner {
    fn algorithm(&self) -> spki::AlgorithmIdentifierOwned {
        rms_keys::rsa_pkcs1_sha256_identifier()
    }
    fn public_key(&self) -> spki::SubjectPublicKeyInfoOwned {
        self.public_key.clone()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rms_keys::KeyError> {
        use rsa::signature::{SignatureEncoding, Signer};
        Ok(self.key.sign(message).to_vec())
    }
}

//! Helpers shared by the tests.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, LazyLock};

use rms_keys::{Backend, PrivateKey, SoftwareKey};

/// One 2048-bit key per software backend, generated once (key generation is slow).
pub(crate) static KEYS: LazyLock<Vec<Arc<SoftwareKey>>> = LazyLock::new(|| {
    Backend::software_built()
        .into_iter()
        .map(|backend| Arc::new(SoftwareKey::generate_with(backend, 2048).unwrap()))
        .collect()
});

/// Whether `openssl` runs; says why the test skips when it does not.
pub(crate) fn have_openssl(test: &str) -> bool {
    let found = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        eprintln!("{test}: skipped, `openssl` is not on the PATH");
    }
    found
}

/// Runs `openssl args...` in `dir`.
pub(crate) fn openssl(dir: &Path, args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Panics with OpenSSL's own words unless it succeeded.
pub(crate) fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A key's public half as PEM.
pub(crate) fn public_pem(key: &dyn PrivateKey) -> String {
    use der::Encode;
    let der = key.public_key().to_der().unwrap();
    der::pem::encode_string("PUBLIC KEY", der::pem::LineEnding::LF, &der).unwrap()
}

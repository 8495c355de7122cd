//! Runs `examples/protect_and_open`: its exit status, its story, the files it writes, and
//! OpenSSL decrypting the protected document with the cluster's key (when `openssl` is
//! installed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

mod common;

const FILES: [&str; 6] = [
    "document.rms",
    "licensing-key.pem",
    "licensing-slc.pem",
    "authority.pem",
    "use-license.pem",
    "document.txt",
];

#[test]
fn the_story_runs_and_its_files_open_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("files");
    let run = Command::new(common::example("protect_and_open"))
        .args(["--out", out.to_str().unwrap()])
        .output()
        .expect("the example starts");
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(
        run.status.success(),
        "protect_and_open failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    for expected in [
        "use license: alice may view, export until",
        "identical to the original",
        "opened from the license store (Store)",
        "writing it out: refused (right_not_granted)",
        "needs the export or edit right",
        "viewing it (the application enforces the rest): \"Quarterly figures",
        "carol, whom the policy does not name",
        "grants nothing to carol",
        "dave, a member of board, gets a use license: dave may view until",
        "while super users are disabled: refused (not_granted)",
        "once enabled: erin may view, edit, print, export, forward (audited as super-user access)",
        "no node issues a use license for it any more",
        "refuses: access to this document was revoked on",
        "(superseded by the audited figures)",
        "done",
    ] {
        assert!(stdout.contains(expected), "{expected:?} not in:\n{stdout}");
    }
    for name in FILES {
        assert!(out.join(name).exists(), "{name} was not written");
    }
    let copy = std::fs::read_to_string(out.join("document.txt")).unwrap();
    assert!(copy.starts_with("Quarterly figures"), "{copy}");

    if let Err(reason) = Command::new("openssl").arg("version").output() {
        eprintln!("skipping the OpenSSL check: cannot run `openssl` ({reason}); CI installs it");
        return;
    }
    let decrypted = Command::new("openssl")
        .current_dir(&out)
        .args([
            "cms",
            "-decrypt",
            "-inform",
            "DER",
            "-in",
            "document.rms",
            "-recip",
            "licensing-slc.pem",
            "-inkey",
            "licensing-key.pem",
        ])
        .output()
        .unwrap();
    assert!(
        decrypted.status.success(),
        "openssl cms -decrypt: {}",
        String::from_utf8_lossy(&decrypted.stderr)
    );
    // The plaintext is the encrypted header (DER) followed by the document.
    assert!(
        decrypted.stdout.ends_with(copy.as_bytes()),
        "OpenSSL recovers the document"
    );
}

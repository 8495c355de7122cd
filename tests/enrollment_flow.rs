//! Runs `examples/enrollment_flow` in both modes: its exit status, its story, the artifacts it
//! writes, and OpenSSL's verdict on them (when `openssl` is installed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

mod common;

fn example() -> &'static Path {
    static EXAMPLE: OnceLock<PathBuf> = OnceLock::new();
    EXAMPLE.get_or_init(|| common::example("enrollment_flow"))
}

fn run_example(args: &[&str]) -> String {
    let out = Command::new(example())
        .args(args)
        .output()
        .expect("the example starts");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "enrollment_flow {args:?} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The verification line for `label` (`now`, `+2 years`, `+8 years`) under `model`.
fn verdict<'a>(stdout: &'a str, label: &str, model: &str) -> &'a str {
    stdout
        .lines()
        .find(|line| line.trim_start().starts_with(label) && line.contains(model))
        .unwrap_or_else(|| panic!("no verification line for {label} ({model}) in:\n{stdout}"))
}

/// Valid now and at +2 years under the chain model, refused at +2 years under the shell model
/// and at +8 years.
fn assert_verdicts(stdout: &str) {
    for (label, model, expected) in [
        ("now", "chain model", "chain model: VALID"),
        ("+2 years", "chain model", "chain model: VALID"),
        ("+2 years", "shell model", "shell model: INVALID"),
        ("+8 years", "chain model", "chain model: INVALID"),
    ] {
        let line = verdict(stdout, label, model);
        assert!(
            line.contains(expected),
            "{label}: expected {expected:?}, got {line:?}"
        );
    }
}

const ARTIFACTS: [&str; 8] = [
    "authority.pem",
    "root-slc.pem",
    "licensing-slc.pem",
    "chain.pem",
    "publishing-license.pem",
    "use-license.pem",
    "root-key.pem",
    "licensing-key.pem",
];

#[test]
fn offline_flow_writes_artifacts_that_openssl_accepts() {
    let dir = tempfile::tempdir().unwrap();
    // A directory that does not exist yet: the example creates it.
    let out = dir.path().join("artifacts");
    let stdout = run_example(&["--out", out.to_str().unwrap()]);
    assert_verdicts(&stdout);

    for name in ARTIFACTS {
        let text = std::fs::read_to_string(out.join(name))
            .unwrap_or_else(|e| panic!("{name} was not written: {e}"));
        assert!(text.starts_with("-----BEGIN "), "{name} is not PEM");
    }
    let chain = std::fs::read_to_string(out.join("chain.pem")).unwrap();
    assert_eq!(chain.matches("-----BEGIN CERTIFICATE-----").count(), 3);
    assert!(
        chain.starts_with(&std::fs::read_to_string(out.join("licensing-slc.pem")).unwrap()),
        "chain.pem must start with the licensing SLC (leaf first)"
    );
    for key in ["root-key.pem", "licensing-key.pem"] {
        let text = std::fs::read_to_string(out.join(key)).unwrap();
        assert!(
            text.starts_with("-----BEGIN PRIVATE KEY-----"),
            "{key} is not PKCS#8"
        );
    }

    if let Err(reason) = Command::new("openssl").arg("version").output() {
        eprintln!("skipping the OpenSSL checks: cannot run `openssl` ({reason}); CI installs it");
        return;
    }
    assert_ok(
        &openssl(
            &out,
            &[
                "verify",
                "-CAfile",
                "authority.pem",
                "-untrusted",
                "root-slc.pem",
                "licensing-slc.pem",
            ],
        ),
        "openssl verify",
    );
    for license in ["publishing-license.pem", "use-license.pem"] {
        assert_ok(
            &openssl(
                &out,
                &[
                    "cms",
                    "-verify",
                    "-binary",
                    "-inform",
                    "PEM",
                    "-in",
                    license,
                    "-CAfile",
                    "authority.pem",
                    "-purpose",
                    "any",
                    "-noout",
                ],
            ),
            &format!("openssl cms -verify {license}"),
        );
    }
    for key in ["root-key.pem", "licensing-key.pem"] {
        assert_ok(
            &openssl(&out, &["pkey", "-in", key, "-noout"]),
            &format!("openssl pkey {key}"),
        );
    }
}

#[test]
fn http_flow_is_refused_with_403_until_the_dacl_grants_it() {
    let stdout = run_example(&["--http"]);
    let refused = stdout
        .find("refused, HTTP 403")
        .unwrap_or_else(|| panic!("no 403 refusal in:\n{stdout}"));
    let granted = stdout
        .find("granted, HTTP 200")
        .unwrap_or_else(|| panic!("no granted sub-enrollment in:\n{stdout}"));
    assert!(refused < granted, "the 403 must come before the grant");
    assert!(stdout.contains("POST /licensing/publish -> HTTP 200"));
    assert!(stdout.contains("POST /licensing/uselicense -> HTTP 200"));
    assert_verdicts(&stdout);
}

fn openssl(dir: &Path, args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs")
}

fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

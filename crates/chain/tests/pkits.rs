//! NIST PKITS (Test Certificates 2011) as a conformance test.
//!
//! Reads `tests.json` and the certificates from the shared vectors folder (`RMS_VECTORS_DIR`, or
//! `<workspace>/../shared/vectors`), validates every entry whose `needs` are all features we
//! implement at 2011-04-15T00:00:00Z under the shell model with rights checks off, and asserts
//! the PKITS verdict. Entries needing anything else are counted as not applicable, with the
//! reason. The exact number of passes is asserted, so a regression fails the test.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rms_chain::{Cert, ChainError, Purpose, TrustAnchor, TrustAnchors, VerifyOptions, verify_path};
use rms_policy::ValidationModel;
use serde::Deserialize;
use time::macros::datetime;

/// Features this crate implements, in the vocabulary of `tests.json`.
const IMPLEMENTED: [&str; 6] = [
    "signature",
    "validity",
    "name-chaining",
    "basic-constraints",
    "path-len",
    "key-usage",
];

/// Applicable entries that give the PKITS verdict. Raise it when a feature is added; a drop
/// is a regression.
const EXPECTED_PASSES: usize = 44;

#[derive(Debug, Deserialize)]
struct Entry {
    case_id: String,
    section: String,
    section_name: String,
    name: String,
    certs: Vec<String>,
    #[serde(default)]
    crl_signer_certs: Vec<String>,
    expected: String,
    needs: Vec<String>,
}

fn vectors_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("RMS_VECTORS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"),
    };
    let pkits = dir.join("pkits");
    pkits.join("tests.json").is_file().then_some(pkits)
}

#[derive(Default)]
struct Tally {
    name: String,
    passed: usize,
    failed: usize,
    not_applicable: usize,
}

#[test]
fn nist_pkits() {
    let Some(dir) = vectors_dir() else {
        println!(
            "PKITS skipped: no shared/vectors/pkits/tests.json next to the workspace and \
             RMS_VECTORS_DIR not set (CI has them)"
        );
        return;
    };
    let entries: Vec<Entry> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("tests.json")).unwrap()).unwrap();
    let read = |name: &str| -> Result<Cert, ChainError> {
        Cert::from_der(&std::fs::read(dir.join("certs").join(name)).unwrap())
    };
    let options = VerifyOptions::new()
        .with_model(ValidationModel::Shell)
        .with_purpose(Purpose::Any);
    let at = datetime!(2011-04-15 00:00 UTC);

    let mut sections: BTreeMap<(u32, u32), Tally> = BTreeMap::new();
    let mut reasons: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut failures = Vec::new();
    for entry in &entries {
        let key = section_key(&entry.section);
        let tally = sections.entry(key).or_default();
        tally.name = format!("{} {}", entry.section, entry.section_name);
        let missing: Vec<&str> = entry
            .needs
            .iter()
            .map(String::as_str)
            .filter(|need| !IMPLEMENTED.contains(need))
            .collect();
        if !missing.is_empty() {
            tally.not_applicable += 1;
            reasons
                .entry(format!("needs {}", missing.join(" + ")))
                .or_default()
                .push(entry.case_id.clone());
            continue;
        }
        let result = (|| {
            let (anchor, rest) = entry.certs.split_first().ok_or(ChainError::TrailingData)?;
            let (leaf, intermediates) = rest.split_last().ok_or(ChainError::TrailingData)?;
            let anchors = TrustAnchors::from(TrustAnchor::new(read(anchor)?));
            let pool = intermediates
                .iter()
                .chain(&entry.crl_signer_certs)
                .map(|name| read(name))
                .collect::<Result<Vec<_>, _>>()?;
            verify_path(&read(leaf)?, &pool, &anchors, at, &options)
        })();
        let valid = result.is_ok();
        let outcome = match &result {
            Ok(_) => "valid".to_owned(),
            Err(e) => format!("invalid: {e}"),
        };
        if valid == (entry.expected == "valid") {
            tally.passed += 1;
            println!("pass {} {}: {outcome}", entry.case_id, entry.name);
        } else {
            tally.failed += 1;
            failures.push(format!(
                "{} {}: expected {}, got {outcome}",
                entry.case_id, entry.name, entry.expected
            ));
        }
    }

    println!("\nPKITS at 2011-04-15T00:00:00Z, shell model, rights checks off:");
    println!("| section | applicable, passed | failed | not applicable |");
    let (mut passed, mut not_applicable) = (0, 0);
    for tally in sections.values() {
        println!(
            "| {} | {} | {} | {} |",
            tally.name, tally.passed, tally.failed, tally.not_applicable
        );
        passed += tally.passed;
        not_applicable += tally.not_applicable;
    }
    println!(
        "total: {passed} passed, {} failed, {not_applicable} not applicable",
        failures.len()
    );
    for (reason, cases) in &reasons {
        println!(
            "not applicable, {reason}: {} ({})",
            cases.len(),
            cases.join(", ")
        );
    }
    assert!(
        failures.is_empty(),
        "PKITS failures:\n{}",
        failures.join("\n")
    );
    assert_eq!(passed, EXPECTED_PASSES, "applicable and passing");
    assert_eq!(passed + not_applicable, entries.len());
}

/// "4.10" -> (4, 10), so sections sort numerically.
fn section_key(section: &str) -> (u32, u32) {
    let mut parts = section.split('.').map(|p| p.parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

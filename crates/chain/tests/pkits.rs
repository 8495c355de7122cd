//! NIST PKITS (Test Certificates 2011) as a conformance test.
//!
//! Reads `tests.json`, the certificates and the CRLs from the shared vectors folder
//! (`RMS_VECTORS_DIR`, or `<workspace>/../shared/vectors`), validates every entry whose `needs`
//! are all features we implement at 2011-04-15T00:00:00Z under the shell model with rights
//! checks off, the entry's `settings` as the policy inputs, and its CRLs required
//! ([`RevocationPolicy::RequireCurrent`]: missing revocation data is a failure, as PKITS
//! requires), and asserts the PKITS verdict, and for valid paths the user-constrained policy
//! set. Entries needing anything else are counted as not applicable, with the reason. The
//! exact counts per section are asserted, so a regression fails the test.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use const_oid::ObjectIdentifier;
use rms_chain::{
    Cert, ChainError, Crl, CrlSet, Purpose, RevocationPolicy, TrustAnchor, TrustAnchors,
    VerifyOptions, verify_path,
};
use rms_policy::ValidationModel;
use serde::Deserialize;
use time::macros::datetime;

/// Features this crate implements, in the vocabulary of `tests.json` (all but "dsa").
const IMPLEMENTED: [&str; 13] = [
    "signature",
    "validity",
    "name-chaining",
    "basic-constraints",
    "path-len",
    "key-usage",
    "policy",
    "explicit-policy",
    "policy-mapping",
    "inhibit-any-policy",
    "name-constraints",
    "revocation",
    "delta-crl",
];

/// Per section: (applicable and passing, not applicable). A change either way fails the test:
/// raise a count when a feature is added; a drop is a regression.
const EXPECTED: [(&str, usize, usize); 16] = [
    ("4.1", 3, 3),
    ("4.2", 8, 0),
    ("4.3", 11, 0),
    ("4.4", 21, 0),
    ("4.5", 8, 0),
    ("4.6", 17, 0),
    ("4.7", 5, 0),
    ("4.8", 35, 0),
    ("4.9", 8, 0),
    ("4.10", 23, 0),
    ("4.11", 11, 0),
    ("4.12", 11, 0),
    ("4.13", 38, 0),
    ("4.14", 35, 0),
    ("4.15", 10, 0),
    ("4.16", 2, 0),
];

#[derive(Debug, Deserialize)]
struct Entry {
    case_id: String,
    section: String,
    section_name: String,
    name: String,
    certs: Vec<String>,
    #[serde(default)]
    crl_signer_certs: Vec<String>,
    crls: Vec<String>,
    expected: String,
    needs: Vec<String>,
    #[serde(default)]
    settings: Settings,
    #[serde(default)]
    user_constrained_policy_set: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Settings {
    initial_policy_set: Option<Vec<String>>,
    #[serde(default)]
    initial_explicit_policy: bool,
    #[serde(default)]
    initial_policy_mapping_inhibit: bool,
    #[serde(default)]
    initial_any_policy_inhibit: bool,
}

fn oid(text: &str) -> ObjectIdentifier {
    ObjectIdentifier::from_str(text).unwrap()
}

/// The options of an entry: shell model, no rights, its settings, its CRLs required.
fn options_for(entry: &Entry, crls: CrlSet) -> VerifyOptions {
    let settings = &entry.settings;
    let mut options = VerifyOptions::new()
        .with_model(ValidationModel::Shell)
        .with_purpose(Purpose::Any)
        .with_initial_explicit_policy(settings.initial_explicit_policy)
        .with_initial_policy_mapping_inhibit(settings.initial_policy_mapping_inhibit)
        .with_initial_any_policy_inhibit(settings.initial_any_policy_inhibit)
        .with_revocation_policy(RevocationPolicy::RequireCurrent(Arc::new(crls)));
    if let Some(set) = &settings.initial_policy_set {
        options = options.with_initial_policy_set(set.iter().map(|p| oid(p)));
    }
    options
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
    let read_crl = |name: &str| -> Result<Crl, ChainError> {
        Crl::from_der(&std::fs::read(dir.join("crls").join(name)).unwrap())
    };
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
            let crls = entry
                .crls
                .iter()
                .map(|name| read_crl(name))
                .collect::<Result<CrlSet, _>>()?;
            verify_path(&read(leaf)?, &pool, &anchors, at, &options_for(entry, crls))
        })();
        let outcome = match &result {
            Ok(path) => {
                let policies: Vec<String> = path
                    .user_constrained_policies()
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                format!(
                    "valid, user-constrained policies {{{}}}",
                    policies.join(", ")
                )
            }
            Err(e) => format!("invalid: {e}"),
        };
        let verdict_ok = result.is_ok() == (entry.expected == "valid");
        // The policies a valid path ends with must be those PKITS (as Chromium) expects.
        let policies_ok = match (&result, &entry.user_constrained_policy_set) {
            (Ok(path), Some(expected)) => {
                let got: Vec<String> = path
                    .user_constrained_policies()
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                let mut expected = expected.clone();
                expected.sort();
                let mut got_sorted = got.clone();
                got_sorted.sort();
                expected == got_sorted
            }
            _ => true,
        };
        if verdict_ok && policies_ok {
            tally.passed += 1;
            println!("pass {} {}: {outcome}", entry.case_id, entry.name);
        } else {
            tally.failed += 1;
            let expected = match &entry.user_constrained_policy_set {
                Some(set) if entry.expected == "valid" => {
                    format!("valid with policies {{{}}}", set.join(", "))
                }
                _ => entry.expected.clone(),
            };
            println!(
                "FAIL {} {}: expected {expected}, got {outcome}",
                entry.case_id, entry.name
            );
            failures.push(format!(
                "{} {}: expected {expected}, got {outcome}",
                entry.case_id, entry.name
            ));
        }
    }

    println!("\nPKITS at 2011-04-15T00:00:00Z, shell model, rights checks off, CRLs required:");
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
    let counts: Vec<(String, usize, usize)> = sections
        .iter()
        .map(|((major, minor), t)| (format!("{major}.{minor}"), t.passed, t.not_applicable))
        .collect();
    let expected: Vec<(String, usize, usize)> = EXPECTED
        .iter()
        .map(|(s, p, n)| ((*s).to_owned(), *p, *n))
        .collect();
    assert_eq!(counts, expected, "per section: (passed, not applicable)");
    assert_eq!(passed + not_applicable, entries.len());
}

/// "4.10" -> (4, 10), so sections sort numerically.
fn section_key(section: &str) -> (u32, u32) {
    let mut parts = section.split('.').map(|p| p.parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

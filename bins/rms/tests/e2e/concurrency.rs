//! 200 concurrent use-license requests against a running licensing server: all succeed, all
//! are recorded, serials are unique, and every license verifies offline.

use std::collections::BTreeSet;

use rms_roles::cert::{LicenseBody, SignedLicense};
use rms_roles::chain::{TrustAnchor, TrustAnchors, Verifier, VerifyOptions};
use rms_transport::api::UseLicenseBody;

use crate::harness::*;

const REQUESTS: usize = 200;
const CLIENTS: usize = 4;

#[test]
fn concurrent_use_licenses_are_all_issued_and_recorded() {
    let d = Deployment::start();
    let alice = d.lic_principal("alice");
    let (_, alice_pub) = d.keygen("alice");
    let pl = d.publish("doc-1", &["alice:view,edit"]);
    let body = UseLicenseBody {
        publishing_license_pem: std::fs::read_to_string(&pl).unwrap(),
        public_key_pem: std::fs::read_to_string(&alice_pub).unwrap(),
    };
    let clients: Vec<_> = (0..CLIENTS).map(|_| d.lic.api(Some(&alice))).collect();

    let started = std::time::Instant::now();
    let answers = rt().block_on(async {
        let tasks: Vec<_> = (0..REQUESTS)
            .map(|i| {
                let api = clients[i % CLIENTS].clone();
                let body = body.clone();
                tokio::spawn(async move { api.use_license(&body).await })
            })
            .collect();
        let mut answers = Vec::with_capacity(REQUESTS);
        for task in tasks {
            answers.push(task.await.expect("task"));
        }
        answers
    });
    eprintln!(
        "{REQUESTS} concurrent use licenses in {:?}",
        started.elapsed()
    );
    let failures: Vec<String> = answers
        .iter()
        .filter_map(|a| a.as_ref().err().map(|e| e.to_string()))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {REQUESTS} requests failed, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    let answers: Vec<_> = answers.into_iter().map(Result::unwrap).collect();
    let answered = unique(answers.iter().map(|a| a.serial.clone()));
    assert_eq!(answered.len(), REQUESTS);

    // Every license is alice's, says the serial it was answered with, and verifies offline.
    let mut anchors = TrustAnchors::new();
    anchors.add(TrustAnchor::from_pem(&std::fs::read_to_string(&d.anchor).unwrap()).unwrap());
    let verifier = Verifier::new(anchors, VerifyOptions::new());
    let now = time::OffsetDateTime::now_utc();
    for answer in &answers {
        let license = SignedLicense::from_pem(&answer.license_pem).unwrap();
        verifier.verify_license(&license, &[], now).unwrap();
        let LicenseBody::Use(ul) = license.body() else {
            panic!("not a use license")
        };
        assert_eq!(ul.principal(), "alice");
        assert_eq!(ul.serial().to_string(), answer.serial);
    }

    // All recorded: exactly these serials, none lost, none extra.
    let (_, listed) = certs(
        LICENSING,
        &d.lic_dir,
        &["--kind", "use-license", "--limit", "1000"],
    );
    assert_eq!(listed.len(), REQUESTS, "recorded use licenses");
    assert!(
        listed
            .iter()
            .all(|i| i.kind == "use-license" && i.subject == "alice")
    );
    let recorded: BTreeSet<String> = unique(listed.into_iter().map(|i| i.serial));
    assert_eq!(recorded, answered, "the records are the licenses answered");
    let audited = issuance_audit(LICENSING, &d.lic_dir);
    assert_eq!(
        audited
            .iter()
            .filter(|l| l.contains("issued use-license "))
            .count(),
        REQUESTS,
        "every issuance is audited"
    );

    let metrics = rt()
        .block_on(d.lic.client(None).get_text("/metrics"))
        .unwrap();
    assert!(
        metrics.contains(&format!(
            "rms_issued_total{{kind=\"use-license\"}} {REQUESTS}\n"
        )),
        "{metrics}"
    );
}

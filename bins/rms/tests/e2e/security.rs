//! The review's severe attack with the real binaries: two licensing clusters under one
//! enrollment authority; a user of cluster A who controls cluster B's SLC key presents A with a
//! publishing license forged on B (the serial of a genuine license of A that does not grant
//! them). A refuses it as foreign, and says so in its audit log.

use rms_roles::cert::{Issuer, LicenseBody, LicenseKind, SignedLicense};
use rms_roles::store::Store;
use rms_roles::{Cluster, ClusterSecret, NodeOptions};

use crate::harness::*;

/// `license`'s body with its serial replaced by `serial` (same length).
fn with_serial(license: &SignedLicense, serial: &[u8]) -> LicenseBody {
    let LicenseBody::Publishing(body) = license.body() else {
        panic!("not a publishing license")
    };
    let own = body.serial().as_bytes();
    assert_eq!(own.len(), serial.len());
    let mut der = license.body().to_der().unwrap();
    let at = der.windows(own.len()).position(|w| w == own).unwrap();
    der[at..at + own.len()].copy_from_slice(serial);
    LicenseBody::from_der(LicenseKind::Publishing, &der).unwrap()
}

#[test]
fn a_publishing_license_forged_on_another_cluster_is_refused() {
    let d = Deployment::start();
    // Cluster B, enrolled with the same root.
    let b_dir = d.work.join("lic-b");
    let mut args = enroll_args(&b_dir, &d.root, "lic-b");
    args.extend_from_slice(&["--anchor", s(&d.anchor)]);
    let b_admin = token_in(&ok(LICENSING, &args, Some(&d.root_admin)));
    let b = Server::start(LICENSING, &b_dir, &d.file("lic-b.log"));

    let mallory = d.lic_principal("mallory");
    ok(
        LICENSING,
        &["principal", "add", "mallory", "--data-dir", s(&b_dir)],
        None,
    );
    let (mallory_key, _) = d.keygen("mallory");
    d.lic_principal("bob");
    let genuine = d.publish("doc-secret", &["bob:view,export"]);

    // Refused on A: mallory is not granted.
    let out = d.file("refused.ul.pem");
    let stderr = fails(
        CLIENT,
        &d.uselicense_args(&genuine, &mallory_key, &out),
        Some(&mallory),
    );
    assert!(stderr.contains("not_granted"), "{stderr}");

    // Mallory holds B's SLC key (B's data directory and secret).
    let b_license_path = publish(
        &b,
        &d.anchor,
        &b_admin,
        &d.work,
        "doc-b",
        &["mallory:view,export"],
    );
    let forged = rt().block_on(async {
        let store = Store::open_sqlite(&b_dir.join("rms.db")).await.unwrap();
        let secret = ClusterSecret::load(&b_dir.join("cluster-secret")).unwrap();
        let cluster = Cluster::open(store, &secret, NodeOptions::default())
            .await
            .unwrap();
        let issuer = Issuer::new(cluster.signer(), cluster.chain()).unwrap();
        let genuine = SignedLicense::from_pem(&std::fs::read_to_string(&genuine).unwrap()).unwrap();
        let LicenseBody::Publishing(genuine_body) = genuine.body() else {
            panic!("not a publishing license")
        };
        let b_license =
            SignedLicense::from_pem(&std::fs::read_to_string(&b_license_path).unwrap()).unwrap();
        let body = with_serial(&b_license, genuine_body.serial().as_bytes());
        issuer
            .sign_license(&body, time::OffsetDateTime::now_utc())
            .unwrap()
    });
    let forged_path = d.file("forged.pl.pem");
    std::fs::write(&forged_path, forged.to_pem().unwrap()).unwrap();

    // Presented to A: refused as foreign, nothing written out.
    let out = d.file("forged.ul.pem");
    let stderr = fails(
        CLIENT,
        &d.uselicense_args(&forged_path, &mallory_key, &out),
        Some(&mallory),
    );
    assert!(stderr.contains("foreign_publishing_license"), "{stderr}");
    assert!(!out.exists());

    let log = audit(LICENSING, &d.lic_dir);
    let mallory_lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" uselicense ") && l.contains(" mallory "))
        .collect();
    assert_eq!(mallory_lines.len(), 2, "{log}");
    assert!(
        mallory_lines
            .iter()
            .any(|l| l.contains("denied") && l.contains("grants nothing to mallory")),
        "{log}"
    );
    assert!(
        mallory_lines
            .iter()
            .any(|l| l.contains("denied") && l.contains("not an SLC of this licensing cluster")),
        "{log}"
    );
    assert!(
        !mallory_lines.iter().any(|l| l.contains("allowed")),
        "mallory was granted nothing: {log}"
    );
    drop(b);
}

//! The SLC lifecycle with the real binaries: renewal refused before the window (real time),
//! revocation, the CRL (`rms-root crl`, `GET /certification/crl`) that OpenSSL verifies, the
//! client applying it, and the revoked server's renewal refused.

use std::process::Command;

use crate::harness::*;

/// The first PEM block of `text`.
fn first_pem(text: &str) -> String {
    let end = "-----END CERTIFICATE-----";
    let stop = text.find(end).expect("a certificate") + end.len();
    format!("{}\n", &text[..stop])
}

#[test]
fn revocation_crl_and_renewal_refusals() {
    let d = Deployment::start();
    let alice = d.lic_principal("alice");
    let (alice_key, _) = d.keygen("alice");
    let pl = d.publish("doc-1", &["alice:view"]);
    let ul = d.file("doc-1.ul.pem");
    ok(
        CLIENT,
        &d.uselicense_args(&pl, &alice_key, &ul),
        Some(&alice),
    );

    // Just enrolled: renewal opens 30 days before expiry.
    let early = fails(
        LICENSING,
        &["renew", "--data-dir", s(&d.lic_dir), "--root", d.root.url()],
        None,
    );
    assert!(
        early.contains("renewal_too_early") || early.contains("renewal opens"),
        "{early}"
    );
    let early = fails(ROOT, &["renew", "--data-dir", s(&d.root_dir)], None);
    assert!(early.contains("renewal opens"), "{early}");

    // Revoke the licensing SLC for key compromise.
    let (_, slcs) = certs(ROOT, &d.root_dir, &["--kind", "slc"]);
    let serial = slcs
        .first()
        .expect("the licensing SLC is recorded")
        .serial
        .clone();
    let refused = fails(
        ROOT,
        &[
            "revoke",
            &serial,
            "--reason",
            "keyCompromise",
            "--at",
            "2999-01-01T00:00:00Z",
            "--data-dir",
            s(&d.root_dir),
        ],
        None,
    );
    assert!(refused.contains("not at"), "{refused}");
    let out = ok(
        ROOT,
        &[
            "revoke",
            &serial,
            "--reason",
            "key-compromise",
            "--data-dir",
            s(&d.root_dir),
        ],
        None,
    );
    assert!(out.contains(&format!("revoked SLC {serial}")), "{out}");
    let again = fails(
        ROOT,
        &[
            "revoke",
            &serial,
            "--reason",
            "superseded",
            "--data-dir",
            s(&d.root_dir),
        ],
        None,
    );
    assert!(again.contains("already exists"), "{again}");

    // The CRL, written by the CLI and served over HTTP.
    let crl = d.file("root.crl.pem");
    let out = ok(
        ROOT,
        &["crl", "--data-dir", s(&d.root_dir), "--out", s(&crl)],
        None,
    );
    assert!(out.contains("with 1 entries"), "{out}");
    let served = rt().block_on(d.root.api(None).crl()).unwrap();
    let listed: Vec<String> = served
        .entries()
        .iter()
        .map(|e| e.serial.to_string())
        .collect();
    assert_eq!(listed, vec![serial.clone()]);
    let root_slc = d.file("root-slc.pem");
    std::fs::write(
        &root_slc,
        first_pem(&ok(ROOT, &["chain", "--data-dir", s(&d.root_dir)], None)),
    )
    .unwrap();
    match Command::new("openssl")
        .args([
            "crl",
            "-in",
            s(&crl),
            "-CAfile",
            s(&root_slc),
            "-verify",
            "-noout",
        ])
        .output()
    {
        Ok(out) => {
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.status.success() && all.contains("verify OK"), "{all}");
        }
        Err(_) => eprintln!("SKIPPED openssl crl -verify: `openssl` is not installed"),
    }

    // The client applies it: with keyCompromise nothing the SLC signed is valid.
    let args = ["verify", "--anchor", s(&d.anchor), s(&ul)];
    ok(CLIENT, &args, None);
    let refused = fails(
        CLIENT,
        &["verify", "--anchor", s(&d.anchor), "--crl", s(&crl), s(&ul)],
        None,
    );
    assert!(refused.contains("revoked"), "{refused}");

    // The revoked server cannot renew.
    let refused = fails(
        LICENSING,
        &["renew", "--data-dir", s(&d.lic_dir), "--root", d.root.url()],
        None,
    );
    assert!(refused.contains("revoked"), "{refused}");
}

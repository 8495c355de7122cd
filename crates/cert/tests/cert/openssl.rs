//! OpenSSL both ways.

use rms_cert::certificate_to_pem;

use crate::common::*;

#[test]
fn openssl_verify_accepts_the_chain() {
    if !have_openssl("openssl_verify_accepts_the_chain") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pki = &*PKI;
    std::fs::write(
        dir.path().join("authority.pem"),
        certificate_to_pem(pki.authority.certificate()).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("root-slc.pem"),
        certificate_to_pem(pki.root.certificate()).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("licensing-slc.pem"),
        certificate_to_pem(pki.licensing.certificate()).unwrap(),
    )
    .unwrap();
    let out = openssl(
        dir.path(),
        &[
            "verify",
            "-attime",
            &NOW.unix_timestamp().saturating_add(3600).to_string(),
            "-CAfile",
            "authority.pem",
            "-untrusted",
            "root-slc.pem",
            "licensing-slc.pem",
        ],
    );
    assert_ok(&out, "openssl verify");
    for name in ["authority.pem", "root-slc.pem", "licensing-slc.pem"] {
        let out = openssl(dir.path(), &["x509", "-noout", "-text", "-in", name]);
        assert_ok(&out, "openssl x509 -text");
        println!("{}", String::from_utf8_lossy(&out.stdout));
    }
}

#[test]
fn openssl_cms_verify_accepts_licenses() {
    if !have_openssl("openssl_cms_verify_accepts_licenses") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("authority.pem"),
        certificate_to_pem(PKI.authority.certificate()).unwrap(),
    )
    .unwrap();
    let pl = crate::licenses::publishing();
    let ul = crate::licenses::use_license("alice@example.com").unwrap();
    let at = (NOW.unix_timestamp() + 7200).to_string();
    for (name, license) in [("publishing-license.pem", &pl), ("use-license.pem", &ul)] {
        std::fs::write(dir.path().join(name), license.to_pem().unwrap()).unwrap();
        let out = openssl(
            dir.path(),
            &[
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "PEM",
                "-in",
                name,
                "-CAfile",
                "authority.pem",
                "-attime",
                &at,
                "-purpose",
                "any",
                "-out",
                "body.der",
            ],
        );
        assert_ok(&out, "openssl cms -verify");
        let body = std::fs::read(dir.path().join("body.der")).unwrap();
        assert_eq!(body, license.signer().content);
    }
}

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
        // The default purpose (S/MIME signing) accepts it too: the licensing SLC has
        // digitalSignature and no extendedKeyUsage.
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
                "-out",
                "body.der",
            ],
        );
        assert_ok(&out, "openssl cms -verify (default purpose)");
        // Outside the signer's validity, OpenSSL (shell model) refuses it.
        let late = (NOW.unix_timestamp() + 2 * 365 * 86_400).to_string();
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
                &late,
                "-purpose",
                "any",
                "-out",
                "body.der",
            ],
        );
        assert!(!out.status.success(), "OpenSSL accepted an expired signer");
    }
}

use rms_cert::{CertError, EnrollmentRequest, RequestError, RsaSigner, ServerRole, Signer};

fn config() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openssl-request.cnf")
}

/// Runs `openssl req -new` with the documented config and `extra` arguments; returns the PEM.
fn openssl_request(dir: &std::path::Path, extra: &[&str]) -> String {
    let config = config();
    let mut args = vec![
        "req",
        "-new",
        "-config",
        config.to_str().unwrap(),
        "-out",
        "req.pem",
    ];
    args.extend_from_slice(extra);
    let out = openssl(dir, &args);
    assert_ok(&out, "openssl req -new");
    std::fs::read_to_string(dir.join("req.pem")).unwrap()
}

#[test]
fn openssl_made_requests_are_accepted() {
    if !have_openssl("openssl_made_requests_are_accepted") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let new_key = ["-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem"];
    for digest in [
        &["-sha256"][..],
        &["-sha384"],
        &["-sha512"],
        &[
            "-sha256",
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:32",
        ],
        &[
            "-sha512",
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:-1",
        ],
    ] {
        let mut args = new_key.to_vec();
        args.extend_from_slice(digest);
        let pem = openssl_request(dir.path(), &args);
        let checked = EnrollmentRequest::from_pem(&pem)
            .unwrap()
            .check()
            .unwrap_or_else(|e| panic!("{digest:?}: {e}"));
        let identity = checked.identity();
        assert_eq!(identity.common_name(), "licensing-1");
        assert_eq!(identity.role(), ServerRole::LicensingServer);
        assert_eq!(
            identity.id().to_string(),
            "0f8fad5b-d9cb-469f-a165-70867728950e"
        );
        assert_eq!(
            identity.url(),
            "https://licensing-1.example.com/_wmcs/certification"
        );
        // The OpenSSL key reads as ours, and is the request's key.
        let key = RsaSigner::from_pkcs8_pem(
            &std::fs::read_to_string(dir.path().join("key.pem")).unwrap(),
        )
        .unwrap();
        assert_eq!(key.public_key(), *checked.public_key());

        // The same request with one signature byte flipped is refused.
        let mut der = EnrollmentRequest::from_pem(&pem).unwrap().to_der().unwrap();
        let last = der.len() - 1;
        der[last] ^= 0x80;
        assert_eq!(crate::requests::refused(&der), RequestError::BadSignature);
    }
    // And it can be issued from.
    let pem = openssl_request(dir.path(), &new_key);
    let checked = EnrollmentRequest::from_pem(&pem).unwrap().check().unwrap();
    PKI.root.issue_slc(&checked, NOW).unwrap();
}

#[test]
fn openssl_1024_bit_and_exponent_3_requests_are_refused() {
    if !have_openssl("openssl_1024_bit_and_exponent_3_requests_are_refused") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pem = openssl_request(
        dir.path(),
        &["-newkey", "rsa:1024", "-nodes", "-keyout", "key.pem"],
    );
    let err = EnrollmentRequest::from_pem(&pem)
        .unwrap()
        .check()
        .unwrap_err();
    assert_eq!(err, RequestError::KeySize { bits: 1024 });

    let out = openssl(
        dir.path(),
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-pkeyopt",
            "rsa_keygen_pubexp:3",
            "-out",
            "e3.pem",
        ],
    );
    assert_ok(&out, "openssl genpkey");
    let pem = openssl_request(dir.path(), &["-key", "e3.pem"]);
    let err = EnrollmentRequest::from_pem(&pem)
        .unwrap()
        .check()
        .unwrap_err();
    assert_eq!(err, RequestError::Exponent { exponent: vec![3] });
}

#[test]
fn openssl_req_verify_accepts_our_requests() {
    if !have_openssl("openssl_req_verify_accepts_our_requests") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let req = EnrollmentRequest::new(
        &identity("root-1", ServerRole::RootCertificationServer),
        key(1).as_ref(),
    )
    .unwrap();
    std::fs::write(dir.path().join("req.pem"), req.to_pem().unwrap()).unwrap();
    let out = openssl(
        dir.path(),
        &["req", "-verify", "-noout", "-text", "-in", "req.pem"],
    );
    assert_ok(&out, "openssl req -verify");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("root-1"), "{text}");
    assert!(
        text.contains("URI:https://root-1.example.com/_wmcs/certification"),
        "{text}"
    );
}

#[test]
fn keys_interoperate_with_openssl_plain_and_encrypted() {
    if !have_openssl("keys_interoperate_with_openssl_plain_and_encrypted") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let k = key(4);
    std::fs::write(dir.path().join("plain.pem"), k.to_pkcs8_pem().unwrap()).unwrap();
    std::fs::write(
        dir.path().join("enc.pem"),
        k.to_encrypted_pkcs8_pem(b"correct horse").unwrap(),
    )
    .unwrap();
    let plain = openssl(dir.path(), &["pkey", "-in", "plain.pem", "-pubout"]);
    assert_ok(&plain, "openssl pkey (plain)");
    let enc = openssl(
        dir.path(),
        &[
            "pkey",
            "-in",
            "enc.pem",
            "-passin",
            "pass:correct horse",
            "-pubout",
        ],
    );
    assert_ok(&enc, "openssl pkey (encrypted)");
    assert_eq!(plain.stdout, enc.stdout);
    // And the other way: OpenSSL encrypts with PBKDF2 + AES-256-CBC, we decrypt.
    let out = openssl(
        dir.path(),
        &[
            "pkcs8",
            "-topk8",
            "-in",
            "plain.pem",
            "-v2",
            "aes-256-cbc",
            "-passout",
            "pass:pw",
            "-out",
            "openssl-enc.pem",
        ],
    );
    assert_ok(&out, "openssl pkcs8 -topk8");
    let text = std::fs::read_to_string(dir.path().join("openssl-enc.pem")).unwrap();
    let back = RsaSigner::from_encrypted_pkcs8_pem(&text, b"pw").unwrap();
    assert_eq!(back.public_key(), k.public_key());
    assert!(matches!(
        RsaSigner::from_encrypted_pkcs8_pem(&text, b"wrong"),
        Err(CertError::Key { .. })
    ));
}

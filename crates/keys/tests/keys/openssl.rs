//! OpenSSL both ways: signatures (PKCS#1 v1.5, PSS, ECDSA) and RSA-OAEP.

use rms_keys::{HashAlg, PrivateKey, PublicKey, SignatureAlgorithm, SoftwareKey};

use super::common::{KEYS, assert_ok, have_openssl, openssl, public_pem};

const MESSAGE: &[u8] = b"a license body, more or less";

#[test]
fn openssl_verifies_our_signatures() {
    if !have_openssl("openssl_verifies_our_signatures") {
        return;
    }
    for key in KEYS.iter() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pub.pem"), public_pem(key.as_ref())).unwrap();
        std::fs::write(dir.path().join("msg"), MESSAGE).unwrap();
        for (algorithm, digest, pss) in [
            (SignatureAlgorithm::RSA_PKCS1_SHA256, "-sha256", false),
            (
                SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha512),
                "-sha512",
                false,
            ),
            (
                SignatureAlgorithm::rsa_pss(HashAlg::Sha256),
                "-sha256",
                true,
            ),
            (
                SignatureAlgorithm::rsa_pss(HashAlg::Sha384),
                "-sha384",
                true,
            ),
        ] {
            let signature = key.sign_with(algorithm, MESSAGE).unwrap();
            std::fs::write(dir.path().join("sig"), &signature).unwrap();
            let mut args = vec!["dgst", digest, "-verify", "pub.pem", "-signature", "sig"];
            if pss {
                args.extend([
                    "-sigopt",
                    "rsa_padding_mode:pss",
                    "-sigopt",
                    "rsa_pss_saltlen:digest",
                ]);
            }
            args.push("msg");
            let out = openssl(dir.path(), &args);
            assert_ok(
                &out,
                &format!("openssl dgst -verify ({}, {algorithm:?})", key.backend()),
            );
            // And a damaged one is refused.
            let mut damaged = signature.clone();
            damaged[10] ^= 0x40;
            std::fs::write(dir.path().join("sig"), &damaged).unwrap();
            assert!(!openssl(dir.path(), &args).status.success());
        }
    }
}

#[test]
fn we_verify_openssl_signatures() {
    if !have_openssl("we_verify_openssl_signatures") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("msg"), MESSAGE).unwrap();
    let keys: [(&str, &[&str]); 3] = [
        (
            "rsa.pem",
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "rsa.pem",
            ],
        ),
        (
            "p256.pem",
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "p256.pem",
            ],
        ),
        (
            "p384.pem",
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-384",
                "-out",
                "p384.pem",
            ],
        ),
    ];
    for (_, args) in keys {
        assert_ok(&openssl(dir.path(), args), "openssl genpkey");
    }
    let cases: [(&str, &str, &[&str], SignatureAlgorithm); 7] = [
        (
            "rsa.pem",
            "-sha256",
            &[],
            SignatureAlgorithm::RSA_PKCS1_SHA256,
        ),
        (
            "rsa.pem",
            "-sha384",
            &[],
            SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha384),
        ),
        (
            "rsa.pem",
            "-sha256",
            &[
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:digest",
            ],
            SignatureAlgorithm::rsa_pss(HashAlg::Sha256),
        ),
        (
            // OpenSSL's own default for PSS signing: the longest salt (222 octets here).
            "rsa.pem",
            "-sha256",
            &[
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:max",
            ],
            SignatureAlgorithm::RsaPss {
                hash: HashAlg::Sha256,
                salt_len: 256 - 32 - 2,
            },
        ),
        (
            "p256.pem",
            "-sha256",
            &[],
            SignatureAlgorithm::Ecdsa(HashAlg::Sha256),
        ),
        (
            "p256.pem",
            "-sha384",
            &[],
            SignatureAlgorithm::Ecdsa(HashAlg::Sha384),
        ),
        (
            "p384.pem",
            "-sha384",
            &[],
            SignatureAlgorithm::Ecdsa(HashAlg::Sha384),
        ),
    ];
    for (key_file, digest, options, algorithm) in cases {
        let mut args = vec!["dgst", digest, "-sign", key_file, "-out", "sig"];
        args.extend_from_slice(options);
        args.push("msg");
        assert_ok(&openssl(dir.path(), &args), "openssl dgst -sign");
        let out = openssl(
            dir.path(),
            &["pkey", "-in", key_file, "-pubout", "-outform", "DER"],
        );
        assert_ok(&out, "openssl pkey -pubout");
        let signature = std::fs::read(dir.path().join("sig")).unwrap();
        for backend in rms_keys::Backend::software_built() {
            use der::Decode;
            let spki = spki::SubjectPublicKeyInfoOwned::from_der(&out.stdout).unwrap();
            let public = PublicKey::from_spki_with(backend, &spki).unwrap();
            public
                .verify(algorithm, MESSAGE, &signature)
                .unwrap_or_else(|err| panic!("{backend}, {key_file} {algorithm:?}: {err}"));
            assert!(
                public
                    .verify(algorithm, b"another message", &signature)
                    .is_err()
            );
        }
    }
}

#[test]
fn oaep_with_openssl_both_ways() {
    if !have_openssl("oaep_with_openssl_both_ways") {
        return;
    }
    let oaep = [
        "-pkeyopt",
        "rsa_padding_mode:oaep",
        "-pkeyopt",
        "rsa_oaep_md:sha256",
        "-pkeyopt",
        "rsa_mgf1_md:sha256",
    ];
    for key in KEYS.iter() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("key.pem"),
            key.to_pkcs8_pem().unwrap().as_bytes(),
        )
        .unwrap();
        std::fs::write(dir.path().join("pub.pem"), public_pem(key.as_ref())).unwrap();
        // We encrypt, OpenSSL decrypts.
        let public = PublicKey::from_spki(&rms_keys::Signer::public_key(key.as_ref())).unwrap();
        let content_key = [0xa5; 32];
        std::fs::write(
            dir.path().join("wrapped"),
            public.encrypt_oaep_sha256(&content_key).unwrap(),
        )
        .unwrap();
        let mut args = vec!["pkeyutl", "-decrypt", "-inkey", "key.pem", "-in", "wrapped"];
        args.extend(oaep);
        let out = openssl(dir.path(), &args);
        assert_ok(&out, "openssl pkeyutl -decrypt");
        assert_eq!(out.stdout, content_key);
        // OpenSSL encrypts, we decrypt.
        std::fs::write(dir.path().join("plain"), b"sixteen octets!!").unwrap();
        let mut args = vec![
            "pkeyutl", "-encrypt", "-pubin", "-inkey", "pub.pem", "-in", "plain", "-out", "theirs",
        ];
        args.extend(oaep);
        assert_ok(&openssl(dir.path(), &args), "openssl pkeyutl -encrypt");
        let theirs = std::fs::read(dir.path().join("theirs")).unwrap();
        assert_eq!(
            &key.decrypt_oaep_sha256(&theirs).unwrap()[..],
            b"sixteen octets!!"
        );
    }
}

#[test]
fn openssl_reads_our_encrypted_pkcs8() {
    if !have_openssl("openssl_reads_our_encrypted_pkcs8") {
        return;
    }
    let key = SoftwareKey::generate(2048).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("enc.pem"),
        key.to_encrypted_pkcs8_pem(b"correct horse").unwrap(),
    )
    .unwrap();
    let out = openssl(
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
    assert_ok(&out, "openssl pkey of our encrypted key");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), public_pem(&key));
    let out = openssl(
        dir.path(),
        &["pkey", "-in", "enc.pem", "-passin", "pass:wrong"],
    );
    assert!(!out.status.success());
}

//! Keys at rest: the encrypted PKCS#8 the cluster stores today, OpenSSL's, and references.

use der::Decode;
use getrandom::SysRng;
use pkcs8::{EncodePrivateKey, PrivateKeyInfoRef};
use rms_keys::{
    Backend, KeyError, KeyReference, PrivateKey, PublicKey, SignatureAlgorithm, Signer, SoftwareKey,
};

use super::common::{assert_ok, have_openssl, openssl, public_pem};

/// A key exactly as today's `RsaSigner::to_encrypted_pkcs8_der` writes it: the `rsa` crate's
/// PKCS#8, encrypted by the pkcs8 crate (PBES2, scrypt, AES-256-CBC).
fn stored_by_the_rsa_crate(passphrase: &[u8]) -> (rsa::PrivateKey, Vec<u8>) {
    let key = rsa::PrivateKey::new(&mut SysRng, 2048).unwrap();
    let plain = key.to_pkcs8_der().unwrap();
    let info = PrivateKeyInfoRef::from_der(plain.as_bytes()).unwrap();
    let encrypted = info.encrypt_with_rng(&mut SysRng, passphrase).unwrap();
    (key, encrypted.as_bytes().to_vec())
}

#[test]
fn a_key_stored_by_the_rsa_crate_opens_with_every_backend() {
    let (original, encrypted) = stored_by_the_rsa_crate(b"cluster secret");
    let original_spki = {
        use spki::EncodePublicKey;
        rsa::PublicKey::from(&original).to_public_key_der().unwrap()
    };
    for backend in Backend::software_built() {
        let key =
            SoftwareKey::from_encrypted_pkcs8_der_with(backend, &encrypted, b"cluster secret")
                .unwrap();
        assert_eq!(key.backend(), backend);
        assert_eq!(
            der::Encode::to_der(&key.public_key()).unwrap(),
            original_spki.as_bytes()
        );
        // What it signs, the rsa crate verifies (PKCS#1 v1.5 is deterministic, so it is also
        // the rsa crate's own signature).
        let signature = key.sign(b"issued license").unwrap();
        let digest = rms_keys::HashAlg::Sha256.digest(b"issued license");
        rsa::PublicKey::from(&original)
            .verify(
                rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                &digest,
                &signature,
            )
            .unwrap();
        // What was wrapped to it, it unwraps.
        let wrapped = rsa::PublicKey::from(&original)
            .oaep_encrypt_with_rng::<sha2::Sha256, _>(&mut SysRng, &[9; 32])
            .unwrap();
        assert_eq!(&key.decrypt_oaep_sha256(&wrapped).unwrap()[..], &[9; 32]);
    }
    // Through a stored reference, as a cluster opens it.
    let reference = KeyReference::from_stored(&encrypted).unwrap();
    assert!(!reference.is_pkcs11());
    let key = reference.open(b"cluster secret").unwrap();
    assert_eq!(
        der::Encode::to_der(&key.public_key()).unwrap(),
        original_spki.as_bytes()
    );
    assert_eq!(
        reference.open(b"another secret").unwrap_err(),
        KeyError::WrongPassphrase
    );
}

#[test]
fn references_round_trip() {
    let key = SoftwareKey::generate(2048).unwrap();
    let stored = key.to_reference(b"s3cret").unwrap().to_stored();
    let opened = KeyReference::from_stored(&stored)
        .unwrap()
        .open(b"s3cret")
        .unwrap();
    assert_eq!(opened.public_key(), key.public_key());
    assert_eq!(opened.backend(), Backend::software_default());
    let signature = opened.sign(b"m").unwrap();
    PublicKey::from_spki(&key.public_key())
        .unwrap()
        .verify(SignatureAlgorithm::RSA_PKCS1_SHA256, b"m", &signature)
        .unwrap();
}

#[test]
fn pkcs8_forms_round_trip_and_refuse_damage() {
    let key = SoftwareKey::generate(2048).unwrap();
    let plain = key.to_pkcs8_der().unwrap();
    let again = SoftwareKey::from_pkcs8_der(&plain).unwrap();
    assert_eq!(again.public_key(), key.public_key());
    let pem = key.to_pkcs8_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(
        SoftwareKey::from_pkcs8_pem(&pem).unwrap().public_key(),
        key.public_key()
    );
    let encrypted = key.to_encrypted_pkcs8_pem(b"pw").unwrap();
    assert!(encrypted.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    assert_eq!(
        SoftwareKey::from_encrypted_pkcs8_pem(&encrypted, b"pw")
            .unwrap()
            .public_key(),
        key.public_key()
    );
    assert_eq!(
        SoftwareKey::from_encrypted_pkcs8_pem(&encrypted, b"pW").unwrap_err(),
        KeyError::WrongPassphrase
    );
    // A plain key where an encrypted one is expected, and the other way round.
    assert!(matches!(
        SoftwareKey::from_encrypted_pkcs8_pem(&pem, b"pw"),
        Err(KeyError::Pkcs8 { .. })
    ));
    assert!(matches!(
        SoftwareKey::from_pkcs8_pem(&encrypted),
        Err(KeyError::Pkcs8 { .. })
    ));
    assert!(matches!(
        SoftwareKey::from_pkcs8_der(&plain[..plain.len() - 1]),
        Err(KeyError::Pkcs8 { .. })
    ));
    let der = key.to_encrypted_pkcs8_der(b"pw").unwrap();
    let mut damaged = der.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    assert!(SoftwareKey::from_encrypted_pkcs8_der(&damaged, b"pw").is_err());
}

#[test]
fn openssl_encrypted_keys_open() {
    if !have_openssl("openssl_encrypted_keys_open") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    assert_ok(
        &openssl(
            path,
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "plain.pem",
            ],
        ),
        "openssl genpkey",
    );
    assert_ok(
        &openssl(
            path,
            &[
                "pkcs8",
                "-topk8",
                "-scrypt",
                "-v2",
                "aes-256-cbc",
                "-in",
                "plain.pem",
                "-passout",
                "pass:operator",
                "-out",
                "enc.pem",
            ],
        ),
        "openssl pkcs8 -topk8 -scrypt",
    );
    assert_ok(
        &openssl(
            path,
            &[
                "pkcs8",
                "-topk8",
                "-scrypt",
                "-in",
                "plain.pem",
                "-passout",
                "pass:operator",
                "-outform",
                "DER",
                "-out",
                "enc.der",
            ],
        ),
        "openssl pkcs8 -topk8 -scrypt -outform DER",
    );
    let pem = std::fs::read_to_string(path.join("enc.pem")).unwrap();
    let der = std::fs::read(path.join("enc.der")).unwrap();
    let plain = std::fs::read_to_string(path.join("plain.pem")).unwrap();
    let reference = SoftwareKey::from_pkcs8_pem(&plain).unwrap();
    for backend in Backend::software_built() {
        let from_pem = SoftwareKey::from_encrypted_pkcs8_pem(&pem, b"operator").unwrap();
        let from_der =
            SoftwareKey::from_encrypted_pkcs8_der_with(backend, &der, b"operator").unwrap();
        assert_eq!(from_pem.public_key(), reference.public_key());
        assert_eq!(from_der.public_key(), reference.public_key());
        assert_eq!(from_der.sign(b"x").unwrap(), reference.sign(b"x").unwrap());
        assert_eq!(
            SoftwareKey::from_encrypted_pkcs8_der_with(backend, &der, b"operative").unwrap_err(),
            KeyError::WrongPassphrase
        );
    }
    assert_eq!(public_pem(&reference), {
        let out = openssl(path, &["pkey", "-in", "plain.pem", "-pubout"]);
        String::from_utf8(out.stdout).unwrap()
    });
}

#[test]
fn an_ec_private_key_is_not_rsa() {
    if !have_openssl("an_ec_private_key_is_not_rsa") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    assert_ok(
        &openssl(
            dir.path(),
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "ec.pem",
            ],
        ),
        "openssl genpkey EC",
    );
    let pem = std::fs::read_to_string(dir.path().join("ec.pem")).unwrap();
    assert!(matches!(
        SoftwareKey::from_pkcs8_pem(&pem),
        Err(KeyError::NotRsa { .. })
    ));
}

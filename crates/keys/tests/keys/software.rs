//! Every operation on every software backend, each backend checked against the others.

use rms_keys::{
    Backend, HashAlg, KeyError, PrivateKey, PublicKey, PublicKeyKind, SignatureAlgorithm, Signer,
    SoftwareKey,
};

use super::common::KEYS;

const ALGORITHMS: [SignatureAlgorithm; 6] = [
    SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha256),
    SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha384),
    SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha512),
    SignatureAlgorithm::RsaPss {
        hash: HashAlg::Sha256,
        salt_len: 32,
    },
    SignatureAlgorithm::RsaPss {
        hash: HashAlg::Sha384,
        salt_len: 48,
    },
    SignatureAlgorithm::RsaPss {
        hash: HashAlg::Sha512,
        salt_len: 64,
    },
];

#[test]
fn every_signature_verifies_on_every_backend() {
    for key in KEYS.iter() {
        for algorithm in ALGORITHMS {
            let signature = key.sign_with(algorithm, b"message").unwrap();
            assert_eq!(signature.len(), 256);
            for verifier in Backend::software_built() {
                let public = PublicKey::from_spki_with(verifier, &key.public_key()).unwrap();
                public
                    .verify(algorithm, b"message", &signature)
                    .unwrap_or_else(|err| {
                        panic!("{} -> {verifier}, {algorithm:?}: {err}", key.backend())
                    });
                assert_eq!(
                    public.verify(algorithm, b"messagf", &signature),
                    Err(KeyError::BadSignature)
                );
            }
        }
    }
}

#[test]
fn pkcs1_signatures_are_deterministic_and_agree_across_backends() {
    // PKCS#1 v1.5 is deterministic: the same key gives the same signature on any backend.
    let key = &KEYS[0];
    let pkcs8 = key.to_pkcs8_der().unwrap();
    let signatures: Vec<Vec<u8>> = Backend::software_built()
        .into_iter()
        .map(|backend| {
            SoftwareKey::from_pkcs8_der_with(backend, &pkcs8)
                .unwrap()
                .sign(b"deterministic")
                .unwrap()
        })
        .collect();
    assert!(signatures.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(signatures[0], key.sign(b"deterministic").unwrap());
}

#[test]
fn a_pss_salt_other_than_the_hash_length_verifies() {
    let Some(rust) = KEYS.iter().find(|k| k.backend() == Backend::RustCrypto) else {
        eprintln!("skipped: only the rust-crypto backend signs with other salt lengths");
        return;
    };
    for salt_len in [0, 20, 64] {
        let algorithm = SignatureAlgorithm::RsaPss {
            hash: HashAlg::Sha256,
            salt_len,
        };
        let signature = rust.sign_with(algorithm, b"salted").unwrap();
        for verifier in Backend::software_built() {
            let public = PublicKey::from_spki_with(verifier, &rust.public_key()).unwrap();
            public.verify(algorithm, b"salted", &signature).unwrap();
            let other = SignatureAlgorithm::RsaPss {
                hash: HashAlg::Sha256,
                salt_len: salt_len + 1,
            };
            assert!(public.verify(other, b"salted", &signature).is_err());
        }
    }
}

#[test]
fn oaep_round_trips_across_backends() {
    for key in KEYS.iter() {
        for encrypter in Backend::software_built() {
            let public = PublicKey::from_spki_with(encrypter, &key.public_key()).unwrap();
            let content_key = [0x5a; 32];
            let wrapped = public.encrypt_oaep_sha256(&content_key).unwrap();
            assert_eq!(wrapped.len(), 256);
            assert_ne!(wrapped, public.encrypt_oaep_sha256(&content_key).unwrap());
            assert_eq!(
                &key.decrypt_oaep_sha256(&wrapped).unwrap()[..],
                &content_key
            );
            let mut damaged = wrapped.clone();
            damaged[100] ^= 1;
            assert_eq!(key.decrypt_oaep_sha256(&damaged), Err(KeyError::Decryption));
            assert_eq!(
                key.decrypt_oaep_sha256(&wrapped[1..]),
                Err(KeyError::Decryption)
            );
            assert!(matches!(
                public.encrypt_oaep_sha256(&[0; 191]),
                Err(KeyError::PlaintextTooLong { len: 191, max: 190 })
            ));
            assert_eq!(public.encrypt_oaep_sha256(&[0; 190]).unwrap().len(), 256);
        }
    }
}

#[test]
fn generation_sizes_and_refusals() {
    for backend in Backend::software_built() {
        assert_eq!(
            SoftwareKey::generate_with(backend, 1024).unwrap_err(),
            KeyError::UnsupportedKeySize { bits: 1024 }
        );
        let key = SoftwareKey::generate_with(backend, 3072).unwrap();
        assert_eq!(key.bits(), 3072);
        assert_eq!(key.backend(), backend);
        let public = PublicKey::from_spki(&key.public_key()).unwrap();
        assert_eq!(
            public.kind(),
            PublicKeyKind::Rsa {
                bits: 3072,
                pss_only: false
            }
        );
        assert_eq!(key.sign(b"x").unwrap().len(), 384);
    }
    assert!(matches!(
        SoftwareKey::generate_with(Backend::Pkcs11, 2048),
        Err(KeyError::NotSupportedByBackend { .. } | KeyError::BackendNotBuilt { .. })
    ));
}

#[test]
fn the_default_backend_is_aws_lc_when_built() {
    let expected = if cfg!(feature = "aws-lc-rs") {
        Backend::AwsLc
    } else {
        Backend::RustCrypto
    };
    assert_eq!(Backend::software_default(), expected);
    assert_eq!(SoftwareKey::generate(2048).unwrap().backend(), expected);
}

#[test]
fn algorithm_and_key_must_fit() {
    let key = &KEYS[0];
    let public = PublicKey::from_spki(&key.public_key()).unwrap();
    let signature = key.sign(b"m").unwrap();
    assert_eq!(
        public.verify(SignatureAlgorithm::Ecdsa(HashAlg::Sha256), b"m", &signature),
        Err(KeyError::KeyMismatch)
    );
    assert_eq!(
        key.sign_with(SignatureAlgorithm::Ecdsa(HashAlg::Sha256), b"m"),
        Err(KeyError::KeyMismatch)
    );
    // Right algorithm, signature of another hash.
    assert_eq!(
        public.verify(
            SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha384),
            b"m",
            &signature
        ),
        Err(KeyError::BadSignature)
    );
    // A signature of the wrong length.
    assert_eq!(
        public.verify(SignatureAlgorithm::RSA_PKCS1_SHA256, b"m", &signature[1..]),
        Err(KeyError::BadSignature)
    );
}

#[test]
fn the_signer_names_sha256_with_rsa() {
    let key = &KEYS[0];
    assert_eq!(
        key.algorithm(),
        SignatureAlgorithm::RSA_PKCS1_SHA256.identifier().unwrap()
    );
}

#[test]
fn public_keys_refuse_what_they_cannot_use() {
    let mut spki = KEYS[0].public_key();
    spki.algorithm.oid = const_oid::db::rfc5912::ID_DSA;
    assert!(matches!(
        PublicKey::from_spki(&spki),
        Err(KeyError::UnsupportedKeyType { .. })
    ));
    assert!(matches!(
        PublicKey::from_spki_der(&[0x30, 0x00]),
        Err(KeyError::InvalidPublicKey { .. })
    ));
    // A 512-bit modulus.
    let small = pkcs1::RsaPublicKey {
        modulus: der::asn1::UintRef::new(&[0xc1; 64]).unwrap(),
        public_exponent: der::asn1::UintRef::new(&[1, 0, 1]).unwrap(),
    };
    let mut spki = KEYS[0].public_key();
    spki.subject_public_key =
        der::asn1::BitString::from_bytes(&der::Encode::to_der(&small).unwrap()).unwrap();
    assert_eq!(
        PublicKey::from_spki(&spki).unwrap_err(),
        KeyError::RsaKeySize { bits: 512 }
    );
}

/// Keys at rest are encrypted with scrypt N = 2^14, r = 8, p = 1 (what OpenSSL 3 can read), and
/// OpenSSL reads them.
#[test]
fn encrypted_keys_use_the_documented_scrypt_cost_and_openssl_reads_them() {
    use der::Decode;
    let key = SoftwareKey::generate(2048).unwrap();
    let der = key.to_encrypted_pkcs8_der(b"a passphrase").unwrap();
    let info = pkcs8::EncryptedPrivateKeyInfoRef::from_der(&der).unwrap();
    let pkcs8::pkcs5::EncryptionScheme::Pbes2(pbes2) = info.encryption_algorithm else {
        panic!("not PBES2")
    };
    let pkcs8::pkcs5::pbes2::Kdf::Scrypt(scrypt) = pbes2.kdf else {
        panic!("not scrypt")
    };
    assert_eq!(
        (
            scrypt.cost_parameter,
            scrypt.block_size,
            scrypt.parallelization
        ),
        (1 << rms_keys::SCRYPT_LOG_N, 8, 1)
    );
    assert_eq!(rms_keys::SCRYPT_LOG_N, 14);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.der");
    std::fs::write(&path, &der).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["pkcs8", "-inform", "DER", "-in"])
        .arg(&path)
        .args(["-passin", "pass:a passphrase", "-out", "/dev/null"])
        .output();
    match out {
        Ok(out) => assert!(
            out.status.success(),
            "openssl pkcs8: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => eprintln!("openssl not available ({e}): only the parameters were checked"),
    }
}

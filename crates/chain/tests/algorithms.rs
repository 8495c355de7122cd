//! Signature algorithms: RSA PKCS#1 v1.5 and PSS with SHA-2, ECDSA P-256 and P-384.

use rms_chain::{
    Cert, ChainError, Position, Purpose, TrustAnchor, TrustAnchors, VerifyOptions, verify_path,
};
use rms_policy::ValidationModel;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::common::{Alg, Hash, Key, Spec, flip_signature, new_rsa};

const AT: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);

fn any() -> VerifyOptions {
    VerifyOptions::new()
        .with_model(ValidationModel::Shell)
        .with_purpose(Purpose::Any)
}

/// anchor (anchor_key) -> CA (ca_key) -> leaf, every link signed with `alg`; then the same
/// with one bit of each signature flipped in turn.
fn check_chain(anchor_key: &Key, ca_key: &Key, alg: Alg) {
    let anchor = Spec::ca("CN=Anchor", None).alg(alg).self_signed(anchor_key);
    let anchors = TrustAnchors::from(TrustAnchor::new(anchor));
    let ca_der = Spec::ca("CN=CA", None)
        .issuer("CN=Anchor")
        .alg(alg)
        .sign_der(ca_key, anchor_key);
    let leaf_der = Spec::new("CN=leaf")
        .issuer("CN=CA")
        .alg(alg)
        .sign_der(&Key::p256(1), ca_key);
    let ca = Cert::from_der(&ca_der).unwrap();
    let leaf = Cert::from_der(&leaf_der).unwrap();
    let path = verify_path(&leaf, std::slice::from_ref(&ca), &anchors, AT, &any());
    assert!(path.is_ok(), "{alg:?}: {}", path.unwrap_err());

    let bad_leaf = Cert::from_der(&flip_signature(&leaf_der)).unwrap();
    let err = verify_path(&bad_leaf, std::slice::from_ref(&ca), &anchors, AT, &any()).unwrap_err();
    assert!(
        matches!(&err, ChainError::BadSignature { cert, issuer }
            if cert.position() == Position::Path(0) && issuer.position() == Position::Path(1)),
        "{alg:?}: {err}"
    );
    let bad_ca = Cert::from_der(&flip_signature(&ca_der)).unwrap();
    let err = verify_path(&leaf, &[bad_ca], &anchors, AT, &any()).unwrap_err();
    assert!(
        matches!(&err, ChainError::BadSignature { cert, issuer }
            if cert.position() == Position::Path(1) && issuer.position() == Position::Anchor),
        "{alg:?}: {err}"
    );
}

#[test]
fn rsa_pkcs1v15_sha256_384_512() {
    for hash in [Hash::Sha256, Hash::Sha384, Hash::Sha512] {
        check_chain(&Key::rsa(0), &Key::rsa(1), Alg::Pkcs1(hash));
    }
}

#[test]
fn rsa_pss_sha256_384_512() {
    for hash in [Hash::Sha256, Hash::Sha384, Hash::Sha512] {
        check_chain(&Key::rsa(0), &Key::rsa(1), Alg::Pss(hash));
    }
}

#[test]
fn ecdsa_p256_and_p384() {
    check_chain(&Key::p256(10), &Key::p256(11), Alg::Ecdsa);
    check_chain(&Key::p384(10), &Key::p384(11), Alg::Ecdsa);
}

#[test]
fn mixed_key_types_in_one_chain() {
    let (anchor_key, ca_key, leaf_key) = (Key::rsa(0), Key::p384(20), Key::p256(21));
    let anchor = Spec::ca("CN=Anchor", None).self_signed(&anchor_key);
    let anchors = TrustAnchors::from(TrustAnchor::new(anchor));
    let ca = Spec::ca("CN=CA", None)
        .issuer("CN=Anchor")
        .sign(&ca_key, &anchor_key);
    let leaf = Spec::new("CN=leaf")
        .issuer("CN=CA")
        .sign(&leaf_key, &ca_key);
    assert!(verify_path(&leaf, &[ca], &anchors, AT, &any()).is_ok());
}

#[test]
fn small_rsa_keys_are_refused_by_default() {
    let small = Key::Rsa(new_rsa(1024));
    let anchor = Spec::ca("CN=Anchor", None).self_signed(&small);
    let anchors = TrustAnchors::from(TrustAnchor::new(anchor));
    let leaf = Spec::new("CN=leaf")
        .issuer("CN=Anchor")
        .sign(&Key::p256(30), &small);
    let err = verify_path(&leaf, &[], &anchors, AT, &any()).unwrap_err();
    assert!(
        matches!(&err, ChainError::RsaKeyTooSmall { cert, bits: 1024, min: 2048 }
            if cert.position() == Position::Anchor),
        "{err}"
    );
    assert!(verify_path(&leaf, &[], &anchors, AT, &any().with_min_rsa_bits(1024)).is_ok());
}

//! Per-link constraints: basicConstraints, pathLenConstraint, keyUsage, key identifiers,
//! critical extensions, the trust anchor's own validity.

use der::asn1::Null;
use rms_chain::{
    Cert, ChainError, Position, Purpose, TrustAnchor, TrustAnchors, VerifyOptions, verify_path,
};
use rms_policy::ValidationModel;
use time::OffsetDateTime;
use time::macros::datetime;
use x509_cert::ext::pkix::KeyUsages;

use crate::common::{Key, Spec, extension};

const AT: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);

fn any() -> VerifyOptions {
    VerifyOptions::new()
        .with_model(ValidationModel::Shell)
        .with_purpose(Purpose::Any)
}

struct Fixture {
    anchors: TrustAnchors,
    anchor_key: Key,
}

fn fixture() -> Fixture {
    let anchor_key = Key::p256(200);
    let anchor = Spec::ca("CN=Anchor", None).self_signed(&anchor_key);
    Fixture {
        anchors: TrustAnchors::from(TrustAnchor::new(anchor)),
        anchor_key,
    }
}

/// anchor -> `ca` (made from `spec`) -> leaf; verifies the leaf.
fn through(spec: Spec) -> Result<rms_chain::VerifiedPath, ChainError> {
    let f = fixture();
    let ca_key = Key::p256(201);
    let ca = spec.issuer("CN=Anchor").sign(&ca_key, &f.anchor_key);
    let leaf = Spec::new("CN=leaf")
        .issuer("CN=CA")
        .sign(&Key::p256(202), &ca_key);
    verify_path(&leaf, &[ca], &f.anchors, AT, &any())
}

#[test]
fn an_intermediate_must_be_a_ca() {
    assert!(through(Spec::ca("CN=CA", None)).is_ok());
    for spec in [
        Spec::ca("CN=CA", None).no_basic_constraints(),
        Spec::ca("CN=CA", None).basic_constraints(false, None),
    ] {
        let err = through(spec).unwrap_err();
        assert!(
            matches!(&err, ChainError::NotCa { cert } if cert.position() == Position::Path(1)),
            "{err}"
        );
    }
}

#[test]
fn an_intermediate_needs_key_cert_sign_when_key_usage_is_present() {
    let err = through(Spec::ca("CN=CA", None).key_usage(KeyUsages::DigitalSignature)).unwrap_err();
    assert!(
        matches!(err, ChainError::KeyCertSignNotAllowed { .. }),
        "{err}"
    );
}

#[test]
fn unknown_critical_extensions_are_refused_non_critical_ignored() {
    let private = |critical| extension("1.3.6.1.4.1.32473.99", critical, &Null);
    assert!(through(Spec::ca("CN=CA", None).extension(private(false))).is_ok());
    let err = through(Spec::ca("CN=CA", None).extension(private(true))).unwrap_err();
    assert!(
        matches!(err, ChainError::UnsupportedCriticalExtension { .. }),
        "{err}"
    );
    // Also on the leaf.
    let f = fixture();
    let leaf = Spec::new("CN=leaf")
        .issuer("CN=Anchor")
        .extension(private(true))
        .sign(&Key::p256(203), &f.anchor_key);
    let err = verify_path(&leaf, &[], &f.anchors, AT, &any()).unwrap_err();
    assert!(
        matches!(&err, ChainError::UnsupportedCriticalExtension { cert, .. } if cert.position() == Position::Path(0)),
        "{err}"
    );
}

#[test]
fn path_len_constraint_counts_non_self_issued_intermediates() {
    let f = fixture();
    let (k1, k2, k3) = (Key::p256(210), Key::p256(211), Key::p256(212));
    // anchor -> CA1 (pathLen 0) -> CA2 -> leaf: CA2 is one intermediate below CA1.
    let ca1 = Spec::ca("CN=CA1", Some(0))
        .issuer("CN=Anchor")
        .sign(&k1, &f.anchor_key);
    let ca2 = Spec::ca("CN=CA2", None).issuer("CN=CA1").sign(&k2, &k1);
    let leaf = Spec::new("CN=leaf").issuer("CN=CA2").sign(&k3, &k2);
    let err = verify_path(&leaf, &[ca1.clone(), ca2], &f.anchors, AT, &any()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "certificate 2 of the path \"CN=CA1\": pathLenConstraint 0 allows fewer intermediates \
         than the 1 below it"
    );
    // A self-issued certificate (key rollover: CA1 new key signed by CA1 old key) does not
    // count.
    let k1_new = Key::p256(213);
    let rollover = Spec::ca("CN=CA1", None)
        .issuer("CN=CA1")
        .serial(2)
        .sign(&k1_new, &k1);
    let leaf = Spec::new("CN=leaf").issuer("CN=CA1").sign(&k3, &k1_new);
    let path = verify_path(&leaf, &[rollover.clone(), ca1], &f.anchors, AT, &any()).unwrap();
    assert_eq!(path.intermediates().len(), 2);
    assert!(path.intermediates()[0].is_self_issued());
}

#[test]
fn key_identifiers_must_agree_when_both_present() {
    let f = fixture();
    let leaf = Spec::new("CN=leaf")
        .issuer("CN=Anchor")
        .authority_key_id(vec![1, 2, 3])
        .sign(&Key::p256(220), &f.anchor_key);
    let err = verify_path(&leaf, &[], &f.anchors, AT, &any()).unwrap_err();
    assert!(
        matches!(&err, ChainError::KeyIdentifierMismatch { issuer, .. } if issuer.position() == Position::Anchor),
        "{err}"
    );
}

/// The anchor is a trust input: its own constraints are not checked; its validity is, unless
/// turned off.
#[test]
fn the_anchor_is_a_trust_input() {
    let key = Key::p256(230);
    let plain = Spec::new("CN=Plain Anchor")
        .validity(
            datetime!(2020-01-01 00:00 UTC),
            datetime!(2025-01-01 00:00 UTC),
        )
        .self_signed(&key);
    let anchors = TrustAnchors::from(TrustAnchor::new(plain));
    let leaf = Spec::new("CN=leaf")
        .issuer("CN=Plain Anchor")
        .validity(
            datetime!(2024-01-01 00:00 UTC),
            datetime!(2031-01-01 00:00 UTC),
        )
        .sign(&Key::p256(231), &key);
    // Before the anchor expired: no basicConstraints on the anchor, and that is fine.
    let early = datetime!(2024-06-01 00:00 UTC);
    assert!(verify_path(&leaf, &[], &anchors, early, &any()).is_ok());
    // After: refused under the shell model, unless the anchor's validity is not checked.
    let err = verify_path(&leaf, &[], &anchors, AT, &any()).unwrap_err();
    assert!(
        matches!(&err, ChainError::Expired { cert, .. } if cert.position() == Position::Anchor),
        "{err}"
    );
    assert!(verify_path(&leaf, &[], &anchors, AT, &any().with_anchor_validity(false)).is_ok());
    // Under the chain model the anchor only had to be valid when it signed the leaf.
    let chain = any().with_model(ValidationModel::Chain);
    assert!(verify_path(&leaf, &[], &anchors, AT, &chain).is_ok());
}

#[test]
fn names_chain_case_and_space_insensitively() {
    let f = fixture();
    let ca_key = Key::p256(240);
    let ca = Spec::ca("CN=Good  CA,O=Test", None)
        .issuer("CN=anchor")
        .sign(&ca_key, &f.anchor_key);
    let leaf = Spec::new("CN=leaf")
        .issuer("CN=good ca,O=TEST")
        .sign(&Key::p256(241), &ca_key);
    assert!(verify_path(&leaf, &[ca], &f.anchors, AT, &any()).is_ok());
}

#[test]
fn reading_refuses_malformed_certificates() {
    let key = Key::p256(250);
    let der = Spec::ca("CN=CA", None).sign_der(&key, &key);
    let mut trailing = der.clone();
    trailing.push(0);
    assert_eq!(Cert::from_der(&trailing), Err(ChainError::TrailingData));
    assert!(matches!(
        Cert::from_der(&der[..der.len() - 1]),
        Err(ChainError::Decode(_))
    ));
    let bad_bc = extension("2.5.29.19", true, &Null);
    let err =
        Cert::from_der(&Spec::new("CN=x").extension(bad_bc).sign_der(&key, &key)).unwrap_err();
    assert!(matches!(err, ChainError::InvalidExtension { .. }), "{err}");
    let twice = Spec::ca("CN=x", None).extension(extension(
        "2.5.29.15",
        false,
        &x509_cert::ext::pkix::KeyUsage(KeyUsages::KeyCertSign.into()),
    ));
    let err = Cert::from_der(&twice.sign_der(&key, &key)).unwrap_err();
    assert!(
        matches!(err, ChainError::DuplicateExtension { .. }),
        "{err}"
    );
}

#[test]
fn pem_round_trip() {
    use der::EncodePem;
    let key = Key::p256(251);
    let a = Spec::ca("CN=A", None).self_signed(&key);
    let b = Spec::ca("CN=B", None).self_signed(&key);
    let pem = |c: &Cert| c.certificate().to_pem(der::pem::LineEnding::LF).unwrap();
    let text = format!("{}junk between\n{}", pem(&a), pem(&b));
    assert_eq!(Cert::from_pem_chain(&text).unwrap(), [a.clone(), b]);
    assert_eq!(Cert::from_pem(&pem(&a)).unwrap(), a);
    assert!(matches!(Cert::from_pem(&text), Err(ChainError::Pem(_))));
    assert!(matches!(Cert::from_pem("nothing"), Err(ChainError::Pem(_))));
}

/// UTCTime years 1950-1969 (RFC 5280 §4.1.2.5.1), which `der` refuses, are read through the
/// fallback with their true value (PKITS 4.2.3 has one; this test does not need the vectors).
#[test]
fn pre_1970_utc_times_are_read() {
    let key = Key::p256(252);
    let der = Spec::new("CN=Old")
        .validity(
            datetime!(1970-01-01 00:00 UTC),
            datetime!(2040-01-01 00:00 UTC),
        )
        .self_signed_der(&key);
    let at = der.windows(13).position(|w| w == b"700101000000Z").unwrap();
    let mut old = der.clone();
    old[at..at + 13].copy_from_slice(b"500101120100Z");
    let cert = Cert::from_der(&old).unwrap();
    assert_eq!(
        cert.validity().not_before(),
        datetime!(1950-01-01 12:01 UTC)
    );
    assert_eq!(cert.validity().not_after(), datetime!(2040-01-01 00:00 UTC));
    assert_eq!(cert.der(), old.as_slice());
    // Anything else wrong with the certificate is still refused.
    let mut broken = old.clone();
    broken[at + 2..at + 4].copy_from_slice(b"13");
    assert!(matches!(
        Cert::from_der(&broken),
        Err(ChainError::Decode(_))
    ));
}

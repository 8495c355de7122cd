//! Rights: a signer must hold the right for what it signed.

use rms_cert::{Right, Rights};
use rms_chain::{ChainError, Position, Purpose, VerifyOptions, verify_path};
use rms_policy::ValidationModel;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::common::{Key, LICENSING, Pki, Spec};

const AT: OffsetDateTime = datetime!(2030-06-01 00:00 UTC);

fn options(purpose: Purpose) -> VerifyOptions {
    VerifyOptions::new()
        .with_model(ValidationModel::Shell)
        .with_purpose(purpose)
}

#[test]
fn our_pki_verifies_for_its_purposes() {
    let pki = Pki::rsa();
    let pool = [pki.root.clone()];
    for purpose in [Purpose::ServerLicensor, Purpose::Any] {
        let path = verify_path(&pki.licensing, &pool, &pki.anchors(), AT, &options(purpose));
        assert_eq!(path.unwrap().leaf().rights(), Some(Rights::LICENSING));
    }
    // The root SLC may sub-enroll; the licensing SLC may not.
    assert!(
        verify_path(
            &pki.root,
            &[],
            &pki.anchors(),
            AT,
            &options(Purpose::SubEnroll)
        )
        .is_ok()
    );
    let err = verify_path(
        &pki.licensing,
        &pool,
        &pki.anchors(),
        AT,
        &options(Purpose::SubEnroll),
    )
    .unwrap_err();
    assert!(
        matches!(&err, ChainError::MissingRight { cert, right: Right::SubEnroll, .. }
            if cert.position() == Position::Path(0)),
        "{err}"
    );
}

/// A licensing SLC (no sub-enroll right) that signed the SLC of another server: refused,
/// naming the licensing SLC.
#[test]
fn a_licensing_slc_that_signed_an_slc_is_refused() {
    let pki = Pki::p256();
    let rogue = Spec::ca("CN=Rogue Licensing Server", Some(0))
        .issuer(LICENSING)
        .rights(Rights::LICENSING)
        .validity(
            datetime!(2030-03-01 00:00 UTC),
            datetime!(2031-03-01 00:00 UTC),
        )
        .sign(&Key::p256(40), &pki.licensing_key);
    // The licensing SLC is a CA with pathLen 0 in this test PKI, so pathLen alone would not
    // stop it (no intermediate below it): the rights do.
    let pool = [pki.licensing.clone(), pki.root.clone()];
    let err = verify_path(
        &rogue,
        &pool,
        &pki.anchors(),
        AT,
        &options(Purpose::ServerLicensor),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "certificate 1 of the path \"CN=Licensing Server,O=RMS Test\": does not hold the right \
         \"sub-enroll\" needed to sign the certificate of a server licensor (sub-enroll)"
    );
    // Plain RFC 5280 validation, which knows nothing of rights, accepts it.
    assert!(verify_path(&rogue, &pool, &pki.anchors(), AT, &options(Purpose::Any)).is_ok());
}

#[test]
fn an_intermediate_without_the_rights_extension_is_refused() {
    let pki = Pki::p256();
    let plain_root = Spec::ca(crate::common::ROOT, Some(1))
        .issuer(crate::common::AUTHORITY)
        .serial(77)
        .sign(&pki.root_key, &pki.authority_key);
    let err = verify_path(
        &pki.licensing,
        &[plain_root],
        &pki.anchors(),
        AT,
        &options(Purpose::ServerLicensor),
    )
    .unwrap_err();
    assert!(
        matches!(&err, ChainError::MissingRight { cert, right: Right::SubEnroll, .. }
            if cert.position() == Position::Path(1)),
        "{err}"
    );
}

#[test]
fn a_leaf_without_the_rights_extension_is_not_a_server_licensor() {
    let pki = Pki::p256();
    let plain = Spec::new("CN=Not an SLC")
        .issuer(crate::common::ROOT)
        .validity(
            datetime!(2030-03-01 00:00 UTC),
            datetime!(2031-03-01 00:00 UTC),
        )
        .sign(&Key::p256(41), &pki.root_key);
    let pool = [pki.root.clone()];
    let err = verify_path(
        &plain,
        &pool,
        &pki.anchors(),
        AT,
        &options(Purpose::ServerLicensor),
    )
    .unwrap_err();
    assert!(matches!(err, ChainError::NotServerLicensor { .. }), "{err}");
    assert!(verify_path(&plain, &pool, &pki.anchors(), AT, &options(Purpose::Any)).is_ok());
}

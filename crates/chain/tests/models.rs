//! Validation models on certificate paths (licenses are in `license.rs`).

use rms_chain::{ChainError, Position, VerifyOptions, verify_path};
use rms_policy::ValidationModel;
use time::macros::datetime;

use crate::common::Pki;

/// The licensing SLC (2030-02-01 to 2031-02-01) was signed while the root SLC (2030-01-01 to
/// 2031-01-01) was valid. On 2031-01-15 the root has expired but the licensing SLC has not.
#[test]
fn chain_model_accepts_what_the_shell_model_refuses() {
    let pki = Pki::p256();
    let pool = [pki.root.clone()];
    let at = datetime!(2031-01-15 00:00 UTC);
    let chain = VerifyOptions::new().with_model(ValidationModel::Chain);
    let shell = VerifyOptions::new().with_model(ValidationModel::Shell);
    assert!(verify_path(&pki.licensing, &pool, &pki.anchors(), at, &chain).is_ok());
    let err = verify_path(&pki.licensing, &pool, &pki.anchors(), at, &shell).unwrap_err();
    assert!(
        matches!(&err, ChainError::Expired { cert, .. } if cert.position() == Position::Path(1)),
        "{err}"
    );
    // After the leaf itself expired, neither model accepts.
    let later = datetime!(2031-03-01 00:00 UTC);
    let err = verify_path(&pki.licensing, &pool, &pki.anchors(), later, &chain).unwrap_err();
    assert!(
        matches!(&err, ChainError::Expired { cert, .. } if cert.position() == Position::Path(0)),
        "{err}"
    );
    // Before it was issued, neither.
    let early = datetime!(2030-01-15 00:00 UTC);
    let err = verify_path(&pki.licensing, &pool, &pki.anchors(), early, &chain).unwrap_err();
    assert!(matches!(err, ChainError::NotYetValid { .. }), "{err}");
}

/// The clock skew widens every window on both sides.
#[test]
fn clock_skew_is_tolerated() {
    let pki = Pki::p256();
    let pool = [pki.root.clone()];
    let just_before = datetime!(2030-01-31 23:58 UTC);
    let shell = VerifyOptions::new().with_model(ValidationModel::Shell);
    assert!(verify_path(&pki.licensing, &pool, &pki.anchors(), just_before, &shell).is_ok());
    let strict = shell.with_clock_skew(time::Duration::ZERO);
    assert!(verify_path(&pki.licensing, &pool, &pki.anchors(), just_before, &strict).is_err());
}

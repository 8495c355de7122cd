//! Clock skew at its boundaries: the default 5 minutes, zero, and a skew set per call, on the
//! leaf, an intermediate, the anchor, cached paths and revocation lists.

use std::sync::Arc;

use rms_chain::{
    ChainError, Crl, CrlSet, Position, Purpose, RevocationPolicy, TrustAnchor, TrustAnchors,
    Verifier, VerifyOptions, verify_path,
};
use rms_policy::ValidationModel;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::common::{Key, Spec};

const NOT_BEFORE: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);
const NOT_AFTER: OffsetDateTime = datetime!(2031-01-01 00:00 UTC);

fn shell() -> VerifyOptions {
    VerifyOptions::new()
        .with_model(ValidationModel::Shell)
        .with_purpose(Purpose::Any)
}

/// anchor -> leaf valid from [`NOT_BEFORE`] to [`NOT_AFTER`].
fn fixture() -> (TrustAnchors, rms_chain::Cert) {
    let (anchor_key, leaf_key) = (Key::p256(500), Key::p256(501));
    let anchor = Spec::ca("CN=Anchor", None).self_signed(&anchor_key);
    let leaf = Spec::new("CN=leaf")
        .issuer("CN=Anchor")
        .validity(NOT_BEFORE, NOT_AFTER)
        .sign(&leaf_key, &anchor_key);
    (TrustAnchors::from(TrustAnchor::new(anchor)), leaf)
}

fn s(seconds: i64) -> Duration {
    Duration::seconds(seconds)
}

#[test]
fn the_default_skew_accepts_a_leaf_expired_one_second_ago() {
    let (anchors, leaf) = fixture();
    let options = shell();
    assert_eq!(options.clock_skew(), Duration::minutes(5));
    assert!(verify_path(&leaf, &[], &anchors, NOT_AFTER + s(1), &options).is_ok());
    assert!(verify_path(&leaf, &[], &anchors, NOT_AFTER + s(300), &options).is_ok());
    let err = verify_path(&leaf, &[], &anchors, NOT_AFTER + s(301), &options).unwrap_err();
    assert!(
        matches!(&err, ChainError::Expired { cert, .. } if cert.position() == Position::Path(0)),
        "{err}"
    );
    assert!(verify_path(&leaf, &[], &anchors, NOT_BEFORE - s(300), &options).is_ok());
    assert!(matches!(
        verify_path(&leaf, &[], &anchors, NOT_BEFORE - s(301), &options),
        Err(ChainError::NotYetValid { .. })
    ));
}

#[test]
fn zero_skew_means_exact_comparisons() {
    let (anchors, leaf) = fixture();
    let exact = shell().with_clock_skew(Duration::ZERO);
    // The window is inclusive (RFC 5280 §4.1.2.5): notAfter itself is still valid.
    assert!(verify_path(&leaf, &[], &anchors, NOT_AFTER, &exact).is_ok());
    assert!(matches!(
        verify_path(&leaf, &[], &anchors, NOT_AFTER + s(1), &exact),
        Err(ChainError::Expired { .. })
    ));
    assert!(verify_path(&leaf, &[], &anchors, NOT_BEFORE, &exact).is_ok());
    assert!(matches!(
        verify_path(&leaf, &[], &anchors, NOT_BEFORE - s(1), &exact),
        Err(ChainError::NotYetValid { .. })
    ));
    // A cached path is checked again with the same exact comparison.
    let verifier = Verifier::new(anchors, exact);
    verifier.verify_path(&leaf, &[], NOT_AFTER).unwrap();
    assert_eq!(verifier.cached_paths(), 1);
    assert!(matches!(
        verifier.verify_path(&leaf, &[], NOT_AFTER + s(1)),
        Err(ChainError::Expired { .. })
    ));
}

#[test]
fn a_skew_set_per_call_applies_to_intermediates_and_the_anchor() {
    let (anchor_key, ca_key, leaf_key) = (Key::p256(510), Key::p256(511), Key::p256(512));
    let anchor = Spec::ca("CN=Anchor", None)
        .validity(NOT_BEFORE, NOT_AFTER + Duration::days(365))
        .self_signed(&anchor_key);
    let ca = Spec::ca("CN=CA", None)
        .issuer("CN=Anchor")
        .validity(NOT_BEFORE, NOT_AFTER)
        .sign(&ca_key, &anchor_key);
    let leaf = Spec::new("CN=leaf")
        .issuer("CN=CA")
        .validity(NOT_BEFORE, NOT_AFTER + Duration::days(30))
        .sign(&leaf_key, &ca_key);
    let anchors = TrustAnchors::from(TrustAnchor::new(anchor));
    let pool = [ca];
    let at = NOT_AFTER + s(60);
    let one_minute = shell().with_clock_skew(Duration::minutes(1));
    assert!(verify_path(&leaf, &pool, &anchors, at, &one_minute).is_ok());
    let err = verify_path(&leaf, &pool, &anchors, at, &shell().with_clock_skew(s(59))).unwrap_err();
    assert!(
        matches!(&err, ChainError::Expired { cert, .. } if cert.position() == Position::Path(1)),
        "{err}"
    );
    // The anchor too, at its own boundary.
    let anchor_end = NOT_AFTER + Duration::days(365);
    let late_leaf = Spec::new("CN=late")
        .issuer("CN=Anchor")
        .validity(NOT_BEFORE, anchor_end + Duration::days(30))
        .sign(&leaf_key, &anchor_key);
    let exact = shell().with_clock_skew(Duration::ZERO);
    assert!(verify_path(&late_leaf, &[], &anchors, anchor_end, &exact).is_ok());
    let err = verify_path(&late_leaf, &[], &anchors, anchor_end + s(1), &exact).unwrap_err();
    assert!(
        matches!(&err, ChainError::Expired { cert, .. } if cert.position() == Position::Anchor),
        "{err}"
    );
    // A negative skew is taken as its size.
    assert_eq!(
        shell().with_clock_skew(Duration::minutes(-2)).clock_skew(),
        Duration::minutes(2)
    );
}

#[test]
fn revocation_lists_are_current_within_the_skew() {
    let (anchor_key, leaf_key) = (Key::p256(520), Key::p256(521));
    let anchor = Spec::ca("CN=Anchor", None).self_signed(&anchor_key);
    let leaf = Spec::new("CN=leaf")
        .issuer("CN=Anchor")
        .sign(&leaf_key, &anchor_key);
    let anchors = TrustAnchors::from(TrustAnchor::new(anchor));
    let this_update = datetime!(2030-06-01 00:00 UTC);
    let next_update = datetime!(2030-06-08 00:00 UTC);
    let crl =
        crate::revocation_strict::empty_crl(&anchor_key, "CN=Anchor", this_update, next_update);
    let required = |skew: Duration| {
        shell()
            .with_clock_skew(skew)
            .with_revocation_policy(RevocationPolicy::RequireCurrent(Arc::new(
                [Crl::from_der(&crl).unwrap()]
                    .into_iter()
                    .collect::<CrlSet>(),
            )))
    };
    let exact = required(Duration::ZERO);
    assert!(verify_path(&leaf, &[], &anchors, next_update, &exact).is_ok());
    assert!(verify_path(&leaf, &[], &anchors, this_update, &exact).is_ok());
    for at in [next_update + s(1), this_update - s(1)] {
        let err = verify_path(&leaf, &[], &anchors, at, &exact).unwrap_err();
        assert!(
            matches!(&err, ChainError::RevocationStatusUnknown { cert, .. } if cert.position() == Position::Path(0)),
            "{err}"
        );
    }
    let default = required(Duration::minutes(5));
    assert!(verify_path(&leaf, &[], &anchors, next_update + s(300), &default).is_ok());
    assert!(verify_path(&leaf, &[], &anchors, next_update + s(301), &default).is_err());
}

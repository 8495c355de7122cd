//! The verifier's cache of verified paths.

use rms_chain::{ChainError, Verifier, VerifyOptions, verify_path};
use rms_policy::ValidationModel;
use time::macros::datetime;

use crate::common::{Key, Pki, Spec};

fn shell() -> VerifyOptions {
    VerifyOptions::new().with_model(ValidationModel::Shell)
}

#[test]
fn a_verified_path_is_cached_and_reused() {
    let pki = Pki::p256();
    let verifier = Verifier::new(pki.anchors(), shell());
    let pool = [pki.root.clone()];
    let at = datetime!(2030-06-01 00:00 UTC);
    let first = verifier.verify_path(&pki.licensing, &pool, at).unwrap();
    assert_eq!(verifier.cached_paths(), 1);
    let second = verifier.verify_path(&pki.licensing, &pool, at).unwrap();
    assert_eq!(first, second);
    assert_eq!(verifier.cached_paths(), 1);
    verifier.clear_cache();
    assert_eq!(verifier.cached_paths(), 0);
}

/// The verdict with a cache equals the verdict without: the times are checked again, and a
/// cached path is used only if its certificates are among the inputs.
#[test]
fn the_cache_does_not_change_verdicts() {
    let pki = Pki::p256();
    let verifier = Verifier::new(pki.anchors(), shell());
    let pool = [pki.root.clone()];
    let at = datetime!(2030-06-01 00:00 UTC);
    verifier.verify_path(&pki.licensing, &pool, at).unwrap();

    // Later, the root SLC has expired: refused as without the cache.
    let later = datetime!(2031-01-15 00:00 UTC);
    let cached = verifier
        .verify_path(&pki.licensing, &pool, later)
        .unwrap_err();
    let fresh = verify_path(&pki.licensing, &pool, &pki.anchors(), later, &shell()).unwrap_err();
    assert_eq!(cached, fresh);
    assert!(matches!(cached, ChainError::Expired { .. }));

    // Without the root SLC in the pool, the cached path cannot be used.
    let err = verifier.verify_path(&pki.licensing, &[], at).unwrap_err();
    assert!(matches!(err, ChainError::UnknownIssuer { .. }), "{err}");

    // Another purpose is not served from the cache.
    let any = Verifier::new(
        pki.anchors(),
        shell().with_purpose(rms_chain::Purpose::SubEnroll),
    );
    assert!(any.verify_path(&pki.licensing, &pool, at).is_err());
}

#[test]
fn the_cache_is_bounded() {
    let pki = Pki::p256();
    let verifier = Verifier::new(pki.anchors(), shell()).with_cache_capacity(3);
    let at = datetime!(2030-06-01 00:00 UTC);
    let pool = [pki.root.clone()];
    for i in 0..10u16 {
        let leaf = Spec::ca(&format!("CN=Licensing {i}"), Some(0))
            .issuer(crate::common::ROOT)
            .rights(rms_cert::Rights::LICENSING)
            .validity(
                datetime!(2030-02-01 00:00 UTC),
                datetime!(2031-02-01 00:00 UTC),
            )
            .sign(&Key::p256(300 + i), &pki.root_key);
        verifier.verify_path(&leaf, &pool, at).unwrap();
        assert!(verifier.cached_paths() <= 3);
    }
    assert_eq!(verifier.cached_paths(), 3);
    let off = Verifier::new(pki.anchors(), shell()).with_cache_capacity(0);
    off.verify_path(&pki.licensing, &pool, at).unwrap();
    assert_eq!(off.cached_paths(), 0);
}

#[test]
fn a_verifier_is_shared_between_threads() {
    let pki = Pki::p256();
    let verifier = Verifier::new(pki.anchors(), shell());
    let pool = [pki.root.clone()];
    let at = datetime!(2030-06-01 00:00 UTC);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..20 {
                    verifier.verify_path(&pki.licensing, &pool, at).unwrap();
                }
            });
        }
    });
    assert_eq!(verifier.cached_paths(), 1);
}

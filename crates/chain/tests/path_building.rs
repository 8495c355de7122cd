//! Path building through unordered, noisy pools.

use rms_cert::Rights;
use rms_chain::{
    Budget, ChainError, Position, Purpose, TrustAnchor, TrustAnchors, VerifyOptions, verify_path,
};
use rms_policy::ValidationModel;
use time::macros::datetime;

use crate::common::{AUTHORITY, Key, Pki, ROOT, Spec};

fn shell() -> VerifyOptions {
    VerifyOptions::new().with_model(ValidationModel::Shell)
}

/// Every order of a pool holding the root SLC, duplicates, the anchor itself, the leaf itself
/// and an unrelated certificate gives the one right path.
#[test]
fn shuffled_pool_with_duplicates_and_unrelated_certificates() {
    let pki = Pki::p256();
    let unrelated = Spec::ca("CN=Somebody Else", None).self_signed(&Key::p256(9));
    let at = datetime!(2030-06-01 00:00 UTC);
    let items = [
        pki.root.clone(),
        unrelated.clone(),
        pki.root.clone(),
        pki.authority.clone(),
        pki.licensing.clone(),
    ];
    let mut orders = 0;
    for_each_permutation(&items, &mut |pool| {
        let path = verify_path(&pki.licensing, pool, &pki.anchors(), at, &shell()).unwrap();
        assert_eq!(path.leaf(), &pki.licensing);
        assert_eq!(path.intermediates(), std::slice::from_ref(&pki.root));
        assert_eq!(path.anchor().cert(), &pki.authority);
        orders += 1;
    });
    assert_eq!(orders, 120);
}

fn for_each_permutation<T: Clone>(items: &[T], f: &mut dyn FnMut(&[T])) {
    fn go<T: Clone>(prefix: &mut Vec<T>, rest: &[T], f: &mut dyn FnMut(&[T])) {
        if rest.is_empty() {
            f(prefix);
            return;
        }
        for i in 0..rest.len() {
            let mut others = rest.to_vec();
            let item = others.remove(i);
            prefix.push(item);
            go(prefix, &others, f);
            prefix.pop();
        }
    }
    go(&mut Vec::new(), items, f);
}

/// Two issuers with the same name and different keys: only the one whose key verifies is
/// used, whichever comes first, with or without key identifiers to tell them apart.
#[test]
fn same_name_issuers_only_the_right_key_verifies() {
    let authority_key = Key::p256(1);
    let authority = Spec::ca(AUTHORITY, None).self_signed(&authority_key);
    for key_ids in [true, false] {
        let spec = |s: Spec| if key_ids { s } else { s.no_key_ids() };
        let right = spec(Spec::ca(ROOT, None).issuer(AUTHORITY).rights(Rights::ROOT))
            .sign(&Key::p256(2), &authority_key);
        let impostor = spec(Spec::ca(ROOT, None).issuer(AUTHORITY).rights(Rights::ROOT))
            .serial(99)
            .sign(&Key::p256(3), &authority_key);
        let leaf = spec(Spec::new("CN=leaf").issuer(ROOT).rights(Rights::LICENSING))
            .sign(&Key::p256(4), &Key::p256(2));
        let anchors = TrustAnchors::from(TrustAnchor::new(authority.clone()));
        for pool in [
            vec![impostor.clone(), right.clone()],
            vec![right.clone(), impostor.clone()],
        ] {
            let at = datetime!(2030-06-01 00:00 UTC);
            let path = verify_path(&leaf, &pool, &anchors, at, &shell()).unwrap();
            assert_eq!(path.intermediates(), std::slice::from_ref(&right));
        }
        // With only the impostor, the error says the signature does not verify.
        let err = verify_path(
            &leaf,
            std::slice::from_ref(&impostor),
            &anchors,
            datetime!(2030-06-01 00:00 UTC),
            &shell(),
        )
        .unwrap_err();
        if key_ids {
            assert!(
                matches!(err, ChainError::KeyIdentifierMismatch { .. }),
                "{err}"
            );
        } else {
            assert!(matches!(err, ChainError::BadSignature { .. }), "{err}");
        }
    }
}

/// A renewed root SLC has the old one's name but a new key and window; each version
/// validates the licensing SLCs it signed, with both in the pool.
#[test]
fn renewed_root_slc_old_and_new_both_validate_their_children() {
    let authority_key = Key::p256(1);
    let authority = Spec::ca(AUTHORITY, None).self_signed(&authority_key);
    let anchors = TrustAnchors::from(TrustAnchor::new(authority));
    let (old_key, new_key) = (Key::p256(2), Key::p256(3));
    let old_root = Spec::ca(ROOT, Some(1))
        .issuer(AUTHORITY)
        .rights(Rights::ROOT)
        .validity(
            datetime!(2029-01-01 00:00 UTC),
            datetime!(2030-01-01 00:00 UTC),
        )
        .serial(10)
        .sign(&old_key, &authority_key);
    let new_root = Spec::ca(ROOT, Some(1))
        .issuer(AUTHORITY)
        .rights(Rights::ROOT)
        .validity(
            datetime!(2029-12-01 00:00 UTC),
            datetime!(2030-12-01 00:00 UTC),
        )
        .serial(11)
        .sign(&new_key, &authority_key);
    for key_ids in [true, false] {
        let spec = |s: Spec| if key_ids { s } else { s.no_key_ids() };
        let child_of_old = spec(Spec::ca("CN=Licensing A", Some(0)).issuer(ROOT))
            .rights(Rights::LICENSING)
            .validity(
                datetime!(2029-06-01 00:00 UTC),
                datetime!(2030-06-01 00:00 UTC),
            )
            .sign(&Key::p256(4), &old_key);
        let child_of_new = spec(Spec::ca("CN=Licensing B", Some(0)).issuer(ROOT))
            .rights(Rights::LICENSING)
            .validity(
                datetime!(2029-12-15 00:00 UTC),
                datetime!(2030-12-15 00:00 UTC),
            )
            .sign(&Key::p256(5), &new_key);
        let at = datetime!(2029-12-20 00:00 UTC);
        for pool in [
            vec![old_root.clone(), new_root.clone()],
            vec![new_root.clone(), old_root.clone()],
        ] {
            let a = verify_path(&child_of_old, &pool, &anchors, at, &shell()).unwrap();
            assert_eq!(a.intermediates(), std::slice::from_ref(&old_root));
            let b = verify_path(&child_of_new, &pool, &anchors, at, &shell()).unwrap();
            assert_eq!(b.intermediates(), std::slice::from_ref(&new_root));
            // After the old root expired, its child still validates under the chain model.
            let later = datetime!(2030-03-01 00:00 UTC);
            let chain = VerifyOptions::new().with_model(ValidationModel::Chain);
            let a = verify_path(&child_of_old, &pool, &anchors, later, &chain).unwrap();
            assert_eq!(a.intermediates(), std::slice::from_ref(&old_root));
            let err = verify_path(&child_of_old, &pool, &anchors, later, &shell()).unwrap_err();
            assert!(
                matches!(&err, ChainError::Expired { cert, .. } if cert.position() == Position::Path(1)),
                "{err}"
            );
        }
    }
}

/// Two CAs that cross-signed each other: the search neither loops nor overflows; with a way
/// out to the anchor it finds it.
#[test]
fn cycle_of_cross_signed_cas_terminates() {
    let (x_key, y_key, anchor_key) = (Key::p256(11), Key::p256(12), Key::p256(13));
    let x_by_y = Spec::ca("CN=X", None).issuer("CN=Y").sign(&x_key, &y_key);
    let y_by_x = Spec::ca("CN=Y", None).issuer("CN=X").sign(&y_key, &x_key);
    let leaf = Spec::new("CN=leaf")
        .issuer("CN=X")
        .sign(&Key::p256(14), &x_key);
    let anchor = Spec::ca("CN=Anchor", None).self_signed(&anchor_key);
    let anchors = TrustAnchors::from(TrustAnchor::new(anchor));
    let at = datetime!(2030-01-01 00:00 UTC);
    let any = shell().with_purpose(Purpose::Any);

    let err =
        verify_path(&leaf, &[x_by_y.clone(), y_by_x.clone()], &anchors, at, &any).unwrap_err();
    assert!(matches!(err, ChainError::UnknownIssuer { .. }), "{err}");

    let y_by_anchor = Spec::ca("CN=Y", None)
        .issuer("CN=Anchor")
        .serial(7)
        .sign(&y_key, &anchor_key);
    let pool = [x_by_y.clone(), y_by_x, y_by_anchor.clone()];
    let path = verify_path(&leaf, &pool, &anchors, at, &any).unwrap();
    assert_eq!(path.intermediates(), [x_by_y, y_by_anchor]);
}

/// A chain of `n` intermediates under one anchor, leaf last; returns (anchor, pool, leaf).
fn long_chain(n: u16) -> (TrustAnchors, Vec<rms_chain::Cert>, rms_chain::Cert) {
    let anchor_key = Key::p256(100);
    let anchor = Spec::ca("CN=CA 0", None).self_signed(&anchor_key);
    let mut pool = Vec::new();
    let mut issuer_key = anchor_key;
    for i in 1..=n {
        let key = Key::p256(100 + i);
        let cert = Spec::ca(&format!("CN=CA {i}"), None)
            .issuer(&format!("CN=CA {}", i - 1))
            .sign(&key, &issuer_key);
        pool.push(cert);
        issuer_key = key;
    }
    let leaf = Spec::new("CN=leaf")
        .issuer(&format!("CN=CA {n}"))
        .sign(&Key::p256(99), &issuer_key);
    pool.reverse();
    (TrustAnchors::from(TrustAnchor::new(anchor)), pool, leaf)
}

#[test]
fn too_deep_is_a_depth_error() {
    let (anchors, pool, leaf) = long_chain(10);
    let at = datetime!(2030-01-01 00:00 UTC);
    let options = shell().with_purpose(Purpose::Any);
    let err = verify_path(&leaf, &pool, &anchors, at, &options).unwrap_err();
    assert_eq!(
        err,
        ChainError::PathTooLong {
            max_intermediates: 6
        }
    );
    let path = verify_path(
        &leaf,
        &pool,
        &anchors,
        at,
        &options.clone().with_max_intermediates(10),
    );
    assert_eq!(path.unwrap().intermediates().len(), 10);
    let err = verify_path(
        &leaf,
        &pool,
        &anchors,
        at,
        &options.with_max_intermediates(9),
    );
    assert!(matches!(err, Err(ChainError::PathTooLong { .. })));
}

/// A deep chain of 200 intermediates: bounded, no stack overflow.
#[test]
fn very_long_chain_is_refused_quickly() {
    let (anchors, pool, leaf) = long_chain(200);
    let at = datetime!(2030-01-01 00:00 UTC);
    let options = shell().with_purpose(Purpose::Any);
    let err = verify_path(&leaf, &pool, &anchors, at, &options).unwrap_err();
    assert!(matches!(err, ChainError::PathTooLong { .. }), "{err}");
}

#[test]
fn signature_budget_exceeded() {
    let authority_key = Key::p256(1);
    let anchor = Spec::ca(AUTHORITY, None).self_signed(&authority_key);
    let anchors = TrustAnchors::from(TrustAnchor::new(anchor));
    let issuer_key = Key::p256(2);
    // Ten certificates named like the leaf's issuer, none with its key, no key identifiers.
    let mut pool: Vec<_> = (0..10u8)
        .map(|i| {
            Spec::ca(ROOT, None)
                .issuer(AUTHORITY)
                .no_key_ids()
                .serial(u32::from(i) + 10)
                .sign(&Key::p256(50 + u16::from(i)), &authority_key)
        })
        .collect();
    pool.push(
        Spec::ca(ROOT, None)
            .issuer(AUTHORITY)
            .no_key_ids()
            .sign(&issuer_key, &authority_key),
    );
    let leaf = Spec::new("CN=leaf")
        .issuer(ROOT)
        .no_key_ids()
        .sign(&Key::p256(3), &issuer_key);
    let at = datetime!(2030-01-01 00:00 UTC);
    let options = shell().with_purpose(Purpose::Any);
    assert!(verify_path(&leaf, &pool, &anchors, at, &options).is_ok());
    let tight = options.with_budget(Budget::new(5, 1000));
    assert_eq!(
        verify_path(&leaf, &pool, &anchors, at, &tight).unwrap_err(),
        ChainError::SignatureBudgetExceeded { limit: 5 }
    );
}

#[test]
fn build_budget_exceeded() {
    let (anchors, pool, leaf) = long_chain(4);
    let at = datetime!(2030-01-01 00:00 UTC);
    let options = shell().with_purpose(Purpose::Any);
    assert!(verify_path(&leaf, &pool, &anchors, at, &options).is_ok());
    let tight = options.with_budget(Budget::new(100, 3));
    assert_eq!(
        verify_path(&leaf, &pool, &anchors, at, &tight).unwrap_err(),
        ChainError::BuildBudgetExceeded { limit: 3 }
    );
}

#[test]
fn unknown_issuer_names_the_certificate_and_the_issuer() {
    let pki = Pki::p256();
    let at = datetime!(2030-06-01 00:00 UTC);
    let err = verify_path(&pki.licensing, &[], &pki.anchors(), at, &shell()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "certificate 0 (the leaf) \"CN=Licensing Server,O=RMS Test\": no trust anchor or \
         usable candidate certificate is named \"CN=Root Certification Server,O=RMS Test\""
    );
}

/// When the real issuer fails late (expired) and an impostor early (wrong key), the real
/// issuer's problem is reported.
#[test]
fn the_most_specific_error_is_reported() {
    let authority_key = Key::p256(1);
    let anchor = Spec::ca(AUTHORITY, None).self_signed(&authority_key);
    let anchors = TrustAnchors::from(TrustAnchor::new(anchor));
    let issuer_key = Key::p256(2);
    let expired = Spec::ca(ROOT, None)
        .issuer(AUTHORITY)
        .no_key_ids()
        .validity(
            datetime!(2020-01-01 00:00 UTC),
            datetime!(2021-01-01 00:00 UTC),
        )
        .sign(&issuer_key, &authority_key);
    let impostor = Spec::ca(ROOT, None)
        .issuer(AUTHORITY)
        .no_key_ids()
        .serial(5)
        .sign(&Key::p256(3), &authority_key);
    let leaf = Spec::new("CN=leaf")
        .issuer(ROOT)
        .no_key_ids()
        .sign(&Key::p256(4), &issuer_key);
    let at = datetime!(2030-01-01 00:00 UTC);
    let options = shell().with_purpose(Purpose::Any);
    for pool in [
        vec![impostor.clone(), expired.clone()],
        vec![expired.clone(), impostor.clone()],
    ] {
        let err = verify_path(&leaf, &pool, &anchors, at, &options).unwrap_err();
        match err {
            ChainError::Expired { cert, .. } => {
                assert_eq!(cert.position(), Position::Path(1));
                assert_eq!(cert.subject(), ROOT);
            }
            other => panic!("expected Expired, got {other}"),
        }
    }
}

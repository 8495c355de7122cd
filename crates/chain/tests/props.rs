//! Property tests: reading and verifying arbitrary bytes never panics.

use std::sync::LazyLock;

use proptest::prelude::*;
use rms_chain::{Cert, Purpose, TrustAnchor, Verifier, VerifyOptions, verify_path};
use time::macros::datetime;

use crate::common::{Key, Pki, Spec};

/// DER of a real chain: authority, root SLC, licensing SLC (P-256), and an RSA-signed leaf.
static SEEDS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let pki = Pki::p256();
    let rsa_leaf = Spec::ca("CN=RSA leaf", Some(0))
        .issuer(crate::common::LICENSING)
        .rights(rms_cert::Rights::LICENSING)
        .sign_der(&Key::rsa(3), &pki.licensing_key);
    vec![
        pki.authority.der().to_vec(),
        pki.root.der().to_vec(),
        pki.licensing.der().to_vec(),
        rsa_leaf,
    ]
});

fn verify_all_ways(leaf: &Cert, pool: &[Cert]) {
    let seeds = &*SEEDS;
    let anchor = Cert::from_der(&seeds[0]).unwrap();
    let anchors = TrustAnchor::new(anchor).into();
    for purpose in [Purpose::Any, Purpose::ServerLicensor, Purpose::SubEnroll] {
        let options = VerifyOptions::new().with_purpose(purpose);
        let _ = verify_path(
            leaf,
            pool,
            &anchors,
            datetime!(2030-06-01 00:00 UTC),
            &options,
        );
    }
    let verifier = Verifier::new(anchors, VerifyOptions::new());
    let _ = verifier.verify_path(leaf, pool, datetime!(2030-06-01 00:00 UTC));
    let _ = verifier.verify_path(leaf, pool, datetime!(2045-06-01 00:00 UTC));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
        if let Ok(cert) = Cert::from_der(&bytes) {
            verify_all_ways(&cert, std::slice::from_ref(&cert));
        }
        let _ = TrustAnchor::from_der(&bytes);
        let _ = Cert::from_pem(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_certificates_never_panic(
        which in 0usize..4,
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..6),
        cut in proptest::option::of(any::<proptest::sample::Index>()),
    ) {
        let mut bytes = SEEDS[which].clone();
        for (at, value) in &edits {
            let i = at.index(bytes.len());
            bytes[i] = *value;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        if let Ok(cert) = Cert::from_der(&bytes) {
            let pool: Vec<Cert> = SEEDS
                .iter()
                .filter_map(|der| Cert::from_der(der).ok())
                .chain(std::iter::once(cert.clone()))
                .collect();
            verify_all_ways(&cert, &pool);
            let leaf = Cert::from_der(&SEEDS[2]).unwrap();
            verify_all_ways(&leaf, &pool);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Mutated licenses that still decode are verified (cached and not) without panicking.
    #[test]
    fn mutated_licenses_never_panic(
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let f = &*crate::license::FIXTURE;
        let mut bytes = f.use_license.to_der().unwrap();
        for (at, value) in &edits {
            let i = at.index(bytes.len());
            bytes[i] = *value;
        }
        if let Ok(license) = rms_cert::SignedLicense::from_der(&bytes) {
            let at = datetime!(2031-01-01 00:00 UTC);
            let _ = rms_chain::verify_license(&license, &[], &f.anchors(), at, &VerifyOptions::new());
            let verifier = Verifier::new(f.anchors(), VerifyOptions::new());
            let _ = verifier.verify_license(&license, &[], at);
        }
    }
}

/// A root list revoking one certificate, and the authority's empty list, as DER.
static CRL_SEEDS: LazyLock<(Vec<u8>, rms_chain::Crl)> = LazyLock::new(|| {
    use crate::revocation::{LISTED, PKI, REVOKED, serial_of};
    let entry = rms_cert::RevokedEntry::new(
        serial_of(&PKI.licensing),
        REVOKED,
        rms_cert::RevocationReason::Superseded,
    );
    let next = LISTED + time::Duration::days(60);
    let root = PKI.root.issue_crl(&[entry], 7, LISTED, next).unwrap();
    let authority = PKI.authority.issue_crl(&[], 1, LISTED, next).unwrap();
    (
        root.to_der().unwrap(),
        rms_chain::Crl::from_revocation_list(&authority).unwrap(),
    )
});

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Mutated revocation lists that still decode are used under `RequireCurrent` without
    /// panicking; arbitrary bytes are refused or read.
    #[test]
    fn mutated_revocation_lists_never_panic(
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..5),
        noise in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        use crate::revocation::{CHECKED, PKI, anchors, cert};
        let _ = rms_chain::Crl::from_der(&noise);
        let (root_der, authority) = &*CRL_SEEDS;
        let mut bytes = root_der.clone();
        for (at, value) in &edits {
            let i = at.index(bytes.len());
            bytes[i] = *value;
        }
        if let Ok(crl) = rms_chain::Crl::from_der(&bytes) {
            let crls: rms_chain::CrlSet = [authority.clone(), crl].into_iter().collect();
            let options = VerifyOptions::new().with_revocation_policy(
                rms_chain::RevocationPolicy::RequireCurrent(std::sync::Arc::new(crls)),
            );
            let _ = verify_path(&cert(&PKI.licensing), &[cert(&PKI.root)], &anchors(), CHECKED, &options);
        }
    }
}

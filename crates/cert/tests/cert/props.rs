//! Property tests: decoding arbitrary bytes, and mutations of valid encodings, never panics.

use std::sync::LazyLock;

use proptest::prelude::*;
use rms_cert::{
    Chain, EnrollmentRequest, Issuer, RenewalRequest, RevocationList, ServerIdentity, ServerRole,
    SignedLicense, certificate_from_der, certificate_from_pem,
};

use crate::common::*;

struct Samples {
    request: Vec<u8>,
    certificate: Vec<u8>,
    license: Vec<u8>,
    crl: Vec<u8>,
    renewal: Vec<u8>,
}

static SAMPLES: LazyLock<Samples> = LazyLock::new(|| Samples {
    request: EnrollmentRequest::new(&identity("p", ServerRole::LicensingServer), key(2).as_ref())
        .unwrap()
        .to_der()
        .unwrap(),
    certificate: rms_cert::certificate_to_der(PKI.licensing.certificate()).unwrap(),
    license: crate::licenses::use_license("alice@example.com")
        .unwrap()
        .to_der()
        .unwrap(),
    crl: crate::crl::root_crl().to_der().unwrap(),
    renewal: RenewalRequest::new(
        PKI.licensing.certificate(),
        key(2).as_ref(),
        &EnrollmentRequest::new(
            &ServerIdentity::from_certificate(PKI.licensing.certificate()).unwrap(),
            key(4).as_ref(),
        )
        .unwrap(),
        NOW,
    )
    .unwrap()
    .to_der()
    .unwrap(),
});

/// Up to 8 (position, xor) flips and an optional truncation of `valid`.
fn mutate(valid: &[u8], flips: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    let mut bytes = valid.to_vec();
    for (pos, xor) in flips {
        let i = pos % bytes.len();
        bytes[i] ^= xor.max(&1);
    }
    if let Some(cut) = cut {
        bytes.truncate(cut % (bytes.len() + 1));
    }
    bytes
}

fn exercise_request(bytes: &[u8]) {
    if let Ok(req) = EnrollmentRequest::from_der(bytes) {
        let _ = req.to_pem();
        if let Ok(checked) = req.check() {
            let _ = PKI.root.issue_slc(&checked, NOW);
        }
    }
}

fn exercise_certificate(bytes: &[u8]) {
    if let Ok(cert) = certificate_from_der(bytes) {
        let _ = ServerIdentity::from_certificate(&cert);
        if let Ok(chain) = Chain::new(vec![cert]) {
            let _ = chain.to_pem().map(|pem| Chain::from_pem(&pem));
            let _ = Issuer::new(key(2), chain);
        }
    }
}

fn exercise_license(bytes: &[u8]) {
    if let Ok(license) = SignedLicense::from_der(bytes) {
        let _ = (
            license.body(),
            license.validity(),
            license.certificates(),
            license.signer(),
        );
        let _ = license.to_pem().map(|pem| SignedLicense::from_pem(&pem));
    }
}

fn exercise_crl(bytes: &[u8]) {
    if let Ok(crl) = RevocationList::from_der(bytes) {
        let _ = (
            crl.entries(),
            crl.crl_number(),
            crl.this_update(),
            crl.next_update(),
            crl.issuer().to_string(),
            crl.authority_key_id(),
            crl.signature(),
            crl.tbs_der(),
        );
        let _ = crl.to_pem().map(|pem| RevocationList::from_pem(&pem));
    }
}

fn exercise_renewal(bytes: &[u8]) {
    if let Ok(renewal) = RenewalRequest::from_der(bytes) {
        let _ = (
            renewal.current_serial().to_string(),
            renewal.current_issuer().to_string(),
            renewal.requested_at(),
        );
        let _ = renewal.to_pem().map(|pem| RenewalRequest::from_pem(&pem));
        if let Ok(checked) = renewal.verify(PKI.licensing.certificate()) {
            let _ = PKI.root.issue_slc(checked.request(), NOW);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        exercise_request(&bytes);
        exercise_certificate(&bytes);
        exercise_license(&bytes);
        exercise_crl(&bytes);
        exercise_renewal(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = EnrollmentRequest::from_pem(&text);
        let _ = certificate_from_pem(&text);
        let _ = SignedLicense::from_pem(&text);
        let _ = Chain::from_pem(&text);
        let _ = RevocationList::from_pem(&text);
        let _ = RenewalRequest::from_pem(&text);
    }

    #[test]
    fn mutated_requests_never_panic(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in proptest::option::of(any::<usize>()),
    ) {
        exercise_request(&mutate(&SAMPLES.request, &flips, cut));
    }

    #[test]
    fn mutated_certificates_never_panic(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in proptest::option::of(any::<usize>()),
    ) {
        exercise_certificate(&mutate(&SAMPLES.certificate, &flips, cut));
    }

    #[test]
    fn mutated_licenses_never_panic(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in proptest::option::of(any::<usize>()),
    ) {
        exercise_license(&mutate(&SAMPLES.license, &flips, cut));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutated_crls_never_panic(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in proptest::option::of(any::<usize>()),
    ) {
        exercise_crl(&mutate(&SAMPLES.crl, &flips, cut));
    }

    #[test]
    fn mutated_renewal_requests_never_panic(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in proptest::option::of(any::<usize>()),
    ) {
        exercise_renewal(&mutate(&SAMPLES.renewal, &flips, cut));
    }
}

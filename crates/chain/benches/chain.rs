//! Benchmarks of license verification beside the raw RSA-2048 verify (and sign) rate of the
//! same key: a license chain verified cold (no cache: the license signature and both
//! certificate signatures) and warm (the signer's path cached by a `Verifier`).
//!
//! Run with `cargo bench -p rms-chain --bench chain`; `docs/performance.md` records the
//! ratios.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use rms_cert::{
    ContentPolicy, EnrollmentRequest, Grant, Grantee, Issuer, LicenseBody, RsaSigner, ServerId,
    ServerIdentity, ServerRole, Signer, UsageRights, issue_publishing_license, issue_use_license,
};
use rms_chain::{Cert, TrustAnchor, TrustAnchors, Verifier, VerifyOptions, verify_license};
use rms_policy::ValidityPolicy;
use time::macros::datetime;

fn benches(c: &mut Criterion) {
    let now = datetime!(2030-03-10 09:30 UTC);
    let keys: Vec<Arc<RsaSigner>> = (0..4)
        .map(|_| Arc::new(RsaSigner::generate(2048).unwrap()))
        .collect();
    let request = |name: &str, role, key: &RsaSigner| {
        let identity = ServerIdentity::new(
            name,
            role,
            ServerId::random().unwrap(),
            "https://rms.example.com/_wmcs/certification",
        )
        .unwrap();
        EnrollmentRequest::new(&identity, key)
            .unwrap()
            .check()
            .unwrap()
    };
    let authority = Issuer::create_authority(
        "CN=Bench Authority".parse().unwrap(),
        keys[0].clone(),
        ValidityPolicy::default(),
        now,
    )
    .unwrap();
    let root_chain = authority
        .issue_slc(
            &request("root", ServerRole::RootCertificationServer, &keys[1]),
            now,
        )
        .unwrap();
    let root = Issuer::new(keys[1].clone(), root_chain).unwrap();
    let licensing_chain = root
        .issue_slc(
            &request("licensing", ServerRole::LicensingServer, &keys[2]),
            now,
        )
        .unwrap();
    let licensing = Issuer::new(keys[2].clone(), licensing_chain).unwrap();
    let policy = ContentPolicy::new(
        "bench-content",
        vec![Grant::new("alice@example.com", UsageRights::ALL).unwrap()],
    )
    .unwrap();
    let publishing = issue_publishing_license(&licensing, &policy, &[7; 32], now).unwrap();
    let LicenseBody::Publishing(body) = publishing.body() else {
        unreachable!()
    };
    let grantee = Grantee::new("alice@example.com", keys[3].public_key()).unwrap();
    let first = issue_use_license(&licensing, keys[2].private_key(), body, &grantee, now).unwrap();
    let second = issue_use_license(&licensing, keys[2].private_key(), body, &grantee, now).unwrap();

    let anchor = Cert::from_certificate(authority.certificate()).unwrap();
    let anchors = TrustAnchors::from(TrustAnchor::new(anchor));
    let options = VerifyOptions::new();
    // Two years later: the SLCs have expired, the licenses have not (chain model).
    let at = datetime!(2032-03-10 09:30 UTC);
    verify_license(&first, &[], &anchors, at, &options).unwrap();
    let verifier = Verifier::new(anchors.clone(), options.clone());
    verifier.verify_license(&first, &[], at).unwrap();
    assert_eq!(verifier.cached_paths(), 1);

    // The baseline: raw RSA-2048 PKCS#1 v1.5 SHA-256 with the licensing key.
    let message = [0x42u8; 256];
    let signature = keys[2].sign(&message).unwrap();
    let verifying = rms_keys::PublicKey::from_spki(&keys[2].public_key()).unwrap();

    let mut group = c.benchmark_group("rms-chain");
    group.sample_size(30);
    group.bench_function("raw RSA-2048 sign", |b| {
        b.iter(|| keys[2].sign(black_box(&message)).unwrap())
    });
    group.bench_function("raw RSA-2048 verify", |b| {
        b.iter(|| {
            verifying
                .verify(
                    rms_keys::SignatureAlgorithm::RSA_PKCS1_SHA256,
                    black_box(&message),
                    &signature,
                )
                .unwrap()
        })
    });
    group.bench_function("verify license chain, cold", |b| {
        b.iter(|| verify_license(black_box(&second), &[], &anchors, at, &options).unwrap())
    });
    group.bench_function("verify license chain, warm (signer path cached)", |b| {
        b.iter(|| {
            verifier
                .verify_license(black_box(&second), &[], at)
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(chain, benches);
criterion_main!(chain);

//! Benchmarks of the certificate model beside the raw RSA-2048 sign and verify rate of the same
//! key: checking a request, issuing an SLC, issuing a use license.
//!
//! Run with `cargo bench -p rms-cert --bench cert`; `docs/performance.md` records the ratios.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use rms_cert::{
    ContentPolicy, EnrollmentRequest, Grant, Grantee, Issuer, LicenseBody, RsaSigner, ServerId,
    ServerIdentity, ServerRole, SignedLicense, Signer, UsageRights, issue_publishing_license,
    issue_use_license, issue_use_license_with_content_key,
};
use rms_policy::ValidityPolicy;
use time::macros::datetime;

fn benches(c: &mut Criterion) {
    let now = datetime!(2026-03-10 09:30 UTC);
    let keys: Vec<Arc<RsaSigner>> = (0..4)
        .map(|_| Arc::new(RsaSigner::generate(2048).unwrap()))
        .collect();
    let identity = |name: &str, role| {
        ServerIdentity::new(
            name,
            role,
            ServerId::random().unwrap(),
            "https://rms.example.com/_wmcs/certification",
        )
        .unwrap()
    };
    let authority = Issuer::create_authority(
        "CN=Bench Authority".parse().unwrap(),
        keys[0].clone(),
        ValidityPolicy::default(),
        now,
    )
    .unwrap();
    let root_req = EnrollmentRequest::new(
        &identity("root", ServerRole::RootCertificationServer),
        keys[1].as_ref(),
    )
    .unwrap();
    let root = Issuer::new(
        keys[1].clone(),
        authority
            .issue_slc(&root_req.check().unwrap(), now)
            .unwrap(),
    )
    .unwrap();
    let licensing_req = EnrollmentRequest::new(
        &identity("licensing", ServerRole::LicensingServer),
        keys[2].as_ref(),
    )
    .unwrap();
    let checked = licensing_req.check().unwrap();
    let licensing = Issuer::new(keys[2].clone(), root.issue_slc(&checked, now).unwrap()).unwrap();
    let policy = ContentPolicy::new(
        "bench-content",
        vec![Grant::new("alice@example.com", UsageRights::ALL).unwrap()],
    )
    .unwrap();
    let pl = issue_publishing_license(&licensing, &policy, &[7; 32], now).unwrap();
    let LicenseBody::Publishing(pl) = pl.body().clone() else {
        unreachable!()
    };
    let grantee = Grantee::new("alice@example.com", keys[3].public_key()).unwrap();

    // The baseline: raw RSA-2048 PKCS#1 v1.5 SHA-256 with the licensing key.
    let message = [0x42u8; 256];
    let signature = keys[2].sign(&message).unwrap();
    let verifying = rms_keys::PublicKey::from_spki(&keys[2].public_key()).unwrap();

    let mut group = c.benchmark_group("rms-cert");
    group.sample_size(20);
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
    group.bench_function("check request", |b| {
        b.iter(|| black_box(&licensing_req).check().unwrap())
    });
    group.bench_function("issue SLC", |b| {
        b.iter(|| root.issue_slc(black_box(&checked), now).unwrap())
    });
    group.bench_function("issue use license", |b| {
        b.iter(|| issue_use_license(&licensing, keys[2].private_key(), &pl, &grantee, now).unwrap())
    });
    // What a server with a cache of unwrapped content keys pays per use license, and the part
    // of it that decoding the license it just made takes.
    let content_key = [7u8; 32];
    group.bench_function("issue use license, content key cached", |b| {
        b.iter(|| {
            issue_use_license_with_content_key(&licensing, &pl, &content_key, &grantee, now)
                .unwrap()
        })
    });
    let issued = issue_use_license_with_content_key(&licensing, &pl, &content_key, &grantee, now)
        .unwrap()
        .to_der()
        .unwrap();
    group.bench_function("decode a use license", |b| {
        b.iter(|| SignedLicense::from_der(black_box(&issued)).unwrap())
    });
    group.finish();
}

criterion_group!(cert, benches);
criterion_main!(cert);

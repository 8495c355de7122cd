//! Raw RSA-2048 rates per backend: sign (PKCS#1 v1.5 SHA-256), verify, OAEP encrypt and
//! decrypt. `cargo run --release -p rms-keys --example speed` compares them with
//! `openssl speed` in the same run, and measures SoftHSM2.

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rms_keys::{Backend, PrivateKey, PublicKey, SignatureAlgorithm, Signer, SoftwareKey};

fn benches(c: &mut Criterion) {
    let message = [0x42u8; 256];
    for backend in Backend::software_built() {
        let key = SoftwareKey::generate_with(backend, 2048).unwrap();
        let public = PublicKey::from_spki_with(backend, &key.public_key()).unwrap();
        let signature = key.sign(&message).unwrap();
        let wrapped = public.encrypt_oaep_sha256(&[7; 32]).unwrap();
        let mut group = c.benchmark_group(format!("RSA-2048 {backend}"));
        group.sample_size(20);
        group.bench_function("sign", |b| {
            b.iter(|| key.sign(black_box(&message)).unwrap())
        });
        group.bench_function("verify", |b| {
            b.iter(|| {
                public
                    .verify(
                        SignatureAlgorithm::RSA_PKCS1_SHA256,
                        black_box(&message),
                        &signature,
                    )
                    .unwrap()
            })
        });
        group.bench_function("OAEP encrypt", |b| {
            b.iter(|| public.encrypt_oaep_sha256(black_box(&[7; 32])).unwrap())
        });
        group.bench_function("OAEP decrypt", |b| {
            b.iter(|| key.decrypt_oaep_sha256(black_box(&wrapped)).unwrap())
        });
        group.finish();
    }
}

criterion_group!(keys, benches);
criterion_main!(keys);

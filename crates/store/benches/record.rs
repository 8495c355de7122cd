//! What recording an issuance costs: `record_issued` from N concurrent callers on the embedded
//! SQLite store, the group commit sharing each transaction among the records that wait for it.
//!
//! Each iteration is one wave: N tasks each record one use-license-sized record (3.2 KB of DER,
//! as a use license with its two certificates) and its audit entry, and the wave ends when all
//! are committed, so criterion's throughput is records per second at N callers in flight.
//!
//! The baseline, in the same run: the disk's own durable append, the same bytes per wave
//! written to a file and flushed once (`sync_data`), as one batch's commit flushes once.
//!
//! Run with `cargo bench -p rms-store --bench record`; `docs/performance.md` records the rates.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rms_store::{IssuedKind, IssuedRecord, NewAuditEntry, Outcome, Store};
use time::OffsetDateTime;

/// The length of a use license's DER with its two certificates (RSA-2048).
const USE_LICENSE_DER_LEN: usize = 3_200;

static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

fn record(der: &[u8]) -> (IssuedRecord, NewAuditEntry) {
    let now = OffsetDateTime::now_utc();
    // Time-ordered like the serials rms-cert generates, so each insert lands at the index's end.
    let serial = format!(
        "40{:012x}{:018x}",
        now.unix_timestamp_nanos() / 1_000_000,
        NEXT_SERIAL.fetch_add(1, Ordering::Relaxed)
    );
    let audit = NewAuditEntry {
        peer: Some("127.0.0.1:50312".into()),
        request_id: Some(format!("bench-{serial}")),
        ..NewAuditEntry::new(
            "alice@example.com",
            "licensing",
            "use-license",
            Outcome::Allowed,
            format!("granted by ACE 1; issued use-license {serial} for \"alice@example.com\""),
            "node-1",
        )
    };
    let record = IssuedRecord {
        issuer_serial: "4000019a3f5b2c7d0e11223344556677".into(),
        serial,
        kind: IssuedKind::UseLicense,
        subject: "alice@example.com".into(),
        not_before: now,
        not_after: now + time::Duration::days(7 * 365),
        requester: "alice@example.com".into(),
        issued_by: "node-1".into(),
        issued_at: now,
        der: der.to_vec(),
    };
    (record, audit)
}

fn benches(c: &mut Criterion) {
    // The servers' runtime: two worker threads.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = runtime
        .block_on(Store::open_sqlite(&dir.path().join("bench.db")))
        .unwrap();
    let mut der = vec![0u8; USE_LICENSE_DER_LEN];
    getrandom::fill(&mut der).unwrap();

    let mut group = c.benchmark_group("durable append (baseline)");
    let mut log = std::fs::File::create(dir.path().join("baseline.log")).unwrap();
    for callers in [1usize, 11, 32, 128] {
        group.throughput(Throughput::Elements(callers as u64));
        group.bench_function(BenchmarkId::from_parameter(callers), |b| {
            b.iter(|| {
                for _ in 0..callers {
                    log.write_all(&der).unwrap();
                }
                log.sync_data().unwrap();
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("record_issued (SQLite, group commit)");
    for callers in [1usize, 11, 32, 128] {
        group.throughput(Throughput::Elements(callers as u64));
        group.bench_function(BenchmarkId::from_parameter(callers), |b| {
            b.iter_custom(|waves| {
                runtime.block_on(async {
                    let started = Instant::now();
                    for _ in 0..waves {
                        let tasks: Vec<_> = (0..callers)
                            .map(|_| {
                                let store = store.clone();
                                let (record, audit) = record(&der);
                                tokio::spawn(async move {
                                    store.record_issued(&record, &audit).await.unwrap();
                                })
                            })
                            .collect();
                        for task in tasks {
                            task.await.unwrap();
                        }
                    }
                    started.elapsed()
                })
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = record_issued;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(20);
    targets = benches
}
criterion_main!(record_issued);

//! Stops the PostgreSQL server itself in the middle of the load, then starts it again: requests
//! meanwhile are answered 503, nothing is half-written, and service resumes by itself.
//!
//! This stops the machine's server, so it runs only when told how (`RMS_TEST_POSTGRES_CTL`, the
//! command to which `stop -m fast` and `start` are appended; CI sets it to the `pg_ctlcluster`
//! of its server), and in a test binary of its own: `cargo test` runs test binaries one after
//! another, so no other test uses the server while it is down.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "e2e/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "e2e/pg_cluster.rs"]
mod pg_cluster;
#[allow(dead_code)]
#[path = "e2e/postgres.rs"]
mod postgres;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use harness::rt;
use pg_cluster::*;

/// The server's control command, run with `action` appended.
fn control(ctl: &str, action: &[&str]) {
    let mut words = ctl.split_whitespace();
    let program = words.next().expect("RMS_TEST_POSTGRES_CTL names a command");
    let status = Command::new(program)
        .args(words)
        .args(action)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {ctl}: {e}"));
    assert!(status.success(), "{ctl} {action:?} failed: {status}");
}

fn ready() -> bool {
    Command::new("pg_isready")
        .args(["-h", "127.0.0.1", "-p", "5432"])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts the server again whatever happens to the test, so that nothing after it finds it down.
struct RestartOnDrop(String);

impl Drop for RestartOnDrop {
    fn drop(&mut self) {
        if !ready() {
            control(&self.0, &["start"]);
        }
    }
}

#[test]
fn postgres_stopped_mid_load_gives_503_and_service_resumes() {
    let Some(base) = postgres::base_url() else {
        return;
    };
    let Ok(ctl) = std::env::var("RMS_TEST_POSTGRES_CTL") else {
        eprintln!(
            "skipping: RMS_TEST_POSTGRES_CTL is not set (CI sets it to the pg_ctlcluster of its server)"
        );
        return;
    };
    let schema = postgres::Schema::create(&base);
    let mut cluster = Cluster::enroll(&schema.url);
    let first = cluster.first.clone();
    cluster.serve(&first);
    let (alice, body) = cluster.alice_request();
    let api = cluster.nodes[0].api(Some(&alice));

    let restart = RestartOnDrop(ctl.clone());
    let outage = {
        let ctl = ctl.clone();
        move |n: usize| {
            if n == 20 {
                let ctl = ctl.clone();
                std::thread::spawn(move || {
                    control(&ctl, &["stop", "-m", "fast"]);
                    // Down for longer than a request waits for a connection (5 s), so requests
                    // meanwhile are refused rather than merely delayed; then it comes back.
                    std::thread::sleep(Duration::from_secs(7));
                    control(&ctl, &["start"]);
                });
            }
        }
    };
    let outcomes = load(std::slice::from_ref(&api), &body, 1000, 6, outage);
    outcomes.assert_outage_answered_503();

    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() || rt().block_on(api.use_license(&body)).is_err() {
        assert!(
            Instant::now() < deadline,
            "service did not resume within 60 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let health = rt().block_on(cluster.nodes[0].api(None).health()).unwrap();
    assert_eq!(health.status, "ok");
    drop(restart);

    // Nothing half-written (every record has its audit entry: checked by `recorded`), and every
    // license a client received is recorded.
    let received = check_licenses(&cluster.verifier(), &outcomes.licenses);
    let recorded: BTreeSet<String> = cluster.recorded().into_iter().collect();
    assert!(received.is_subset(&recorded));
    eprintln!(
        "PostgreSQL stopped and started under load: {} licenses, {} answered 503",
        outcomes.licenses.len(),
        outcomes.unavailable
    );
}

//! End-to-end tests: the real `rms-root`, `rms-licensing` and `rms-client` binaries, serving on loopback ports picked by the OS, driven over HTTP and on the command line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "e2e/bad_input.rs"]
mod bad_input;
#[path = "e2e/cluster.rs"]
mod cluster;
#[path = "e2e/concurrency.rs"]
mod concurrency;
#[path = "e2e/documents.rs"]
mod documents;
#[path = "e2e/flow.rs"]
mod flow;
#[path = "e2e/harness.rs"]
mod harness;
#[path = "e2e/hsm.rs"]
mod hsm;
#[path = "e2e/lifecycle.rs"]
mod lifecycle;
#[path = "e2e/metrics.rs"]
mod metrics;
#[path = "e2e/operations.rs"]
mod operations;
#[path = "e2e/pg_cluster.rs"]
mod pg_cluster;
#[path = "e2e/postgres.rs"]
mod postgres;
#[path = "e2e/restart.rs"]
mod restart;
#[path = "e2e/security.rs"]
mod security;

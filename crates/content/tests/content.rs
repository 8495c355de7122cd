//! Integration tests of rms-content: round trips, tampering and truncation, OpenSSL both ways,
//! and never-panic property tests, in one test binary (the PKI's keys are generated once).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "content/common.rs"]
mod common;
#[path = "content/openssl.rs"]
mod openssl;
#[path = "content/pipeline.rs"]
mod pipeline;
#[path = "content/props.rs"]
mod props;
#[path = "content/roundtrip.rs"]
mod roundtrip;
#[path = "content/tamper.rs"]
mod tamper;

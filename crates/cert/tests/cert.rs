//! Integration tests of rms-cert: requests, issuance, licenses, revocation lists, renewal
//! requests, OpenSSL interoperability and never-panic property tests, in one test binary (keys
//! are generated once for all of them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "cert/common.rs"]
mod common;
#[path = "cert/crl.rs"]
mod crl;
#[path = "cert/issuance.rs"]
mod issuance;
#[path = "cert/licenses.rs"]
mod licenses;
#[path = "cert/openssl.rs"]
mod openssl;
#[path = "cert/props.rs"]
mod props;
#[path = "cert/renewal.rs"]
mod renewal;
#[path = "cert/requests.rs"]
mod requests;

//! Integration tests of rms-chain: path building, signature algorithms, rights, validation
//! models, the cache, licenses, revocation, NIST PKITS and never panicking on arbitrary input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod algorithms;
mod cache;
mod clock_skew;
mod constraints;
mod license;
mod models;
mod name_constraints;
mod path_building;
mod pkits;
mod policies;
mod props;
mod revocation;
mod revocation_strict;
mod rights;

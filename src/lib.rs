//! # rms: a rights-management PKI
//!
//! This facade re-exports the workspace's libraries under one name, so a service that embeds
//! the whole flow needs a single dependency. Each library can also be used on its own.
//!
//! | module | crate | what it is for |
//! | --- | --- | --- |
//! | [`cert`] | `rms-cert` | enrollment requests, server licensor certificates, licenses |
//! | [`chain`] | `rms-chain` | path building and verification of SLCs and licenses |
//! | [`content`] | `rms-content` | protected files: protect, open and read a document's clear part |
//! | [`keys`] | `rms-keys` | key backends: aws-lc-rs (default), the pure-Rust `rsa` crate (feature), PKCS#11 tokens |
//! | [`dacl`] | `rms-dacl` | Windows-compatible SIDs, security descriptors, SDDL, binary form and access check |
//! | [`policy`] | `rms-policy` | lifetimes, time encoding, renewal windows, validation models |
//! | [`roles`] | `rms-roles` | the root certification and licensing roles, without HTTP |
//! | [`store`] | `rms-store` | the configuration database (SQLite or PostgreSQL) |
//! | [`transport`] | `rms-transport` | HTTP server and client, TLS, limits, metrics |
//!
//! The top-level `examples/` folder belongs to this package.

pub use rms_cert as cert;
pub use rms_chain as chain;
pub use rms_content as content;
pub use rms_dacl as dacl;
pub use rms_keys as keys;
pub use rms_policy as policy;
pub use rms_roles as roles;
pub use rms_store as store;
pub use rms_transport as transport;

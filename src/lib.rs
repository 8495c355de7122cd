//! # rms: a rights-management PKI
//!
//! This facade re-exports the workspace's libraries under one name, so a service that embeds
//! the whole flow needs a single dependency. Each library can also be used on its own.
//!
//! | module | crate | what it is for |
//! | --- | --- | --- |
//! | [`cert`] | `rms-cert` | enrollment requests, server licensor certificates, licenses |
//! | [`policy`] | `rms-policy` | lifetimes, time encoding, renewal windows, validation models |
//!
//! The top-level `examples/` folder belongs to this package.

pub use rms_cert as cert;
pub use rms_policy as policy;

//! # rms: a rights-management PKI
//!
//! This facade re-exports the workspace's libraries under one name, so a service that embeds
//! the whole flow needs a single dependency. Each library can also be used on its own.
//!
//! The top-level `examples/` folder belongs to this package.
//!
//! | module | crate | what it is for |
//! | --- | --- | --- |
//! | [`dacl`] | `rms-dacl` | Windows-compatible SIDs, security descriptors, SDDL, binary form and access check |

pub use rms_dacl as dacl;

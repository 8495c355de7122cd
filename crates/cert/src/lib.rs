//! # rms-cert: the certificate model
//!
//! What a server licensor certificate (SLC), an enrollment request and a license are in the
//! rights-management PKI, and how they are made.

pub mod oid;
pub use crate::rights::{Right, Rights, RightsError};

mod rights;

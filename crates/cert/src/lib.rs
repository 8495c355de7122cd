//! # rms-cert: the certificate model
//!
//! What a server licensor certificate (SLC), an enrollment request and a license are in the
//! rights-management PKI, and how they are made.

#![forbid(unsafe_code)]

pub use crate::chain::Chain;
pub use crate::codec::{
    certificate_from_der, certificate_from_pem, certificate_to_der, certificate_to_pem,
};
pub use crate::error::{CertError, LicenseError, RequestError};
pub use crate::issuer::{Issuer, IssuerKind};
pub use crate::key::{KEY_SIZES, RsaSigner};
pub use crate::request::{CheckedRequest, EnrollmentRequest};
pub use crate::rights::{Right, Rights, RightsError};
pub use crate::serial::SerialNumber;
pub use crate::server::{ServerId, ServerIdentity, ServerRole};
pub use crate::signer::Signer;

pub mod oid;

mod chain;
mod codec;
mod error;
mod issuer;
mod key;
mod profile;
mod request;
mod rights;
mod serial;
mod server;
mod signer;
mod verify;

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
pub use crate::license_body::{
    Grant, LicenseBody, LicenseKind, PublishingLicense, UsageRight, UsageRights, UseLicense,
    WrappedKey,
};
pub use crate::license_issue::{
    ContentPolicy, Grantee, MAX_CONTENT_KEY_LEN, MIN_CONTENT_KEY_LEN, issue_publishing_license,
    issue_use_license, oaep_sha256_algorithm, unwrap_content_key, wrap_content_key,
};
pub use crate::license_signed::{SignedLicense, SignerView};
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
mod license_body;
mod license_issue;
mod license_signed;
mod profile;
mod request;
mod rights;
mod serial;
mod server;
mod signer;
mod verify;

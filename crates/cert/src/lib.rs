//! # rms-cert: the certificate model
//!
//! What a server licensor certificate (SLC), an enrollment request and a license are in the
//! rights-management PKI, and how they are made:
//!
//! - **Enrollment requests** ([`EnrollmentRequest`]): PKCS#10, signed with the requester's new
//!   RSA key, naming the server ([`ServerIdentity`]: common name, [`ServerRole`], [`ServerId`],
//!   service URL). The same form serves enrollment with an authority and sub-enrollment with a
//!   root. [`EnrollmentRequest::check`] refuses each way a request can be wrong with its own
//!   [`RequestError`], and returns the [`CheckedRequest`] that issuance requires.
//! - **Issuers** ([`Issuer`]): an enrollment authority ([`Issuer::create_authority`], a
//!   self-signed trust anchor) enrolls root certification servers; a root sub-enrolls licensing
//!   servers ([`Issuer::issue_slc`], returning the new SLC's [`Chain`]). SLCs carry the
//!   [`Rights`] they grant.
//! - **Licenses** ([`SignedLicense`]): publishing and use licenses, our own DER bodies signed as
//!   CMS SignedData ([`issue_publishing_license`], [`issue_use_license`]), with content keys
//!   wrapped by RSA-OAEP ([`wrap_content_key`], [`unwrap_content_key`]).
//! - **Revocation lists** ([`RevocationList`]): an authority or a root revokes the SLCs it
//!   issued with an X.509 CRL v2 ([`Issuer::issue_crl`]), each entry ([`RevokedEntry`]) with
//!   its time and [`RevocationReason`]; `rms-chain` applies them.
//! - **Renewal requests** ([`RenewalRequest`]): a server asks for a new SLC with the same
//!   identity, for its current key or a new one, signed with its current key;
//!   [`RenewalRequest::verify`] returns the [`CheckedRenewal`] to issue it from.
//! - **Keys** are `rms-keys`'s: signing goes through the [`Signer`] trait, which every
//!   [`rms_keys::PrivateKey`] is (in memory through aws-lc-rs by default, or in a PKCS#11
//!   token); [`RsaSigner`] is the software key with this crate's errors, PKCS#8 in and out, in
//!   the clear or encrypted with a passphrase. Signature checks of requests go through
//!   [`rms_keys::PublicKey`].
//!
//! Every time is passed in; nothing reads the clock. Validity windows come from
//! [`rms_policy::ValidityPolicy`]. Decoding never panics; it does not verify signatures of
//! certificates, revocation lists or licenses (that is `rms-chain`'s job), only of enrollment
//! and renewal requests (proof of possession). The certificate and license profiles are in `docs/certificates.md` and
//! `docs/license-format.md`.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use rms_cert::{EnrollmentRequest, Issuer, RsaSigner, ServerId, ServerIdentity, ServerRole};
//! use rms_policy::ValidityPolicy;
//! use time::macros::datetime;
//!
//! let now = datetime!(2026-03-10 09:30 UTC);
//! let authority = Issuer::create_authority(
//!     "CN=Example Enrollment Authority".parse()?,
//!     Arc::new(RsaSigner::generate(2048)?),
//!     ValidityPolicy::default(),
//!     now,
//! )?;
//!
//! // A root certification server makes a request with its new key...
//! let root_key = RsaSigner::generate(2048)?;
//! let identity = ServerIdentity::new(
//!     "root-1",
//!     ServerRole::RootCertificationServer,
//!     ServerId::random()?,
//!     "https://rms.example.com/_wmcs/certification",
//! )?;
//! let pem = EnrollmentRequest::new(&identity, &root_key)?.to_pem()?;
//!
//! // ...which the authority checks and enrolls.
//! let checked = EnrollmentRequest::from_pem(&pem)?.check()?;
//! let chain = authority.issue_slc(&checked, now)?;
//! assert_eq!(chain.len(), 2); // [root SLC, authority]
//! assert_eq!(chain.leaf().tbs_certificate().subject().to_string(), "CN=root-1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

pub use {der, rms_keys, spki, x509_cert};

pub use crate::chain::Chain;
pub use crate::codec::{
    certificate_from_der, certificate_from_pem, certificate_to_der, certificate_to_pem,
};
pub use crate::content_revocations::{ContentRevocationList, RevokedContent, RevokedUseLicense};
pub use crate::crl::RevocationList;
pub use crate::error::{CertError, LicenseError, RequestError};
pub use crate::issuer::{Issuer, IssuerKind};
pub use crate::key::{KEY_SIZES, RsaSigner};
pub use crate::license_body::{
    Grant, LicenseBody, LicenseKind, MAX_USE_LICENSE_LIFETIME_SECONDS, PublishingLicense,
    TemplateRef, UseLicense, WrappedKey,
};
pub use crate::license_issue::{
    ContentPolicy, Grantee, MAX_CONTENT_KEY_LEN, MIN_CONTENT_KEY_LEN, RecipientKey, UseTerms,
    issue_publishing_license, issue_use_license, issue_use_license_with_content_key,
    issue_use_license_with_terms, oaep_sha256_algorithm, unwrap_content_key, wrap_content_key,
    wrap_content_key_to,
};
pub use crate::license_signed::{SignedLicense, SignerView};
pub use crate::profile::key_identifier;
pub use crate::renewal::{CheckedRenewal, RenewalRequest};
pub use crate::request::{CheckedRequest, EnrollmentRequest};
pub use crate::revocation::{RevocationReason, RevokedEntry};
pub use crate::rights::{Right, Rights, RightsError};
pub use crate::serial::SerialNumber;
pub use crate::server::{ServerId, ServerIdentity, ServerRole};
pub use crate::signer::Signer;
pub use crate::template_list::{
    ListedTemplate, MAX_DESCRIPTION_CHARS, TemplateGrant, TemplateList,
};
pub use crate::usage::{UsageRight, UsageRights};

pub mod oid;

mod chain;
mod codec;
mod content_revocations;
mod crl;
mod error;
mod issuer;
mod key;
mod license_body;
mod license_issue;
mod license_signed;
mod license_wire;
mod profile;
mod renewal;
mod request;
mod revocation;
mod rights;
mod serial;
mod server;
mod signer;
mod template_list;
mod usage;
mod verify;

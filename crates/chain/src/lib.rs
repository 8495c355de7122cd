//! # rms-chain: is this SLC or license trustworthy, at this time, from this anchor?
//!
//! Path building and verification for the rights-management PKI, in the manner of
//! rustls-webpki: give a leaf certificate, a pool of candidate issuers in any order, a set of
//! [`TrustAnchor`]s and the time, and get a [`VerifiedPath`] or a [`ChainError`] that names
//! the certificate that failed and why.
//!
//! - **Path building** through an unordered pool (duplicates, unrelated certificates, several
//!   issuers with one name such as an old and a renewed root SLC, cycles), with bounded depth
//!   and work ([`Budget`]) and the most specific error when every candidate fails.
//! - **Per link**: signature (RSA PKCS#1 v1.5 and RSASSA-PSS with SHA-256/384/512, ECDSA P-256
//!   and P-384), RFC 5280 §7.1 name chaining, key identifiers, basicConstraints and
//!   pathLenConstraint, keyUsage, unknown critical extensions, and our rights extension: a
//!   signer must hold the right for what it signed ([`Purpose`]).
//! - **Time** under either validation model of `rms-policy`: the shell model (everything valid
//!   now) or the chain model (each signer valid when it signed), which licenses need.
//! - **Licenses**: [`verify_license`] checks the CMS signature, the signer's path and rights,
//!   and the license's own validity.
//! - **Caching**: a [`Verifier`] keeps verified paths, so a second license from the same signer
//!   costs about one signature check.
//! - **Revocation**: [`Revocations`] holds revocation lists (`rms_cert::RevocationList`) whose
//!   signatures were verified with their issuer's certificate; with
//!   [`VerifyOptions::with_revocations`] every certificate of a path but the trust anchor is
//!   checked against them, on every verification, cached or not. A certificate revoked for
//!   keyCompromise or cACompromise is refused whatever the time; revoked at time R for another
//!   reason, it is refused when used at or after R: under the chain model, when what it signed
//!   (a license, a certificate) was signed at or after R, so licenses signed before a licensing
//!   SLC was superseded stay valid; under the shell model, at any validation time from R on.
//!
//!   [`RevocationPolicy::RequireCurrent`] adds RFC 5280 §6.3, for strict relying
//!   parties (and NIST PKITS): every certificate needs current revocation data from a
//!   [`CrlSet`] (complete and delta lists, direct and indirect, issuing distribution points),
//!   each list verified with an issuer whose own path validates.
//! - **Name constraints** (DNS, RFC 822, directory names, IP addresses, URIs; permitted and
//!   excluded) from intermediates and from the trust anchor, and **certificate policies** (the
//!   valid policy tree, mappings, the policy constraints, the initial inputs of
//!   [`VerifyOptions`]), with the resulting policy sets on the [`VerifiedPath`]. What a trust
//!   anchor's own extensions mean is documented on [`TrustAnchor`] (RFC 5937).
//!
//! OCSP and extended key usage are not implemented; a critical extension this crate does not
//! process makes the certificate (or the trust anchor) unacceptable. NIST PKITS: 246 of its 249
//! entries apply and pass (all but the 3 DSA ones).
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use rms_chain::{Cert, Purpose, TrustAnchor, TrustAnchors, VerifyOptions, verify_path};
//! use rms_policy::ValidationModel;
//! use time::macros::datetime;
//! # let (anchor_der, ca_der, leaf_der) = example::certificates()?;
//!
//! let anchors = TrustAnchors::from(TrustAnchor::from_der(&anchor_der)?);
//! let pool = [Cert::from_der(&ca_der)?];
//! let leaf = Cert::from_der(&leaf_der)?;
//! let options = VerifyOptions::new()
//!     .with_model(ValidationModel::Shell)
//!     .with_purpose(Purpose::Any);
//!
//! let path = verify_path(&leaf, &pool, &anchors, datetime!(2030-01-01 0:00 UTC), &options)?;
//! assert_eq!(path.intermediates(), &pool);
//! assert_eq!(path.anchor().cert().subject().to_string(), "CN=Anchor");
//! # Ok(())
//! # }
//! # mod example {
//! #     use std::str::FromStr;
//! #     use der::Encode;
//! #     use x509_cert::builder::{Builder, CertificateBuilder, profile::BuilderProfile};
//! #     use x509_cert::ext::{Extension, pkix::BasicConstraints};
//! #     use x509_cert::{name::Name, serial_number::SerialNumber, time::Validity};
//! #     struct Profile(Name, Name, bool);
//! #     impl BuilderProfile for Profile {
//! #         fn get_issuer(&self, _: &Name) -> Name { self.1.clone() }
//! #         fn get_subject(&self) -> Name { self.0.clone() }
//! #         fn build_extensions(&self, _: spki::SubjectPublicKeyInfoRef<'_>,
//! #             _: spki::SubjectPublicKeyInfoRef<'_>, _: &x509_cert::TbsCertificate)
//! #             -> x509_cert::builder::Result<Vec<Extension>> {
//! #             let bc = BasicConstraints { ca: self.2, path_len_constraint: None };
//! #             Ok(vec![Extension { extn_id: const_oid::ObjectIdentifier::new_unwrap("2.5.29.19"),
//! #                 critical: true, extn_value: der::asn1::OctetString::new(bc.to_der()?)? }])
//! #         }
//! #     }
//! #     fn make(subject: &str, issuer: &str, ca: bool, key: &p256::ecdsa::SigningKey,
//! #         by: &p256::ecdsa::SigningKey) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
//! #         let profile = Profile(Name::from_str(subject)?, Name::from_str(issuer)?, ca);
//! #         let validity = Validity::new(
//! #             x509_cert::time::Time::from_str("2025-01-01T00:00:00Z")?,
//! #             x509_cert::time::Time::from_str("2035-01-01T00:00:00Z")?);
//! #         let spki = spki::SubjectPublicKeyInfoOwned::from_key(key.verifying_key())?;
//! #         let builder = CertificateBuilder::new(profile, SerialNumber::from(1u32), validity, spki)?;
//! #         Ok(builder.build::<_, p256::ecdsa::DerSignature>(by)?.to_der()?)
//! #     }
//! #     pub fn certificates() -> Result<(Vec<u8>, Vec<u8>, Vec<u8>), Box<dyn std::error::Error>> {
//! #         let keys: Vec<_> = (1u8..=3)
//! #             .map(|i| p256::ecdsa::SigningKey::from_slice(&[i; 32]))
//! #             .collect::<Result<_, _>>()?;
//! #         Ok((make("CN=Anchor", "CN=Anchor", true, &keys[0], &keys[0])?,
//! #             make("CN=CA", "CN=Anchor", true, &keys[1], &keys[0])?,
//! #             make("CN=Leaf", "CN=CA", false, &keys[2], &keys[1])?))
//! #     }
//! # }
//! ```

pub use crate::anchor::{TrustAnchor, TrustAnchors};
pub use crate::build::verify_path;
pub use crate::cert::Cert;
pub use crate::crl::{Crl, CrlSet};
pub use crate::error::{CertRef, ChainError, Position};
pub use crate::license::{VerifiedLicense, verify_license};
pub use crate::options::{Budget, Purpose, RevocationPolicy, VerifyOptions};
pub use crate::path::VerifiedPath;
pub use crate::policy::{ANY_POLICY, PolicySet};
pub use crate::revocation::Revocations;
pub use crate::verifier::{DEFAULT_CACHE_CAPACITY, Verifier};

mod anchor;
mod build;
mod cert;
mod crl;
mod crl_status;
mod error;
mod ext;
mod license;
mod meter;
mod name;
mod name_constraints;
mod options;
mod path;
mod policy;
mod revocation;
mod signature;
mod verifier;

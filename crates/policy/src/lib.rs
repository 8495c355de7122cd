//! # rms-policy: how long things live, and when they must be valid
//!
//! The validity rules of the rights-management PKI, as pure functions of their inputs and a
//! time you pass in:
//!
//! - **Lifetimes**: a server licensor certificate (SLC) lives one calendar year, what a server
//!   issues lives seven, an enrollment authority twenty; all configurable
//!   ([`ValidityPolicy`], [`Lifetime`]).
//! - **Time encoding**: UTCTime through 2049 and GeneralizedTime from 2050, as RFC 5280
//!   requires ([`to_x509_time`]).
//! - **Renewal**: when an SLC may be renewed, before and after expiry ([`RenewalStatus`]).
//! - **Validation models**: the *shell* model of RFC 5280 (everything valid now) and the
//!   *chain* model (each signer valid when it signed), which licenses need because a 7-year
//!   license outlives the 1-year SLC that signed it ([`ValidationModel`], [`check_path`]).
//!
//! # Example
//!
//! ```
//! use rms_policy::{check_path, Issued, ValidationModel, ValidityPolicy};
//! use time::macros::datetime;
//!
//! let policy = ValidityPolicy::default();
//! let slc = policy.validity(Issued::ServerLicensorCertificate, datetime!(2028-02-29 09:00 UTC))?;
//! assert_eq!(slc.not_after(), datetime!(2029-02-28 09:00 UTC));
//!
//! let license = policy.validity(Issued::License, datetime!(2028-06-01 12:00 UTC))?;
//! let two_years_later = datetime!(2030-06-01 12:00 UTC);
//! // The SLC has expired, but it was valid when it signed the license.
//! check_path(ValidationModel::Chain, &[license, slc], two_years_later, policy.clock_skew)?;
//! assert!(check_path(ValidationModel::Shell, &[license, slc], two_years_later, policy.clock_skew).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use crate::encoding::{
    LAST_UTC_TIME_YEAR, from_generalized_time, from_x509_time, from_x509_validity,
    to_generalized_time, to_x509_time, to_x509_validity,
};
pub use crate::error::{PolicyError, ValidityError};
pub use crate::lifetime::Lifetime;
pub use crate::model::{ValidationModel, check_path};
pub use crate::validity::{
    Issued, RenewalStatus, Validity, ValidityPolicy, WindowPosition, whole_seconds_utc,
};

mod encoding;
mod error;
mod lifetime;
mod model;
mod validity;

//! What a verification requires: model, clock skew, purpose, limits.

use std::sync::Arc;

use rms_cert::{LicenseKind, Right, Rights};
use rms_policy::{ValidationModel, ValidityPolicy};
use time::Duration;

use crate::Revocations;

/// What the leaf of a path is going to be trusted for, which decides the rights checks.
///
/// Under every purpose but [`Purpose::Any`], each certificate between the leaf and the trust
/// anchor signed a server licensor certificate and so must hold [`Right::SubEnroll`] (a
/// licensing SLC cannot sub-enroll). The trust anchor (the enrollment authority) is not
/// checked: it is a trust input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Purpose {
    /// No rights checks: plain RFC 5280 path validation (used for NIST PKITS).
    Any,
    /// The leaf is a server licensor certificate: it must carry the rights extension.
    #[default]
    ServerLicensor,
    /// The leaf is about to sign an SLC (sub-enrollment): it must hold [`Right::SubEnroll`]
    /// and be a CA allowed to sign certificates.
    SubEnroll,
    /// The leaf signed a license of this kind: it must hold the right to issue it, and its
    /// keyUsage, when present, must allow digitalSignature.
    SignLicense(LicenseKind),
}

impl Purpose {
    /// The rights the leaf must hold (none for [`Purpose::Any`] and
    /// [`Purpose::ServerLicensor`]).
    pub fn leaf_rights(self) -> Rights {
        match self {
            Purpose::Any | Purpose::ServerLicensor => Rights::NONE,
            Purpose::SubEnroll => Rights::NONE.with(Right::SubEnroll),
            Purpose::SignLicense(LicenseKind::Publishing) => {
                Rights::NONE.with(Right::IssuePublishingLicense)
            }
            Purpose::SignLicense(LicenseKind::Use) => Rights::NONE.with(Right::IssueUseLicense),
            // A kind rms-cert adds later: both licensing rights until it gets its own.
            Purpose::SignLicense(_) => Rights::LICENSING,
        }
    }

    /// Whether rights are checked at all.
    pub fn checks_rights(self) -> bool {
        self != Purpose::Any
    }
}

/// Bounds on the work one path search may do, so that a hostile pool (many same-name
/// candidates, cross-signed cycles) cannot make verification slow. Running out ends the search
/// with [`ChainError::SignatureBudgetExceeded`](crate::ChainError::SignatureBudgetExceeded) or
/// [`ChainError::BuildBudgetExceeded`](crate::ChainError::BuildBudgetExceeded).
///
/// The defaults are those of rustls-webpki: 100 signature checks (from Go's limit after
/// CVE-2018-16875) and 200,000 build steps (from mozilla::pkix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Budget {
    signatures: u32,
    build_calls: u32,
}

impl Budget {
    /// A budget of `signatures` signature checks and `build_calls` candidate steps.
    pub const fn new(signatures: u32, build_calls: u32) -> Self {
        Self {
            signatures,
            build_calls,
        }
    }

    /// Signature checks allowed.
    pub const fn signatures(&self) -> u32 {
        self.signatures
    }

    /// Build steps allowed (one per certificate whose issuer is searched).
    pub const fn build_calls(&self) -> u32 {
        self.build_calls
    }
}

impl Default for Budget {
    fn default() -> Self {
        Self::new(100, 200_000)
    }
}

/// Settings of a verification. [`VerifyOptions::default`] is what our PKI needs:
///
/// | setting | default |
/// | --- | --- |
/// | [`model`](Self::model) | [`ValidationModel::Chain`] (licenses outlive their signer's SLC) |
/// | [`clock_skew`](Self::clock_skew) | 5 minutes (from [`ValidityPolicy`]) |
/// | [`purpose`](Self::purpose) | [`Purpose::ServerLicensor`] |
/// | [`max_intermediates`](Self::max_intermediates) | 6 |
/// | [`budget`](Self::budget) | [`Budget::default`] |
/// | [`min_rsa_bits`](Self::min_rsa_bits) | 2048 |
/// | [`check_anchor_validity`](Self::check_anchor_validity) | `true` |
/// | [`revocations`](Self::revocations) | none: nothing is revoked |
///
/// Options are cheap to clone (the revocations are shared).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VerifyOptions {
    model: ValidationModel,
    clock_skew: Duration,
    purpose: Purpose,
    max_intermediates: usize,
    budget: Budget,
    min_rsa_bits: usize,
    check_anchor_validity: bool,
    revocations: Option<Arc<Revocations>>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            model: ValidationModel::default(),
            clock_skew: ValidityPolicy::default().clock_skew,
            purpose: Purpose::default(),
            max_intermediates: 6,
            budget: Budget::default(),
            min_rsa_bits: 2048,
            check_anchor_validity: true,
            revocations: None,
        }
    }
}

impl VerifyOptions {
    /// The defaults (see the table above).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the validation model.
    pub fn with_model(mut self, model: ValidationModel) -> Self {
        self.model = model;
        self
    }

    /// Sets the clock skew tolerated on both sides of every validity window.
    pub fn with_clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew.abs();
        self
    }

    /// Sets the purpose (ignored by license verification, which derives it from the license).
    pub fn with_purpose(mut self, purpose: Purpose) -> Self {
        self.purpose = purpose;
        self
    }

    /// Sets the maximum number of certificates between the leaf and the trust anchor.
    pub fn with_max_intermediates(mut self, max: usize) -> Self {
        self.max_intermediates = max;
        self
    }

    /// Sets the work budget.
    pub fn with_budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }

    /// Sets the smallest RSA modulus accepted for a key that verifies a signature (RSA keys
    /// under 1024 bits are refused regardless).
    pub fn with_min_rsa_bits(mut self, bits: usize) -> Self {
        self.min_rsa_bits = bits;
        self
    }

    /// Whether the trust anchor's own validity window is checked (under the model, like any
    /// issuer). RFC 5280 §6.1 treats the anchor as a trust input and does not check it, nor
    /// does rustls-webpki; OpenSSL and Go do. The default is to check it: our anchor, the
    /// enrollment authority, is a certificate whose lifetime the operator chose.
    pub fn with_anchor_validity(mut self, check: bool) -> Self {
        self.check_anchor_validity = check;
        self
    }

    /// Checks every certificate of a path but the trust anchor against `revocations`, each
    /// time a path is verified (see [`Revocations`] for what a revocation refuses).
    pub fn with_revocations(mut self, revocations: Arc<Revocations>) -> Self {
        self.revocations = Some(revocations);
        self
    }

    /// Checks no revocation.
    pub fn without_revocations(mut self) -> Self {
        self.revocations = None;
        self
    }

    /// The validation model.
    pub fn model(&self) -> ValidationModel {
        self.model
    }

    /// The clock skew tolerated.
    pub fn clock_skew(&self) -> Duration {
        self.clock_skew
    }

    /// The purpose.
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// The maximum number of intermediate certificates.
    pub fn max_intermediates(&self) -> usize {
        self.max_intermediates
    }

    /// The work budget.
    pub fn budget(&self) -> Budget {
        self.budget
    }

    /// The smallest RSA modulus accepted.
    pub fn min_rsa_bits(&self) -> usize {
        self.min_rsa_bits
    }

    /// Whether the trust anchor's validity is checked.
    pub fn check_anchor_validity(&self) -> bool {
        self.check_anchor_validity
    }

    /// The revocations checked, if any.
    pub fn revocations(&self) -> Option<&Revocations> {
        self.revocations.as_deref()
    }
}

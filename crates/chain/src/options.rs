//! What a verification requires: model, clock skew, purpose, limits.

use std::collections::BTreeSet;
use std::sync::Arc;

use const_oid::ObjectIdentifier;
use rms_cert::{LicenseKind, Right, Rights};
use rms_policy::{ValidationModel, ValidityPolicy};
use time::Duration;

use crate::policy::ANY_POLICY;
use crate::{CrlSet, Revocations};

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
    #[must_use]
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
    #[must_use]
    pub fn checks_rights(self) -> bool {
        self != Purpose::Any
    }
}

/// Bounds on the work one verification may do, so that a hostile pool (many same-name
/// candidates, cross-signed cycles) or hostile certificates (thousands of names and name
/// constraints, policy mappings that multiply the policy tree) cannot make verification slow.
/// Running out ends the search with
/// [`ChainError::SignatureBudgetExceeded`](crate::ChainError::SignatureBudgetExceeded),
/// [`ChainError::BuildBudgetExceeded`](crate::ChainError::BuildBudgetExceeded),
/// [`ChainError::NameConstraintBudgetExceeded`](crate::ChainError::NameConstraintBudgetExceeded)
/// or [`ChainError::PolicyTreeTooLarge`](crate::ChainError::PolicyTreeTooLarge).
///
/// The budget covers the whole verification, revocation lists included: their signatures, and
/// the paths of their issuers, draw on the same counts.
///
/// The defaults are those of rustls-webpki: 100 signature checks (from Go's limit after
/// CVE-2018-16875), 200,000 build steps (from mozilla::pkix) and 250,000 name comparisons
/// (as Go's crypto/x509); and 10,000 nodes in one valid policy tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Budget {
    signatures: u32,
    build_calls: u32,
    name_comparisons: u32,
    policy_nodes: u32,
}

impl Budget {
    /// A budget of `signatures` signature checks and `build_calls` candidate steps, with the
    /// default name-comparison and policy-tree limits.
    #[must_use]
    pub const fn new(signatures: u32, build_calls: u32) -> Self {
        Self {
            signatures,
            build_calls,
            name_comparisons: 250_000,
            policy_nodes: 10_000,
        }
    }

    /// Sets how many comparisons of a name with a name constraint one verification may make.
    #[must_use]
    pub const fn with_name_comparisons(mut self, comparisons: u32) -> Self {
        self.name_comparisons = comparisons;
        self
    }

    /// Sets how many nodes one valid policy tree (RFC 5280 §6.1.2 (a)) may hold.
    #[must_use]
    pub const fn with_policy_nodes(mut self, nodes: u32) -> Self {
        self.policy_nodes = nodes;
        self
    }

    /// Name comparisons allowed.
    #[must_use]
    pub const fn name_comparisons(&self) -> u32 {
        self.name_comparisons
    }

    /// Policy tree nodes allowed.
    #[must_use]
    pub const fn policy_nodes(&self) -> u32 {
        self.policy_nodes
    }

    /// Signature checks allowed.
    #[must_use]
    pub const fn signatures(&self) -> u32 {
        self.signatures
    }

    /// Build steps allowed (one per certificate whose issuer is searched).
    #[must_use]
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
/// | [`revocation_policy`](Self::revocation_policy) | [`RevocationPolicy::ApplyGiven`] |
/// | [`initial_policy_set`](Self::initial_policy_set) | {anyPolicy} |
/// | [`initial_explicit_policy`](Self::initial_explicit_policy), [`initial_policy_mapping_inhibit`](Self::initial_policy_mapping_inhibit), [`initial_any_policy_inhibit`](Self::initial_any_policy_inhibit) | `false` |
///
/// The clock skew widens every validity window (certificates, licenses, and the thisUpdate and
/// nextUpdate of revocation lists) by that much on both sides: with the default 5 minutes, a
/// certificate that expired 1 second before the validation time is still accepted. Set it to
/// zero with [`with_clock_skew`](Self::with_clock_skew) for exact comparisons.
///
/// Options are cheap to clone (the revocations and policy sets are shared).
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
    revocation_policy: RevocationPolicy,
    initial_policy_set: Option<Arc<BTreeSet<ObjectIdentifier>>>,
    initial_explicit_policy: bool,
    initial_policy_mapping_inhibit: bool,
    initial_any_policy_inhibit: bool,
}

/// How revocation is checked, besides the lists given with
/// [`VerifyOptions::with_revocations`] (which apply under every policy).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevocationPolicy {
    /// Apply the lists given with [`VerifyOptions::with_revocations`], if any: a certificate
    /// that no list names is accepted. What our licensing roles use.
    #[default]
    ApplyGiven,
    /// RFC 5280 §6.3: every certificate of the path but the trust anchor must have its status
    /// decided by current revocation lists of `CrlSet` (complete lists, with their delta lists)
    /// that cover all reasons, each list verified with an issuer certificate whose own path
    /// validates to the same trust anchor; missing or stale revocation data is a failure
    /// ([`ChainError::RevocationStatusUnknown`](crate::ChainError::RevocationStatusUnknown)).
    /// Paths verified under this policy are not cached by a [`Verifier`](crate::Verifier).
    RequireCurrent(Arc<CrlSet>),
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
            revocation_policy: RevocationPolicy::ApplyGiven,
            initial_policy_set: None,
            initial_explicit_policy: false,
            initial_policy_mapping_inhibit: false,
            initial_any_policy_inhibit: false,
        }
    }
}

impl VerifyOptions {
    /// The defaults (see the table above).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the validation model.
    #[must_use]
    pub fn with_model(mut self, model: ValidationModel) -> Self {
        self.model = model;
        self
    }

    /// Sets the clock skew tolerated on both sides of every validity window (its absolute
    /// value). Zero means exact comparisons: a certificate whose notAfter is one second before
    /// the validation time is expired.
    #[must_use]
    pub fn with_clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew.abs();
        self
    }

    /// Sets the purpose (ignored by license verification, which derives it from the license).
    #[must_use]
    pub fn with_purpose(mut self, purpose: Purpose) -> Self {
        self.purpose = purpose;
        self
    }

    /// Sets the maximum number of certificates between the leaf and the trust anchor.
    #[must_use]
    pub fn with_max_intermediates(mut self, max: usize) -> Self {
        self.max_intermediates = max;
        self
    }

    /// Sets the work budget.
    #[must_use]
    pub fn with_budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }

    /// Sets the smallest RSA modulus accepted for a key that verifies a signature (RSA keys
    /// under 1024 bits are refused regardless).
    #[must_use]
    pub fn with_min_rsa_bits(mut self, bits: usize) -> Self {
        self.min_rsa_bits = bits;
        self
    }

    /// Whether the trust anchor's own validity window is checked (under the model, like any
    /// issuer). RFC 5280 §6.1 treats the anchor as a trust input and does not check it, nor
    /// does rustls-webpki; OpenSSL and Go do. The default is to check it: our anchor, the
    /// enrollment authority, is a certificate whose lifetime the operator chose.
    #[must_use]
    pub fn with_anchor_validity(mut self, check: bool) -> Self {
        self.check_anchor_validity = check;
        self
    }

    /// Checks every certificate of a path but the trust anchor against `revocations`, each
    /// time a path is verified (see [`Revocations`] for what a revocation refuses).
    #[must_use]
    pub fn with_revocations(mut self, revocations: Arc<Revocations>) -> Self {
        self.revocations = Some(revocations);
        self
    }

    /// Checks no revocation.
    #[must_use]
    pub fn without_revocations(mut self) -> Self {
        self.revocations = None;
        self
    }

    /// Sets how revocation is checked (see [`RevocationPolicy`]).
    #[must_use]
    pub fn with_revocation_policy(mut self, policy: RevocationPolicy) -> Self {
        self.revocation_policy = policy;
        self
    }

    /// Sets the user-initial-policy-set of RFC 5280 §6.1.1 (c): the policies the caller accepts.
    /// The default is {anyPolicy}. An empty set accepts no policy, so any path fails whose
    /// policies end up required.
    #[must_use]
    pub fn with_initial_policy_set(
        mut self,
        policies: impl IntoIterator<Item = ObjectIdentifier>,
    ) -> Self {
        let set: BTreeSet<ObjectIdentifier> = policies.into_iter().collect();
        self.initial_policy_set = if set.len() == 1 && set.contains(&ANY_POLICY) {
            None
        } else {
            Some(Arc::new(set))
        };
        self
    }

    /// Sets initial-explicit-policy (RFC 5280 §6.1.1 (f)): the path must be valid for at least
    /// one policy of the initial policy set.
    #[must_use]
    pub fn with_initial_explicit_policy(mut self, required: bool) -> Self {
        self.initial_explicit_policy = required;
        self
    }

    /// Sets initial-policy-mapping-inhibit (RFC 5280 §6.1.1 (e)): policy mappings are not
    /// followed.
    #[must_use]
    pub fn with_initial_policy_mapping_inhibit(mut self, inhibit: bool) -> Self {
        self.initial_policy_mapping_inhibit = inhibit;
        self
    }

    /// Sets initial-any-policy-inhibit (RFC 5280 §6.1.1 (g)): anyPolicy in a certificate does
    /// not match every policy.
    #[must_use]
    pub fn with_initial_any_policy_inhibit(mut self, inhibit: bool) -> Self {
        self.initial_any_policy_inhibit = inhibit;
        self
    }

    /// How revocation is checked.
    #[must_use]
    pub fn revocation_policy(&self) -> &RevocationPolicy {
        &self.revocation_policy
    }

    /// The user-initial-policy-set ({anyPolicy} by default).
    #[must_use]
    pub fn initial_policy_set(&self) -> BTreeSet<ObjectIdentifier> {
        match &self.initial_policy_set {
            Some(set) => (**set).clone(),
            None => BTreeSet::from([ANY_POLICY]),
        }
    }

    /// The user-initial-policy-set, `None` for {anyPolicy}.
    pub(crate) fn initial_policy_set_if_constrained(&self) -> Option<&BTreeSet<ObjectIdentifier>> {
        self.initial_policy_set.as_deref()
    }

    /// initial-explicit-policy.
    #[must_use]
    pub fn initial_explicit_policy(&self) -> bool {
        self.initial_explicit_policy
    }

    /// initial-policy-mapping-inhibit.
    #[must_use]
    pub fn initial_policy_mapping_inhibit(&self) -> bool {
        self.initial_policy_mapping_inhibit
    }

    /// initial-any-policy-inhibit.
    #[must_use]
    pub fn initial_any_policy_inhibit(&self) -> bool {
        self.initial_any_policy_inhibit
    }

    /// The options a revocation list's issuer path is verified with: the same, but with the
    /// default policy inputs and no purpose (RFC 5280 §6.3.3 (f) asks for a valid path, not
    /// one valid for the caller's policies).
    pub(crate) fn for_crl_issuer(&self) -> Self {
        Self {
            purpose: Purpose::Any,
            initial_policy_set: None,
            initial_explicit_policy: false,
            initial_policy_mapping_inhibit: false,
            initial_any_policy_inhibit: false,
            ..self.clone()
        }
    }

    /// The validation model.
    #[must_use]
    pub fn model(&self) -> ValidationModel {
        self.model
    }

    /// The clock skew tolerated.
    #[must_use]
    pub fn clock_skew(&self) -> Duration {
        self.clock_skew
    }

    /// The purpose.
    #[must_use]
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// The maximum number of intermediate certificates.
    #[must_use]
    pub fn max_intermediates(&self) -> usize {
        self.max_intermediates
    }

    /// The work budget.
    #[must_use]
    pub fn budget(&self) -> Budget {
        self.budget
    }

    /// The smallest RSA modulus accepted.
    #[must_use]
    pub fn min_rsa_bits(&self) -> usize {
        self.min_rsa_bits
    }

    /// Whether the trust anchor's validity is checked.
    #[must_use]
    pub fn check_anchor_validity(&self) -> bool {
        self.check_anchor_validity
    }

    /// The revocations checked, if any.
    #[must_use]
    pub fn revocations(&self) -> Option<&Revocations> {
        self.revocations.as_deref()
    }
}

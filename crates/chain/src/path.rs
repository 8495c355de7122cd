//! [`VerifiedPath`]: the proof that a path was verified, and the time checks of a path.

use rms_policy::{ValidationModel, Validity, ValidityError, check_path};
use time::OffsetDateTime;

use crate::error::{CertRef, ChainError, Position};
use crate::policy::{PathPolicies, PolicySet};
use crate::revocation::check_revocation;
use crate::{Cert, TrustAnchor, VerifyOptions};

/// A verified certification path: the leaf, the intermediate certificates above it, and the
/// trust anchor that ends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPath {
    certs: Vec<Cert>,
    anchor: TrustAnchor,
    policies: PathPolicies,
}

impl VerifiedPath {
    pub(crate) fn new(certs: Vec<Cert>, anchor: TrustAnchor, policies: PathPolicies) -> Self {
        debug_assert!(!certs.is_empty());
        Self {
            certs,
            anchor,
            policies,
        }
    }

    /// The authorities-constrained policy set (RFC 5280 §6.1.5, X.509 §12.5.2): the policies
    /// the certificates of the path are valid for, in the leaf's domain (after policy
    /// mappings). Empty when the path asserts no policy.
    #[must_use]
    pub fn authorities_constrained_policies(&self) -> &PolicySet {
        &self.policies.authorities_constrained
    }

    /// The user-constrained policy set: the policies of the user-initial-policy-set
    /// ([`VerifyOptions::with_initial_policy_set`]) the path is valid for, after RFC 5280
    /// §6.1.5 (g), in the trust anchor's domain. It holds anyPolicy when the path is valid for
    /// any policy and the caller accepts any; it is empty when the path asserts no policy.
    #[must_use]
    pub fn user_constrained_policies(&self) -> &PolicySet {
        &self.policies.user_constrained
    }

    /// The leaf (certificate 0).
    #[must_use]
    pub fn leaf(&self) -> &Cert {
        // `new` is only called with the leaf in place; the anchor stands in otherwise.
        self.certs.first().unwrap_or_else(|| self.anchor.cert())
    }

    /// The certificates between the leaf and the trust anchor, the leaf's issuer first.
    #[must_use]
    pub fn intermediates(&self) -> &[Cert] {
        self.certs.get(1..).unwrap_or_default()
    }

    /// The leaf and the intermediates, leaf first (the anchor is not included).
    #[must_use]
    pub fn certificates(&self) -> &[Cert] {
        &self.certs
    }

    /// The trust anchor that ends the path.
    #[must_use]
    pub fn anchor(&self) -> &TrustAnchor {
        &self.anchor
    }

    /// Checks the validity windows of the path at `at` under the model of `options`, with the
    /// window of a license that the leaf signed first when there is one. This is the only part
    /// of a verification that depends on time, so a cached path is re-checked with it.
    pub(crate) fn check_times(
        &self,
        license: Option<Validity>,
        at: OffsetDateTime,
        options: &VerifyOptions,
    ) -> Result<(), ChainError> {
        let mut windows = Vec::with_capacity(self.certs.len() + 2);
        let mut who = Vec::with_capacity(self.certs.len() + 2);
        if let Some(license) = license {
            windows.push(license);
            who.push(CertRef::license());
        }
        for (index, cert) in self.certs.iter().enumerate() {
            windows.push(cert.validity());
            who.push(cert.at(Position::Path(index)));
        }
        if options.check_anchor_validity() {
            windows.push(self.anchor.cert().validity());
            who.push(self.anchor.cert().at(Position::Anchor));
        }
        check_path(options.model(), &windows, at, options.clock_skew())
            .map_err(|e| validity_error(e, &who))
    }

    /// Checks each certificate of the path (not the anchor) against the revocations of
    /// `options`, at the time the model says it was used, as path building does. Revocations
    /// change without the path changing, so a cached path is re-checked with it every time.
    pub(crate) fn check_revocations(
        &self,
        license: Option<Validity>,
        at: OffsetDateTime,
        options: &VerifyOptions,
    ) -> Result<(), ChainError> {
        let Some(revocations) = options.revocations() else {
            return Ok(());
        };
        let mut used_at = license.map_or(at, |window| issuer_time(options.model(), &window, at));
        for (index, cert) in self.certs.iter().enumerate() {
            check_revocation(Some(revocations), cert, Position::Path(index), used_at)?;
            used_at = issuer_time(options.model(), &cert.validity(), at);
        }
        Ok(())
    }
}

/// The time at which the issuer of an element checked at `checked_at` must be valid.
pub(crate) fn issuer_time(
    model: ValidationModel,
    child: &Validity,
    at: OffsetDateTime,
) -> OffsetDateTime {
    match model {
        ValidationModel::Shell => at,
        // The issuer must have been valid when it signed the child.
        ValidationModel::Chain => child.not_before(),
    }
}

/// Checks one validity window at `checked_at`, naming `who` on failure.
pub(crate) fn check_window(
    window: &Validity,
    checked_at: OffsetDateTime,
    options: &VerifyOptions,
    who: impl FnOnce() -> CertRef,
) -> Result<(), ChainError> {
    // One window under either model is checked at the time given.
    check_path(
        ValidationModel::Shell,
        std::slice::from_ref(window),
        checked_at,
        options.clock_skew(),
    )
    .map_err(|e| validity_error(e, &[who()]))
}

fn validity_error(error: ValidityError, who: &[CertRef]) -> ChainError {
    let name = |index: usize| {
        who.get(index)
            .cloned()
            .unwrap_or_else(|| CertRef::new(Position::Path(index), ""))
    };
    match error {
        ValidityError::NotYetValid {
            index,
            not_before,
            at,
        } => ChainError::NotYetValid {
            cert: name(index),
            not_before,
            checked_at: at,
        },
        ValidityError::Expired {
            index,
            not_after,
            at,
        } => ChainError::Expired {
            cert: name(index),
            not_after,
            checked_at: at,
        },
        // `EmptyPath` cannot happen (the leaf is always there), nor can future variants.
        _ => ChainError::InvalidValidity {
            cert: CertRef::new(Position::Input, ""),
        },
    }
}

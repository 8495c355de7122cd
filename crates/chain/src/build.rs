//! Path building: a depth-first search from the leaf to a trust anchor through a pool of
//! candidate issuers, checking every link on the way.
//!
//! At each step the issuer of the current certificate is searched first among the trust
//! anchors, then in the pool, by name (RFC 5280 §7.1 comparison), candidates whose subject key
//! identifier equals the certificate's authority key identifier first. A candidate already in
//! the path (same subject and key) is skipped, which breaks cycles (RFC 4158 §5.2); a candidate
//! that fails is abandoned for the next one, and when all fail the most specific error is
//! reported ([`ChainError::rank`]). Depth and work are bounded ([`VerifyOptions`],
//! [`Budget`](crate::Budget)).
//!
//! Checks per link (RFC 5280 §6.1):
//! - the authority key identifier, when present with the issuer's subject key identifier,
//!   matches it;
//! - the signature verifies with the issuer's key (see [`crate::signature`] for algorithms);
//! - an intermediate issuer is a CA (basicConstraints cA), may sign certificates (keyUsage
//!   keyCertSign when keyUsage is present), has no critical extension we do not process, and its
//!   pathLenConstraint allows the non-self-issued intermediates below it (RFC 5280 §6.1.4 (l),
//!   (m): self-issued certificates do not count);
//! - with rights checks on, an intermediate holds the right to sub-enroll;
//! - each certificate is within its validity window at the time the model says: the validation
//!   time under the shell model, the issue time (notBefore) of what it signed under the chain
//!   model;
//! - with revocations in the options, each certificate is not revoked for use at that same time
//!   (see [`crate::revocation`]); a revoked candidate is abandoned like any failing one, so
//!   another path through an unrevoked certificate is still found.
//!
//! Checks of the whole path, once a candidate reaches a trust anchor (a failure abandons that
//! candidate like any other): the anchor's own constraints (see [`TrustAnchor`]), name
//! constraints ([`crate::name_constraints`]), certificate policies ([`crate::policy`]) and,
//! under [`RevocationPolicy::RequireCurrent`], the revocation status of every certificate
//! ([`crate::crl_status`]).

use rms_cert::{Right, Rights};
use rms_policy::Validity;
use time::OffsetDateTime;

use crate::crl_status::StatusCheck;
use crate::error::{CertRef, ChainError, Position, most_specific};
use crate::meter::Meter;
use crate::path::{check_window, issuer_time};
use crate::policy::PathPolicies;
use crate::revocation::check_revocation;
use crate::signature::{KeyError, SigError, verify_signature};
use crate::{
    Cert, Purpose, RevocationPolicy, TrustAnchor, TrustAnchors, VerifiedPath, VerifyOptions,
    name_constraints, policy,
};

/// Builds and verifies a path from `leaf` to one of `anchors`, through any certificates of
/// `pool` (in any order; duplicates, unrelated certificates and cycles are fine), at time `at`
/// under `options`.
///
/// This is a pure function of its inputs: the time is passed in, never read. For repeated
/// verifications with the same anchors, a [`Verifier`](crate::Verifier) caches verified paths.
pub fn verify_path(
    leaf: &Cert,
    pool: &[Cert],
    anchors: &TrustAnchors,
    at: OffsetDateTime,
    options: &VerifyOptions,
) -> Result<VerifiedPath, ChainError> {
    build(leaf, pool, anchors, at, options, options.purpose(), None)
}

/// Builds the path of `leaf` for `purpose`. With `license` (the validity of a license the leaf
/// signed), the license is checked at `at` and the leaf at the time the model says.
pub(crate) fn build(
    leaf: &Cert,
    pool: &[Cert],
    anchors: &TrustAnchors,
    at: OffsetDateTime,
    options: &VerifyOptions,
    purpose: Purpose,
    license: Option<Validity>,
) -> Result<VerifiedPath, ChainError> {
    let mut meter = Meter::new(options.budget());
    build_metered(
        leaf, pool, anchors, at, options, purpose, license, &mut meter,
    )
}

/// Validates the path of `signer`, the issuer of a revocation list, to `anchor` (RFC 5280
/// §6.3.3 (f)), within the budget of the verification that needs it.
pub(crate) fn crl_issuer_path(
    signer: &Cert,
    pool: &[Cert],
    anchor: &TrustAnchor,
    at: OffsetDateTime,
    options: &VerifyOptions,
    meter: &mut Meter,
) -> Result<(), ChainError> {
    if !meter.enter_crl_issuer(*signer.fingerprint()) {
        return Err(ChainError::RevocationStatusUnknown {
            cert: signer.at(Position::Input),
            reason: "the paths of revocation list issuers nest too deeply or loop".to_owned(),
        });
    }
    let anchors = TrustAnchors::from(anchor.clone());
    let options = options.for_crl_issuer();
    let result = build_metered(
        signer,
        pool,
        &anchors,
        at,
        &options,
        Purpose::Any,
        None,
        meter,
    );
    meter.leave_crl_issuer();
    result.map(|_| ())
}

#[allow(clippy::too_many_arguments)]
fn build_metered(
    leaf: &Cert,
    pool: &[Cert],
    anchors: &TrustAnchors,
    at: OffsetDateTime,
    options: &VerifyOptions,
    purpose: Purpose,
    license: Option<Validity>,
    meter: &mut Meter,
) -> Result<VerifiedPath, ChainError> {
    check_leaf(leaf, purpose)?;
    let leaf_time = match license {
        Some(window) => {
            check_window(&window, at, options, CertRef::license)?;
            issuer_time(options.model(), &window, at)
        }
        None => at,
    };
    check_window(&leaf.validity(), leaf_time, options, || {
        leaf.at(Position::Path(0))
    })?;
    check_revocation(options.revocations(), leaf, Position::Path(0), leaf_time)?;
    let mut search = Search {
        pool,
        anchors,
        options,
        purpose,
        at,
        leaf_time,
        path: vec![leaf],
        meter,
        policies: None,
    };
    let anchor = search.extend(issuer_time(options.model(), &leaf.validity(), at))?;
    let policies = search.policies.take().unwrap_or_default();
    let certs = search.path.into_iter().cloned().collect();
    Ok(VerifiedPath::new(certs, anchor.clone(), policies))
}

/// What the leaf itself must satisfy, whatever its issuers.
fn check_leaf(leaf: &Cert, purpose: Purpose) -> Result<(), ChainError> {
    let at = || leaf.at(Position::Path(0));
    let ext = leaf.extensions();
    if let Some(oid) = ext.unsupported_critical {
        return Err(ChainError::UnsupportedCriticalExtension { cert: at(), oid });
    }
    if purpose == Purpose::ServerLicensor && ext.rights.is_none() {
        return Err(ChainError::NotServerLicensor { cert: at() });
    }
    let held = ext.rights.unwrap_or(Rights::NONE);
    if let Some(right) = purpose.leaf_rights().iter().find(|r| !held.contains(*r)) {
        return Err(ChainError::MissingRight {
            cert: at(),
            right,
            needed_for: needed_for(right),
        });
    }
    if purpose == Purpose::SubEnroll {
        check_can_issue(leaf, Position::Path(0))?;
    }
    if matches!(purpose, Purpose::SignLicense(_))
        && ext.key_usage.is_some_and(|ku| !ku.digital_signature())
    {
        return Err(ChainError::DigitalSignatureNotAllowed { cert: at() });
    }
    Ok(())
}

fn needed_for(right: Right) -> &'static str {
    match right {
        Right::SubEnroll => "sign the certificate of a server licensor (sub-enroll)",
        Right::IssuePublishingLicense => "sign publishing licenses",
        Right::IssueUseLicense => "sign use licenses",
        _ => "sign what it signed",
    }
}

/// basicConstraints cA and keyUsage keyCertSign (when keyUsage is present).
fn check_can_issue(cert: &Cert, position: Position) -> Result<(), ChainError> {
    let ext = cert.extensions();
    if !ext.basic_constraints.as_ref().is_some_and(|bc| bc.ca) {
        return Err(ChainError::NotCa {
            cert: cert.at(position),
        });
    }
    if ext.key_usage.is_some_and(|ku| !ku.key_cert_sign()) {
        return Err(ChainError::KeyCertSignNotAllowed {
            cert: cert.at(position),
        });
    }
    Ok(())
}

struct Search<'a, 'm> {
    pool: &'a [Cert],
    anchors: &'a TrustAnchors,
    options: &'a VerifyOptions,
    purpose: Purpose,
    at: OffsetDateTime,
    /// When the leaf is used (the validation time, or a license's signing time).
    leaf_time: OffsetDateTime,
    /// The partial path, leaf first.
    path: Vec<&'a Cert>,
    meter: &'m mut Meter,
    /// What policy processing found for the path that reached an anchor.
    policies: Option<PathPolicies>,
}

impl<'a> Search<'a, '_> {
    /// Finds a verified way from the last certificate of the path to a trust anchor; its issuer
    /// must be valid at `issuer_at`. On success the path holds the whole chain.
    fn extend(&mut self, issuer_at: OffsetDateTime) -> Result<&'a TrustAnchor, ChainError> {
        self.meter.build_call()?;
        let child_index = self.path.len().saturating_sub(1);
        let Some(&child) = self.path.last() else {
            return Err(ChainError::PathTooLong {
                max_intermediates: self.options.max_intermediates(),
            });
        };
        let child_at = || child.at(Position::Path(child_index));
        let mut best: Option<ChainError> = None;

        let anchors = self.anchors;
        for anchor in anchors
            .iter()
            .filter(|a| a.cert().normalized_subject() == child.normalized_issuer())
        {
            match self
                .try_anchor(child, child_index, anchor, issuer_at)
                .and_then(|()| self.check_whole_path(anchor))
            {
                Ok(()) => return Ok(anchor),
                Err(e) if e.is_fatal() => return Err(e),
                Err(e) => best = Some(most_specific(best, e)),
            }
        }

        for candidate in self.candidates(child) {
            if self.path.iter().any(|c| c.same_key_and_subject(candidate)) {
                continue;
            }
            match self.try_intermediate(child, child_index, candidate, issuer_at) {
                Ok(anchor) => return Ok(anchor),
                Err(e) if e.is_fatal() => return Err(e),
                Err(e) => best = Some(most_specific(best, e)),
            }
        }

        Err(best.unwrap_or_else(|| ChainError::UnknownIssuer {
            cert: child_at(),
            issuer: child.issuer().to_string(),
        }))
    }

    /// Pool certificates named as `child`'s issuer, without duplicates, those whose key
    /// identifier matches first.
    fn candidates(&self, child: &Cert) -> Vec<&'a Cert> {
        let mut found: Vec<&'a Cert> = Vec::new();
        for cert in self.pool {
            if cert.normalized_subject() == child.normalized_issuer()
                && !found.iter().any(|c| c.fingerprint() == cert.fingerprint())
            {
                found.push(cert);
            }
        }
        let aki = child.extensions().authority_key_id.as_deref();
        found.sort_by_key(|c| match (aki, c.extensions().subject_key_id.as_deref()) {
            (Some(a), Some(s)) if a == s => 0,
            (Some(_), Some(_)) => 2,
            _ => 1,
        });
        found
    }

    fn try_anchor(
        &mut self,
        child: &Cert,
        child_index: usize,
        anchor: &TrustAnchor,
        issuer_at: OffsetDateTime,
    ) -> Result<(), ChainError> {
        let issuer = anchor.cert();
        check_key_ids(child, child_index, issuer, Position::Anchor)?;
        self.check_signature(child, child_index, issuer, Position::Anchor)?;
        self.check_anchor(issuer)?;
        if self.options.check_anchor_validity() {
            check_window(&issuer.validity(), issuer_at, self.options, || {
                issuer.at(Position::Anchor)
            })?;
        }
        Ok(())
    }

    fn try_intermediate(
        &mut self,
        child: &Cert,
        child_index: usize,
        candidate: &'a Cert,
        issuer_at: OffsetDateTime,
    ) -> Result<&'a TrustAnchor, ChainError> {
        let index = self.path.len();
        let position = Position::Path(index);
        // The path holds the leaf and `index - 1` intermediates; the candidate would be one
        // more.
        if index > self.options.max_intermediates() {
            return Err(ChainError::PathTooLong {
                max_intermediates: self.options.max_intermediates(),
            });
        }
        check_key_ids(child, child_index, candidate, position)?;
        self.check_signature(child, child_index, candidate, position)?;
        self.check_issuer(candidate, index)?;
        check_window(&candidate.validity(), issuer_at, self.options, || {
            candidate.at(position)
        })?;
        check_revocation(self.options.revocations(), candidate, position, issuer_at)?;
        self.path.push(candidate);
        let next_at = issuer_time(self.options.model(), &candidate.validity(), self.at);
        let result = self.extend(next_at);
        if result.is_err() {
            self.path.pop();
        }
        result
    }

    /// What the anchor's own extensions require (RFC 5937 §3; see [`TrustAnchor`]).
    fn check_anchor(&self, anchor: &Cert) -> Result<(), ChainError> {
        let at = || anchor.at(Position::Anchor);
        let ext = anchor.extensions();
        if let Some(oid) = ext.unsupported_critical {
            return Err(ChainError::UnsupportedCriticalExtension { cert: at(), oid });
        }
        if ext.key_usage.is_some_and(|ku| !ku.key_cert_sign()) {
            return Err(ChainError::KeyCertSignNotAllowed { cert: at() });
        }
        if let Some(path_len) = ext
            .basic_constraints
            .as_ref()
            .and_then(|bc| bc.path_len_constraint)
        {
            let below = self.intermediates_below(self.path.len());
            if below > usize::from(path_len) {
                return Err(ChainError::PathLenExceeded {
                    cert: at(),
                    path_len,
                    below,
                });
            }
        }
        Ok(())
    }

    /// The non-self-issued intermediates among the first `len` certificates of the path
    /// (RFC 5280 §6.1.4 (l)).
    fn intermediates_below(&self, len: usize) -> usize {
        self.path
            .iter()
            .take(len)
            .skip(1)
            .filter(|c| !c.is_self_issued())
            .count()
    }

    /// The checks of the whole path, once it reached `anchor`.
    fn check_whole_path(&mut self, anchor: &TrustAnchor) -> Result<(), ChainError> {
        name_constraints::check(&self.path, anchor, self.meter)?;
        let policies = policy::process(&self.path, anchor.cert(), self.options)?;
        if let RevocationPolicy::RequireCurrent(crls) = self.options.revocation_policy() {
            let mut used_at = Vec::with_capacity(self.path.len());
            used_at.push(self.leaf_time);
            for child in self.path.iter().take(self.path.len().saturating_sub(1)) {
                used_at.push(issuer_time(
                    self.options.model(),
                    &child.validity(),
                    self.at,
                ));
            }
            StatusCheck {
                crls,
                path: &self.path,
                used_at: &used_at,
                anchor,
                pool: self.pool,
                at: self.at,
                options: self.options,
            }
            .check(self.meter)?;
        }
        self.policies = Some(policies);
        Ok(())
    }

    /// What an intermediate issuer at `index` must satisfy.
    fn check_issuer(&self, cert: &Cert, index: usize) -> Result<(), ChainError> {
        let position = Position::Path(index);
        let ext = cert.extensions();
        check_can_issue(cert, position)?;
        if let Some(oid) = ext.unsupported_critical {
            return Err(ChainError::UnsupportedCriticalExtension {
                cert: cert.at(position),
                oid,
            });
        }
        if let Some(path_len) = ext
            .basic_constraints
            .as_ref()
            .and_then(|bc| bc.path_len_constraint)
        {
            let below = self.intermediates_below(self.path.len());
            if below > usize::from(path_len) {
                return Err(ChainError::PathLenExceeded {
                    cert: cert.at(position),
                    path_len,
                    below,
                });
            }
        }
        if self.purpose.checks_rights() && !ext.rights.is_some_and(|r| r.contains(Right::SubEnroll))
        {
            return Err(ChainError::MissingRight {
                cert: cert.at(position),
                right: Right::SubEnroll,
                needed_for: needed_for(Right::SubEnroll),
            });
        }
        Ok(())
    }

    fn check_signature(
        &mut self,
        child: &Cert,
        child_index: usize,
        issuer: &Cert,
        issuer_position: Position,
    ) -> Result<(), ChainError> {
        self.meter.signature()?;
        verify_cert_signature(
            child,
            Position::Path(child_index),
            issuer,
            issuer_position,
            self.options.min_rsa_bits(),
        )
    }
}

/// The authority key identifier of `child`, when present with the subject key identifier of
/// `issuer`, must equal it.
fn check_key_ids(
    child: &Cert,
    child_index: usize,
    issuer: &Cert,
    issuer_position: Position,
) -> Result<(), ChainError> {
    let aki = child.extensions().authority_key_id.as_deref();
    let ski = issuer.extensions().subject_key_id.as_deref();
    match (aki, ski) {
        (Some(a), Some(s)) if a != s => Err(ChainError::KeyIdentifierMismatch {
            cert: child.at(Position::Path(child_index)),
            issuer: issuer.at(issuer_position),
        }),
        _ => Ok(()),
    }
}

/// Verifies the signature of `child` with the key of `issuer`.
fn verify_cert_signature(
    child: &Cert,
    child_position: Position,
    issuer: &Cert,
    issuer_position: Position,
    min_rsa_bits: usize,
) -> Result<(), ChainError> {
    let key = issuer
        .public_key()
        .map_err(|e| key_error(e, issuer.at(issuer_position), min_rsa_bits))?;
    let bad = || ChainError::BadSignature {
        cert: child.at(child_position),
        issuer: issuer.at(issuer_position),
    };
    let signature = child.certificate().signature().as_bytes().ok_or_else(bad)?;
    verify_signature(
        key,
        child.certificate().signature_algorithm(),
        None,
        child.tbs_der(),
        signature,
        min_rsa_bits,
    )
    .map_err(|e| signature_error(e, child.at(child_position), issuer.at(issuer_position)))
}

/// A key that could not be used, attributed to its holder.
pub(crate) fn key_error(error: KeyError, holder: CertRef, min_rsa_bits: usize) -> ChainError {
    match error {
        KeyError::Unsupported(algorithm) => ChainError::UnsupportedKey {
            cert: holder,
            algorithm,
        },
        KeyError::Invalid(reason) => ChainError::InvalidKey {
            cert: holder,
            reason,
        },
        KeyError::RsaTooSmall(bits) => ChainError::RsaKeyTooSmall {
            cert: holder,
            bits,
            min: min_rsa_bits,
        },
    }
}

/// A signature that was not accepted: about the signed object, or about the signer's key.
pub(crate) fn signature_error(error: SigError, signed: CertRef, signer: CertRef) -> ChainError {
    match error {
        SigError::UnsupportedAlgorithm(algorithm) => ChainError::UnsupportedSignatureAlgorithm {
            cert: signed,
            algorithm,
        },
        SigError::BadParameters(reason) => ChainError::InvalidSignatureParameters {
            cert: signed,
            reason,
        },
        SigError::KeyMismatch => ChainError::SignatureKeyMismatch {
            cert: signed,
            issuer: signer,
        },
        SigError::RsaTooSmall { bits, min } => ChainError::RsaKeyTooSmall {
            cert: signer,
            bits,
            min,
        },
        SigError::Invalid => ChainError::BadSignature {
            cert: signed,
            issuer: signer,
        },
    }
}

//! The one error type of the crate, and how errors are ranked while a path is searched.

use std::fmt;

use const_oid::ObjectIdentifier;
use rms_cert::{RevocationReason, Right};
use time::OffsetDateTime;

/// Where the certificate (or license) an error is about sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Position {
    /// A certificate given as input, before any path was built (while it was read).
    Input,
    /// The license being verified; it precedes the path of its signer.
    License,
    /// Certificate `n` of the path: 0 is the leaf (an SLC, or the signer of a license), 1 its
    /// issuer, and so on up to the last certificate below the trust anchor.
    Path(usize),
    /// The trust anchor that ends the path.
    Anchor,
    /// A revocation list, named by its issuer.
    RevocationList,
}

/// Names a certificate in an error: its position and its subject (as RFC 4514 text).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CertRef {
    position: Position,
    subject: String,
}

impl CertRef {
    pub(crate) fn new(position: Position, subject: impl Into<String>) -> Self {
        Self {
            position,
            subject: subject.into(),
        }
    }

    pub(crate) fn license() -> Self {
        Self::new(Position::License, "")
    }

    /// Where the certificate sits.
    #[must_use]
    pub fn position(&self) -> Position {
        self.position
    }

    /// The certificate's subject, as RFC 4514 text (empty for a license).
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.subject
    }
}

impl fmt::Display for CertRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subject = if self.subject.is_empty() {
            "<empty subject>"
        } else {
            &self.subject
        };
        match self.position {
            Position::Input => write!(f, "certificate \"{subject}\""),
            Position::License => f.write_str("the license"),
            Position::Path(0) => write!(f, "certificate 0 (the leaf) \"{subject}\""),
            Position::Path(n) => write!(f, "certificate {n} of the path \"{subject}\""),
            Position::Anchor => write!(f, "trust anchor \"{subject}\""),
            Position::RevocationList => write!(f, "the revocation list issued by \"{subject}\""),
        }
    }
}

/// Everything that can go wrong while reading certificates and verifying paths and licenses.
///
/// Messages name the certificate concerned ([`CertRef`]: position and subject) and the reason.
/// When several candidate paths fail, the most specific error is reported (see
/// [`ChainError::rank`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The bytes are not a DER X.509 certificate.
    #[error("not a DER X.509 certificate: {0}")]
    Decode(der::Error),
    /// PEM text could not be read.
    #[error("PEM: {0}")]
    Pem(String),
    /// Bytes after the end of the certificate.
    #[error("trailing data after the certificate")]
    TrailingData,
    /// An extension we process could not be read.
    #[error("{cert}: extension {oid} cannot be read: {reason}")]
    InvalidExtension {
        /// The certificate.
        cert: CertRef,
        /// The extension.
        oid: ObjectIdentifier,
        /// Why.
        reason: String,
    },
    /// An extension appears twice (RFC 5280 §4.2).
    #[error("{cert}: extension {oid} appears more than once")]
    DuplicateExtension {
        /// The certificate.
        cert: CertRef,
        /// The extension.
        oid: ObjectIdentifier,
    },
    /// The validity window ends before it starts.
    #[error("{cert}: validity window ends before it starts")]
    InvalidValidity {
        /// The certificate.
        cert: CertRef,
    },
    /// The outer signature algorithm differs from the one inside the signed part
    /// (RFC 5280 §4.1.1.2).
    #[error("{cert}: signatureAlgorithm differs from the signature field of tbsCertificate")]
    SignatureAlgorithmMismatch {
        /// The certificate.
        cert: CertRef,
    },
    /// A signature algorithm this crate does not verify.
    #[error("{cert}: unsupported signature algorithm {algorithm}")]
    UnsupportedSignatureAlgorithm {
        /// The signed certificate (or the license).
        cert: CertRef,
        /// The algorithm's identifier.
        algorithm: ObjectIdentifier,
    },
    /// Signature algorithm parameters that are malformed or not supported.
    #[error("{cert}: signature algorithm parameters refused: {reason}")]
    InvalidSignatureParameters {
        /// The signed certificate (or the license).
        cert: CertRef,
        /// Why.
        reason: &'static str,
    },
    /// A public key type this crate does not support (e.g. DSA).
    #[error("{cert}: unsupported public key algorithm {algorithm}")]
    UnsupportedKey {
        /// The certificate holding the key.
        cert: CertRef,
        /// The key algorithm's identifier.
        algorithm: ObjectIdentifier,
    },
    /// A public key that cannot be read.
    #[error("{cert}: invalid public key: {reason}")]
    InvalidKey {
        /// The certificate holding the key.
        cert: CertRef,
        /// Why.
        reason: String,
    },
    /// An RSA key below the configured minimum size.
    #[error("{cert}: RSA key of {bits} bits is below the minimum of {min}")]
    RsaKeyTooSmall {
        /// The certificate holding the key.
        cert: CertRef,
        /// The key's modulus size.
        bits: usize,
        /// The configured minimum.
        min: usize,
    },
    /// The signature algorithm does not fit the signer's key (e.g. ECDSA with an RSA key).
    #[error("{cert}: its signature algorithm does not fit the key type of {issuer}")]
    SignatureKeyMismatch {
        /// The signed certificate (or the license).
        cert: CertRef,
        /// The signer.
        issuer: CertRef,
    },
    /// A signature that does not verify.
    #[error("{cert}: signature does not verify with the key of {issuer}")]
    BadSignature {
        /// The signed certificate (or the license).
        cert: CertRef,
        /// The signer whose key was tried.
        issuer: CertRef,
    },
    /// No trust anchor and no candidate certificate bears the issuer's name.
    #[error("{cert}: no trust anchor or usable candidate certificate is named \"{issuer}\"")]
    UnknownIssuer {
        /// The certificate whose issuer was searched.
        cert: CertRef,
        /// The issuer name searched for.
        issuer: String,
    },
    /// The authority key identifier does not match the candidate issuer's subject key
    /// identifier.
    #[error("{cert}: authority key identifier does not match the key identifier of {issuer}")]
    KeyIdentifierMismatch {
        /// The certificate.
        cert: CertRef,
        /// The candidate issuer.
        issuer: CertRef,
    },
    /// An issuer that is not a CA (no basicConstraints, or cA false).
    #[error("{cert}: not a CA (basicConstraints cA is absent or false), so it cannot issue")]
    NotCa {
        /// The issuer.
        cert: CertRef,
    },
    /// More intermediate certificates below an issuer than its pathLenConstraint allows.
    #[error(
        "{cert}: pathLenConstraint {path_len} allows fewer intermediates than the {below} below it"
    )]
    PathLenExceeded {
        /// The issuer.
        cert: CertRef,
        /// Its pathLenConstraint.
        path_len: u8,
        /// The non-self-issued intermediates below it.
        below: usize,
    },
    /// An issuer whose keyUsage lacks keyCertSign.
    #[error("{cert}: keyUsage does not allow keyCertSign, so it cannot issue certificates")]
    KeyCertSignNotAllowed {
        /// The issuer.
        cert: CertRef,
    },
    /// A license signer whose keyUsage lacks digitalSignature.
    #[error("{cert}: keyUsage does not allow digitalSignature, so it cannot sign licenses")]
    DigitalSignatureNotAllowed {
        /// The signer.
        cert: CertRef,
    },
    /// A critical extension this crate does not process (RFC 5280 §4.2).
    #[error("{cert}: unsupported critical extension {oid}")]
    UnsupportedCriticalExtension {
        /// The certificate.
        cert: CertRef,
        /// The extension.
        oid: ObjectIdentifier,
    },
    /// A certificate lacks a right it needs for what it signed.
    #[error("{cert}: does not hold the right \"{right}\" needed to {needed_for}")]
    MissingRight {
        /// The certificate.
        cert: CertRef,
        /// The right it lacks.
        right: Right,
        /// What the right was needed for.
        needed_for: &'static str,
    },
    /// The leaf was expected to be a server licensor certificate but has no rights extension.
    #[error("{cert}: not a server licensor certificate (no rights-granted extension)")]
    NotServerLicensor {
        /// The leaf.
        cert: CertRef,
    },
    /// Not yet valid at the time it was checked at.
    #[error(
        "{cert}: not valid before {}, checked at {}",
        rfc3339(not_before),
        rfc3339(checked_at)
    )]
    NotYetValid {
        /// The certificate (or the license).
        cert: CertRef,
        /// Start of its validity.
        not_before: OffsetDateTime,
        /// The time it was checked at (the validation time, or under the chain model the
        /// issue time of what it signed).
        checked_at: OffsetDateTime,
    },
    /// Expired at the time it was checked at.
    #[error(
        "{cert}: expired at {}, checked at {}",
        rfc3339(not_after),
        rfc3339(checked_at)
    )]
    Expired {
        /// The certificate (or the license).
        cert: CertRef,
        /// End of its validity.
        not_after: OffsetDateTime,
        /// The time it was checked at.
        checked_at: OffsetDateTime,
    },
    /// Every path found needs more intermediates than allowed.
    #[error("path would need more than {max_intermediates} intermediate certificates")]
    PathTooLong {
        /// The configured maximum.
        max_intermediates: usize,
    },
    /// The search used up its signature-check budget.
    #[error("gave up after {limit} signature checks while building the path")]
    SignatureBudgetExceeded {
        /// The configured budget.
        limit: u32,
    },
    /// The search used up its budget of build steps.
    #[error("gave up after {limit} path-building steps")]
    BuildBudgetExceeded {
        /// The configured budget.
        limit: u32,
    },
    /// No certificate matches the license's signer identifier.
    #[error(
        "the license's signer (issuer \"{issuer}\", serial {serial}) is not among the certificates"
    )]
    SignerNotFound {
        /// The issuer named by the signer identifier.
        issuer: String,
        /// The serial number, in hexadecimal.
        serial: String,
    },
    /// A digest algorithm this crate does not support.
    #[error("the license: unsupported digest algorithm {algorithm}")]
    UnsupportedDigestAlgorithm {
        /// The algorithm's identifier.
        algorithm: ObjectIdentifier,
    },
    /// The license body names another issuer than the certificate that signed it.
    #[error("the license names \"{named}\" as its issuer but was signed by {signer}")]
    LicenseIssuerMismatch {
        /// The issuer the body names.
        named: String,
        /// The certificate that signed it.
        signer: CertRef,
    },
    /// The digest of the license content differs from the signed message digest.
    #[error("the license: content digest does not match the signed message-digest attribute")]
    DigestMismatch,
    /// A certificate of the path was revoked for a reason other than a compromise, at or before
    /// the time it was used.
    #[error(
        "{cert}: revoked at {} ({reason}, serial {serial}), and used at {}, not before the \
         revocation",
        rfc3339(revoked_at),
        rfc3339(used_at)
    )]
    Revoked {
        /// The revoked certificate.
        cert: CertRef,
        /// Its serial number, in hexadecimal.
        serial: String,
        /// When it was revoked.
        revoked_at: OffsetDateTime,
        /// Why.
        reason: RevocationReason,
        /// When it was used: the signing time of what it signed under the chain model, the
        /// validation time under the shell model and for a leaf verified without a license.
        used_at: OffsetDateTime,
    },
    /// A certificate of the path was revoked because its key (or its CA's) was compromised:
    /// nothing it signed is trusted, whatever the time.
    #[error(
        "{cert}: revoked at {} ({reason}, serial {serial}): nothing signed with its key is \
         trusted, whatever the time",
        rfc3339(revoked_at)
    )]
    RevokedKeyCompromise {
        /// The revoked certificate.
        cert: CertRef,
        /// Its serial number, in hexadecimal.
        serial: String,
        /// When it was revoked.
        revoked_at: OffsetDateTime,
        /// keyCompromise or cACompromise.
        reason: RevocationReason,
    },
    /// A revocation list was given with a certificate of another subject as its issuer.
    #[error(
        "the revocation list issued by \"{crl_issuer}\" cannot be checked with {issuer}: its \
         subject is not the list's issuer"
    )]
    CrlIssuerMismatch {
        /// The issuer the list names.
        crl_issuer: String,
        /// The certificate given as its issuer.
        issuer: CertRef,
    },
    /// The certificate given as a revocation list's issuer may not sign lists.
    #[error("{cert}: keyUsage does not allow cRLSign, so it cannot sign revocation lists")]
    CrlSignNotAllowed {
        /// The certificate given as the list's issuer.
        cert: CertRef,
    },
    /// Bytes that are not a well-formed X.509 revocation list.
    #[error("not a usable X.509 revocation list: {reason}")]
    InvalidCrl {
        /// Why.
        reason: String,
    },
    /// A name of a certificate lies outside the permitted subtrees, or inside the excluded
    /// subtrees, of a name constraint above it (RFC 5280 §4.2.1.10).
    #[error("{cert}: name {name} is {violation} by the name constraints of {constrained_by}")]
    NameConstraintViolation {
        /// The certificate whose name violates the constraint.
        cert: CertRef,
        /// The name, as text (e.g. `DNS:host.example`, `IP:192.0.2.1`, `DN:CN=a,O=b`).
        name: String,
        /// "not permitted" or "excluded".
        violation: &'static str,
        /// The certificate (or trust anchor) that imposed the constraint.
        constrained_by: CertRef,
    },
    /// A name constraint this crate does not implement (a name form such as otherName,
    /// x400Address, ediPartyName or registeredID, or a minimum or maximum other than the
    /// defaults) in a critical extension, or a name that cannot be read where a constraint
    /// applies: refused rather than ignored.
    #[error("{cert}: name constraint not supported: {reason}")]
    UnsupportedNameConstraint {
        /// The certificate (or trust anchor) carrying the constraint, or the certificate whose
        /// names cannot be read.
        cert: CertRef,
        /// What is not supported.
        reason: String,
    },
    /// The verification used up its budget of name comparisons.
    #[error("gave up after {limit} comparisons of names with name constraints")]
    NameConstraintBudgetExceeded {
        /// The configured budget.
        limit: u32,
    },
    /// The valid policy tree grew past its budget of nodes.
    #[error("gave up: the valid policy tree would hold more than {limit} nodes")]
    PolicyTreeTooLarge {
        /// The configured budget.
        limit: u32,
    },
    /// Policy processing (RFC 5280 §6.1.3 (f), §6.1.5 (g)) ends with an explicit policy
    /// required and no valid policy left.
    #[error("{cert}: the path is valid for no acceptable certificate policy, and one is required")]
    NoValidPolicy {
        /// The certificate at which the check failed.
        cert: CertRef,
    },
    /// A policy mapping to or from anyPolicy (RFC 5280 §6.1.4 (a)).
    #[error("{cert}: policyMappings maps {policy} (anyPolicy may not be mapped)")]
    InvalidPolicyMapping {
        /// The certificate.
        cert: CertRef,
        /// The policy mapped, as dotted text.
        policy: String,
    },
    /// Under [`RevocationPolicy::RequireCurrent`](crate::RevocationPolicy::RequireCurrent), no
    /// current, verifiable revocation data decides the certificate's status for every reason.
    #[error("{cert}: revocation status unknown: {reason}")]
    RevocationStatusUnknown {
        /// The certificate.
        cert: CertRef,
        /// Why each revocation list considered could not be used, or which reasons stay
        /// uncovered.
        reason: String,
    },
    /// A certificate of the path is listed on a revocation list with a reason rms-cert has no
    /// value for (certificateHold, aACompromise).
    #[error(
        "{cert}: revoked at {} ({reason}, serial {serial})",
        rfc3339(revoked_at)
    )]
    RevokedOtherReason {
        /// The revoked certificate.
        cert: CertRef,
        /// Its serial number, in hexadecimal.
        serial: String,
        /// When it was revoked.
        revoked_at: OffsetDateTime,
        /// The RFC 5280 name of the reason.
        reason: &'static str,
    },
}

impl ChainError {
    /// Whether the error ends the whole search (a budget ran out) rather than one candidate.
    #[must_use]
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            ChainError::SignatureBudgetExceeded { .. }
                | ChainError::BuildBudgetExceeded { .. }
                | ChainError::NameConstraintBudgetExceeded { .. }
                | ChainError::PolicyTreeTooLarge { .. }
        )
    }

    /// How specific the error is: when several candidate paths fail, the error with the highest
    /// rank is reported (ties keep the first). A wrong candidate fails early with a low rank
    /// (no issuer, another key); the real issuer fails late with a high one (a constraint or
    /// its validity), which is what the caller needs to hear about.
    #[must_use]
    pub fn rank(&self) -> u32 {
        use ChainError as E;
        match self {
            E::UnknownIssuer { .. } => 0,
            E::KeyIdentifierMismatch { .. } => 10,
            E::BadSignature { .. } | E::SignatureKeyMismatch { .. } => 100,
            E::UnsupportedSignatureAlgorithm { .. }
            | E::InvalidSignatureParameters { .. }
            | E::UnsupportedKey { .. }
            | E::InvalidKey { .. }
            | E::RsaKeyTooSmall { .. } => 120,
            E::PathTooLong { .. } => 150,
            E::NotCa { .. }
            | E::PathLenExceeded { .. }
            | E::KeyCertSignNotAllowed { .. }
            | E::DigitalSignatureNotAllowed { .. }
            | E::UnsupportedCriticalExtension { .. }
            | E::MissingRight { .. }
            | E::NotServerLicensor { .. }
            | E::UnsupportedNameConstraint { .. }
            | E::InvalidPolicyMapping { .. } => 200,
            // Path-wide checks, made once a whole candidate path reached a trust anchor.
            E::NameConstraintViolation { .. } | E::NoValidPolicy { .. } => 210,
            E::NotYetValid { .. } | E::Expired { .. } => 290,
            // The real issuer, found and valid, but revoked.
            E::RevocationStatusUnknown { .. } => 293,
            E::Revoked { .. } | E::RevokedKeyCompromise { .. } | E::RevokedOtherReason { .. } => {
                295
            }
            E::Decode(_)
            | E::Pem(_)
            | E::TrailingData
            | E::InvalidExtension { .. }
            | E::DuplicateExtension { .. }
            | E::InvalidValidity { .. }
            | E::SignatureAlgorithmMismatch { .. }
            | E::SignerNotFound { .. }
            | E::UnsupportedDigestAlgorithm { .. }
            | E::LicenseIssuerMismatch { .. }
            | E::DigestMismatch
            | E::CrlIssuerMismatch { .. }
            | E::CrlSignNotAllowed { .. }
            | E::InvalidCrl { .. } => 300,
            E::SignatureBudgetExceeded { .. }
            | E::BuildBudgetExceeded { .. }
            | E::NameConstraintBudgetExceeded { .. }
            | E::PolicyTreeTooLarge { .. } => 400,
        }
    }

    /// The certificate the error is about, when there is one.
    #[must_use]
    pub fn cert(&self) -> Option<&CertRef> {
        use ChainError as E;
        match self {
            E::InvalidExtension { cert, .. }
            | E::DuplicateExtension { cert, .. }
            | E::InvalidValidity { cert }
            | E::SignatureAlgorithmMismatch { cert }
            | E::UnsupportedSignatureAlgorithm { cert, .. }
            | E::InvalidSignatureParameters { cert, .. }
            | E::UnsupportedKey { cert, .. }
            | E::InvalidKey { cert, .. }
            | E::RsaKeyTooSmall { cert, .. }
            | E::SignatureKeyMismatch { cert, .. }
            | E::BadSignature { cert, .. }
            | E::UnknownIssuer { cert, .. }
            | E::KeyIdentifierMismatch { cert, .. }
            | E::NotCa { cert }
            | E::PathLenExceeded { cert, .. }
            | E::KeyCertSignNotAllowed { cert }
            | E::DigitalSignatureNotAllowed { cert }
            | E::UnsupportedCriticalExtension { cert, .. }
            | E::MissingRight { cert, .. }
            | E::NotServerLicensor { cert }
            | E::NotYetValid { cert, .. }
            | E::Expired { cert, .. }
            | E::LicenseIssuerMismatch { signer: cert, .. }
            | E::Revoked { cert, .. }
            | E::RevokedKeyCompromise { cert, .. }
            | E::CrlIssuerMismatch { issuer: cert, .. }
            | E::CrlSignNotAllowed { cert }
            | E::NameConstraintViolation { cert, .. }
            | E::UnsupportedNameConstraint { cert, .. }
            | E::NoValidPolicy { cert }
            | E::InvalidPolicyMapping { cert, .. }
            | E::RevocationStatusUnknown { cert, .. }
            | E::RevokedOtherReason { cert, .. } => Some(cert),
            E::Decode(_)
            | E::Pem(_)
            | E::TrailingData
            | E::PathTooLong { .. }
            | E::SignatureBudgetExceeded { .. }
            | E::BuildBudgetExceeded { .. }
            | E::NameConstraintBudgetExceeded { .. }
            | E::PolicyTreeTooLarge { .. }
            | E::SignerNotFound { .. }
            | E::UnsupportedDigestAlgorithm { .. }
            | E::DigestMismatch
            | E::InvalidCrl { .. } => None,
        }
    }
}

/// A time as RFC 3339 text (UTC), for messages.
fn rfc3339(t: &OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// Keeps the more specific of two errors (the first on a tie).
pub(crate) fn most_specific(kept: Option<ChainError>, new: ChainError) -> ChainError {
    match kept {
        Some(kept) if kept.rank() >= new.rank() => kept,
        _ => new,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_certificate() {
        let err = ChainError::NotCa {
            cert: CertRef::new(Position::Path(1), "CN=Root SLC"),
        };
        assert_eq!(
            err.to_string(),
            "certificate 1 of the path \"CN=Root SLC\": not a CA (basicConstraints cA is absent \
             or false), so it cannot issue"
        );
    }

    #[test]
    fn ranking_prefers_the_real_issuers_problem() {
        let wrong_key = ChainError::BadSignature {
            cert: CertRef::new(Position::Path(0), "CN=leaf"),
            issuer: CertRef::new(Position::Path(1), "CN=ca"),
        };
        let expired = ChainError::Expired {
            cert: CertRef::new(Position::Path(1), "CN=ca"),
            not_after: OffsetDateTime::UNIX_EPOCH,
            checked_at: OffsetDateTime::UNIX_EPOCH,
        };
        assert_eq!(
            most_specific(Some(wrong_key.clone()), expired.clone()),
            expired
        );
        assert_eq!(most_specific(Some(expired.clone()), wrong_key), expired);
    }
}

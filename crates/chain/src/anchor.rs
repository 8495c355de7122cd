//! Trust anchors: the certificates a verifier trusts without proof.

use std::sync::Arc;

use x509_cert::ext::pkix::NameConstraints;

use crate::{Cert, ChainError};

/// A trusted certificate (in our PKI, the enrollment authority). Its subject and public key end
/// a path. What its own extensions mean follows RFC 5937 §3 (the anchor is a trust input, and
/// the constraints it carries constrain every path that ends at it):
///
/// | on the anchor | effect |
/// | --- | --- |
/// | nameConstraints (its extension, and any given with [`with_name_constraints`](Self::with_name_constraints)) | applied to every certificate of the path, as initial permitted and excluded subtrees |
/// | basicConstraints pathLenConstraint | limits the non-self-issued intermediates of the path |
/// | basicConstraints cA | not required (a trust input signs by definition) |
/// | keyUsage | when present, must allow keyCertSign (and cRLSign for the lists it signs) |
/// | certificatePolicies | narrows the user-initial-policy-set to its policies (unless anyPolicy) |
/// | policyConstraints, inhibitAnyPolicy | count from the first certificate below the anchor |
/// | policyMappings | refused: RFC 5937 gives it no meaning on an anchor |
/// | rights | not checked |
/// | an unknown critical extension | refused when a path would end at the anchor ([`ChainError::UnsupportedCriticalExtension`] at [`Position::Anchor`](crate::Position::Anchor)) |
///
/// Its validity is checked when
/// [`VerifyOptions::with_anchor_validity`](crate::VerifyOptions::with_anchor_validity) says so
/// (the default). Anchors are refused at use rather than at construction so that every
/// constructor (some infallible) behaves the same, and the error names the path that needed
/// the anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustAnchor {
    cert: Cert,
    name_constraints: Option<Arc<NameConstraints>>,
}

impl std::hash::Hash for TrustAnchor {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.cert.hash(state);
    }
}

impl TrustAnchor {
    /// Trusts `cert`.
    #[must_use]
    pub fn new(cert: Cert) -> Self {
        Self {
            cert,
            name_constraints: None,
        }
    }

    /// Constrains the names of every path that ends at this anchor with `constraints`, given
    /// as part of the trust input (RFC 5937 §3), besides those of the anchor certificate's own
    /// nameConstraints extension (both apply). They are treated as critical: a form this
    /// crate does not implement makes the anchor unusable.
    #[must_use]
    pub fn with_name_constraints(mut self, constraints: NameConstraints) -> Self {
        self.name_constraints = Some(Arc::new(constraints));
        self
    }

    /// The name constraints given with the anchor (not those of its certificate).
    #[must_use]
    pub fn name_constraints(&self) -> Option<&NameConstraints> {
        self.name_constraints.as_deref()
    }

    /// Trusts the DER certificate `der`.
    pub fn from_der(der: &[u8]) -> Result<Self, ChainError> {
        Cert::from_der(der).map(Self::new)
    }

    /// Trusts the PEM certificate `text`.
    pub fn from_pem(text: &str) -> Result<Self, ChainError> {
        Cert::from_pem(text).map(Self::new)
    }

    /// The trusted certificate.
    #[must_use]
    pub fn cert(&self) -> &Cert {
        &self.cert
    }
}

impl From<Cert> for TrustAnchor {
    fn from(cert: Cert) -> Self {
        Self::new(cert)
    }
}

/// A set of trust anchors (duplicates are kept once).
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    anchors: Vec<TrustAnchor>,
}

impl TrustAnchors {
    /// An empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `anchor`, unless the same certificate is already in the set (then the anchor added
    /// first, with its constraints, is kept).
    pub fn add(&mut self, anchor: TrustAnchor) {
        if !self.contains(anchor.cert().fingerprint()) {
            self.anchors.push(anchor);
        }
    }

    /// Whether the certificate with this SHA-256 fingerprint is trusted.
    #[must_use]
    pub fn contains(&self, fingerprint: &[u8; 32]) -> bool {
        self.anchors
            .iter()
            .any(|a| a.cert().fingerprint() == fingerprint)
    }

    /// The anchors, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = &TrustAnchor> {
        self.anchors.iter()
    }

    /// How many anchors the set holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }
}

impl FromIterator<TrustAnchor> for TrustAnchors {
    fn from_iter<I: IntoIterator<Item = TrustAnchor>>(iter: I) -> Self {
        let mut set = Self::new();
        for anchor in iter {
            set.add(anchor);
        }
        set
    }
}

impl From<TrustAnchor> for TrustAnchors {
    fn from(anchor: TrustAnchor) -> Self {
        std::iter::once(anchor).collect()
    }
}

//! Trust anchors: the certificates a verifier trusts without proof.

use crate::{Cert, ChainError};

/// A trusted certificate (in our PKI, the enrollment authority). Its subject and public key end
/// a path; as a trust input its own constraints (basicConstraints, keyUsage, rights) are not
/// checked, and its validity only when
/// [`VerifyOptions::with_anchor_validity`](crate::VerifyOptions::with_anchor_validity) says so
/// (the default).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrustAnchor {
    cert: Cert,
}

impl TrustAnchor {
    /// Trusts `cert`.
    pub fn new(cert: Cert) -> Self {
        Self { cert }
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
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `anchor`, unless the same certificate is already in the set.
    pub fn add(&mut self, anchor: TrustAnchor) {
        if !self.contains(anchor.cert().fingerprint()) {
            self.anchors.push(anchor);
        }
    }

    /// Whether the certificate with this SHA-256 fingerprint is trusted.
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
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// Whether the set is empty.
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

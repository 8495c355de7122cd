//! A certificate chain as a root returns it: leaf first, trust anchor last.

use der::Encode;
use x509_cert::Certificate;

use crate::CertError;
use crate::codec::{certificate_to_der, certificate_to_pem};

/// A certificate chain, leaf first: `[new SLC, root SLC, authority]` as a root certification
/// server returns it to a licensing server, or `[root SLC, authority]` as an authority returns
/// it. Never empty, no certificate twice.
///
/// In and out as concatenated PEM (`CERTIFICATE` blocks, leaf first), the form
/// `openssl verify -untrusted` and `openssl crl2pkcs7 -certfile` read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain(Vec<Certificate>);

impl Chain {
    /// A chain of `certificates`, leaf first. Refuses an empty list and duplicates; does not
    /// check signatures or names (path validation is the chain crate's job).
    pub fn new(certificates: Vec<Certificate>) -> Result<Self, CertError> {
        if certificates.is_empty() {
            return Err(CertError::EmptyChain);
        }
        for (i, certificate) in certificates.iter().enumerate() {
            if certificates.iter().skip(i + 1).any(|c| c == certificate) {
                return Err(CertError::IssuerCertificate {
                    subject: certificate.tbs_certificate().subject().to_string(),
                    reason: "appears twice in the chain",
                });
            }
        }
        Ok(Self(certificates))
    }

    /// The leaf: the certificate the chain is for.
    #[must_use]
    pub fn leaf(&self) -> &Certificate {
        // `new` refuses an empty list, so there is always a first certificate.
        &self.0[0]
    }

    /// The last certificate (the trust anchor when the chain is complete).
    #[must_use]
    pub fn anchor(&self) -> &Certificate {
        let last = self.0.len() - 1;
        &self.0[last]
    }

    /// Every certificate, leaf first.
    #[must_use]
    pub fn certificates(&self) -> &[Certificate] {
        &self.0
    }

    /// Number of certificates.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a chain has at least one certificate.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Reads concatenated PEM `CERTIFICATE` blocks, leaf first. Never panics.
    pub fn from_pem(pem: &str) -> Result<Self, CertError> {
        let certificates =
            Certificate::load_pem_chain(pem.as_bytes()).map_err(|source| CertError::Decode {
                what: "certificate chain PEM",
                source,
            })?;
        for certificate in &certificates {
            // Refuse what does not re-encode identically (load_pem_chain is lenient).
            let der = certificate_to_der(certificate)?;
            crate::certificate_from_der(&der)?;
        }
        Self::new(certificates)
    }

    /// Concatenated PEM `CERTIFICATE` blocks, leaf first.
    pub fn to_pem(&self) -> Result<String, CertError> {
        self.0.iter().map(certificate_to_pem).collect()
    }

    /// The DER of each certificate, leaf first.
    pub fn to_der(&self) -> Result<Vec<Vec<u8>>, CertError> {
        self.0
            .iter()
            .map(|c| {
                c.to_der().map_err(|source| CertError::Encode {
                    what: "certificate",
                    source,
                })
            })
            .collect()
    }

    /// A chain from the DER of each certificate, leaf first.
    pub fn from_der(certificates: &[impl AsRef<[u8]>]) -> Result<Self, CertError> {
        Self::new(
            certificates
                .iter()
                .map(|der| crate::certificate_from_der(der.as_ref()))
                .collect::<Result<_, _>>()?,
        )
    }

    /// This chain with `leaf` in front: what an issuer returns for a certificate it issued.
    pub(crate) fn prepend(&self, leaf: Certificate) -> Result<Self, CertError> {
        let mut certificates = Vec::with_capacity(self.0.len() + 1);
        certificates.push(leaf);
        certificates.extend(self.0.iter().cloned());
        Self::new(certificates)
    }
}

impl From<Chain> for Vec<Certificate> {
    fn from(chain: Chain) -> Self {
        chain.0
    }
}

//! TLS for the server (a certificate chain and key in PEM) and for the client (trusted roots).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::TransportError;

/// A server's TLS certificate chain and private key, as PEM.
#[derive(Clone)]
pub struct TlsIdentity {
    chain_pem: Vec<u8>,
    key_pem: Vec<u8>,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity").finish_non_exhaustive()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl TlsIdentity {
    /// From PEM text: the certificate chain (leaf first) and the private key (PKCS#8, PKCS#1 or
    /// SEC1).
    pub fn from_pem(chain_pem: impl Into<Vec<u8>>, key_pem: impl Into<Vec<u8>>) -> Self {
        Self {
            chain_pem: chain_pem.into(),
            key_pem: key_pem.into(),
        }
    }

    /// From PEM files.
    pub fn from_files(chain: &Path, key: &Path) -> Result<Self, TransportError> {
        let read = |p: &Path| {
            std::fs::read(p)
                .map_err(|e| TransportError::Tls(format!("cannot read {}: {e}", p.display())))
        };
        Ok(Self::from_pem(read(chain)?, read(key)?))
    }

    pub(crate) fn acceptor(&self) -> Result<tokio_rustls::TlsAcceptor, TransportError> {
        let chain = CertificateDer::pem_slice_iter(&self.chain_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                TransportError::Tls(format!("TLS certificate chain is not valid PEM: {e}"))
            })?;
        if chain.is_empty() {
            return Err(TransportError::Tls(
                "no certificate in the TLS certificate file".into(),
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(&self.key_pem)
            .map_err(|e| TransportError::Tls(format!("TLS key is not a PEM private key: {e}")))?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TransportError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| {
                TransportError::Tls(format!("TLS certificate and key do not work together: {e}"))
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    }
}

/// The client's TLS configuration: trust these roots (PEM).
pub(crate) fn client_config(roots_pem: &[u8]) -> Result<Arc<rustls::ClientConfig>, TransportError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(roots_pem) {
        let cert =
            cert.map_err(|e| TransportError::Tls(format!("trusted roots are not valid PEM: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| TransportError::Tls(format!("unusable trusted root: {e}")))?;
    }
    if roots.is_empty() {
        return Err(TransportError::Tls(
            "no certificate in the trusted roots".into(),
        ));
    }
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

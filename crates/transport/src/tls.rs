//! TLS for the server: a certificate chain and key in PEM. (Whom the client trusts is in
//! `trust`.)

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::TransportError;

/// A TLS certificate chain and private key, as PEM: a server's, or a client's (to
/// authenticate with its certificate); a server's may name the CAs whose client certificates
/// it accepts.
#[derive(Clone)]
pub struct TlsIdentity {
    chain_pem: Vec<u8>,
    key_pem: Vec<u8>,
    client_ca_pem: Option<Vec<u8>>,
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
            client_ca_pem: None,
        }
    }

    /// The same server identity, asking clients for a certificate and accepting those that
    /// chain to a CA in `ca_pem` (a client without one may still use a bearer token; one whose
    /// certificate does not verify is refused at the handshake).
    #[must_use]
    pub fn with_client_ca(mut self, ca_pem: impl Into<Vec<u8>>) -> Self {
        self.client_ca_pem = Some(ca_pem.into());
        self
    }

    /// From PEM files.
    pub fn from_files(chain: &Path, key: &Path) -> Result<Self, TransportError> {
        let read = |p: &Path| {
            std::fs::read(p)
                .map_err(|e| TransportError::Tls(format!("cannot read {}: {e}", p.display())))
        };
        Ok(Self::from_pem(read(chain)?, read(key)?))
    }

    /// The certificate chain and key, parsed.
    pub(crate) fn parts(
        &self,
    ) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TransportError> {
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
        Ok((chain, key))
    }

    pub(crate) fn acceptor(&self) -> Result<tokio_rustls::TlsAcceptor, TransportError> {
        let (chain, key) = self.parts()?;
        let builder = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TransportError::Tls(e.to_string()))?;
        let builder = match &self.client_ca_pem {
            None => builder.with_no_client_auth(),
            Some(pem) => builder.with_client_cert_verifier(client_verifier(pem)?),
        };
        let mut config = builder.with_single_cert(chain, key).map_err(|e| {
            TransportError::Tls(format!("TLS certificate and key do not work together: {e}"))
        })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    }
}

/// Accepts client certificates that chain to a CA in `ca_pem`, and clients without one.
fn client_verifier(
    ca_pem: &[u8],
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, TransportError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        let cert = cert.map_err(|e| {
            TransportError::Tls(format!("the client CA file is not valid PEM: {e}"))
        })?;
        roots
            .add(cert)
            .map_err(|e| TransportError::Tls(format!("unusable client CA certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(TransportError::Tls(
            "no certificate in the client CA file".into(),
        ));
    }
    rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .allow_unauthenticated()
        .build()
        .map_err(|e| TransportError::Tls(format!("cannot build the client verifier: {e}")))
}

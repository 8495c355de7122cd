//! Whom the client trusts for `https://`: the system's roots (the operating system's store,
//! read with `rustls-native-certs`), and any certificates the operator adds (`--tls-ca`). An
//! added certificate may be a private CA or the server's own self-signed certificate, as
//! `openssl req -x509` makes it (which marks it a CA, so that a path-building verifier calls it
//! a CA used as an end entity): the server is then accepted when it presents exactly that
//! certificate, for the name it was reached by, within its validity.

use std::sync::Arc;

use der::Decode;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use crate::TransportError;

/// Which roots a client trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SystemRoots {
    /// The operating system's trusted roots, besides those added.
    Trusted,
    /// Only the roots added.
    Ignored,
}

/// The client's TLS configuration: the system's roots (unless `system` says not to) and the
/// certificates in `added_pem`.
pub(crate) fn client_config(
    added_pem: Option<&[u8]>,
    system: SystemRoots,
    identity: Option<&crate::TlsIdentity>,
) -> Result<Arc<rustls::ClientConfig>, TransportError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    if system == SystemRoots::Trusted {
        let found = rustls_native_certs::load_native_certs();
        for error in &found.errors {
            tracing::debug!(%error, "a system root certificate could not be read");
        }
        let (added, ignored) = roots.add_parsable_certificates(found.certs);
        tracing::debug!(added, ignored, "system root certificates loaded");
    }
    let mut pinned = Vec::new();
    if let Some(pem) = added_pem {
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| {
                TransportError::Tls(format!("trusted certificates are not valid PEM: {e}"))
            })?;
            roots
                .add(cert.clone())
                .map_err(|e| TransportError::Tls(format!("unusable trusted certificate: {e}")))?;
            pinned.push(cert);
        }
        if pinned.is_empty() {
            return Err(TransportError::Tls(
                "no certificate in the trusted certificates file".into(),
            ));
        }
    }
    if roots.is_empty() {
        return Err(TransportError::Tls(
            "no trusted root certificates: the system's store has none; give the certificate that signed the server's TLS certificate (--tls-ca)".into(),
        ));
    }
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| TransportError::Tls(format!("cannot build the TLS verifier: {e}")))?;
    let verifier = Arc::new(TrustedOrPinned { webpki, pinned });
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match identity {
        None => builder.with_no_client_auth(),
        Some(identity) => {
            let (chain, key) = identity.parts()?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                TransportError::Tls(format!(
                    "the client certificate and key do not work together: {e}"
                ))
            })?
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Path validation to the trusted roots, or else the exact certificate the operator added.
#[derive(Debug)]
struct TrustedOrPinned {
    webpki: Arc<WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for TrustedOrPinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let refused = match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(verified) => return Ok(verified),
            Err(refused) => refused,
        };
        if !self
            .pinned
            .iter()
            .any(|pinned| pinned.as_ref() == end_entity.as_ref())
        {
            return Err(refused);
        }
        // The operator trusts this very certificate: what path validation would still check
        // of it is its name and its validity.
        let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_name(&parsed, server_name)?;
        check_validity(end_entity, now)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

fn check_validity(cert: &CertificateDer<'_>, now: UnixTime) -> Result<(), rustls::Error> {
    let parsed = rms_roles::cert::x509_cert::Certificate::from_der(cert.as_ref())
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    let validity = parsed.tbs_certificate().validity();
    let now = now.as_secs();
    if now < validity.not_before.to_unix_duration().as_secs() {
        return Err(rustls::Error::InvalidCertificate(
            CertificateError::NotValidYet,
        ));
    }
    if now > validity.not_after.to_unix_duration().as_secs() {
        return Err(rustls::Error::InvalidCertificate(CertificateError::Expired));
    }
    Ok(())
}

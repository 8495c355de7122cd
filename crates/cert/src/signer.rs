//! The signer every issuance goes through, and its adapter to the x509-cert builders.

use std::cell::RefCell;

use der::asn1::BitString;
use spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, EncodePublicKey,
    SignatureBitStringEncoding, SubjectPublicKeyInfoOwned,
};

use crate::CertError;

/// A holder of a private key that can sign: the only way issuance code signs anything
/// (certificates, the proof of possession in requests, CRLs, CMS licenses).
///
/// This is `rms_keys::Signer`: every `rms_keys::PrivateKey` is one (an
/// `Arc<dyn PrivateKey>` converts to an `Arc<dyn Signer>`), [`RsaSigner`](crate::RsaSigner)
/// and a PKCS#11 token's key alike.
pub use rms_keys::Signer;

/// A raw signature value, as the builders want it.
#[derive(Debug, Clone)]
pub(crate) struct RawSignature(Vec<u8>);

impl SignatureBitStringEncoding for RawSignature {
    fn to_bitstring(&self) -> der::Result<BitString> {
        BitString::from_bytes(&self.0)
    }
}

/// A public key that encodes itself as the SubjectPublicKeyInfo it is.
#[derive(Debug, Clone)]
pub(crate) struct SpkiKey(SubjectPublicKeyInfoOwned);

impl EncodePublicKey for SpkiKey {
    fn to_public_key_der(&self) -> spki::Result<der::Document> {
        Ok(der::Document::encode_msg(&self.0)?)
    }
}

/// Presents a [`Signer`] as the `Keypair + DynSignatureAlgorithmIdentifier + signature::Signer`
/// that the x509-cert builders want, keeping the signer's own error when it fails.
pub(crate) struct BuilderSigner<'a> {
    inner: &'a dyn Signer,
    public_key: SubjectPublicKeyInfoOwned,
    failure: RefCell<Option<CertError>>,
}

impl<'a> BuilderSigner<'a> {
    pub(crate) fn new(inner: &'a dyn Signer) -> Self {
        Self {
            inner,
            public_key: inner.public_key(),
            failure: RefCell::new(None),
        }
    }

    /// Turns a builder error into ours, preferring the signer's own error if it failed.
    pub(crate) fn error(&self, what: &'static str, err: x509_cert::builder::Error) -> CertError {
        if let Some(failure) = self.failure.borrow_mut().take() {
            return failure;
        }
        match err {
            x509_cert::builder::Error::Asn1(source) => CertError::Encode { what, source },
            other => CertError::Signing {
                reason: format!("{what}: {other}"),
            },
        }
    }
}

impl signature::Keypair for BuilderSigner<'_> {
    type VerifyingKey = SpkiKey;

    fn verifying_key(&self) -> SpkiKey {
        SpkiKey(self.public_key.clone())
    }
}

impl DynSignatureAlgorithmIdentifier for BuilderSigner<'_> {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        Ok(self.inner.algorithm())
    }
}

impl signature::Signer<RawSignature> for BuilderSigner<'_> {
    fn try_sign(&self, msg: &[u8]) -> Result<RawSignature, signature::Error> {
        match self.inner.sign(msg) {
            Ok(bytes) => Ok(RawSignature(bytes)),
            Err(err) => {
                let reason = err.to_string();
                *self.failure.borrow_mut() = Some(CertError::from(err));
                Err(signature::Error::from_source(reason))
            }
        }
    }
}

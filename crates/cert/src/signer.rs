//! The signer trait every issuance goes through, and its adapter to the RustCrypto builders.

use std::cell::RefCell;

use der::asn1::BitString;
use spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, EncodePublicKey,
    SignatureBitStringEncoding, SubjectPublicKeyInfoOwned,
};

use crate::CertError;

/// A holder of a private key that can sign: the only way issuance code signs anything
/// (certificates, the proof of possession in requests, CMS licenses).
///
/// [`RsaSigner`](crate::RsaSigner) is the default implementation; a faster RSA implementation or
/// a hardware security module plugs in by implementing these three methods.
pub trait Signer: Send + Sync {
    /// The signature algorithm, as it appears in certificates and SignerInfos
    /// (e.g. sha256WithRSAEncryption with NULL parameters).
    fn algorithm(&self) -> AlgorithmIdentifierOwned;

    /// The public key matching the private key.
    fn public_key(&self) -> SubjectPublicKeyInfoOwned;

    /// Signs `message` (the signer hashes it) and returns the raw signature value.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CertError>;
}

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
/// that the x509-cert and cms builders want, keeping the signer's own error when it fails.
pub(crate) struct BuilderSigner<'a> {
    inner: &'a dyn Signer,
    public_key: SubjectPublicKeyInfoOwned,
    failure: RefCell<Option<CertError>>,
    /// The last message signed and its signature.
    signed: RefCell<Option<(Vec<u8>, Vec<u8>)>>,
}

impl<'a> BuilderSigner<'a> {
    pub(crate) fn new(inner: &'a dyn Signer) -> Self {
        Self {
            inner,
            public_key: inner.public_key(),
            failure: RefCell::new(None),
            signed: RefCell::new(None),
        }
    }

    /// The last message signed through this adapter and its signature: for CMS, the DER of
    /// the signed attributes and the SignerInfo's signature.
    pub(crate) fn take_signed(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        self.signed.borrow_mut().take()
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

    /// Turns a CMS builder error into ours, preferring the signer's own error if it failed.
    pub(crate) fn cms_error(&self, what: &'static str, err: cms::builder::Error) -> CertError {
        if let Some(failure) = self.failure.borrow_mut().take() {
            return failure;
        }
        match err {
            cms::builder::Error::Asn1(source) => CertError::Encode { what, source },
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
            Ok(bytes) => {
                *self.signed.borrow_mut() = Some((msg.to_vec(), bytes.clone()));
                Ok(RawSignature(bytes))
            }
            Err(err) => {
                let reason = err.to_string();
                *self.failure.borrow_mut() = Some(err);
                Err(signature::Error::from_source(reason))
            }
        }
    }
}

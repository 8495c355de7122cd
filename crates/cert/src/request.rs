//! Enrollment requests: PKCS#10 certification requests naming a server, the role it asks for,
//! its server id and service URL, signed with its new key (proof of possession). The same type
//! serves enrollment with an authority and sub-enrollment with a root certification server.

use const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME;
use const_oid::db::rfc5912::ID_EXTENSION_REQ;
use der::Encode;
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::builder::Builder;
use x509_cert::ext::Extension;
use x509_cert::request::{CertReq, RequestBuilder};

use crate::codec::{Strict, decode_strict, der_to_pem, pem_to_der, raw_first_field};
use crate::signer::{BuilderSigner, RawSignature};
use crate::verify::{checked_rsa_key, verify_signature};
use crate::{CertError, RequestError, ServerIdentity, Signer, oid};

/// The PEM label of a PKCS#10 request, as OpenSSL writes it.
const PEM_LABEL: &str = "CERTIFICATE REQUEST";

/// A PKCS#10 enrollment request, parsed but not yet checked: call [`check`](Self::check) to get
/// a [`CheckedRequest`], the only thing an SLC can be issued from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentRequest {
    request: CertReq,
    /// The DER of the CertificationRequestInfo exactly as received: what the signature covers.
    info_der: Vec<u8>,
    der: Vec<u8>,
}

impl EnrollmentRequest {
    /// Makes a request for `identity`, signed by `signer` (the new key: proof of possession).
    pub fn new(identity: &ServerIdentity, signer: &dyn Signer) -> Result<Self, CertError> {
        let adapter = BuilderSigner::new(signer);
        let mut builder = RequestBuilder::new(identity.subject().clone())
            .map_err(|err| adapter.error("request", err))?;
        for extension in identity.extensions()? {
            builder
                .add_extension(extension)
                .map_err(|source| CertError::Encode {
                    what: "requested extension",
                    source,
                })?;
        }
        let request = builder
            .build::<_, RawSignature>(&adapter)
            .map_err(|err| adapter.error("request", err))?;
        let der = request.to_der().map_err(|source| CertError::Encode {
            what: "request",
            source,
        })?;
        Self::from_der(&der)
    }

    /// Reads a request from DER. Refuses anything that is not exactly one PKCS#10 request
    /// ([`RequestError::Encoding`], [`RequestError::TrailingData`]); checks nothing else.
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        let request: CertReq = decode_strict(der).map_err(|err| match err {
            Strict::Der(source) => RequestError::Encoding(source),
            Strict::Trailing(extra) => RequestError::TrailingData { extra },
        })?;
        let info_der = raw_first_field(der).map_err(RequestError::Encoding)?;
        Ok(Self {
            request,
            info_der,
            der: der.to_vec(),
        })
    }

    /// Reads a request from one PEM block (`CERTIFICATE REQUEST`).
    pub fn from_pem(pem: &str) -> Result<Self, CertError> {
        let der = pem_to_der(pem, PEM_LABEL).map_err(RequestError::Encoding)?;
        Self::from_der(&der)
    }

    /// The request as DER, exactly as made or received.
    pub fn to_der(&self) -> Result<Vec<u8>, CertError> {
        Ok(self.der.clone())
    }

    /// The request as PEM (`CERTIFICATE REQUEST`).
    pub fn to_pem(&self) -> Result<String, CertError> {
        der_to_pem(PEM_LABEL, &self.der, "request")
    }

    /// The parsed PKCS#10 structure.
    #[must_use]
    pub fn as_cert_req(&self) -> &CertReq {
        &self.request
    }

    /// Checks that the request is well formed, each failure its own [`RequestError`]:
    ///
    /// 1. the key is RSA, 2048 to 8192 bits, exponent 65537;
    /// 2. the signature verifies with that key (sha256/384/512WithRSAEncryption or RSASSA-PSS);
    /// 3. the only attribute is one extensionRequest holding no extension twice, and no critical
    ///    extension but subjectAltName and ours;
    /// 4. the subject has one acceptable common name, and the role, server id and service URL
    ///    extensions are present and valid.
    pub fn check(&self) -> Result<CheckedRequest, RequestError> {
        let info = &self.request.info;
        let key = checked_rsa_key(&info.public_key)?;
        let signature = self
            .request
            .signature
            .as_bytes()
            .ok_or(RequestError::BadSignature)?;
        verify_signature(&key, &self.request.algorithm, &self.info_der, signature)?;
        let extensions = requested_extensions(&self.request)?;
        let identity = ServerIdentity::from_parts(&info.subject, &extensions)?;
        Ok(CheckedRequest {
            identity,
            public_key: info.public_key.clone(),
            request: self.clone(),
        })
    }
}

/// The extensions of the one extensionRequest attribute, checked for duplicates and unknown
/// critical extensions.
fn requested_extensions(request: &CertReq) -> Result<Vec<Extension>, RequestError> {
    let malformed = |reason: String| RequestError::MalformedExtensionRequest { reason };
    let mut found: Option<Vec<Extension>> = None;
    for attribute in request.info.attributes.iter() {
        if attribute.oid != ID_EXTENSION_REQ {
            return Err(RequestError::UnknownAttribute { oid: attribute.oid });
        }
        if found.is_some() {
            return Err(malformed("the attribute appears more than once".to_owned()));
        }
        let [value] = attribute.values.as_slice() else {
            return Err(malformed(format!(
                "{} values instead of one",
                attribute.values.len()
            )));
        };
        let der = value
            .to_der()
            .map_err(|err| malformed(format!("cannot re-encode: {err}")))?;
        let extensions: Vec<Extension> = decode_strict(&der).map_err(|err| match err {
            Strict::Der(err) => malformed(format!("not a SEQUENCE OF Extension: {err}")),
            Strict::Trailing(extra) => malformed(format!("{extra} bytes of trailing data")),
        })?;
        found = Some(extensions);
    }
    let extensions = found.unwrap_or_default();
    for (i, extension) in extensions.iter().enumerate() {
        if extensions
            .iter()
            .skip(i + 1)
            .any(|e| e.extn_id == extension.extn_id)
        {
            return Err(RequestError::DuplicateExtension {
                oid: extension.extn_id,
            });
        }
        let known =
            [oid::SERVER_ROLE, oid::SERVER_ID, ID_CE_SUBJECT_ALT_NAME].contains(&extension.extn_id);
        if extension.critical && !known {
            return Err(RequestError::UnknownCriticalExtension {
                oid: extension.extn_id,
            });
        }
    }
    Ok(extensions)
}

/// A request that passed [`EnrollmentRequest::check`]: the proof an issuer needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRequest {
    identity: ServerIdentity,
    public_key: SubjectPublicKeyInfoOwned,
    request: EnrollmentRequest,
}

impl CheckedRequest {
    /// Who the request names: subject, role, server id, URL.
    #[must_use]
    pub fn identity(&self) -> &ServerIdentity {
        &self.identity
    }

    /// The requester's public key (checked: RSA, 2048 to 8192 bits, exponent 65537).
    #[must_use]
    pub fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.public_key
    }

    /// The request as received.
    #[must_use]
    pub fn request(&self) -> &EnrollmentRequest {
        &self.request
    }
}

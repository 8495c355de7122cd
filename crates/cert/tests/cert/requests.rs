//! Enrollment requests: building, parsing, and each way a request can be refused.

use std::str::FromStr;

use const_oid::ObjectIdentifier;
use der::asn1::{Any, OctetString, SetOfVec};
use der::{Decode, Encode, Tag};
use rms_cert::{
    CertError, EnrollmentRequest, RequestError, RsaSigner, ServerId, ServerRole, Signer, oid,
};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::attr::Attribute;
use x509_cert::builder::Builder;
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::request::RequestBuilder;

use crate::common::*;

const SAN: ObjectIdentifier = const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME;
const URL_SAN: &[u8] = b"\x30\x1a\x86\x18https://rms.example.com/";

pub(crate) fn ext(oid: ObjectIdentifier, critical: bool, value: &[u8]) -> Extension {
    Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_vec()).unwrap(),
    }
}

pub(crate) fn utf8(text: &str) -> Vec<u8> {
    der::asn1::Utf8StringRef::new(text)
        .unwrap()
        .to_der()
        .unwrap()
}

/// The three extensions of a good request.
pub(crate) fn good_extensions() -> Vec<Extension> {
    vec![
        ext(oid::SERVER_ROLE, false, &utf8("licensing")),
        ext(
            oid::SERVER_ID,
            false,
            &utf8("0f8fad5b-d9cb-469f-a165-70867728950e"),
        ),
        ext(SAN, false, URL_SAN),
    ]
}

/// A request signed by `key` with exactly the given subject, extensions and extra attributes,
/// made with the x509-cert builder directly (bypassing rms-cert's checks).
pub(crate) fn raw_request(
    subject: &str,
    extensions: Vec<Extension>,
    attributes: Vec<Attribute>,
    key: &RsaSigner,
) -> Vec<u8> {
    let mut builder = RequestBuilder::new(Name::from_str(subject).unwrap()).unwrap();
    for e in extensions {
        builder.add_extension(e).unwrap();
    }
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(rsa_key(key));
    let mut req = builder
        .build::<_, rsa::pkcs1v15::Signature>(&signer)
        .unwrap();
    for a in attributes {
        req.info.attributes.insert(a).unwrap();
    }
    if !req.info.attributes.is_empty() {
        // Re-sign after adding attributes.
        let tbs = req.info.to_der().unwrap();
        let sig = Signer::sign(key, &tbs).unwrap();
        req.signature = der::asn1::BitString::from_bytes(&sig).unwrap();
    }
    req.to_der().unwrap()
}

#[track_caller]
pub(crate) fn refused(der: &[u8]) -> RequestError {
    match EnrollmentRequest::from_der(der) {
        Err(CertError::Request(err)) => err,
        Err(other) => panic!("unexpected error {other}"),
        Ok(req) => req.check().expect_err("the request was accepted"),
    }
}

#[test]
fn our_requests_check_and_round_trip() {
    let identity = identity("licensing-7", ServerRole::LicensingServer);
    let req = EnrollmentRequest::new(&identity, key(2).as_ref()).unwrap();
    let checked = req.check().unwrap();
    assert_eq!(checked.identity(), &identity);
    assert_eq!(*checked.public_key(), key(2).public_key());
    let pem = req.to_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
    assert_eq!(EnrollmentRequest::from_pem(&pem).unwrap(), req);
    assert_eq!(
        EnrollmentRequest::from_der(&req.to_der().unwrap()).unwrap(),
        req
    );
    // A raw request with the good extensions is accepted too.
    let raw = raw_request("CN=rms,O=Example,C=IT", good_extensions(), vec![], &key(4));
    let checked = EnrollmentRequest::from_der(&raw).unwrap().check().unwrap();
    assert_eq!(checked.identity().common_name(), "rms");
    assert_eq!(checked.identity().url(), "https://rms.example.com/");
    assert_eq!(checked.identity().role(), ServerRole::LicensingServer);
    assert_eq!(
        checked.identity().id(),
        ServerId::from_str("0f8fad5b-d9cb-469f-a165-70867728950e").unwrap()
    );
}

#[test]
fn bad_encoding_and_trailing_data() {
    assert!(matches!(
        refused(b"\x30\x03\x02\x01"),
        RequestError::Encoding(_)
    ));
    assert!(matches!(refused(b""), RequestError::Encoding(_)));
    let mut der =
        EnrollmentRequest::new(&identity("x", ServerRole::LicensingServer), key(2).as_ref())
            .unwrap()
            .to_der()
            .unwrap();
    der.extend_from_slice(b"\x00\x00");
    assert_eq!(refused(&der), RequestError::TrailingData { extra: 2 });
    assert!(matches!(
        EnrollmentRequest::from_pem(
            "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"
        ),
        Err(CertError::Request(RequestError::Encoding(_)))
    ));
}

#[test]
fn flipped_signature_byte_is_a_bad_signature() {
    let mut der = raw_request("CN=rms", good_extensions(), vec![], &key(4));
    let last = der.len() - 1;
    der[last] ^= 0x01;
    assert_eq!(refused(&der), RequestError::BadSignature);
}

/// A signer that lies about its algorithm or key, to make requests no honest signer makes.
struct Liar {
    inner: std::sync::Arc<RsaSigner>,
    algorithm: Option<AlgorithmIdentifierOwned>,
    public_key: Option<SubjectPublicKeyInfoOwned>,
}

impl Signer for Liar {
    fn algorithm(&self) -> AlgorithmIdentifierOwned {
        self.algorithm
            .clone()
            .unwrap_or_else(|| self.inner.algorithm())
    }
    fn public_key(&self) -> SubjectPublicKeyInfoOwned {
        self.public_key
            .clone()
            .unwrap_or_else(|| self.inner.public_key())
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rms_keys::KeyError> {
        self.inner.sign(message)
    }
}

fn request_by(signer: &dyn Signer) -> Vec<u8> {
    EnrollmentRequest::new(&identity("liar", ServerRole::LicensingServer), signer)
        .unwrap()
        .to_der()
        .unwrap()
}

#[test]
fn unsupported_signature_algorithm() {
    let sha1 = AlgorithmIdentifierOwned {
        oid: const_oid::db::rfc5912::SHA_1_WITH_RSA_ENCRYPTION,
        parameters: Some(Any::null()),
    };
    let liar = Liar {
        inner: key(4),
        algorithm: Some(sha1.clone()),
        public_key: None,
    };
    assert_eq!(
        refused(&request_by(&liar)),
        RequestError::UnsupportedSignatureAlgorithm { oid: sha1.oid }
    );
}

#[test]
fn key_not_rsa_and_invalid_key() {
    let ec = SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::ID_EC_PUBLIC_KEY,
            parameters: Some(Any::encode_from(&const_oid::db::rfc5912::SECP_256_R_1).unwrap()),
        },
        subject_public_key: der::asn1::BitString::from_bytes(&[4; 65]).unwrap(),
    };
    let liar = Liar {
        inner: key(4),
        algorithm: None,
        public_key: Some(ec),
    };
    assert!(matches!(
        refused(&request_by(&liar)),
        RequestError::KeyNotRsa { .. }
    ));
    let mut garbage = key(4).public_key();
    garbage.subject_public_key = der::asn1::BitString::from_bytes(&[1, 2, 3]).unwrap();
    let liar = Liar {
        inner: key(4),
        algorithm: None,
        public_key: Some(garbage),
    };
    assert!(matches!(
        refused(&request_by(&liar)),
        RequestError::InvalidKey { .. }
    ));
}

#[test]
fn small_keys_and_other_exponents_are_refused() {
    let small = RsaCrateSigner::new(rsa::PrivateKey::new(&mut getrandom::SysRng, 1024).unwrap());
    assert_eq!(
        refused(&request_by(&small)),
        RequestError::KeySize { bits: 1024 }
    );
    let e3 = RsaCrateSigner::new(
        rsa::PrivateKey::new_with_exp(&mut getrandom::SysRng, 2048, rsa::BoxedUint::from(3u32))
            .unwrap(),
    );
    let err = refused(&request_by(&e3));
    assert_eq!(err, RequestError::Exponent { exponent: vec![3] });
    assert_eq!(err.to_string(), "RSA public exponent 3 is not 65537");
}

#[test]
fn subject_common_name() {
    let k = key(4);
    assert_eq!(
        refused(&raw_request("O=Example", good_extensions(), vec![], &k)),
        RequestError::MissingCommonName
    );
    assert!(matches!(
        refused(&raw_request("CN=a,CN=b", good_extensions(), vec![], &k)),
        RequestError::InvalidCommonName { .. }
    ));
    let long = format!("CN={}", "x".repeat(65));
    assert!(matches!(
        refused(&raw_request(&long, good_extensions(), vec![], &k)),
        RequestError::InvalidCommonName { .. }
    ));
}

fn without(oid: ObjectIdentifier) -> Vec<Extension> {
    good_extensions()
        .into_iter()
        .filter(|e| e.extn_id != oid)
        .collect()
}

fn replacing(oid: ObjectIdentifier, value: &[u8]) -> Vec<Extension> {
    let mut exts = without(oid);
    exts.push(ext(oid, false, value));
    exts
}

#[test]
fn role_server_id_and_url() {
    let k = key(4);
    let check = |exts| refused(&raw_request("CN=rms", exts, vec![], &k));
    assert_eq!(check(without(oid::SERVER_ROLE)), RequestError::MissingRole);
    assert!(matches!(
        check(replacing(oid::SERVER_ROLE, &utf8("admin"))),
        RequestError::InvalidRole { .. }
    ));
    assert!(matches!(
        check(replacing(oid::SERVER_ROLE, b"\x13\x04root")),
        RequestError::InvalidRole { .. }
    ));
    assert_eq!(
        check(without(oid::SERVER_ID)),
        RequestError::MissingServerId
    );
    assert!(matches!(
        check(replacing(oid::SERVER_ID, &utf8("not-a-guid"))),
        RequestError::InvalidServerId { .. }
    ));
    assert_eq!(check(without(SAN)), RequestError::MissingUrl);
    for bad in [
        &b"\x30\x16\x86\x14ftp://rms.example.com"[..],
        b"\x30\x11\x82\x0frms.example.com",
        b"\x30\x00",
        b"\x30\x1a\x86\x18https://rms.example.com/\x00",
    ] {
        assert!(
            matches!(check(replacing(SAN, bad)), RequestError::InvalidUrl { .. }),
            "{bad:?}"
        );
    }
}

#[test]
fn duplicate_and_unknown_critical_extensions() {
    let k = key(4);
    let mut dup = good_extensions();
    dup.push(ext(oid::SERVER_ROLE, false, &utf8("root")));
    assert_eq!(
        refused(&raw_request("CN=rms", dup, vec![], &k)),
        RequestError::DuplicateExtension {
            oid: oid::SERVER_ROLE
        }
    );
    let unknown = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.9.9");
    let mut critical = good_extensions();
    critical.push(ext(unknown, true, b"\x05\x00"));
    assert_eq!(
        refused(&raw_request("CN=rms", critical, vec![], &k)),
        RequestError::UnknownCriticalExtension { oid: unknown }
    );
    // The same extension, not critical, is ignored.
    let mut harmless = good_extensions();
    harmless.push(ext(unknown, false, b"\x05\x00"));
    let der = raw_request("CN=rms", harmless, vec![], &k);
    assert!(EnrollmentRequest::from_der(&der).unwrap().check().is_ok());
}

#[test]
fn unknown_and_malformed_attributes() {
    let k = key(4);
    let challenge = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.7");
    let mut values = SetOfVec::new();
    values
        .insert(Any::new(Tag::Utf8String, b"secret".to_vec()).unwrap())
        .unwrap();
    let attribute = Attribute {
        oid: challenge,
        values,
    };
    assert_eq!(
        refused(&raw_request(
            "CN=rms",
            good_extensions(),
            vec![attribute],
            &k
        )),
        RequestError::UnknownAttribute { oid: challenge }
    );
    // An extensionRequest with two values.
    let ext_req = const_oid::db::rfc5912::ID_EXTENSION_REQ;
    let mut values = SetOfVec::new();
    values
        .insert(Any::encode_from(&good_extensions()).unwrap())
        .unwrap();
    values
        .insert(Any::encode_from(&Vec::<Extension>::new()).unwrap())
        .unwrap();
    // Build without the builder's own extensionRequest.
    let mut builder = RequestBuilder::new(Name::from_str("CN=rms").unwrap()).unwrap();
    let _ = &mut builder;
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(rsa_key(&k));
    let mut req = builder
        .build::<_, rsa::pkcs1v15::Signature>(&signer)
        .unwrap();
    req.info.attributes = SetOfVec::new();
    req.info
        .attributes
        .insert(Attribute {
            oid: ext_req,
            values,
        })
        .unwrap();
    let sig = k.sign(&req.info.to_der().unwrap()).unwrap();
    req.signature = der::asn1::BitString::from_bytes(&sig).unwrap();
    assert!(matches!(
        refused(&req.to_der().unwrap()),
        RequestError::MalformedExtensionRequest { .. }
    ));
}

#[test]
fn identities_refuse_bad_names_and_urls() {
    let id = ServerId::random().unwrap();
    for (name, url) in [
        ("", "https://a.example"),
        ("ok", "mailto:x@example.com"),
        ("ok", "https://"),
        ("a\u{7}", "https://a.example"),
    ] {
        assert!(
            rms_cert::ServerIdentity::new(name, ServerRole::LicensingServer, id, url).is_err(),
            "{name:?} {url:?}"
        );
    }
    let with_subject = identity("x", ServerRole::LicensingServer)
        .with_subject(Name::from_str("CN=licensing-1,O=Example,C=IT").unwrap())
        .unwrap();
    assert_eq!(with_subject.common_name(), "licensing-1");
    let req = EnrollmentRequest::new(&with_subject, key(4).as_ref()).unwrap();
    assert_eq!(req.check().unwrap().identity(), &with_subject);
    assert!(
        identity("x", ServerRole::LicensingServer)
            .with_subject(Name::from_str("O=Example").unwrap())
            .is_err()
    );
}

#[test]
fn decoding_a_request_does_not_need_it_to_be_valid() {
    let der = raw_request("O=Example", vec![], vec![], &key(4));
    let req = EnrollmentRequest::from_der(&der).unwrap();
    assert_eq!(req.as_cert_req().info.subject.to_string(), "O=Example");
    let _ = Name::from_der(&req.as_cert_req().info.subject.to_der().unwrap()).unwrap();
}

//! The certificate profiles: which extensions the authority, a root SLC and a licensing SLC
//! carry (see `docs/certificates.md` for the reasons).

use der::asn1::OctetString;
use der::flagset::FlagSet;
use der::referenced::OwnedToRef;
use der::{Decode, Encode};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::certificate::TbsCertificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::name::Name;

use crate::{CertError, ServerIdentity, ServerRole};

/// What is being certified, which decides the extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The self-signed trust anchor: CA, pathLen 1, keyCertSign and cRLSign.
    Authority,
    /// An SLC of the given role.
    Slc(ServerRole),
}

/// A `BuilderProfile` that adds exactly the extensions we computed, in our order.
pub(crate) struct Profile {
    pub(crate) issuer: Name,
    pub(crate) subject: Name,
    pub(crate) extensions: Vec<Extension>,
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        _spk: spki::SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: spki::SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(self.extensions.clone())
    }
}

fn encode_err(what: &'static str) -> impl Fn(der::Error) -> CertError {
    move |source| CertError::Encode { what, source }
}

fn ext<T: Encode>(
    oid: const_oid::ObjectIdentifier,
    critical: bool,
    value: &T,
    what: &'static str,
) -> Result<Extension, CertError> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der().map_err(encode_err(what))?)
            .map_err(encode_err(what))?,
    })
}

/// The key identifier of `key` (RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey
/// bits): what our SLCs carry as subjectKeyIdentifier and what a wrapped content key names as
/// its recipient.
pub fn key_identifier(key: &SubjectPublicKeyInfoOwned) -> Result<Vec<u8>, CertError> {
    let ski = SubjectKeyIdentifier::try_from(key.owned_to_ref())
        .map_err(encode_err("subject key identifier"))?;
    Ok(ski.0.as_bytes().to_vec())
}

/// The subject key identifier a certificate carries, or the one computed from its key.
pub(crate) fn subject_key_id_of(certificate: &Certificate) -> Result<Vec<u8>, CertError> {
    let tbs = certificate.tbs_certificate();
    let found = tbs
        .extensions()
        .into_iter()
        .flatten()
        .find(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER);
    match found {
        Some(e) => Ok(SubjectKeyIdentifier::from_der(e.extn_value.as_bytes())
            .map_err(|source| CertError::Decode {
                what: "subject key identifier",
                source,
            })?
            .0
            .as_bytes()
            .to_vec()),
        None => key_identifier(tbs.subject_public_key_info()),
    }
}

/// The extensions of a certificate of `kind` for `subject_key`, issued by the holder of the
/// key identified by `issuer_key_id`.
pub(crate) fn extensions(
    kind: Kind,
    subject_key: &SubjectPublicKeyInfoOwned,
    issuer_key_id: &[u8],
    identity: Option<&ServerIdentity>,
) -> Result<Vec<Extension>, CertError> {
    let (basic, usage): (BasicConstraints, FlagSet<KeyUsages>) = match kind {
        Kind::Authority => (
            BasicConstraints {
                ca: true,
                path_len_constraint: Some(1),
            },
            KeyUsages::KeyCertSign | KeyUsages::CRLSign,
        ),
        Kind::Slc(ServerRole::RootCertificationServer) => (
            BasicConstraints {
                ca: true,
                path_len_constraint: Some(0),
            },
            KeyUsages::DigitalSignature | KeyUsages::KeyCertSign | KeyUsages::CRLSign,
        ),
        Kind::Slc(ServerRole::LicensingServer) => (
            BasicConstraints {
                ca: false,
                path_len_constraint: None,
            },
            KeyUsages::DigitalSignature.into(),
        ),
    };
    let ski = OctetString::new(key_identifier(subject_key)?)
        .map_err(encode_err("subject key identifier"))?;
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(
            OctetString::new(issuer_key_id).map_err(encode_err("authority key identifier"))?,
        ),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    let mut out = vec![
        ext(
            const_oid::db::rfc5280::ID_CE_BASIC_CONSTRAINTS,
            true,
            &basic,
            "basic constraints",
        )?,
        ext(
            const_oid::db::rfc5280::ID_CE_KEY_USAGE,
            true,
            &KeyUsage(usage),
            "key usage",
        )?,
        ext(
            const_oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER,
            false,
            &SubjectKeyIdentifier(ski),
            "subject key identifier",
        )?,
        ext(
            const_oid::db::rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER,
            false,
            &aki,
            "authority key identifier",
        )?,
    ];
    if let (Kind::Slc(role), Some(identity)) = (kind, identity) {
        out.push(role.rights().to_extension()?);
        out.extend(identity.extensions()?);
    }
    Ok(out)
}

//! Test support: keys and certificates made in code with the x509-cert builder.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;
use std::sync::LazyLock;

use der::asn1::OctetString;
use der::{Decode, Encode};
use rms_cert::Rights;
use rms_chain::Cert;
use sha2::{Digest, Sha256, Sha384, Sha512};
use spki::{EncodePublicKey, SubjectPublicKeyInfoOwned};
use time::OffsetDateTime;
use time::macros::datetime;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

pub use x509_cert::der::flagset::FlagSet;

/// RSA-2048 keys, made once per test binary (key generation costs ~50 ms optimised).
static RSA_KEYS: [LazyLock<rsa::PrivateKey>; 4] = [
    LazyLock::new(new_rsa_2048),
    LazyLock::new(new_rsa_2048),
    LazyLock::new(new_rsa_2048),
    LazyLock::new(new_rsa_2048),
];

fn new_rsa_2048() -> rsa::PrivateKey {
    new_rsa(2048)
}

/// A fresh RSA key of `bits` bits.
/// The key as PKCS#8 DER, for rms-cert's signer.
pub fn pkcs8(key: &rsa::PrivateKey) -> Vec<u8> {
    use rsa::pkcs8::EncodePrivateKey;
    key.to_pkcs8_der().unwrap().as_bytes().to_vec()
}

pub fn new_rsa(bits: usize) -> rsa::PrivateKey {
    let mut rng = getrandom::rand_core::UnwrapErr(getrandom::SysRng);
    rsa::PrivateKey::new(&mut rng, bits).unwrap()
}

/// A signing key: RSA or ECDSA.
#[derive(Clone)]
pub enum Key {
    Rsa(rsa::PrivateKey),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

impl Key {
    /// RSA-2048 key number `i` (0 to 3) of this test binary.
    pub fn rsa(i: usize) -> Key {
        Key::Rsa(RSA_KEYS[i].clone())
    }

    /// A deterministic P-256 key; different seeds give different keys.
    pub fn p256(seed: u16) -> Key {
        let mut secret = [0u8; 32];
        secret[30..].copy_from_slice(&seed.to_be_bytes());
        secret[0] = 1;
        Key::P256(p256::ecdsa::SigningKey::from_slice(&secret).unwrap())
    }

    /// A deterministic P-384 key.
    pub fn p384(seed: u16) -> Key {
        let mut secret = [0u8; 48];
        secret[46..].copy_from_slice(&seed.to_be_bytes());
        secret[0] = 1;
        Key::P384(p384::ecdsa::SigningKey::from_slice(&secret).unwrap())
    }

    pub fn spki(&self) -> SubjectPublicKeyInfoOwned {
        let der = match self {
            Key::Rsa(k) => k.to_public_key().to_public_key_der().unwrap(),
            Key::P256(k) => k.verifying_key().to_public_key_der().unwrap(),
            Key::P384(k) => k.verifying_key().to_public_key_der().unwrap(),
        };
        SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).unwrap()
    }

    /// Key identifier: the first 20 octets of SHA-256 of the public key (RFC 7093 §2 (1)).
    pub fn key_id(&self) -> Vec<u8> {
        let spki = self.spki();
        Sha256::digest(spki.subject_public_key.raw_bytes())[..20].to_vec()
    }

    /// The natural signature algorithm of this key.
    pub fn default_alg(&self) -> Alg {
        match self {
            Key::Rsa(_) => Alg::Pkcs1(Hash::Sha256),
            Key::P256(_) => Alg::Ecdsa,
            Key::P384(_) => Alg::Ecdsa,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

/// How a certificate is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Pkcs1(Hash),
    Pss(Hash),
    /// ECDSA with SHA-256 on P-256, SHA-384 on P-384.
    Ecdsa,
}

/// What the builder profile puts in the certificate.
struct Profile {
    subject: Name,
    issuer: Name,
    extensions: Vec<Extension>,
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

/// An extension with a DER value.
pub fn extension(oid: &str, critical: bool, value: &impl Encode) -> Extension {
    Extension {
        extn_id: const_oid::ObjectIdentifier::new(oid).unwrap(),
        critical,
        extn_value: OctetString::new(value.to_der().unwrap()).unwrap(),
    }
}

/// A certificate to be made.
#[derive(Clone)]
pub struct Spec {
    subject: String,
    issuer: Option<String>,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    basic_constraints: Option<(bool, Option<u8>)>,
    key_usage: Option<FlagSet<KeyUsages>>,
    rights: Option<Rights>,
    key_ids: bool,
    authority_key_id: Option<Vec<u8>>,
    extra: Vec<Extension>,
    serial: u32,
    alg: Option<Alg>,
}

impl Spec {
    /// A certificate for `subject`, valid 2020 to 2040, without extensions but key
    /// identifiers; self-issued unless [`Spec::issuer`] is set.
    pub fn new(subject: &str) -> Spec {
        Spec {
            subject: subject.to_owned(),
            issuer: None,
            not_before: datetime!(2020-01-01 00:00 UTC),
            not_after: datetime!(2040-01-01 00:00 UTC),
            basic_constraints: None,
            key_usage: None,
            rights: None,
            key_ids: true,
            authority_key_id: None,
            extra: Vec::new(),
            serial: 1,
            alg: None,
        }
    }

    /// A CA: basicConstraints cA with `path_len`, keyUsage keyCertSign and cRLSign.
    pub fn ca(subject: &str, path_len: Option<u8>) -> Spec {
        Spec::new(subject)
            .basic_constraints(true, path_len)
            .key_usage(KeyUsages::KeyCertSign | KeyUsages::CRLSign | KeyUsages::DigitalSignature)
    }

    pub fn issuer(mut self, issuer: &str) -> Spec {
        self.issuer = Some(issuer.to_owned());
        self
    }

    pub fn validity(mut self, not_before: OffsetDateTime, not_after: OffsetDateTime) -> Spec {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }

    pub fn basic_constraints(mut self, ca: bool, path_len: Option<u8>) -> Spec {
        self.basic_constraints = Some((ca, path_len));
        self
    }

    pub fn no_basic_constraints(mut self) -> Spec {
        self.basic_constraints = None;
        self
    }

    pub fn key_usage(mut self, usage: impl Into<FlagSet<KeyUsages>>) -> Spec {
        self.key_usage = Some(usage.into());
        self
    }

    pub fn rights(mut self, rights: Rights) -> Spec {
        self.rights = Some(rights);
        self
    }

    /// Leaves out the subject and authority key identifiers.
    pub fn no_key_ids(mut self) -> Spec {
        self.key_ids = false;
        self
    }

    /// Uses this authority key identifier instead of the issuer key's.
    pub fn authority_key_id(mut self, id: Vec<u8>) -> Spec {
        self.authority_key_id = Some(id);
        self
    }

    pub fn extension(mut self, ext: Extension) -> Spec {
        self.extra.push(ext);
        self
    }

    pub fn serial(mut self, serial: u32) -> Spec {
        self.serial = serial;
        self
    }

    pub fn alg(mut self, alg: Alg) -> Spec {
        self.alg = Some(alg);
        self
    }

    /// Signs the certificate of `subject_key` with `issuer_key`; returns its DER.
    pub fn sign_der(&self, subject_key: &Key, issuer_key: &Key) -> Vec<u8> {
        let mut extensions = Vec::new();
        if let Some((ca, path_len)) = self.basic_constraints {
            let bc = BasicConstraints {
                ca,
                path_len_constraint: path_len,
            };
            extensions.push(extension("2.5.29.19", true, &bc));
        }
        if let Some(usage) = self.key_usage {
            extensions.push(extension("2.5.29.15", true, &KeyUsage(usage)));
        }
        if self.key_ids {
            let ski = SubjectKeyIdentifier(OctetString::new(subject_key.key_id()).unwrap());
            extensions.push(extension("2.5.29.14", false, &ski));
            let aki = AuthorityKeyIdentifier {
                key_identifier: Some(
                    OctetString::new(
                        self.authority_key_id
                            .clone()
                            .unwrap_or_else(|| issuer_key.key_id()),
                    )
                    .unwrap(),
                ),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            };
            extensions.push(extension("2.5.29.35", false, &aki));
        }
        if let Some(rights) = self.rights {
            extensions.push(rights.to_extension().unwrap());
        }
        extensions.extend(self.extra.iter().cloned());
        // An empty string is the empty name (RFC 4514 text cannot spell it).
        let subject = if self.subject.is_empty() {
            Name::default()
        } else {
            Name::from_str(&self.subject).unwrap()
        };
        let issuer = Name::from_str(self.issuer.as_deref().unwrap_or(&self.subject)).unwrap();
        let profile = Profile {
            subject,
            issuer,
            extensions,
        };
        let validity = rms_policy::to_x509_validity(
            &rms_policy::Validity::new(self.not_before, self.not_after).unwrap(),
        )
        .unwrap();
        let builder = CertificateBuilder::new(
            profile,
            SerialNumber::from(self.serial),
            validity,
            subject_key.spki(),
        )
        .unwrap();
        let alg = self.alg.unwrap_or_else(|| issuer_key.default_alg());
        let cert = match (issuer_key, alg) {
            (Key::Rsa(k), Alg::Pkcs1(Hash::Sha256)) => builder
                .build::<_, rsa::pkcs1v15::Signature>(&rsa::pkcs1v15::SigningKey::<Sha256>::new(
                    k.clone(),
                )),
            (Key::Rsa(k), Alg::Pkcs1(Hash::Sha384)) => builder
                .build::<_, rsa::pkcs1v15::Signature>(&rsa::pkcs1v15::SigningKey::<Sha384>::new(
                    k.clone(),
                )),
            (Key::Rsa(k), Alg::Pkcs1(Hash::Sha512)) => builder
                .build::<_, rsa::pkcs1v15::Signature>(&rsa::pkcs1v15::SigningKey::<Sha512>::new(
                    k.clone(),
                )),
            (Key::Rsa(k), Alg::Pss(Hash::Sha256)) => builder
                .build::<_, rsa::pss::Signature>(&rsa::pss::SigningKey::<Sha256>::new(k.clone())),
            (Key::Rsa(k), Alg::Pss(Hash::Sha384)) => builder
                .build::<_, rsa::pss::Signature>(&rsa::pss::SigningKey::<Sha384>::new(k.clone())),
            (Key::Rsa(k), Alg::Pss(Hash::Sha512)) => builder
                .build::<_, rsa::pss::Signature>(&rsa::pss::SigningKey::<Sha512>::new(k.clone())),
            (Key::P256(k), Alg::Ecdsa) => builder.build::<_, p256::ecdsa::DerSignature>(k),
            (Key::P384(k), Alg::Ecdsa) => builder.build::<_, p384::ecdsa::DerSignature>(k),
            (_, alg) => panic!("{alg:?} does not fit the issuer key"),
        }
        .unwrap();
        cert.to_der().unwrap()
    }

    /// Signs and reads back as a [`Cert`].
    pub fn sign(&self, subject_key: &Key, issuer_key: &Key) -> Cert {
        Cert::from_der(&self.sign_der(subject_key, issuer_key)).unwrap()
    }

    /// A self-signed certificate's DER.
    pub fn self_signed_der(&self, key: &Key) -> Vec<u8> {
        self.sign_der(key, key)
    }

    /// A self-signed certificate.
    pub fn self_signed(&self, key: &Key) -> Cert {
        self.sign(key, key)
    }
}

/// Flips one bit in the last octet (inside the signature) of a DER certificate.
pub fn flip_signature(der: &[u8]) -> Vec<u8> {
    let mut der = der.to_vec();
    if let Some(last) = der.last_mut() {
        *last ^= 0x01;
    }
    der
}

/// Our PKI in miniature: an enrollment authority (the trust anchor), a root SLC it signed, a
/// licensing SLC the root signed. Built with the given keys.
pub struct Pki {
    pub authority: Cert,
    pub root: Cert,
    pub licensing: Cert,
    pub authority_key: Key,
    pub root_key: Key,
    pub licensing_key: Key,
}

pub const AUTHORITY: &str = "CN=Enrollment Authority,O=RMS Test";
pub const ROOT: &str = "CN=Root Certification Server,O=RMS Test";
pub const LICENSING: &str = "CN=Licensing Server,O=RMS Test";

impl Pki {
    /// Authority valid 2020–2040; root SLC valid from `root_issued` for one year; licensing
    /// SLC valid from `licensing_issued` for one year.
    pub fn new(
        keys: [Key; 3],
        root_issued: OffsetDateTime,
        licensing_issued: OffsetDateTime,
    ) -> Pki {
        let [authority_key, root_key, licensing_key] = keys;
        let year = |t: OffsetDateTime| t.replace_year(t.year() + 1).unwrap();
        let authority = Spec::ca(AUTHORITY, None).self_signed(&authority_key);
        let root = Spec::ca(ROOT, Some(1))
            .issuer(AUTHORITY)
            .rights(Rights::ROOT)
            .validity(root_issued, year(root_issued))
            .serial(2)
            .sign(&root_key, &authority_key);
        let licensing = Spec::ca(LICENSING, Some(0))
            .issuer(ROOT)
            .rights(Rights::LICENSING)
            .validity(licensing_issued, year(licensing_issued))
            .serial(3)
            .sign(&licensing_key, &root_key);
        Pki {
            authority,
            root,
            licensing,
            authority_key,
            root_key,
            licensing_key,
        }
    }

    /// With RSA-2048 keys 0, 1, 2, root SLC issued 2030-01-01, licensing SLC 2030-02-01.
    pub fn rsa() -> Pki {
        Pki::new(
            [Key::rsa(0), Key::rsa(1), Key::rsa(2)],
            datetime!(2030-01-01 00:00 UTC),
            datetime!(2030-02-01 00:00 UTC),
        )
    }

    /// The same shape with P-256 keys (fast).
    pub fn p256() -> Pki {
        Pki::new(
            [Key::p256(1), Key::p256(2), Key::p256(3)],
            datetime!(2030-01-01 00:00 UTC),
            datetime!(2030-02-01 00:00 UTC),
        )
    }

    pub fn anchors(&self) -> rms_chain::TrustAnchors {
        rms_chain::TrustAnchors::from(rms_chain::TrustAnchor::new(self.authority.clone()))
    }
}

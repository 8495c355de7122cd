//! Issuing SLCs: serials, validity, the certificate profile, refusals.

use std::collections::HashSet;

use der::Encode;
use rms_cert::{
    CertError, Chain, Issuer, IssuerKind, Right, Rights, RsaSigner, ServerIdentity, ServerRole,
    Signer, certificate_from_der, certificate_from_pem, certificate_to_der, certificate_to_pem,
    oid,
};
use rms_policy::ValidityPolicy;
use time::macros::datetime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};

use crate::common::*;

fn basic(c: &Certificate) -> (bool, BasicConstraints) {
    c.tbs_certificate()
        .get_extension::<BasicConstraints>()
        .unwrap()
        .unwrap()
}

fn usage(c: &Certificate) -> (bool, KeyUsage) {
    c.tbs_certificate()
        .get_extension::<KeyUsage>()
        .unwrap()
        .unwrap()
}

fn ski(c: &Certificate) -> Vec<u8> {
    let (_, id) = c
        .tbs_certificate()
        .get_extension::<SubjectKeyIdentifier>()
        .unwrap()
        .unwrap();
    id.0.as_bytes().to_vec()
}

fn aki(c: &Certificate) -> Vec<u8> {
    let (_, id) = c
        .tbs_certificate()
        .get_extension::<AuthorityKeyIdentifier>()
        .unwrap()
        .unwrap();
    id.key_identifier.unwrap().as_bytes().to_vec()
}

#[test]
fn the_authority_profile() {
    let a = PKI.authority.certificate();
    let tbs = a.tbs_certificate();
    assert_eq!(tbs.version(), x509_cert::certificate::Version::V3);
    assert_eq!(tbs.issuer(), tbs.subject());
    assert_eq!(
        tbs.subject().to_string(),
        "CN=Test Enrollment Authority,O=RMS Tests"
    );
    let (critical, bc) = basic(a);
    assert!(critical && bc.ca);
    assert_eq!(bc.path_len_constraint, Some(1));
    let (critical, ku) = usage(a);
    assert!(critical);
    assert_eq!(ku.0, KeyUsages::KeyCertSign | KeyUsages::CRLSign);
    assert_eq!(ski(a), aki(a));
    assert_eq!(PKI.authority.kind(), IssuerKind::EnrollmentAuthority);
    assert_eq!(PKI.authority.rights(), Rights::NONE);
    let v = PKI.authority.validity();
    assert_eq!(v.not_before(), NOW);
    assert_eq!(v.not_after(), datetime!(2046-03-10 09:30:00 UTC));
}

#[test]
fn the_root_and_licensing_slc_profiles() {
    let root = PKI.root.certificate();
    let licensing = PKI.licensing.certificate();
    let (critical, bc) = basic(root);
    assert!(critical && bc.ca);
    assert_eq!(bc.path_len_constraint, Some(0));
    assert_eq!(
        usage(root).1.0,
        KeyUsages::DigitalSignature | KeyUsages::KeyCertSign | KeyUsages::CRLSign
    );
    let (critical, bc) = basic(licensing);
    assert!(critical && !bc.ca);
    assert_eq!(bc.path_len_constraint, None);
    let (critical, ku) = usage(licensing);
    assert!(critical);
    assert!(ku.digital_signature() && !ku.key_cert_sign() && !ku.crl_sign());
    // Key identifiers link the chain.
    assert_eq!(aki(root), ski(PKI.authority.certificate()));
    assert_eq!(aki(licensing), ski(root));
    // Rights, role, id and URL.
    let exts = |c: &Certificate| c.tbs_certificate().extensions().unwrap().clone();
    assert_eq!(
        Rights::from_extensions(&exts(root)).unwrap(),
        Some(Rights::ROOT)
    );
    assert_eq!(
        Rights::from_extensions(&exts(licensing)).unwrap(),
        Some(Rights::LICENSING)
    );
    for c in [root, licensing] {
        for e in exts(c) {
            // Only basicConstraints and keyUsage are critical: OpenSSL must not choke on ours.
            let expected = e.extn_id == const_oid::db::rfc5280::ID_CE_BASIC_CONSTRAINTS
                || e.extn_id == const_oid::db::rfc5280::ID_CE_KEY_USAGE;
            assert_eq!(e.critical, expected, "{}", e.extn_id);
        }
    }
    let identity = ServerIdentity::from_certificate(licensing).unwrap();
    assert_eq!(identity.role(), ServerRole::LicensingServer);
    assert_eq!(
        identity.url(),
        "https://licensing.example.com/_wmcs/certification"
    );
    assert_eq!(PKI.root.kind(), IssuerKind::RootCertificationServer);
    assert_eq!(PKI.licensing.kind(), IssuerKind::LicensingServer);
    assert!(exts(root).iter().any(|e| e.extn_id == oid::SERVER_ID));
    // Issuer and subject names.
    assert_eq!(
        licensing.tbs_certificate().issuer(),
        root.tbs_certificate().subject()
    );
    assert_eq!(
        licensing.tbs_certificate().subject().to_string(),
        "CN=licensing"
    );
    // The chain as returned: [licensing SLC, root SLC, authority].
    let chain = PKI.licensing.chain();
    assert_eq!(chain.len(), 3);
    assert_eq!(chain.certificates()[1], *root);
    assert_eq!(chain.anchor(), PKI.authority.certificate());
}

#[test]
fn serials_are_positive_short_and_unique() {
    let request = checked("licensing", ServerRole::LicensingServer, &key(2));
    let mut seen = HashSet::new();
    for _ in 0..1000 {
        let chain = PKI.root.issue_slc(&request, NOW).unwrap();
        let serial = chain.leaf().tbs_certificate().serial_number();
        let der = serial.to_der().unwrap();
        assert!(der[1] as usize <= 20, "at most 20 octets");
        assert_eq!(der[2] & 0x80, 0, "positive");
        assert!(seen.insert(serial.as_bytes().to_vec()), "duplicate serial");
    }
}

#[test]
fn validity_is_one_calendar_year() {
    let leap = datetime!(2028-02-29 12:00:00 UTC);
    let pki = pki_at(leap);
    let v = pki.licensing.validity();
    assert_eq!(v.not_before(), leap);
    assert_eq!(v.not_after(), datetime!(2029-02-28 12:00:00 UTC));
    let v = pki.root.validity();
    assert_eq!(v.not_after(), datetime!(2029-02-28 12:00:00 UTC));
    // Far in the future the times switch to GeneralizedTime, as RFC 5280 requires.
    let late = pki_at(datetime!(2049-06-01 00:00:00 UTC));
    let der = late.licensing.certificate().to_der().unwrap();
    assert!(
        der.windows(2).any(|w| w == [0x18, 0x0f]),
        "GeneralizedTime for 2050"
    );
}

#[test]
fn wrong_roles_are_refused() {
    let licensing_req = checked("l", ServerRole::LicensingServer, &key(4));
    let root_req = checked("r", ServerRole::RootCertificationServer, &key(4));
    let err = PKI.authority.issue_slc(&licensing_req, NOW).unwrap_err();
    assert!(
        matches!(
            err,
            CertError::WrongRole {
                issuer: IssuerKind::EnrollmentAuthority,
                requested: ServerRole::LicensingServer
            }
        ),
        "{err}"
    );
    let err = PKI.root.issue_slc(&root_req, NOW).unwrap_err();
    assert!(matches!(err, CertError::WrongRole { .. }), "{err}");
}

#[test]
fn an_issuer_without_the_sub_enroll_right_is_refused() {
    let req = checked("l2", ServerRole::LicensingServer, &key(4));
    let err = PKI.licensing.issue_slc(&req, NOW).unwrap_err();
    assert!(
        matches!(
            err,
            CertError::MissingRight {
                right: Right::SubEnroll,
                held: Rights::LICENSING,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("sub-enroll"), "{err}");
}

#[test]
fn issuers_must_be_valid_hold_their_key_and_not_certify_themselves() {
    let req = checked("l3", ServerRole::LicensingServer, &key(4));
    let err = PKI
        .root
        .issue_slc(&req, NOW + time::Duration::days(366))
        .unwrap_err();
    assert!(matches!(err, CertError::IssuerNotValid { .. }), "{err}");
    let err = PKI
        .root
        .issue_slc(&req, NOW - time::Duration::seconds(1))
        .unwrap_err();
    assert!(matches!(err, CertError::IssuerNotValid { .. }), "{err}");
    // The root's own key in a request.
    let own = checked("self", ServerRole::LicensingServer, &key(1));
    assert!(matches!(
        PKI.root.issue_slc(&own, NOW),
        Err(CertError::SameKey)
    ));
    // A signer that does not match the certificate.
    let err = Issuer::new(key(4), PKI.root.chain().clone()).unwrap_err();
    assert!(matches!(err, CertError::SignerMismatch { .. }), "{err}");
    // A policy with other lifetimes.
    let short = PKI.root.clone().with_policy(ValidityPolicy {
        slc: "30d".parse().unwrap(),
        ..ValidityPolicy::default()
    });
    let chain = short.issue_slc(&req, NOW).unwrap();
    let v = rms_policy::from_x509_validity(chain.leaf().tbs_certificate().validity()).unwrap();
    assert_eq!(v.not_after() - v.not_before(), time::Duration::days(30));
}

#[test]
fn certificates_and_chains_in_and_out() {
    for c in PKI.licensing.chain().certificates() {
        let der = certificate_to_der(c).unwrap();
        assert_eq!(certificate_from_der(&der).unwrap(), *c);
        let pem = certificate_to_pem(c).unwrap();
        assert_eq!(certificate_from_pem(&pem).unwrap(), *c);
        let mut trailing = der.clone();
        trailing.push(0);
        assert!(matches!(
            certificate_from_der(&trailing),
            Err(CertError::TrailingData { extra: 1, .. })
        ));
    }
    let chain = PKI.licensing.chain();
    let pem = chain.to_pem().unwrap();
    assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----").count(), 3);
    assert_eq!(Chain::from_pem(&pem).unwrap(), *chain);
    assert_eq!(Chain::from_der(&chain.to_der().unwrap()).unwrap(), *chain);
    assert!(matches!(Chain::new(vec![]), Err(CertError::EmptyChain)));
    let dup = vec![chain.leaf().clone(), chain.leaf().clone()];
    assert!(Chain::new(dup).is_err());
    assert!(Chain::from_pem("").is_err());
}

#[test]
fn keys_in_and_out() {
    let k = key(4);
    let pem = k.to_pkcs8_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(
        RsaSigner::from_pkcs8_pem(&pem).unwrap().public_key(),
        k.public_key()
    );
    let der = k.to_pkcs8_der().unwrap();
    assert_eq!(
        RsaSigner::from_pkcs8_der(&der).unwrap().public_key(),
        k.public_key()
    );
    let enc = k.to_encrypted_pkcs8_der(b"pw").unwrap();
    assert_eq!(
        RsaSigner::from_encrypted_pkcs8_der(&enc, b"pw")
            .unwrap()
            .public_key(),
        k.public_key()
    );
    assert!(RsaSigner::from_encrypted_pkcs8_der(&enc, b"wrong").is_err());
    assert!(RsaSigner::from_pkcs8_der(&enc).is_err());
    assert_eq!(k.bits(), 2048);
    let big = RsaSigner::generate(3072).unwrap();
    assert_eq!(big.bits(), 3072);
}

#[test]
fn a_key_opened_from_a_stored_reference_issues() {
    use std::sync::Arc;

    use rms_keys::{KeyReference, PrivateKey};

    // What a cluster stores for its key, and opens again: any PrivateKey signs as an issuer.
    let stored = key(1).to_reference(b"cluster secret").unwrap().to_stored();
    let opened: Arc<dyn PrivateKey> = KeyReference::from_stored(&stored)
        .unwrap()
        .open(b"cluster secret")
        .unwrap();
    let signer: Arc<dyn Signer> = opened.clone();
    let authority = Issuer::create_authority(
        "CN=Reopened Authority".parse().unwrap(),
        signer,
        ValidityPolicy::default(),
        NOW,
    )
    .unwrap();
    let spki = authority
        .certificate()
        .tbs_certificate()
        .subject_public_key_info();
    assert_eq!(spki, &opened.public_key());
    assert_eq!(spki, &Signer::public_key(key(1).as_ref()));
}

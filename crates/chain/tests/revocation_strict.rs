//! [`RevocationPolicy::RequireCurrent`] on our own PKI (lists made by rms-cert) and on lists
//! made here: missing or stale data is a failure, a revocation refuses as
//! [`Revocations`](rms_chain::Revocations) does, and nothing is cached.

use std::str::FromStr;
use std::sync::Arc;

use der::Encode;
use der::asn1::BitString;
use rms_cert::{RevocationList, RevocationReason, RevokedEntry};
use rms_chain::{
    ChainError, Crl, CrlSet, Position, RevocationPolicy, Verifier, VerifyOptions, verify_license,
    verify_path,
};
use rms_policy::ValidationModel;
use signature::Signer;
use spki::AlgorithmIdentifierOwned;
use time::{Duration, OffsetDateTime};
use x509_cert::crl::{CertificateList, TbsCertList};
use x509_cert::name::Name;
use x509_cert::time::Time;

use crate::common::Key;
use crate::revocation::{AFTER, BEFORE, CHECKED, LISTED, PKI, REVOKED, anchors, cert, serial_of};

/// An empty v2 list of `issuer`, signed with the P-256 `key`.
pub(crate) fn empty_crl(
    key: &Key,
    issuer: &str,
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
) -> Vec<u8> {
    let Key::P256(signing) = key else {
        panic!("P-256 keys only")
    };
    let algorithm = AlgorithmIdentifierOwned {
        oid: const_oid::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2"),
        parameters: None,
    };
    let time = |t: OffsetDateTime| {
        Time::try_from(
            std::time::UNIX_EPOCH
                + std::time::Duration::from_secs(u64::try_from(t.unix_timestamp()).unwrap()),
        )
        .unwrap()
    };
    let tbs: TbsCertList = TbsCertList {
        version: x509_cert::Version::V2,
        signature: algorithm.clone(),
        issuer: Name::from_str(issuer).unwrap(),
        this_update: time(this_update),
        next_update: Some(time(next_update)),
        revoked_certificates: None,
        crl_extensions: None,
    };
    let signature: p256::ecdsa::DerSignature = signing.sign(&tbs.to_der().unwrap());
    let list: CertificateList = CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: algorithm,
        signature: BitString::from_bytes(signature.to_bytes().as_ref()).unwrap(),
    };
    list.to_der().unwrap()
}

fn required(model: ValidationModel, lists: &[&RevocationList]) -> VerifyOptions {
    let crls: CrlSet = lists
        .iter()
        .map(|l| Crl::from_revocation_list(l).unwrap())
        .collect();
    VerifyOptions::new()
        .with_model(model)
        .with_revocation_policy(RevocationPolicy::RequireCurrent(Arc::new(crls)))
}

fn list(by: &rms_cert::Issuer, entries: &[RevokedEntry]) -> RevocationList {
    by.issue_crl(entries, 1, LISTED, LISTED + Duration::days(60))
        .unwrap()
}

#[test]
fn every_certificate_needs_a_current_list() {
    let authority_list = list(&PKI.authority, &[]);
    let root_list = list(&PKI.root, &[]);
    let pool = [cert(&PKI.root)];
    let leaf = cert(&PKI.licensing);
    let both = required(ValidationModel::Chain, &[&authority_list, &root_list]);
    verify_path(&leaf, &pool, &anchors(), CHECKED, &both).unwrap();

    // Without the authority's list, the root SLC's status is unknown.
    let only_root = required(ValidationModel::Chain, &[&root_list]);
    let err = verify_path(&leaf, &pool, &anchors(), CHECKED, &only_root).unwrap_err();
    assert!(
        matches!(&err, ChainError::RevocationStatusUnknown { cert, reason }
            if cert.position() == Position::Path(1) && reason.contains("no revocation list")),
        "{err}"
    );
    // After the lists' nextUpdate, nothing is current.
    let late = LISTED + Duration::days(61);
    let err = verify_path(&leaf, &pool, &anchors(), late, &both).unwrap_err();
    assert!(
        matches!(&err, ChainError::RevocationStatusUnknown { reason, .. } if reason.contains("nextUpdate")),
        "{err}"
    );
    // The default policy applies only the lists given: none, so the path is fine.
    verify_path(&leaf, &pool, &anchors(), CHECKED, &VerifyOptions::new()).unwrap();
}

#[test]
fn revocations_refuse_as_under_the_default_policy() {
    let authority_list = list(&PKI.authority, &[]);
    let superseded = RevokedEntry::new(
        serial_of(&PKI.licensing),
        REVOKED,
        RevocationReason::Superseded,
    );
    let root_list = list(&PKI.root, &[superseded]);
    let chain = required(ValidationModel::Chain, &[&authority_list, &root_list]);
    // A license signed before the licensing SLC was superseded stays valid; one after is not.
    verify_license(&PKI.before, &[], &anchors(), CHECKED, &chain).unwrap();
    let err = verify_license(&PKI.after, &[], &anchors(), CHECKED, &chain).unwrap_err();
    assert!(
        matches!(&err, ChainError::Revoked { cert, used_at, .. }
            if cert.position() == Position::Path(0) && *used_at == AFTER),
        "{err}"
    );
    assert!(BEFORE < REVOKED);

    let compromised = RevokedEntry::new(
        serial_of(&PKI.licensing),
        REVOKED,
        RevocationReason::KeyCompromise,
    );
    let root_list = list(&PKI.root, &[compromised]);
    let chain = required(ValidationModel::Chain, &[&authority_list, &root_list]);
    let err = verify_license(&PKI.before, &[], &anchors(), CHECKED, &chain).unwrap_err();
    assert!(
        matches!(err, ChainError::RevokedKeyCompromise { .. }),
        "{err}"
    );
}

#[test]
fn a_list_whose_signature_fails_is_not_used() {
    let authority_list = list(&PKI.authority, &[]);
    let mut der = list(&PKI.root, &[]).to_der().unwrap();
    let last = der.len() - 1;
    der[last] ^= 1;
    let crls: CrlSet = [
        Crl::from_revocation_list(&authority_list).unwrap(),
        Crl::from_der(&der).unwrap(),
    ]
    .into_iter()
    .collect();
    let options = VerifyOptions::new()
        .with_revocation_policy(RevocationPolicy::RequireCurrent(Arc::new(crls)));
    let err = verify_path(
        &cert(&PKI.licensing),
        &[cert(&PKI.root)],
        &anchors(),
        CHECKED,
        &options,
    )
    .unwrap_err();
    assert!(
        matches!(&err, ChainError::RevocationStatusUnknown { cert, reason }
            if cert.position() == Position::Path(0) && reason.contains("signature")),
        "{err}"
    );
}

#[test]
fn the_verifier_does_not_cache_under_require_current() {
    let authority_list = list(&PKI.authority, &[]);
    let root_list = list(&PKI.root, &[]);
    let verifier = Verifier::new(
        anchors(),
        required(ValidationModel::Chain, &[&authority_list, &root_list]),
    );
    verifier.verify_license(&PKI.before, &[], CHECKED).unwrap();
    verifier.verify_license(&PKI.before, &[], CHECKED).unwrap();
    assert_eq!(verifier.cached_paths(), 0);
    let late = LISTED + Duration::days(61);
    assert!(matches!(
        verifier.verify_license(&PKI.before, &[], late),
        Err(ChainError::RevocationStatusUnknown { .. })
    ));
}

#[test]
fn malformed_lists_are_refused_when_read() {
    assert!(matches!(
        Crl::from_der(&[0x30, 0x03, 0x02, 0x01, 0x01]),
        Err(ChainError::InvalidCrl { .. })
    ));
    let key = Key::p256(600);
    let der = empty_crl(&key, "CN=Anchor", CHECKED, CHECKED + Duration::days(1));
    let crl = Crl::from_der(&der).unwrap();
    assert!(!crl.is_delta());
    assert_eq!(crl.this_update(), CHECKED);
    let mut trailing = der.clone();
    trailing.push(0);
    assert!(matches!(
        Crl::from_der(&trailing),
        Err(ChainError::InvalidCrl { .. })
    ));
}

//! Certificate revocation lists: issuing, reading back, refusals, OpenSSL both ways.

use der::{Decode, Encode};
use rms_cert::{
    CertError, RevocationList, RevocationReason, RevokedEntry, SerialNumber, certificate_to_pem,
};
use time::Duration;
use time::macros::datetime;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::time::Time;

use crate::common::*;
use crate::requests::ext;

fn serial(i: u8) -> SerialNumber {
    SerialNumber::from_be_bytes(&[0x40, i, 0x11, 0x22]).unwrap()
}

fn entries() -> Vec<RevokedEntry> {
    vec![
        RevokedEntry::new(
            serial(1),
            NOW + Duration::days(10),
            RevocationReason::Superseded,
        ),
        RevokedEntry::new(
            serial(2),
            NOW + Duration::days(11),
            RevocationReason::KeyCompromise,
        ),
        RevokedEntry::new(
            serial(3),
            NOW + Duration::days(12),
            RevocationReason::Unspecified,
        ),
    ]
}

/// The root's list of three revocations, issued 20 days after [`NOW`].
pub(crate) fn root_crl() -> RevocationList {
    PKI.root
        .issue_crl(
            &entries(),
            42,
            NOW + Duration::days(20),
            NOW + Duration::days(27),
        )
        .unwrap()
}

fn ski(issuer: &rms_cert::Issuer) -> Vec<u8> {
    let (_, id) = issuer
        .certificate()
        .tbs_certificate()
        .get_extension::<SubjectKeyIdentifier>()
        .unwrap()
        .unwrap();
    id.0.as_bytes().to_vec()
}

#[test]
fn a_root_issues_a_crl_that_reads_back() {
    let crl = root_crl();
    assert_eq!(crl.crl_number(), 42);
    assert_eq!(crl.this_update(), NOW + Duration::days(20));
    assert_eq!(crl.next_update(), NOW + Duration::days(27));
    assert_eq!(crl.issuer(), PKI.root.subject());
    assert_eq!(crl.entries(), entries().as_slice());
    assert_eq!(
        crl.entry(&serial(2)).unwrap().reason,
        RevocationReason::KeyCompromise
    );
    assert!(crl.entry(&serial(9)).is_none());
    assert_eq!(crl.authority_key_id(), Some(ski(&PKI.root).as_slice()));
    assert_eq!(
        crl.signature_algorithm(),
        &rms_cert::Signer::algorithm(key(1).as_ref())
    );
    // In and out.
    let pem = crl.to_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN X509 CRL-----\n"));
    assert_eq!(RevocationList::from_pem(&pem).unwrap(), crl);
    assert_eq!(
        RevocationList::from_der(&crl.to_der().unwrap()).unwrap(),
        crl
    );
    // The structure: v2, reasonCode on every entry but the unspecified one, extensions not
    // critical.
    let list = crl.as_certificate_list();
    assert_eq!(list.tbs_cert_list.version, x509_cert::Version::V2);
    let revoked = list.tbs_cert_list.revoked_certificates.as_ref().unwrap();
    assert!(revoked[0].crl_entry_extensions.is_some());
    assert!(revoked[2].crl_entry_extensions.is_none());
    for e in list.tbs_cert_list.crl_extensions.as_ref().unwrap() {
        assert!(!e.critical);
    }
    assert_eq!(crl.tbs_der(), list.tbs_cert_list.to_der().unwrap());
}

#[test]
fn the_authority_issues_crls_and_times_follow_rfc_5280() {
    // An empty list has no revokedCertificates at all; after 2049 the times are
    // GeneralizedTime.
    let crl = PKI
        .authority
        .issue_crl(
            &[],
            1,
            datetime!(2045-01-01 00:00 UTC),
            datetime!(2050-01-02 00:00 UTC),
        )
        .unwrap();
    let tbs = &crl.as_certificate_list().tbs_cert_list;
    assert!(tbs.revoked_certificates.is_none());
    assert!(matches!(tbs.this_update, Time::UtcTime(_)));
    assert!(matches!(tbs.next_update, Some(Time::GeneralTime(_))));
    assert_eq!(crl.issuer(), PKI.authority.subject());
    assert!(crl.entries().is_empty());
}

#[test]
fn crl_issuance_refusals() {
    let at = NOW + Duration::days(1);
    let err = PKI
        .licensing
        .issue_crl(&[], 1, at, at + Duration::days(1))
        .unwrap_err();
    assert!(
        matches!(&err, CertError::IssuerCertificate { reason, .. } if reason.contains("cRLSign")),
        "{err}"
    );
    let err = PKI.root.issue_crl(&[], 1, at, at).unwrap_err();
    assert!(matches!(err, CertError::CrlInput { .. }), "{err}");
    let twice = [entries()[0].clone(), entries()[0].clone()];
    let err = PKI
        .root
        .issue_crl(
            &twice,
            1,
            NOW + Duration::days(20),
            NOW + Duration::days(21),
        )
        .unwrap_err();
    assert!(err.to_string().contains("listed twice"), "{err}");
    let err = PKI
        .root
        .issue_crl(&entries(), 1, at, at + Duration::days(1))
        .unwrap_err();
    assert!(err.to_string().contains("after thisUpdate"), "{err}");
    let late = NOW + Duration::days(400);
    let err = PKI
        .root
        .issue_crl(&[], 1, late, late + Duration::days(1))
        .unwrap_err();
    assert!(matches!(err, CertError::IssuerNotValid { .. }), "{err}");
}

/// Changes the decoded list and encodes it again (the signature no longer matters: decoding
/// does not check it).
fn tampered(change: impl FnOnce(&mut CertificateList)) -> Result<RevocationList, CertError> {
    let mut list = CertificateList::from_der(&root_crl().to_der().unwrap()).unwrap();
    change(&mut list);
    RevocationList::from_der(&list.to_der().unwrap())
}

fn refused_because(result: Result<RevocationList, CertError>, why: &str) {
    match result {
        Err(CertError::InvalidCrl { reason }) => assert!(reason.contains(why), "{reason}"),
        other => panic!("expected InvalidCrl ({why}), got {other:?}"),
    }
}

#[test]
fn unacceptable_crls_are_refused() {
    let hold = der::asn1::Any::new(der::Tag::Enumerated, [6u8]).unwrap();
    refused_because(
        tampered(|l| {
            let entry = &mut l.tbs_cert_list.revoked_certificates.as_mut().unwrap()[0];
            entry.crl_entry_extensions = Some(vec![ext(
                const_oid::db::rfc5280::ID_CE_CRL_REASONS,
                false,
                &hold.to_der().unwrap(),
            )]);
        }),
        "not supported",
    );
    refused_because(
        tampered(|l| {
            let entry = &mut l.tbs_cert_list.revoked_certificates.as_mut().unwrap()[1];
            // certificateIssuer: an indirect list.
            entry
                .crl_entry_extensions
                .get_or_insert_with(Vec::new)
                .push(ext(
                    const_oid::db::rfc5280::ID_CE_CERTIFICATE_ISSUER,
                    true,
                    &[0x30, 0x00],
                ));
        }),
        "entry 1",
    );
    refused_because(
        tampered(|l| {
            l.tbs_cert_list.crl_extensions.as_mut().unwrap().push(ext(
                const_oid::db::rfc5280::ID_CE_DELTA_CRL_INDICATOR,
                true,
                &[0x02, 0x01, 0x01],
            ));
        }),
        "unsupported critical extension",
    );
    refused_because(
        tampered(|l| {
            // The first is the cRLNumber.
            l.tbs_cert_list.crl_extensions.as_mut().unwrap().remove(0);
        }),
        "cRLNumber is missing",
    );
    refused_because(
        tampered(|l| {
            let first = l.tbs_cert_list.crl_extensions.as_ref().unwrap()[0].clone();
            l.tbs_cert_list.crl_extensions.as_mut().unwrap().push(first);
        }),
        "more than once",
    );
    refused_because(
        tampered(|l| l.tbs_cert_list.next_update = None),
        "nextUpdate is missing",
    );
    refused_because(
        tampered(|l| {
            let entries = l.tbs_cert_list.revoked_certificates.as_mut().unwrap();
            let first = entries[0].clone();
            entries.push(first);
        }),
        "listed twice",
    );
    refused_because(
        tampered(|l| {
            l.signature_algorithm.oid = const_oid::db::rfc5912::SHA_512_WITH_RSA_ENCRYPTION;
        }),
        "signatureAlgorithm differs",
    );
    refused_because(
        tampered(|l| l.tbs_cert_list.version = x509_cert::Version::V3),
        "not v2",
    );
    let err =
        RevocationList::from_pem(&certificate_to_pem(PKI.root.certificate()).unwrap()).unwrap_err();
    assert!(matches!(err, CertError::Decode { .. }), "{err}");
}

#[test]
fn openssl_verifies_and_prints_our_crl() {
    if !have_openssl("openssl_verifies_and_prints_our_crl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("root_slc.pem"),
        certificate_to_pem(PKI.root.certificate()).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.path().join("crl.pem"), root_crl().to_pem().unwrap()).unwrap();
    let out = openssl(
        dir.path(),
        &[
            "crl",
            "-in",
            "crl.pem",
            "-CAfile",
            "root_slc.pem",
            "-verify",
            "-noout",
        ],
    );
    assert_ok(&out, "openssl crl -verify");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("verify OK"), "{said}");

    let out = openssl(dir.path(), &["crl", "-in", "crl.pem", "-noout", "-text"]);
    assert_ok(&out, "openssl crl -text");
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "Version 2",
        "X509v3 CRL Number",
        "42",
        "40011122",
        "40021122",
        "40031122",
        "Superseded",
        "Key Compromise",
        "X509v3 Authority Key Identifier",
        "Issuer: CN = root",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    // Only two of the three entries carry a reason.
    assert_eq!(text.matches("CRL Reason Code").count(), 2, "{text}");

    // Another key's certificate does not verify it.
    std::fs::write(
        dir.path().join("authority.pem"),
        certificate_to_pem(PKI.authority.certificate()).unwrap(),
    )
    .unwrap();
    let out = openssl(
        dir.path(),
        &[
            "crl",
            "-in",
            "crl.pem",
            "-CAfile",
            "authority.pem",
            "-verify",
            "-noout",
        ],
    );
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!said.contains("verify OK"), "{said}");
}

/// `openssl ca -gencrl` from a hand-written index: the list OpenSSL makes reads as ours.
#[test]
fn openssl_made_crls_are_accepted() {
    if !have_openssl("openssl_made_crls_are_accepted") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    std::fs::write(
        path.join("root_slc.pem"),
        certificate_to_pem(PKI.root.certificate()).unwrap(),
    )
    .unwrap();
    std::fs::write(path.join("root_key.pem"), key(1).to_pkcs8_pem().unwrap()).unwrap();
    // index.txt: status, expiry, revocation time[,reason], serial, file, subject.
    let index = "R\t301231000000Z\t260320101500Z,keyCompromise\t40011122\tunknown\t/CN=a\n\
                 R\t301231000000Z\t260321101500Z,superseded\t40021122\tunknown\t/CN=b\n\
                 R\t301231000000Z\t260322101500Z,CACompromise\t40031122\tunknown\t/CN=c\n\
                 V\t301231000000Z\t\t40041122\tunknown\t/CN=d\n";
    std::fs::write(path.join("index.txt"), index).unwrap();
    std::fs::write(path.join("crlnumber"), "07\n").unwrap();
    let config = "[ ca ]\ndefault_ca = root\n\n[ root ]\ndatabase = index.txt\n\
                  crlnumber = crlnumber\ndefault_md = sha256\ndefault_crl_days = 7\n\
                  crl_extensions = crl_ext\n\n[ crl_ext ]\nauthorityKeyIdentifier = keyid:always\n";
    std::fs::write(path.join("ca.cnf"), config).unwrap();
    let out = openssl(
        path,
        &[
            "ca",
            "-gencrl",
            "-config",
            "ca.cnf",
            "-cert",
            "root_slc.pem",
            "-keyfile",
            "root_key.pem",
            "-out",
            "crl.pem",
        ],
    );
    assert_ok(&out, "openssl ca -gencrl");
    let crl =
        RevocationList::from_pem(&std::fs::read_to_string(path.join("crl.pem")).unwrap()).unwrap();
    assert_eq!(crl.crl_number(), 7);
    assert_eq!(crl.issuer(), PKI.root.subject());
    assert_eq!(crl.authority_key_id(), Some(ski(&PKI.root).as_slice()));
    assert_eq!(crl.next_update() - crl.this_update(), Duration::days(7));
    let found: Vec<(String, RevocationReason)> = crl
        .entries()
        .iter()
        .map(|e| (e.serial.to_string(), e.reason))
        .collect();
    assert_eq!(
        found,
        [
            ("40011122".to_owned(), RevocationReason::KeyCompromise),
            ("40021122".to_owned(), RevocationReason::Superseded),
            ("40031122".to_owned(), RevocationReason::CaCompromise),
        ]
    );
    assert_eq!(
        crl.entries()[0].revoked_at,
        datetime!(2026-03-20 10:15:00 UTC)
    );
}

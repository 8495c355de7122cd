//! Renewal requests: renewal with the same key, rekey, and each way a request is refused.

use rms_cert::{
    CertError, EnrollmentRequest, RenewalRequest, RequestError, RsaSigner, ServerIdentity,
    ServerRole, Signer, certificate_to_der,
};
use time::Duration;
use x509_cert::Certificate;

use crate::common::*;

/// When the renewal is asked for: ten months into the licensing SLC's year.
fn asked_at() -> time::OffsetDateTime {
    NOW + Duration::days(300)
}

fn current() -> &'static Certificate {
    PKI.licensing.certificate()
}

fn current_identity() -> ServerIdentity {
    ServerIdentity::from_certificate(current()).unwrap()
}

/// A renewal of the licensing SLC asking for `identity` with `new_key`.
fn renewal(identity: &ServerIdentity, new_key: &RsaSigner) -> RenewalRequest {
    let request = EnrollmentRequest::new(identity, new_key).unwrap();
    RenewalRequest::new(current(), key(2).as_ref(), &request, asked_at()).unwrap()
}

#[test]
fn a_same_key_renewal_verifies_and_is_issued() {
    let renewal = renewal(&current_identity(), &key(2));
    // In and out.
    let pem = renewal.to_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN RMS RENEWAL REQUEST-----\n"));
    let read = RenewalRequest::from_pem(&pem).unwrap();
    assert_eq!(read, renewal);
    assert_eq!(
        RenewalRequest::from_der(&renewal.to_der().unwrap()).unwrap(),
        renewal
    );
    assert_eq!(
        read.current_serial().to_x509().unwrap(),
        *current().tbs_certificate().serial_number()
    );
    assert_eq!(read.current_issuer(), PKI.root.subject());
    assert_eq!(read.requested_at(), asked_at());
    assert_eq!(read.signature_algorithm(), &key(2).algorithm());

    let checked = read.verify(current()).unwrap();
    assert!(!checked.is_rekey());
    assert_eq!(checked.request().identity(), &current_identity());
    assert_eq!(checked.current_serial(), read.current_serial());
    assert_eq!(checked.requested_at(), asked_at());
    let renewed = PKI.root.issue_slc(checked.request(), asked_at()).unwrap();
    let new_slc = renewed.leaf();
    assert_eq!(
        ServerIdentity::from_certificate(new_slc).unwrap(),
        current_identity()
    );
    assert_eq!(
        new_slc.tbs_certificate().subject_public_key_info(),
        current().tbs_certificate().subject_public_key_info()
    );
    assert_ne!(
        new_slc.tbs_certificate().serial_number(),
        current().tbs_certificate().serial_number()
    );
}

#[test]
fn a_rekey_verifies_and_is_flagged() {
    let checked = renewal(&current_identity(), &key(4))
        .verify(current())
        .unwrap();
    assert!(checked.is_rekey());
    assert_eq!(*checked.request().public_key(), key(4).public_key());
    let renewed = PKI.root.issue_slc(checked.request(), asked_at()).unwrap();
    assert_eq!(
        *renewed.leaf().tbs_certificate().subject_public_key_info(),
        key(4).public_key()
    );
}

/// The licensing SLC with its public key replaced by `key`'s (its signature no longer
/// matters): what someone holding only `key` would claim to renew.
fn slc_with_key_of(key: &RsaSigner) -> Certificate {
    let der = certificate_to_der(current()).unwrap();
    let real = der::Encode::to_der(current().tbs_certificate().subject_public_key_info()).unwrap();
    let other = der::Encode::to_der(&key.public_key()).unwrap();
    assert_eq!(real.len(), other.len(), "RSA-2048 keys encode alike");
    let at = der.windows(real.len()).position(|w| w == real).unwrap();
    let mut forged = der.clone();
    forged[at..at + real.len()].copy_from_slice(&other);
    rms_cert::certificate_from_der(&forged).unwrap()
}

#[test]
fn a_request_signed_by_another_key_is_refused() {
    // The current key must sign: `new` refuses another signer...
    let request = EnrollmentRequest::new(&current_identity(), key(3).as_ref()).unwrap();
    let err = RenewalRequest::new(current(), key(3).as_ref(), &request, asked_at()).unwrap_err();
    assert!(matches!(err, CertError::SignerMismatch { .. }), "{err}");
    // ...and a request made against a look-alike SLC holding another key names the right
    // serial and issuer, but its signature does not verify with the real SLC's key.
    let forged = slc_with_key_of(&key(3));
    let renewal = RenewalRequest::new(&forged, key(3).as_ref(), &request, asked_at()).unwrap();
    assert_eq!(
        renewal.current_serial().to_x509().unwrap(),
        *current().tbs_certificate().serial_number()
    );
    let err = renewal.verify(current()).unwrap_err();
    assert!(
        matches!(&err, CertError::RenewalNotSignedByCurrentKey { subject, reason }
            if subject == "CN=licensing" && reason.contains("does not verify")),
        "{err}"
    );
    // A flipped bit of the signature is refused the same way.
    let mut der = renewal_der();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let err = RenewalRequest::from_der(&der)
        .unwrap()
        .verify(current())
        .unwrap_err();
    assert!(
        matches!(err, CertError::RenewalNotSignedByCurrentKey { .. }),
        "{err}"
    );
}

fn renewal_der() -> Vec<u8> {
    renewal(&current_identity(), &key(2)).to_der().unwrap()
}

#[test]
fn a_request_for_another_slc_is_refused() {
    // Another SLC of the same server, same issuer and key, has another serial number.
    let request = EnrollmentRequest::new(&current_identity(), key(2).as_ref())
        .unwrap()
        .check()
        .unwrap();
    let sibling = PKI.root.issue_slc(&request, NOW).unwrap();
    let err = renewal(&current_identity(), &key(2))
        .verify(sibling.leaf())
        .unwrap_err();
    let CertError::RenewalCertificateMismatch {
        requested_serial,
        current_serial,
        requested_issuer,
        current_issuer,
        ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_ne!(requested_serial, current_serial);
    assert_eq!(requested_issuer, current_issuer);
    // The root's own SLC: another serial and another issuer.
    let err = renewal(&current_identity(), &key(2))
        .verify(PKI.root.certificate())
        .unwrap_err();
    assert!(
        matches!(err, CertError::RenewalCertificateMismatch { .. }),
        "{err}"
    );
}

#[test]
fn an_identity_change_is_refused() {
    let now = current_identity();
    let changes = [
        (
            "subject",
            ServerIdentity::new("licensing-2", now.role(), now.id(), now.url()).unwrap(),
        ),
        (
            "role",
            ServerIdentity::new(
                now.common_name(),
                ServerRole::RootCertificationServer,
                now.id(),
                now.url(),
            )
            .unwrap(),
        ),
        (
            "server id",
            ServerIdentity::new(
                now.common_name(),
                now.role(),
                rms_cert::ServerId::random().unwrap(),
                now.url(),
            )
            .unwrap(),
        ),
        (
            "service URL",
            ServerIdentity::new(
                now.common_name(),
                now.role(),
                now.id(),
                "https://elsewhere.example.com/",
            )
            .unwrap(),
        ),
        (
            "subject",
            now.clone()
                .with_subject("CN=licensing,O=Example".parse().unwrap())
                .unwrap(),
        ),
    ];
    for (expected, identity) in changes {
        // A rekey may not change the identity either.
        for new_key in [key(2), key(4)] {
            let err = renewal(&identity, &new_key).verify(current()).unwrap_err();
            assert!(
                matches!(&err, CertError::RenewalIdentityChanged { field, .. } if *field == expected),
                "{expected}: {err}"
            );
        }
    }
}

#[test]
fn a_bad_inner_request_is_refused() {
    let mut inner = EnrollmentRequest::new(&current_identity(), key(4).as_ref())
        .unwrap()
        .to_der()
        .unwrap();
    let last = inner.len() - 1;
    inner[last] ^= 0x01;
    let inner = EnrollmentRequest::from_der(&inner).unwrap();
    let err = RenewalRequest::new(current(), key(2).as_ref(), &inner, asked_at())
        .unwrap()
        .verify(current())
        .unwrap_err();
    assert!(
        matches!(
            err,
            CertError::RenewalInnerRequest(RequestError::BadSignature)
        ),
        "{err}"
    );
}

#[test]
fn malformed_renewals_are_refused() {
    let der = renewal_der();
    // Trailing data.
    let mut longer = der.clone();
    longer.push(0);
    assert!(matches!(
        RenewalRequest::from_der(&longer),
        Err(CertError::TrailingData { .. })
    ));
    // Version 1: the first INTEGER of tbs (after two SEQUENCE headers of 4 octets each).
    let mut v1 = der.clone();
    assert_eq!(&v1[8..11], &[0x02, 0x01, 0x00]);
    v1[10] = 1;
    let err = RenewalRequest::from_der(&v1).unwrap_err();
    assert!(
        matches!(&err, CertError::InvalidRenewal { reason } if reason.contains("version")),
        "{err}"
    );
    // A certificate is not a renewal request, nor a CRL label its PEM.
    assert!(RenewalRequest::from_der(&certificate_to_der(current()).unwrap()).is_err());
    let pem = crate::crl::root_crl().to_pem().unwrap();
    assert!(RenewalRequest::from_pem(&pem).is_err());
}

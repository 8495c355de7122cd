//! Publishing and use licenses: issue, decode, unwrap, refuse.

use rms_cert::{
    CertError, ContentPolicy, Grant, Grantee, LicenseBody, LicenseError, LicenseKind, RecipientKey,
    Right, SignedLicense, Signer, UsageRight, UsageRights, issue_publishing_license,
    issue_use_license, unwrap_content_key, wrap_content_key, wrap_content_key_to,
};
use sha2::Digest;
use time::Duration;

use crate::common::*;

pub(crate) const CONTENT_KEY: [u8; 32] = [0x5a; 32];

pub(crate) fn policy() -> ContentPolicy {
    ContentPolicy::new(
        "0f8fad5b-d9cb-469f-a165-70867728950e",
        vec![
            Grant::new(
                "alice@example.com",
                UsageRights::from_rights([UsageRight::View, UsageRight::Print]),
            )
            .unwrap(),
            Grant::new("bob@example.com", UsageRights::ALL)
                .unwrap()
                .with_expiry(NOW + Duration::days(30)),
        ],
    )
    .unwrap()
}

pub(crate) fn publishing() -> SignedLicense {
    issue_publishing_license(&PKI.licensing, &policy(), &CONTENT_KEY, NOW).unwrap()
}

pub(crate) fn use_license(principal: &str) -> Result<SignedLicense, CertError> {
    let pl = publishing();
    let LicenseBody::Publishing(body) = pl.body() else {
        panic!("not a publishing license")
    };
    issue_use_license(
        &PKI.licensing,
        key(2).private_key(),
        body,
        &Grantee::new(principal, key(3).public_key()).unwrap(),
        NOW + Duration::hours(1),
    )
}

#[test]
fn publish_then_use_then_grantee_unwraps_the_content_key() {
    let pl = publishing();
    assert_eq!(pl.kind(), LicenseKind::Publishing);
    let LicenseBody::Publishing(body) = pl.body() else {
        panic!("not a publishing license")
    };
    assert_eq!(body.grants().len(), 2);
    assert_eq!(body.issuer(), PKI.licensing.subject());
    assert_eq!(pl.validity().not_before(), NOW);
    assert_eq!(pl.validity().not_after(), NOW.replace_year(2033).unwrap());
    // The cluster can read its own copy of the key.
    assert_eq!(
        unwrap_content_key(key(2).private_key(), body.content_key()).unwrap(),
        CONTENT_KEY
    );

    let ul = use_license("alice@example.com").unwrap();
    assert_eq!(ul.kind(), LicenseKind::Use);
    let LicenseBody::Use(use_body) = ul.body() else {
        panic!("not a use license")
    };
    assert_eq!(use_body.principal(), "alice@example.com");
    assert_eq!(
        use_body.rights(),
        UsageRights::from_rights([UsageRight::View, UsageRight::Print])
    );
    assert_eq!(use_body.content_id(), body.content_id());
    assert_eq!(*use_body.grantee_key(), key(3).public_key());
    assert_eq!(
        unwrap_content_key(key(3).private_key(), use_body.content_key()).unwrap(),
        CONTENT_KEY
    );
    // Nobody else can.
    assert!(unwrap_content_key(key(4).private_key(), use_body.content_key()).is_err());
    assert!(unwrap_content_key(key(2).private_key(), use_body.content_key()).is_err());
}

#[test]
fn a_grant_expiry_shortens_the_use_license() {
    let ul = use_license("bob@example.com").unwrap();
    assert_eq!(ul.validity().not_after(), NOW + Duration::days(30));
}

#[test]
fn a_grantee_not_in_the_policy_is_refused() {
    let err = use_license("mallory@example.com").unwrap_err();
    assert!(
        matches!(&err, CertError::GranteeNotInPolicy { principal } if principal == "mallory@example.com"),
        "{err}"
    );
}

#[test]
fn the_signer_view_is_what_verification_needs() {
    let ul = use_license("alice@example.com").unwrap();
    let signer = ul.signer();
    let slc = PKI.licensing.certificate().tbs_certificate();
    assert_eq!(&signer.issuer, slc.issuer());
    assert_eq!(&signer.serial, slc.serial_number());
    assert_eq!(signer.signed_attributes_der[0], 0x31);
    assert_eq!(
        sha2::Sha256::digest(&signer.content).as_slice(),
        signer.message_digest.as_slice()
    );
    // The signature verifies over the signed attributes with the SLC key.
    use rsa::signature::Verifier;
    let public =
        rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(rsa::PublicKey::from(rsa_key(&key(2))));
    let sig = rsa::pkcs1v15::Signature::try_from(signer.signature.as_slice()).unwrap();
    public.verify(&signer.signed_attributes_der, &sig).unwrap();
    // The path to the anchor travels with it (licensing SLC, root SLC), without duplicates;
    // the anchor itself does not: the verifier holds it.
    assert_eq!(ul.certificates().len(), 2);
    let chain = PKI.licensing.chain();
    for c in &chain.certificates()[..2] {
        assert!(ul.certificates().contains(c));
    }
    assert!(!ul.certificates().contains(chain.anchor()));
}

#[test]
fn licenses_round_trip_through_der_and_pem() {
    let ul = use_license("alice@example.com").unwrap();
    let der = ul.to_der().unwrap();
    assert_eq!(SignedLicense::from_der(&der).unwrap(), ul);
    let pem = ul.to_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN CMS-----"));
    assert_eq!(SignedLicense::from_pem(&pem).unwrap(), ul);
    // A license as issued equals the license its encoding decodes to, whatever the kind.
    let pl = publishing();
    assert_eq!(SignedLicense::from_der(&pl.to_der().unwrap()).unwrap(), pl);
}

#[test]
fn carried_certificates_are_fingerprinted_over_their_der() {
    use der::Encode;
    let ul = use_license("alice@example.com").unwrap();
    let decoded = SignedLicense::from_der(ul.der()).unwrap();
    for license in [&ul, &decoded] {
        let expected: Vec<[u8; 32]> = license
            .certificates()
            .iter()
            .map(|c| sha2::Sha256::digest(c.to_der().unwrap()).into())
            .collect();
        assert_eq!(license.certificate_fingerprints(), expected.as_slice());
        assert_eq!(expected.len(), 2);
    }
}

#[test]
fn tampered_and_truncated_licenses_error_cleanly() {
    let der = use_license("alice@example.com").unwrap().to_der().unwrap();
    for len in [0, 1, 10, der.len() / 2, der.len() - 1] {
        assert!(
            SignedLicense::from_der(&der[..len]).is_err(),
            "truncated at {len}"
        );
    }
    let mut trailing = der.clone();
    trailing.push(0);
    assert!(matches!(
        SignedLicense::from_der(&trailing),
        Err(CertError::License(LicenseError::NotSignedData { .. }))
    ));
    // Flip every byte in turn (step 7 to keep it quick): never a panic.
    for i in (0..der.len()).step_by(7) {
        let mut bad = der.clone();
        bad[i] ^= 0x55;
        let _ = SignedLicense::from_der(&bad);
    }
}

#[test]
fn issuers_need_the_license_rights() {
    // The authority holds no rights.
    let err = issue_publishing_license(&PKI.authority, &policy(), &CONTENT_KEY, NOW).unwrap_err();
    assert!(
        matches!(
            err,
            CertError::MissingRight {
                right: Right::IssuePublishingLicense,
                ..
            }
        ),
        "{err}"
    );
    // A root SLC holds them all.
    assert!(issue_publishing_license(&PKI.root, &policy(), &CONTENT_KEY, NOW).is_ok());
    // An expired issuer cannot issue.
    let err = issue_publishing_license(
        &PKI.licensing,
        &policy(),
        &CONTENT_KEY,
        NOW + Duration::days(400),
    )
    .unwrap_err();
    assert!(matches!(err, CertError::IssuerNotValid { .. }), "{err}");
}

#[test]
fn content_keys_are_checked() {
    let spki = key(3).public_key();
    assert!(wrap_content_key(&spki, &[0; 15]).is_err());
    assert!(wrap_content_key(&spki, &[0; 65]).is_err());
    let wrapped = wrap_content_key(&spki, &[7; 16]).unwrap();
    assert_eq!(
        unwrap_content_key(key(3).private_key(), &wrapped).unwrap(),
        [7; 16]
    );
    // A key parsed once wraps the same way, for the same key identifier.
    let parsed = RecipientKey::new(spki.clone()).unwrap();
    assert_eq!(parsed.public_key(), &spki);
    let again = wrap_content_key_to(&parsed, &[9; 32]).unwrap();
    assert_eq!(again.recipient_key_id(), wrapped.recipient_key_id());
    assert_eq!(
        unwrap_content_key(key(3).private_key(), &again).unwrap(),
        [9; 32]
    );
    assert!(wrap_content_key_to(&parsed, &[0; 15]).is_err());
    // Anything but an RSA key is refused when parsed, before any wrapping.
    let mut not_rsa = spki.clone();
    not_rsa.algorithm.oid = const_oid::db::rfc5912::ID_EC_PUBLIC_KEY;
    assert!(matches!(
        RecipientKey::new(not_rsa.clone()),
        Err(CertError::ContentKey { .. })
    ));
    assert!(Grantee::new("alice@example.com", not_rsa).is_err());
    assert!(ContentPolicy::new("", vec![]).is_err());
    assert!(ContentPolicy::new("c", vec![]).is_err());
    let g = Grant::new("a", UsageRights::ALL).unwrap();
    assert!(ContentPolicy::new("c", vec![g.clone(), g]).is_err());
}

#[test]
fn a_license_is_canonical_cms_carrying_the_path_to_the_anchor_sorted() {
    use cms::content_info::ContentInfo;
    use cms::signed_data::SignedData;
    use der::{Decode, Encode};

    for license in [publishing(), use_license("alice@example.com").unwrap()] {
        let der = license.to_der().unwrap();
        // What the cms crate encodes from the decoded structure is what we sent: the chain,
        // encoded once per issuer and copied into each license, is where DER puts it.
        let info = ContentInfo::from_der(&der).unwrap();
        let signed: SignedData = info.content.decode_as().unwrap();
        assert_eq!(info.to_der().unwrap(), der);
        assert_eq!(signed.version, cms::content_info::CmsVersion::V3);
        let carried: Vec<Vec<u8>> = signed
            .certificates
            .unwrap()
            .0
            .iter()
            .map(|c| c.to_der().unwrap())
            .collect();
        let mut chain: Vec<Vec<u8>> = PKI.licensing.chain().certificates()[..2]
            .iter()
            .map(|c| c.to_der().unwrap())
            .collect();
        chain.sort();
        assert_eq!(carried, chain);
        let decoded: Vec<Vec<u8>> = license
            .certificates()
            .iter()
            .map(|c| c.to_der().unwrap())
            .collect();
        assert_eq!(decoded, chain);
        assert_eq!(SignedLicense::from_der(&der).unwrap(), license);
    }
}

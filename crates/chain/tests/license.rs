//! License verification with licenses made by rms-cert: signature, signer rights, models.

use std::sync::{Arc, LazyLock};

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::Encode;
use der::asn1::{Any, OctetString, SetOfVec};
use rms_cert::{
    ContentPolicy, EnrollmentRequest, Grant, Grantee, Issuer, LicenseBody, LicenseKind, Right,
    Rights, RsaSigner, ServerId, ServerIdentity, ServerRole, SignedLicense, UsageRight,
    UsageRights, issue_publishing_license, issue_use_license,
};
use rms_chain::{Cert, ChainError, Position, Verifier, VerifyOptions, verify_license, verify_path};
use rms_policy::{ValidationModel, ValidityPolicy};
use sha2::Digest;
use sha2::Sha256;
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use time::macros::datetime;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;

use crate::common::{Key, Spec};

/// When the root and licensing SLCs are issued, and when the licenses are.
const ENROLLED: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);
const ISSUED: OffsetDateTime = datetime!(2030-06-01 12:00 UTC);

/// A PKI made by rms-cert: authority, root server, licensing server, and two licenses the
/// licensing server issued at [`ISSUED`].
pub(crate) struct Fixture {
    pub authority: Issuer,
    pub root: Issuer,
    pub licensing: Issuer,
    pub publishing: SignedLicense,
    pub use_license: SignedLicense,
}

fn signer(i: usize) -> Arc<RsaSigner> {
    let Key::Rsa(key) = Key::rsa(i) else {
        unreachable!()
    };
    Arc::new(RsaSigner::from_pkcs8_der(&crate::common::pkcs8(&key)).unwrap())
}

fn request(name: &str, role: ServerRole, signer: &RsaSigner) -> rms_cert::CheckedRequest {
    let url = format!("https://{name}.example.com/_wmcs");
    let identity = ServerIdentity::new(name, role, ServerId::random().unwrap(), &url).unwrap();
    EnrollmentRequest::new(&identity, signer)
        .unwrap()
        .check()
        .unwrap()
}

pub(crate) static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let authority = Issuer::create_authority(
        "CN=Enrollment Authority,O=RMS Test".parse().unwrap(),
        signer(0),
        ValidityPolicy::default(),
        datetime!(2029-01-01 00:00 UTC),
    )
    .unwrap();
    let root_chain = authority
        .issue_slc(
            &request("root", ServerRole::RootCertificationServer, &signer(1)),
            ENROLLED,
        )
        .unwrap();
    let root = Issuer::new(signer(1), root_chain).unwrap();
    let licensing_chain = root
        .issue_slc(
            &request("licensing", ServerRole::LicensingServer, &signer(2)),
            ENROLLED,
        )
        .unwrap();
    let licensing = Issuer::new(signer(2), licensing_chain).unwrap();
    let policy = ContentPolicy::new(
        "{6f9619ff-8b86-d011-b42d-00c04fc964ff}",
        vec![
            Grant::new(
                "alice@example.com",
                UsageRights::from_rights([UsageRight::View, UsageRight::Print]),
            )
            .unwrap(),
        ],
    )
    .unwrap();
    let publishing = issue_publishing_license(&licensing, &policy, &[7; 32], ISSUED).unwrap();
    let LicenseBody::Publishing(body) = publishing.body() else {
        unreachable!()
    };
    let licensing_key = signer(2);
    let grantee = Grantee::new("alice@example.com", Key::rsa(3).spki()).unwrap();
    let use_license = issue_use_license(
        &licensing,
        licensing_key.private_key(),
        body,
        &grantee,
        ISSUED,
    )
    .unwrap();
    Fixture {
        authority,
        root,
        licensing,
        publishing,
        use_license,
    }
});

impl Fixture {
    pub(crate) fn anchors(&self) -> rms_chain::TrustAnchors {
        let cert = Cert::from_certificate(self.authority.certificate()).unwrap();
        rms_chain::TrustAnchors::from(rms_chain::TrustAnchor::new(cert))
    }

    fn cert(issuer: &Issuer) -> Cert {
        Cert::from_certificate(issuer.certificate()).unwrap()
    }
}

/// Signs the body of `license` again with RSA key `key`, carrying `chain` (signer first), and
/// lets `tweak` change the SignerInfo after signing.
fn resign(
    license: &SignedLicense,
    key: usize,
    chain: &[Certificate],
    tweak: impl FnOnce(&mut SignerInfo),
) -> SignedLicense {
    let Key::Rsa(key) = Key::rsa(key) else {
        unreachable!()
    };
    let econtent = EncapsulatedContentInfo {
        econtent_type: license.kind().content_type(),
        econtent: Some(Any::new(der::Tag::OctetString, license.signer().content.clone()).unwrap()),
    };
    let leaf = chain[0].tbs_certificate();
    let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer: leaf.issuer().clone(),
        serial_number: leaf.serial_number().clone(),
    });
    let sha256 = AlgorithmIdentifierOwned {
        oid: const_oid::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1"),
        parameters: None,
    };
    // The signed attributes RFC 5652 §5.3 requires, signed with the rsa crate.
    let attribute = |oid, value: Any| Attribute {
        oid,
        values: SetOfVec::try_from(vec![value]).unwrap(),
    };
    let attributes = SetOfVec::try_from(vec![
        attribute(
            const_oid::db::rfc5911::ID_CONTENT_TYPE,
            Any::encode_from(&econtent.econtent_type).unwrap(),
        ),
        attribute(
            const_oid::db::rfc5911::ID_MESSAGE_DIGEST,
            Any::encode_from(
                &OctetString::new(Sha256::digest(&license.signer().content).to_vec()).unwrap(),
            )
            .unwrap(),
        ),
    ])
    .unwrap();
    let signature = {
        use rsa::signature::{SignatureEncoding, Signer};
        rsa::pkcs1v15::SigningKey::<Sha256>::new(key)
            .sign(&attributes.to_der().unwrap())
            .to_vec()
    };
    let mut info = SignerInfo {
        version: CmsVersion::V1,
        sid,
        digest_alg: sha256.clone(),
        signed_attrs: Some(attributes),
        signature_algorithm: rms_keys::rsa_pkcs1_sha256_identifier(),
        signature: OctetString::new(signature).unwrap(),
        unsigned_attrs: None,
    };
    tweak(&mut info);
    let certificates = SetOfVec::try_from(
        chain
            .iter()
            .cloned()
            .map(CertificateChoices::Certificate)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let signed = SignedData {
        version: CmsVersion::V3,
        digest_algorithms: SetOfVec::try_from(vec![sha256]).unwrap(),
        encap_content_info: econtent,
        certificates: Some(CertificateSet(certificates)),
        crls: None,
        signer_infos: SignerInfos::try_from(vec![info]).unwrap(),
    };
    let der = ContentInfo {
        content_type: const_oid::db::rfc5911::ID_SIGNED_DATA,
        content: Any::encode_from(&signed).unwrap(),
    }
    .to_der()
    .unwrap();
    SignedLicense::from_der(&der).unwrap()
}

fn chain_options(model: ValidationModel) -> VerifyOptions {
    VerifyOptions::new().with_model(model)
}

#[test]
fn licenses_made_by_rms_cert_verify() {
    let f = &*FIXTURE;
    let options = VerifyOptions::new();
    for (license, kind) in [
        (&f.publishing, LicenseKind::Publishing),
        (&f.use_license, LicenseKind::Use),
    ] {
        let verified = verify_license(license, &[], &f.anchors(), ISSUED, &options).unwrap();
        assert_eq!(verified.kind(), kind);
        assert_eq!(verified.signer(), &Fixture::cert(&f.licensing));
        assert_eq!(
            verified.path().intermediates(),
            std::slice::from_ref(&Fixture::cert(&f.root))
        );
        assert_eq!(
            verified.path().anchor().cert(),
            &Fixture::cert(&f.authority)
        );
    }
    // The licensing SLC itself verifies as a server licensor, under the shell model, now.
    let shell = chain_options(ValidationModel::Shell);
    let pool = [Fixture::cert(&f.root)];
    assert!(
        verify_path(
            &Fixture::cert(&f.licensing),
            &pool,
            &f.anchors(),
            ISSUED,
            &shell
        )
        .is_ok()
    );
}

/// Two years after issue the licensing SLC (one year) has expired, the license (seven years)
/// has not: the chain model accepts, the shell model refuses. After seven years, both refuse.
#[test]
fn chain_model_two_years_later_and_seven_years_later() {
    let f = &*FIXTURE;
    let chain = chain_options(ValidationModel::Chain);
    let shell = chain_options(ValidationModel::Shell);
    let two_years = datetime!(2032-06-01 12:00 UTC);
    for license in [&f.publishing, &f.use_license] {
        assert!(verify_license(license, &[], &f.anchors(), two_years, &chain).is_ok());
        let err = verify_license(license, &[], &f.anchors(), two_years, &shell).unwrap_err();
        assert!(
            matches!(&err, ChainError::Expired { cert, .. } if cert.position() == Position::Path(0)),
            "{err}"
        );
    }
    let last_day = datetime!(2037-06-01 11:00 UTC);
    assert!(verify_license(&f.use_license, &[], &f.anchors(), last_day, &chain).is_ok());
    let seven_years = datetime!(2037-06-02 12:00 UTC);
    let err = verify_license(&f.use_license, &[], &f.anchors(), seven_years, &chain).unwrap_err();
    assert!(
        matches!(&err, ChainError::Expired { cert, .. } if cert.position() == Position::License),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("the license: expired at 2037-06-01T12:00:00Z"),
        "{err}"
    );
    // Before its issue time, refused too.
    let before = datetime!(2030-05-01 00:00 UTC);
    let err = verify_license(&f.use_license, &[], &f.anchors(), before, &chain).unwrap_err();
    assert!(matches!(err, ChainError::NotYetValid { .. }), "{err}");
}

/// A license whose issue time lies outside its signer's validity: signed by a certificate for
/// the same server and key, issued a month after the license's issue time.
#[test]
fn a_license_issued_outside_its_signers_validity_is_refused() {
    let f = &*FIXTURE;
    let licensing = f.licensing.certificate().tbs_certificate();
    let later_slc = Spec::new(&licensing.subject().to_string())
        .issuer(&f.root.subject().to_string())
        .rights(Rights::LICENSING)
        .validity(
            datetime!(2030-07-01 00:00 UTC),
            datetime!(2031-07-01 00:00 UTC),
        )
        .serial(4242)
        .no_key_ids()
        .sign(&Key::rsa(2), &Key::rsa(1));
    let chain = [
        later_slc.certificate().clone(),
        f.root.certificate().clone(),
        f.authority.certificate().clone(),
    ];
    let license = resign(&f.use_license, 2, &chain, |_| {});
    let at = datetime!(2031-01-01 00:00 UTC);
    let err = verify_license(&license, &[], &f.anchors(), at, &VerifyOptions::new()).unwrap_err();
    assert!(
        matches!(&err, ChainError::NotYetValid { cert, checked_at, .. }
            if cert.position() == Position::Path(0) && *checked_at == ISSUED),
        "{err}"
    );
}

/// A license signed by a certificate without the licensing right is refused, naming it.
#[test]
fn a_license_signed_without_the_licensing_right_is_refused() {
    let f = &*FIXTURE;
    let subject = f.licensing.subject().to_string();
    let make = |rights: Option<Rights>, serial| {
        let spec = Spec::new(&subject)
            .issuer(&f.root.subject().to_string())
            .validity(ENROLLED, datetime!(2031-01-01 00:00 UTC))
            .serial(serial)
            .no_key_ids();
        let spec = match rights {
            Some(rights) => spec.rights(rights),
            None => spec,
        };
        spec.sign(&Key::rsa(2), &Key::rsa(1))
    };
    let chain_with = |cert: &Cert| {
        [
            cert.certificate().clone(),
            f.root.certificate().clone(),
            f.authority.certificate().clone(),
        ]
    };
    let options = VerifyOptions::new();
    for (rights, serial) in [
        (None, 5000),
        (Some(Rights::NONE.with(Right::SubEnroll)), 5001),
    ] {
        let cert = make(rights, serial);
        let license = resign(&f.use_license, 2, &chain_with(&cert), |_| {});
        let err = verify_license(&license, &[], &f.anchors(), ISSUED, &options).unwrap_err();
        assert!(
            matches!(&err, ChainError::MissingRight { cert, right: Right::IssueUseLicense, .. }
                if cert.position() == Position::Path(0)),
            "{err}"
        );
    }
    // The use-license right alone does not allow publishing licenses, and vice versa.
    let use_only = make(Some(Rights::NONE.with(Right::IssueUseLicense)), 5002);
    let publishing = resign(&f.publishing, 2, &chain_with(&use_only), |_| {});
    let err = verify_license(&publishing, &[], &f.anchors(), ISSUED, &options).unwrap_err();
    assert_eq!(
        err.to_string(),
        "certificate 0 (the leaf) \"CN=licensing\": does not hold the right \
         \"issue-publishing-license\" needed to sign publishing licenses"
    );
    let use_license = resign(&f.use_license, 2, &chain_with(&use_only), |_| {});
    assert!(verify_license(&use_license, &[], &f.anchors(), ISSUED, &options).is_ok());
    // The authority (no rights at all) cannot sign licenses either.
    let by_authority = resign(
        &f.use_license,
        0,
        &[f.authority.certificate().clone()],
        |_| {},
    );
    let err = verify_license(&by_authority, &[], &f.anchors(), ISSUED, &options).unwrap_err();
    assert!(
        matches!(
            err,
            ChainError::MissingRight { .. } | ChainError::LicenseIssuerMismatch { .. }
        ),
        "{err}"
    );
}

#[test]
fn tampered_licenses_are_refused() {
    let f = &*FIXTURE;
    let options = VerifyOptions::new();
    let chain = f.licensing.chain().certificates().to_vec();
    // A signature byte flipped.
    let flipped = resign(&f.use_license, 2, &chain, |info| {
        let mut bytes = info.signature.as_bytes().to_vec();
        bytes[10] ^= 0x40;
        info.signature = OctetString::new(bytes).unwrap();
    });
    let err = verify_license(&flipped, &[], &f.anchors(), ISSUED, &options).unwrap_err();
    assert!(
        matches!(&err, ChainError::BadSignature { cert, issuer }
            if cert.position() == Position::License && issuer.position() == Position::Path(0)),
        "{err}"
    );
    // Signed by another key than the signer certificate's.
    let wrong_key = resign(&f.use_license, 3, &chain, |_| {});
    let err = verify_license(&wrong_key, &[], &f.anchors(), ISSUED, &options).unwrap_err();
    assert!(matches!(err, ChainError::BadSignature { .. }), "{err}");
    // A message digest that is not the content's (changed after signing; the digest is
    // checked first).
    let digest = resign(&f.use_license, 2, &chain, |info| {
        let attrs = info.signed_attrs.as_mut().unwrap();
        let mut all: Vec<_> = attrs.iter().cloned().collect();
        for attr in &mut all {
            if attr.oid == const_oid::db::rfc5911::ID_MESSAGE_DIGEST {
                let mut values = SetOfVec::new();
                values
                    .insert(Any::encode_from(&OctetString::new([0u8; 32]).unwrap()).unwrap())
                    .unwrap();
                attr.values = values;
            }
        }
        *attrs = SetOfVec::try_from(all).unwrap();
    });
    let err = verify_license(&digest, &[], &f.anchors(), ISSUED, &options).unwrap_err();
    assert_eq!(err, ChainError::DigestMismatch);
    // The untampered re-signed license verifies.
    let fine = resign(&f.use_license, 2, &chain, |_| {});
    assert!(verify_license(&fine, &[], &f.anchors(), ISSUED, &options).is_ok());
}

#[test]
fn the_signer_may_come_from_the_pool() {
    let f = &*FIXTURE;
    let options = VerifyOptions::new();
    let license = resign(
        &f.use_license,
        2,
        &[f.licensing.certificate().clone()],
        |_| {},
    );
    let stripped = {
        // Re-encode with the licensing SLC removed from the certificates.
        let der = license.to_der().unwrap();
        let info = <ContentInfo as der::Decode>::from_der(&der).unwrap();
        let mut signed: SignedData = info.content.decode_as().unwrap();
        signed.certificates = None;
        let info = ContentInfo {
            content_type: info.content_type,
            content: Any::encode_from(&signed).unwrap(),
        };
        SignedLicense::from_der(&info.to_der().unwrap()).unwrap()
    };
    let err = verify_license(&stripped, &[], &f.anchors(), ISSUED, &options).unwrap_err();
    assert!(matches!(err, ChainError::SignerNotFound { .. }), "{err}");
    let pool = [Fixture::cert(&f.licensing), Fixture::cert(&f.root)];
    assert!(verify_license(&stripped, &pool, &f.anchors(), ISSUED, &options).is_ok());
}

/// OpenSSL writes rsaEncryption as the SignerInfo's signature algorithm, with the hash in the
/// digest algorithm (RFC 5754 §3.2); that is accepted.
#[test]
fn rsa_encryption_as_signature_algorithm_is_accepted() {
    let f = &*FIXTURE;
    let chain = f.licensing.chain().certificates().to_vec();
    let license = resign(&f.use_license, 2, &chain, |info| {
        info.signature_algorithm = AlgorithmIdentifierOwned {
            oid: const_oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1"),
            parameters: Some(Any::null()),
        };
    });
    assert!(verify_license(&license, &[], &f.anchors(), ISSUED, &VerifyOptions::new()).is_ok());
}

/// The body names its issuer; a license re-signed by another server is refused.
#[test]
fn the_body_must_name_the_signer() {
    let f = &*FIXTURE;
    let other = Spec::new("CN=Another Licensing Server")
        .issuer(&f.root.subject().to_string())
        .rights(Rights::LICENSING)
        .validity(ENROLLED, datetime!(2031-01-01 00:00 UTC))
        .serial(6000)
        .no_key_ids()
        .sign(&Key::rsa(3), &Key::rsa(1));
    let chain = [
        other.certificate().clone(),
        f.root.certificate().clone(),
        f.authority.certificate().clone(),
    ];
    let license = resign(&f.use_license, 3, &chain, |_| {});
    let err =
        verify_license(&license, &[], &f.anchors(), ISSUED, &VerifyOptions::new()).unwrap_err();
    assert!(
        matches!(err, ChainError::LicenseIssuerMismatch { .. }),
        "{err}"
    );
}

/// A verifier caches the signer's path: a second license from the same signer reuses it; the
/// verdicts are those of the uncached function at every time.
#[test]
fn the_verifier_caches_the_signers_path() {
    let f = &*FIXTURE;
    let verifier = Verifier::new(f.anchors(), VerifyOptions::new());
    verifier
        .verify_license(&f.use_license, &[], ISSUED)
        .unwrap();
    assert_eq!(verifier.cached_paths(), 1);
    verifier
        .verify_license(&f.use_license, &[], ISSUED)
        .unwrap();
    assert_eq!(verifier.cached_paths(), 1);
    // The publishing license needs another right: its own entry.
    verifier.verify_license(&f.publishing, &[], ISSUED).unwrap();
    assert_eq!(verifier.cached_paths(), 2);
    for at in [
        datetime!(2030-05-01 00:00 UTC),
        ISSUED,
        datetime!(2032-06-01 12:00 UTC),
        datetime!(2037-06-02 12:00 UTC),
    ] {
        for license in [&f.use_license, &f.publishing] {
            let cached = verifier
                .verify_license(license, &[], at)
                .map(|v| v.path().clone());
            let fresh = verify_license(license, &[], &f.anchors(), at, &VerifyOptions::new())
                .map(|v| v.path().clone());
            assert_eq!(cached, fresh, "at {at}");
        }
    }
    let shell = Verifier::new(f.anchors(), chain_options(ValidationModel::Shell));
    shell.verify_license(&f.use_license, &[], ISSUED).unwrap();
    assert!(
        shell
            .verify_license(&f.use_license, &[], datetime!(2032-06-01 12:00 UTC))
            .is_err()
    );
    // A tampered license is refused even when its signer's path is cached.
    let chain = f.licensing.chain().certificates().to_vec();
    let flipped = resign(&f.use_license, 2, &chain, |info| {
        let mut bytes = info.signature.as_bytes().to_vec();
        bytes[0] ^= 0x01;
        info.signature = OctetString::new(bytes).unwrap();
    });
    assert!(verifier.verify_license(&flipped, &[], ISSUED).is_err());
}

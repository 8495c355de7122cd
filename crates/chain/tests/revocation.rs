//! Revocation: lists made by rms-cert, checked by `Revocations::add`, applied to SLC paths and
//! licenses under both models, with and without the verifier's cache.

use std::sync::{Arc, LazyLock};

use rms_cert::{
    ContentPolicy, EnrollmentRequest, Grant, Issuer, RenewalRequest, RevocationList,
    RevocationReason, RevokedEntry, RsaSigner, SerialNumber, ServerId, ServerIdentity, ServerRole,
    SignedLicense, UsageRight, UsageRights, issue_publishing_license,
};
use rms_chain::{
    Cert, ChainError, Position, Revocations, TrustAnchor, TrustAnchors, Verifier, VerifyOptions,
    verify_license, verify_path,
};
use rms_policy::{ValidationModel, ValidityPolicy};
use time::OffsetDateTime;
use time::macros::datetime;
use x509_cert::ext::pkix::KeyUsages;

use crate::common::{Key, Spec};

/// When the root and licensing SLCs are issued (valid for a year).
pub(crate) const ENROLLED: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);
/// A license signed before the revocation.
pub(crate) const BEFORE: OffsetDateTime = datetime!(2030-03-01 00:00 UTC);
/// The revocation time.
pub(crate) const REVOKED: OffsetDateTime = datetime!(2030-04-01 00:00 UTC);
/// A license (or SLC) signed after the revocation.
pub(crate) const AFTER: OffsetDateTime = datetime!(2030-05-01 00:00 UTC);
/// When the lists are issued.
pub(crate) const LISTED: OffsetDateTime = datetime!(2030-05-02 00:00 UTC);
/// When things are verified.
pub(crate) const CHECKED: OffsetDateTime = datetime!(2030-06-15 00:00 UTC);

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

/// Authority -> root SLC -> licensing SLC (keys 0, 1, 2), and licenses the licensing server
/// signed before and after [`REVOKED`].
pub(crate) struct Lifecycle {
    pub(crate) authority: Issuer,
    pub(crate) root: Issuer,
    pub(crate) licensing: Issuer,
    pub(crate) before: SignedLicense,
    pub(crate) after: SignedLicense,
}

pub(crate) static PKI: LazyLock<Lifecycle> = LazyLock::new(|| {
    let authority = Issuer::create_authority(
        "CN=Lifecycle Authority,O=RMS Test".parse().unwrap(),
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
                UsageRights::from_rights([UsageRight::View]),
            )
            .unwrap(),
        ],
    )
    .unwrap();
    let before = issue_publishing_license(&licensing, &policy, &[7; 32], BEFORE).unwrap();
    let after = issue_publishing_license(&licensing, &policy, &[7; 32], AFTER).unwrap();
    Lifecycle {
        authority,
        root,
        licensing,
        before,
        after,
    }
});

pub(crate) fn cert(issuer: &Issuer) -> Cert {
    Cert::from_certificate(issuer.certificate()).unwrap()
}

pub(crate) fn serial_of(issuer: &Issuer) -> SerialNumber {
    SerialNumber::from_x509(issuer.certificate().tbs_certificate().serial_number()).unwrap()
}

pub(crate) fn anchors() -> TrustAnchors {
    TrustAnchors::from(TrustAnchor::new(cert(&PKI.authority)))
}

/// `by` revokes `revoked` at `at` for `reason`, in a list issued at [`LISTED`].
fn crl(
    by: &Issuer,
    revoked: &Issuer,
    at: OffsetDateTime,
    reason: RevocationReason,
) -> RevocationList {
    let entry = RevokedEntry::new(serial_of(revoked), at, reason);
    by.issue_crl(&[entry], 1, LISTED, LISTED + time::Duration::days(30))
        .unwrap()
}

/// Options with the revocations of `lists`, each added with its issuer's certificate.
fn options(model: ValidationModel, lists: &[(&RevocationList, &Issuer)]) -> VerifyOptions {
    let mut revocations = Revocations::new();
    for (list, issuer) in lists {
        revocations.add(list, &cert(issuer)).unwrap();
    }
    VerifyOptions::new()
        .with_model(model)
        .with_revocations(Arc::new(revocations))
}

fn assert_revoked(err: &ChainError, position: Position, used_at: OffsetDateTime) {
    assert!(
        matches!(err, ChainError::Revoked { cert, used_at: u, revoked_at, reason, .. }
            if cert.position() == position && *u == used_at && *revoked_at == REVOKED
                && *reason == RevocationReason::Superseded),
        "{err}"
    );
}

#[test]
fn a_superseded_licensing_slc_keeps_what_it_signed_before() {
    let list = crl(
        &PKI.root,
        &PKI.licensing,
        REVOKED,
        RevocationReason::Superseded,
    );
    let chain = options(ValidationModel::Chain, &[(&list, &PKI.root)]);
    assert!(verify_license(&PKI.before, &[], &anchors(), CHECKED, &chain).is_ok());
    let err = verify_license(&PKI.after, &[], &anchors(), CHECKED, &chain).unwrap_err();
    assert_revoked(&err, Position::Path(0), AFTER);
    let message = err.to_string();
    for part in [
        "CN=licensing",
        "superseded",
        &serial_of(&PKI.licensing).to_string(),
    ] {
        assert!(message.contains(part), "{message}");
    }

    // The SLC itself is not valid for verification from the revocation on.
    let pool = [cert(&PKI.root)];
    let leaf = cert(&PKI.licensing);
    assert!(verify_path(&leaf, &pool, &anchors(), BEFORE, &chain).is_ok());
    let err = verify_path(&leaf, &pool, &anchors(), CHECKED, &chain).unwrap_err();
    assert_revoked(&err, Position::Path(0), CHECKED);

    // Under the shell model everything is checked at the validation time: after the
    // revocation, even the license signed before it is refused.
    let shell = options(ValidationModel::Shell, &[(&list, &PKI.root)]);
    let err = verify_license(&PKI.before, &[], &anchors(), CHECKED, &shell).unwrap_err();
    assert_revoked(&err, Position::Path(0), CHECKED);
    let just_before = REVOKED - time::Duration::seconds(1);
    assert!(verify_license(&PKI.before, &[], &anchors(), just_before, &shell).is_ok());
}

#[test]
fn the_verifier_cache_does_not_bypass_revocation() {
    let list = crl(
        &PKI.root,
        &PKI.licensing,
        REVOKED,
        RevocationReason::Superseded,
    );
    let verifier = Verifier::new(
        anchors(),
        options(ValidationModel::Chain, &[(&list, &PKI.root)]),
    );
    verifier.verify_license(&PKI.before, &[], CHECKED).unwrap();
    assert_eq!(verifier.cached_paths(), 1);
    // Same signer, same path in the cache: still refused, and with the same error as without
    // a cache.
    let cached = verifier
        .verify_license(&PKI.after, &[], CHECKED)
        .unwrap_err();
    let fresh =
        verify_license(&PKI.after, &[], &anchors(), CHECKED, verifier.options()).unwrap_err();
    assert_eq!(cached, fresh);
    assert_revoked(&cached, Position::Path(0), AFTER);
    verifier.verify_license(&PKI.before, &[], CHECKED).unwrap();
    // The path of the SLC itself, cached at a time before the revocation, is refused after.
    let pool = [cert(&PKI.root)];
    let leaf = cert(&PKI.licensing);
    verifier.verify_path(&leaf, &pool, BEFORE).unwrap();
    let err = verifier.verify_path(&leaf, &pool, CHECKED).unwrap_err();
    assert_revoked(&err, Position::Path(0), CHECKED);
}

#[test]
fn key_compromise_invalidates_everything_it_signed() {
    for reason in [
        RevocationReason::KeyCompromise,
        RevocationReason::CaCompromise,
    ] {
        let list = crl(&PKI.root, &PKI.licensing, REVOKED, reason);
        let chain = options(ValidationModel::Chain, &[(&list, &PKI.root)]);
        let verifier = Verifier::new(anchors(), chain.clone());
        for license in [&PKI.before, &PKI.after] {
            let err = verify_license(license, &[], &anchors(), CHECKED, &chain).unwrap_err();
            assert!(
                matches!(&err, ChainError::RevokedKeyCompromise { cert, reason: r, .. }
                    if cert.position() == Position::Path(0) && *r == reason),
                "{err}"
            );
            assert!(err.to_string().contains("whatever the time"), "{err}");
            assert_eq!(
                verifier.verify_license(license, &[], CHECKED).unwrap_err(),
                err
            );
        }
    }
}

#[test]
fn several_lists_keep_the_strictest_entry() {
    let superseded = crl(
        &PKI.root,
        &PKI.licensing,
        REVOKED,
        RevocationReason::Superseded,
    );
    let compromised = crl(
        &PKI.root,
        &PKI.licensing,
        AFTER,
        RevocationReason::KeyCompromise,
    );
    let earlier = crl(
        &PKI.root,
        &PKI.licensing,
        BEFORE,
        RevocationReason::CessationOfOperation,
    );
    let mut revocations = Revocations::new();
    assert!(revocations.is_empty());
    revocations.add(&superseded, &cert(&PKI.root)).unwrap();
    revocations.add(&earlier, &cert(&PKI.root)).unwrap();
    let entry = revocations.entry(&cert(&PKI.licensing)).unwrap();
    assert_eq!(
        (entry.revoked_at, entry.reason),
        (BEFORE, RevocationReason::CessationOfOperation)
    );
    revocations.add(&compromised, &cert(&PKI.root)).unwrap();
    revocations.add(&superseded, &cert(&PKI.root)).unwrap();
    let entry = revocations.entry(&cert(&PKI.licensing)).unwrap();
    assert_eq!(entry.reason, RevocationReason::KeyCompromise);
    assert_eq!((revocations.len(), revocations.lists()), (1, 4));
    assert!(revocations.entry(&cert(&PKI.root)).is_none());
}

#[test]
fn lists_that_do_not_verify_with_the_issuer_are_refused() {
    let list = crl(
        &PKI.root,
        &PKI.licensing,
        REVOKED,
        RevocationReason::Superseded,
    );
    let mut revocations = Revocations::new();

    // The authority's list checked with the root's certificate: another issuer.
    let authority_list = crl(
        &PKI.authority,
        &PKI.root,
        REVOKED,
        RevocationReason::Superseded,
    );
    let err = revocations
        .add(&authority_list, &cert(&PKI.root))
        .unwrap_err();
    assert!(
        matches!(&err, ChainError::CrlIssuerMismatch { crl_issuer, .. }
            if crl_issuer.contains("Lifecycle Authority")),
        "{err}"
    );

    // A list in the root's name signed by another key (an impostor the authority also
    // enrolled as "root").
    let impostor_chain = PKI
        .authority
        .issue_slc(
            &request("root", ServerRole::RootCertificationServer, &signer(3)),
            ENROLLED,
        )
        .unwrap();
    let impostor = Issuer::new(signer(3), impostor_chain).unwrap();
    let forged = crl(
        &impostor,
        &PKI.licensing,
        REVOKED,
        RevocationReason::KeyCompromise,
    );
    assert_eq!(forged.issuer(), list.issuer());
    let err = revocations.add(&forged, &cert(&PKI.root)).unwrap_err();
    assert!(
        matches!(&err, ChainError::KeyIdentifierMismatch { cert, .. }
            if cert.position() == Position::RevocationList),
        "{err}"
    );
    // The same list checked with the impostor's certificate is accepted: a list is trusted as
    // far as the issuer certificate given with it.
    Revocations::new().add(&forged, &cert(&impostor)).unwrap();

    // A flipped signature bit.
    let mut der = list.to_der().unwrap();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let tampered = RevocationList::from_der(&der).unwrap();
    let err = revocations.add(&tampered, &cert(&PKI.root)).unwrap_err();
    assert!(
        matches!(&err, ChainError::BadSignature { cert, .. }
            if cert.position() == Position::RevocationList),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("the revocation list issued by \"CN=root\""),
        "{err}"
    );

    // A certificate with the root's name and key but no cRLSign may not sign lists.
    let no_crl_sign = Spec::new("CN=root")
        .issuer("CN=Lifecycle Authority,O=RMS Test")
        .key_usage(KeyUsages::DigitalSignature)
        .sign(&Key::rsa(1), &Key::rsa(0));
    let err = revocations.add(&list, &no_crl_sign).unwrap_err();
    assert!(matches!(err, ChainError::CrlSignNotAllowed { .. }), "{err}");

    assert!(revocations.is_empty());
    assert_eq!(revocations.lists(), 0);
    revocations.add(&list, &cert(&PKI.root)).unwrap();
    assert_eq!(revocations.len(), 1);
}

#[test]
fn a_revoked_root_slc_invalidates_what_it_issued_after() {
    // A second licensing SLC, issued by the root after its revocation.
    let late_chain = PKI
        .root
        .issue_slc(
            &request("licensing-2", ServerRole::LicensingServer, &signer(3)),
            AFTER,
        )
        .unwrap();
    let late = Cert::from_certificate(late_chain.leaf()).unwrap();
    let early = cert(&PKI.licensing);
    let pool = [cert(&PKI.root)];
    let list = crl(
        &PKI.authority,
        &PKI.root,
        REVOKED,
        RevocationReason::Superseded,
    );
    let chain = options(ValidationModel::Chain, &[(&list, &PKI.authority)]);
    assert!(verify_path(&early, &pool, &anchors(), CHECKED, &chain).is_ok());
    assert!(verify_license(&PKI.after, &[], &anchors(), CHECKED, &chain).is_ok());
    let err = verify_path(&late, &pool, &anchors(), CHECKED, &chain).unwrap_err();
    assert_revoked(&err, Position::Path(1), AFTER);
    assert!(err.to_string().contains("CN=root"), "{err}");

    // Under the shell model, nothing below the root is valid after the revocation.
    let shell = options(ValidationModel::Shell, &[(&list, &PKI.authority)]);
    let err = verify_path(&early, &pool, &anchors(), CHECKED, &shell).unwrap_err();
    assert_revoked(&err, Position::Path(1), CHECKED);

    // A compromised root key takes everything below it along.
    let list = crl(
        &PKI.authority,
        &PKI.root,
        REVOKED,
        RevocationReason::CaCompromise,
    );
    let chain = options(ValidationModel::Chain, &[(&list, &PKI.authority)]);
    for leaf in [&early, &late] {
        let err = verify_path(leaf, &pool, &anchors(), CHECKED, &chain).unwrap_err();
        assert!(
            matches!(&err, ChainError::RevokedKeyCompromise { cert, .. }
                if cert.position() == Position::Path(1)),
            "{err}"
        );
    }
    let err = verify_license(&PKI.before, &[], &anchors(), CHECKED, &chain).unwrap_err();
    assert!(
        matches!(&err, ChainError::RevokedKeyCompromise { cert, .. }
            if cert.position() == Position::Path(1)),
        "{err}"
    );
}

/// The whole lifecycle: the root renews its SLC (same key) with a renewal request, the
/// authority revokes the old one as superseded; an SLC the root issues afterwards verifies
/// through the renewed SLC even when the superseded one comes first in the pool.
#[test]
fn a_superseded_root_slc_gives_way_to_its_renewal() {
    let renewed_at = REVOKED;
    let old_root = PKI.root.certificate();
    let identity = ServerIdentity::from_certificate(old_root).unwrap();
    let renewal = RenewalRequest::new(
        old_root,
        signer(1).as_ref(),
        &EnrollmentRequest::new(&identity, signer(1).as_ref()).unwrap(),
        renewed_at,
    )
    .unwrap();
    let checked = RenewalRequest::from_der(&renewal.to_der().unwrap())
        .unwrap()
        .verify(old_root)
        .unwrap();
    assert!(!checked.is_rekey());
    let renewed_chain = PKI
        .authority
        .issue_slc(checked.request(), renewed_at)
        .unwrap();
    let renewed = Cert::from_certificate(renewed_chain.leaf()).unwrap();
    let list = crl(
        &PKI.authority,
        &PKI.root,
        renewed_at,
        RevocationReason::Superseded,
    );
    let chain = options(ValidationModel::Chain, &[(&list, &PKI.authority)]);

    let late_chain = PKI
        .root
        .issue_slc(
            &request("licensing-3", ServerRole::LicensingServer, &signer(3)),
            AFTER,
        )
        .unwrap();
    let late = Cert::from_certificate(late_chain.leaf()).unwrap();
    let pool = [cert(&PKI.root), renewed.clone()];
    let path = verify_path(&late, &pool, &anchors(), CHECKED, &chain).unwrap();
    assert_eq!(path.intermediates(), std::slice::from_ref(&renewed));
    let verifier = Verifier::new(anchors(), chain.clone());
    let path = verifier.verify_path(&late, &pool, CHECKED).unwrap();
    assert_eq!(path.intermediates(), std::slice::from_ref(&renewed));
    // Without the renewed SLC only the revoked one is left.
    let err = verify_path(&late, &pool[..1], &anchors(), CHECKED, &chain).unwrap_err();
    assert_revoked(&err, Position::Path(1), AFTER);
    // What the old SLC issued before it was superseded still verifies (through it: the
    // renewed one did not exist yet).
    let early = cert(&PKI.licensing);
    let path = verify_path(&early, &pool, &anchors(), CHECKED, &chain).unwrap();
    assert_eq!(path.intermediates(), &pool[..1]);
}

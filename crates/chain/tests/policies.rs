//! Certificate policies beyond PKITS: the policy sets a verified path exposes, the policy inputs
//! of the options, what a trust anchor's policy extensions mean (RFC 5937), the policy tree's
//! budget, and the trust anchor's other extensions.

use const_oid::ObjectIdentifier;
use der::asn1::Null;
use rms_chain::{
    ANY_POLICY, Budget, Cert, ChainError, Position, Purpose, TrustAnchor, TrustAnchors,
    VerifiedPath, VerifyOptions, verify_path,
};
use rms_policy::ValidationModel;
use time::OffsetDateTime;
use time::macros::datetime;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::certpolicy::PolicyInformation;
use x509_cert::ext::pkix::{
    CertificatePolicies, KeyUsages, PolicyConstraints, PolicyMapping, PolicyMappings,
};

use crate::common::{Key, Spec, extension};

const AT: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);

fn options() -> VerifyOptions {
    VerifyOptions::new()
        .with_model(ValidationModel::Shell)
        .with_purpose(Purpose::Any)
}

fn oid(arc: u32) -> ObjectIdentifier {
    ObjectIdentifier::new(&format!("1.3.6.1.4.1.99999.1.{arc}")).unwrap()
}

fn policies(ids: &[ObjectIdentifier]) -> Extension {
    let value = CertificatePolicies(
        ids.iter()
            .map(|id| PolicyInformation {
                policy_identifier: *id,
                policy_qualifiers: None,
            })
            .collect(),
    );
    extension("2.5.29.32", false, &value)
}

fn mappings(pairs: &[(ObjectIdentifier, ObjectIdentifier)]) -> Extension {
    let value = PolicyMappings(
        pairs
            .iter()
            .map(|(a, b)| PolicyMapping {
                issuer_domain_policy: *a,
                subject_domain_policy: *b,
            })
            .collect(),
    );
    extension("2.5.29.33", true, &value)
}

fn require_explicit(skip: u32) -> Extension {
    let value = PolicyConstraints {
        require_explicit_policy: Some(skip),
        inhibit_policy_mapping: None,
    };
    extension("2.5.29.36", true, &value)
}

/// anchor (with `anchor_ext`) -> CA (with `ca_ext`) -> leaf (with `leaf_ext`).
fn verify(
    anchor_ext: Vec<Extension>,
    ca_ext: Vec<Extension>,
    leaf_ext: Vec<Extension>,
    options: &VerifyOptions,
) -> Result<VerifiedPath, ChainError> {
    let (anchor_key, ca_key, leaf_key) = (Key::p256(400), Key::p256(401), Key::p256(402));
    let with = |mut spec: Spec, exts: Vec<Extension>| {
        for ext in exts {
            spec = spec.extension(ext);
        }
        spec
    };
    let anchor = with(Spec::ca("CN=Anchor", None), anchor_ext).self_signed(&anchor_key);
    let ca = with(Spec::ca("CN=CA", None).issuer("CN=Anchor"), ca_ext).sign(&ca_key, &anchor_key);
    let leaf: Cert = with(Spec::new("CN=leaf").issuer("CN=CA"), leaf_ext).sign(&leaf_key, &ca_key);
    let anchors = TrustAnchors::from(TrustAnchor::new(anchor));
    verify_path(&leaf, &[ca], &anchors, AT, options)
}

fn set(path: &VerifiedPath) -> Vec<ObjectIdentifier> {
    path.user_constrained_policies().iter().copied().collect()
}

#[test]
fn a_path_without_policies_has_empty_policy_sets() {
    let path = verify(vec![], vec![], vec![], &options()).unwrap();
    assert!(path.user_constrained_policies().is_empty());
    assert!(path.authorities_constrained_policies().is_empty());
    // Requiring an explicit policy then fails.
    let err = verify(
        vec![],
        vec![],
        vec![],
        &options().with_initial_explicit_policy(true),
    )
    .unwrap_err();
    assert!(matches!(err, ChainError::NoValidPolicy { .. }), "{err}");
}

#[test]
fn the_initial_policy_set_restricts_the_user_constrained_set() {
    let (p1, p2) = (oid(1), oid(2));
    let path = verify(
        vec![],
        vec![policies(&[p1, p2])],
        vec![policies(&[p1, p2])],
        &options(),
    )
    .unwrap();
    assert_eq!(set(&path), vec![p1, p2]);
    let only_p2 = options().with_initial_policy_set([p2]);
    let path = verify(
        vec![],
        vec![policies(&[p1, p2])],
        vec![policies(&[p1, p2])],
        &only_p2,
    )
    .unwrap();
    assert_eq!(set(&path), vec![p2]);
    assert!(path.user_constrained_policies().allows(&p2));
    assert!(!path.user_constrained_policies().allows(&p1));
    // The authorities still assert both.
    assert_eq!(path.authorities_constrained_policies().len(), 2);
    // A set the path does not meet, with an explicit policy required: refused.
    let err = verify(
        vec![],
        vec![policies(&[p1])],
        vec![policies(&[p1])],
        &options()
            .with_initial_policy_set([p2])
            .with_initial_explicit_policy(true),
    )
    .unwrap_err();
    assert!(
        matches!(&err, ChainError::NoValidPolicy { cert } if cert.position() == Position::Path(0)),
        "{err}"
    );
}

#[test]
fn mappings_and_their_inhibition() {
    let (p1, q1) = (oid(1), oid(11));
    let ca = || vec![policies(&[p1]), mappings(&[(p1, q1)])];
    let path = verify(vec![], ca(), vec![policies(&[q1])], &options()).unwrap();
    // In the anchor's domain the path is valid for p1; at the leaf, q1.
    assert_eq!(set(&path), vec![p1]);
    assert!(path.authorities_constrained_policies().allows(&q1));
    // With mapping inhibited, q1 matches nothing above it.
    let inhibited = options()
        .with_initial_policy_mapping_inhibit(true)
        .with_initial_explicit_policy(true);
    let err = verify(vec![], ca(), vec![policies(&[q1])], &inhibited).unwrap_err();
    assert!(matches!(err, ChainError::NoValidPolicy { .. }), "{err}");
    // Mapping anyPolicy is refused.
    let err = verify(
        vec![],
        vec![policies(&[p1]), mappings(&[(ANY_POLICY, q1)])],
        vec![policies(&[q1])],
        &options(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, ChainError::InvalidPolicyMapping { cert, .. } if cert.position() == Position::Path(1)),
        "{err}"
    );
}

#[test]
fn the_policy_tree_is_bounded() {
    // CA: 20 policies, each mapped to the same 20; leaf: those 20. The tree gets 20 nodes at
    // depth 1, and 400 at depth 2.
    let issuers: Vec<ObjectIdentifier> = (0..20).map(oid).collect();
    let subjects: Vec<ObjectIdentifier> = (100..120).map(oid).collect();
    let pairs: Vec<(ObjectIdentifier, ObjectIdentifier)> = issuers
        .iter()
        .flat_map(|a| subjects.iter().map(move |b| (*a, *b)))
        .collect();
    let ca = || vec![policies(&issuers), mappings(&pairs)];
    let path = verify(vec![], ca(), vec![policies(&subjects)], &options()).unwrap();
    assert_eq!(path.user_constrained_policies().len(), 20);
    let small = options().with_budget(Budget::default().with_policy_nodes(100));
    let err = verify(vec![], ca(), vec![policies(&subjects)], &small).unwrap_err();
    assert_eq!(err, ChainError::PolicyTreeTooLarge { limit: 100 });
    assert!(err.is_fatal());
}

#[test]
fn the_anchors_policy_extensions_constrain_the_path() {
    let (p1, p2) = (oid(1), oid(2));
    let both = || vec![policies(&[p1, p2])];
    // The anchor's certificatePolicies narrow what the caller accepts (RFC 5937 §3).
    let path = verify(vec![policies(&[p1])], both(), both(), &options()).unwrap();
    assert_eq!(set(&path), vec![p1]);
    // Its requireExplicitPolicy counts from the first certificate below it.
    let err = verify(vec![require_explicit(0)], vec![], vec![], &options()).unwrap_err();
    assert!(
        matches!(&err, ChainError::NoValidPolicy { cert } if cert.position() == Position::Path(1)),
        "{err}"
    );
    assert!(verify(vec![require_explicit(0)], both(), both(), &options()).is_ok());
    // policyMappings on an anchor mean nothing (RFC 5937): refused rather than ignored.
    let err = verify(vec![mappings(&[(p1, p2)])], both(), both(), &options()).unwrap_err();
    assert!(
        matches!(&err, ChainError::InvalidPolicyMapping { cert, .. } if cert.position() == Position::Anchor),
        "{err}"
    );
}

#[test]
fn the_anchors_own_constraints_are_not_ignored() {
    // An unknown critical extension on the anchor: refused when a path ends at it.
    let unknown = extension("1.3.6.1.4.1.99999.7", true, &Null);
    let err = verify(vec![unknown], vec![], vec![], &options()).unwrap_err();
    assert!(
        matches!(&err, ChainError::UnsupportedCriticalExtension { cert, .. } if cert.position() == Position::Anchor),
        "{err}"
    );
    // The same extension, not critical, is fine.
    let unknown = extension("1.3.6.1.4.1.99999.7", false, &Null);
    assert!(verify(vec![unknown], vec![], vec![], &options()).is_ok());

    // keyUsage without keyCertSign: the anchor's key may not sign certificates.
    let (anchor_key, leaf_key) = (Key::p256(410), Key::p256(411));
    let anchor = Spec::ca("CN=Anchor", None)
        .key_usage(KeyUsages::CRLSign)
        .self_signed(&anchor_key);
    let leaf = Spec::new("CN=leaf")
        .issuer("CN=Anchor")
        .sign(&leaf_key, &anchor_key);
    let anchors = TrustAnchors::from(TrustAnchor::new(anchor));
    let err = verify_path(&leaf, &[], &anchors, AT, &options()).unwrap_err();
    assert!(
        matches!(&err, ChainError::KeyCertSignNotAllowed { cert } if cert.position() == Position::Anchor),
        "{err}"
    );

    // pathLenConstraint 0 on the anchor: no intermediate below it.
    let (anchor_key, ca_key) = (Key::p256(412), Key::p256(413));
    let anchor = Spec::ca("CN=Anchor", Some(0)).self_signed(&anchor_key);
    let ca = Spec::ca("CN=CA", None)
        .issuer("CN=Anchor")
        .sign(&ca_key, &anchor_key);
    let leaf = Spec::new("CN=leaf")
        .issuer("CN=CA")
        .sign(&leaf_key, &ca_key);
    let anchors = TrustAnchors::from(TrustAnchor::new(anchor));
    let err = verify_path(&leaf, std::slice::from_ref(&ca), &anchors, AT, &options()).unwrap_err();
    assert!(
        matches!(&err, ChainError::PathLenExceeded { cert, below: 1, .. } if cert.position() == Position::Anchor),
        "{err}"
    );
    // A leaf issued by the anchor directly is fine.
    let direct = Spec::new("CN=direct")
        .issuer("CN=Anchor")
        .sign(&leaf_key, &anchor_key);
    assert!(verify_path(&direct, &[ca], &anchors, AT, &options()).is_ok());
}

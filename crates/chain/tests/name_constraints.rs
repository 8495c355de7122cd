//! Name constraints written by hand: each form (DNS, RFC 822, directory name, IPv4, IPv6, URI),
//! permitted and excluded, imposed by the trust anchor (its certificate's extension, or given
//! with the anchor) and by an intermediate below it; unsupported forms; and a certificate with
//! thousands of names and constraints, refused by the name-comparison budget.

use std::str::FromStr;

use der::asn1::{Ia5String, OctetString};
use rms_chain::{
    Budget, Cert, ChainError, Position, Purpose, TrustAnchor, TrustAnchors, VerifiedPath,
    VerifyOptions, verify_path,
};
use rms_policy::ValidationModel;
use time::OffsetDateTime;
use time::macros::datetime;
use x509_cert::ext::pkix::NameConstraints;
use x509_cert::ext::pkix::constraints::name::GeneralSubtree;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use crate::common::{Key, Spec, extension};

const AT: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);
const NAME_CONSTRAINTS: &str = "2.5.29.30";
const SUBJECT_ALT_NAME: &str = "2.5.29.17";

fn options() -> VerifyOptions {
    VerifyOptions::new()
        .with_model(ValidationModel::Shell)
        .with_purpose(Purpose::Any)
}

fn dns(s: &str) -> GeneralName {
    GeneralName::DnsName(Ia5String::new(s).unwrap())
}

fn email(s: &str) -> GeneralName {
    GeneralName::Rfc822Name(Ia5String::new(s).unwrap())
}

fn uri(s: &str) -> GeneralName {
    GeneralName::UniformResourceIdentifier(Ia5String::new(s).unwrap())
}

fn ip(bytes: &[u8]) -> GeneralName {
    GeneralName::IpAddress(OctetString::new(bytes).unwrap())
}

fn dn(s: &str) -> GeneralName {
    GeneralName::DirectoryName(Name::from_str(s).unwrap())
}

fn subtrees(names: Vec<GeneralName>) -> Option<Vec<GeneralSubtree>> {
    (!names.is_empty()).then(|| {
        names
            .into_iter()
            .map(|base| GeneralSubtree {
                base,
                minimum: 0,
                maximum: None,
            })
            .collect()
    })
}

fn constraints(permitted: Vec<GeneralName>, excluded: Vec<GeneralName>) -> NameConstraints {
    NameConstraints {
        permitted_subtrees: subtrees(permitted),
        excluded_subtrees: subtrees(excluded),
    }
}

/// Where a constraint sits.
#[derive(Debug, Clone, Copy, PartialEq)]
enum At {
    /// The anchor certificate's nameConstraints extension.
    AnchorExtension,
    /// Given with the trust anchor ([`TrustAnchor::with_name_constraints`]).
    AnchorInput,
    /// The intermediate CA below the anchor.
    Intermediate,
}

impl At {
    fn position(self) -> Position {
        match self {
            At::AnchorExtension | At::AnchorInput => Position::Anchor,
            At::Intermediate => Position::Path(1),
        }
    }
}

/// The CA's subject: inside the directory-name subtree `O=Permitted` of the tests.
const CA_PERMITTED: &str = "CN=CA,O=Permitted";
/// The CA's subject when that subtree is excluded.
const CA_OTHER: &str = "CN=CA,O=Other";

/// anchor -> CA -> leaf, with `nc` placed as `at` says (critical unless `critical` is false),
/// the leaf named `subject` with `sans`.
fn verify_with(
    nc: NameConstraints,
    at: At,
    critical: bool,
    subject: &str,
    sans: Vec<GeneralName>,
    options: &VerifyOptions,
) -> Result<VerifiedPath, ChainError> {
    verify_under(CA_PERMITTED, nc, at, critical, subject, sans, options)
}

fn verify_under(
    ca_subject: &str,
    nc: NameConstraints,
    at: At,
    critical: bool,
    subject: &str,
    sans: Vec<GeneralName>,
    options: &VerifyOptions,
) -> Result<VerifiedPath, ChainError> {
    let (anchor_key, ca_key, leaf_key) = (Key::p256(300), Key::p256(301), Key::p256(302));
    let nc_ext = extension(NAME_CONSTRAINTS, critical, &nc);
    let mut anchor_spec = Spec::ca("CN=Anchor", None);
    if at == At::AnchorExtension {
        anchor_spec = anchor_spec.extension(nc_ext.clone());
    }
    let mut anchor = TrustAnchor::new(anchor_spec.self_signed(&anchor_key));
    if at == At::AnchorInput {
        anchor = anchor.with_name_constraints(nc);
    }
    let mut ca_spec = Spec::ca(ca_subject, None).issuer("CN=Anchor");
    if at == At::Intermediate {
        ca_spec = ca_spec.extension(nc_ext);
    }
    let ca = ca_spec.sign(&ca_key, &anchor_key);
    let mut leaf_spec = Spec::new(subject).issuer(ca_subject);
    if !sans.is_empty() {
        leaf_spec = leaf_spec.extension(extension(SUBJECT_ALT_NAME, false, &sans));
    }
    let leaf = leaf_spec.sign(&leaf_key, &ca_key);
    verify_path(&leaf, &[ca], &TrustAnchors::from(anchor), AT, options)
}

fn verify(
    nc: NameConstraints,
    at: At,
    subject: &str,
    sans: Vec<GeneralName>,
) -> Result<VerifiedPath, ChainError> {
    verify_with(nc, at, true, subject, sans, &options())
}

fn assert_violation(
    result: Result<VerifiedPath, ChainError>,
    at: At,
    violation: &str,
    name_part: &str,
) {
    let err = result.expect_err("the name constraint must refuse the leaf");
    match &err {
        ChainError::NameConstraintViolation {
            cert,
            name,
            violation: v,
            constrained_by,
        } => {
            assert_eq!(cert.position(), Position::Path(0), "{err}");
            assert_eq!(constrained_by.position(), at.position(), "{err}");
            assert_eq!(*v, violation, "{err}");
            assert!(name.contains(name_part), "{err}");
        }
        other => panic!("expected a name constraint violation, got {other}"),
    }
}

/// One form: a constraint, a name inside it and a name outside it.
struct Form {
    label: &'static str,
    constraint: GeneralName,
    inside: (&'static str, Vec<GeneralName>),
    outside: (&'static str, Vec<GeneralName>),
    outside_text: &'static str,
}

fn forms() -> Vec<Form> {
    let mut v6_net = [0u8; 32];
    v6_net[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    v6_net[16..20].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    let mut v6_in = [0u8; 16];
    v6_in[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    v6_in[15] = 1;
    let mut v6_out = v6_in;
    v6_out[3] = 0xb9;
    vec![
        Form {
            label: "DNS",
            constraint: dns("example.com"),
            inside: ("CN=leaf", vec![dns("host.Example.com")]),
            outside: ("CN=leaf", vec![dns("host.example.org")]),
            outside_text: "DNS:host.example.org",
        },
        Form {
            label: "RFC 822",
            constraint: email(".example.com"),
            inside: ("CN=leaf", vec![email("alice@mail.example.com")]),
            outside: ("CN=leaf", vec![email("alice@example.net")]),
            outside_text: "email:alice@example.net",
        },
        Form {
            label: "RFC 822 from the subject's emailAddress",
            constraint: email("example.com"),
            inside: ("CN=leaf,emailAddress=bob@example.com", vec![]),
            outside: ("CN=leaf,emailAddress=bob@example.net", vec![]),
            outside_text: "email:bob@example.net",
        },
        Form {
            label: "directory name",
            constraint: dn("O=Permitted"),
            inside: ("CN=leaf,O=Permitted", vec![]),
            outside: ("CN=leaf,O=Other", vec![]),
            outside_text: "DN:CN=leaf,O=Other",
        },
        Form {
            label: "directory name in the SAN",
            constraint: dn("O=Permitted"),
            // An empty subject: only the alternative name is checked.
            inside: ("", vec![dn("CN=alt,O=Permitted")]),
            outside: ("", vec![dn("CN=alt,O=Other")]),
            outside_text: "DN:CN=alt,O=Other",
        },
        Form {
            label: "IPv4",
            constraint: ip(&[192, 0, 2, 0, 255, 255, 255, 0]),
            inside: ("CN=leaf", vec![ip(&[192, 0, 2, 17])]),
            outside: ("CN=leaf", vec![ip(&[198, 51, 100, 17])]),
            outside_text: "IP:198.51.100.17",
        },
        Form {
            label: "IPv6",
            constraint: ip(&v6_net),
            inside: ("CN=leaf", vec![ip(&v6_in)]),
            outside: ("CN=leaf", vec![ip(&v6_out)]),
            outside_text: "IP:2001:db9:",
        },
        Form {
            label: "URI",
            constraint: uri(".example.com"),
            inside: ("CN=leaf", vec![uri("https://www.example.com:8443/path")]),
            outside: ("CN=leaf", vec![uri("https://www.example.net/path")]),
            outside_text: "URI:https://www.example.net/path",
        },
    ]
}

#[test]
fn each_form_permitted_and_excluded_at_the_anchor_and_below_it() {
    for at in [At::AnchorExtension, At::AnchorInput, At::Intermediate] {
        for form in forms() {
            let context = format!("{} at {at:?}", form.label);
            // Permitted: the name inside passes, the one outside is refused.
            let permitted = constraints(vec![form.constraint.clone()], vec![]);
            verify(permitted.clone(), at, form.inside.0, form.inside.1.clone())
                .unwrap_or_else(|e| panic!("{context}: permitted name refused: {e}"));
            assert_violation(
                verify(permitted, at, form.outside.0, form.outside.1.clone()),
                at,
                "not permitted",
                form.outside_text,
            );
            // Excluded: the name inside is refused, the one outside passes.
            let excluded = constraints(vec![], vec![form.constraint.clone()]);
            let under_other = |subject: &str, sans: Vec<GeneralName>| {
                verify_under(
                    CA_OTHER,
                    excluded.clone(),
                    at,
                    true,
                    subject,
                    sans,
                    &options(),
                )
            };
            under_other(form.outside.0, form.outside.1.clone()).unwrap_or_else(|e| {
                panic!("{context}: name outside the excluded tree refused: {e}")
            });
            let err = under_other(form.inside.0, form.inside.1.clone())
                .expect_err(&format!("{context}: excluded name accepted"));
            assert!(
                matches!(&err, ChainError::NameConstraintViolation { violation: "excluded", constrained_by, .. }
                    if constrained_by.position() == at.position()),
                "{context}: {err}"
            );
        }
    }
}

#[test]
fn a_constraint_of_one_form_leaves_other_forms_free() {
    let nc = constraints(vec![dns("example.com")], vec![]);
    verify(
        nc,
        At::Intermediate,
        "CN=leaf",
        vec![email("anyone@anywhere.test")],
    )
    .unwrap();
}

#[test]
fn dns_subtree_boundaries() {
    let nc = constraints(vec![dns("example.com")], vec![]);
    // Not a label boundary: "badexample.com" is not below "example.com".
    assert_violation(
        verify(
            nc.clone(),
            At::Intermediate,
            "CN=leaf",
            vec![dns("badexample.com")],
        ),
        At::Intermediate,
        "not permitted",
        "badexample.com",
    );
    verify(nc, At::Intermediate, "CN=leaf", vec![dns("example.com")]).unwrap();
    // With a leading dot, only names below.
    let dotted = constraints(vec![dns(".example.com")], vec![]);
    assert_violation(
        verify(dotted, At::AnchorInput, "CN=leaf", vec![dns("example.com")]),
        At::AnchorInput,
        "not permitted",
        "DNS:example.com",
    );
}

#[test]
fn the_anchor_constrains_intermediates_too() {
    // The CA's own subject (CN=CA,O=Permitted) is outside the anchor's permitted tree.
    let nc = constraints(vec![dn("O=Elsewhere")], vec![]);
    let err = verify(nc, At::AnchorInput, "CN=leaf,O=Elsewhere", vec![]).unwrap_err();
    assert!(
        matches!(&err, ChainError::NameConstraintViolation { cert, constrained_by, .. }
            if cert.position() == Position::Path(1) && constrained_by.position() == Position::Anchor),
        "{err}"
    );
}

#[test]
fn unsupported_forms_fail_closed_when_critical() {
    let registered = GeneralName::RegisteredId(const_oid::ObjectIdentifier::new_unwrap("1.2.3.4"));
    let nc = constraints(vec![registered], vec![]);
    for at in [At::AnchorExtension, At::AnchorInput, At::Intermediate] {
        let err = verify(nc.clone(), at, "CN=leaf", vec![dns("a.example")]).unwrap_err();
        assert!(
            matches!(&err, ChainError::UnsupportedNameConstraint { cert, reason }
                if cert.position() == at.position() && reason.contains("registeredID")),
            "{at:?}: {err}"
        );
    }
    // Not critical (against RFC 5280, which requires it to be): the subtree is skipped.
    verify_with(
        nc,
        At::Intermediate,
        false,
        "CN=leaf",
        vec![dns("a.example")],
        &options(),
    )
    .unwrap();
    // A maximum (RFC 5280: must be absent) is refused as well.
    let mut with_max = constraints(vec![dns("example.com")], vec![]);
    if let Some(subtrees) = with_max.permitted_subtrees.as_mut() {
        subtrees[0].maximum = Some(3);
    }
    let err = verify(with_max, At::Intermediate, "CN=leaf", vec![]).unwrap_err();
    assert!(
        matches!(err, ChainError::UnsupportedNameConstraint { .. }),
        "{err}"
    );
}

#[test]
fn thousands_of_names_and_constraints_hit_the_budget() {
    let nc = |subtrees: usize| {
        let permitted = (0..subtrees)
            .map(|i| dns(&format!("p{i}.example")))
            .collect();
        let excluded = (0..subtrees)
            .map(|i| dns(&format!("x{i}.example")))
            .collect();
        constraints(permitted, excluded)
    };
    // Every name lies in the last permitted subtree, so each is compared with all of them:
    // 2,000 names and 3,000 subtrees would take 6,000,000 comparisons.
    let sans = |names: usize, last: usize| -> Vec<GeneralName> {
        (0..names)
            .map(|i| dns(&format!("h{i}.p{last}.example")))
            .collect()
    };
    let err = verify(nc(1500), At::Intermediate, "CN=leaf", sans(2000, 1499)).unwrap_err();
    assert_eq!(
        err,
        ChainError::NameConstraintBudgetExceeded { limit: 250_000 },
        "{err}"
    );
    assert!(err.is_fatal());
    // A smaller budget is reached sooner, with its own limit in the error.
    let small = options().with_budget(Budget::default().with_name_comparisons(1_000));
    let err = verify_with(
        nc(40),
        At::AnchorInput,
        true,
        "CN=leaf",
        sans(40, 39),
        &small,
    )
    .unwrap_err();
    assert_eq!(
        err,
        ChainError::NameConstraintBudgetExceeded { limit: 1_000 }
    );
    // 300 names and 300 subtrees (about 90,000 comparisons) fit the default budget.
    verify(nc(150), At::Intermediate, "CN=leaf", sans(300, 149)).unwrap();
}

#[test]
fn no_constraints_means_no_comparisons() {
    // A budget of zero comparisons is enough when nothing is constrained.
    let (anchor_key, leaf_key) = (Key::p256(310), Key::p256(311));
    let anchor = Spec::ca("CN=Anchor", None).self_signed(&anchor_key);
    let leaf: Cert = Spec::new("CN=leaf")
        .issuer("CN=Anchor")
        .extension(extension(SUBJECT_ALT_NAME, false, &vec![dns("a.example")]))
        .sign(&leaf_key, &anchor_key);
    let zero = options().with_budget(Budget::default().with_name_comparisons(0));
    verify_path(
        &leaf,
        &[],
        &TrustAnchors::from(TrustAnchor::new(anchor)),
        AT,
        &zero,
    )
    .unwrap();
}

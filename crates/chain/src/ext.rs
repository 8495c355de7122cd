//! The certificate extensions path validation reads, decoded once per certificate.

use const_oid::ObjectIdentifier;
use der::Decode;
use rms_cert::{Rights, oid as rms_oid};
use x509_cert::Certificate;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CertificatePolicies, CrlDistributionPoints,
    InhibitAnyPolicy, KeyUsage, NameConstraints, PolicyConstraints, PolicyMappings, SubjectAltName,
    SubjectKeyIdentifier,
};

use crate::error::{CertRef, ChainError};

pub(crate) const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
pub(crate) const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
pub(crate) const SUBJECT_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
pub(crate) const AUTHORITY_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
pub(crate) const SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
pub(crate) const NAME_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.30");
pub(crate) const CERTIFICATE_POLICIES: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.32");
pub(crate) const POLICY_MAPPINGS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.33");
pub(crate) const POLICY_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.36");
pub(crate) const INHIBIT_ANY_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.54");
pub(crate) const CRL_DISTRIBUTION_POINTS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.5.29.31");

/// Extensions this crate understands, and so accepts when they are critical. Everything else
/// marked critical is refused (RFC 5280 §4.2), extended key usage among them.
const UNDERSTOOD: [ObjectIdentifier; 14] = [
    BASIC_CONSTRAINTS,
    KEY_USAGE,
    SUBJECT_KEY_ID,
    AUTHORITY_KEY_ID,
    SUBJECT_ALT_NAME,
    NAME_CONSTRAINTS,
    CERTIFICATE_POLICIES,
    POLICY_MAPPINGS,
    POLICY_CONSTRAINTS,
    INHIBIT_ANY_POLICY,
    CRL_DISTRIBUTION_POINTS,
    rms_oid::RIGHTS_GRANTED,
    rms_oid::SERVER_ROLE,
    rms_oid::SERVER_ID,
];

/// The extensions path validation uses.
#[derive(Debug, Clone, Default)]
pub(crate) struct Extensions {
    pub(crate) basic_constraints: Option<BasicConstraints>,
    pub(crate) key_usage: Option<KeyUsage>,
    pub(crate) subject_key_id: Option<Vec<u8>>,
    pub(crate) authority_key_id: Option<Vec<u8>>,
    pub(crate) rights: Option<Rights>,
    /// The subject alternative names; a list that cannot be read is kept as the reason, and
    /// refuses the certificate only where name constraints need its names.
    pub(crate) subject_alt_names: Option<Result<Vec<GeneralName>, String>>,
    pub(crate) name_constraints: Option<NameConstraints>,
    /// Whether the nameConstraints extension is marked critical.
    pub(crate) name_constraints_critical: bool,
    /// The policy identifiers of certificatePolicies, each once (qualifiers are ignored, as
    /// RFC 5280 §6.1 allows).
    pub(crate) policies: Option<Vec<ObjectIdentifier>>,
    /// policyMappings: (issuerDomainPolicy, subjectDomainPolicy) pairs.
    pub(crate) policy_mappings: Option<Vec<(ObjectIdentifier, ObjectIdentifier)>>,
    pub(crate) policy_constraints: Option<PolicyConstraints>,
    pub(crate) inhibit_any_policy: Option<u32>,
    /// The CRL distribution points; a list that cannot be read is kept as the reason, and
    /// leaves the certificate's revocation status unknown where it is required.
    pub(crate) crl_distribution_points: Option<Result<Vec<DistributionPoint>, String>>,
    pub(crate) unsupported_critical: Option<ObjectIdentifier>,
}

impl Extensions {
    /// Whether the certificate carries any extension of policy processing.
    pub(crate) fn has_policy_extensions(&self) -> bool {
        self.policies.is_some()
            || self.policy_mappings.is_some()
            || self.policy_constraints.is_some()
            || self.inhibit_any_policy.is_some()
    }
}

pub(crate) fn read_extensions(
    cert: &Certificate,
    input: &dyn Fn() -> CertRef,
) -> Result<Extensions, ChainError> {
    let mut ext = Extensions::default();
    let mut seen: Vec<ObjectIdentifier> = Vec::new();
    for e in cert
        .tbs_certificate()
        .extensions()
        .map(|e| e.as_slice())
        .unwrap_or_default()
    {
        let oid = e.extn_id;
        if seen.contains(&oid) {
            return Err(ChainError::DuplicateExtension { cert: input(), oid });
        }
        seen.push(oid);
        let value = e.extn_value.as_bytes();
        let invalid = |reason: String| ChainError::InvalidExtension {
            cert: input(),
            oid,
            reason,
        };
        match oid {
            BASIC_CONSTRAINTS => {
                ext.basic_constraints =
                    Some(BasicConstraints::from_der(value).map_err(|e| invalid(e.to_string()))?);
            }
            KEY_USAGE => {
                ext.key_usage =
                    Some(KeyUsage::from_der(value).map_err(|e| invalid(e.to_string()))?);
            }
            SUBJECT_KEY_ID => {
                let ski =
                    SubjectKeyIdentifier::from_der(value).map_err(|e| invalid(e.to_string()))?;
                ext.subject_key_id = Some(ski.0.as_bytes().to_vec());
            }
            AUTHORITY_KEY_ID => {
                let aki =
                    AuthorityKeyIdentifier::from_der(value).map_err(|e| invalid(e.to_string()))?;
                ext.authority_key_id = aki.key_identifier.map(|id| id.as_bytes().to_vec());
            }
            rms_oid::RIGHTS_GRANTED => {
                ext.rights = Some(Rights::from_der(value).map_err(|e| invalid(e.to_string()))?);
            }
            SUBJECT_ALT_NAME => {
                ext.subject_alt_names = Some(
                    SubjectAltName::from_der(value)
                        .map(|san| san.0)
                        .map_err(|e| e.to_string()),
                );
            }
            NAME_CONSTRAINTS => {
                ext.name_constraints =
                    Some(NameConstraints::from_der(value).map_err(|e| invalid(e.to_string()))?);
                ext.name_constraints_critical = e.critical;
            }
            CERTIFICATE_POLICIES => {
                let policies =
                    CertificatePolicies::from_der(value).map_err(|e| invalid(e.to_string()))?;
                let mut ids: Vec<ObjectIdentifier> = Vec::with_capacity(policies.0.len());
                for info in policies.0 {
                    if ids.contains(&info.policy_identifier) {
                        return Err(invalid(format!(
                            "policy {} is listed twice (RFC 5280 §4.2.1.4)",
                            info.policy_identifier
                        )));
                    }
                    ids.push(info.policy_identifier);
                }
                ext.policies = Some(ids);
            }
            POLICY_MAPPINGS => {
                let mappings =
                    PolicyMappings::from_der(value).map_err(|e| invalid(e.to_string()))?;
                ext.policy_mappings = Some(
                    mappings
                        .0
                        .into_iter()
                        .map(|m| (m.issuer_domain_policy, m.subject_domain_policy))
                        .collect(),
                );
            }
            POLICY_CONSTRAINTS => {
                let constraints =
                    PolicyConstraints::from_der(value).map_err(|e| invalid(e.to_string()))?;
                if constraints.require_explicit_policy.is_none()
                    && constraints.inhibit_policy_mapping.is_none()
                {
                    return Err(invalid(
                        "policyConstraints is empty (RFC 5280 §4.2.1.11)".to_owned(),
                    ));
                }
                ext.policy_constraints = Some(constraints);
            }
            INHIBIT_ANY_POLICY => {
                ext.inhibit_any_policy = Some(
                    InhibitAnyPolicy::from_der(value)
                        .map_err(|e| invalid(e.to_string()))?
                        .0,
                );
            }
            CRL_DISTRIBUTION_POINTS => {
                ext.crl_distribution_points = Some(
                    CrlDistributionPoints::from_der(value)
                        .map(|points| points.0)
                        .map_err(|e| e.to_string()),
                );
            }
            _ => {}
        }
        if e.critical && !UNDERSTOOD.contains(&oid) && ext.unsupported_critical.is_none() {
            ext.unsupported_critical = Some(oid);
        }
    }
    Ok(ext)
}

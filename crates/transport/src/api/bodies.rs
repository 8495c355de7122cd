//! The JSON bodies of our endpoints, and their translation to and from the roles' types.

use base64ct::{Base64, Encoding};
use der::Decode;
use rms_roles::PublishRequest;
use rms_roles::cert::{Grant, LicenseBody, SignedLicense, UsageRights, WrappedKey};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::ApiError;

/// `POST /certification/subenroll` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubEnrollBody {
    /// The PKCS#10 enrollment request, PEM.
    pub request_pem: String,
}

/// `POST /certification/renew` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewBody {
    /// The renewal request (signed with the key of the SLC being renewed), PEM.
    pub request_pem: String,
}

/// A chain of certificates, leaf first: the answer of sub-enrollment and of `GET /certification/chain`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChainBody {
    /// The chain, PEM, leaf first, trust anchor last.
    pub chain_pem: String,
}

/// One grant of a rights policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    /// The principal's name.
    pub principal: String,
    /// Rights: `view`, `edit`, `print`, `export`, `forward`.
    pub rights: Vec<String>,
    /// When the grant ends (RFC 3339), if before the license does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// `POST /licensing/publish` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    /// The content's identifier.
    pub content_id: String,
    /// Who may do what (absent or empty when publishing with a template).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<GrantBody>,
    /// The name of the cluster's rights policy template to publish with, instead of grants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// The content key wrapped (RSA-OAEP SHA-256) to the cluster's public key: base64 of the
    /// DER `WrappedKey` structure (see `docs/license-format.md`).
    pub content_key_wrapped: String,
}

impl PublishBody {
    /// The publish request this body asks for; 400 for what cannot be read.
    pub fn to_request(&self) -> Result<PublishRequest, ApiError> {
        let der = Base64::decode_vec(self.content_key_wrapped.trim()).map_err(|_| {
            ApiError::bad_request("malformed_content_key", "content_key_wrapped is not base64")
        })?;
        let grants = self
            .grants
            .iter()
            .map(GrantBody::to_grant)
            .collect::<Result<_, _>>()?;
        let wrapped_content_key = WrappedKey::from_der(&der).map_err(|e| {
            ApiError::bad_request(
                "malformed_content_key",
                format!("content_key_wrapped is not a DER WrappedKey: {e}"),
            )
        })?;
        Ok(PublishRequest {
            content_id: self.content_id.clone(),
            grants,
            template: self.template.clone(),
            wrapped_content_key,
        })
    }
}

impl PublishBody {
    /// The body that asks for `request`.
    pub fn from_request(request: &PublishRequest) -> Result<Self, ApiError> {
        let der = der::Encode::to_der(&request.wrapped_content_key)
            .map_err(|e| ApiError::internal(format!("wrapped content key: {e}")))?;
        Ok(Self {
            content_id: request.content_id.clone(),
            grants: request.grants.iter().map(GrantBody::from_grant).collect(),
            template: request.template.clone(),
            content_key_wrapped: Base64::encode_string(&der),
        })
    }
}

impl GrantBody {
    /// The body describing `grant`.
    pub fn from_grant(grant: &Grant) -> Self {
        Self {
            principal: grant.principal().to_owned(),
            rights: grant.rights().iter().map(|r| r.name().to_owned()).collect(),
            expires: grant.expires().map(rms_roles::rfc3339),
        }
    }

    /// The grant this body describes; 400 for what cannot be read.
    pub fn to_grant(&self) -> Result<Grant, ApiError> {
        let rights = UsageRights::from_names(&self.rights)
            .map_err(|e| ApiError::bad_request("invalid_rights", e.to_string()))?;
        let mut grant = Grant::new(&self.principal, rights)
            .map_err(|e| ApiError::bad_request("invalid_grant", e.to_string()))?;
        if let Some(expires) = &self.expires {
            let at = OffsetDateTime::parse(expires, &Rfc3339).map_err(|e| {
                ApiError::bad_request(
                    "invalid_grant",
                    format!("expires {expires:?} is not an RFC 3339 time: {e}"),
                )
            })?;
            grant = grant.with_expiry(at);
        }
        Ok(grant)
    }
}

/// `POST /licensing/uselicense` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UseLicenseBody {
    /// The publishing license, PEM.
    pub publishing_license_pem: String,
    /// The public key the content key is to be wrapped to (SubjectPublicKeyInfo, PEM).
    pub public_key_pem: String,
}

impl UseLicenseBody {
    /// The public key the body names; 400 when it is not a PEM public key.
    pub fn public_key(&self) -> Result<rms_roles::cert::spki::SubjectPublicKeyInfoOwned, ApiError> {
        use der::DecodePem;
        rms_roles::cert::spki::SubjectPublicKeyInfoOwned::from_pem(self.public_key_pem.trim())
            .map_err(|e| {
                ApiError::bad_request(
                    "malformed_public_key",
                    format!("public_key_pem is not a PEM public key: {e}"),
                )
            })
    }
}

/// A license: the answer of publishing and of use-license requests.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LicenseResponse {
    /// The license (CMS SignedData), PEM.
    pub license_pem: String,
    /// Its serial number, hex.
    pub serial: String,
}

impl LicenseResponse {
    /// The answer carrying `license`.
    pub fn from_license(license: &SignedLicense) -> Result<Self, ApiError> {
        let serial = match license.body() {
            LicenseBody::Publishing(pl) => pl.serial().to_string(),
            LicenseBody::Use(ul) => ul.serial().to_string(),
            _ => String::new(),
        };
        let license_pem = license
            .to_pem()
            .map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(Self {
            license_pem,
            serial,
        })
    }
}

/// `GET /healthz` answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    /// `ok`, or `degraded` with the reasons in `problems`.
    pub status: String,
    /// `root` or `licensing`.
    pub role: String,
    /// The cluster's name.
    pub cluster: String,
    /// This node.
    pub node: String,
    /// The current SLC's serial.
    pub slc_serial: String,
    /// When the current SLC expires (RFC 3339).
    pub slc_not_after: String,
    /// Whole days until then (negative once expired).
    pub slc_days_left: i64,
    /// What is wrong, if anything (the node cannot serve: HTTP 503).
    pub problems: Vec<String>,
    /// What needs attention soon, e.g. an SLC inside its renewal window (still HTTP 200).
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl From<rms_roles::Health> for Health {
    fn from(health: rms_roles::Health) -> Self {
        Self {
            status: if health.is_healthy() {
                "ok"
            } else {
                "degraded"
            }
            .to_owned(),
            role: health.role.to_string(),
            cluster: health.cluster,
            node: health.node,
            slc_serial: health.slc_serial,
            slc_not_after: rms_roles::rfc3339(health.slc_not_after),
            slc_days_left: health.slc_days_left,
            problems: health.problems,
            warnings: health.warnings,
        }
    }
}

use rms_cert::{CertError, RequestError};
use rms_store::StoreError;

/// What kind of failure an error is, so a transport can answer with the right status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// The input could not be read (HTTP 400).
    BadRequest,
    /// No credentials, or unknown ones (401).
    Unauthenticated,
    /// The DACL refused the caller (403).
    Forbidden,
    /// Something named does not exist (404).
    NotFound,
    /// Well formed, but refused (422).
    Unprocessable,
    /// The server cannot serve now: database out of reach, SLC expired (503).
    Unavailable,
    /// Our fault (500).
    Internal,
}

/// Everything the roles refuse or fail at. Each message says what was wrong and, where an
/// operator can act, what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RoleError {
    /// No token, or a token no principal holds.
    #[error("{0}")]
    Unauthenticated(String),
    /// The service's DACL refused the caller.
    #[error("{principal} may not use {service}: {reason}")]
    Denied {
        /// Who asked.
        principal: String,
        /// The service.
        service: String,
        /// The deciding ACE or the reason, as the access check gave it.
        reason: String,
    },
    /// The input could not be decoded.
    #[error("{message}")]
    BadInput {
        /// A stable code.
        code: &'static str,
        /// What was wrong.
        message: String,
    },
    /// The input was read, and refused.
    #[error("{message}")]
    Refused {
        /// A stable code.
        code: &'static str,
        /// Why.
        message: String,
    },
    /// Something named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The cluster cannot issue now (its SLC is expired or not yet valid).
    #[error("{message}")]
    NotReady {
        /// A stable code.
        code: &'static str,
        /// Why, and what to do.
        message: String,
    },
    /// The cluster secret is missing, malformed, or does not decrypt the SLC key.
    #[error("{0}")]
    Secret(String),
    /// The configuration database refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A certificate or license operation failed for a reason that is not the caller's.
    #[error("certificate operation failed: {0}")]
    Cert(CertError),
    /// Our fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl RoleError {
    /// The class of the error.
    pub fn class(&self) -> ErrorClass {
        match self {
            RoleError::Unauthenticated(_) => ErrorClass::Unauthenticated,
            RoleError::Denied { .. } => ErrorClass::Forbidden,
            RoleError::BadInput { .. } => ErrorClass::BadRequest,
            RoleError::Refused { .. } => ErrorClass::Unprocessable,
            RoleError::NotFound(_) => ErrorClass::NotFound,
            RoleError::NotReady { .. } => ErrorClass::Unavailable,
            RoleError::Store(e) if e.is_unavailable() => ErrorClass::Unavailable,
            RoleError::Store(StoreError::NotFound { .. }) => ErrorClass::NotFound,
            RoleError::Store(StoreError::AlreadyExists { .. }) => ErrorClass::Unprocessable,
            RoleError::Store(StoreError::NoCluster) => ErrorClass::Unavailable,
            RoleError::Store(StoreError::StaleConfiguration { .. }) => ErrorClass::Unavailable,
            RoleError::Store(_)
            | RoleError::Secret(_)
            | RoleError::Cert(_)
            | RoleError::Internal(_) => ErrorClass::Internal,
        }
    }

    /// A stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            RoleError::Unauthenticated(_) => "unauthorized",
            RoleError::Denied { .. } => "forbidden",
            RoleError::BadInput { code, .. }
            | RoleError::Refused { code, .. }
            | RoleError::NotReady { code, .. } => code,
            RoleError::NotFound(_) => "not_found",
            RoleError::Store(e) if e.is_unavailable() => "store_unavailable",
            RoleError::Store(StoreError::AlreadyExists { .. }) => "already_exists",
            RoleError::Store(StoreError::NotFound { .. }) => "not_found",
            RoleError::Store(StoreError::NoCluster) => "no_cluster",
            RoleError::Store(StoreError::StaleConfiguration { .. }) => "configuration_changing",
            RoleError::Store(_) => "store_error",
            RoleError::Secret(_) => "secret",
            RoleError::Cert(_) => "certificate_error",
            RoleError::Internal(_) => "internal",
        }
    }

    pub(crate) fn bad_input(code: &'static str, message: impl Into<String>) -> Self {
        RoleError::BadInput {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn refused(code: &'static str, message: impl Into<String>) -> Self {
        RoleError::Refused {
            code,
            message: message.into(),
        }
    }
}

/// Maps a refused enrollment request to a caller's error: undecodable requests are bad input,
/// the rest are refusals of a readable request.
pub(crate) fn request_refused(error: RequestError) -> RoleError {
    let code = match &error {
        RequestError::Encoding(_) | RequestError::TrailingData { .. } => {
            return RoleError::bad_input(
                "malformed_request",
                format!("enrollment request: {error}"),
            );
        }
        RequestError::BadSignature => "bad_signature",
        RequestError::UnsupportedSignatureAlgorithm { .. } => "unsupported_signature_algorithm",
        RequestError::KeyNotRsa { .. } | RequestError::InvalidKey { .. } => "unsupported_key",
        RequestError::KeySize { .. } => "weak_key",
        RequestError::Exponent { .. } => "bad_exponent",
        RequestError::UnknownCriticalExtension { .. } => "unknown_critical_extension",
        _ => "invalid_request_field",
    };
    RoleError::refused(code, format!("enrollment request refused: {error}"))
}

/// Maps a certificate-model error met while serving a caller.
pub(crate) fn cert_refused(error: CertError) -> RoleError {
    match error {
        CertError::Request(e) => request_refused(e),
        CertError::Decode { .. } | CertError::TrailingData { .. } | CertError::License(_) => {
            RoleError::bad_input("malformed_input", error.to_string())
        }
        CertError::WrongRole { .. } => RoleError::refused("wrong_role", error.to_string()),
        CertError::SameKey => RoleError::refused("same_key", error.to_string()),
        CertError::GranteeNotInPolicy { .. } => {
            RoleError::refused("not_granted", error.to_string())
        }
        CertError::LicenseInput { .. } | CertError::ContentKey { .. } => {
            RoleError::refused("license_refused", error.to_string())
        }
        CertError::UnsupportedKeySize { .. } | CertError::Key { .. } => {
            RoleError::refused("unsupported_key", error.to_string())
        }
        CertError::InvalidRenewal { .. } => {
            RoleError::bad_input("malformed_renewal", error.to_string())
        }
        CertError::RenewalCertificateMismatch { .. } => {
            RoleError::refused("renewal_wrong_certificate", error.to_string())
        }
        CertError::RenewalNotSignedByCurrentKey { .. } => {
            RoleError::refused("renewal_not_signed_by_slc", error.to_string())
        }
        CertError::RenewalInnerRequest(e) => request_refused(e),
        CertError::RenewalIdentityChanged { .. } => {
            RoleError::refused("renewal_identity_changed", error.to_string())
        }
        CertError::IssuerNotValid { .. } => RoleError::NotReady {
            code: "slc_not_valid",
            message: format!("{error}; renew the server licensor certificate"),
        },
        other => RoleError::Cert(other),
    }
}

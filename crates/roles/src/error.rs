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
    #[error("certificate operation failed")]
    Cert(#[source] CertError),
    /// The cluster's key could not be used: its token is out of reach (503), or it is not
    /// where its reference says (a wrong PIN, no such key or module).
    #[error("the cluster's key cannot be used")]
    Key(#[source] rms_keys::KeyError),
    /// Another server (the issuer of the SLC when renewing, a licensing server for a client)
    /// could not be reached, or refused.
    #[error("the server did not do as asked")]
    Upstream(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A protected file could not be protected, read or opened (`rms-content` says why and
    /// where).
    #[error(transparent)]
    Content(#[from] rms_content::ContentError),
    /// A file of the client's own (a document, its license store) could not be read or
    /// written.
    #[error("{what}")]
    LocalFile {
        /// What was being done, naming the file.
        what: String,
        /// The system's reason.
        #[source]
        source: std::io::Error,
    },
    /// Our fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl RoleError {
    /// The class of the error.
    #[must_use]
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
            RoleError::Upstream(_) => ErrorClass::Unavailable,
            RoleError::Key(e) if e.is_unavailable() => ErrorClass::Unavailable,
            RoleError::Key(_) => ErrorClass::Internal,
            RoleError::Content(e) => match e.rank() {
                0 => ErrorClass::BadRequest,
                10 => ErrorClass::Internal,
                _ => ErrorClass::Unprocessable,
            },
            RoleError::LocalFile { .. } => ErrorClass::Internal,
            RoleError::Store(_)
            | RoleError::Secret(_)
            | RoleError::Cert(_)
            | RoleError::Internal(_) => ErrorClass::Internal,
        }
    }

    /// A stable, machine-readable code.
    #[must_use]
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
            RoleError::Upstream(_) => "upstream_unavailable",
            RoleError::Key(e) if e.is_unavailable() => "key_unavailable",
            RoleError::Key(_) => "key_error",
            RoleError::Content(e) => match e.rank() {
                0 => "invalid_document_input",
                10 => "document_io",
                _ => "protected_file_refused",
            },
            RoleError::LocalFile { .. } => "local_file",
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

    /// An I/O failure on the client's own file: `what` names the file.
    pub(crate) fn local_file(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| RoleError::LocalFile { what, source }
    }
}

/// `error`'s message followed by its causes' (each [`std::error::Error::source`]), separated by
/// `": "`: how to show an error to a person when its causes are not in its own message.
///
/// ```
/// let io = std::io::Error::other("disk full");
/// let error = rms_roles::RoleError::Upstream(Box::new(io));
/// assert_eq!(rms_roles::describe_error(&error), "the server did not do as asked: disk full");
/// ```
#[must_use]
pub fn describe_error(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let message = inner.to_string();
        // A cause that repeats what its parent said adds nothing.
        if !text.ends_with(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        cause = inner.source();
    }
    text
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
            RoleError::bad_input("malformed_input", describe_error(&error))
        }
        CertError::WrongRole { .. } => RoleError::refused("wrong_role", describe_error(&error)),
        CertError::SameKey => RoleError::refused("same_key", describe_error(&error)),
        CertError::GranteeNotInPolicy { .. } => {
            RoleError::refused("not_granted", describe_error(&error))
        }
        CertError::UnknownUsageRight { .. } => {
            RoleError::bad_input("invalid_rights", describe_error(&error))
        }
        CertError::LicenseInput { .. } | CertError::ContentKey { .. } => {
            RoleError::refused("license_refused", describe_error(&error))
        }
        CertError::UnsupportedKeySize { .. } | CertError::Key { .. } => {
            RoleError::refused("unsupported_key", describe_error(&error))
        }
        CertError::InvalidRenewal { .. } => {
            RoleError::bad_input("malformed_renewal", describe_error(&error))
        }
        CertError::RenewalCertificateMismatch { .. } => {
            RoleError::refused("renewal_wrong_certificate", describe_error(&error))
        }
        CertError::RenewalNotSignedByCurrentKey { .. } => {
            RoleError::refused("renewal_not_signed_by_slc", describe_error(&error))
        }
        CertError::RenewalInnerRequest(e) => request_refused(e),
        CertError::RenewalIdentityChanged { .. } => {
            RoleError::refused("renewal_identity_changed", describe_error(&error))
        }
        CertError::Keys(key) => RoleError::Key(key),
        CertError::IssuerNotValid { .. } => RoleError::NotReady {
            code: "slc_not_valid",
            message: format!("{error}; renew the server licensor certificate"),
        },
        other => RoleError::Cert(other),
    }
}

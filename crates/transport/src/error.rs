use hyper::StatusCode;
use serde::{Deserialize, Serialize};

/// An error answered to a client: an HTTP status, a stable machine-readable code and a message
/// for people. Rendered as `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable code, e.g. `bad_request`, `forbidden`, `weak_key`.
    pub code: String,
    /// What was wrong, for people.
    pub message: String,
}

/// The JSON shape of an error body.
#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The inside of an error body.
#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// A stable code.
    pub code: String,
    /// What was wrong.
    pub message: String,
}

impl ApiError {
    /// An error with any status and code.
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    /// 400: the request cannot be read.
    pub fn bad_request(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401: no credentials, or unknown ones.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: the caller is known but not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404: no such resource.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 422: well formed, but refused.
    pub fn unprocessable(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 503: a dependency (the configuration database) is out of reach.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// 500: our fault. Never used for a client's mistake.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// The JSON body.
    #[must_use]
    pub fn to_json(&self) -> String {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.clone(),
                message: self.message.clone(),
            },
        };
        serde_json::to_string(&body).unwrap_or_else(|_| {
            String::from(r#"{"error":{"code":"internal","message":"error could not be rendered"}}"#)
        })
    }
}

/// Failures of the transport itself: setting up a server, or a client call that did not get an
/// answer we could read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The listening address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server could not listen for a shutdown signal.
    #[error("cannot listen for {name}")]
    Signal {
        /// The signal.
        name: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// Plain HTTP was asked for on an address other than loopback.
    #[error(
        "refusing plain HTTP on {addr}, which is not a loopback address: give --tls-cert and --tls-key, or allow it explicitly (--insecure-http)"
    )]
    PlainHttpOffLoopback {
        /// The address.
        addr: std::net::SocketAddr,
    },
    /// A TLS certificate or key file could not be used.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// A URL the client cannot use.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The connection failed or broke.
    #[error("cannot reach {target}: {reason}")]
    Connect {
        /// host:port.
        target: String,
        /// Why.
        reason: String,
    },
    /// The server answered with an error.
    #[error("server refused the request: {0}")]
    Api(ApiError),
    /// The local half of an exchange failed (a renewal the root answered, but whose chain this
    /// server refuses to install).
    #[error(transparent)]
    Role(#[from] rms_roles::RoleError),
    /// The server's answer could not be read.
    #[error("unreadable response from server: {0}")]
    BadResponse(String),
    /// The server's answer was larger than the client reads.
    #[error("the server's answer is over the limit of {limit} bytes")]
    ResponseTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

//! The context of a request: who asks (a bearer token to check, or a caller already
//! authenticated), from which address, under which request id. Every role method takes one,
//! and every audit entry written for the request records its peer and request id.

use std::fmt;
use std::net::IpAddr;

use crate::cluster::Caller;
use crate::secret::random_bytes;

/// How the caller of a request proves who they are.
#[derive(Clone)]
pub(crate) enum Credentials {
    /// Nothing: an anonymous request (the chain, renewal and revocation endpoints allow them
    /// by default).
    None,
    /// A bearer token, not yet checked.
    Bearer(String),
    /// A caller the cluster (or the embedding service) authenticated already.
    Caller(Box<Caller>),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            // Never print a secret.
            Credentials::Bearer(_) => f.write_str("Bearer(..)"),
            Credentials::Caller(caller) => f.debug_tuple("Caller").field(&caller.name).finish(),
        }
    }
}

/// Who asks, from where, under which id: what every role method takes.
///
/// ```
/// use rms_roles::RequestContext;
///
/// let context = RequestContext::bearer("b8d1...")
///     .with_peer("192.0.2.7".parse().unwrap())
///     .with_request_id("req-42");
/// assert_eq!(context.request_id(), "req-42");
/// assert_eq!(context.peer().map(|p| p.to_string()).as_deref(), Some("192.0.2.7"));
/// // A fresh context gets a random request id.
/// assert_eq!(RequestContext::anonymous().request_id().len(), 16);
/// ```
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub(crate) credentials: Credentials,
    peer: Option<IpAddr>,
    request_id: String,
}

impl RequestContext {
    fn with_credentials(credentials: Credentials) -> Self {
        Self {
            credentials,
            peer: None,
            request_id: new_request_id(),
        }
    }

    /// A request without credentials.
    #[must_use]
    pub fn anonymous() -> Self {
        Self::with_credentials(Credentials::None)
    }

    /// A request with a bearer token; the role checks it.
    #[must_use]
    pub fn bearer(token: impl Into<String>) -> Self {
        Self::with_credentials(Credentials::Bearer(token.into()))
    }

    /// A request by `caller`, authenticated already (by [`Cluster::authenticate`] or, for a
    /// service with its own authentication, [`Cluster::caller_for_principal`]).
    ///
    /// [`Cluster::authenticate`]: crate::Cluster::authenticate
    /// [`Cluster::caller_for_principal`]: crate::Cluster::caller_for_principal
    #[must_use]
    pub fn caller(caller: Caller) -> Self {
        Self::with_credentials(Credentials::Caller(Box::new(caller)))
    }

    /// The same request, from `peer`.
    #[must_use]
    pub fn with_peer(mut self, peer: IpAddr) -> Self {
        self.peer = Some(peer);
        self
    }

    /// The same request, under `request_id` (for example the one a proxy gave it).
    #[must_use]
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = request_id.into();
        self
    }

    /// The same request, now by `caller`.
    #[must_use]
    pub fn authenticated(mut self, caller: Caller) -> Self {
        self.credentials = Credentials::Caller(Box::new(caller));
        self
    }

    /// The address the request came from, if it came over a network.
    #[must_use]
    pub fn peer(&self) -> Option<IpAddr> {
        self.peer
    }

    /// The request's identifier.
    #[must_use]
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// Whether the request carries credentials (a token or an authenticated caller).
    #[must_use]
    pub fn has_credentials(&self) -> bool {
        !matches!(self.credentials, Credentials::None)
    }

    /// The authenticated caller, if the request carries one.
    #[must_use]
    pub fn authenticated_caller(&self) -> Option<&Caller> {
        match &self.credentials {
            Credentials::Caller(caller) => Some(caller),
            _ => None,
        }
    }
}

/// 16 random hex digits.
fn new_request_id() -> String {
    // The operating system's generator failing leaves the request without an id worth the
    // name, not without service: fall back to the process id and a counter.
    match random_bytes::<8>() {
        Ok(bytes) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        Err(_) => {
            static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            format!("{:08x}{:08x}", std::process::id(), n & 0xffff_ffff)
        }
    }
}

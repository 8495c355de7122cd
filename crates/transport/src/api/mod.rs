//! Our HTTP API: the endpoints of the root certification and licensing servers
//! ([`root_router`], [`licensing_router`]), their JSON bodies, and typed client calls
//! ([`ApiClient`]). `docs/protocol.md` documents every request, response and error.
//!
//! Each handler decodes, makes one call to the role (`rms-roles`), and encodes: the rules are
//! the role's. On an endpoint that needs a bearer token, the token is checked before the body is
//! parsed, so a caller without valid credentials learns nothing about what a request must look
//! like.

mod bodies;
mod client;
mod routes;

pub use bodies::{
    ChainBody, GrantBody, Health, LicenseResponse, PublishBody, RenewBody, SubEnrollBody,
    UseLicenseBody,
};
pub use client::ApiClient;
pub use routes::{api_error, licensing_router, root_router};

/// Path of sub-enrollment (root).
pub const SUBENROLL: &str = "/certification/subenroll";
/// Path of the cluster's chain (root and licensing).
pub const CHAIN: &str = "/certification/chain";
/// Path of publishing (licensing).
pub const PUBLISH: &str = "/licensing/publish";
/// Path of use licenses (licensing).
pub const USE_LICENSE: &str = "/licensing/uselicense";
/// Path of the signed list of rights policy templates (licensing; DER, `application/cms`).
pub const TEMPLATES: &str = "/licensing/templates";
/// Path of the signed list of revoked content and use licenses (licensing; DER,
/// `application/cms`).
pub const REVOCATIONS: &str = "/licensing/revocations";
/// Path of SLC renewal (root).
pub const RENEW: &str = "/certification/renew";
/// Path of the root's certificate revocation list (DER, `application/pkix-crl`).
pub const CRL: &str = "/certification/crl";
/// Path of the health check.
pub const HEALTH: &str = "/healthz";
/// Path of the metrics.
pub const METRICS: &str = "/metrics";

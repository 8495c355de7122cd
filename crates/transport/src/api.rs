//! Our HTTP API: the endpoints of the root certification and licensing servers, their JSON
//! bodies, and typed client calls. `docs/protocol.md` documents every request, response and
//! error.

use std::sync::Arc;

use base64ct::{Base64, Encoding};
use rms_cert::{Grant, SignedLicense, UsageRight, UsageRights};
use rms_roles::{Cluster, ErrorClass, LicensingRole, PublishRequest, RoleError, RootRole};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{
    ApiError, Client, Method, Metrics, Request, Response, Router, StatusCode, TransportError,
};

/// Path of sub-enrollment (root).
pub const SUBENROLL: &str = "/certification/subenroll";
/// Path of the cluster's chain (root and licensing).
pub const CHAIN: &str = "/certification/chain";
/// Path of publishing (licensing).
pub const PUBLISH: &str = "/licensing/publish";
/// Path of use licenses (licensing).
pub const USE_LICENSE: &str = "/licensing/uselicense";
/// Path of SLC renewal (root).
pub const RENEW: &str = "/certification/renew";
/// Path of the root's certificate revocation list (DER, `application/pkix-crl`).
pub const CRL: &str = "/certification/crl";
/// Path of the health check.
pub const HEALTH: &str = "/healthz";
/// Path of the metrics.
pub const METRICS: &str = "/metrics";

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
    /// Who may do what.
    pub grants: Vec<GrantBody>,
    /// The content key wrapped (RSA-OAEP SHA-256) to the cluster's public key: base64 of the
    /// DER `WrappedKey` structure (see `docs/license-format.md`).
    pub content_key_wrapped: String,
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

/// A license: the answer of publishing and of use-license requests.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LicenseResponse {
    /// The license (CMS SignedData), PEM.
    pub license_pem: String,
    /// Its serial number, hex.
    pub serial: String,
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

/// Maps a role error to the answer a client gets.
pub fn api_error(error: &RoleError) -> ApiError {
    let status = match error.class() {
        ErrorClass::BadRequest => StatusCode::BAD_REQUEST,
        ErrorClass::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorClass::Forbidden => StatusCode::FORBIDDEN,
        ErrorClass::NotFound => StatusCode::NOT_FOUND,
        ErrorClass::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorClass::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
        tracing::error!(%error, "request failed on our side");
    }
    ApiError::new(status, error.code(), error.to_string())
}

fn role_error<'a>(metrics: &'a Metrics, service: &'a str) -> impl Fn(RoleError) -> ApiError + 'a {
    move |error| {
        if error.class() == ErrorClass::Forbidden {
            metrics.increment(
                "rms_access_denied_total",
                "Requests refused by a service's DACL.",
                &[("service", service)],
            );
        }
        api_error(&error)
    }
}

fn issued(metrics: &Metrics, kind: &str) {
    metrics.increment(
        "rms_issued_total",
        "Certificates and licenses issued.",
        &[("kind", kind)],
    );
}

/// The routes of a root certification server.
pub fn root_router(root: RootRole, metrics: Arc<Metrics>) -> Router {
    let cluster = root.cluster().clone();
    let root = Arc::new(root);
    let (subenroll_root, subenroll_metrics) = (root.clone(), metrics.clone());
    let (renew_root, renew_metrics) = (root.clone(), metrics.clone());
    common_routes(cluster, metrics)
        .route(Method::POST, SUBENROLL, move |request: Request| {
            let root = subenroll_root.clone();
            let metrics = subenroll_metrics.clone();
            async move {
                let body: SubEnrollBody = request.json()?;
                let chain = root
                    .sub_enroll(request.bearer_token(), body.request_pem.as_bytes())
                    .await
                    .map_err(role_error(&metrics, "SubEnrollService"))?;
                issued(&metrics, "slc");
                chain_response(&chain)
            }
        })
        .route(Method::POST, RENEW, move |request: Request| {
            let root = renew_root.clone();
            let metrics = renew_metrics.clone();
            async move {
                let body: RenewBody = request.json()?;
                let chain = root
                    .renew(request.bearer_token(), body.request_pem.as_bytes())
                    .await
                    .map_err(role_error(&metrics, "RenewalService"))?;
                issued(&metrics, "slc");
                chain_response(&chain)
            }
        })
        // Revocation lists are public, like any CA's: whoever verifies needs them.
        .route(Method::GET, CRL, move |_request: Request| {
            let root = root.clone();
            async move {
                let crl = root.published_crl().await.map_err(|e| api_error(&e))?;
                let der = crl
                    .to_der()
                    .map_err(|e| ApiError::internal(e.to_string()))?;
                Ok(Response::with_type(
                    StatusCode::OK,
                    "application/pkix-crl",
                    der,
                ))
            }
        })
}

fn chain_response(chain: &rms_cert::Chain) -> Result<Response, ApiError> {
    let chain_pem = chain
        .to_pem()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Response::json(&ChainBody { chain_pem })
}

/// Renews `cluster`'s SLC through the root `api` talks to (same key, or a new one with
/// `rekey`), installs the renewed SLC once its chain verifies, and returns its validity.
pub async fn renew_through(
    api: &ApiClient,
    cluster: &Cluster,
    rekey: bool,
    key_bits: usize,
) -> Result<rms_policy::Validity, TransportError> {
    let plan = rms_roles::RenewalPlan::new(cluster, rekey, key_bits)?;
    let chain_pem = api.renew(&plan.request_pem()?).await?;
    Ok(plan.complete(cluster, &chain_pem).await?)
}

/// Renews `cluster`'s SLC through `api` if it is inside its renewal window or expired within
/// the grace period (by the cluster's clock and policy); `None` when there is nothing to do
/// yet. The automatic renewal of `serve --auto-renew` calls this periodically.
pub async fn renew_if_due(
    api: &ApiClient,
    cluster: &Cluster,
    rekey: bool,
    key_bits: usize,
) -> Result<Option<rms_policy::Validity>, TransportError> {
    let status = cluster
        .options()
        .policy
        .renewal_status(&cluster.slc_validity(), cluster.now());
    if !status.renewable() {
        return Ok(None);
    }
    renew_through(api, cluster, rekey, key_bits).await.map(Some)
}

/// The routes of a licensing server.
pub fn licensing_router(licensing: LicensingRole, metrics: Arc<Metrics>) -> Router {
    let cluster = licensing.cluster().clone();
    let licensing = Arc::new(licensing);
    let (publish_role, publish_metrics) = (licensing.clone(), metrics.clone());
    let (use_role, use_metrics) = (licensing, metrics.clone());
    common_routes(cluster, metrics)
        .route(Method::POST, PUBLISH, move |request: Request| {
            let role = publish_role.clone();
            let metrics = publish_metrics.clone();
            async move {
                let body: PublishBody = request.json()?;
                let publish = publish_request(body)?;
                let license = role
                    .publish(request.bearer_token(), &publish)
                    .await
                    .map_err(role_error(&metrics, "PublishingService"))?;
                issued(&metrics, "publishing-license");
                license_response(&license)
            }
        })
        .route(Method::POST, USE_LICENSE, move |request: Request| {
            let role = use_role.clone();
            let metrics = use_metrics.clone();
            async move {
                let body: UseLicenseBody = request.json()?;
                let key =
                    rms_cert::spki::SubjectPublicKeyInfoOwned::from_pem_text(&body.public_key_pem)?;
                let license = role
                    .use_license_pem(request.bearer_token(), &body.publishing_license_pem, key)
                    .await
                    .map_err(role_error(&metrics, "LicensingService"))?;
                issued(&metrics, "use-license");
                license_response(&license)
            }
        })
}

trait FromPemText: Sized {
    fn from_pem_text(text: &str) -> Result<Self, ApiError>;
}

impl FromPemText for rms_cert::spki::SubjectPublicKeyInfoOwned {
    fn from_pem_text(text: &str) -> Result<Self, ApiError> {
        use der::DecodePem;
        Self::from_pem(text.trim()).map_err(|e| {
            ApiError::bad_request(
                "malformed_public_key",
                format!("public_key_pem is not a PEM public key: {e}"),
            )
        })
    }
}

fn publish_request(body: PublishBody) -> Result<PublishRequest, ApiError> {
    let wrapped_content_key =
        Base64::decode_vec(body.content_key_wrapped.trim()).map_err(|_| {
            ApiError::bad_request("malformed_content_key", "content_key_wrapped is not base64")
        })?;
    let mut grants = Vec::with_capacity(body.grants.len());
    for grant in body.grants {
        let rights = parse_usage_rights(&grant.rights)
            .map_err(|e| ApiError::bad_request("invalid_rights", e))?;
        let mut parsed = Grant::new(&grant.principal, rights)
            .map_err(|e| ApiError::bad_request("invalid_grant", e.to_string()))?;
        if let Some(expires) = grant.expires {
            let at = OffsetDateTime::parse(&expires, &Rfc3339).map_err(|e| {
                ApiError::bad_request(
                    "invalid_grant",
                    format!("expires {expires:?} is not an RFC 3339 time: {e}"),
                )
            })?;
            parsed = parsed.with_expiry(at);
        }
        grants.push(parsed);
    }
    Ok(PublishRequest {
        content_id: body.content_id,
        grants,
        wrapped_content_key,
    })
}

/// Reads usage right names (`view`, `print`, ...).
pub fn parse_usage_rights(names: &[String]) -> Result<UsageRights, String> {
    let rights = names
        .iter()
        .map(|name| name.parse::<UsageRight>().map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(UsageRights::from_rights(rights))
}

fn license_response(license: &SignedLicense) -> Result<Response, ApiError> {
    let serial = match license.body() {
        rms_cert::LicenseBody::Publishing(pl) => pl.serial().to_string(),
        rms_cert::LicenseBody::Use(ul) => ul.serial().to_string(),
        _ => String::new(),
    };
    let license_pem = license
        .to_pem()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Response::json(&LicenseResponse {
        license_pem,
        serial,
    })
}

/// Health, metrics and the chain: on every server.
fn common_routes(cluster: Arc<Cluster>, metrics: Arc<Metrics>) -> Router {
    let health_cluster = cluster.clone();
    let chain_cluster = cluster;
    let metrics_for_route = metrics;
    Router::new()
        .route(Method::GET, HEALTH, move |_request: Request| {
            let cluster = health_cluster.clone();
            async move { health(&cluster).await }
        })
        .route(Method::GET, METRICS, move |_request: Request| {
            let metrics = metrics_for_route.clone();
            async move {
                Ok(Response::with_type(
                    StatusCode::OK,
                    "text/plain; version=0.0.4; charset=utf-8",
                    metrics.render(),
                ))
            }
        })
        .route(Method::GET, CHAIN, move |request: Request| {
            let cluster = chain_cluster.clone();
            async move {
                if let Some(token) = request.bearer_token() {
                    let caller = cluster
                        .authenticate(Some(token))
                        .await
                        .map_err(|e| api_error(&e))?;
                    cluster
                        .authorize(&caller, rms_roles::Service::Chain, "chain")
                        .await
                        .map_err(|e| api_error(&e))?;
                } else {
                    cluster
                        .authorize_anonymous(rms_roles::Service::Chain, "chain")
                        .await
                        .map_err(|e| api_error(&e))?;
                }
                let chain_pem = cluster
                    .chain()
                    .to_pem()
                    .map_err(|e| ApiError::internal(e.to_string()))?;
                Response::json(&ChainBody { chain_pem })
            }
        })
}

/// How long `/healthz` waits for the database.
const HEALTH_PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

async fn health(cluster: &Cluster) -> Result<Response, ApiError> {
    let now = cluster.now();
    let validity = cluster.slc_validity();
    let mut problems = Vec::new();
    // A health check must answer quickly even while the database does not.
    match tokio::time::timeout(HEALTH_PING_TIMEOUT, cluster.store().ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => problems.push(error.to_string()),
        Err(_) => problems.push(format!(
            "configuration database unavailable: no answer within {HEALTH_PING_TIMEOUT:?}"
        )),
    }
    if now > validity.not_after() {
        problems.push(format!(
            "server licensor certificate expired at {}: renew it",
            validity.not_after()
        ));
    } else if now < validity.not_before() {
        problems.push(format!(
            "server licensor certificate is not valid before {}",
            validity.not_before()
        ));
    }
    let warnings = rms_roles::renewal_warning(cluster, now)
        .into_iter()
        .collect();
    let body = Health {
        status: if problems.is_empty() {
            "ok"
        } else {
            "degraded"
        }
        .to_owned(),
        role: cluster.identity().role.to_string(),
        cluster: cluster.identity().name.clone(),
        node: cluster.options().node_id.clone(),
        slc_serial: rms_roles::serial_hex(cluster.chain().leaf()),
        slc_not_after: validity.not_after().format(&Rfc3339).unwrap_or_default(),
        slc_days_left: (validity.not_after() - now).whole_days(),
        problems,
        warnings,
    };
    let status = if body.problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Response::json_with_status(status, &body)
}

/// Typed calls to our endpoints.
#[derive(Debug, Clone)]
pub struct ApiClient {
    client: Client,
}

impl ApiClient {
    /// Calls through `client`.
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Sub-enrolls with a root: sends the request, returns the chain PEM.
    pub async fn sub_enroll(&self, request_pem: &str) -> Result<String, TransportError> {
        let body = SubEnrollBody {
            request_pem: request_pem.to_owned(),
        };
        let answer: ChainBody = self.client.post_json(SUBENROLL, &body).await?;
        Ok(answer.chain_pem)
    }

    /// Sends a renewal request (PEM); returns the renewed chain PEM.
    pub async fn renew(&self, request_pem: &str) -> Result<String, TransportError> {
        let body = RenewBody {
            request_pem: request_pem.to_owned(),
        };
        let answer: ChainBody = self.client.post_json(RENEW, &body).await?;
        Ok(answer.chain_pem)
    }

    /// The root's current revocation list.
    pub async fn crl(&self) -> Result<rms_cert::RevocationList, TransportError> {
        let der = self.client.send(Method::GET, CRL, None).await?;
        rms_cert::RevocationList::from_der(&der)
            .map_err(|e| TransportError::BadResponse(format!("revocation list: {e}")))
    }

    /// The server's chain PEM.
    pub async fn chain(&self) -> Result<String, TransportError> {
        let answer: ChainBody = self.client.get_json(CHAIN).await?;
        Ok(answer.chain_pem)
    }

    /// Asks for a publishing license.
    pub async fn publish(&self, body: &PublishBody) -> Result<LicenseResponse, TransportError> {
        self.client.post_json(PUBLISH, body).await
    }

    /// Asks for a use license.
    pub async fn use_license(
        &self,
        body: &UseLicenseBody,
    ) -> Result<LicenseResponse, TransportError> {
        self.client.post_json(USE_LICENSE, body).await
    }

    /// The server's health (also when it answers 503 with a health body).
    pub async fn health(&self) -> Result<Health, TransportError> {
        match self.client.send(Method::GET, HEALTH, None).await {
            Ok(body) => serde_json::from_slice(&body)
                .map_err(|e| TransportError::BadResponse(e.to_string())),
            Err(error) => Err(error),
        }
    }
}

//! The routes of the root certification and licensing servers: decode, one role call, encode.

use std::sync::Arc;

use rms_roles::{Cluster, ErrorClass, LicensingRole, RequestContext, RoleError, RootRole};

use super::bodies::{
    ChainBody, Health, LicenseResponse, PublishBody, RenewBody, SubEnrollBody, UseLicenseBody,
};
use super::{
    CHAIN, CRL, HEALTH, METRICS, PUBLISH, RENEW, REVOCATIONS, SUBENROLL, TEMPLATES, USE_LICENSE,
};
use crate::{ApiError, Method, Metrics, Request, Response, Router, StatusCode};

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
        tracing::error!(error = %rms_roles::describe_error(error), "request failed on our side");
    }
    ApiError::new(status, error.code(), rms_roles::describe_error(error))
}

/// The answer to a role error on `service`, counting DACL refusals.
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

/// The role's view of `request`: from its peer, under its request id, with its bearer token
/// if it has one (checked by the role).
fn context(request: &Request) -> RequestContext {
    let ctx = match request.bearer_token() {
        Some(token) => RequestContext::bearer(token),
        None => RequestContext::anonymous(),
    };
    let ctx = ctx.with_request_id(request.request_id.clone());
    match request.peer {
        Some(peer) => ctx.with_peer(peer.ip()),
        None => ctx,
    }
}

/// The context of a request that needs a bearer token, its caller authenticated: 401 for a
/// missing or unknown token, before anything looks at the body.
async fn authenticated(cluster: &Cluster, request: &Request) -> Result<RequestContext, ApiError> {
    let caller = match (request.bearer_token(), &request.client_certificate) {
        (Some(token), _) => cluster.authenticate(token).await,
        (None, Some(certificate)) => cluster.authenticate_certificate(certificate).await,
        (None, None) => {
            return Err(ApiError::unauthorized(
                "this endpoint needs a bearer token (Authorization: Bearer ...) or a client certificate",
            ));
        }
    };
    let caller = caller.map_err(|e| api_error(&e))?;
    Ok(context(request).authenticated(caller))
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
                let ctx = authenticated(root.cluster(), &request).await?;
                let body: SubEnrollBody = request.json()?;
                let chain = root
                    .sub_enroll(&ctx, body.request_pem.as_bytes())
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
                // No token needed: the request is signed with the key of the SLC it renews.
                // RenewalService's DACL decides before the body is read.
                let refused = role_error(&metrics, "RenewalService");
                let admitted = root
                    .admit_renewal(&context(&request))
                    .await
                    .map_err(&refused)?;
                let body: RenewBody = request.json()?;
                let chain = root
                    .renew_admitted(&admitted, body.request_pem.as_bytes())
                    .await
                    .map_err(&refused)?;
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

fn chain_response(chain: &rms_roles::cert::Chain) -> Result<Response, ApiError> {
    let chain_pem = chain
        .to_pem()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Response::json(&ChainBody { chain_pem })
}

/// The routes of a licensing server.
pub fn licensing_router(licensing: LicensingRole, metrics: Arc<Metrics>) -> Router {
    let cluster = licensing.cluster().clone();
    let licensing = Arc::new(licensing);
    let (publish_role, publish_metrics) = (licensing.clone(), metrics.clone());
    let (use_role, use_metrics) = (licensing.clone(), metrics.clone());
    let (templates_role, templates_metrics) = (licensing.clone(), metrics.clone());
    let (revocations_role, revocations_metrics) = (licensing, metrics.clone());
    common_routes(cluster, metrics)
        .route(Method::POST, PUBLISH, move |request: Request| {
            let role = publish_role.clone();
            let metrics = publish_metrics.clone();
            async move {
                let ctx = authenticated(role.cluster(), &request).await?;
                let body: PublishBody = request.json()?;
                let license = role
                    .publish(&ctx, &body.to_request()?)
                    .await
                    .map_err(role_error(&metrics, "PublishingService"))?;
                issued(&metrics, "publishing-license");
                Response::json(&LicenseResponse::from_license(&license)?)
            }
        })
        .route(Method::POST, USE_LICENSE, move |request: Request| {
            let role = use_role.clone();
            let metrics = use_metrics.clone();
            async move {
                let ctx = authenticated(role.cluster(), &request).await?;
                let body: UseLicenseBody = request.json()?;
                let license = role
                    .use_license_pem(&ctx, &body.publishing_license_pem, body.public_key()?)
                    .await
                    .map_err(role_error(&metrics, "LicensingService"))?;
                issued(&metrics, "use-license");
                Response::json(&LicenseResponse::from_license(&license)?)
            }
        })
        .route(Method::GET, TEMPLATES, move |request: Request| {
            let role = templates_role.clone();
            let metrics = templates_metrics.clone();
            async move {
                let ctx = authenticated(role.cluster(), &request).await?;
                let list = role
                    .template_list(&ctx)
                    .await
                    .map_err(role_error(&metrics, "PublishingService"))?;
                Ok(Response::with_type(
                    StatusCode::OK,
                    "application/cms",
                    list.der().to_vec(),
                ))
            }
        })
        .route(Method::GET, REVOCATIONS, move |request: Request| {
            let role = revocations_role.clone();
            let metrics = revocations_metrics.clone();
            async move {
                let ctx = authenticated(role.cluster(), &request).await?;
                let list = role
                    .revocation_list(&ctx)
                    .await
                    .map_err(role_error(&metrics, "LicensingService"))?;
                Ok(Response::with_type(
                    StatusCode::OK,
                    "application/cms",
                    list.der().to_vec(),
                ))
            }
        })
}

/// Health, metrics and the chain: on every server.
fn common_routes(cluster: Arc<Cluster>, metrics: Arc<Metrics>) -> Router {
    let health_cluster = cluster.clone();
    let chain_cluster = cluster;
    Router::new()
        .route(Method::GET, HEALTH, move |_request: Request| {
            let cluster = health_cluster.clone();
            async move {
                let health = cluster.health().await;
                let status = match health.is_healthy() {
                    true => StatusCode::OK,
                    false => StatusCode::SERVICE_UNAVAILABLE,
                };
                Response::json_with_status(status, &Health::from(health))
            }
        })
        .route(Method::GET, METRICS, move |_request: Request| {
            let metrics = metrics.clone();
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
                let chain = cluster
                    .chain_for(&context(&request))
                    .await
                    .map_err(|e| api_error(&e))?;
                chain_response(&chain)
            }
        })
}

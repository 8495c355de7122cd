//! Routes requests to handlers, and reads their bodies within limits.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// A request whose body has been read (within the size limit).
#[derive(Debug)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The path, without the query.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Request {
    /// The bearer token of the `Authorization` header, if one was given.
    pub fn bearer_token(&self) -> Option<&str> {
        let value = self.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|t| !t.is_empty())
    }

    /// Reads the body as JSON: 415 when the content type is not JSON, 400 when the body is not
    /// valid JSON of the expected shape.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let content_type = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let media_type = content_type.split(';').next().unwrap_or("").trim();
        if !media_type.eq_ignore_ascii_case("application/json") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!("expected Content-Type: application/json, got {content_type:?}"),
            ));
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            ApiError::bad_request(
                "malformed_json",
                format!("request body is not valid JSON for this endpoint: {e}"),
            )
        })
    }

    /// The value of query parameter `name`, if present.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.as_deref()?.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key == name).then_some(value)
        })
    }
}

/// A response, ready to send.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status.
    pub status: StatusCode,
    /// Extra headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Response {
    /// 200 with a JSON body.
    pub fn json<T: Serialize>(value: &T) -> Result<Self, ApiError> {
        Self::json_with_status(StatusCode::OK, value)
    }

    /// A JSON body with the given status.
    pub fn json_with_status<T: Serialize>(status: StatusCode, value: &T) -> Result<Self, ApiError> {
        let body = serde_json::to_vec(value)
            .map_err(|e| ApiError::internal(format!("response could not be encoded: {e}")))?;
        Ok(Self::with_type(status, "application/json", body))
    }

    /// A body with the given status and content type.
    pub fn with_type(
        status: StatusCode,
        content_type: &'static str,
        body: impl Into<Bytes>,
    ) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        Self {
            status,
            headers,
            body: body.into(),
        }
    }

    /// The response for an error.
    pub fn error(error: &ApiError) -> Self {
        let mut response = Self::with_type(error.status, "application/json", error.to_json());
        if error.status == StatusCode::UNAUTHORIZED {
            response.headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"rms\""),
            );
        }
        response
    }
}

/// What a handler returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Response, ApiError>> + Send>>;

/// A request handler.
pub type Handler = Arc<dyn Fn(Request) -> HandlerFuture + Send + Sync>;

/// Maps `(method, path)` to handlers; answers 404 for unknown paths and 405 (with `Allow`) for
/// known paths with another method.
#[derive(Clone, Default)]
pub struct Router {
    routes: BTreeMap<String, Vec<(Method, Handler)>>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("paths", &self.routes.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Router {
    /// An empty router.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a route.
    pub fn route<F, Fut>(mut self, method: Method, path: &str, handler: F) -> Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Response, ApiError>> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |request| Box::pin(handler(request)));
        self.routes
            .entry(path.to_owned())
            .or_default()
            .push((method, handler));
        self
    }

    /// The paths known, for metrics labels (unknown paths are labelled `other`).
    pub fn knows(&self, path: &str) -> bool {
        self.routes.contains_key(path)
    }

    /// Finds the handler for a request.
    pub(crate) fn find(&self, method: &Method, path: &str) -> Result<Handler, ApiError> {
        let Some(routes) = self.routes.get(path) else {
            return Err(ApiError::not_found(format!("no endpoint at {path}")));
        };
        let mut allowed = Vec::new();
        for (route_method, handler) in routes {
            if route_method == method || (method == Method::HEAD && route_method == Method::GET) {
                return Ok(handler.clone());
            }
            allowed.push(route_method.as_str());
        }
        Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("{path} accepts {}, not {method}", allowed.join(", ")),
        ))
    }

    /// The methods `path` accepts, for the `Allow` header.
    pub(crate) fn allowed(&self, path: &str) -> Option<String> {
        let routes = self.routes.get(path)?;
        Some(
            routes
                .iter()
                .map(|(m, _)| m.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        )
    }
}

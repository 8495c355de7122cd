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
    /// The address the request came from.
    pub peer: Option<std::net::SocketAddr>,
    /// The identifier the server gave the request (answered in `x-request-id`, logged).
    pub request_id: String,
    /// The client's TLS certificate (DER), when it presented one: the TLS handshake verified
    /// that it chains to the client CA the server was configured with, and is valid now.
    pub client_certificate: Option<Arc<Vec<u8>>>,
}

impl Request {
    /// The bearer token of the `Authorization` header, if one was given. The scheme is
    /// case-insensitive (RFC 7235 §2.1): `Bearer`, `bearer` and `BEARER` are the same.
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
    ///
    /// The media type must be `application/json`, compared without regard to case (RFC 9110
    /// §8.3.1: type and subtype are case-insensitive). JSON is UTF-8 (RFC 8259 §8.1), so a
    /// `charset` parameter, if given, must be `utf-8` (any case, quoted or not); other
    /// parameters are ignored.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let content_type = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        json_media_type(content_type)?;
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

/// Accepts a `Content-Type` that says JSON in UTF-8 (see [`Request::json`]).
fn json_media_type(content_type: &str) -> Result<(), ApiError> {
    let unsupported = |why: &str| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("expected Content-Type: application/json, got {content_type:?}{why}"),
        )
    };
    let mut parts = content_type.split(';');
    let media_type = parts.next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(unsupported(""));
    }
    for parameter in parts {
        let Some((name, value)) = parameter.split_once('=') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("charset") {
            let value = value.trim().trim_matches('"');
            if !value.eq_ignore_ascii_case("utf-8") {
                return Err(unsupported(
                    " (JSON is UTF-8: charset, if given, must be utf-8)",
                ));
            }
        }
    }
    Ok(())
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
    #[must_use]
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

    /// Answers `request` as the server does once the body is read: the handler's response, or
    /// the answer to an error (404, 405 with `Allow`, the handler's own refusal). The server
    /// adds its limits and timeouts around this; tests and fuzzing call it without a socket.
    pub async fn respond(&self, request: Request) -> Response {
        let path = request.path.clone();
        let outcome = match self.find(&request.method, &path) {
            Ok(handler) => handler(request).await,
            Err(error) => Err(error),
        };
        match outcome {
            Ok(response) => response,
            Err(error) => self.error_response(&path, &error),
        }
    }

    /// The answer to `error` for a request to `path` (with `Allow` on a 405).
    pub(crate) fn error_response(&self, path: &str, error: &ApiError) -> Response {
        let mut response = Response::error(error);
        if error.status == StatusCode::METHOD_NOT_ALLOWED
            && let Some(allowed) = self.allowed(path)
            && let Ok(value) = HeaderValue::from_str(&allowed)
        {
            response.headers.insert(header::ALLOW, value);
        }
        response
    }

    /// The paths known, for metrics labels (unknown paths are labelled `other`).
    #[must_use]
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn json_is_application_json_in_utf_8() {
        for accepted in [
            "application/json",
            "APPLICATION/JSON",
            "Application/Json; charset=utf-8",
            "application/json;charset=\"UTF-8\"",
            "application/json; profile=x",
        ] {
            assert!(json_media_type(accepted).is_ok(), "{accepted}");
        }
        for refused in [
            "",
            "text/json",
            "application/jsonx",
            "application/json; charset=utf-16",
            "application/json; charset=latin1",
            "application/x-www-form-urlencoded",
        ] {
            let error = json_media_type(refused).unwrap_err();
            assert_eq!(
                error.status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{refused}"
            );
        }
    }
}

//! A small HTTP(S) client for our endpoints: JSON in and out, bearer tokens, keep-alive.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{self, HeaderValue};
use hyper::{Method, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::net::TcpStream;

use crate::error::ErrorBody;
use crate::{ApiError, TransportError};

/// How a [`Client`] connects.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Certificates (PEM) to trust for `https://` URLs besides the system's roots: a private
    /// CA, or the server's own self-signed certificate.
    pub tls_roots_pem: Option<Vec<u8>>,
    /// Trust only [`ClientOptions::tls_roots_pem`], not the operating system's roots.
    pub ignore_system_roots: bool,
    /// Bearer token sent with every request.
    pub token: Option<String>,
    /// A client certificate and key to present to `https://` servers that ask for one (a
    /// server that maps it to a principal needs no bearer token).
    pub tls_client_identity: Option<crate::TlsIdentity>,
    /// Longest wait for one request, connection included. Default (when `None`): 30 s.
    pub timeout: Option<Duration>,
    /// Largest response body read; a larger answer is refused and its connection dropped.
    /// Default (when `None`): [`DEFAULT_MAX_RESPONSE_BYTES`].
    pub max_response_bytes: Option<usize>,
}

/// The largest response body a [`Client`] reads unless told otherwise: far more than any
/// answer of ours (chains, licenses, revocation lists), far less than memory.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 << 20;

/// The most bytes of response headers a [`Client`] reads (hyper's buffer limit).
const MAX_RESPONSE_HEADER_BYTES: usize = 64 << 10;

/// The most response header fields a [`Client`] accepts.
const MAX_RESPONSE_HEADERS: usize = 100;

#[derive(Debug, Clone)]
struct Target {
    tls: bool,
    host: String,
    port: u16,
    base_path: String,
}

impl Target {
    fn parse(url: &str) -> Result<Self, TransportError> {
        let invalid = |reason: &str| TransportError::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| invalid("no scheme (expected http:// or https://)"))?;
        let tls = match scheme {
            "http" => false,
            "https" => true,
            _ => return Err(invalid("only http and https are supported")),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let default_port = if tls { 443 } else { 80 };
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| invalid("unclosed [ in host"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| invalid("bad port"))?,
                None if after.is_empty() => default_port,
                None => return Err(invalid("junk after host")),
            };
            (host.to_owned(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (
                    host.to_owned(),
                    port.parse().map_err(|_| invalid("bad port"))?,
                ),
                None => (authority.to_owned(), default_port),
            }
        };
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        Ok(Self {
            tls,
            host,
            port,
            base_path: path.trim_end_matches('/').to_owned(),
        })
    }

    fn host_header(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A client of one server, reusing connections between requests. Cheap to clone; clones share
/// connections.
#[derive(Clone)]
pub struct Client {
    target: Arc<Target>,
    tls: Option<tokio_rustls::TlsConnector>,
    token: Option<String>,
    timeout: Duration,
    max_response_bytes: usize,
    idle: Arc<Mutex<Vec<SendRequest<Full<Bytes>>>>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client of the server at `base_url` (`http://host:port` or `https://host:port`).
    pub fn new(base_url: &str, options: ClientOptions) -> Result<Self, TransportError> {
        let target = Target::parse(base_url)?;
        let tls = match target.tls {
            true => {
                let system = match options.ignore_system_roots {
                    true => crate::trust::SystemRoots::Ignored,
                    false => crate::trust::SystemRoots::Trusted,
                };
                Some(tokio_rustls::TlsConnector::from(
                    crate::trust::client_config(
                        options.tls_roots_pem.as_deref(),
                        system,
                        options.tls_client_identity.as_ref(),
                    )?,
                ))
            }
            false => None,
        };
        Ok(Self {
            target: Arc::new(target),
            tls,
            token: options.token,
            timeout: options.timeout.unwrap_or(Duration::from_secs(30)),
            max_response_bytes: options
                .max_response_bytes
                .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
            idle: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// The same client, sending `token` as its bearer token.
    #[must_use]
    pub fn with_token(&self, token: Option<String>) -> Self {
        Self {
            token,
            ..self.clone()
        }
    }

    /// GET `path`, reading a JSON answer.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, TransportError> {
        let body = self.send(Method::GET, path, None).await?;
        serde_json::from_slice(&body).map_err(|e| TransportError::BadResponse(e.to_string()))
    }

    /// GET `path`, reading the answer as text.
    pub async fn get_text(&self, path: &str) -> Result<String, TransportError> {
        let body = self.send(Method::GET, path, None).await?;
        String::from_utf8(body.to_vec()).map_err(|e| TransportError::BadResponse(e.to_string()))
    }

    /// POST `body` as JSON to `path`, reading a JSON answer.
    pub async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, TransportError> {
        let bytes =
            serde_json::to_vec(body).map_err(|e| TransportError::BadResponse(e.to_string()))?;
        let answer = self.send(Method::POST, path, Some(bytes)).await?;
        serde_json::from_slice(&answer).map_err(|e| TransportError::BadResponse(e.to_string()))
    }

    /// Sends one request; a non-2xx answer becomes [`TransportError::Api`].
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        json_body: Option<Vec<u8>>,
    ) -> Result<Bytes, TransportError> {
        let (status, body) =
            tokio::time::timeout(self.timeout, self.exchange(method, path, json_body))
                .await
                .map_err(|_| TransportError::Connect {
                    target: self.target.host_header(),
                    reason: format!("no answer within {:?}", self.timeout),
                })??;
        if status.is_success() {
            return Ok(body);
        }
        let error = match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(parsed) => ApiError::new(status, parsed.error.code, parsed.error.message),
            Err(_) => ApiError::new(
                status,
                "http_error",
                String::from_utf8_lossy(&body).into_owned(),
            ),
        };
        Err(TransportError::Api(error))
    }

    async fn exchange(
        &self,
        method: Method,
        path: &str,
        json_body: Option<Vec<u8>>,
    ) -> Result<(StatusCode, Bytes), TransportError> {
        let mut sender = self.connection().await?;
        let uri = format!("{}{}", self.target.base_path, path);
        let mut builder = hyper::Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, self.target.host_header());
        if let Some(token) = &self.token {
            let value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                TransportError::InvalidUrl {
                    url: path.to_owned(),
                    reason: "token has characters not allowed in a header".into(),
                }
            })?;
            builder = builder.header(header::AUTHORIZATION, value);
        }
        let body = match json_body {
            Some(bytes) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(bytes))
            }
            None => Full::new(Bytes::new()),
        };
        let request = builder.body(body).map_err(|e| TransportError::InvalidUrl {
            url: path.to_owned(),
            reason: e.to_string(),
        })?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| self.broken(e))?;
        let status = response.status();
        let limit = self.max_response_bytes;
        let declared = response
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit as u64) {
            return Err(TransportError::ResponseTooLarge { limit });
        }
        let body = match Limited::new(response.into_body(), limit).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(error) if error.is::<http_body_util::LengthLimitError>() => {
                return Err(TransportError::ResponseTooLarge { limit });
            }
            Err(error) => return Err(self.broken(error)),
        };
        if !sender.is_closed()
            && let Ok(mut idle) = self.idle.lock()
        {
            idle.push(sender);
        }
        Ok((status, body))
    }

    fn broken(&self, error: impl std::fmt::Display) -> TransportError {
        TransportError::Connect {
            target: self.target.host_header(),
            reason: error.to_string(),
        }
    }

    async fn connection(&self) -> Result<SendRequest<Full<Bytes>>, TransportError> {
        loop {
            let candidate = self.idle.lock().ok().and_then(|mut idle| idle.pop());
            let Some(mut sender) = candidate else { break };
            if sender.ready().await.is_ok() {
                return Ok(sender);
            }
        }
        let target = &self.target;
        let stream = TcpStream::connect((target.host.as_str(), target.port))
            .await
            .map_err(|e| self.broken(e))?;
        let _ = stream.set_nodelay(true);
        match &self.tls {
            Some(connector) => {
                let name = ServerName::try_from(target.host.clone()).map_err(|e| {
                    TransportError::InvalidUrl {
                        url: target.host.clone(),
                        reason: e.to_string(),
                    }
                })?;
                let tls = connector
                    .connect(name, stream)
                    .await
                    .map_err(|e| self.broken(e))?;
                self.handshake(TokioIo::new(tls)).await
            }
            None => self.handshake(TokioIo::new(stream)).await,
        }
    }

    async fn handshake<I>(&self, io: I) -> Result<SendRequest<Full<Bytes>>, TransportError>
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let (sender, connection) = http1::Builder::new()
            .max_buf_size(MAX_RESPONSE_HEADER_BYTES)
            .max_headers(MAX_RESPONSE_HEADERS)
            .handshake(io)
            .await
            .map_err(|e| self.broken(e))?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "client connection ended");
            }
        });
        Ok(sender)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_urls() {
        let t = Target::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            (t.tls, t.host.as_str(), t.port, t.base_path.as_str()),
            (false, "127.0.0.1", 8080, "")
        );
        let t = Target::parse("https://rms.example/prefix/").unwrap();
        assert_eq!(
            (t.tls, t.host.as_str(), t.port, t.base_path.as_str()),
            (true, "rms.example", 443, "/prefix")
        );
        let t = Target::parse("http://[::1]:9000").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.host_header()),
            ("::1", 9000, "[::1]:9000".to_owned())
        );
        for bad in [
            "ftp://x",
            "127.0.0.1:80",
            "http://:80",
            "http://host:port",
            "http://[::1",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }
}

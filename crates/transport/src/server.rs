//! The HTTP(S) server: accepts connections within limits, routes requests, records metrics and
//! shuts down gracefully.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::router::{Request, Response, Router};
use crate::tls::TlsIdentity;
use crate::{ApiError, Metrics, TransportError};

/// Limits that protect the server from slow or greedy clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body accepted; larger ones get 413. Default: 64 KiB.
    pub max_body_bytes: usize,
    /// How long a client may take to send a request's headers. Default: 10 s.
    pub header_read_timeout: Duration,
    /// Most connections served at once; further ones wait to be accepted. Default: 1024.
    pub max_connections: usize,
    /// Longest time a handler may take before the request is answered 503. Default: 30 s.
    pub request_timeout: Duration,
    /// How long a graceful shutdown waits for requests in flight. Default: 30 s.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            request_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen; port 0 picks a free port (see [`RunningServer::local_addr`]).
    pub listen: SocketAddr,
    /// Serve HTTPS with this certificate and key; `None` for plain HTTP.
    pub tls: Option<TlsIdentity>,
    /// Allow plain HTTP on an address other than loopback.
    pub allow_insecure_http: bool,
    /// Limits.
    pub limits: Limits,
}

impl ServerConfig {
    /// Plain HTTP on `listen` with default limits.
    pub fn plain(listen: SocketAddr) -> Self {
        Self {
            listen,
            tls: None,
            allow_insecure_http: false,
            limits: Limits::default(),
        }
    }
}

/// A server that is accepting connections.
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    scheme: &'static str,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RunningServer {
    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The base URL clients use, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.local_addr)
    }

    /// Stops accepting connections, lets requests in flight finish (up to the grace period),
    /// and returns when the server has stopped.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully.
    pub async fn run_until_signal(self) {
        wait_for_signal().await;
        tracing::info!("signal received: finishing requests in flight, then stopping");
        self.shutdown().await;
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Binds `config.listen` and serves `router` until shut down.
pub async fn serve(
    config: ServerConfig,
    router: Router,
    metrics: Arc<Metrics>,
) -> Result<RunningServer, TransportError> {
    if config.tls.is_none() && !config.allow_insecure_http && !config.listen.ip().is_loopback() {
        return Err(TransportError::PlainHttpOffLoopback {
            addr: config.listen,
        });
    }
    let acceptor = match &config.tls {
        Some(identity) => Some(identity.acceptor()?),
        None => None,
    };
    let listener =
        TcpListener::bind(config.listen)
            .await
            .map_err(|source| TransportError::Bind {
                addr: config.listen,
                source,
            })?;
    let local_addr = listener
        .local_addr()
        .map_err(|source| TransportError::Bind {
            addr: config.listen,
            source,
        })?;
    let (stop, stopped) = watch::channel(false);
    let shared = Arc::new(Shared {
        router,
        metrics,
        limits: config.limits,
    });
    let scheme = if acceptor.is_some() { "https" } else { "http" };
    let task = tokio::spawn(accept_loop(listener, acceptor, shared, stopped));
    tracing::info!(%local_addr, scheme, "listening");
    Ok(RunningServer {
        local_addr,
        scheme,
        stop,
        task,
    })
}

struct Shared {
    router: Router,
    metrics: Arc<Metrics>,
    limits: Limits,
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(shared.limits.max_connections));
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = stopped.changed() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let acceptor = acceptor.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = permit;
            serve_connection(stream, peer, acceptor, shared, watcher).await;
        });
    }
    drop(listener);
    let grace = shared.limits.shutdown_grace;
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            ?grace,
            "requests still in flight after the grace period; stopping anyway"
        );
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
    watcher: hyper_util::server::graceful::Watcher,
) {
    let limits = shared.limits;
    let service = service_fn(move |request| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(handle(request, &shared).await) }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let result = match acceptor {
        Some(acceptor) => {
            let handshake =
                tokio::time::timeout(limits.header_read_timeout, acceptor.accept(stream)).await;
            let tls = match handshake {
                Ok(Ok(tls)) => tls,
                Ok(Err(error)) => {
                    tracing::debug!(%peer, %error, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            watcher
                .watch(builder.serve_connection(TokioIo::new(tls), service))
                .await
        }
        None => {
            watcher
                .watch(builder.serve_connection(TokioIo::new(stream), service))
                .await
        }
    };
    if let Err(error) = result {
        tracing::debug!(%peer, %error, "connection ended with an error");
    }
}

async fn handle(
    request: hyper::Request<Incoming>,
    shared: &Shared,
) -> hyper::Response<Full<Bytes>> {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = if shared.router.knows(&path) {
        path.clone()
    } else {
        "other".to_owned()
    };
    let mut response = match dispatch(request, shared).await {
        Ok(response) => response,
        Err(error) => {
            let mut response = Response::error(&error);
            if error.status == StatusCode::METHOD_NOT_ALLOWED
                && let Some(allowed) = shared.router.allowed(&path)
                && let Ok(value) = HeaderValue::from_str(&allowed)
            {
                response.headers.insert(header::ALLOW, value);
            }
            if error.status.is_server_error() {
                tracing::warn!(%method, %path, status = error.status.as_u16(), code = %error.code, message = %error.message, "request failed");
            } else {
                tracing::info!(%method, %path, status = error.status.as_u16(), code = %error.code, message = %error.message, "request refused");
            }
            response
        }
    };
    let elapsed = started.elapsed();
    shared
        .metrics
        .observe_request(&route, method.as_str(), response.status.as_u16(), elapsed);
    tracing::debug!(%method, %path, status = response.status.as_u16(), ?elapsed, "answered");
    let mut out = hyper::Response::new(Full::new(std::mem::take(&mut response.body)));
    *out.status_mut() = response.status;
    *out.headers_mut() = response.headers;
    out
}

async fn dispatch(
    request: hyper::Request<Incoming>,
    shared: &Shared,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let handler = shared.router.find(&parts.method, parts.uri.path())?;
    let limit = shared.limits.max_body_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("request body is over the limit of {limit} bytes"),
        )
    };
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    let body = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
        Err(error) => {
            return Err(ApiError::bad_request(
                "unreadable_body",
                format!("request body could not be read: {error}"),
            ));
        }
    };
    let request = Request {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    };
    let head = request.method == Method::HEAD;
    let response = tokio::time::timeout(shared.limits.request_timeout, handler(request))
        .await
        .map_err(|_| {
            ApiError::unavailable("the request took too long and was abandoned; try again")
        })??;
    Ok(if head {
        Response {
            body: Bytes::new(),
            ..response
        }
    } else {
        response
    })
}

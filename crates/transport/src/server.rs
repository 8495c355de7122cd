//! The HTTP(S) server: accepts connections within limits, routes requests, records metrics and
//! shuts down gracefully.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::peers::{PeerBudget, PeerPermit};
use crate::router::{Request, Response, Router};
use crate::tls::TlsIdentity;
use crate::{ApiError, Metrics, TransportError};

/// Limits that protect the server from slow or greedy clients. Every phase of a request is
/// bounded in time: its headers (`header_read_timeout`), its body (`body_read_timeout`) and
/// its handler (`request_timeout`); a connection that waits for its next request is closed
/// after `header_read_timeout` too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body accepted; larger ones get 413. Default: 64 KiB.
    pub max_body_bytes: usize,
    /// How long a client may take to send a request's headers, and how long a keep-alive
    /// connection may stay idle between requests. Default: 10 s.
    pub header_read_timeout: Duration,
    /// How long a client may take to send a request's body once its headers are in; a slower
    /// one gets 408 and its connection is closed. Default: 10 s.
    pub body_read_timeout: Duration,
    /// Most connections served at once; further ones wait to be accepted. Default: 1024.
    pub max_connections: usize,
    /// Most connections one peer address may hold at once, so that one peer cannot take the
    /// whole budget; a connection beyond it is answered 503 and closed. Default: 256.
    pub max_connections_per_peer: usize,
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
            body_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            max_connections_per_peer: 256,
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
    #[must_use]
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
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The base URL clients use, e.g. `http://127.0.0.1:40123`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.local_addr)
    }

    /// Stops accepting connections, lets requests in flight finish (up to the grace period),
    /// and returns when the server has stopped.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Serves until `signal` arrives (SIGINT or SIGTERM), then shuts down gracefully.
    pub async fn run_until(self, signal: ShutdownSignal) {
        signal.received().await;
        tracing::info!("signal received: finishing requests in flight, then stopping");
        self.shutdown().await;
    }
}

/// SIGINT and SIGTERM, listened for from the moment this is installed. A server binary
/// installs it before it binds and announces its address: a signal sent as soon as the
/// address is known (by a supervisor or a test) then stops the server gracefully instead of
/// killing it, and is not lost before anything waits for it.
#[derive(Debug)]
pub struct ShutdownSignal {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    /// Starts listening for SIGINT and SIGTERM (Ctrl-C elsewhere). Needs a Tokio runtime.
    pub fn install() -> Result<Self, TransportError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let listen = |kind: SignalKind, name: &'static str| {
                signal(kind).map_err(|source| TransportError::Signal { name, source })
            };
            Ok(Self {
                terminate: listen(SignalKind::terminate(), "SIGTERM")?,
                interrupt: listen(SignalKind::interrupt(), "SIGINT")?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    /// Returns once SIGINT or SIGTERM has arrived since [`ShutdownSignal::install`].
    pub async fn received(mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.terminate.recv() => {}
                _ = self.interrupt.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
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
    let peers = PeerBudget::new(shared.limits.max_connections_per_peer);
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
        let Some(peer_permit) = peers.try_acquire(peer.ip()) else {
            refuse_connection(&stream, &shared);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let acceptor = acceptor.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permits: (_, PeerPermit) = (permit, peer_permit);
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

/// What a peer over its share of connections gets before the connection is closed.
const TOO_MANY_CONNECTIONS: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: 96\r\n\r\n{\"error\":{\"code\":\"too_many_connections\",\"message\":\"too many connections from your address\"}}";

/// Answers a connection beyond its peer's share with 503 and closes it, without waiting: a
/// peer that does not read its answer loses it, and holds nothing.
fn refuse_connection(stream: &TcpStream, shared: &Shared) {
    let _ = stream.try_write(TOO_MANY_CONNECTIONS);
    shared.metrics.increment(
        "rms_connections_refused_total",
        "Connections refused because their peer held its share of the connection budget.",
        &[],
    );
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
    watcher: hyper_util::server::graceful::Watcher,
) {
    let limits = shared.limits;
    let tls_shared = shared.clone();
    let service = service_fn(move |request| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(handle(request, peer, None, &shared).await) }
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
            // The client's certificate (verified by the handshake) goes with every request of
            // the connection.
            let certificate = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|leaf| Arc::new(leaf.as_ref().to_vec()));
            let shared = tls_shared;
            let service = service_fn(move |request| {
                let (shared, certificate) = (shared.clone(), certificate.clone());
                async move { Ok::<_, Infallible>(handle(request, peer, certificate, &shared).await) }
            });
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
    peer: SocketAddr,
    client_certificate: Option<Arc<Vec<u8>>>,
    shared: &Shared,
) -> hyper::Response<Full<Bytes>> {
    let started = Instant::now();
    let request_id = new_request_id();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = if shared.router.knows(&path) {
        path.clone()
    } else {
        "other".to_owned()
    };
    let mut response = match dispatch(request, peer, client_certificate, &request_id, shared).await
    {
        Ok(response) => response,
        Err(error) => {
            let response = shared.router.error_response(&path, &error);
            if error.status.is_server_error() {
                tracing::warn!(%request_id, %peer, %method, %path, status = error.status.as_u16(), code = %error.code, message = %error.message, "request failed");
            } else {
                tracing::info!(%request_id, %peer, %method, %path, status = error.status.as_u16(), code = %error.code, message = %error.message, "request refused");
            }
            response
        }
    };
    let elapsed = started.elapsed();
    if response.status == StatusCode::REQUEST_TIMEOUT {
        // The body may still be arriving: do not wait for it on this connection.
        response
            .headers
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    shared.metrics.observe_request(
        &route,
        method_label(&method),
        response.status.as_u16(),
        elapsed,
    );
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers.insert(REQUEST_ID, value);
    }
    tracing::debug!(%request_id, %method, %path, status = response.status.as_u16(), ?elapsed, "answered");
    let mut out = hyper::Response::new(Full::new(std::mem::take(&mut response.body)));
    *out.status_mut() = response.status;
    *out.headers_mut() = response.headers;
    out
}

/// The method as a metrics label: one of a fixed set, so that invented methods cannot grow
/// the number of series.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
        Method::PATCH,
        Method::TRACE,
        Method::CONNECT,
    ];
    KNOWN
        .iter()
        .find(|known| *known == method)
        .map_or("other", Method::as_str)
}

/// The response header that carries the request's identifier.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// 16 random hex digits (a counter if the system's random source fails).
fn new_request_id() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        bytes = NEXT
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .to_be_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn dispatch(
    request: hyper::Request<Incoming>,
    peer: SocketAddr,
    client_certificate: Option<Arc<Vec<u8>>>,
    request_id: &str,
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
    let read = tokio::time::timeout(
        shared.limits.body_read_timeout,
        Limited::new(body, limit).collect(),
    );
    let body = match read.await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => {
            return Err(too_large());
        }
        Ok(Err(error)) => {
            return Err(ApiError::bad_request(
                "unreadable_body",
                format!("request body could not be read: {error}"),
            ));
        }
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                format!(
                    "the request body did not arrive within {} s",
                    shared.limits.body_read_timeout.as_secs_f64()
                ),
            ));
        }
    };
    let request = Request {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
        peer: Some(peer),
        request_id: request_id.to_owned(),
        client_certificate,
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

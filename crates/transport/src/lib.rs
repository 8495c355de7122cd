//! # rms-transport: HTTP for the rights-management servers
//!
//! A small hyper 1 server and client, with what a network service needs and nothing else:
//!
//! - a [`Router`] that answers 404 and 405 (with `Allow`) by itself;
//! - limits on body size (413), header and body read time (408), idle keep-alive time,
//!   concurrent connections overall and per peer address, and handler time;
//! - errors as JSON, `{"error": {"code": "...", "message": "..."}}` ([`ApiError`]), and
//!   `WWW-Authenticate` on 401;
//! - HTTPS with rustls from PEM files, and plain HTTP only on loopback unless allowed;
//! - Prometheus metrics ([`Metrics`]) and graceful shutdown on SIGINT/SIGTERM;
//! - a keep-alive [`Client`] for JSON endpoints with bearer tokens.
//!
//! The [`api`] module puts the root certification and licensing roles (`rms-roles`) on it:
//! their endpoints, JSON bodies and typed client calls.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use rms_transport::{serve, Client, ClientOptions, Metrics, Response, Router, ServerConfig};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let router = Router::new().route(hyper::Method::GET, "/hello", |_request| async {
//!     Response::json(&serde_json::json!({"hello": "world"}))
//! });
//! let server = serve(ServerConfig::plain("127.0.0.1:0".parse()?), router, Arc::new(Metrics::new())).await?;
//! let client = Client::new(&server.url(), ClientOptions::default())?;
//! let answer: serde_json::Value = client.get_json("/hello").await?;
//! assert_eq!(answer["hello"], "world");
//! server.shutdown().await;
//! # Ok(()) }
//! # tokio::runtime::Runtime::new()?.block_on(demo()).map_err(|e| e.to_string())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use crate::client::{Client, ClientOptions, DEFAULT_MAX_RESPONSE_BYTES};
pub use crate::error::{ApiError, ErrorBody, ErrorDetail, TransportError};
pub use crate::metrics::Metrics;
pub use crate::router::{Handler, HandlerFuture, Request, Response, Router};
pub use crate::server::{Limits, RunningServer, ServerConfig, ShutdownSignal, serve};
pub use crate::tls::TlsIdentity;
pub use hyper::{Method, StatusCode};

pub mod api;
mod client;
mod error;
mod metrics;
mod peers;
mod router;
mod server;
mod tls;
mod trust;

//! The server and client over real loopback connections.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use rms_transport::*;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn router() -> Router {
    Router::new()
        .route(Method::POST, "/echo", |request: Request| async move {
            let value: Value = request.json()?;
            Response::json(&json!({ "echo": value }))
        })
        .route(Method::GET, "/whoami", |request: Request| async move {
            match request.bearer_token() {
                Some(token) => Response::json(&json!({ "token": token })),
                None => Err(ApiError::unauthorized("no bearer token")),
            }
        })
        .route(Method::GET, "/slow", |_request: Request| async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            Response::json(&json!({ "slow": true }))
        })
}

async fn start(limits: Limits) -> (RunningServer, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::new());
    let config = ServerConfig {
        limits,
        ..ServerConfig::plain("127.0.0.1:0".parse().unwrap())
    };
    let server = serve(config, router(), metrics.clone()).await.unwrap();
    (server, metrics)
}

/// Sends raw bytes and returns the whole response as text.
async fn raw(server: &RunningServer, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

fn api_error(result: Result<Value, TransportError>) -> ApiError {
    match result {
        Err(TransportError::Api(e)) => e,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn json_round_trip_and_bearer_token() {
    let (server, _) = start(Limits::default()).await;
    let client = Client::new(
        &server.url(),
        ClientOptions {
            token: Some("t0k".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let answer: Value = client.post_json("/echo", &json!({"a": 1})).await.unwrap();
    assert_eq!(answer, json!({"echo": {"a": 1}}));
    let who: Value = client.get_json("/whoami").await.unwrap();
    assert_eq!(who, json!({"token": "t0k"}));
    server.shutdown().await;
}

#[tokio::test]
async fn client_mistakes_get_their_own_status_and_code() {
    let (server, metrics) = start(Limits {
        max_body_bytes: 1024,
        ..Limits::default()
    })
    .await;
    let client = Client::new(&server.url(), ClientOptions::default()).unwrap();

    let e = api_error(client.get_json("/nowhere").await);
    assert_eq!((e.status.as_u16(), e.code.as_str()), (404, "not_found"));
    let e = api_error(client.get_json("/echo").await);
    assert_eq!(
        (e.status.as_u16(), e.code.as_str()),
        (405, "method_not_allowed")
    );
    let e = api_error(client.get_json("/whoami").await);
    assert_eq!((e.status.as_u16(), e.code.as_str()), (401, "unauthorized"));

    let text = raw(&server, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{nope").await;
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("\"malformed_json\""), "{text}");

    let text = raw(&server, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}").await;
    assert!(text.starts_with("HTTP/1.1 415"), "{text}");

    let big = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n{}",
        " ".repeat(5000)
    );
    let text = raw(&server, big.as_bytes()).await;
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");

    // Chunked, so the size is only known while reading.
    let mut chunked = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for _ in 0..3 {
        chunked.extend_from_slice(b"200\r\n");
        chunked.extend_from_slice(&[b' '; 0x200]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let text = raw(&server, &chunked).await;
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");

    let text = raw(
        &server,
        b"DELETE /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(text.starts_with("HTTP/1.1 405"), "{text}");
    assert!(text.to_ascii_lowercase().contains("allow: post"), "{text}");

    let text = raw(
        &server,
        b"GET /whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        text.to_ascii_lowercase()
            .contains("www-authenticate: bearer"),
        "{text}"
    );

    let rendered = metrics.render();
    assert!(
        rendered.contains("route=\"other\",method=\"GET\",status=\"404\""),
        "{rendered}"
    );
    assert!(
        rendered.contains("route=\"/echo\",method=\"POST\",status=\"413\""),
        "{rendered}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn plain_http_is_refused_off_loopback_unless_allowed() {
    let config = ServerConfig::plain("0.0.0.0:0".parse().unwrap());
    let err = serve(config, router(), Arc::new(Metrics::new()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::PlainHttpOffLoopback { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn shutdown_finishes_requests_in_flight() {
    let (server, _) = start(Limits::default()).await;
    let client = Client::new(&server.url(), ClientOptions::default()).unwrap();
    let slow = tokio::spawn({
        let client = client.clone();
        async move { client.get_json::<Value>("/slow").await }
    });
    // Wait until the request is being handled, then stop the server.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let addr = server.local_addr();
    server.shutdown().await;
    assert_eq!(slow.await.unwrap().unwrap(), json!({"slow": true}));
    // Nothing listens any more.
    assert!(TcpStream::connect(addr).await.is_err());
}

/// A SIGTERM that arrives once the signal is installed, before anything waits for it (a
/// supervisor or a test stopping the server as soon as it announced its address), neither
/// kills the process nor is lost: the server stops gracefully when it gets to wait. (Before,
/// the handler was installed only when the server began to wait, and a CI run saw the process
/// killed by the signal.)
#[cfg(unix)]
#[tokio::test]
async fn a_signal_before_the_server_waits_stops_it_gracefully() {
    let signal = ShutdownSignal::install().unwrap();
    let (server, _) = start(Limits::default()).await;
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // The process survives the signal (we are still here) and the server stops on it:
    // `run_until` returns only once the server has shut down. (Whether its port still
    // answers is not checked: another test of this binary may be given the same port.)
    tokio::time::timeout(Duration::from_secs(10), server.run_until(signal))
        .await
        .expect("the signal sent before waiting stops the server");
}

#[tokio::test]
async fn slow_handlers_are_cut_off_with_503() {
    let (server, _) = start(Limits {
        request_timeout: Duration::from_millis(50),
        ..Limits::default()
    })
    .await;
    let client = Client::new(&server.url(), ClientOptions::default()).unwrap();
    let e = api_error(client.get_json("/slow").await);
    assert_eq!(e.status.as_u16(), 503);
    server.shutdown().await;
}

#[tokio::test]
async fn https_with_an_openssl_made_certificate() {
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        eprintln!("skipping: openssl is not installed (CI installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let ca = path("ca.pem");
    let cert = path("cert.pem");
    let key = path("key.pem");
    std::fs::write(
        path("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=Test TLS CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "key.pem",
        "-out",
        "leaf.csr",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "cert.pem",
    ]);
    let config = ServerConfig {
        tls: Some(TlsIdentity::from_files(&cert, &key).unwrap()),
        ..ServerConfig::plain("127.0.0.1:0".parse().unwrap())
    };
    let server = serve(config, router(), Arc::new(Metrics::new()))
        .await
        .unwrap();
    assert!(server.url().starts_with("https://127.0.0.1:"));
    let roots = std::fs::read(&ca).unwrap();
    let client = Client::new(
        &server.url(),
        ClientOptions {
            tls_roots_pem: Some(roots),
            ..Default::default()
        },
    )
    .unwrap();
    let answer: Value = client.post_json("/echo", &json!("over tls")).await.unwrap();
    assert_eq!(answer, json!({"echo": "over tls"}));
    // Without the private root, only the system's roots are trusted: the handshake fails.
    let untrusting = Client::new(&server.url(), ClientOptions::default()).unwrap();
    assert!(
        untrusting
            .post_json::<_, Value>("/echo", &json!("over tls"))
            .await
            .is_err()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn tls_files_that_do_not_match_are_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, "not pem").unwrap();
    let config = ServerConfig {
        tls: Some(TlsIdentity::from_files(&cert, &cert).unwrap()),
        ..ServerConfig::plain("127.0.0.1:0".parse().unwrap())
    };
    let err = serve(config, router(), Arc::new(Metrics::new()))
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::Tls(_)), "{err}");
}

//! Regression tests of the security review, over real loopback sockets: slow clients cannot
//! starve the server, invented methods cannot grow the metrics, hostile servers cannot make
//! the client read without limit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rms_transport::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

fn router() -> Router {
    Router::new()
        .route(Method::GET, "/hello", |_request: Request| async move {
            Response::json(&json!({ "hello": "world" }))
        })
        .route(Method::POST, "/echo", |request: Request| async move {
            let value: serde_json::Value = request.json()?;
            Response::json(&value)
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

/// A connection to `server` from the loopback address `from` (127.0.0.0/8 is all ours).
async fn connect_from(from: [u8; 4], server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::from((from, 0)))
        .expect("bind a loopback source address");
    socket.connect(server).await.unwrap()
}

/// Reads what the server sends until it closes (or `within` passes).
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> String {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(within, stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// The review's attack: a peer opens more connections than the server serves at once, each
/// sending its headers and one byte of a body it promised to be longer, even on a GET.
#[tokio::test]
async fn slow_bodies_from_one_peer_do_not_keep_others_out() {
    let (server, metrics) = start(Limits {
        max_connections: 16,
        max_connections_per_peer: 4,
        header_read_timeout: Duration::from_secs(2),
        body_read_timeout: Duration::from_secs(1),
        ..Limits::default()
    })
    .await;
    let mut attackers = Vec::new();
    for _ in 0..24 {
        let mut stream = connect_from([127, 0, 0, 2], server.local_addr()).await;
        stream
            .write_all(b"GET /hello HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\nx")
            .await
            .unwrap();
        attackers.push(stream);
    }

    // Another peer is served at once, while the attack goes on.
    let client = Client::new(
        &server.url(),
        ClientOptions {
            timeout: Some(Duration::from_secs(5)),
            ..ClientOptions::default()
        },
    )
    .unwrap();
    let answer: serde_json::Value = client.get_json("/hello").await.unwrap();
    assert_eq!(answer, json!({"hello": "world"}));

    // The attacker's connections beyond its share are refused at once; the others are
    // answered 408 once their body is late, and closed.
    let mut timed_out = 0;
    let mut refused = 0;
    for stream in &mut attackers {
        let answer = read_until_closed(stream, Duration::from_secs(10)).await;
        if answer.starts_with("HTTP/1.1 408") {
            assert!(answer.contains("request_timeout"), "{answer}");
            timed_out += 1;
        } else if answer.starts_with("HTTP/1.1 503") {
            assert!(answer.contains("too_many_connections"), "{answer}");
            refused += 1;
        } else {
            panic!("unexpected answer to a slow body: {answer:?}");
        }
    }
    assert_eq!((timed_out, refused), (4, 20));
    assert_eq!(metrics.counter("rms_connections_refused_total", &[]), 20);
    server.shutdown().await;
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    let (server, _) = start(Limits {
        header_read_timeout: Duration::from_secs(1),
        ..Limits::default()
    })
    .await;
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    stream
        .write_all(b"GET /hello HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    // The answer, then nothing: the server closes the idle connection by itself.
    let answer = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(r#"{"hello":"world"}"#), "{answer}");
    let mut byte = [0u8; 1];
    assert_eq!(stream.read(&mut byte).await.unwrap(), 0, "closed");
    server.shutdown().await;
}

#[tokio::test]
async fn invented_methods_do_not_grow_the_metrics() {
    let (server, metrics) = start(Limits::default()).await;
    for i in 0..300 {
        let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
        stream
            .write_all(
                format!("INVENTED{i} /hello HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await
            .unwrap();
        let answer = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
        let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
        stream
            .write_all(
                format!("GET /no/such/path/{i} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await
            .unwrap();
        let answer = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    }
    let rendered = metrics.render();
    assert!(!rendered.contains("INVENTED"), "{rendered}");
    assert!(!rendered.contains("/no/such/path"), "{rendered}");
    let series: Vec<_> = rendered
        .lines()
        .filter(|l| l.starts_with("rms_http_requests_total{"))
        .collect();
    assert_eq!(
        series,
        [
            r#"rms_http_requests_total{route="/hello",method="other",status="405"} 300"#,
            r#"rms_http_requests_total{route="other",method="GET",status="404"} 300"#,
        ],
        "{rendered}"
    );
    server.shutdown().await;
}

/// A server that answers every request with `head`, then `body_chunk` forever.
async fn hostile_server(head: &'static [u8], body_chunk: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                if stream.write_all(head).await.is_err() {
                    return;
                }
                while stream.write_all(body_chunk).await.is_ok() {}
            });
        }
    });
    url
}

#[tokio::test]
async fn the_client_reads_bounded_responses() {
    let options = ClientOptions {
        max_response_bytes: Some(1 << 20),
        timeout: Some(Duration::from_secs(20)),
        ..ClientOptions::default()
    };
    // A length announced beyond the limit, and one that is not announced at all.
    for head in [
        &b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000000000\r\n\r\n"[..],
        &b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"[..],
    ] {
        let chunk: &'static [u8] = if head.ends_with(b"chunked\r\n\r\n") {
            // One valid 16-byte chunk, repeated forever.
            b"10\r\n0123456789abcdef\r\n"
        } else {
            &[b' '; 16 << 10]
        };
        let url = hostile_server(head, chunk).await;
        let client = Client::new(&url, options.clone()).unwrap();
        let result = client.get_text("/").await;
        assert!(
            matches!(result, Err(TransportError::ResponseTooLarge { limit: 1_048_576 })),
            "{result:?}"
        );
    }
    // Endless headers.
    let url = hostile_server(
        b"HTTP/1.1 200 OK\r\n",
        b"x-padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
    )
    .await;
    let client = Client::new(&url, options).unwrap();
    let result = client.get_text("/").await;
    assert!(
        matches!(result, Err(TransportError::Connect { .. })),
        "{result:?}"
    );
}

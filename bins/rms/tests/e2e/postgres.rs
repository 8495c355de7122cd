//! PostgreSQL for the cluster tests: a fresh schema per test on the server CI provides
//! (`RMS_TEST_POSTGRES_URL`), and a TCP proxy in front of it that a test can cut and restore.
//!
//! Cutting the proxy is how the tests take the database away from the nodes: every open
//! connection is reset at once and new ones are closed as soon as they arrive, which is what a
//! node sees when PostgreSQL stops. Stopping the machine's real server instead would break the
//! other tests running against it at the same time.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

use crate::harness::rt;

/// The test server's URL, or `None` (with the reason printed) when none is configured.
pub(crate) fn base_url() -> Option<String> {
    match std::env::var("RMS_TEST_POSTGRES_URL") {
        Ok(url) => Some(url),
        Err(_) => {
            eprintln!("skipping: RMS_TEST_POSTGRES_URL is not set (CI sets it)");
            None
        }
    }
}

/// A new schema on the test server, dropped (with everything in it) when the value is: declare
/// it before the servers that use it, so that they stop first.
pub(crate) struct Schema {
    base: String,
    name: String,
    /// The schema's URL.
    pub(crate) url: String,
}

impl Schema {
    /// A new schema on the server at `base`.
    pub(crate) fn create(base: &str) -> Schema {
        let mut bytes = [0u8; 6];
        getrandom::fill(&mut bytes).expect("random bytes");
        let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let name = format!("rms_e2e_{suffix}");
        let url = rt()
            .block_on(rms_roles::store::create_postgres_schema(base, &name))
            .expect("create a schema on the test PostgreSQL server");
        Schema {
            base: base.to_owned(),
            name,
            url,
        }
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Err(error) = rt().block_on(rms_roles::store::drop_postgres_schema(
            &self.base, &self.name,
        )) {
            eprintln!("could not drop test schema {}: {error}", self.name);
        }
    }
}

/// `host:port` of a `postgres://user@host:port/db` URL.
fn server_address(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.split_once('@').map_or(rest, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:5432")
    }
}

/// A TCP proxy to the PostgreSQL server of a URL.
pub(crate) struct Proxy {
    address: SocketAddr,
    cut: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl Proxy {
    /// Starts a proxy to the server `url` names, on a free loopback port.
    pub(crate) fn start(url: &str) -> Proxy {
        let upstream = server_address(url);
        let listener = rt()
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind the proxy");
        let address = listener.local_addr().expect("proxy address");
        let cut = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::<AbortHandle>::new()));
        let accept = {
            let cut = cut.clone();
            let connections = connections.clone();
            let upstream = upstream.clone();
            rt().spawn(async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    if cut.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    let upstream = upstream.clone();
                    let task = tokio::spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(&upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                    connections.lock().unwrap().push(task.abort_handle());
                }
            })
            .abort_handle()
        };
        Proxy {
            address,
            cut,
            connections,
            accept,
        }
    }

    /// `url` with the server replaced by this proxy.
    pub(crate) fn url(&self, url: &str) -> String {
        url.replacen(&server_address(url), &self.address.to_string(), 1)
    }

    /// Takes the database away: resets every connection and refuses new ones.
    pub(crate) fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    /// Gives the database back.
    pub(crate) fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

#[test]
fn server_addresses_are_read_from_urls() {
    assert_eq!(
        server_address("postgres://postgres@127.0.0.1:5432/test"),
        "127.0.0.1:5432"
    );
    assert_eq!(
        server_address("postgres://u:p@db/x?sslmode=disable"),
        "db:5432"
    );
    assert_eq!(
        server_address("postgresql://127.0.0.1:6000/x"),
        "127.0.0.1:6000"
    );
}

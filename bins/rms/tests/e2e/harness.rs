//! Running the real binaries: one-shot commands, servers on loopback ports (killed on drop),
//! a prepared root + licensing deployment, and raw HTTP for requests a well-behaved client
//! never sends.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rms_transport::api::ApiClient;
use rms_transport::{Client, ClientOptions};
use sha2::{Digest, Sha256};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The root certification server's binary.
pub(crate) const ROOT: &str = env!("CARGO_BIN_EXE_rms-root");
/// The licensing server's binary.
pub(crate) const LICENSING: &str = env!("CARGO_BIN_EXE_rms-licensing");
/// The client's binary.
pub(crate) const CLIENT: &str = env!("CARGO_BIN_EXE_rms-client");

/// How long a server may take to print its address, answer `/healthz`, or stop.
const STARTUP: Duration = Duration::from_secs(20);

/// The runtime every HTTP call of the tests runs on (it owns no child process).
pub(crate) fn rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

fn short_name(bin: &str) -> &str {
    Path::new(bin)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(bin)
}

// Extra environment for every command and server a test starts (e.g. a SoftHSM2
// configuration and a PIN): set once per test thread, before the commands it affects.
thread_local! {
    static EXTRA_ENV: std::cell::RefCell<Vec<(String, String)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Gives every command this test thread runs from now on the variable `name` = `value`.
pub(crate) fn set_env(name: &str, value: &str) {
    EXTRA_ENV.with(|env| env.borrow_mut().push((name.to_owned(), value.to_owned())));
}

/// A command of one of our binaries, with no RMS_* settings inherited from the environment.
pub(crate) fn command(bin: &str, args: &[&str], token: Option<&str>) -> Command {
    let mut command = Command::new(bin);
    command.args(args);
    EXTRA_ENV.with(|env| {
        for (name, value) in env.borrow().iter() {
            command.env(name, value);
        }
    });
    for var in [
        "RMS_TOKEN",
        "RMS_DATA_DIR",
        "RMS_DATABASE_URL",
        "RMS_CLUSTER_SECRET",
    ] {
        command.env_remove(var);
    }
    if let Some(token) = token {
        command.env("RMS_TOKEN", token);
    }
    command
}

/// Runs a one-shot command to completion.
pub(crate) fn run(bin: &str, args: &[&str], token: Option<&str>) -> Output {
    command(bin, args, token)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"))
}

fn describe(bin: &str, args: &[&str], out: &Output) -> String {
    format!(
        "{} {}\nexit: {}\nstdout:\n{}\nstderr:\n{}",
        short_name(bin),
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs a command that must succeed; returns its stdout.
#[track_caller]
pub(crate) fn ok(bin: &str, args: &[&str], token: Option<&str>) -> String {
    let out = run(bin, args, token);
    assert!(
        out.status.success(),
        "expected success:\n{}",
        describe(bin, args, &out)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// Runs a command that must fail (non-zero exit, a reason on stderr); returns its stderr.
#[track_caller]
pub(crate) fn fails(bin: &str, args: &[&str], token: Option<&str>) -> String {
    let out = run(bin, args, token);
    assert!(
        !out.status.success(),
        "expected failure:\n{}",
        describe(bin, args, &out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        stderr.lines().any(|l| l.starts_with("error: ")),
        "a failing command says why on stderr:\n{}",
        describe(bin, args, &out)
    );
    stderr
}

/// The `token: ...` line a command printed.
#[track_caller]
pub(crate) fn token_in(stdout: &str) -> String {
    let token = stdout
        .lines()
        .find_map(|l| l.strip_prefix("token: "))
        .unwrap_or_else(|| panic!("no `token:` line in:\n{stdout}"))
        .trim()
        .to_owned();
    assert!(!token.is_empty());
    token
}

/// Shorthand: a path as `&str`.
pub(crate) fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// One line of `certs list`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Issued {
    pub(crate) kind: String,
    pub(crate) serial: String,
    pub(crate) subject: String,
}

/// Parses `certs list` output.
pub(crate) fn parse_certs(stdout: &str) -> Vec<Issued> {
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert!(fields.len() >= 3, "unexpected certs list line: {line:?}");
            Issued {
                kind: fields[0].to_owned(),
                serial: fields[1].to_owned(),
                subject: fields[2].to_owned(),
            }
        })
        .collect()
}

/// What a data directory has issued, per `certs list` (raw text and parsed).
pub(crate) fn certs(bin: &str, data_dir: &Path, extra: &[&str]) -> (String, Vec<Issued>) {
    let mut args = vec!["certs", "list", "--data-dir", s(data_dir)];
    args.extend_from_slice(extra);
    if !extra.contains(&"--limit") {
        args.extend_from_slice(&["--limit", "10000"]);
    }
    let text = ok(bin, &args, None);
    let parsed = parse_certs(&text);
    (text, parsed)
}

/// The audit log of a data directory, newest first as printed.
pub(crate) fn audit(bin: &str, data_dir: &Path) -> String {
    ok(
        bin,
        &["audit", "--data-dir", s(data_dir), "--limit", "100000"],
        None,
    )
}

/// Audit lines that record an issuance.
pub(crate) fn issuance_audit(bin: &str, data_dir: &Path) -> Vec<String> {
    audit(bin, data_dir)
        .lines()
        .filter(|l| l.contains(" allowed ") && l.contains("issued "))
        .map(str::to_owned)
        .collect()
}

/// SHA-256 of the DER of a PEM certificate, lowercase hex.
pub(crate) fn fingerprint(pem_path: &Path) -> String {
    let pem = std::fs::read_to_string(pem_path).expect("read PEM");
    let (label, der) = der::pem::decode_vec(pem.trim().as_bytes()).expect("PEM");
    assert_eq!(label, "CERTIFICATE");
    Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A server child process; killed (and reaped) on drop, also when a test fails.
pub(crate) struct Server {
    child: Option<Child>,
    url: String,
    log: PathBuf,
    name: String,
    bin: String,
    data_dir: PathBuf,
    /// The certificate its clients trust for HTTPS, when it serves HTTPS.
    tls_ca: Option<PathBuf>,
}

impl Server {
    /// Starts `BIN serve --data-dir DIR --listen 127.0.0.1:0`, reads the address it prints
    /// first, and waits until `/healthz` answers 200.
    pub(crate) fn start(bin: &str, data_dir: &Path, log: &Path) -> Server {
        Server::start_with(bin, data_dir, log, &[], None)
    }

    /// [`Server::start`] with `extra` arguments to `serve` (e.g. `--tls-cert`); clients of an
    /// HTTPS server trust `tls_ca`.
    pub(crate) fn start_with(
        bin: &str,
        data_dir: &Path,
        log: &Path,
        extra: &[&str],
        tls_ca: Option<&Path>,
    ) -> Server {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("open server log");
        let mut args = vec![
            "serve",
            "--data-dir",
            s(data_dir),
            "--listen",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(extra);
        let mut child = command(bin, &args, None)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut server = Server {
            child: Some(child),
            url: String::new(),
            log: log.to_owned(),
            name: short_name(bin).to_owned(),
            bin: bin.to_owned(),
            data_dir: data_dir.to_owned(),
            tls_ca: tls_ca.map(Path::to_owned),
        };
        // Read stdout on a thread so a server that prints nothing cannot hang the test; keep
        // draining it afterwards so the server never blocks on a full pipe.
        let (first_line, line) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = first_line.send(lines.next());
            for _ in lines {}
        });
        let first = match line.recv_timeout(STARTUP) {
            Ok(Some(Ok(first))) => first,
            other => panic!(
                "{} printed no address within {STARTUP:?} ({other:?}); its log:\n{}",
                server.name,
                server.log_text()
            ),
        };
        let url = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from {}: {first:?}", server.name))
            .trim()
            .to_owned();
        let scheme = if tls_ca.is_some() { "https" } else { "http" };
        assert!(
            url.starts_with(&format!("{scheme}://127.0.0.1:")) && !url.ends_with(":0"),
            "{} must listen on a loopback port it picked: {url}",
            server.name
        );
        server.url = url;
        server.wait_healthy();
        server
    }

    /// Polls `GET /healthz` until it answers 200, within [`STARTUP`].
    fn wait_healthy(&mut self) {
        let api = self.api(None);
        let deadline = Instant::now() + STARTUP;
        loop {
            let answer = rt().block_on(api.health());
            match answer {
                Ok(health) if health.status == "ok" => return,
                other => {
                    let exited = self
                        .child
                        .as_mut()
                        .and_then(|c| c.try_wait().ok().flatten());
                    if exited.is_some() || Instant::now() > deadline {
                        panic!(
                            "{} at {} is not healthy ({other:?}; exited: {exited:?}); its log:\n{}",
                            self.name,
                            self.url,
                            self.log_text()
                        );
                    }
                    std::thread::sleep(Duration::from_millis(25));
                }
            }
        }
    }

    /// Its base URL, `http://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// `host:port`.
    pub(crate) fn addr(&self) -> &str {
        self.url
            .trim_start_matches("http://")
            .trim_start_matches("https://")
    }

    /// A plain client of it sending `token`.
    pub(crate) fn client(&self, token: Option<&str>) -> Client {
        Client::new(
            &self.url,
            ClientOptions {
                token: token.map(str::to_owned),
                tls_roots_pem: self
                    .tls_ca
                    .as_ref()
                    .map(|ca| std::fs::read(ca).expect("read the TLS CA")),
                ..ClientOptions::default()
            },
        )
        .expect("client")
    }

    /// A typed client of it sending `token`.
    pub(crate) fn api(&self, token: Option<&str>) -> ApiClient {
        ApiClient::new(self.client(token))
    }

    /// What it logged so far.
    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops it with SIGTERM and waits for it to exit; a graceful stop exits 0.
    pub(crate) fn stop(&mut self) {
        let mut child = self.child.take().expect("running");
        let pid = child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {pid} failed");
        let deadline = Instant::now() + STARTUP;
        let exit = loop {
            if let Some(exit) = child.try_wait().expect("wait") {
                break exit;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{} did not stop within {STARTUP:?} of SIGTERM; its log:\n{}",
                    self.name,
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        };
        assert!(
            exit.success(),
            "{} exits 0 on SIGTERM, got {exit}; its log:\n{}",
            self.name,
            self.log_text()
        );
    }
}

impl Server {
    /// Kills it with SIGKILL (no chance to finish anything) and reaps it.
    pub(crate) fn kill(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
    }

    /// Starts it again after [`Server::stop`], on the same data directory and a new port,
    /// logging to `log`.
    pub(crate) fn start_again(&mut self, log: &Path) {
        assert!(self.child.is_none(), "{} is still running", self.name);
        let bin = self.bin.clone();
        let data_dir = self.data_dir.clone();
        let tls_ca = self.tls_ca.clone();
        assert!(tls_ca.is_none(), "start_again restarts plain HTTP servers");
        *self = Server::start(&bin, &data_dir, log);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            if std::thread::panicking() {
                let log = self.log_text();
                let tail: Vec<&str> = log.lines().rev().take(30).collect();
                eprintln!("--- last lines of {} ({}) log ---", self.name, self.url);
                for line in tail.iter().rev() {
                    eprintln!("{line}");
                }
            }
        }
    }
}

/// Creates a root cluster in `dir`; returns the administrator's token.
pub(crate) fn init_root(dir: &Path) -> String {
    let out = ok(
        ROOT,
        &[
            "init",
            "--data-dir",
            s(dir),
            "--name",
            "root-1",
            "--key-bits",
            "2048",
        ],
        None,
    );
    assert!(
        dir.join("authority.pem").is_file(),
        "init writes authority.pem"
    );
    token_in(&out)
}

/// The arguments of `rms-licensing enroll` into `dir` with `root`, without the anchor.
pub(crate) fn enroll_args<'a>(dir: &'a Path, root: &'a Server, name: &'a str) -> Vec<&'a str> {
    vec![
        "enroll",
        "--data-dir",
        s(dir),
        "--root",
        root.url(),
        "--name",
        name,
        "--url",
        "http://127.0.0.1:8081",
        "--key-bits",
        "2048",
    ]
}

/// `rms-client keygen` for `name` in `dir`: writes `NAME-key.pem` and `NAME-pub.pem`.
pub(crate) fn keygen(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{name}-key.pem"));
    let public = dir.join(format!("{name}-pub.pem"));
    ok(
        CLIENT,
        &[
            "keygen",
            "--out",
            s(&key),
            "--public-out",
            s(&public),
            "--bits",
            "2048",
        ],
        None,
    );
    (key, public)
}

/// `rms-client publish` to `server` as its administrator (`admin_token`), granting `grants`;
/// writes `CONTENT_ID.pl.pem` in `dir` and returns its path.
pub(crate) fn publish(
    server: &Server,
    anchor: &Path,
    admin_token: &str,
    dir: &Path,
    content_id: &str,
    grants: &[&str],
) -> PathBuf {
    let out = dir.join(format!("{content_id}.pl.pem"));
    let mut args = vec![
        "publish",
        "--server",
        server.url(),
        "--anchor",
        s(anchor),
        "--content-id",
        content_id,
        "--out",
        s(&out),
    ];
    for grant in grants {
        args.extend_from_slice(&["--grant", grant]);
    }
    let stdout = ok(CLIENT, &args, Some(admin_token));
    assert!(stdout.contains("publishing license"), "{stdout}");
    out
}

/// A root created in `root_dir` with SubEnrollService granted to rms-admins, serving (logging
/// to `work/root.log`): the server, the administrator's token and the authority's path.
pub(crate) fn serving_root(root_dir: &Path, work: &Path) -> (Server, String, PathBuf) {
    let root_admin = init_root(root_dir);
    ok(
        ROOT,
        &[
            "acl",
            "grant",
            "SubEnrollService",
            "rms-admins",
            "sub-enroll",
            "--data-dir",
            s(root_dir),
        ],
        None,
    );
    let root = Server::start(ROOT, root_dir, &work.join("root.log"));
    (root, root_admin, root_dir.join("authority.pem"))
}

/// A root and a licensing server, both serving, with SubEnrollService granted to rms-admins.
/// Servers are declared before the directory so they are killed before it is removed.
pub(crate) struct Deployment {
    pub(crate) root: Server,
    pub(crate) lic: Server,
    /// The root administrator's token.
    pub(crate) root_admin: String,
    /// The licensing administrator's token.
    pub(crate) lic_admin: String,
    pub(crate) root_dir: PathBuf,
    pub(crate) lic_dir: PathBuf,
    /// The enrollment authority, `ROOT_DIR/authority.pem`.
    pub(crate) anchor: PathBuf,
    /// Everything else: keys, licenses, logs.
    pub(crate) work: PathBuf,
    pub(crate) _dir: TempDir,
}

impl Deployment {
    /// init -> grant -> serve root -> enroll -> serve licensing.
    pub(crate) fn start() -> Deployment {
        let dir = tempfile::tempdir().expect("tempdir");
        let root_dir = dir.path().join("root");
        let lic_dir = dir.path().join("lic");
        let work = dir.path().join("work");
        std::fs::create_dir(&work).expect("work dir");
        let (root, root_admin, anchor) = serving_root(&root_dir, &work);
        let mut args = enroll_args(&lic_dir, &root, "lic-1");
        args.extend_from_slice(&["--anchor", s(&anchor)]);
        let lic_admin = token_in(&ok(LICENSING, &args, Some(&root_admin)));
        let lic = Server::start(LICENSING, &lic_dir, &work.join("lic.log"));
        Deployment {
            root,
            lic,
            root_admin,
            lic_admin,
            root_dir,
            lic_dir,
            anchor,
            work,
            _dir: dir,
        }
    }

    /// A file in the work directory.
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.work.join(name)
    }

    /// Adds a principal on the licensing server; returns its token.
    pub(crate) fn lic_principal(&self, name: &str) -> String {
        token_in(&ok(
            LICENSING,
            &["principal", "add", name, "--data-dir", s(&self.lic_dir)],
            None,
        ))
    }

    /// `rms-client keygen` for `name`: writes `NAME-key.pem` and `NAME-pub.pem`.
    pub(crate) fn keygen(&self, name: &str) -> (PathBuf, PathBuf) {
        keygen(&self.work, name)
    }

    /// `rms-client publish` as the licensing administrator; returns the publishing license's
    /// path.
    pub(crate) fn publish(&self, content_id: &str, grants: &[&str]) -> PathBuf {
        publish(
            &self.lic,
            &self.anchor,
            &self.lic_admin,
            &self.work,
            content_id,
            grants,
        )
    }

    /// The arguments of `rms-client uselicense` against the licensing server.
    pub(crate) fn uselicense_args<'a>(
        &'a self,
        publishing: &'a Path,
        key: &'a Path,
        out: &'a Path,
    ) -> Vec<&'a str> {
        vec![
            "uselicense",
            "--server",
            self.lic.url(),
            "--publishing-license",
            s(publishing),
            "--key",
            s(key),
            "--out",
            s(out),
        ]
    }
}

/// An answer read off a raw connection.
#[derive(Debug)]
pub(crate) struct RawAnswer {
    pub(crate) status: u16,
    /// Header lines, lowercased names.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl RawAnswer {
    /// A header's value.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `error.code` of a JSON error body; asserts the body has the documented shape.
    #[track_caller]
    pub(crate) fn error_code(&self) -> String {
        let value: serde_json::Value = serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("error body is not JSON ({e}): {:?}", self.body));
        let code = value["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error.code in {}", self.body));
        assert!(
            value["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "no error.message in {}",
            self.body
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "errors are JSON"
        );
        code.to_owned()
    }
}

/// Sends raw bytes on a new connection (the request should say `Connection: close`) and
/// reads the answer until the server closes. A reset after the answer arrived is fine: a
/// server may refuse a body without reading it.
pub(crate) async fn raw(addr: &str, request: &[u8]) -> RawAnswer {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut reader, mut writer) = stream.split();
    let request = request.to_vec();
    let write = async move {
        // The server may answer (413) and close before reading all of a large body.
        let _ = writer.write_all(&request).await;
        let _ = writer.flush().await;
    };
    let read = async {
        let mut received = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
                Err(_) if !received.is_empty() => break,
                Err(e) => panic!("reading the answer failed before any byte: {e}"),
            }
        }
        received
    };
    let ((), received) = tokio::time::timeout(STARTUP, async { tokio::join!(write, read) })
        .await
        .expect("the server answers within 20 s");
    parse_raw(&received)
}

fn parse_raw(received: &[u8]) -> RawAnswer {
    let text = String::from_utf8_lossy(received);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete HTTP answer in {text:?}"));
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    RawAnswer {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// A `POST` with the given headers and body, closing the connection after the answer.
pub(crate) fn post(addr: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Asserts that a set of serials has no duplicates and returns it.
#[track_caller]
pub(crate) fn unique(serials: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    let all: Vec<String> = serials.into_iter().collect();
    let set: BTreeSet<String> = all.iter().cloned().collect();
    assert_eq!(set.len(), all.len(), "serials are not unique: {all:?}");
    set
}

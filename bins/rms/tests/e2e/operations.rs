//! What an operator meets following docs/operations.md: the audit log newest first with its
//! filters, JSON for scripts, DACLs shown with names, revocations listed and marked, the
//! right's one spelling, commands whose output is cut short by `head`, a missing data
//! directory, the documented OpenSSL commands (TLS certificates, the CRL's signature), and
//! logs without colour codes when redirected.

use std::path::Path;
use std::process::Stdio;

use serde_json::Value;

use crate::harness::*;

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

/// The shell block of docs/operations.md that follows the line `<!-- tested: NAME -->`.
fn documented_commands(name: &str) -> String {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/operations.md"
    ))
    .expect("read docs/operations.md");
    let marker = format!("<!-- tested: {name} -->");
    let after = doc
        .split_once(&marker)
        .unwrap_or_else(|| panic!("docs/operations.md has no {marker}"))
        .1;
    let block = after
        .split_once("```sh\n")
        .expect("a shell block after the marker")
        .1;
    block
        .split_once("```")
        .expect("the block ends")
        .0
        .to_owned()
}

/// Runs `script` with `sh -e` in `dir`, with our binaries on the PATH.
fn sh(dir: &Path, script: &str) -> String {
    let bins = Path::new(ROOT).parent().expect("binaries' directory");
    let path = format!(
        "{}:{}",
        bins.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("sh")
        .args(["-e", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .stdin(Stdio::null())
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "the documented commands fail:\n{script}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn audit_is_newest_first_filtered_and_says_how_many_more() {
    let d = Deployment::start();
    let dir = s(&d.root_dir);
    // Something denied on the root: a principal outside rms-admins asks to sub-enroll.
    let mallory = token_in(&ok(
        ROOT,
        &["principal", "add", "mallory", "--data-dir", dir],
        None,
    ));
    let lic_2 = d.work.join("lic-2");
    let mut args = enroll_args(&lic_2, &d.root, "lic-2");
    args.extend_from_slice(&["--anchor", s(&d.anchor)]);
    fails(LICENSING, &args, Some(&mallory));

    let all = json(&ok(
        ROOT,
        &["audit", "--json", "--limit", "1000", "--data-dir", dir],
        None,
    ));
    let entries = all["entries"].as_array().unwrap();
    assert!(entries.len() >= 4, "{all}");
    assert_eq!(all["more"], 0);
    assert_eq!(all["more_is_exact"], true, "{all}");
    let ids: Vec<i64> = entries.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    for entry in entries {
        let at = entry["at"].as_str().unwrap();
        assert!(at.ends_with('Z') && at.contains('T'), "RFC 3339: {at}");
    }

    let one = ok(ROOT, &["audit", "--limit", "1", "--data-dir", dir], None);
    let lines: Vec<&str> = one.lines().collect();
    assert_eq!(lines.len(), 2, "{one}");
    let more = entries.len() - 1;
    assert!(
        lines[1].starts_with(&format!("{more} more entries")),
        "{one}"
    );
    let newest = entries[0]["action"].as_str().unwrap();
    assert!(lines[0].contains(newest), "{one}");

    let today = &entries[0]["at"].as_str().unwrap()[..10];
    let by_day = json(&ok(
        ROOT,
        &[
            "audit",
            "--json",
            "--since",
            today,
            "--until",
            today,
            "--data-dir",
            dir,
        ],
        None,
    ));
    assert_eq!(by_day["entries"].as_array().unwrap().len(), entries.len());
    let none = json(&ok(
        ROOT,
        &[
            "audit",
            "--json",
            "--until",
            "2000-01-01",
            "--data-dir",
            dir,
        ],
        None,
    ));
    assert_eq!(none["entries"].as_array().unwrap().len(), 0);

    let denied = json(&ok(
        ROOT,
        &["audit", "--json", "--decision", "denied", "--data-dir", dir],
        None,
    ));
    let denied = denied["entries"].as_array().unwrap();
    assert!(!denied.is_empty());
    assert!(
        denied.iter().all(|e| e["decision"] == "denied"),
        "{denied:?}"
    );

    let admin = json(&ok(
        ROOT,
        &[
            "audit",
            "--json",
            "--principal",
            "admin",
            "--service",
            "subenroll",
            "--data-dir",
            dir,
        ],
        None,
    ));
    let admin = admin["entries"].as_array().unwrap();
    assert!(!admin.is_empty());
    assert!(
        admin
            .iter()
            .all(|e| e["principal"] == "admin" && e["service"] == "SubEnrollService"),
        "{admin:?}"
    );

    let stderr = fails(ROOT, &["audit", "--since", "soon", "--data-dir", dir], None);
    assert!(
        stderr.contains("neither a date (2026-12-01) nor an RFC 3339 time"),
        "{stderr}"
    );
    let stderr = fails(
        ROOT,
        &["audit", "--decision", "maybe", "--data-dir", dir],
        None,
    );
    assert!(stderr.contains("unknown decision"), "{stderr}");
}

#[test]
fn acl_show_names_whom_each_entry_is_for_and_the_right_has_one_spelling() {
    let d = Deployment::start();
    let dir = s(&d.root_dir);
    // The right as `rms-client inspect` prints it in the root's SLC...
    let chain = d.file("root-chain.pem");
    write_file(&chain, &ok(ROOT, &["chain", "--data-dir", dir], None));
    let inspected = ok(CLIENT, &["inspect", s(&chain)], None);
    assert!(inspected.contains("sub-enroll"), "{inspected}");
    ok(
        ROOT,
        &["group", "add", "operators", "--data-dir", dir],
        None,
    );
    // ...is the one `acl grant` takes and `acl show` prints.
    ok(
        ROOT,
        &[
            "acl",
            "grant",
            "SubEnrollService",
            "operators",
            "sub-enroll",
            "--data-dir",
            dir,
        ],
        None,
    );
    ok(
        ROOT,
        &[
            "acl",
            "deny",
            "SubEnrollService",
            "WD",
            "administer",
            "--data-dir",
            dir,
        ],
        None,
    );
    let shown = ok(
        ROOT,
        &["acl", "show", "SubEnrollService", "--data-dir", dir],
        None,
    );
    let lines: Vec<&str> = shown.lines().collect();
    assert!(lines[0].starts_with("O:SYG:SYD:P("), "{shown}");
    let entry = |name: &str| {
        lines
            .iter()
            .find(|l| l.split_whitespace().nth(1) == Some(name))
            .unwrap_or_else(|| panic!("no entry for {name}:\n{shown}"))
            .to_string()
    };
    assert!(entry("rms-admins").starts_with("  allow"), "{shown}");
    assert!(entry("rms-admins").ends_with("sub-enroll"), "{shown}");
    assert!(entry("operators").ends_with("sub-enroll"), "{shown}");
    assert!(entry("Everyone").starts_with("  deny"), "{shown}");

    let all = json(&ok(
        ROOT,
        &["acl", "show", "--json", "--data-dir", dir],
        None,
    ));
    let services = all.as_array().unwrap();
    assert_eq!(services.len(), 3, "the root's three services: {all}");
    let sub = services
        .iter()
        .find(|s| s["service"] == "SubEnrollService")
        .unwrap();
    assert!(
        sub["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "operators"
                && e["type"] == "allow"
                && e["rights"] == "sub-enroll"),
        "{sub}"
    );
    // The other spelling is an alias.
    ok(
        ROOT,
        &[
            "acl",
            "grant",
            "ChainService",
            "operators",
            "subenroll",
            "--data-dir",
            dir,
        ],
        None,
    );
}

#[test]
fn status_and_certs_print_json_revocations_are_listed_and_marked() {
    let d = Deployment::start();
    let dir = s(&d.root_dir);
    let status = json(&ok(ROOT, &["status", "--json", "--data-dir", dir], None));
    assert_eq!(status["cluster"]["role"], "root", "{status}");
    assert!(
        status["slc"]["days_left"].as_i64().unwrap() >= 364,
        "{status}"
    );
    assert!(
        status["slc"]["not_after"].as_str().unwrap().ends_with('Z'),
        "{status}"
    );
    assert!(!status["nodes"].as_array().unwrap().is_empty(), "{status}");

    let certs = json(&ok(
        ROOT,
        &["certs", "list", "--json", "--data-dir", dir],
        None,
    ));
    let slc = certs
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["subject"].as_str().unwrap().contains("lic-1"))
        .unwrap_or_else(|| panic!("lic-1's SLC: {certs}"));
    assert_eq!(slc["kind"], "slc", "{certs}");
    assert!(slc["revoked"].is_null());
    let serial = slc["serial"].as_str().unwrap().to_owned();
    assert_eq!(
        ok(ROOT, &["revocations", "list", "--data-dir", dir], None),
        "no revocations\n"
    );

    ok(
        ROOT,
        &[
            "revoke",
            &serial,
            "--reason",
            "cessationOfOperation",
            "--data-dir",
            dir,
        ],
        None,
    );
    let listed = ok(ROOT, &["certs", "list", "--data-dir", dir], None);
    let line = listed.lines().find(|l| l.contains(&serial)).unwrap();
    assert!(
        line.contains("REVOKED") && line.contains("cessationOfOperation"),
        "{listed}"
    );
    let certs = json(&ok(
        ROOT,
        &["certs", "list", "--json", "--data-dir", dir],
        None,
    ));
    let revoked = certs
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["serial"] == serial.as_str())
        .unwrap();
    assert_eq!(
        revoked["revoked"]["reason"], "cessationOfOperation",
        "{certs}"
    );
    let revocations = json(&ok(
        ROOT,
        &["revocations", "list", "--json", "--data-dir", dir],
        None,
    ));
    assert_eq!(revocations[0]["serial"], serial.as_str(), "{revocations}");
    let text = ok(ROOT, &["revocations", "list", "--data-dir", dir], None);
    assert!(
        text.starts_with(&serial) && text.contains("cessationOfOperation"),
        "{text}"
    );

    // The documented check of the list's signature, against what `chain` writes.
    let work = &d.work;
    ok(
        ROOT,
        &[
            "crl",
            "--data-dir",
            dir,
            "--out",
            s(&work.join("root.crl.pem")),
        ],
        None,
    );
    let script = documented_commands("crl-verify").replace("./root", dir);
    sh(work, &script);
}

fn write_file(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// A command whose reader stops reading (as `| head -1` does) ends quietly: the pipe is
/// closed before the command writes anything.
#[track_caller]
fn quiet_when_the_pipe_closes(bin: &str, args: &[&str]) {
    let mut child = command(bin, args, None)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
    assert!(out.status.success(), "{}: {stderr}", out.status);
}

#[test]
fn output_cut_short_by_the_reader_is_no_panic() {
    let d = Deployment::start();
    quiet_when_the_pipe_closes(LICENSING, &["chain", "--data-dir", s(&d.lic_dir)]);
    quiet_when_the_pipe_closes(ROOT, &["audit", "--data-dir", s(&d.root_dir)]);
    let chain = d.file("lic-chain.pem");
    write_file(
        &chain,
        &ok(LICENSING, &["chain", "--data-dir", s(&d.lic_dir)], None),
    );
    quiet_when_the_pipe_closes(CLIENT, &["verify", "--anchor", s(&d.anchor), s(&chain)]);
    // Through a shell, as an operator types it.
    let script = format!(
        "'{}' chain --data-dir '{}' | head -1",
        LICENSING,
        s(&d.lic_dir)
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "-----BEGIN CERTIFICATE-----\n"
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_missing_data_directory_is_a_clear_error_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let stderr = fails(ROOT, &["status", "--data-dir", s(&missing)], None);
    assert!(
        stderr.contains("no server in the data directory"),
        "{stderr}"
    );
    assert!(stderr.contains("--data-dir"), "{stderr}");
    assert!(!missing.exists());
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    fails(
        LICENSING,
        &["principal", "list", "--data-dir", s(&empty)],
        None,
    );
    assert_eq!(
        std::fs::read_dir(&empty).unwrap().count(),
        0,
        "no rms.db left behind"
    );
    // No --data-dir at all: the default ./rms-data of the working directory.
    let out = command(ROOT, &["audit"], None)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("rms-data"), "{stderr}");
    assert!(!dir.path().join("rms-data").exists());
}

#[test]
fn redirected_logs_have_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    init_root(&root);
    let log = dir.path().join("root.log");
    let mut server = Server::start(ROOT, &root, &log);
    server.stop();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("INFO"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "escape codes in a redirected log: {text:?}"
    );
}

/// The documented way to make a private CA and a server certificate with OpenSSL, run as
/// written; a licensing server enrolls over HTTPS trusting that CA (`--tls-ca`). Then a
/// self-signed certificate made with `openssl req -x509`, as documented too, given to the
/// client itself.
#[test]
fn the_documented_tls_certificates_work() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    sh(work, &documented_commands("tls-ca"));
    let root_dir = work.join("root");
    let admin = init_root(&root_dir);
    ok(
        ROOT,
        &[
            "acl",
            "grant",
            "SubEnrollService",
            "rms-admins",
            "sub-enroll",
            "--data-dir",
            s(&root_dir),
        ],
        None,
    );
    let ca = work.join("ca.pem");
    let tls = ["--tls-cert", "tls.pem", "--tls-key", "tls-key.pem"];
    let tls: Vec<String> = tls
        .iter()
        .map(|a| match a.ends_with(".pem") {
            true => s(&work.join(a)).to_owned(),
            false => (*a).to_owned(),
        })
        .collect();
    let tls: Vec<&str> = tls.iter().map(String::as_str).collect();
    let root = Server::start_with(ROOT, &root_dir, &work.join("root.log"), &tls, Some(&ca));
    let authority = root_dir.join("authority.pem");
    let lic_dir = work.join("lic");
    let mut args = enroll_args(&lic_dir, &root, "lic-1");
    args.extend_from_slice(&["--anchor", s(&authority), "--tls-ca", s(&ca)]);
    ok(LICENSING, &args, Some(&admin));
    // Without the private CA, the system's roots alone do not trust it.
    let lic_2 = work.join("lic-2");
    let mut args = enroll_args(&lic_2, &root, "lic-2");
    args.extend_from_slice(&["--anchor", s(&authority)]);
    let stderr = fails(LICENSING, &args, Some(&admin));
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
    drop(root);

    let self_signed = work.join("self");
    std::fs::create_dir(&self_signed).unwrap();
    sh(&self_signed, &documented_commands("tls-self-signed"));
    let cert = self_signed.join("self-signed.pem");
    let key = self_signed.join("self-signed-key.pem");
    let root = Server::start_with(
        ROOT,
        &root_dir,
        &work.join("root-2.log"),
        &["--tls-cert", s(&cert), "--tls-key", s(&key)],
        Some(&cert),
    );
    let lic_3 = work.join("lic-3");
    let mut args = enroll_args(&lic_3, &root, "lic-3");
    args.extend_from_slice(&["--anchor", s(&authority), "--tls-ca", s(&cert)]);
    ok(LICENSING, &args, Some(&admin));
}

/// A client certificate from the CA the server was given authenticates as the user its common
/// name names, with no token; certificates naming nobody, a disabled user, or from another CA
/// are refused; without either, the request needs a token. The certificates are made with the
/// commands docs/operations.md documents.
#[test]
fn a_client_certificate_authenticates_as_the_user_it_names() {
    let mut d = Deployment::start();
    let work = d.work.clone();
    sh(&work, &documented_commands("tls-ca"));
    sh(&work, &documented_commands("tls-client"));
    // A certificate of the same CA naming nobody, and one for alice from another CA.
    sh(
        &work,
        "openssl req -new -newkey rsa:2048 -nodes -keyout nobody-key.pem -out nobody.csr -subj /CN=nobody
         openssl x509 -req -in nobody.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 30 -extfile client.ext -out nobody.pem
         openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue-key.pem -out rogue.pem -days 30 -subj /CN=alice",
    );
    d.lic_principal("alice");
    d.keygen("alice");
    let publishing = d.publish("doc-m", &["alice:view"]);
    d.lic.stop();
    let ca = work.join("ca.pem");
    let tls_args = [
        "--tls-cert",
        s(&work.join("tls.pem")),
        "--tls-key",
        s(&work.join("tls-key.pem")),
        "--tls-client-ca",
        s(&ca),
    ]
    .map(str::to_owned);
    let tls_args: Vec<&str> = tls_args.iter().map(String::as_str).collect();
    let lic = Server::start_with(
        LICENSING,
        &d.lic_dir,
        &work.join("lic-tls.log"),
        &tls_args,
        Some(&ca),
    );
    let use_license = |cert: Option<&str>, out: &str| {
        let key = work.join("alice-key.pem");
        let out = work.join(out);
        let args = [
            "uselicense",
            "--server",
            lic.url(),
            "--tls-ca",
            s(&ca),
            "--publishing-license",
            s(&publishing),
            "--key",
            s(&key),
            "--out",
            s(&out),
        ];
        let mut command = command(CLIENT, &args, None);
        if let Some(name) = cert {
            command
                .env("RMS_TLS_CLIENT_CERT", work.join(format!("{name}.pem")))
                .env("RMS_TLS_CLIENT_KEY", work.join(format!("{name}-key.pem")));
        }
        command
            .stdin(Stdio::null())
            .output()
            .expect("run rms-client")
    };
    let stderr = |out: &std::process::Output| String::from_utf8_lossy(&out.stderr).into_owned();

    let answered = use_license(Some("alice-tls"), "alice.ul.pem");
    assert!(answered.status.success(), "{}", stderr(&answered));
    let inspected = ok(CLIENT, &["inspect", s(&work.join("alice.ul.pem"))], None);
    assert!(inspected.contains("alice"), "{inspected}");

    let refused = use_license(None, "none.ul.pem");
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("or a client certificate"),
        "{}",
        stderr(&refused)
    );
    let refused = use_license(Some("nobody"), "nobody.ul.pem");
    assert!(
        stderr(&refused).contains("no principal \"nobody\""),
        "{}",
        stderr(&refused)
    );
    let refused = use_license(Some("rogue"), "rogue.ul.pem");
    assert!(
        !refused.status.success(),
        "a certificate of another CA is refused"
    );
    assert!(!work.join("rogue.ul.pem").exists());

    ok(
        LICENSING,
        &["principal", "disable", "alice", "--data-dir", s(&d.lic_dir)],
        None,
    );
    let refused = use_license(Some("alice-tls"), "disabled.ul.pem");
    assert!(
        stderr(&refused).contains("alice is disabled"),
        "{}",
        stderr(&refused)
    );
}

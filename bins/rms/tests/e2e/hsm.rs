//! The whole flow with the root's and the licensing cluster's SLC keys inside a PKCS#11 token
//! (SoftHSM2): init and enroll make the keys in the token, the servers sign and unwrap there,
//! publishing and use licenses verify; a wrong PIN is a clear error at start; a second node of
//! a PostgreSQL cluster that sees the same token joins and serves.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::*;

/// Where Debian and others install SoftHSM2's module.
const MODULES: [&str; 3] = [
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
];
const PIN_VAR: &str = "RMS_TEST_PKCS11_PIN";

/// A SoftHSM2 token in a temporary directory: its configuration is given to every command of
/// this test thread. `None` (with the reason printed) when SoftHSM2 is not installed.
fn token(dir: &Path, label: &str) -> Option<PathBuf> {
    let Some(module) = MODULES.iter().map(PathBuf::from).find(|p| p.exists()) else {
        eprintln!("skipping: no SoftHSM2 module in {MODULES:?} (apt-get install softhsm2)");
        return None;
    };
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    let out = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", &conf)
        .args([
            "--init-token",
            "--free",
            "--label",
            label,
            "--pin",
            "1234",
            "--so-pin",
            "5678",
        ])
        .output();
    match out {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "softhsm2-util --init-token failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => {
            eprintln!("skipping: cannot run softhsm2-util ({e}; apt-get install softhsm2)");
            return None;
        }
    }
    set_env("SOFTHSM2_CONF", s(&conf));
    Some(module)
}

fn uri(label: &str, object: &str, module: &Path) -> String {
    format!(
        "pkcs11:token={label};object={object}?module-path={}&pin-source=env:{PIN_VAR}",
        module.display()
    )
}

/// What the configuration database in `dir` stores for the cluster's key.
fn stored_key(database: &str) -> Vec<u8> {
    rt().block_on(async {
        let store = rms_roles::store::Store::open(database, Default::default())
            .await
            .unwrap();
        store.current_slc().await.unwrap().encrypted_key
    })
}

#[test]
fn slc_keys_inside_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let Some(module) = token(dir.path(), "rms-e2e") else {
        return;
    };
    set_env(PIN_VAR, "1234");
    let root_dir = dir.path().join("root");
    let lic_dir = dir.path().join("lic");
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();

    let root_key = uri("rms-e2e", "root-slc", &module);
    let out = ok(
        ROOT,
        &[
            "init",
            "--data-dir",
            s(&root_dir),
            "--name",
            "root-hsm",
            "--key",
            &root_key,
        ],
        None,
    );
    let root_admin = token_in(&out);
    let stored = stored_key(&format!("sqlite://{}", root_dir.join("rms.db").display()));
    assert!(
        stored.starts_with(b"pkcs11:token=rms-e2e;object=root-slc"),
        "the database keeps the key's URI, not the key: {:?}",
        String::from_utf8_lossy(&stored)
    );
    assert!(
        !String::from_utf8_lossy(&stored).contains("1234"),
        "never the PIN"
    );
    ok(
        ROOT,
        &[
            "acl",
            "grant",
            "SubEnrollService",
            "rms-admins",
            "subenroll",
            "--data-dir",
            s(&root_dir),
        ],
        None,
    );
    let root = Server::start(ROOT, &root_dir, &work.join("root.log"));
    let anchor = root_dir.join("authority.pem");

    let lic_key = uri("rms-e2e", "lic-slc", &module);
    let mut args = enroll_args(&lic_dir, &root, "lic-hsm");
    args.extend_from_slice(&["--anchor", s(&anchor), "--key", &lic_key]);
    let lic_admin = token_in(&ok(LICENSING, &args, Some(&root_admin)));
    let lic = Server::start(LICENSING, &lic_dir, &work.join("lic.log"));

    // Publishing unwraps the client's content key in the token; the use license re-wraps it.
    let alice = token_in(&ok(
        LICENSING,
        &["principal", "add", "alice", "--data-dir", s(&lic_dir)],
        None,
    ));
    let (alice_key, _) = keygen(&work, "alice");
    let publishing = publish(&lic, &anchor, &lic_admin, &work, "doc-hsm", &["alice:view"]);
    let use_license = work.join("doc-hsm.ul.pem");
    ok(
        CLIENT,
        &[
            "uselicense",
            "--server",
            lic.url(),
            "--publishing-license",
            s(&publishing),
            "--key",
            s(&alice_key),
            "--out",
            s(&use_license),
        ],
        Some(&alice),
    );
    let verified = ok(
        CLIENT,
        &[
            "verify",
            "--anchor",
            s(&anchor),
            "--key",
            s(&alice_key),
            s(&use_license),
        ],
        None,
    );
    assert!(verified.contains("content key unwraps"), "{verified}");

    // The keys are in the token, sensitive and not extractable.
    let objects = Command::new("pkcs11-tool")
        .env("SOFTHSM2_CONF", dir.path().join("softhsm2.conf"))
        .args([
            "--module",
            s(&module),
            "--token-label",
            "rms-e2e",
            "--login",
            "--pin",
            "1234",
            "--list-objects",
            "--type",
            "privkey",
        ])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&objects.stdout);
    for label in ["root-slc", "lic-slc"] {
        assert!(listed.contains(label), "{label} in the token: {listed}");
    }
    let access: Vec<&str> = listed
        .lines()
        .filter(|l| l.trim_start().starts_with("Access:"))
        .collect();
    assert_eq!(access.len(), 2, "{listed}");
    assert!(
        access
            .iter()
            .all(|l| l.contains("never extractable") && l.contains("sensitive")),
        "{listed}"
    );

    // The token goes away under a running server: requests that need the key answer 503
    // key_unavailable (never 500), and requests that do not still work.
    let tokens = dir.path().join("tokens");
    let away = dir.path().join("tokens-away");
    std::fs::rename(&tokens, &away).unwrap();
    std::fs::create_dir(&tokens).unwrap();
    let body = rms_transport::api::UseLicenseBody {
        publishing_license_pem: std::fs::read_to_string(&publishing).unwrap(),
        public_key_pem: std::fs::read_to_string(work.join("alice-pub.pem")).unwrap(),
    };
    let refused = rt().block_on(lic.api(Some(&alice)).use_license(&body));
    match refused {
        Err(rms_transport::TransportError::Api(e)) => {
            assert_eq!(
                (e.status.as_u16(), e.code.as_str()),
                (503, "key_unavailable"),
                "{e}"
            );
        }
        Ok(_) => {
            // SoftHSM keeps sessions it opened: the key may still answer. Nothing to check.
            eprintln!("the token is away, but SoftHSM still signed with its open session");
        }
        Err(other) => panic!("unexpected answer while the token is away: {other}"),
    }
    rt().block_on(lic.api(None).chain()).unwrap();
    drop(lic);
    drop(root);
    std::fs::remove_dir(&tokens).unwrap();
    std::fs::rename(&away, &tokens).unwrap();

    // A wrong PIN is a clear error at start, not a server that fails later.
    set_env(PIN_VAR, "0000");
    let out = run(
        LICENSING,
        &[
            "serve",
            "--data-dir",
            s(&lic_dir),
            "--listen",
            "127.0.0.1:0",
        ],
        None,
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.to_lowercase().contains("pin"),
        "the refusal names the PIN: {stderr}"
    );
}

#[test]
fn a_node_that_sees_the_same_token_joins_the_cluster() {
    let Some(base) = crate::postgres::base_url() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let Some(module) = token(dir.path(), "rms-join") else {
        return;
    };
    set_env(PIN_VAR, "1234");
    let schema = crate::postgres::Schema::create(&base);
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let (root, root_admin, anchor) = serving_root(&dir.path().join("root"), &work);
    let node1 = dir.path().join("node1");
    let mut args = enroll_args(&node1, &root, "lic-pg-hsm");
    let key = uri("rms-join", "cluster-slc", &module);
    args.extend_from_slice(&[
        "--anchor",
        s(&anchor),
        "--key",
        &key,
        "--database",
        &schema.url,
    ]);
    let admin = token_in(&ok(LICENSING, &args, Some(&root_admin)));
    let secret = node1.join("cluster-secret");
    let node2 = dir.path().join("node2");
    ok(
        LICENSING,
        &[
            "join",
            "--data-dir",
            s(&node2),
            "--database",
            &schema.url,
            "--secret-file",
            s(&secret),
        ],
        None,
    );
    let second = Server::start(LICENSING, &node2, &work.join("node2.log"));
    let publishing = publish(&second, &anchor, &admin, &work, "doc-join", &["admin:view"]);
    let (key_path, _) = keygen(&work, "admin");
    let out = work.join("doc-join.ul.pem");
    ok(
        CLIENT,
        &[
            "uselicense",
            "--server",
            second.url(),
            "--publishing-license",
            s(&publishing),
            "--key",
            s(&key_path),
            "--out",
            s(&out),
        ],
        Some(&admin),
    );
    drop(second);
    drop(root);
    drop(schema);
}

//! The whole story with the real binaries: init -> serve -> enroll refused (403) -> grant ->
//! enroll -> licensing serve -> publish -> use license -> offline verify; a user not in the
//! policy is refused; a principal explicitly denied is refused even in rms-admins; the
//! authority given by fingerprint is checked.

use crate::harness::*;

#[test]
fn full_flow_with_dacl_enforcement() {
    let dir = tempfile::tempdir().unwrap();
    let root_dir = dir.path().join("root");
    let lic_dir = dir.path().join("lic");
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();

    // init: an authority, a root SLC, an administrator in rms-admins, nothing issued yet.
    let root_admin = init_root(&root_dir);
    let anchor = root_dir.join("authority.pem");
    assert_eq!(certs(ROOT, &root_dir, &[]).1, vec![]);
    let acl = ok(
        ROOT,
        &[
            "acl",
            "show",
            "SubEnrollService",
            "--data-dir",
            s(&root_dir),
        ],
        None,
    );
    assert_eq!(
        acl.lines().next(),
        Some("O:SYG:SYD:P"),
        "SubEnrollService denies everyone after init"
    );
    assert!(acl.contains("empty DACL"), "{acl}");

    let root = Server::start(ROOT, &root_dir, &work.join("root.log"));

    // enroll before any grant: refused by the DACL, nothing issued, no cluster left behind.
    let mut args = enroll_args(&lic_dir, &root, "lic-1");
    args.extend_from_slice(&["--anchor", s(&anchor)]);
    let stderr = fails(LICENSING, &args, Some(&root_admin));
    assert!(
        stderr.contains("403") && stderr.to_lowercase().contains("forbidden"),
        "the refusal is a 403: {stderr}"
    );
    assert_eq!(certs(ROOT, &root_dir, &[]).1, vec![]);
    assert!(issuance_audit(ROOT, &root_dir).is_empty());
    assert!(
        audit(ROOT, &root_dir)
            .lines()
            .any(|l| l.contains("denied") && l.contains("SubEnrollService") && l.contains("admin")),
        "the refusal is audited"
    );
    fails(LICENSING, &["status", "--data-dir", s(&lic_dir)], None);
    let root_metrics = rt()
        .block_on(root.client(None).get_text("/metrics"))
        .unwrap();
    assert!(
        root_metrics.contains("rms_access_denied_total{service=\"SubEnrollService\"} 1"),
        "{root_metrics}"
    );

    // grant rms-admins, then the same enrollment (same data directory) succeeds.
    let granted = ok(
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
    assert!(granted.contains("(A;;CC;;;S-1-5-21-"), "{granted}");
    let enrolled = ok(LICENSING, &args, Some(&root_admin));
    assert!(
        enrolled.contains("chain verified against the enrollment authority"),
        "{enrolled}"
    );
    let lic_admin = token_in(&enrolled);
    let issued = certs(ROOT, &root_dir, &[]).1;
    assert_eq!(issued.len(), 1, "{issued:?}");
    assert_eq!(
        (issued[0].kind.as_str(), issued[0].subject.as_str()),
        ("slc", "lic-1")
    );
    let status = ok(LICENSING, &["status", "--data-dir", s(&lic_dir)], None);
    assert!(status.contains("CN=lic-1"), "{status}");
    assert!(
        status.contains(&format!("serial:     {}", issued[0].serial)),
        "the licensing server holds the SLC the root recorded:\n{status}"
    );

    // The licensing server, its users, a publishing license for alice.
    let lic = Server::start(LICENSING, &lic_dir, &work.join("lic.log"));
    let principal = |name: &str| {
        token_in(&ok(
            LICENSING,
            &["principal", "add", name, "--data-dir", s(&lic_dir)],
            None,
        ))
    };
    let alice = principal("alice");
    let bob = principal("bob");
    let keygen = |name: &str| {
        let key = work.join(format!("{name}-key.pem"));
        let public = ok(CLIENT, &["keygen", "--out", s(&key)], None);
        assert!(public.contains("BEGIN PUBLIC KEY"), "{public}");
        key
    };
    let alice_key = keygen("alice");
    let bob_key = keygen("bob");

    let pl = work.join("doc-1.pl.pem");
    let published = ok(
        CLIENT,
        &[
            "publish",
            "--server",
            lic.url(),
            "--anchor",
            s(&anchor),
            "--content-id",
            "doc-1",
            "--grant",
            "alice:view,print",
            "--out",
            s(&pl),
        ],
        Some(&lic_admin),
    );
    assert!(published.contains("publishing license"), "{published}");

    // alice gets a use license, and it verifies offline with the content key unwrapping.
    let ul = work.join("doc-1.alice.ul.pem");
    let got = ok(
        CLIENT,
        &[
            "uselicense",
            "--server",
            lic.url(),
            "--publishing-license",
            s(&pl),
            "--key",
            s(&alice_key),
            "--out",
            s(&ul),
        ],
        Some(&alice),
    );
    assert!(got.contains("use license"), "{got}");
    let verified = ok(
        CLIENT,
        &[
            "verify",
            "--anchor",
            s(&anchor),
            "--key",
            s(&alice_key),
            s(&ul),
        ],
        None,
    );
    assert!(verified.contains("signed by: CN=lic-1"), "{verified}");
    assert!(
        verified.contains("grants view, print to \"alice\""),
        "verify names alice and her rights:\n{verified}"
    );
    assert!(verified.contains("content key unwraps"), "{verified}");
    // Someone else's key cannot unwrap alice's content key.
    let stderr = fails(
        CLIENT,
        &[
            "verify",
            "--anchor",
            s(&anchor),
            "--key",
            s(&bob_key),
            s(&ul),
        ],
        None,
    );
    assert!(stderr.contains("does not unwrap"), "{stderr}");

    // bob is not in the policy: refused, and nothing is recorded for him.
    let bob_ul = work.join("doc-1.bob.ul.pem");
    let stderr = fails(
        CLIENT,
        &[
            "uselicense",
            "--server",
            lic.url(),
            "--publishing-license",
            s(&pl),
            "--key",
            s(&bob_key),
            "--out",
            s(&bob_ul),
        ],
        Some(&bob),
    );
    assert!(
        stderr.contains("422") && stderr.contains("not_granted"),
        "{stderr}"
    );
    assert!(!bob_ul.exists());
    let lic_issued = certs(LICENSING, &lic_dir, &[]).1;
    let mut kinds: Vec<(&str, &str)> = lic_issued
        .iter()
        .map(|i| (i.kind.as_str(), i.subject.as_str()))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec![("publishing-license", "doc-1"), ("use-license", "alice")],
        "alice's license and the publishing license; nothing for bob"
    );

    // mallory is in rms-admins but explicitly denied: refused (403), nothing issued.
    let mallory = token_in(&ok(
        ROOT,
        &[
            "principal",
            "add",
            "mallory",
            "--group",
            "rms-admins",
            "--data-dir",
            s(&root_dir),
        ],
        None,
    ));
    let denied = ok(
        ROOT,
        &[
            "acl",
            "deny",
            "SubEnrollService",
            "mallory",
            "sub-enroll",
            "--data-dir",
            s(&root_dir),
        ],
        None,
    );
    assert!(denied.contains("(D;;CC;;;S-1-5-21-"), "{denied}");
    let mallory_dir = dir.path().join("lic-mallory");
    let mut args = enroll_args(&mallory_dir, &root, "lic-mallory");
    args.extend_from_slice(&["--anchor", s(&anchor)]);
    let stderr = fails(LICENSING, &args, Some(&mallory));
    assert!(
        stderr.contains("403") && stderr.to_lowercase().contains("forbidden"),
        "{stderr}"
    );
    assert_eq!(certs(ROOT, &root_dir, &[]).1, issued, "nothing issued");
    assert!(
        audit(ROOT, &root_dir)
            .lines()
            .any(|l| l.contains("denied") && l.contains("mallory")),
        "mallory's refusal is audited"
    );

    // The authority by fingerprint (colon-separated, upper case, as `openssl x509
    // -fingerprint` prints it): a wrong one is refused before anything is sent...
    let fp = fingerprint(&anchor);
    let mut wrong = fp.clone().into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    let wrong_dir = dir.path().join("lic-wrong-fp");
    let mut args = enroll_args(&wrong_dir, &root, "lic-wrong");
    args.extend_from_slice(&["--anchor-fingerprint", &wrong]);
    let stderr = fails(LICENSING, &args, Some(&root_admin));
    assert!(stderr.contains("fingerprint"), "{stderr}");
    assert_eq!(certs(ROOT, &root_dir, &[]).1, issued, "nothing issued");

    // ...and the right one works, for an admin the deny does not name.
    let colons: Vec<String> = fp
        .as_bytes()
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).to_uppercase())
        .collect();
    let colons = colons.join(":");
    let fp_dir = dir.path().join("lic-fp");
    let mut args = enroll_args(&fp_dir, &root, "lic-fp");
    args.extend_from_slice(&["--anchor-fingerprint", &colons]);
    let enrolled = ok(LICENSING, &args, Some(&root_admin));
    assert!(enrolled.contains("chain verified"), "{enrolled}");
    let after = certs(ROOT, &root_dir, &[]).1;
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(after.contains(&issued[0]), "{after:?}");
    assert!(after.iter().any(|i| i.subject == "lic-fp"), "{after:?}");
    unique(after.iter().map(|i| i.serial.clone()));
    assert_eq!(issuance_audit(ROOT, &root_dir).len(), 2);
    // The chain it stored ends in the same authority.
    let chain = ok(LICENSING, &["chain", "--data-dir", s(&fp_dir)], None);
    let chain_file = work.join("lic-fp-chain.pem");
    std::fs::write(&chain_file, &chain).unwrap();
    let checked = ok(
        CLIENT,
        &["verify", "--anchor", s(&anchor), s(&chain_file)],
        None,
    );
    assert!(checked.contains("CN=lic-fp"), "{checked}");

    // A failed init leaves nothing in the way of running it again.
    let other_dir = dir.path().join("other-root");
    let stderr = fails(
        ROOT,
        &[
            "init",
            "--data-dir",
            s(&other_dir),
            "--name",
            "other",
            "--authority-name",
            "not a name",
        ],
        None,
    );
    assert!(stderr.contains("authority name"), "{stderr}");
    init_root(&other_dir);

    // An impostor authority (another root's, with the same name) is not trusted: the chain the
    // root returns does not verify against it, nothing is stored, and the same command with
    // the real authority then succeeds in the same directory.
    let impostor = other_dir.join("authority.pem");
    for authority in [&anchor, &impostor] {
        let inspected = ok(CLIENT, &["inspect", s(authority)], None);
        assert!(
            inspected.contains("certificate CN=RMS Enrollment Authority"),
            "{inspected}"
        );
    }
    assert_ne!(fingerprint(&impostor), fp);
    let retry_dir = dir.path().join("lic-retry");
    let mut args = enroll_args(&retry_dir, &root, "lic-retry");
    args.extend_from_slice(&["--anchor", s(&impostor)]);
    let stderr = fails(LICENSING, &args, Some(&root_admin));
    assert!(stderr.contains("does not verify"), "{stderr}");
    fails(LICENSING, &["status", "--data-dir", s(&retry_dir)], None);
    assert!(
        !retry_dir.join("cluster-secret").exists(),
        "no secret is left for a cluster that was not created"
    );
    let mut args = enroll_args(&retry_dir, &root, "lic-retry");
    args.extend_from_slice(&["--anchor", s(&anchor)]);
    ok(LICENSING, &args, Some(&root_admin));
    let status = ok(LICENSING, &["status", "--data-dir", s(&retry_dir)], None);
    assert!(status.contains("CN=lic-retry"), "{status}");

    drop(lic);
    drop(root);
}

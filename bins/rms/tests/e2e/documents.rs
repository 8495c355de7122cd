//! Protected documents with the real binaries: `rms-client protect`, `info` and `open` against
//! a licensing server on loopback; round trips of empty, small and multi-chunk files; a
//! view-only user cannot write the document out; a user not granted is refused by the server;
//! a tampered file leaves nothing behind; a stored use license reopens the document with the
//! licensing server stopped.

use std::path::{Path, PathBuf};

use crate::harness::*;

/// `rms-client open` arguments for `file` as the holder of `key`, into `out`, with `store`.
fn open_args<'a>(
    d: &'a Deployment,
    file: &'a Path,
    key: &'a Path,
    out: &'a Path,
    store: &'a Path,
) -> Vec<&'a str> {
    vec![
        "open",
        s(file),
        "--server",
        d.lic.url(),
        "--anchor",
        s(&d.anchor),
        "--key",
        s(key),
        "--out",
        s(out),
        "--license-store",
        s(store),
    ]
}

fn protect(d: &Deployment, file: &Path, grants: &[&str]) -> PathBuf {
    let mut args = vec![
        "protect",
        s(file),
        "--server",
        d.lic.url(),
        "--anchor",
        s(&d.anchor),
    ];
    for grant in grants {
        args.extend_from_slice(&["--grant", grant]);
    }
    let stdout = ok(CLIENT, &args, Some(&d.lic_admin));
    assert!(stdout.contains("content id urn:uuid:"), "{stdout}");
    let protected = PathBuf::from(format!("{}.rms", file.display()));
    assert!(protected.exists(), "the default name is FILE.rms");
    protected
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn protect_info_and_open_with_the_rights_granted() {
    let mut d = Deployment::start();
    let alice = d.lic_principal("alice");
    let viewer = d.lic_principal("viewer");
    let bob = d.lic_principal("bob");
    let (alice_key, _) = d.keygen("alice");
    let (viewer_key, _) = d.keygen("viewer");
    let (bob_key, _) = d.keygen("bob");
    let store = d.file("alice-licenses");
    let docs = d.file("docs");
    std::fs::create_dir(&docs).unwrap();
    let grants = ["alice:view,export", "viewer:view,print"];

    let sizes = [0usize, 1, 1 << 20, (2 << 20) + 777];
    let mut protected_files = Vec::new();
    for size in sizes {
        let content: Vec<u8> = (0..=252).cycle().take(size).collect();
        let file = docs.join(format!("doc-{size}.bin"));
        std::fs::write(&file, &content).unwrap();
        let protected = protect(&d, &file, &grants);

        let info = ok(CLIENT, &["info", s(&protected)], None);
        assert!(info.contains("content id:       urn:uuid:"), "{info}");
        assert!(
            info.contains("issuer:           ") && info.contains("lic-1"),
            "{info}"
        );
        assert!(
            info.contains(&format!("licensing server: {}", d.lic.url())),
            "{info}"
        );
        assert!(info.contains("grants view, export to \"alice\""), "{info}");
        assert!(info.contains("grants view, print to \"viewer\""), "{info}");

        let out = docs.join(format!("opened-{size}.bin"));
        let opened = ok(
            CLIENT,
            &open_args(&d, &protected, &alice_key, &out, &store),
            Some(&alice),
        );
        assert!(
            opened.contains("use license from the licensing server: alice may view, export until"),
            "{opened}"
        );
        assert_eq!(std::fs::read(&out).unwrap(), content, "size {size}");
        protected_files.push((protected, content));
    }

    let (protected, content) = &protected_files[2];
    // The viewer may not write the document out: the refusal names the right.
    let out = d.file("viewer-copy.bin");
    let viewer_store = d.file("viewer-licenses");
    let stderr = fails(
        CLIENT,
        &open_args(&d, protected, &viewer_key, &out, &viewer_store),
        Some(&viewer),
    );
    assert!(
        stderr.contains("needs the export or edit right") && stderr.contains("view, print"),
        "{stderr}"
    );
    assert!(!out.exists());
    // bob is not granted: the server refuses.
    let stderr = fails(
        CLIENT,
        &open_args(&d, protected, &bob_key, &out, &d.file("bob-licenses")),
        Some(&bob),
    );
    assert!(stderr.contains("not_granted"), "{stderr}");
    assert!(!out.exists());

    // A tampered file is refused and leaves nothing in the destination's directory.
    let tampered_dir = d.file("tampered");
    std::fs::create_dir(&tampered_dir).unwrap();
    let mut bytes = std::fs::read(protected).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x80;
    let tampered = d.file("tampered.bin.rms");
    std::fs::write(&tampered, &bytes).unwrap();
    let out = tampered_dir.join("tampered.bin");
    let stderr = fails(
        CLIENT,
        &open_args(&d, &tampered, &alice_key, &out, &store),
        Some(&alice),
    );
    assert!(stderr.contains("not opened"), "{stderr}");
    assert!(
        names(&tampered_dir).is_empty(),
        "{:?}",
        names(&tampered_dir)
    );

    // With the licensing server stopped, alice's stored license opens the document again.
    d.lic.stop();
    let out = d.file("offline-copy.bin");
    let opened = ok(
        CLIENT,
        &open_args(&d, protected, &alice_key, &out, &store),
        None,
    );
    assert!(
        opened.contains("use license from the license store"),
        "{opened}"
    );
    assert_eq!(&std::fs::read(&out).unwrap(), content);
    // Without a stored license there is nothing to open it with.
    let stderr = fails(
        CLIENT,
        &open_args(&d, protected, &alice_key, &out, &d.file("empty-store")),
        None,
    );
    assert!(stderr.contains("not opened"), "{stderr}");
}

/// The content id `rms-client info` prints for `protected`.
fn content_id_of(protected: &Path) -> String {
    let info = ok(CLIENT, &["info", s(protected)], None);
    info.lines()
        .find_map(|line| line.strip_prefix("content id:"))
        .map(|id| id.trim().to_owned())
        .unwrap_or_else(|| panic!("no content id in {info}"))
}

#[test]
fn super_users_and_revoked_documents_with_the_real_binaries() {
    let d = Deployment::start();
    let lic = s(&d.lic_dir);
    let alice = d.lic_principal("alice");
    let carol = d.lic_principal("carol");
    ok(
        LICENSING,
        &["group", "add", "compliance", "--data-dir", lic],
        None,
    );
    ok(
        LICENSING,
        &[
            "group",
            "add-member",
            "carol",
            "compliance",
            "--data-dir",
            lic,
        ],
        None,
    );
    let (alice_key, _) = d.keygen("alice");
    let (carol_key, _) = d.keygen("carol");
    let file = d.file("minutes.txt");
    std::fs::write(&file, b"board minutes").unwrap();
    let protected = protect(&d, &file, &["alice:view,export"]);
    let content_id = content_id_of(&protected);
    let alice_store = d.file("alice-licenses");
    let out = d.file("alice-copy.txt");
    ok(
        CLIENT,
        &open_args(&d, &protected, &alice_key, &out, &alice_store),
        Some(&alice),
    );

    // Super users: disabled and empty by default; a member of a super-user group is refused
    // until they are enabled, then opens with every right, audited as super-user access.
    let listed = ok(LICENSING, &["superusers", "list", "--data-dir", lic], None);
    assert!(
        listed.contains("super users: disabled") && listed.contains("no members"),
        "{listed}"
    );
    ok(
        LICENSING,
        &["superusers", "add", "compliance", "--data-dir", lic],
        None,
    );
    let carol_out = d.file("carol-copy.txt");
    let carol_store = d.file("carol-licenses");
    let stderr = fails(
        CLIENT,
        &open_args(&d, &protected, &carol_key, &carol_out, &carol_store),
        Some(&carol),
    );
    assert!(stderr.contains("not_granted"), "{stderr}");
    let enabled = ok(
        LICENSING,
        &["superusers", "enable", "--data-dir", lic],
        None,
    );
    assert!(enabled.contains("super users enabled"), "{enabled}");
    let opened = ok(
        CLIENT,
        &open_args(&d, &protected, &carol_key, &carol_out, &carol_store),
        Some(&carol),
    );
    assert!(
        opened.contains("carol may view, edit, print, export, forward"),
        "{opened}"
    );
    assert_eq!(std::fs::read(&carol_out).unwrap(), b"board minutes");
    let json = ok(
        LICENSING,
        &["superusers", "list", "--data-dir", lic, "--json"],
        None,
    );
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["enabled"], true, "{json}");
    assert_eq!(value["members"][0]["name"], "compliance", "{json}");
    let audit = audit(LICENSING, &d.lic_dir);
    assert!(
        audit.contains(&format!("super-user access to {content_id:?}")),
        "{audit}"
    );

    // Revoking the document: a bad id is refused, the right one stops new licenses at once
    // and alice's stored license is refused once her client has the list.
    let stderr = fails(
        LICENSING,
        &["content", "revoke", "urn:uuid:nope", "--data-dir", lic],
        None,
    );
    assert!(
        stderr.contains("no publishing license for content"),
        "{stderr}"
    );
    let revoked = ok(
        LICENSING,
        &[
            "content",
            "revoke",
            &content_id,
            "--reason",
            "sent to the wrong list",
            "--data-dir",
            lic,
        ],
        None,
    );
    assert!(
        revoked.contains(&format!("access to {content_id} revoked at ")),
        "{revoked}"
    );
    let stderr = fails(
        CLIENT,
        &open_args(
            &d,
            &protected,
            &alice_key,
            &d.file("again.txt"),
            &alice_store,
        ),
        Some(&alice),
    );
    assert!(
        stderr.contains("access to this document was revoked on")
            && stderr.contains("sent to the wrong list"),
        "{stderr}"
    );
    assert!(!d.file("again.txt").exists());
    let stderr = fails(
        CLIENT,
        &open_args(
            &d,
            &protected,
            &alice_key,
            &d.file("again.txt"),
            &d.file("fresh-store"),
        ),
        Some(&alice),
    );
    assert!(
        stderr.contains("access to this document was revoked on"),
        "{stderr}"
    );
    let listed = ok(
        LICENSING,
        &["revocations", "list", "--data-dir", lic, "--json"],
        None,
    );
    let value: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(
        value["content"][0]["content_id"],
        content_id.as_str(),
        "{listed}"
    );
    assert_eq!(
        value["content"][0]["reason"], "sent to the wrong list",
        "{listed}"
    );
    let stderr = fails(
        LICENSING,
        &["content", "revoke", &content_id, "--data-dir", lic],
        None,
    );
    assert!(stderr.contains("is revoked already"), "{stderr}");
}

#[test]
fn bad_arguments_are_refused_before_anything_is_written() {
    let d = Deployment::start();
    let file = d.file("report.txt");
    std::fs::write(&file, b"report").unwrap();
    // An unknown right.
    let stderr = fails(
        CLIENT,
        &[
            "protect",
            s(&file),
            "--server",
            d.lic.url(),
            "--anchor",
            s(&d.anchor),
            "--grant",
            "alice:read",
        ],
        Some(&d.lic_admin),
    );
    assert!(stderr.contains("read"), "{stderr}");
    // A file that does not exist.
    let stderr = fails(
        CLIENT,
        &[
            "protect",
            s(&d.file("missing.txt")),
            "--server",
            d.lic.url(),
            "--anchor",
            s(&d.anchor),
            "--grant",
            "alice:view",
        ],
        Some(&d.lic_admin),
    );
    assert!(stderr.contains("missing.txt"), "{stderr}");
    assert!(!d.file("missing.txt.rms").exists());
    // Not a protected file.
    let stderr = fails(CLIENT, &["info", s(&file)], None);
    assert!(stderr.contains("report.txt"), "{stderr}");
    // open without --out of a file not ending in .rms.
    let (key, _) = d.keygen("alice");
    let stderr = fails(
        CLIENT,
        &[
            "open",
            s(&file),
            "--server",
            d.lic.url(),
            "--anchor",
            s(&d.anchor),
            "--key",
            s(&key),
            "--license-store",
            s(&d.file("store")),
        ],
        None,
    );
    assert!(stderr.contains("--out"), "{stderr}");
}

#[test]
fn every_subcommand_has_an_example_in_its_help() {
    for command in [
        "protect",
        "open",
        "info",
        "keygen",
        "publish",
        "uselicense",
        "verify",
        "inspect",
    ] {
        let help = ok(CLIENT, &[command, "--help"], None);
        assert!(
            help.contains(&format!("Example: rms-client {command} ")),
            "{command}:\n{help}"
        );
        assert!(
            help.lines().all(|l| !l.trim_end().ends_with('\\')),
            "{command}: no line continuations:\n{help}"
        );
    }
    let help = ok(CLIENT, &["--help"], None);
    assert!(
        help.lines().all(|l| !l.trim_end().ends_with('\\')),
        "{help}"
    );
}

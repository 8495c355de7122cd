//! Stop both servers with SIGTERM and start them again on new ports: everything issued is
//! still recorded, the chains are unchanged, and both keep working.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rms_transport::TransportError;
use rms_transport::api::UseLicenseBody;

use crate::harness::*;

#[test]
fn restart_keeps_records_and_chains() {
    let mut d = Deployment::start();
    let alice = d.lic_principal("alice");
    let (alice_key, alice_pub) = d.keygen("alice");
    let pl = d.publish("doc-1", &["alice:view"]);
    let ul = d.file("doc-1.ul.1.pem");
    ok(
        CLIENT,
        &d.uselicense_args(&pl, &alice_key, &ul),
        Some(&alice),
    );

    let root_certs = certs(ROOT, &d.root_dir, &[]);
    let lic_certs = certs(LICENSING, &d.lic_dir, &[]);
    assert_eq!(root_certs.1.len(), 1);
    assert_eq!(lic_certs.1.len(), 2);
    let root_audit = issuance_audit(ROOT, &d.root_dir);
    let lic_audit = issuance_audit(LICENSING, &d.lic_dir);
    let root_chain = rt().block_on(d.root.api(None).chain()).unwrap();
    let lic_chain = rt().block_on(d.lic.api(None).chain()).unwrap();
    assert_eq!(root_chain.matches("BEGIN CERTIFICATE").count(), 2);
    assert_eq!(lic_chain.matches("BEGIN CERTIFICATE").count(), 3);
    let root_health = rt().block_on(d.root.api(None).health()).unwrap();
    let lic_health = rt().block_on(d.lic.api(None).health()).unwrap();
    let (old_root, old_lic) = (d.root.url().to_owned(), d.lic.url().to_owned());

    // SIGTERM: both stop gracefully (exit 0).
    let (root_log, lic_log) = (d.work.join("root-2.log"), d.work.join("lic-2.log"));
    d.lic.stop();
    d.root.stop();
    for (server, what) in [(&d.root, "root"), (&d.lic, "licensing")] {
        let refused = rt().block_on(server.api(None).health());
        assert!(refused.is_err(), "the {what} server is gone after SIGTERM");
    }
    d.root.start_again(&root_log);
    d.lic.start_again(&lic_log);
    // Both are healthy again (Server::start waited for /healthz) at the addresses they print.
    eprintln!(
        "restarted: root {old_root} -> {}, licensing {old_lic} -> {}",
        d.root.url(),
        d.lic.url()
    );

    assert_eq!(certs(ROOT, &d.root_dir, &[]), root_certs);
    assert_eq!(certs(LICENSING, &d.lic_dir, &[]), lic_certs);
    assert_eq!(issuance_audit(ROOT, &d.root_dir), root_audit);
    assert_eq!(issuance_audit(LICENSING, &d.lic_dir), lic_audit);
    assert_eq!(rt().block_on(d.root.api(None).chain()).unwrap(), root_chain);
    assert_eq!(rt().block_on(d.lic.api(None).chain()).unwrap(), lic_chain);
    let health = rt().block_on(d.root.api(None).health()).unwrap();
    assert_eq!(
        (health.status.as_str(), &health.slc_serial),
        ("ok", &root_health.slc_serial)
    );
    let health = rt().block_on(d.lic.api(None).health()).unwrap();
    assert_eq!(
        (health.status.as_str(), &health.slc_serial),
        ("ok", &lic_health.slc_serial)
    );

    // The publishing license issued before the restart still yields a use license (the
    // cluster key decrypts from the store again), and it verifies.
    let ul2 = d.file("doc-1.ul.2.pem");
    ok(
        CLIENT,
        &d.uselicense_args(&pl, &alice_key, &ul2),
        Some(&alice),
    );
    let verified = ok(
        CLIENT,
        &[
            "verify",
            "--anchor",
            s(&d.anchor),
            "--key",
            s(&alice_key),
            s(&ul2),
        ],
        None,
    );
    assert!(verified.contains("content key unwraps"), "{verified}");
    let (_, after) = certs(LICENSING, &d.lic_dir, &[]);
    assert_eq!(after.len(), 3);
    let added: Vec<&Issued> = after.iter().filter(|i| !lic_certs.1.contains(i)).collect();
    assert_eq!(added.len(), 1, "earlier records kept, one added: {after:?}");
    assert_eq!(
        (added[0].kind.as_str(), added[0].subject.as_str()),
        ("use-license", "alice")
    );
    unique(after.iter().map(|i| i.serial.clone()));

    // The root still sub-enrolls: a second licensing server, chained to the same root SLC.
    let lic2_dir = d.work.join("lic-2");
    let mut args = enroll_args(&lic2_dir, &d.root, "lic-2");
    args.extend_from_slice(&["--anchor", s(&d.anchor)]);
    ok(LICENSING, &args, Some(&d.root_admin));
    let lic2_chain = ok(LICENSING, &["chain", "--data-dir", s(&lic2_dir)], None);
    assert!(
        lic2_chain.ends_with(&root_chain),
        "the new SLC is issued under the same root chain"
    );
    let (_, root_after) = certs(ROOT, &d.root_dir, &[]);
    assert_eq!(root_after.len(), 2);
    assert!(root_after.contains(&root_certs.1[0]), "{root_after:?}");
    assert!(
        root_after.iter().any(|i| i.subject == "lic-2"),
        "{root_after:?}"
    );

    // SIGTERM while use-license requests are in flight: the server finishes what it started
    // (graceful shutdown), so what it answered is exactly what it recorded; a request it did
    // not start fails to connect, never with a server error.
    let before: BTreeSet<String> = certs(LICENSING, &d.lic_dir, &["--kind", "use-license"])
        .1
        .into_iter()
        .map(|i| i.serial)
        .collect();
    let body = UseLicenseBody {
        publishing_license_pem: std::fs::read_to_string(&pl).unwrap(),
        public_key_pem: std::fs::read_to_string(&alice_pub).unwrap(),
    };
    let clients: Vec<_> = (0..4).map(|_| d.lic.api(Some(&alice))).collect();
    let answered_count = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let api = clients[i % clients.len()].clone();
            let body = body.clone();
            let answered_count = answered_count.clone();
            rt().spawn(async move {
                let answer = api.use_license(&body).await;
                if answer.is_ok() {
                    answered_count.fetch_add(1, Ordering::SeqCst);
                }
                answer
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    while answered_count.load(Ordering::SeqCst) < 5 {
        assert!(Instant::now() < deadline, "no use license within 20 s");
        std::thread::sleep(Duration::from_millis(2));
    }
    let at_signal = answered_count.load(Ordering::SeqCst);
    d.lic.stop();
    let results = rt().block_on(async {
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        results
    });
    let mut answered = Vec::new();
    for result in results {
        match result {
            Ok(license) => answered.push(license.serial),
            Err(TransportError::Connect { .. }) => {}
            Err(other) => panic!("a request during shutdown failed with {other}"),
        }
    }
    eprintln!(
        "SIGTERM with requests in flight: {at_signal} answered before it, {} in all",
        answered.len()
    );
    assert!(answered.len() >= at_signal);
    d.lic.start_again(&d.work.join("lic-3.log"));
    let recorded: BTreeSet<String> = certs(LICENSING, &d.lic_dir, &["--kind", "use-license"])
        .1
        .into_iter()
        .map(|i| i.serial)
        .collect();
    let mut expected = before.clone();
    expected.extend(unique(answered));
    assert_eq!(
        recorded, expected,
        "recorded use licenses are those issued before plus those answered"
    );

    // Pruning never touches what is still valid, and refuses a margin under a day.
    let refused = fails(
        LICENSING,
        &[
            "certs",
            "prune",
            "--margin",
            "12h",
            "--data-dir",
            s(&d.lic_dir),
        ],
        None,
    );
    assert!(refused.contains("too short"), "{refused}");
    let pruned = ok(
        LICENSING,
        &["certs", "prune", "--data-dir", s(&d.lic_dir)],
        None,
    );
    assert!(pruned.starts_with("deleted 0 records"), "{pruned}");
    let after: BTreeSet<String> = certs(LICENSING, &d.lic_dir, &["--kind", "use-license"])
        .1
        .into_iter()
        .map(|i| i.serial)
        .collect();
    assert_eq!(after, recorded);
    assert!(audit(LICENSING, &d.lic_dir).contains("certs prune"));
}

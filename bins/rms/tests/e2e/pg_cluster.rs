//! A licensing cluster on PostgreSQL for the tests that need one: a root, a first licensing
//! node enrolled with `--database`, nodes that join, and clients that load them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rms_roles::cert::{LicenseBody, SignedLicense};
use rms_roles::chain::{TrustAnchor, TrustAnchors, Verifier, VerifyOptions};
use rms_roles::store::{IssuedFilter, IssuedKind, Store, StoreOptions};
use rms_transport::api::{ApiClient, LicenseResponse, UseLicenseBody};
use rms_transport::{StatusCode, TransportError};
use tempfile::TempDir;

use crate::harness::*;

/// A root, and a licensing cluster on PostgreSQL whose first node enrolled; servers are
/// declared first so they stop before the directory goes.
pub(crate) struct Cluster {
    pub(crate) nodes: Vec<Server>,
    pub(crate) _root: Server,
    pub(crate) database: String,
    pub(crate) first: PathBuf,
    pub(crate) anchor: PathBuf,
    pub(crate) lic_admin: String,
    pub(crate) work: PathBuf,
    pub(crate) dir: TempDir,
}

impl Cluster {
    /// Root init -> grant -> serve; `rms-licensing enroll --database URL` into `lic-1`.
    pub(crate) fn enroll(database: &str) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let root_dir = dir.path().join("root");
        let work = dir.path().join("work");
        std::fs::create_dir(&work).unwrap();
        let (root, root_admin, anchor) = serving_root(&root_dir, &work);
        let first = dir.path().join("lic-1");
        let mut args = enroll_args(&first, &root, "lic-cluster");
        args.extend_from_slice(&["--anchor", s(&anchor), "--database", database]);
        let lic_admin = token_in(&ok(LICENSING, &args, Some(&root_admin)));
        Cluster {
            nodes: Vec::new(),
            _root: root,
            database: database.to_owned(),
            first,
            anchor,
            lic_admin,
            work,
            dir,
        }
    }

    /// `rms-licensing join` into a new directory with the first node's secret file.
    pub(crate) fn join(&self, name: &str) -> PathBuf {
        let node = self.dir.path().join(name);
        let secret = self.first.join("cluster-secret");
        let out = ok(
            LICENSING,
            &[
                "join",
                "--data-dir",
                s(&node),
                "--database",
                &self.database,
                "--secret-file",
                s(&secret),
            ],
            None,
        );
        assert!(
            out.contains("joined licensing cluster lic-cluster"),
            "{out}"
        );
        node
    }

    pub(crate) fn serve(&mut self, data_dir: &Path) {
        let log = self.work.join(format!("node-{}.log", self.nodes.len() + 1));
        self.nodes.push(Server::start(LICENSING, data_dir, &log));
    }

    pub(crate) fn verifier(&self) -> Verifier {
        let mut anchors = TrustAnchors::new();
        anchors
            .add(TrustAnchor::from_pem(&std::fs::read_to_string(&self.anchor).unwrap()).unwrap());
        Verifier::new(anchors, VerifyOptions::new())
    }

    /// alice's token and the body of her use-license request for a new publishing license.
    pub(crate) fn alice_request(&self) -> (String, UseLicenseBody) {
        let alice = token_in(&ok(
            LICENSING,
            &["principal", "add", "alice", "--data-dir", s(&self.first)],
            None,
        ));
        let (_, public) = keygen(&self.work, "alice");
        let pl = publish(
            &self.nodes[0],
            &self.anchor,
            &self.lic_admin,
            &self.work,
            "doc-1",
            &["alice:view"],
        );
        let body = UseLicenseBody {
            publishing_license_pem: std::fs::read_to_string(&pl).unwrap(),
            public_key_pem: std::fs::read_to_string(&public).unwrap(),
        };
        (alice, body)
    }

    /// The cluster's records of use licenses, straight from the database.
    pub(crate) fn recorded(&self) -> Vec<String> {
        rt().block_on(async {
            let store = Store::open(&self.database, StoreOptions::default())
                .await
                .unwrap();
            let records = store
                .issued(&IssuedFilter {
                    kind: Some(IssuedKind::UseLicense),
                    ..IssuedFilter::default()
                })
                .await
                .unwrap();
            let audited = store
                .audit_log(None, 1_000_000)
                .await
                .unwrap()
                .into_iter()
                .filter(|e| e.entry.reason.contains("issued use-license"))
                .count();
            assert_eq!(
                audited,
                records.len(),
                "every record has its audit entry, and only they"
            );
            store.close().await;
            records.into_iter().map(|r| r.serial).collect()
        })
    }
}

/// What the clients got: licenses, and the failures by kind.
#[derive(Default)]
pub(crate) struct Outcomes {
    pub(crate) licenses: Vec<LicenseResponse>,
    pub(crate) unavailable: usize,
    pub(crate) unreachable: usize,
    pub(crate) other: Vec<String>,
}

impl Outcomes {
    /// Checks what a database outage during the load must look like: some requests answered
    /// 503, none failed otherwise, and the server itself stayed up.
    pub(crate) fn assert_outage_answered_503(&self) {
        assert!(
            self.other.is_empty(),
            "unexpected failures: {:?}",
            self.other
        );
        assert!(self.unavailable > 0, "requests during the outage are 503");
        assert_eq!(self.unreachable, 0, "the server itself stayed up");
    }
}

/// Sends `total` use-license requests, `concurrency` at a time, spread over `apis` round robin.
/// `on_progress` sees the number answered so far after each answer.
pub(crate) fn load(
    apis: &[ApiClient],
    body: &UseLicenseBody,
    total: usize,
    concurrency: usize,
    on_progress: impl Fn(usize) + Send + Sync + 'static,
) -> Outcomes {
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let on_progress = Arc::new(on_progress);
    let results = rt().block_on(async {
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| {
                let (apis, body, next, done, on_progress) = (
                    apis.to_vec(),
                    body.clone(),
                    next.clone(),
                    done.clone(),
                    on_progress.clone(),
                );
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        if i >= total {
                            return mine;
                        }
                        mine.push(apis[i % apis.len()].use_license(&body).await);
                        on_progress(done.fetch_add(1, Ordering::SeqCst) + 1);
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        all
    });
    let mut outcomes = Outcomes::default();
    for result in results {
        match result {
            Ok(license) => outcomes.licenses.push(license),
            Err(TransportError::Api(e)) if e.status == StatusCode::SERVICE_UNAVAILABLE => {
                outcomes.unavailable += 1
            }
            Err(TransportError::Connect { .. }) => outcomes.unreachable += 1,
            Err(e) => outcomes.other.push(e.to_string()),
        }
    }
    outcomes
}

/// Every license verifies, is alice's, and carries the serial it was answered with.
pub(crate) fn check_licenses(
    verifier: &Verifier,
    licenses: &[LicenseResponse],
) -> BTreeSet<String> {
    let now = time::OffsetDateTime::now_utc();
    for answer in licenses {
        let license = SignedLicense::from_pem(&answer.license_pem).unwrap();
        verifier.verify_license(&license, &[], now).unwrap();
        let LicenseBody::Use(body) = license.body() else {
            panic!("not a use license")
        };
        assert_eq!(body.principal(), "alice");
        assert_eq!(body.serial().to_string(), answer.serial);
    }
    unique(licenses.iter().map(|l| l.serial.clone()))
}

//! The store's behaviour, run against every backend available (SQLite always, PostgreSQL when
//! configured).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use rms_store::*;
use sqlx::{Connection, Executor};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

fn identity() -> ClusterIdentity {
    ClusterIdentity {
        role: ClusterRole::Licensing,
        name: "licensing.example".into(),
        cluster_id: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
        domain_sid: "S-1-5-21-1-2-3".into(),
        created_at: datetime!(2026-11-25 10:00 UTC),
    }
}

fn slc(serial: &str, installed_at: OffsetDateTime) -> SlcRecord {
    SlcRecord {
        serial: serial.into(),
        chain_pem: format!("-----BEGIN CERTIFICATE-----\n{serial}\n-----END CERTIFICATE-----\n"),
        encrypted_key: vec![0x30, 0x82, 1, 2, 3],
        not_before: installed_at,
        not_after: installed_at + Duration::days(365),
        installed_at,
    }
}

fn audit(action: &str) -> NewAuditEntry {
    NewAuditEntry::new(
        "admin",
        "UseLicenseService",
        action,
        Outcome::Allowed,
        "(A;;0x8;;;AU) at index 0",
        "node-1",
    )
}

fn issued(serial: &str) -> IssuedRecord {
    IssuedRecord {
        issuer_serial: "01ab".into(),
        serial: serial.into(),
        kind: IssuedKind::UseLicense,
        subject: "alice@example.com".into(),
        not_before: datetime!(2026-11-25 10:00 UTC),
        not_after: datetime!(2033-11-25 10:00 UTC),
        requester: "alice".into(),
        issued_by: "node-1".into(),
        issued_at: datetime!(2026-11-25 10:00 UTC),
        der: vec![0x30, 0x03, 2, 1, 1],
    }
}

fn user(name: &str, rid: u32) -> Principal {
    Principal {
        sid: format!("S-1-5-21-1-2-3-{rid}"),
        name: name.into(),
        kind: PrincipalKind::User,
        created_at: datetime!(2026-11-25 10:00 UTC),
        disabled: false,
    }
}

fn group(name: &str, rid: u32) -> Principal {
    Principal {
        kind: PrincipalKind::Group,
        ..user(name, rid)
    }
}

#[tokio::test]
async fn cluster_is_created_once_with_its_slc() {
    for t in common::all().await {
        let s = &t.store;
        assert!(
            matches!(s.cluster().await, Err(StoreError::NoCluster)),
            "{}",
            t.label
        );
        assert!(
            matches!(s.current_slc().await, Err(StoreError::NoCluster)),
            "{}",
            t.label
        );
        s.create_cluster(&identity(), &slc("aa", datetime!(2026-11-25 10:00 UTC)))
            .await
            .unwrap();
        assert_eq!(s.cluster().await.unwrap(), identity(), "{}", t.label);
        let again = s
            .create_cluster(&identity(), &slc("bb", datetime!(2026-11-25 10:00 UTC)))
            .await;
        assert!(
            matches!(again, Err(StoreError::AlreadyExists { .. })),
            "{}: {again:?}",
            t.label
        );
        // The refused second cluster left no SLC behind.
        assert_eq!(s.slcs().await.unwrap().len(), 1, "{}", t.label);
    }
}

/// A cluster created with SLC `aa` that installed SLC `bb` later (a renewal).
async fn renewed_cluster(s: &Store) {
    s.create_cluster(&identity(), &slc("aa", datetime!(2026-11-25 10:00 UTC)))
        .await
        .unwrap();
    s.install_slc(&slc("bb", datetime!(2027-11-01 10:00 UTC)))
        .await
        .unwrap();
}

#[tokio::test]
async fn newest_installed_slc_is_current() {
    for t in common::all().await {
        let s = &t.store;
        renewed_cluster(s).await;
        assert_eq!(s.current_slc().await.unwrap().serial, "bb", "{}", t.label);
        assert_eq!(
            s.current_slc().await.unwrap(),
            slc("bb", datetime!(2027-11-01 10:00 UTC))
        );
        let all: Vec<String> = s
            .slcs()
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.serial)
            .collect();
        assert_eq!(all, ["bb", "aa"], "{}", t.label);
    }
}

#[tokio::test]
async fn reopening_migrates_nothing_and_keeps_data() {
    for t in common::all().await {
        t.store
            .create_cluster(&identity(), &slc("aa", datetime!(2026-11-25 10:00 UTC)))
            .await
            .unwrap();
        let again = Store::open(&t.url, StoreOptions::default()).await.unwrap();
        assert_eq!(again.cluster().await.unwrap(), identity(), "{}", t.label);
    }
}

#[tokio::test]
async fn schema_from_a_newer_build_is_refused() {
    for t in common::all().await {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&t.url).await.unwrap();
        conn.execute(
            "INSERT INTO rms_schema (version, applied_at, software) VALUES (99, 0, 'rms 9')",
        )
        .await
        .unwrap();
        let err = Store::open(&t.url, StoreOptions::default())
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::NewerSchema { found: 99, .. }),
            "{}: {err}",
            t.label
        );
        assert!(err.to_string().contains("upgrade"), "{err}");
    }
}

#[tokio::test]
async fn users_groups_and_tokens() {
    for t in common::all().await {
        let s = &t.store;
        s.add_principal(&group("rms-admins", 1000)).await.unwrap();
        s.add_principal(&group("auditors", 1001)).await.unwrap();
        s.add_user(
            &user("alice", 1100),
            &["rms-admins".into(), "auditors".into()],
            b"hash-a",
        )
        .await
        .unwrap();
        let who = s.authenticate(b"hash-a").await.unwrap().unwrap();
        assert_eq!(who.principal, user("alice", 1100), "{}", t.label);
        assert_eq!(
            who.group_sids,
            ["S-1-5-21-1-2-3-1000", "S-1-5-21-1-2-3-1001"]
        );
        assert_eq!(
            s.groups_of("alice").await.unwrap(),
            ["auditors", "rms-admins"]
        );
        assert!(
            s.authenticate(b"unknown").await.unwrap().is_none(),
            "{}",
            t.label
        );

        // A duplicate name is refused.
        let dup = s.add_user(&user("alice", 1101), &[], b"hash-b").await;
        assert!(
            matches!(dup, Err(StoreError::AlreadyExists { .. })),
            "{}: {dup:?}",
            t.label
        );
        // An unknown group refuses the whole user: nothing half-created.
        let bad = s
            .add_user(&user("bob", 1102), &["nope".into()], b"hash-c")
            .await;
        assert!(
            matches!(bad, Err(StoreError::NotFound { .. })),
            "{}: {bad:?}",
            t.label
        );
        assert!(matches!(
            s.principal("bob").await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(s.authenticate(b"hash-c").await.unwrap().is_none());
        // A user is not a group.
        s.add_user(&user("carol", 1103), &[], b"hash-d")
            .await
            .unwrap();
        assert!(
            s.add_membership("carol", "alice").await.is_err(),
            "{}",
            t.label
        );
        s.add_membership("carol", "auditors").await.unwrap();
        assert_eq!(s.groups_of("carol").await.unwrap(), ["auditors"]);
        assert_eq!(s.principals().await.unwrap().len(), 4);
    }
}

#[tokio::test]
async fn descriptors_are_versioned_and_audited() {
    for t in common::all().await {
        let s = &t.store;
        assert!(matches!(
            s.descriptor("SubEnrollService").await,
            Err(StoreError::NotFound { .. })
        ));
        assert_eq!(
            s.set_descriptor("SubEnrollService", "O:SYG:SYD:P", &audit("acl set"))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            s.set_descriptor(
                "SubEnrollService",
                "O:SYG:SYD:P(A;;0x1;;;BA)",
                &audit("acl grant")
            )
            .await
            .unwrap(),
            2
        );
        let d = s.descriptor("SubEnrollService").await.unwrap();
        assert_eq!(
            (d.sddl.as_str(), d.version, d.updated_by.as_str()),
            ("O:SYG:SYD:P(A;;0x1;;;BA)", 2, "admin")
        );
        let log = s.audit_log(None, 100).await.unwrap();
        let actions: Vec<&str> = log.iter().map(|e| e.entry.action.as_str()).collect();
        assert_eq!(actions, ["acl set", "acl grant"], "{}", t.label);
        assert_eq!(s.descriptors().await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn duplicate_serial_is_refused_and_writes_nothing() {
    for t in common::all().await {
        let s = &t.store;
        s.record_issued(&issued("0a"), &audit("issue use-license"))
            .await
            .unwrap();
        let dup = s
            .record_issued(&issued("0a"), &audit("issue use-license"))
            .await;
        assert!(
            matches!(dup, Err(StoreError::AlreadyExists { .. })),
            "{}: {dup:?}",
            t.label
        );
        assert_eq!(s.count_issued(IssuedKind::UseLicense).await.unwrap(), 1);
        // The refused issuance wrote no audit entry either.
        assert_eq!(
            s.audit_log(None, 100).await.unwrap().len(),
            1,
            "{}",
            t.label
        );
        // Same serial, other issuer: fine (serials are unique per issuer).
        let other = IssuedRecord {
            issuer_serial: "02cd".into(),
            ..issued("0a")
        };
        s.record_issued(&other, &audit("issue use-license"))
            .await
            .unwrap();
        assert_eq!(s.issued(&IssuedFilter::default()).await.unwrap().len(), 2);
    }
}

#[tokio::test]
async fn issued_items_can_be_filtered() {
    for t in common::all().await {
        let s = &t.store;
        let slc_record = IssuedRecord {
            kind: IssuedKind::Slc,
            not_after: datetime!(2027-11-25 10:00 UTC),
            ..issued("01")
        };
        s.record_issued(&slc_record, &audit("subenroll"))
            .await
            .unwrap();
        s.record_issued(&issued("02"), &audit("issue use-license"))
            .await
            .unwrap();
        let slcs = s
            .issued(&IssuedFilter {
                kind: Some(IssuedKind::Slc),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(slcs, std::slice::from_ref(&slc_record), "{}", t.label);
        let expiring = s
            .issued(&IssuedFilter {
                expiring_before: Some(datetime!(2028-01-01 00:00 UTC)),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(expiring, [slc_record], "{}", t.label);
        let limited = s
            .issued(&IssuedFilter {
                limit: Some(1),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(limited.len(), 1);
    }
}

#[tokio::test]
async fn issued_items_are_listed_newest_first_whatever_order_they_were_recorded_in() {
    for t in common::all().await {
        let s = &t.store;
        // Recorded out of order; "0c" and "0d" in the same second.
        let at = datetime!(2026-11-25 10:00 UTC);
        for (serial, seconds, kind, years) in [
            ("0b", 20, IssuedKind::UseLicense, 7),
            ("0a", 10, IssuedKind::Slc, 1),
            ("0d", 30, IssuedKind::UseLicense, 7),
            ("0c", 30, IssuedKind::Slc, 1),
            ("09", 40, IssuedKind::UseLicense, 7),
        ] {
            let record = IssuedRecord {
                kind,
                issued_at: at + Duration::seconds(seconds),
                not_after: at + Duration::days(365 * years),
                ..issued(serial)
            };
            s.record_issued(&record, &audit("issue")).await.unwrap();
        }
        let two_years = Some(at + Duration::days(730));
        let use_licenses = Some(IssuedKind::UseLicense);
        let cases: [(IssuedFilter, &[&str]); 5] = [
            (IssuedFilter::default(), &["09", "0d", "0c", "0b", "0a"]),
            (
                IssuedFilter {
                    limit: Some(2),
                    ..Default::default()
                },
                &["09", "0d"],
            ),
            (
                IssuedFilter {
                    kind: use_licenses,
                    limit: Some(2),
                    ..Default::default()
                },
                &["09", "0d"],
            ),
            // Through the expiry index: the SLCs, which expire within two years, newest first.
            (
                IssuedFilter {
                    expiring_before: two_years,
                    ..Default::default()
                },
                &["0c", "0a"],
            ),
            (
                IssuedFilter {
                    kind: use_licenses,
                    expiring_before: two_years,
                    ..Default::default()
                },
                &[],
            ),
        ];
        for (filter, expected) in cases {
            let serials: Vec<String> = s
                .issued(&filter)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.serial)
                .collect();
            assert_eq!(serials, expected, "{}: {filter:?}", t.label);
        }
    }
}

#[tokio::test]
async fn items_are_found_by_serial_among_those_the_clusters_slcs_issued() {
    for t in common::all().await {
        let s = &t.store;
        renewed_cluster(s).await;
        let by = |issuer: &str, serial: &str| IssuedRecord {
            issuer_serial: issuer.into(),
            ..issued(serial)
        };
        for record in [by("aa", "01"), by("bb", "02"), by("cc", "03")] {
            s.record_issued(&record, &audit("issue use-license"))
                .await
                .unwrap();
        }
        // Issued by the first SLC, by the current one, and by an SLC the cluster never held.
        assert_eq!(
            s.issued_by_cluster("01").await.unwrap(),
            Some(by("aa", "01")),
            "{}",
            t.label
        );
        assert_eq!(
            s.issued_by_cluster("02").await.unwrap(),
            Some(by("bb", "02")),
            "{}",
            t.label
        );
        assert_eq!(
            s.issued_by_cluster("03").await.unwrap(),
            None,
            "{}",
            t.label
        );
        assert_eq!(
            s.issued_by_cluster("04").await.unwrap(),
            None,
            "{}",
            t.label
        );
    }
}

#[tokio::test]
async fn audit_log_is_append_only() {
    for t in common::all().await {
        t.store.audit(&audit("subenroll")).await.unwrap();
        let mut conn = sqlx::AnyConnection::connect(&t.url).await.unwrap();
        let update = conn.execute("UPDATE audit SET outcome = 'denied'").await;
        assert!(
            update.is_err(),
            "{}: update of the audit log was allowed",
            t.label
        );
        let delete = conn.execute("DELETE FROM audit").await;
        assert!(
            delete.is_err(),
            "{}: delete from the audit log was allowed",
            t.label
        );
        let log = t
            .store
            .audit_log(Some(OffsetDateTime::UNIX_EPOCH), 10)
            .await
            .unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].entry, audit("subenroll"));
        // Where a request came from is kept with its entry.
        let from_network = NewAuditEntry {
            peer: Some("192.0.2.7".into()),
            request_id: Some("0123456789abcdef".into()),
            ..audit("uselicense")
        };
        t.store.audit(&from_network).await.unwrap();
        let log = t.store.audit_log(None, 10).await.unwrap();
        assert_eq!(log[1].entry, from_network, "{}", t.label);
    }
}

#[tokio::test]
async fn audit_pages_are_newest_first_and_count_what_is_left_up_to_a_bound() {
    for t in common::all().await {
        // Seven entries, alternating between two principals, the last three denied.
        for i in 0..7 {
            let entry = NewAuditEntry {
                principal: if i % 2 == 0 { "alice" } else { "bob" }.into(),
                outcome: if i >= 4 {
                    Outcome::Denied
                } else {
                    Outcome::Allowed
                },
                ..audit(&format!("action {i}"))
            };
            t.store.audit(&entry).await.unwrap();
        }
        let page = |filter: AuditFilter| {
            let store = t.store.clone();
            async move { store.audit_page(&filter).await.unwrap() }
        };
        let actions = |page: &AuditPage| -> Vec<String> {
            page.entries
                .iter()
                .map(|e| e.entry.action.clone())
                .collect()
        };

        let all = page(AuditFilter::default()).await;
        assert_eq!(all.entries.len(), 7, "{}", t.label);
        assert_eq!(all.more, MoreEntries::Exactly(0), "{}", t.label);
        assert!(all.entries.windows(2).all(|w| w[0].id > w[1].id));

        let newest = page(AuditFilter {
            limit: 2,
            ..AuditFilter::default()
        })
        .await;
        assert_eq!(actions(&newest), ["action 6", "action 5"], "{}", t.label);
        assert_eq!(newest.more, MoreEntries::Exactly(5), "{}", t.label);

        // The count stops at its bound, and says so; at the bound exactly it is still exact.
        let bounded = |count_limit| AuditFilter {
            limit: 2,
            count_limit,
            ..AuditFilter::default()
        };
        assert_eq!(page(bounded(3)).await.more, MoreEntries::AtLeast(3));
        assert_eq!(page(bounded(5)).await.more, MoreEntries::Exactly(5));
        assert_eq!(page(bounded(0)).await.more, MoreEntries::AtLeast(0));
        assert_eq!(actions(&page(bounded(0)).await), ["action 6", "action 5"]);

        // Filters apply to the page and to the count alike.
        let alice_denied = page(AuditFilter {
            principal: Some("alice".into()),
            outcome: Some(Outcome::Denied),
            limit: 1,
            ..AuditFilter::default()
        })
        .await;
        assert_eq!(actions(&alice_denied), ["action 6"], "{}", t.label);
        assert_eq!(alice_denied.more, MoreEntries::Exactly(1), "{}", t.label);
        let bob = page(AuditFilter {
            principal: Some("bob".into()),
            count_limit: 1,
            limit: 1,
            ..AuditFilter::default()
        })
        .await;
        assert_eq!(actions(&bob), ["action 5"], "{}", t.label);
        assert_eq!(bob.more, MoreEntries::AtLeast(1), "{}", t.label);
        let nobody = page(AuditFilter {
            principal: Some("mallory".into()),
            ..AuditFilter::default()
        })
        .await;
        assert!(nobody.entries.is_empty());
        assert_eq!(nobody.more, MoreEntries::Exactly(0), "{}", t.label);
    }
}

#[tokio::test]
async fn heartbeats_list_recent_nodes() {
    for t in common::all().await {
        let s = &t.store;
        let now = datetime!(2026-11-25 10:00 UTC);
        let node = |id: &str, seen: OffsetDateTime| NodeRecord {
            node_id: id.into(),
            address: "127.0.0.1:8443".into(),
            version: "0.1.0".into(),
            started_at: now,
            last_seen: seen,
        };
        s.heartbeat(&node("a", now)).await.unwrap();
        s.heartbeat(&node("b", now - Duration::hours(2)))
            .await
            .unwrap();
        s.heartbeat(&node("a", now + Duration::seconds(10)))
            .await
            .unwrap();
        let recent = s.nodes(now - Duration::minutes(5)).await.unwrap();
        assert_eq!(
            recent,
            [node("a", now + Duration::seconds(10))],
            "{}",
            t.label
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_issuance_records_everything_once() {
    for t in common::all().await {
        let mut tasks = Vec::new();
        for i in 0..200 {
            let s = t.store.clone();
            tasks.push(tokio::spawn(async move {
                s.record_issued(&issued(&format!("{i:04x}")), &audit("issue use-license"))
                    .await
            }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(
            t.store.count_issued(IssuedKind::UseLicense).await.unwrap(),
            200,
            "{}",
            t.label
        );
        assert_eq!(
            t.store.audit_log(None, 1000).await.unwrap().len(),
            200,
            "{}",
            t.label
        );
    }
}

/// Group commit: duplicates arriving together with good records fail alone, with their own
/// error, and the good records of the same batch are committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_in_a_concurrent_batch_fails_alone() {
    for t in common::all().await {
        t.store
            .record_issued(&issued("dup"), &audit("issue use-license"))
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for i in 0..100 {
            let s = t.store.clone();
            let serial = if i % 10 == 0 {
                "dup".to_owned()
            } else {
                format!("{i:04x}")
            };
            tasks.push(tokio::spawn(async move {
                let outcome = s
                    .record_issued(&issued(&serial), &audit("issue use-license"))
                    .await;
                (serial, outcome)
            }));
        }
        let mut refused = 0;
        for task in tasks {
            let (serial, outcome) = task.await.unwrap();
            if serial == "dup" {
                assert!(
                    matches!(outcome, Err(StoreError::AlreadyExists { .. })),
                    "{}: {outcome:?}",
                    t.label
                );
                refused += 1;
            } else {
                outcome.unwrap();
            }
        }
        assert_eq!(refused, 10);
        assert_eq!(
            t.store.count_issued(IssuedKind::UseLicense).await.unwrap(),
            91,
            "{}",
            t.label
        );
        // One audit entry per committed record, none for the refused duplicates.
        assert_eq!(
            t.store.audit_log(None, 1000).await.unwrap().len(),
            91,
            "{}",
            t.label
        );
    }
}

/// An issuance decided on a configuration generation commits only while that generation is
/// current: a record decided before a change writes nothing (neither record nor audit entry)
/// and says so, even in a batch with records decided on the current generation, which commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_decided_on_an_older_configuration_is_not_committed() {
    for t in common::all().await {
        let s = &t.store;
        let decided = s.config_generation().await.unwrap();
        s.record_issued_checked(&issued("01"), &audit("issue"), decided)
            .await
            .unwrap();
        s.add_principal(&group("readers", 1100)).await.unwrap();
        let current = s.config_generation().await.unwrap();
        assert!(current > decided, "{}", t.label);
        let mut tasks = Vec::new();
        for i in 2..60u32 {
            let s = s.clone();
            let at = if i % 3 == 0 { decided } else { current };
            tasks.push(tokio::spawn(async move {
                let outcome = s
                    .record_issued_checked(&issued(&format!("{i:02x}")), &audit("issue"), at)
                    .await;
                (at, outcome)
            }));
        }
        let (mut stale, mut committed) = (0, 0);
        for task in tasks {
            match task.await.unwrap() {
                (at, Ok(())) => {
                    assert_eq!(at, current, "{}", t.label);
                    committed += 1;
                }
                (at, Err(StoreError::StaleConfiguration { current: reported })) => {
                    assert_eq!((at, reported), (decided, current), "{}", t.label);
                    stale += 1;
                }
                (_, Err(other)) => panic!("{}: {other}", t.label),
            }
        }
        assert_eq!((stale, committed), (19, 39), "{}", t.label);
        assert_eq!(
            s.count_issued(IssuedKind::UseLicense).await.unwrap(),
            40,
            "{}",
            t.label
        );
        let issuance_entries = s
            .audit_log(None, 1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|logged| logged.entry.action == "issue")
            .count();
        assert_eq!(issuance_entries, 40, "{}", t.label);
        // Unchecked records (made by an administrator's command) do not look at it.
        s.record_issued(&issued("ff"), &audit("issue"))
            .await
            .unwrap();
    }
}

/// Every change to principals, memberships, tokens or descriptors raises the configuration
/// generation, whoever makes it; reads and issuance do not.
#[tokio::test]
async fn access_changes_raise_the_configuration_generation() {
    for t in common::all().await {
        let s = &t.store;
        let mut last = s.config_generation().await.unwrap();
        let mut raised = |now: i64, what: &str| {
            assert!(
                now > last,
                "{}: {what} did not raise the generation",
                t.label
            );
            last = now;
        };
        s.add_principal(&group("readers", 1100)).await.unwrap();
        raised(s.config_generation().await.unwrap(), "a new group");
        s.add_user(&user("alice", 1101), &["readers".into()], b"hash-a")
            .await
            .unwrap();
        raised(s.config_generation().await.unwrap(), "a new user");
        s.set_descriptor(
            "LicensingService",
            "O:SYG:SYD:(A;;0x1;;;AU)",
            &audit("acl set"),
        )
        .await
        .unwrap();
        raised(s.config_generation().await.unwrap(), "a descriptor");
        let before = s.config_generation().await.unwrap();
        s.record_issued(&issued("0a"), &audit("issue"))
            .await
            .unwrap();
        s.authenticate(b"hash-a").await.unwrap();
        assert_eq!(
            s.config_generation().await.unwrap(),
            before,
            "{}: reads and issuance must not invalidate caches",
            t.label
        );
        // A second handle on the same database (another node) sees the same generation.
        let other = Store::open(&t.url, StoreOptions::default()).await.unwrap();
        assert_eq!(
            other.config_generation().await.unwrap(),
            before,
            "{}",
            t.label
        );
        other.add_principal(&group("writers", 1102)).await.unwrap();
        assert!(s.config_generation().await.unwrap() > before, "{}", t.label);
    }
}

/// Pruning deletes only records that expired before the cutoff, and says so in the audit log.
#[tokio::test]
async fn pruning_deletes_only_records_expired_before_the_cutoff() {
    for t in common::all().await {
        let ends = [
            datetime!(2020-01-01 00:00 UTC),
            datetime!(2026-10-01 00:00 UTC),
            datetime!(2026-11-20 00:00 UTC),
            datetime!(2033-11-25 10:00 UTC),
        ];
        for (i, end) in ends.iter().enumerate() {
            let record = IssuedRecord {
                not_before: datetime!(2019-01-01 00:00 UTC),
                not_after: *end,
                ..issued(&format!("p{i}"))
            };
            t.store
                .record_issued(&record, &audit("issue"))
                .await
                .unwrap();
        }
        let deleted = t
            .store
            .prune_issued(datetime!(2026-10-26 00:00 UTC), &audit("certs prune"))
            .await
            .unwrap();
        assert_eq!(deleted, 2, "{}", t.label);
        let left: Vec<String> = t
            .store
            .issued(&IssuedFilter::default())
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.serial)
            .collect();
        assert_eq!(left.len(), 2, "{}: {left:?}", t.label);
        assert!(left.contains(&"p2".to_owned()) && left.contains(&"p3".to_owned()));
        let log = t.store.audit_log(None, 100).await.unwrap();
        let last = log.last().unwrap();
        assert!(
            last.entry.reason.ends_with("2 records deleted"),
            "{}",
            last.entry.reason
        );
        assert_eq!(log.len(), 5, "the issuance entries stay: {}", t.label);
    }
}

#[tokio::test]
async fn revocations_are_recorded_once_and_crl_numbers_rise() {
    for t in common::all().await {
        let s = &t.store;
        assert_eq!(s.revocation("0a").await.unwrap(), None);
        let revocation = RevocationRecord {
            issuer_serial: "01ab".into(),
            serial: "0a".into(),
            revoked_at: datetime!(2026-12-01 00:00 UTC),
            reason: "keyCompromise".into(),
            revoked_by: "operator".into(),
        };
        s.revoke(&revocation, &audit("revoke")).await.unwrap();
        assert_eq!(s.revocation("0a").await.unwrap(), Some(revocation.clone()));
        let again = s.revoke(&revocation, &audit("revoke")).await.unwrap_err();
        assert!(
            matches!(again, StoreError::AlreadyExists { .. }),
            "{}: {again}",
            t.label
        );
        assert_eq!(s.revocations().await.unwrap(), vec![revocation]);
        // One audit entry: the refused second revocation wrote nothing.
        assert_eq!(s.audit_log(None, 10).await.unwrap().len(), 1, "{}", t.label);
        let first = s.next_crl_number().await.unwrap();
        let second = s.next_crl_number().await.unwrap();
        assert_eq!(first, 1, "{}", t.label);
        assert_eq!(second, 2, "{}", t.label);
    }
}

/// A new SQLite database uses 16 KiB pages (a license record then fits on one page) and WAL.
#[tokio::test]
async fn new_sqlite_databases_use_large_pages_and_wal() {
    let t = common::sqlite().await;
    let mut conn = sqlx::AnyConnection::connect(&t.url).await.unwrap();
    let page_size: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(page_size, 16384);
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(journal, "wal");
}

#[tokio::test]
async fn unsupported_url_is_refused_with_password_hidden() {
    let err = Store::open("mysql://root:secret@localhost/db", StoreOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UnsupportedUrl { .. }));
    assert!(!err.to_string().contains("secret"), "{err}");
}

#[tokio::test]
async fn unreachable_database_is_unavailable() {
    // Port 1 on loopback: nothing listens there.
    let options = StoreOptions {
        acquire_timeout: std::time::Duration::from_secs(2),
        ..Default::default()
    };
    let err = Store::open("postgres://nobody@127.0.0.1:1/none", options)
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_at_once_migrate_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    // Several new SQLite files: the race between one starter switching a new file to WAL and
    // another reading it is lost only now and then.
    let mut urls: Vec<String> = (0..8)
        .map(|n| {
            let path = dir.path().join(format!("fresh-{n}.db"));
            format!("sqlite://{}?mode=rwc", path.display())
        })
        .collect();
    let postgres = common::postgres_schema().await;
    urls.extend(postgres.iter().map(|(_, _, url)| url.clone()));
    for url in urls {
        let opens: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { Store::open(&url, StoreOptions::default()).await })
            })
            .collect();
        for open in opens {
            open.await.unwrap().unwrap_or_else(|e| panic!("{url}: {e}"));
        }
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        let versions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rms_schema")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(versions, SCHEMA_VERSION, "{url}");
        conn.close().await.unwrap();
    }
    if let Some((base, schema, _)) = postgres {
        drop_postgres_schema(&base, &schema).await.unwrap();
    }
}

/// An administrator's change that reads before it writes (here: making a principal a super
/// user, then removing it) succeeds while another handle on the same database (a serving node)
/// writes all the time: on SQLite a write transaction takes the write lock when it begins,
/// instead of failing with SQLITE_BUSY when it upgrades after the other handle wrote.
#[tokio::test]
async fn changes_that_read_first_succeed_beside_a_busy_writer() {
    for t in common::all().await {
        let s = &t.store;
        s.add_principal(&user("alice", 1100)).await.unwrap();
        let node = Store::open(&t.url, StoreOptions::default()).await.unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut written = 0u32;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    node.audit(&audit("busy")).await.unwrap();
                    written += 1;
                }
                written
            })
        };
        for round in 0..40 {
            s.add_super_user("alice", &audit("superusers add"))
                .await
                .unwrap_or_else(|e| panic!("{}: round {round}: {e}", t.label));
            s.remove_super_user("alice", &audit("superusers remove"))
                .await
                .unwrap_or_else(|e| panic!("{}: round {round}: {e}", t.label));
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(writer.await.unwrap() > 0, "{}", t.label);
        assert!(s.super_users().await.unwrap().members.is_empty());
    }
}
